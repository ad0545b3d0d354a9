#!/usr/bin/env bash
# The C kernels on other compilers and CPUs: each build has warnings as errors
# and runs the C unit tests and every golden file of tests/fixtures
# (csrc/tests: kernels, png, portable, golden).
#
#   clang          native x86-64, clang
#   portable       native x86-64, gcc, -DMCRLE_PORTABLE: no SSE2, no builtins
#   aarch64        gcc-aarch64-linux-gnu, run under qemu-user (little-endian ARM)
#   s390x          gcc-s390x-linux-gnu, run under qemu-user (big-endian IBM Z)
#   mingw          gcc-mingw-w64-x86-64, run under wine, with the MSVC
#                  intrinsics (_BitScanForward64) that MSVC builds use
#
#   bash tools/cross_check.sh [BUILD...]     # default: all of them
#
# Needs (Debian): clang gcc-aarch64-linux-gnu gcc-s390x-linux-gnu qemu-user
# gcc-mingw-w64-x86-64 wine; meson and ninja on PATH. Build folders go to
# builddir-cross/ (git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
out=$root/builddir-cross
mkdir -p "$out"
builds=("$@")
[ ${#builds[@]} -gt 0 ] || builds=(clang portable aarch64 s390x mingw)

cross_file() {   # NAME CC CPU_FAMILY ENDIAN SYSTEM WRAPPER...
  local f=$out/$1.ini cc=$2 fam=$3 endian=$4 system=$5
  shift 5
  local wrapper="" w
  for w in "$@"; do wrapper+="'$w', "; done
  cat >"$f" <<EOF
[binaries]
c = '$cc'
ar = '${cc%gcc}ar'
strip = '${cc%gcc}strip'
exe_wrapper = [${wrapper%, }]

[host_machine]
system = '$system'
cpu_family = '$fam'
cpu = '$fam'
endian = '$endian'
EOF
  echo "$f"
}

run_build() {   # NAME [meson setup args...]
  local name=$1
  shift
  local dir=$out/$name t0=$SECONDS
  rm -rf "$dir"
  meson setup "$dir" -Dpython=false -Dkernel_tests=true -Dwerror=true "$@" >"$out/$name.setup.log" \
    || { cat "$out/$name.setup.log"; return 1; }
  meson compile -C "$dir" >"$out/$name.compile.log" || { cat "$out/$name.compile.log"; return 1; }
  if ! meson test -C "$dir" --print-errorlogs >"$out/$name.test.log" 2>&1; then
    cat "$out/$name.test.log"
    return 1
  fi
  local line
  line=$(grep -h "^build:" "$dir/meson-logs/testlog.txt" | head -1 || true)
  echo "$name: ok in $((SECONDS - t0)) s (${line#build: }; $(grep -c '^ok ' "$dir/meson-logs/testlog.txt") golden maps)"
}

for b in "${builds[@]}"; do
  case $b in
    clang)
      CC=clang run_build clang ;;
    portable)
      CC=gcc run_build portable -Dc_args=-DMCRLE_PORTABLE ;;
    aarch64)
      run_build aarch64 --cross-file "$(cross_file aarch64 aarch64-linux-gnu-gcc aarch64 little linux \
        qemu-aarch64 -L /usr/aarch64-linux-gnu)" ;;
    s390x)
      run_build s390x --cross-file "$(cross_file s390x s390x-linux-gnu-gcc s390x big linux \
        qemu-s390x -L /usr/s390x-linux-gnu)" ;;
    mingw)
      # a wine prefix of our own, made once; static linking: no MinGW DLLs to find
      export WINEPREFIX=$out/wineprefix WINEDEBUG=-all
      [ -d "$WINEPREFIX" ] || wineboot --init >/dev/null 2>&1 || true
      run_build mingw --cross-file "$(cross_file mingw x86_64-w64-mingw32-gcc x86_64 little windows wine)" \
        -Dc_args=-DMCRLE_MSVC_INTRINSICS -Dc_link_args=-static ;;
    *)
      echo "unknown build $b" >&2
      exit 2 ;;
  esac
done
