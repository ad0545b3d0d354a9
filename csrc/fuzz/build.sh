#!/usr/bin/env bash
# Builds every libFuzzer harness csrc/fuzz/fuzz_*.c with clang into
# csrc/fuzz/out/<harness> (ASan + UBSan, nothing recovered).
#   csrc/fuzz/build.sh            # all harnesses
#   csrc/fuzz/build.sh fuzz_window fuzz_bytes_decode   # only these (leaves the
#                                 # others' binaries alone, e.g. while they run)
#   CC=clang-15 csrc/fuzz/build.sh
# Needs clang with libFuzzer (Debian: apt-get install clang).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
csrc="$(dirname "$here")"
out="$here/out"
CC="${CC:-clang}"
mkdir -p "$out"
kernels=("$csrc"/*.c)
flags=(-std=c99 -g -O1 -fno-omit-frame-pointer
       -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
       -Wall -Wextra -I"$csrc" -I"$here")
if [ "$#" -gt 0 ]; then srcs=(); for h in "$@"; do srcs+=("$here/${h%.c}.c"); done
else srcs=("$here"/fuzz_*.c); fi
for src in "${srcs[@]}"; do
    [ -f "$src" ] || { echo "$src: no such harness" >&2; exit 2; }
    name="$(basename "$src" .c)"
    echo "building $out/$name"
    "$CC" "${flags[@]}" ${CFLAGS:-} "${kernels[@]}" "$src" -o "$out/$name"
done
