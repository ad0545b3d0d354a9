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
       -Wall -Wextra -I"$csrc" -I"$here"
       # small arrays take the paths of large ones (chunks, tables, pieces, split merge walks)
       -DMCRLE_BYTES_CHUNK_ELEMS=64 -DMCRLE_STR_MIN_CHUNK=16 -DMCRLE_PAIR_CHUNK=16
       -DMCRLE_PAIR_SPLIT_MIN=2 -DMCRLE_DISTINCT_FIRST=4 -DMCRLE_DISTINCT_MIN_BYTES=64
       -DMCRLE_ROWS_MIN_BYTES=1 -DMCRLE_DEC_RUNS_PER_CHUNK=2 -DMCRLE_BYTES_REC_MIN=24 -DMCRLE_STRIP_GROUP_BYTES=32)
if [ "$#" -gt 0 ]; then srcs=(); for h in "$@"; do srcs+=("$here/${h%.c}.c"); done
else srcs=("$here"/fuzz_*.c); fi
# The kernels are compiled twice: with full coverage feedback (edge counters
# and comparison tracing) for the harnesses that parse their input, and
# without comparison tracing for the round-trip harnesses, whose input is an
# array the harness builds: there nothing is parsed whose comparisons the
# fuzzer could learn from, and the tracing (the bytes-form encoder compares
# every symbol of every table) took most of the time (perf). The harnesses
# themselves never trace comparisons: their reference models compare every
# element. Edge counters stay everywhere, so layouts and dtypes still count
# as new coverage.
objs="$out/obj"
mkdir -p "$objs/cmp" "$objs/nocmp"
for k in "${kernels[@]}"; do
    o="$(basename "$k" .c).o"
    "$CC" "${flags[@]}" ${CFLAGS:-} -c "$k" -o "$objs/cmp/$o"
    "$CC" "${flags[@]}" -fno-sanitize-coverage=trace-cmp ${CFLAGS:-} -c "$k" -o "$objs/nocmp/$o"
done
for src in "${srcs[@]}"; do
    [ -f "$src" ] || { echo "$src: no such harness" >&2; exit 2; }
    name="$(basename "$src" .c)"
    case "$name" in *roundtrip*) kobjs="$objs/nocmp" ;; *) kobjs="$objs/cmp" ;; esac
    echo "building $out/$name"
    "$CC" "${flags[@]}" -fno-sanitize-coverage=trace-cmp ${CFLAGS:-} -c "$src" -o "$objs/$name.o"
    "$CC" "${flags[@]}" ${CFLAGS:-} "$kobjs"/*.o "$objs/$name.o" -o "$out/$name"
done
