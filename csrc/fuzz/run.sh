#!/usr/bin/env bash
# Runs every fuzz harness (built by build.sh) for SECONDS each, one after the
# other, on its corpus:
#   csrc/fuzz/run.sh 180                  # all harnesses, 3 minutes each
#   csrc/fuzz/run.sh 600 fuzz_decode      # one harness
#   RUNS=10000000 csrc/fuzz/run.sh 86400  # stop after 10M executions instead
#   MERGE=1 csrc/fuzz/run.sh 180          # then minimise into corpus/<harness>/
# New inputs go to csrc/fuzz/corpus-work/<harness>/ (gitignored); the checked-in
# seeds in csrc/fuzz/corpus/<harness>/ are read, not written, unless MERGE=1.
# Crashes land in csrc/fuzz/out/artifacts/: copy each into
# csrc/fuzz/regressions/<harness>/ once the kernel is fixed.
# Each run's log (with libFuzzer's final cov/ft/exec lines) is kept in
# csrc/fuzz/out/logs/<harness>.log (tail -f it to watch a run). JOBS=2 adds -jobs/-workers.
# TIMEOUT=1000 raises the per-input limit (10 s): libFuzzer measures it in wall
# time, so pausing a campaign (kill -STOP, e.g. while benchmarks run) longer
# than the limit reports a timeout on whatever input was running.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
secs="${1:?usage: run.sh SECONDS [harness...]}"
shift || true
if [ "$#" -gt 0 ]; then harnesses=("$@"); else
    harnesses=(); for src in "$here"/fuzz_*.c; do harnesses+=("$(basename "$src" .c)"); done
fi
mkdir -p "$here/out/artifacts" "$here/out/logs"
status=0
for h in "${harnesses[@]}"; do
    bin="$here/out/$h"
    [ -x "$bin" ] || { echo "$bin missing: run build.sh first" >&2; exit 2; }
    work="$here/corpus-work/$h"
    mkdir -p "$work" "$here/corpus/$h"
    args=(-max_total_time="$secs" -print_final_stats=1 -timeout="${TIMEOUT:-10}" -rss_limit_mb=2048
          -max_len=4096 -artifact_prefix="$here/out/artifacts/$h-")
    [ -n "${RUNS:-}" ] && args+=(-runs="$RUNS")
    [ -n "${JOBS:-}" ] && args+=(-jobs="$JOBS" -workers="$JOBS")
    echo "== $h: ${secs}s, $(date -u +%FT%TZ)"
    log="$here/out/logs/$h.log"
    rc=0
    "$bin" "${args[@]}" "$work" "$here/corpus/$h" > "$log" 2>&1 || rc=$?
    grep -E "^(#[0-9]+[[:space:]]+(DONE|INITED)|Done|stat::|==[0-9]+==ERROR|SUMMARY)" "$log" || true
    if [ "$rc" -ne 0 ] || grep -qE "ERROR: libFuzzer|==ERROR|SUMMARY: (Address|Undefined)|assertion failed|runtime error" "$log"; then
        echo "!! $h found a failure (exit $rc): see $log and $here/out/artifacts/" >&2
        status=1
    fi
    if [ -n "${MERGE:-}" ]; then
        tmp="$(mktemp -d)"
        "$bin" -merge=1 -max_len=4096 "$tmp" "$here/corpus/$h" "$work" >/dev/null 2>&1
        rm -f "$here/corpus/$h"/*
        cp "$tmp"/* "$here/corpus/$h"/ 2>/dev/null || true
        rm -rf "$tmp"
        echo "   merged: $(ls "$here/corpus/$h" | wc -l) inputs, $(cat "$here/corpus/$h"/* | wc -c) bytes"
    fi
done
exit "$status"
