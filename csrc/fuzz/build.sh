#!/usr/bin/env bash
# Builds every libFuzzer harness csrc/fuzz/fuzz_*.c with clang into
# csrc/fuzz/out/<harness> (ASan + UBSan, nothing recovered).
#   csrc/fuzz/build.sh            # all harnesses
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
for src in "$here"/fuzz_*.c; do
    name="$(basename "$src" .c)"
    echo "building $out/$name"
    "$CC" "${flags[@]}" ${CFLAGS:-} "${kernels[@]}" "$src" -o "$out/$name"
done
