#!/usr/bin/env python
"""The bytes form on 3D label maps against crackle, side by side.

    python benchmarks/bench_volumes.py [--data ../shared/data] [--quick] [--no-synthetic]

Issue 16, goal 1: for 3D maps in either memory order, ``decode_bytes`` (into
the map's own order) and ``encode_bytes`` are each at least 2x crackle
(crackle-codec with its default settings, which decode and encode on all
cores; ours too, by default) and the bytes form is at most 1.0x crackle's
size, on every 3D map of ``../shared/data`` and on synthetic dense
segmentations (``synthetic.py``: 3D Voronoi tessellations of 3000 seeds with
ids up to 10^8, boundaries smoothed; 256^3 and 512^3, uint32).

Each volume is taken in both memory orders (C and Fortran): crackle keeps the
order it was given and decodes into it, as ``decode_bytes`` does by default.
Every pair is timed interleaved (one call of each in turn, best of N) in one
process; results are checked against the map first. Also shown: our time on
one thread and version 1 of the bytes form (one stream, lines along the last
axis whatever the order), for the record of what version 2 changed.
"""

from __future__ import annotations

import argparse
import datetime
import importlib.metadata
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")   # before numpy: no spinning BLAS threads

import numpy as np  # noqa: E402

import multiclass_rle as mcr  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parent))
import synthetic  # noqa: E402

try:
    import crackle
except ImportError:   # the bench extra installs it
    crackle = None

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def interleaved(fns: list[Callable[[], Any]], reps: int) -> list[float]:
    """Best time of each function, calling them in turn reps times (after one warm-up)."""
    for f in fns:
        f()
    best = [float("inf")] * len(fns)
    for _ in range(reps):
        for i, f in enumerate(fns):
            t = time.perf_counter()
            f()
            best[i] = min(best[i], time.perf_counter() - t)
    return best


def volumes(data: Path, quick: bool, synth: bool) -> list[tuple[str, np.ndarray]]:
    """Every 3D map of the data set's index, then the synthetic ones."""
    out = []
    for e in json.loads((data / "INDEX.json").read_text()):
        if len(e["shape"]) != 3 or e["file"].startswith("camvid/") or \
                not (data / e["file"]).exists():   # CamVid's files are stacks of 2D frames
            continue
        if e["key"] is None:
            a = np.load(data / e["file"])
        else:
            with np.load(data / e["file"]) as z:
                a = z[e["key"]]
        out.append((Path(e["file"]).name.split(".npz")[0].split(".npy")[0], a))
    if synth:
        for n in ([256] if quick else [256, 512]):
            out.append((f"voronoi_{n}^3_3000_uint32", synthetic.cached_voronoi(n, 3000)))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--quick", action="store_true", help="fewer repeats, no 512^3 volume")
    ap.add_argument("--no-synthetic", action="store_true")
    args = ap.parse_args()
    if crackle is None:
        print("crackle-codec is not installed (pip install '.[bench]')", file=sys.stderr)
        return 2
    if not (args.data / "INDEX.json").exists():
        print(f"no data at {args.data}", file=sys.stderr)
        return 2
    reps = 3 if args.quick else 7
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    version = mcr.bytes_info(mcr.encode_bytes(np.zeros((2, 2, 2), np.uint8))).version
    print(f"### The bytes form (version {version}) against crackle-codec "
          f"{importlib.metadata.version('crackle-codec')}, {now}\n")   # no __version__
    print(f"{platform.processor() or platform.machine()}, {cores} cores; best of {reps}, "
          "interleaved; times in ms; ratios are crackle's time (or size) over ours.\n")
    print("| map | order | MB | size: ours / crackle | decode: crackle | ours | ours 1 thread "
          "| crackle / ours | encode: crackle | ours | ours 1 thread | crackle / ours | "
          "v1 size / crackle | goals |")
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|")
    fails = 0
    for name, vol in volumes(args.data, args.quick, not args.no_synthetic):
        for order in "CF":
            a = np.asarray(vol, order=order)
            ours = mcr.encode_bytes(a)
            theirs = crackle.compress(a)
            v1 = mcr.encode_bytes(a, version=1)
            back = mcr.decode_bytes(ours)
            same = np.array_equal(back, a) and back.flags[order + "_CONTIGUOUS"]
            same &= np.array_equal(crackle.decompress(theirs), a)
            del back
            t = interleaved([lambda: crackle.decompress(theirs),
                             lambda: mcr.decode_bytes(ours),
                             lambda: mcr.decode_bytes(ours, threads=1),
                             lambda: crackle.compress(a),
                             lambda: mcr.encode_bytes(a),
                             lambda: mcr.encode_bytes(a, threads=1)], reps)
            size = len(ours) / len(theirs)
            dec, enc = t[0] / t[1], t[3] / t[4]
            checks = [("size", size <= 1.0), ("decode", dec >= 2.0), ("encode", enc >= 2.0)]
            bad = [k for k, ok in checks if not ok]
            fails += len(bad) + (not same)
            verdict = ("MISMATCH " if not same else "") + ("pass" if not bad else
                                                           "FAIL " + ", ".join(bad))
            print(f"| {name} | {order} | {a.nbytes / 1e6:.1f} | {size:.2f} | {t[0] * 1e3:.1f} | "
                  f"{t[1] * 1e3:.1f} | {t[2] * 1e3:.1f} | {dec:.2f}x | {t[3] * 1e3:.1f} | "
                  f"{t[4] * 1e3:.1f} | {t[5] * 1e3:.1f} | {enc:.2f}x | "
                  f"{len(v1) / len(theirs):.2f} | {verdict} |", flush=True)
    print(f"\nGoal 1 (size <= 1.0x crackle, decode and encode >= 2x crackle, each order): "
          f"{'all pass' if not fails else f'{fails} FAIL'}.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
