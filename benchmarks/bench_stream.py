#!/usr/bin/env python
"""Peak memory of ``mcrle encode -j 2`` on many-map sources: it must not grow with the maps.

Usage::

    python benchmarks/bench_stream.py [--rows 2500 10000] [--images 1250 5000] [--data DIR]

Makes, in a temporary folder:

* Kaggle CSVs of ``--rows`` rows (Severstal-like: ``ImageId,ClassId,EncodedPixels``,
  256x1600 images, one row per image, a few random runs each, column-major);
* COCO panoptic folders of ``--images`` images: the two PNGs of the COCO
  panoptic sample (``coco_panoptic_sample`` of the data folder) hard-linked
  (copied where links fail) under new names, and a JSON whose ``images`` and
  ``annotations`` repeat the sample's under those names;

then runs ``mcrle encode SOURCE -o OUT.mcrlpack -j 2`` on each in a child
process and prints the peak resident memory of the main process
(``getrusage(RUSAGE_SELF)``) and of the largest worker
(``getrusage(RUSAGE_CHILDREN)``, the maximum over the workers), with the
wall time. Bounded memory means the peaks stay flat as the number of maps
grows fourfold.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

CHILD = """
import resource, sys
from multiclass_rle.cli import main
rc = main(sys.argv[1:])
me = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
kids = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
print(f"PEAK {me} {kids}", file=sys.stderr)
sys.exit(rc)
"""


def make_csv(path: Path, rows: int, seed: int = 0) -> None:
    h, w = 256, 1600
    rng = np.random.default_rng(seed)
    lines = ["ImageId,ClassId,EncodedPixels"]
    for i in range(rows):
        starts = np.sort(rng.choice(h * w // 64, size=6, replace=False)) * 64 + 1
        lengths = rng.integers(1, 60, size=6)
        pairs = " ".join(f"{s} {n}" for s, n in zip(starts.tolist(), lengths.tolist()))
        lines.append(f"{i:06x}.jpg,{int(rng.integers(1, 5))},{pairs}")
    path.write_text("\n".join(lines) + "\n")


def make_panoptic(folder: Path, images: int, sample: Path) -> Path:
    doc = json.loads((sample / "panoptic_examples.json").read_text())
    pngs = folder / "panoptic_examples"
    pngs.mkdir(parents=True)
    out_images, out_anns = [], []
    for i in range(images):
        k = i % len(doc["annotations"])
        ann, image = dict(doc["annotations"][k]), dict(doc["images"][k])
        name = f"{i:012d}.png"
        src = sample / "panoptic_examples" / ann["file_name"]
        try:
            os.link(src, pngs / name)
        except OSError:
            (pngs / name).write_bytes(src.read_bytes())
        ann.update(file_name=name, image_id=i)
        image.update(file_name=name.replace(".png", ".jpg"), id=i)
        out_anns.append(ann)
        out_images.append(image)
    path = folder / "panoptic_examples.json"
    path.write_text(json.dumps({**doc, "images": out_images, "annotations": out_anns}))
    return path


def run(source: Path, out: Path, *options: str) -> tuple[float, int, int, str]:
    t0 = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", CHILD, "encode", str(source), "-o", str(out),
                           "-j", "2", "--no-progress", *options],
                          capture_output=True, text=True)
    dt = time.perf_counter() - t0
    if proc.returncode != 0:
        raise SystemExit(f"mcrle encode failed:\n{proc.stderr}")
    peak = next(line for line in proc.stderr.splitlines() if line.startswith("PEAK"))
    _, me, kids = peak.split()
    note = next((line for line in proc.stderr.splitlines() if "encoded" in line), "")
    return dt, int(me), int(kids), note


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--rows", type=int, nargs="+", default=[2500, 10000])
    ap.add_argument("--images", type=int, nargs="+", default=[1250, 5000])
    ap.add_argument("--data", type=Path,
                    default=Path(__file__).resolve().parents[2] / "shared" / "data")
    args = ap.parse_args()
    sample = args.data / "coco_panoptic_sample" / "orig" / "sample_data"
    print("| source | maps | wall s | peak RSS main MiB | peak RSS largest worker MiB |")
    print("|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as tmp:
        for rows in args.rows:
            csv = Path(tmp) / f"train{rows}.csv"
            make_csv(csv, rows)
            dt, me, kids, _ = run(csv, Path(tmp) / f"k{rows}.mcrlpack", "--shape", "256x1600")
            print(f"| Kaggle CSV 256x1600 | {rows} | {dt:.1f} | {me / 1024:.0f} | "
                  f"{kids / 1024:.0f} |", flush=True)
        if not sample.is_dir():
            print(f"(COCO panoptic skipped: {sample} is absent)")
            return
        for images in args.images:
            src = make_panoptic(Path(tmp) / f"pan{images}", images, sample)
            dt, me, kids, _ = run(src, Path(tmp) / f"p{images}.mcrlpack")
            print(f"| COCO panoptic (sample PNGs) | {images} | {dt:.1f} | {me / 1024:.0f} | "
                  f"{kids / 1024:.0f} |", flush=True)


if __name__ == "__main__":
    main()
