"""Interleaved A/B of two installs of multiclass_rle on the CamVid maps of bench_codec.py.

    python benchmarks/bench_ab.py PYTHON_A PYTHON_B [--rounds 9]

Each round runs every interpreter once, alternately (A, B, B, A, ...), in its own
process; a process times ``decode`` of the compact dicts and ``encode`` of the
20 CamVid frames that bench_codec.py uses (best of repeated passes), and the
table gives each side's best round and the ratio B / A. Used to measure the
stable ABI (an abi3 build against a version-specific one, same source, same
machine); any two builds can be compared the same way.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
from pathlib import Path

CHILD = r"""
import json, sys, time
from pathlib import Path
import numpy as np
import multiclass_rle as mcr
sys.path.insert(0, sys.argv[2])
from bench_codec import load_groups
group = next(g for g in load_groups(Path(sys.argv[1]), quick=False) if g.name.startswith("CamVid 360"))
maps = [np.ascontiguousarray(a) for a in group.maps]
rles = [mcr.encode(a) for a in maps]
assert all(np.array_equal(mcr.decode(r), a) for r, a in zip(rles, maps))
def best(fn, reps=60):
    t = float("inf")
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        t = min(t, time.perf_counter() - t0)
    return t
dec = best(lambda: [mcr.decode(r) for r in rles])
enc = best(lambda: [mcr.encode(a) for a in maps])
nbytes = sum(a.nbytes for a in maps)
print(json.dumps({"decode_us_per_map": dec / len(maps) * 1e6, "encode_us_per_map": enc / len(maps) * 1e6,
                  "decode_gbps": nbytes / dec / 1e9, "core": mcr._codec._core.__file__.rsplit("/", 1)[-1]}))
"""


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("python_a")
    ap.add_argument("python_b")
    ap.add_argument("--rounds", type=int, default=9)
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    args = ap.parse_args()
    here = str(Path(__file__).resolve().parent)
    results: dict[str, list[dict]] = {"A": [], "B": []}
    for r in range(args.rounds):
        order = ("A", "B") if r % 2 == 0 else ("B", "A")
        for side in order:
            py = args.python_a if side == "A" else args.python_b
            out = subprocess.run([py, "-c", CHILD, args.data, here], check=True, capture_output=True,
                                 text=True, cwd="/").stdout
            results[side].append(json.loads(out.strip().splitlines()[-1]))
    for key in ("decode_us_per_map", "encode_us_per_map"):
        a = min(x[key] for x in results["A"])
        b = min(x[key] for x in results["B"])
        print(f"{key}: A {a:.2f} ({results['A'][0]['core']}), B {b:.2f} ({results['B'][0]['core']}), "
              f"B/A {b / a:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
