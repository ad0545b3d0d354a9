#!/usr/bin/env python
"""Benchmark the operations on runs (labels, area, IoU, window decode, COCO...) on real maps.

Usage::

    python benchmarks/bench_ops.py [--quick] [--markdown] [--data DIR]

Every operation is timed three ways on the same maps, in one process:

* ``rle``: the multiclass_rle operation on the compact dict from ``encode``
  (as stored in JSON: string parsing included);
* ``rle (Runs)``: the same on a :class:`Runs` parsed beforehand (a dataset
  parsed once and queried several times);
* ``decode+numpy``: ``decode`` of the same dict, then the usual numpy code
  on the dense array (``np.unique`` for labels and areas; for 8/16-bit maps
  the ``(vs bincount)`` rows use the faster ``np.bincount`` instead; for
  ``to_coco``: pycocotools' ``encode`` of each label's mask, the usual way
  to build per-class COCO RLEs; for ``from_coco``: pycocotools' ``decode``
  of each mask, painted in order, then ``encode_runs``);
* ``pycocotools``: where pycocotools answers the same question from per-class
  COCO RLEs (computed beforehand, as a COCO-format dataset stores them):
  ``mask.area``, ``mask.toBbox`` and ``mask.iou`` over the classes.

Times are per map (µs), each the best of several repeats of one pass over the
group. ``x`` columns are speed-ups of ``rle`` (dict input): baseline time /
our time. Every result is checked against its baseline once before timing;
a mismatch would be printed as ``MISMATCH``.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import platform
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

import multiclass_rle as mcr

try:  # the lead exports these from the package; fall back to the modules
    from multiclass_rle import (area, bbox, binary_mask, confusion_matrix, decode_window, iou,
                                labels, remap, to_coco, from_coco)
except ImportError:
    from multiclass_rle._ops.coco import from_coco, to_coco
    from multiclass_rle._ops import (area, bbox, binary_mask, confusion_matrix, decode_window,
                                     iou, labels, remap)

try:
    from pycocotools import mask as mask_util
except ImportError:  # pycocotools columns are left empty
    mask_util = None

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
WINDOW = 256


# ---------------------------------------------------------------------------
# data


@dataclass
class Group:
    name: str
    truth: list[np.ndarray]
    pred: list[np.ndarray]  # a realistic "prediction" of each map, for IoU
    prep: dict[str, Any] = field(default_factory=dict)


def _nearest_resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour upscaling by index repetition (as bench_codec.py)."""
    rows = (np.arange(h) * a.shape[0]) // h
    cols = (np.arange(w) * a.shape[1]) // w
    return np.ascontiguousarray(a[np.ix_(rows, cols)])


def _shifted(a: np.ndarray) -> np.ndarray:
    """A stand-in prediction: the map moved 5 pixels right and 3 down."""
    return np.ascontiguousarray(np.roll(a, (3, 5), axis=(0, 1)))


def load_groups(data: Path, quick: bool) -> list[Group]:
    groups: list[Group] = []
    n_frames = 6 if quick else 20
    truth, pred = [], []
    stacks = sorted((data / "camvid").glob("camvid_*annot_*.npz"))
    for k, path in enumerate(stacks):
        with np.load(path) as z:
            stack = z["labels"]
        share = n_frames // len(stacks) + (k < n_frames % len(stacks))
        for i in np.linspace(0, stack.shape[0] - 5, share).round().astype(int).tolist():
            truth.append(np.ascontiguousarray(stack[i]))
            pred.append(np.ascontiguousarray(stack[i + 4]))  # 4 video frames later
    if truth:
        groups.append(Group(f"CamVid 360x480 uint8 ({len(truth)} frames)", truth, pred))
    ade = [np.load(p) for p in sorted((data / "ade20k_sceneparsing").glob("ADE_*_uint8.npy"))
           if "instanceB" not in p.name]
    if ade:
        groups.append(Group(f"ADE20K uint8 ({len(ade)} maps, 300x400..512x683)", ade,
                            [_shifted(a) for a in ade]))
    pan = [np.load(p) for p in sorted((data / "coco_panoptic_sample").glob(
        "panoptic_examples__*_uint32.npy"))]
    if pan:
        groups.append(Group(f"COCO panoptic uint32 ids ({len(pan)} maps)", pan,
                            [_shifted(a) for a in pan]))
    if truth:
        n_big = 2 if quick else 4
        big_t = [_nearest_resize(a, 1024, 2048) for a in truth[:n_big]]
        big_p = [_nearest_resize(a, 1024, 2048) for a in pred[:n_big]]
        groups.append(Group(f"CamVid upscaled 1024x2048 uint8 ({n_big} frames)", big_t, big_p))
    return groups


# ---------------------------------------------------------------------------
# timing


def best_time(fn: Callable[[], Any], target: float, min_reps: int) -> float:
    """Best time of one call: repeat until about ``target`` seconds in total."""
    gc.collect()
    fn()  # warm-up
    times: list[float] = []
    total = 0.0
    gc_was = gc.isenabled()
    gc.disable()
    try:
        while total < target or len(times) < min_reps:
            t0 = time.perf_counter()
            fn()
            dt = time.perf_counter() - t0
            times.append(dt)
            total += dt
    finally:
        if gc_was:
            gc.enable()
    return min(times)


# ---------------------------------------------------------------------------
# the operations and their baselines, per map


def _window(shape: tuple[int, ...], seed: int) -> tuple[slice, ...]:
    rng = np.random.default_rng(seed)
    out = []
    for n in shape:
        size = min(WINDOW, n)
        start = int(rng.integers(0, n - size + 1))
        out.append(slice(start, start + size))
    return tuple(out)


def _np_area(a: np.ndarray) -> dict[int, int]:
    u, c = np.unique(a, return_counts=True)
    return dict(zip(u.tolist(), c.tolist()))


def _np_bbox(a: np.ndarray) -> dict[int, tuple]:
    out = {}
    for lab in np.unique(a).tolist():
        m = a == lab
        rows = np.flatnonzero(m.any(axis=1))
        cols = np.flatnonzero(m.any(axis=0))
        out[lab] = ((int(rows[0]), int(rows[-1]) + 1), (int(cols[0]), int(cols[-1]) + 1))
    return out


def _np_confusion(t: np.ndarray, p: np.ndarray) -> np.ndarray:
    """Confusion matrix over the sorted union of labels, the fast numpy way."""
    lab = np.union1d(np.unique(t), np.unique(p))
    if t.dtype == np.uint8 and p.dtype == np.uint8:
        full = np.bincount(t.ravel().astype(np.intp) * 256 + p.ravel(), minlength=65536)
        return full.reshape(256, 256)[np.ix_(lab, lab)]
    ti = np.searchsorted(lab, t.ravel())
    pi = np.searchsorted(lab, p.ravel())
    n = lab.size
    return np.bincount(ti * n + pi, minlength=n * n).reshape(n, n)


def _iou_from_cm(cm: np.ndarray) -> np.ndarray:
    cm = cm.astype(np.float64)
    tp = np.diagonal(cm)
    union = cm.sum(0) + cm.sum(1) - tp
    out = np.full(tp.shape, np.nan)
    np.divide(tp, union, out=out, where=union > 0)
    return out


def _coco_of(a: np.ndarray) -> dict[int, dict]:
    return {lab: mask_util.encode(np.asfortranarray((a == lab).astype(np.uint8)))
            for lab in np.unique(a).tolist()}


def _np_to_coco(a: np.ndarray) -> dict[int, dict]:
    out = {}
    for lab in np.unique(a).tolist():
        r = mask_util.encode(np.asfortranarray((a == lab).astype(np.uint8)))
        out[lab] = {"size": r["size"], "counts": r["counts"].decode()}
    return out


def _coco_decode(rle: dict) -> np.ndarray:
    with warnings.catch_warnings():  # pycocotools' __array__ under numpy 2
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_util.decode(rle)


def _coco_paint(coco: dict[int, dict], shape) -> np.ndarray:
    out = np.zeros(shape, np.uint8 if max(coco) < 256 else np.uint32)
    for lab, rle in coco.items():
        out[_coco_decode(rle).astype(bool)] = lab
    return out


def prepare(g: Group) -> None:
    p = g.prep
    p["dict_t"] = [mcr.encode(a) for a in g.truth]
    p["dict_p"] = [mcr.encode(a) for a in g.pred]
    p["runs_t"] = [mcr.as_runs(d) for d in p["dict_t"]]
    p["runs_p"] = [mcr.as_runs(d) for d in p["dict_p"]]
    p["windows"] = [_window(a.shape, i) for i, a in enumerate(g.truth)]
    top = max(int(a.max()) for a in g.truth)
    rng = np.random.default_rng(0)
    p["lut"] = rng.integers(0, 20, top + 1).astype(np.uint8)  # e.g. id -> trainId
    p["labels"] = [np.union1d(np.unique(t), np.unique(q)).tolist()
                   for t, q in zip(g.truth, g.pred)]
    if mask_util is not None:
        p["coco_t"] = [_coco_of(a) for a in g.truth]
        p["coco_p"] = [_coco_of(a) for a in g.pred]
        p["coco_str"] = [to_coco(r) for r in p["runs_t"]]


def ops(g: Group) -> list[tuple[str, Callable, Callable | None, Callable | None,
                                Callable | None]]:
    """(name, ours(source, i), decode+numpy(i), pycocotools(i), ours in pycocotools' terms(i)).

    ``source`` is ``{'t': truths, 'p': predictions}`` as dicts or as Runs.
    """
    p = g.prep
    shapes = [a.shape for a in g.truth]

    def coco_area(i):
        return {lab: int(mask_util.area(r)) for lab, r in p["coco_t"][i].items()}

    def coco_bbox(i):
        return {lab: mask_util.toBbox(r).tolist() for lab, r in p["coco_t"][i].items()}

    def coco_iou(i):
        t, q = p["coco_t"][i], p["coco_p"][i]
        out = []
        for lab in p["labels"][i]:
            if lab in t and lab in q:
                out.append(float(mask_util.iou([q[lab]], [t[lab]], [0])[0, 0]))
            else:
                out.append(0.0)  # in only one of the maps
        return np.array(out)

    def bincount_area(a):
        c = np.bincount(a.ravel())
        present = np.flatnonzero(c)
        return dict(zip(present.tolist(), c[present].tolist()))

    has_coco = mask_util is not None
    small = g.truth[0].dtype in (np.uint8, np.uint16)  # np.bincount is the fast way
    fast = [
        ("labels (vs bincount)",
         lambda src, i: labels(src["t"][i]),
         lambda i: np.flatnonzero(np.bincount(mcr.decode(p["dict_t"][i]).ravel())),
         None, None),
        ("area (vs bincount)",
         lambda src, i: area(src["t"][i]),
         lambda i: bincount_area(mcr.decode(p["dict_t"][i])),
         None, None),
    ] if small else []
    return fast + [
        ("labels",
         lambda src, i: labels(src["t"][i]),
         lambda i: np.unique(mcr.decode(p["dict_t"][i])),
         None, None),
        ("area",
         lambda src, i: area(src["t"][i]),
         lambda i: _np_area(mcr.decode(p["dict_t"][i])),
         (lambda i: coco_area(i)) if has_coco else None, None),
        ("bbox",
         lambda src, i: bbox(src["t"][i]),
         lambda i: _np_bbox(mcr.decode(p["dict_t"][i])),
         (lambda i: coco_bbox(i)) if has_coco else None,
         lambda i: bbox(p["runs_t"][i], format="coco")),
        ("confusion matrix",
         lambda src, i: confusion_matrix(src["t"][i], src["p"][i]),
         lambda i: _np_confusion(mcr.decode(p["dict_t"][i]), mcr.decode(p["dict_p"][i])),
         None, None),
        ("iou (per class)",
         lambda src, i: iou(src["t"][i], src["p"][i]),
         lambda i: _iou_from_cm(_np_confusion(mcr.decode(p["dict_t"][i]),
                                              mcr.decode(p["dict_p"][i]))),
         (lambda i: coco_iou(i)) if has_coco else None, None),
        (f"window {WINDOW}x{WINDOW}",
         lambda src, i: decode_window(src["t"][i], p["windows"][i]),
         lambda i: np.ascontiguousarray(mcr.decode(p["dict_t"][i])[p["windows"][i]]),
         None, None),
        ("binary mask",
         lambda src, i: binary_mask(src["t"][i], int(g.truth[i].flat[0])),
         lambda i: mcr.decode(p["dict_t"][i]) == g.truth[i].flat[0],
         None, None),
        ("remap (lut) -> RLE",
         lambda src, i: remap(src["t"][i], p["lut"]),
         lambda i: mcr.encode_runs(p["lut"][mcr.decode(p["dict_t"][i])]),
         None, None),
        ("to_coco",
         lambda src, i: to_coco(src["t"][i]),
         (lambda i: _np_to_coco(mcr.decode(p["dict_t"][i]))) if has_coco else None,
         None, None),
        ("from_coco",
         lambda src, i: from_coco(p["coco_str"][i]),
         (lambda i: mcr.encode_runs(_coco_paint(p["coco_str"][i], shapes[i])))
         if has_coco else None,
         None, None),
    ]


def _same(x: Any, y: Any) -> bool:
    if isinstance(x, mcr.Runs) or isinstance(y, mcr.Runs):
        return np.array_equal(mcr.decode(x), mcr.decode(y))
    if isinstance(x, np.ndarray) or isinstance(y, np.ndarray):
        return np.allclose(np.asarray(x, dtype=float), np.asarray(y, dtype=float),
                           equal_nan=True, rtol=0, atol=1e-9)
    if isinstance(x, dict) and isinstance(y, dict):
        return list(x) == list(y) and all(_same(x[k], y[k]) for k in x)
    return x == y


# ---------------------------------------------------------------------------


def run(groups: list[Group], quick: bool, markdown: bool) -> None:
    target, min_reps = (0.03, 1) if quick else (0.2, 3)
    header = ["group", "op", "runs/map", "rle µs", "rle (Runs) µs", "decode+numpy µs", "x",
              "pycocotools µs", "x"]
    rows: list[list[str]] = []
    for g in groups:
        prepare(g)
        n = len(g.truth)
        runs_per_map = sum(len(r) for r in g.prep["runs_t"]) / n
        srcs = {"dict": {"t": g.prep["dict_t"], "p": g.prep["dict_p"]},
                "runs": {"t": g.prep["runs_t"], "p": g.prep["runs_p"]}}
        for name, ours, base, coco, ours_check in ops(g):
            flags = []
            for i in range(n):
                got = ours(srcs["dict"], i)
                if not _same(got, ours(srcs["runs"], i)):
                    flags.append("MISMATCH dict/Runs")
                if base is not None and not _same(got, base(i)):
                    flags.append("MISMATCH numpy")
                if coco is not None:
                    mine = ours_check(i) if ours_check else got
                    if name == "iou (per class)":
                        mine = np.nan_to_num(got)
                    if not _same(mine, coco(i)):
                        flags.append("MISMATCH pycocotools")
            t_dict = best_time(lambda: [ours(srcs["dict"], i) for i in range(n)], target,
                               min_reps) / n
            t_runs = best_time(lambda: [ours(srcs["runs"], i) for i in range(n)], target,
                               min_reps) / n
            t_base = best_time(lambda: [base(i) for i in range(n)], target, min_reps) / n \
                if base is not None else None
            t_coco = best_time(lambda: [coco(i) for i in range(n)], target, min_reps) / n \
                if coco is not None else None
            rows.append([
                g.name, name + (" " + ",".join(sorted(set(flags))) if flags else ""),
                f"{runs_per_map:.0f}", f"{t_dict * 1e6:.1f}", f"{t_runs * 1e6:.1f}",
                f"{t_base * 1e6:.1f}" if t_base else "-",
                f"{t_base / t_dict:.1f}x" if t_base else "-",
                f"{t_coco * 1e6:.1f}" if t_coco else "-",
                f"{t_coco / t_dict:.1f}x" if t_coco else "-",
            ])
        print(f"done: {g.name}", flush=True)
    print()
    print(f"multiclass_rle {mcr.__version__}, numpy {np.__version__}, "
          f"pycocotools {'yes' if mask_util is not None else 'not installed'}; "
          f"{platform.python_implementation()} {platform.python_version()} on "
          f"{platform.machine()}; {datetime.date.today()}")
    if markdown:
        print("| " + " | ".join(header) + " |")
        print("|" + "---|" * len(header))
        for r in rows:
            print("| " + " | ".join(r) + " |")
        return
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(header)]
    line = "  ".join(h.ljust(w) if k < 2 else h.rjust(w)
                     for k, (h, w) in enumerate(zip(header, widths)))
    print(line)
    print("-" * len(line))
    last = None
    for r in rows:
        cells = [c if not (k == 0 and c == last) else "" for k, c in enumerate(r)]
        last = r[0]
        print("  ".join(c.ljust(w) if k < 2 else c.rjust(w)
                        for k, (c, w) in enumerate(zip(cells, widths))))


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer maps, short timing loops")
    ap.add_argument("--markdown", action="store_true", help="print a Markdown table")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA, help="the shared data folder")
    args = ap.parse_args(argv)
    if not args.data.is_dir():
        raise SystemExit(f"data folder {args.data} not found (pass --data DIR)")
    run(load_groups(args.data, args.quick), args.quick, args.markdown)


if __name__ == "__main__":
    main()
