"""Thread-pool speedup of encode and decode (the kernels release the GIL).

    python benchmarks/bench_threads.py [--data ../shared/data] [--threads 2]

Decodes (and encodes) the CamVid validation frames with one thread, then with
a ThreadPoolExecutor of N threads, in the same run, and prints the ratio.
"""

from __future__ import annotations

import argparse
import os
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

import multiclass_rle as mcr


def best(fn, repeats: int = 5) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return min(times)


def main() -> None:
    here = Path(__file__).resolve()
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--data", type=Path, default=here.parents[2] / "shared" / "data")
    ap.add_argument("--threads", type=int, default=os.cpu_count() or 2)
    args = ap.parse_args()
    frames = np.load(args.data / "camvid" / "camvid_valannot_101x360x480_uint8.npz")["labels"]
    big = np.repeat(np.repeat(frames[:8], 3, axis=1), 4, axis=2)   # 8 x 1080 x 1920
    print(f"{'workload':34} {'1 thread':>10} {f'{args.threads} threads':>10} {'speedup':>8}")
    for name, maps in [("CamVid 101 x 360x480 uint8", list(frames)),
                       ("upscaled 8 x 1080x1920 uint8", list(big))]:
        rles = [mcr.encode(m) for m in maps]
        outs = [np.empty_like(m) for m in maps]
        for op, fn in [("decode", lambda i: mcr.decode(rles[i], out=outs[i])),
                       ("encode", lambda i: mcr.encode(maps[i]))]:
            one = best(lambda: [fn(i) for i in range(len(maps))])
            with ThreadPoolExecutor(args.threads) as pool:
                many = best(lambda: list(pool.map(fn, range(len(maps)))))
            print(f"{op + ' ' + name:34} {one * 1e3:8.2f}ms {many * 1e3:8.2f}ms {one / many:7.2f}x")


if __name__ == "__main__":
    main()
