#!/usr/bin/env bash
# Replays the checked-in corpus and regression inputs of every harness without
# libFuzzer: each csrc/fuzz/fuzz_*.c is built with replay_main.c by gcc (or $CC)
# with ASan + UBSan (nothing recovered), then run on
#   csrc/fuzz/corpus/<harness>/ and csrc/fuzz/regressions/<harness>/.
# A second build without SSE2 replays the same inputs through the kernels'
# portable (non-vector) code paths. Exits non-zero on any failure. This is what
# CI runs; it takes a few seconds.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
csrc="$(dirname "$here")"
out="$here/out/replay"
CC="${CC:-gcc}"
mkdir -p "$out"
kernels=("$csrc"/*.c)
flags=(-std=c99 -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined
       -fno-sanitize-recover=all -Wall -Wextra -I"$csrc" -I"$here"
       -DMCRLE_BYTES_CHUNK_ELEMS=64 -DMCRLE_STR_MIN_CHUNK=16 -DMCRLE_PAIR_CHUNK=16 -DMCRLE_PAIR_SPLIT_MIN=2
       -DMCRLE_DISTINCT_FIRST=4 -DMCRLE_DISTINCT_MIN_BYTES=64 -DMCRLE_ROWS_MIN_BYTES=1 -DMCRLE_DEC_RUNS_PER_CHUNK=2)   # as build.sh: small arrays, large paths
variants=(default)
# x86-64: also build the portable scan (MCRLE_SCAN_DIFF without SSE2)
if [ "$(uname -m)" = x86_64 ] && echo 'int main(void){return 0;}' | \
        "$CC" -x c -mno-sse2 -o /dev/null - >/dev/null 2>&1; then
    variants+=(nosse2)
fi
export ASAN_OPTIONS="${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}"
jobs="$(nproc 2>/dev/null || echo 2)"
# compile every kernel and harness once per variant (in parallel), then link
compile() {   # variant source object
    local extra=()
    [ "$1" = nosse2 ] && extra=(-mno-sse2)
    "$CC" "${flags[@]}" "${extra[@]}" ${CFLAGS:-} -c "$2" -o "$3"
}
pids=()
for v in "${variants[@]}"; do
    mkdir -p "$out/$v"
    for src in "${kernels[@]}" "$here"/fuzz_*.c "$here/replay_main.c"; do
        compile "$v" "$src" "$out/$v/$(basename "$src" .c).o" &
        pids+=($!)
        if [ "${#pids[@]}" -ge "$jobs" ]; then wait "${pids[0]}"; pids=("${pids[@]:1}"); fi
    done
done
for p in "${pids[@]}"; do wait "$p"; done
status=0
for src in "$here"/fuzz_*.c; do
    name="$(basename "$src" .c)"
    dirs=()
    for d in "$here/corpus/$name" "$here/regressions/$name"; do
        [ -d "$d" ] && dirs+=("$d")
    done
    if [ "${#dirs[@]}" -eq 0 ]; then echo "$name: no inputs" >&2; status=1; continue; fi
    for v in "${variants[@]}"; do
        objs=()
        for k in "${kernels[@]}"; do objs+=("$out/$v/$(basename "$k" .c).o"); done
        bin="$out/$name-$v"
        "$CC" "${flags[@]}" "${objs[@]}" "$out/$v/$name.o" "$out/$v/replay_main.o" -o "$bin"
        if "$bin" "${dirs[@]}"; then :; else
            last="$(REPLAY_VERBOSE=1 "$bin" "${dirs[@]}" 2>&1 | grep '^replaying ' | tail -n 1 || true)"
            echo "FAILED: $name ($v), input: ${last#replaying }" >&2
            status=1
        fi
    done
done
[ "$status" -eq 0 ] && echo "replay: all harnesses passed" || echo "replay: FAILURES" >&2
exit "$status"
