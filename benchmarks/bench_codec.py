#!/usr/bin/env python
"""Benchmark multiclass_rle against its peers on real label maps.

Usage::

    python benchmarks/bench_codec.py [--quick] [--markdown] [--data DIR]

For each group of real label maps (see ``GROUPS`` below) every method runs on
the same maps in one process, side by side. Throughput is in GB/s of raw
label-map bytes (``sum(a.nbytes)`` over the group's maps divided by the time of
one pass over the group), best of several repeats. ``vs ours`` is how many
times faster our reference method is than the row (row time / our time):
above 1 ours is faster. Decode rows are compared with our C-order decode of
the compact dict, encode rows with our encode of a C-order map to the compact
dict. See benchmarks/README.md for every column.

Peers (Pillow, opencv-python-headless, pycocotools, rlemasklib,
crackle-codec) are optional: a missing one is reported and its rows skipped.
"""

from __future__ import annotations

import argparse
import datetime
import gc
import io
import json
import os
import platform
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

import multiclass_rle as mcr

sys.path.insert(0, str(Path(__file__).resolve().parent))
import original_numpy  # noqa: E402  (benchmarks/original_numpy.py)

# ---------------------------------------------------------------------------
# optional peers

PEERS: dict[str, str] = {}  # name -> version, or "not installed (reason)"


def _try_import(label: str, modname: str):
    try:
        mod = __import__(modname, fromlist=["_"])
    except Exception as exc:  # ImportError, or a broken binary wheel
        PEERS[label] = f"not installed ({type(exc).__name__})"
        return None
    version = getattr(mod, "__version__", None)
    if version is None:
        try:
            from importlib.metadata import version as _v

            version = _v(label)
        except Exception:
            version = "?"
    PEERS[label] = str(version)
    return mod


mask_util = _try_import("pycocotools", "pycocotools.mask")
if mask_util is not None:
    try:
        from importlib.metadata import version as _v

        PEERS["pycocotools"] = _v("pycocotools")
    except Exception:
        pass
cv2 = _try_import("opencv-python-headless", "cv2")
PIL_Image = _try_import("Pillow", "PIL.Image")
if PIL_Image is not None:
    import PIL

    PEERS["Pillow"] = PIL.__version__
rlemasklib = _try_import("rlemasklib", "rlemasklib")
crackle = _try_import("crackle-codec", "crackle")

# ---------------------------------------------------------------------------
# data

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"


@dataclass
class Group:
    name: str
    maps: list[np.ndarray]  # in their stored memory order
    note: str = ""
    prep: dict[str, Any] = field(default_factory=dict)

    @property
    def ndim(self) -> int:
        return self.maps[0].ndim

    @property
    def dtype(self) -> np.dtype:
        return self.maps[0].dtype

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.maps)


def _load(data: Path, entry: dict) -> np.ndarray:
    path = data / entry["file"]
    if entry["key"] is None:
        return np.load(path)
    with np.load(path) as z:
        return z[entry["key"]]


def _nearest_resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    """Nearest-neighbour upscaling by index repetition (no interpolation)."""
    rows = (np.arange(h) * a.shape[0]) // h
    cols = (np.arange(w) * a.shape[1]) // w
    return np.ascontiguousarray(a[np.ix_(rows, cols)])


def load_groups(data: Path, quick: bool) -> list[Group]:
    index = json.loads((data / "INDEX.json").read_text())

    def entries(pred: Callable[[dict], bool]) -> list[dict]:
        return [e for e in index if pred(e) and (data / e["file"]).exists()]

    groups: list[Group] = []

    # CamVid: frames sampled evenly over the 701 frames of the three stacks.
    cam = sorted(entries(lambda e: e["file"].startswith("camvid/")), key=lambda e: e["file"])
    n_frames = 6 if quick else 20
    frames: list[np.ndarray] = []
    if cam:
        total = sum(e["shape"][0] for e in cam)
        wanted = set(np.linspace(0, total - 1, n_frames).round().astype(int).tolist())
        base = 0
        for e in cam:
            n = e["shape"][0]
            pick = [i - base for i in sorted(wanted) if base <= i < base + n]
            if pick:
                stack = _load(data, e)
                frames.extend(np.ascontiguousarray(stack[i]) for i in pick)
                del stack
            base += n
        groups.append(Group(f"CamVid 360x480 uint8 ({len(frames)} frames)", frames,
                            "semantic classes 0..11"))

    ade = entries(lambda e: e["file"].startswith("ade20k_sceneparsing/")
                  and e["shape"] == [512, 683] and e["dtype"] == "uint8")
    if ade:
        groups.append(Group(f"ADE20K 512x683 uint8 ({len(ade)} maps)",
                            [_load(data, e) for e in ade], "150-class maps"))

    dsb = entries(lambda e: e["file"].startswith("stardist_dsb2018/"))
    if dsb:
        groups.append(Group(f"DSB2018 uint16 instances ({len(dsb)} maps)",
                            [_load(data, e) for e in dsb], "512x512 and 256x256 nuclei ids"))

    coco = entries(lambda e: e["file"].startswith("coco_panoptic_sample/panoptic_examples__"))
    if coco:
        groups.append(Group(f"COCO panoptic uint32 ids ({len(coco)} maps)",
                            [_load(data, e) for e in coco], "segment ids up to 16.7M"))

    if frames:
        big = _nearest_resize(frames[0], 1024, 2048)
        groups.append(Group("CamVid upscaled 1024x2048 uint8", [big],
                            "one CamVid frame, nearest-neighbour upscaled"))

    for prefix, name in [
        ("niivue_volumes_dev/aal_", "AAL atlas 181x217x181 uint8 F"),
        ("niivue_volumes_dev/aparc", "aparc+aseg 256^3 uint16 F"),
        ("digimouse/", "Digimouse 190x496x104 uint8 C"),
    ]:
        vol = entries(lambda e, p=prefix: e["file"].startswith(p))
        if vol:
            groups.append(Group(name, [_load(data, vol[0])], "3D volume"))
    return groups


# ---------------------------------------------------------------------------
# timing


def best_time(fn: Callable[[], Any], target: float, min_reps: int) -> float:
    """Best time of one call: repeat until about ``target`` seconds in total."""
    gc.collect()
    t0 = time.perf_counter()
    fn()  # warm-up (caches, lazy imports, first-touch page faults)
    first = time.perf_counter() - t0
    if first > target:  # a slow method: a couple of calls is enough
        min_reps = min(min_reps, 2)
    times: list[float] = []
    total = 0.0
    gc_was = gc.isenabled()
    gc.disable()
    try:
        while (total < target or len(times) < min_reps) and len(times) < 10_000:
            t = time.perf_counter()
            fn()
            dt = time.perf_counter() - t
            times.append(dt)
            total += dt
    finally:
        if gc_was:
            gc.enable()
    return min(times)


# ---------------------------------------------------------------------------
# per-map preparation (all outside the timed calls)


def labels_of(a: np.ndarray) -> np.ndarray:
    """Sorted labels present in ``a`` (bincount for small unsigned ids)."""
    if a.dtype in (np.uint8, np.uint16):
        return np.flatnonzero(np.bincount(a.ravel(order="K"))).astype(a.dtype)
    return np.unique(a)


def most_frequent(a: np.ndarray):
    vals, counts = np.unique(a, return_counts=True)
    return vals[np.argmax(counts)]


def coco_encode_all(a: np.ndarray) -> list:
    """pycocotools "all classes" encode: build every non-zero label's binary
    mask (one Fortran uint8 stack) and encode the stack."""
    labels = labels_of(a)
    labels = labels[labels != 0]
    aF = np.asfortranarray(a)
    masks = np.empty(a.shape + (len(labels),), dtype=np.uint8, order="F")
    for i, lab in enumerate(labels):
        np.equal(aF, lab, out=masks[..., i].view(bool))
    return mask_util.encode(masks)


def coco_decode_all(rles: list, labels: np.ndarray, shape, dtype) -> np.ndarray:
    """pycocotools "all classes" decode: decode every mask, paint its label
    into a zeroed label map (label 0 is the fill), return it in C order."""
    out = np.zeros(shape, dtype=dtype, order="F")
    if rles:
        masks = mask_util.decode(rles)
        for i, lab in enumerate(labels):
            np.copyto(out, lab, where=masks[..., i].view(bool))
    return np.ascontiguousarray(out)


def rlemask_encode(a: np.ndarray) -> list:
    """rlemasklib label-map encode: ``RLEMask.from_label_map`` (its one-pass
    path, labels 1..255), else one ``RLEMask.from_array(a == label)`` each."""
    RLEMask = rlemasklib.RLEMask
    if a.dtype.kind in "ub" and (a.size == 0 or int(a.max()) <= 255):
        d = RLEMask.from_label_map(a)
        return [d[k] for k in sorted(d)]
    labels = labels_of(a)
    return [RLEMask.from_array(a == lab) for lab in labels[labels != 0]]


def rlemask_decode(masks: list, lut: np.ndarray) -> np.ndarray:
    """rlemasklib label-map decode: ``merge_to_label_map`` gives index+1 per
    pixel (0 = none); a lookup table turns that into labels, in C order."""
    idx = rlemasklib.RLEMask.merge_to_label_map(masks)
    return np.ascontiguousarray(lut[idx])


def png_cv2_encode(a: np.ndarray) -> bytes:
    ok, buf = cv2.imencode(".png", a)
    assert ok
    return buf.tobytes()


def png_cv2_decode(b: bytes) -> np.ndarray:
    return cv2.imdecode(np.frombuffer(b, np.uint8), cv2.IMREAD_UNCHANGED)


def png_pil_encode(a: np.ndarray) -> bytes:
    bio = io.BytesIO()
    PIL_Image.fromarray(a).save(bio, format="PNG")
    return bio.getvalue()


def png_pil_decode(b: bytes) -> np.ndarray:
    return np.asarray(PIL_Image.open(io.BytesIO(b)))


def prepare(g: Group) -> None:
    p = g.prep
    p["C"] = [np.ascontiguousarray(a) for a in g.maps]
    p["F"] = [np.asfortranarray(a) for a in g.maps]
    p["rle"] = [mcr.encode(a) for a in p["C"]]
    p["runs"] = [mcr.encode_runs(a) for a in p["C"]]
    p["bytes"] = [mcr.encode_bytes(a) for a in p["C"]]
    p["tup"] = [mcr.array_to_multi_class_rle(a) for a in p["C"]]
    p["out"] = [np.empty_like(a) for a in p["C"]]
    p["dst"] = [np.empty_like(a) for a in p["C"]]
    is2d = g.ndim == 2
    if mask_util is not None and is2d:
        p["mask1F"] = [np.asfortranarray((a == most_frequent(a)).astype(np.uint8))
                       for a in p["C"]]
        p["coco1"] = [mask_util.encode(m) for m in p["mask1F"]]
        p["labels_nz"] = [lab[lab != 0] for lab in map(labels_of, p["C"])]
        p["coco_all"] = [coco_encode_all(a) for a in p["C"]]
    if g.dtype == np.uint8:
        p["orig_tup"] = [original_numpy.array_to_multi_class_rle(a) for a in p["C"]]
    if is2d and g.dtype in (np.uint8, np.uint16):
        if cv2 is not None:
            p["png_cv2"] = [png_cv2_encode(a) for a in p["C"]]
        if PIL_Image is not None:
            p["png_pil"] = [png_pil_encode(a) for a in p["C"]]
    if rlemasklib is not None and is2d:
        p["rlm"] = [rlemask_encode(a) for a in p["C"]]
        p["rlm_lut"] = []
        for a in p["C"]:
            labs = labels_of(a)
            p["rlm_lut"].append(np.concatenate(([0], labs[labs != 0])).astype(a.dtype))
    if crackle is not None:
        p["crackle"] = [crackle.compress(a) for a in g.maps]


# ---------------------------------------------------------------------------
# methods: (section, name, fn over the whole group, check of one pass's outputs)


@dataclass
class Row:
    section: str  # "decode" or "encode"
    name: str
    call: Callable[[Any], Any]  # one map's work
    items: list  # one input per map of the group
    check: Callable[[list], bool]  # validates the outputs of one pass
    ref: bool = False

    def run_all(self) -> list:
        return [self.call(x) for x in self.items]

    def timed(self) -> None:
        # Each output is dropped right away, as in a loop that consumes maps
        # one by one: the allocator reuses the block, so no method pays
        # first-touch page faults that have nothing to do with its codec.
        call = self.call
        for x in self.items:
            call(x)


def _same(outs: list, refs: list) -> bool:
    return all(np.array_equal(np.asarray(o).reshape(np.shape(r)), r) for o, r in zip(outs, refs))


def build_rows(g: Group) -> list[Row]:
    p = g.prep
    C, F = p["C"], p["F"]
    rows: list[Row] = []

    def dec(name, call, items, ref_arrays=None, **kw):
        refs = C if ref_arrays is None else ref_arrays
        rows.append(Row("decode", name, call, items, lambda outs: _same(outs, refs), **kw))

    def enc(name, call, items, roundtrip, refs=None, **kw):
        refs = C if refs is None else refs
        rows.append(Row("encode", name, call, items,
                        lambda outs: _same([roundtrip(o) for o in outs], refs), **kw))

    # --- decode
    dec("ours decode(dict) -> C", mcr.decode, p["rle"], ref=True)
    dec("ours decode(dict, out=prealloc C)", lambda ro: mcr.decode(ro[0], out=ro[1]),
        list(zip(p["rle"], p["out"])))
    dec("ours decode(dict) -> F", lambda r: mcr.decode(r, order="F"), p["rle"])
    dec("ours decode(Runs) -> C", mcr.decode, p["runs"])
    dec("ours decode_bytes -> C (bytes form)", mcr.decode_bytes, p["bytes"])
    dec("ours legacy multi_class_rle_to_array(tuples)", mcr.multi_class_rle_to_array, p["tup"])
    # a step of the reference, to show where its time goes: string parsing alone
    rows.append(Row("decode", "ours as_runs(dict) only (part of ref)", mcr.as_runs, p["rle"],
                    lambda outs: all(a == b for a, b in zip(outs, p["runs"]))))

    def copy(da):
        np.copyto(da[0], da[1])
        return da[0]

    dec("np.copyto C->C (memory yardstick)", copy, list(zip(p["dst"], C)))
    if "coco1" in p:
        dec("pycocotools decode ONE binary mask", mask_util.decode, p["coco1"],
            ref_arrays=p["mask1F"])
        dec("pycocotools decode all labels -> label map",
            lambda x: coco_decode_all(x[0], x[1], x[2].shape, x[2].dtype),
            list(zip(p["coco_all"], p["labels_nz"], C)))
    if "orig_tup" in p:
        dec("original numpy decode (seed algorithm)", original_numpy.multi_class_rle_to_array,
            p["orig_tup"])
    if "png_cv2" in p:
        dec("PNG cv2.imdecode", png_cv2_decode, p["png_cv2"])
    if "png_pil" in p:
        dec("PNG Pillow open", png_pil_decode, p["png_pil"])
    if "rlm" in p:
        dec("rlemasklib merge_to_label_map + LUT", lambda x: rlemask_decode(*x),
            list(zip(p["rlm"], p["rlm_lut"])))
    if "crackle" in p:
        dec("crackle decompress", crackle.decompress, p["crackle"])

    # --- encode
    enc("ours encode(C array) -> dict", mcr.encode, C, mcr.decode, ref=True)
    enc("ours encode_runs(C array)", mcr.encode_runs, C, mcr.decode)
    enc("ours encode_bytes(C array) (bytes form)", mcr.encode_bytes, C, mcr.decode_bytes)
    enc("ours encode(F array) -> dict", mcr.encode, F, mcr.decode)
    enc("ours legacy array_to_multi_class_rle", mcr.array_to_multi_class_rle, C, mcr.decode)
    # a step of the reference: building the compact strings from ready Runs
    enc("ours Runs.to_dict() only (part of ref)", lambda r: r.to_dict(), p["runs"], mcr.decode)
    if "coco1" in p:
        enc("pycocotools encode ONE prebuilt F mask", mask_util.encode, p["mask1F"],
            mask_util.decode, refs=p["mask1F"])
        rows.append(Row("encode", "pycocotools encode all labels (masks built)",
                        coco_encode_all, C,
                        lambda outs: _same([coco_decode_all(o, lab, a.shape, a.dtype) for o, lab, a
                                            in zip(outs, p["labels_nz"], C)], C)))
    if "orig_tup" in p:
        enc("original numpy encode (seed algorithm)", original_numpy.array_to_multi_class_rle, C,
            original_numpy.multi_class_rle_to_array)
    if "png_cv2" in p:
        enc("PNG cv2.imencode", png_cv2_encode, C, png_cv2_decode)
    if "png_pil" in p:
        enc("PNG Pillow save", png_pil_encode, C, png_pil_decode)
    if "rlm" in p:
        rows.append(Row("encode", "rlemasklib from_label_map (RLEMask objs)", rlemask_encode, C,
                        lambda outs: _same([rlemask_decode(m, lut) for m, lut
                                            in zip(outs, p["rlm_lut"])], C)))
    if "crackle" in p:
        enc("crackle compress", crackle.compress, g.maps, crackle.decompress)
    return rows


# ---------------------------------------------------------------------------
# issue 16's goals for 2D maps: each pair timed interleaved (one pass of each in
# turn, best of N), in one process


def interleaved(fns: list[Callable[[], Any]], reps: int) -> list[float]:
    """Best time of each function, calling them in turn ``reps`` times (after a warm-up)."""
    for f in fns:
        f()
    best = [float("inf")] * len(fns)
    gc_was = gc.isenabled()
    gc.disable()
    try:
        for _ in range(reps):
            for i, f in enumerate(fns):
                t = time.perf_counter()
                f()
                best[i] = min(best[i], time.perf_counter() - t)
    finally:
        if gc_was:
            gc.enable()
    return best


#: (goal, what it compares, the minimum ratio; for "max" goals the maximum)
GOALS16 = [
    ("2a", "decode(dict, order='F') vs rlemasklib merge_to_label_map", 1.0),
    ("2b", "decode(dict) -> C vs merge + np.ascontiguousarray", 5.0),
    ("3", "encode(C array) vs pycocotools encode of ONE prebuilt F mask", 2.0),
    ("4a", "decode(dict, out=) vs cache-hot np.copyto", 0.25),
    ("4b", "fresh decode(dict) / decode(dict, out=), at most", 1.3),
    ("6", "decode_bytes vs crackle decompress", 10.0),
]


def goals16(g: Group, reps: int) -> list[tuple[str, float, float]] | None:
    """(goal, ratio, the same ratio from Runs instead of the dict or nan) for a 2D group;
    ratios are peer time / our time, except 4b (our fresh / our out= time)."""
    if g.ndim != 2:
        return None
    C = [np.ascontiguousarray(a) for a in g.maps]
    rle = [mcr.encode(a) for a in C]
    runs = [mcr.encode_runs(a) for a in C]
    outs = [np.empty_like(a) for a in C]
    dsts = [np.empty_like(a) for a in C]
    data = [mcr.encode_bytes(a) for a in C]

    def each(fn: Callable[[Any], Any], items: list) -> Callable[[], None]:
        def run() -> None:
            for x in items:
                fn(x)
        return run

    res: list[tuple[str, float, float]] = []
    nan = float("nan")
    if rlemasklib is not None:
        masks = [rlemask_encode(a) for a in C]
        merge = rlemasklib.RLEMask.merge_to_label_map
        t = interleaved([each(lambda r: mcr.decode(r, order="F"), rle),
                         each(lambda r: mcr.decode(r, order="F"), runs),
                         each(merge, masks),
                         each(mcr.decode, rle), each(mcr.decode, runs),
                         each(lambda m: np.ascontiguousarray(merge(m)), masks)], reps)
        res.append(("2a", t[2] / t[0], t[2] / t[1]))
        res.append(("2b", t[5] / t[3], t[5] / t[4]))
    if mask_util is not None:
        masks1 = [np.asfortranarray((a == most_frequent(a)).astype(np.uint8)) for a in C]
        t = interleaved([each(mcr.encode, C), each(mcr.encode_runs, C),
                         each(mask_util.encode, masks1)], reps)
        res.append(("3", t[2] / t[0], t[2] / t[1]))
    pairs = list(zip(rle, outs))
    rpairs = list(zip(runs, outs))
    copies = list(zip(dsts, C))
    t = interleaved([each(lambda ro: mcr.decode(ro[0], out=ro[1]), pairs),
                     each(lambda ro: mcr.decode(ro[0], out=ro[1]), rpairs),
                     each(lambda dc: np.copyto(dc[0], dc[1]), copies),
                     each(mcr.decode, rle), each(mcr.decode, runs)], reps)
    res.append(("4a", t[2] / t[0], t[2] / t[1]))
    res.append(("4b", t[3] / t[0], t[4] / t[1]))
    if crackle is not None:
        packed = [crackle.compress(a) for a in C]
        t = interleaved([each(mcr.decode_bytes, data), each(crackle.decompress, packed)], reps)
        res.append(("6", t[1] / t[0], nan))
    return res


# ---------------------------------------------------------------------------
# sizes


def sizes(g: Group) -> dict[str, int | None]:
    p = g.prep
    out: dict[str, int | None] = {"raw": g.nbytes}
    out["ours JSON"] = sum(len(json.dumps(r)) for r in p["rle"])
    out["tuples JSON"] = sum(len(json.dumps(t)) for t in p["tup"])
    out["PNG Pillow"] = sum(map(len, p["png_pil"])) if "png_pil" in p else None
    out["COCO strings"] = (sum(len(r["counts"]) for rl in p["coco_all"] for r in rl)
                           if "coco_all" in p else None)
    out["crackle"] = sum(map(len, p["crackle"])) if "crackle" in p else None
    npz = 0
    for a in g.maps:
        bio = io.BytesIO()
        np.savez_compressed(bio, labels=a)
        npz += len(bio.getvalue())
    out["npz"] = npz
    return out


# ---------------------------------------------------------------------------
# output


def fmt_gbps(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}"
    if x >= 10:
        return f"{x:.1f}"
    if x >= 1:
        return f"{x:.2f}"
    if x >= 0.01:
        return f"{x:.3f}"
    return f"{x:.2g}"


def fmt_ratio(x: float) -> str:
    if x >= 100:
        return f"{x:.0f}x"
    if x >= 10:
        return f"{x:.1f}x"
    return f"{x:.2f}x"


#: The README's summary tables: (column, row of the per-group table).
README_DECODE = [("ours dict", "ours decode(dict) -> C"), ("ours Runs", "ours decode(Runs) -> C"),
                 ("ours bytes", "ours decode_bytes -> C (bytes form)"),
                 ("np.copyto", "np.copyto C->C (memory yardstick)"),
                 ("COCO 1 mask", "pycocotools decode ONE binary mask"),
                 ("COCO all labels", "pycocotools decode all labels -> label map"),
                 ("seed numpy", "original numpy decode (seed algorithm)"),
                 ("PNG Pillow", "PNG Pillow open"), ("PNG cv2", "PNG cv2.imdecode"),
                 ("rlemasklib", "rlemasklib merge_to_label_map + LUT"),
                 ("crackle", "crackle decompress")]
README_ENCODE = [("ours dict", "ours encode(C array) -> dict"),
                 ("ours Runs", "ours encode_runs(C array)"),
                 ("ours bytes", "ours encode_bytes(C array) (bytes form)"),
                 ("COCO 1 F mask", "pycocotools encode ONE prebuilt F mask"),
                 ("COCO all labels", "pycocotools encode all labels (masks built)"),
                 ("seed numpy", "original numpy encode (seed algorithm)"),
                 ("PNG cv2", "PNG cv2.imencode"),
                 ("rlemasklib", "rlemasklib from_label_map (RLEMask objs)"),
                 ("crackle", "crackle compress")]


def fmt_bytes(n: int | None) -> str:
    if n is None:
        return "-"
    if n >= 10_000_000:
        return f"{n / 1e6:.1f} MB"
    if n >= 10_000:
        return f"{n / 1e3:.1f} kB"
    return f"{n} B"


def emit_table(title: str, headers: list[str], rows: list[list[str]], markdown: bool,
               align: str | None = None) -> None:
    align = align or ("l" + "r" * (len(headers) - 1))
    if markdown:
        print(f"#### {title}\n")
        print("| " + " | ".join(headers) + " |")
        print("|" + "|".join("---:" if a == "r" else ":---" for a in align) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
        print()
        return
    widths = [max(len(h), *(len(r[i]) for r in rows)) if rows else len(h)
              for i, h in enumerate(headers)]

    def line(cells):
        return "  ".join(c.ljust(w) if a == "l" else c.rjust(w)
                         for c, w, a in zip(cells, widths, align))

    print(f"== {title}")
    print(line(headers))
    print(line(["-" * w for w in widths]))
    for r in rows:
        print(line(r))
    print()


def _git_state() -> str:
    """Commit of the checkout holding this script, '+dirty' with local changes (read-only)."""
    import subprocess

    root = Path(__file__).resolve().parent.parent
    try:
        head = subprocess.run(["git", "-C", str(root), "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(root), "status", "--porcelain",
                                "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""
    return f" (git {head}{'+dirty' if dirty else ''})" if head else ""


def machine_info() -> str:
    cpu = platform.processor() or "?"
    try:
        for ln in Path("/proc/cpuinfo").read_text().splitlines():
            if ln.startswith("model name"):
                cpu = ln.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:
        usable = os.cpu_count()
    peers = ", ".join(f"{k} {v}" for k, v in PEERS.items())
    return (f"CPU: {cpu}, {os.cpu_count()} cores ({usable} usable); "
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"multiclass_rle {mcr.__version__}{_git_state()}; peers: {peers}")


# ---------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="fewer CamVid frames and shorter timing loops (a smoke run)")
    ap.add_argument("--markdown", action="store_true", help="print Markdown tables")
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA,
                    help=f"folder with INDEX.json (default: {DEFAULT_DATA})")
    args = ap.parse_args(argv)

    if not (args.data / "INDEX.json").exists():
        print(f"no label-map data at {args.data} (INDEX.json missing); pass --data DIR",
              file=sys.stderr)
        return 2
    target, min_reps = (0.03, 1) if args.quick else (0.15, 3)
    md = args.markdown
    started = time.perf_counter()

    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    if md:
        print(f"### multiclass_rle benchmark, {now}{' (--quick)' if args.quick else ''}\n")
        print(f"{machine_info()}\n")
        print("GB/s = raw label-map bytes / time of one pass over the group (best of repeats). "
              "`vs ours` = row time / our reference time (decode rows: our C-order decode of the "
              "compact dict; encode rows: our encode of the C-order map to the compact dict); "
              "above 1x ours is faster.\n")
    else:
        print(f"multiclass_rle benchmark, {now}{' (--quick)' if args.quick else ''}")
        print(machine_info())
        print()

    groups = load_groups(args.data, args.quick)
    results: dict[str, dict[str, float]] = {}
    all_sizes: list[tuple[str, dict]] = []
    for g in groups:
        prepare(g)
        rows = build_rows(g)
        times: dict[str, float] = {}
        bad: set[str] = set()
        for r in rows:
            outs = r.run_all()
            if not r.check(outs):
                bad.add(r.name)
            del outs
            times[r.name] = best_time(r.timed, target, min_reps)
        results[g.name] = {r.name: times[r.name] for r in rows}
        ref = {sec: next(times[r.name] for r in rows if r.section == sec and r.ref)
               for sec in ("decode", "encode")}
        n = len(g.maps)
        table = []
        for r in rows:
            t = times[r.name]
            name = r.name + (" [MISMATCH]" if r.name in bad else "")
            table.append([r.section, name, fmt_gbps(g.nbytes / t / 1e9), f"{t / n * 1e3:.3f}",
                          "ref" if r.ref else fmt_ratio(t / ref[r.section])])
        shape = "x".join(map(str, g.maps[0].shape))
        emit_table(f"{g.name}: {n} map(s), {shape} {g.dtype}, {g.nbytes / 1e6:.2f} MB raw, "
                   f"{sum(len(x) for x in g.prep['runs'])} runs",
                   ["op", "method", "GB/s", "ms/map", "vs ours"], table, md, align="llrrr")
        all_sizes.append((g.name, sizes(g)))
        g.prep.clear()

    # the README's two summary tables: GB/s of each group for the main rows
    for title, cols in (("Decode, GB/s of label-map bytes (README)", README_DECODE),
                        ("Encode, GB/s (README)", README_ENCODE)):
        emit_table(title, ["map group", *(c for c, _ in cols)],
                   [[g.name, *(fmt_gbps(g.nbytes / results[g.name][row] / 1e9)
                               if row in results[g.name] else "-" for _, row in cols)]
                    for g in groups], md)

    # sizes
    keys = ["raw", "ours JSON", "tuples JSON", "PNG Pillow", "COCO strings", "crackle", "npz"]
    emit_table("Encoded sizes per group (summed over its maps)", ["group", *keys],
               [[name, *(fmt_bytes(s[k]) for k in keys)] for name, s in all_sizes], md)

    # goals
    goal_rows = []
    n_fail = 0
    for g in groups:
        res = results[g.name]
        if g.ndim != 2 or "pycocotools decode ONE binary mask" not in res:
            continue
        counted = g.dtype == np.uint8
        a = res["pycocotools decode ONE binary mask"] / res["ours decode(dict) -> C"]
        b = res["np.copyto C->C (memory yardstick)"] / res["ours decode(dict) -> C"]
        c = res["pycocotools encode ONE prebuilt F mask"] / res["ours encode(C array) -> dict"]
        cells = []
        for val, goal in ((a, 2.0), (b, 0.25), (c, 2.0)):
            ok = val >= goal
            if counted and not ok:
                n_fail += 1
            verdict = ("pass" if ok else "FAIL") if counted else ("(info)" if ok else "(info, below)")
            cells.append(f"{fmt_ratio(val)} {verdict}")
        goal_rows.append([g.name, *cells])
    emit_table("Goals for 2D uint8 maps (other 2D groups shown for information)",
               ["group", "(a) decode C vs COCO 1 mask, >=2x", "(b) decode C vs copyto, >=0.25",
                "(c) encode C vs COCO 1 F mask, >=2x"], goal_rows, md, align="lrrr")
    # issue 16's goals: every 2D group, interleaved pairs
    reps16 = 5 if args.quick else 30
    rows16 = []
    n_fail16 = 0
    for g in groups:
        got = goals16(g, reps16)
        if got is None:
            continue
        by = {k: (v, w) for k, v, w in got}
        cells = []
        for key, _, goal in GOALS16:
            if key not in by:
                cells.append("n/a")
                continue
            v, w = by[key]
            ok = v <= goal if key == "4b" else v >= goal
            n_fail16 += not ok
            runs_note = "" if np.isnan(w) else f" (Runs {fmt_ratio(w)})"
            cells.append(f"{fmt_ratio(v)} {'pass' if ok else 'FAIL'}{runs_note}")
        rows16.append([g.name, *cells])
    emit_table("Issue 16 goals for 2D maps (peer time / ours, interleaved, best of "
               f"{reps16}; in brackets the same from Runs instead of the dict)",
               ["group", *(f"({k}) {what}, {'<=' if k == '4b' else '>='}{goal:g}x"
                           for k, what, goal in GOALS16)], rows16, md, align="l" + "r" * 6)
    print(f"Issue 16 goals (2D): {'all pass' if not n_fail16 else f'{n_fail16} FAIL'}."
          + ("\n" if md else ""))
    elapsed = time.perf_counter() - started
    if not any(g.ndim == 2 and g.dtype == np.uint8 for g in groups if g.name in
               {r[0] for r in goal_rows}):
        verdict = "not evaluated (needs pycocotools and a 2D uint8 group)"
    else:
        verdict = "all pass" if n_fail == 0 else f"{n_fail} FAIL"
    summary = f"Goals: {verdict}; run took {elapsed:.0f} s."
    print(summary + ("\n" if md else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
