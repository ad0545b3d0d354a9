#!/usr/bin/env python
"""Sizes of every real label map in each form, and decode speed of the bytes form.

Usage::

    python benchmarks/bench_size.py [--quick] [--data DIR] [--no-speed]

For each data set of ``../shared/data`` (see its README) every map is encoded
with each method and the bytes are summed over the data set:

* raw: ``a.nbytes``;
* PNG: Pillow, default level. 8-bit maps as mode L, 16-bit as I;16, bool as
  mode 1, 32-bit maps as RGB (RGBA when the top byte is used), the COCO
  panoptic convention; 64-bit maps and 3D volumes have no PNG (n/a);
* npz: ``np.savez_compressed``;
* crackle: ``crackle.compress`` (crackle-codec, default settings; signed maps
  as the unsigned type of the same size);
* compact JSON: ``json.dumps(multiclass_rle.encode(a))``;
* packed JSON: ``json.dumps(multiclass_rle.encode(a, packed=True))`` (the
  bytes form in base64 inside the dict; plain for 0/1 maps);
* COCO strings: pycocotools, one binary mask per non-zero label, the summed
  length of the ``counts`` strings (2D maps only);
* bytes form: ``len(encode_bytes(a))``.

The goals of issue 3 are checked per data set: bytes form <= 0.5x PNG (3D:
<= 0.5x npz), <= 1.5x crackle; decode >= 20x crackle and >= 0.15x np.copyto;
packed JSON dict <= PNG (where a PNG exists).
Speed: one pass over a data set's maps, best of several repeats, GB/s of raw
map bytes; each output is dropped at once, as in a loader that consumes maps
one by one (so the allocator can reuse the block; the largest volumes may
still be mapped afresh and pay first-touch page faults, as the floor below
shows). ``decode_bytes`` allocates its result like ``decode`` (C
order); ``np.copyto`` copies each map C -> C into its own preallocated array.
crackle runs with its default ``parallel=0`` (all cores: on this project's
volumes it decodes about twice as fast with 2 cores as with 1) and, for
comparison with our single-threaded decoder, with ``parallel=1``.
``floor: np.full`` allocates each map and writes every byte once: no decoder
that returns a new array can beat it, so a "20x crackle needs" above it
cannot be met on that machine.
"""

from __future__ import annotations

import argparse
import functools
import gc
import io
import json
import os
import platform
import sys
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np  # noqa: E402

import multiclass_rle as mcr  # noqa: E402
from multiclass_rle._codec.forms.bytes import decode_bytes, encode_bytes  # noqa: E402

try:
    from PIL import Image
except ImportError:  # pragma: no cover
    Image = None
try:
    import crackle
except ImportError:  # pragma: no cover
    crackle = None
try:
    from pycocotools import mask as mask_util
except ImportError:  # pragma: no cover
    mask_util = None

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


def load_datasets(data: Path, quick: bool) -> dict[str, list[np.ndarray]]:
    index = json.loads((data / "INDEX.json").read_text())
    out: dict[str, list[np.ndarray]] = {}
    for e in index:
        name = e["file"].split("/")[0]
        path = data / e["file"]
        if e["key"] is None:
            arrs = [np.load(path)]
        else:
            with np.load(path) as z:
                a = z[e["key"]]
            arrs = list(a) if name == "camvid" else [a]
        if quick and name == "camvid":
            arrs = arrs[::50]
        out.setdefault(name, []).extend(arrs)
    return out


# ---------------------------------------------------------------------------
# sizes

def png_size(a: np.ndarray) -> int | None:
    if Image is None or a.ndim != 2:
        return None
    if a.dtype == bool or a.dtype == np.uint8 or a.dtype == np.uint16:
        img = Image.fromarray(a)
    elif a.dtype.itemsize == 1:
        img = Image.fromarray(a.view(np.uint8))
    elif a.dtype.itemsize == 2:
        img = Image.fromarray(a.view(np.uint16))
    elif a.dtype.itemsize == 4:
        u = np.ascontiguousarray(a.astype(a.dtype.newbyteorder("<"))).view(np.uint8)
        u = u.reshape(a.shape + (4,))
        img = Image.fromarray(np.ascontiguousarray(u if u[..., 3].any() else u[..., :3]))
    else:
        return None
    bio = io.BytesIO()
    img.save(bio, format="PNG")
    return len(bio.getvalue())


def npz_size(a: np.ndarray) -> int:
    bio = io.BytesIO()
    np.savez_compressed(bio, labels=a)
    return len(bio.getvalue())


def crackle_input(a: np.ndarray) -> np.ndarray:
    if a.dtype == bool:
        return a.view(np.uint8)
    if a.dtype.kind == "i":
        return a.view(np.dtype(f"u{a.dtype.itemsize}"))
    return a


def crackle_size(a: np.ndarray) -> int | None:
    return None if crackle is None else len(crackle.compress(crackle_input(a)))


def coco_size(a: np.ndarray) -> int | None:
    if mask_util is None or a.ndim != 2:
        return None
    labels = np.unique(a)
    labels = labels[labels != 0]
    if not len(labels):
        return 0
    aF = np.asfortranarray(a)
    masks = np.empty(a.shape + (len(labels),), dtype=np.uint8, order="F")
    for i, lab in enumerate(labels):
        np.equal(aF, lab, out=masks[..., i].view(bool))
    return sum(len(r["counts"]) for r in mask_util.encode(masks))


def compact_json_size(a: np.ndarray) -> int:
    return len(json.dumps(mcr.encode(a)))


def packed_json_size(a: np.ndarray) -> int:
    return len(json.dumps(mcr.encode(a, packed=True)))


# ---------------------------------------------------------------------------
# speed

def each(fn: Callable[[Any], Any], items: list) -> None:
    for x in items:
        fn(x)


def best_time(fn: Callable[[], Any], target: float = 0.3, min_reps: int = 3) -> float:
    gc.collect()
    fn()
    times: list[float] = []
    total = 0.0
    while len(times) < min_reps or total < target:
        t0 = time.perf_counter()
        fn()
        dt = time.perf_counter() - t0
        times.append(dt)
        total += dt
        if len(times) >= 200:
            break
    return min(times)


def fmt_bytes(n: float) -> str:
    for unit, k in (("MB", 1e6), ("kB", 1e3)):
        if n >= k:
            return f"{n / k:.1f} {unit}"
    return f"{n:.0f} B"


def table(title: str, header: list[str], rows: list[list[str]]) -> str:
    lines = [f"### {title}", "", "| " + " | ".join(header) + " |",
             "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    return "\n".join(lines) + "\n"


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--quick", action="store_true", help="every 50th CamVid frame, short timings")
    ap.add_argument("--no-speed", action="store_true", help="sizes only")
    args = ap.parse_args()
    if not (args.data / "INDEX.json").is_file():
        print(f"no data folder at {args.data}", file=sys.stderr)
        return 2
    started = time.perf_counter()
    sets = load_datasets(args.data, args.quick)
    peers = {"Pillow": Image is not None, "crackle-codec": crackle is not None,
             "pycocotools": mask_util is not None}
    print(f"## Sizes and bytes-form decode speed ({time.strftime('%Y-%m-%d')}, "
          f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}, multiclass_rle {mcr.__version__}"
          + "".join(f", {k} {'yes' if v else 'MISSING'}" for k, v in peers.items()) + ")\n")

    size_rows, ratio_rows, speed_rows, goal_rows = [], [], [], []
    n_fail = 0
    for name, maps in sets.items():
        n = len(maps)
        raw = sum(a.nbytes for a in maps)
        is3d = maps[0].ndim == 3
        blobs = [encode_bytes(a) for a in maps]
        ours = sum(map(len, blobs))
        for a, b in zip(maps, blobs):   # lossless, always
            assert np.array_equal(decode_bytes(b), a), name

        def total(fn: Callable[[np.ndarray], int | None]) -> int | None:
            vals = [fn(a) for a in maps]
            return None if any(v is None for v in vals) else sum(vals)

        png = total(png_size)
        npz = total(npz_size)
        crk = total(crackle_size)
        cjs = total(compact_json_size)
        pjs = total(packed_json_size)
        coco = total(coco_size)
        shapes = sorted({"x".join(map(str, a.shape)) for a in maps})
        desc = f"{name} ({n} x {shapes[0] if len(shapes) == 1 else 'various'} {maps[0].dtype})"

        def per(v):
            return "n/a" if v is None else fmt_bytes(v / n)

        size_rows.append([desc, per(raw), per(png), per(npz), per(crk), per(cjs), per(pjs),
                          per(coco), per(ours)])

        def rat(v):
            return "n/a" if not v else f"{ours / v:.3f}"

        ratio_rows.append([name, rat(raw), rat(png), rat(npz), rat(crk), rat(cjs), rat(coco)])

        ref_name, ref = ("npz", npz) if (is3d or png is None) else ("PNG", png)
        size_goal = ours <= 0.5 * ref
        crk_goal = crk is None or ours <= 1.5 * crk
        json_goal = png is None or pjs <= png
        cells = [name, f"{ours / ref:.3f} of {ref_name} {'pass' if size_goal else 'FAIL'}",
                 "n/a" if crk is None else f"{ours / crk:.3f} {'pass' if crk_goal else 'FAIL'}",
                 "n/a" if png is None else f"{pjs / png:.3f} {'pass' if json_goal else 'FAIL'}"]
        n_fail += (not size_goal) + (not crk_goal) + (not json_goal)

        if not args.no_speed:
            target = 0.05 if args.quick else 0.3
            C = [np.ascontiguousarray(a) for a in maps]
            dst = [np.empty_like(a) for a in C]
            outs = [np.empty_like(a) for a in C]
            # each output is dropped at once, as in a loop that consumes maps one by one
            t_ours = best_time(lambda: each(decode_bytes, blobs), target)
            t_out = best_time(lambda: each(lambda bo: decode_bytes(bo[0], out=bo[1]),
                                           list(zip(blobs, outs))), target)
            t_copy = best_time(lambda: each(lambda da: np.copyto(da[0], da[1]),
                                            list(zip(dst, C))), target)
            if crackle is not None:
                cblobs = [crackle.compress(crackle_input(a)) for a in maps]
                t_crk = best_time(lambda: each(crackle.decompress, cblobs), target, min_reps=2)
                one_core = functools.partial(crackle.decompress, parallel=1)
                t_crk1 = best_time(lambda: each(one_core, cblobs), target, min_reps=2)
            else:
                t_crk = t_crk1 = None
            # the floor of any decoder that returns a new array: allocate it and write every
            # byte once (np.full), with nothing to decode
            t_floor = best_time(lambda: each(lambda a: np.full(a.shape, 1, a.dtype), C), target)
            gb = raw / 1e9
            speed_rows.append([
                name, f"{gb / t_ours:.2f}", f"{gb / t_out:.2f}",
                "n/a" if t_crk is None else f"{gb / t_crk:.2f}",
                "n/a" if t_crk1 is None else f"{gb / t_crk1:.2f}",
                f"{gb / t_copy:.1f}", f"{gb / t_floor:.1f}",
                "n/a" if t_crk is None else f"{20 * gb / t_crk:.1f}",
                f"{t_ours / n * 1e6:.0f}"])
            vs_crk = None if t_crk is None else t_crk / t_ours
            vs_copy = t_copy / t_ours
            ok1 = vs_crk is None or vs_crk >= 20
            ok2 = vs_copy >= 0.15
            n_fail += (not ok1) + (not ok2)
            cells += ["n/a" if vs_crk is None else f"{vs_crk:.1f}x {'pass' if ok1 else 'FAIL'}",
                      f"{vs_copy:.3f} {'pass' if ok2 else 'FAIL'}"]
        goal_rows.append(cells)

    print(table("Bytes per map (summed over each data set, divided by its number of maps)",
                ["data set", "raw", "PNG", "npz", "crackle", "compact JSON", "packed JSON",
                 "COCO strings", "bytes form"], size_rows))
    print(table("Bytes form size as a fraction of each other form (lower is smaller)",
                ["data set", "/ raw", "/ PNG", "/ npz", "/ crackle", "/ compact JSON",
                 "/ COCO strings"], ratio_rows))
    if speed_rows:
        print(table("Decode speed (GB/s of raw map bytes; best pass over the data set)",
                    ["data set", "decode_bytes", "decode_bytes(out=)", "crackle",
                     "crackle 1 thread", "np.copyto C->C", "floor: np.full",
                     "20x crackle needs", "us per map (decode_bytes)"], speed_rows))
    head = ["data set", "size <= 0.5x PNG (3D: npz)", "size <= 1.5x crackle",
            "packed JSON <= PNG"]
    if speed_rows:
        head += ["decode >= 20x crackle", "decode >= 0.15x copyto"]
    print(table("Goals of issue 3", head, goal_rows))
    print(f"Goals: {'all pass' if n_fail == 0 else f'{n_fail} FAIL'}; "
          f"run took {time.perf_counter() - started:.0f} s.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
