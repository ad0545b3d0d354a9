"""COCO interop (multiclass_rle._ops.coco), checked against pycocotools and numpy."""

from __future__ import annotations

import doctest
import functools
import json
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import multiclass_rle as mcr
from multiclass_rle._ops import coco as _coco
from multiclass_rle._ops.coco import coco_annotations_to_label_maps, from_coco, to_coco
from multiclass_rle._ops import area, bbox

mask_utils = pytest.importorskip("pycocotools.mask")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]
# example counts come from the hypothesis profile in conftest.py (HYPOTHESIS_PROFILE)
HYP = settings(deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def coco_encode(mask: np.ndarray) -> dict:
    return mask_utils.encode(np.asfortranarray(mask.astype(np.uint8)))


def check_to_coco(a: np.ndarray, rle) -> None:
    got = to_coco(rle)
    uniq = np.unique(a).tolist()
    assert list(got) == [int(x) for x in uniq]
    for lab, c in got.items():
        ref = coco_encode(a == lab)
        assert c["size"] == ref["size"] == list(a.shape)
        assert isinstance(c["counts"], str)
        assert c["counts"] == ref["counts"].decode(), lab
        assert area(c)[1] == int(mask_utils.area(ref))
        assert bbox(c, format="coco")[1] == mask_utils.toBbox(ref).tolist()


@st.composite
def maps_2d(draw, dtypes=tuple(DTYPES), min_side=0, max_side=8):
    dt = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=2, max_dims=2, min_side=min_side, max_side=max_side))
    lo, hi = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    pool = draw(st.lists(st.sampled_from([lo, hi, 0, 1]) | st.integers(lo, hi),
                         min_size=1, max_size=4, unique=True))
    index = draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, len(pool) - 1)))
    return np.array(pool, dtype=dt)[index]


# ---------------------------------------------------------------------------
# real maps


def _load(rel):
    path = DATA / rel
    if not path.exists():
        pytest.skip(f"real map not found: {path}")
    if path.suffix == ".npy":
        return np.load(path)
    with np.load(path) as z:
        return z["labels"]


REAL_2D = {
    "camvid_test_0": lambda: _load("camvid/camvid_testannot_233x360x480_uint8.npz")[0],
    "camvid_val_50": lambda: _load("camvid/camvid_valannot_101x360x480_uint8.npz")[50],
    "ade_val_2": lambda: _load("ade20k_sceneparsing/ADE_val_00000002_uint8.npy"),
    "ade_fullclass_u16": lambda: _load(
        "ade20k_sceneparsing/ADE_train_00000970_fullclass_uint16.npy"),
    "panoptic_u32": lambda: _load(
        "coco_panoptic_sample/panoptic_examples__000000439180_uint32.npy"),
    "stardist_u16": lambda: _load("stardist_dsb2018/tests__data__mask2d_uint16.npy"),
}


@functools.lru_cache(maxsize=None)
def real(name):
    if not DATA.is_dir():
        pytest.skip(f"real maps not found at {DATA}")
    return REAL_2D[name]()


# ---------------------------------------------------------------------------
# to_coco


@pytest.mark.parametrize("name", list(REAL_2D))
def test_to_coco_real_matches_pycocotools(name):
    a = real(name)
    check_to_coco(a, mcr.encode(a))


@HYP
@given(maps_2d())
def test_to_coco_property(a):
    check_to_coco(a, mcr.encode_runs(a))
    # non-canonical input (neighbouring runs of equal value) gives the same strings
    runs = mcr.encode_runs(a)
    if len(runs) and runs.counts[0] >= 2:
        split = mcr.Runs(runs.shape, np.insert(runs.values, 0, runs.values[0]),
                         np.insert(runs.counts, 0, np.uint64(1)))
        split.counts[1] -= 1
        assert to_coco(split) == to_coco(runs)


def test_to_coco_small_cases():
    a = np.array([[1, 1], [1, 1]], np.uint8)  # first pixel is the label: leading 0-run
    assert to_coco(mcr.encode(a))[1]["counts"] == coco_encode(a == 1)["counts"].decode()
    b = np.array([[0, 2], [0, 2]], np.uint8)  # ends with the label: no trailing 0-run
    got = to_coco(mcr.encode(b), labels=[2, 0, 9])
    assert list(got) == [2, 0, 9]
    for lab in (2, 0, 9):  # 9 is absent: an empty mask, as pycocotools encodes it
        assert got[lab]["counts"] == coco_encode(b == lab)["counts"].decode()
    assert to_coco(mcr.encode(np.zeros((0, 3), np.uint8))) == {}
    with pytest.raises(mcr.RLEValueError, match=r"2D.*\[2, 2, 2\]"):
        to_coco(mcr.encode(np.zeros((2, 2, 2), np.uint8)))
    with pytest.raises(mcr.RLEValueError, match="more than once"):
        to_coco(mcr.encode(b), labels=[0, 0])


# ---------------------------------------------------------------------------
# from_coco


def paint(shape, pairs, overlap="last", background=0, dtype=np.int64):
    out = np.full(shape, background, dtype=dtype)
    done = np.zeros(shape, bool)
    for lab, m in pairs:
        m = m.astype(bool)
        if overlap == "first":
            out[m & ~done] = lab
        else:
            out[m] = lab
        done |= m
    return out


@pytest.mark.parametrize("name", list(REAL_2D))
def test_from_coco_round_trip_real(name):
    a = real(name)
    coco = to_coco(mcr.encode(a))
    back = from_coco(coco)
    assert np.array_equal(mcr.decode(back), a)
    assert back == mcr.encode_runs(a.astype(back.dtype))  # canonical runs
    # pycocotools' own RLEs (bytes counts) and uncompressed lists work the same
    mixed = {}
    for i, lab in enumerate(np.unique(a).tolist()):
        ref = coco_encode(a == lab)
        if i % 2:
            ref = _uncompressed(a == lab)
        mixed[lab] = ref
    assert np.array_equal(mcr.decode(from_coco(mixed)), a)


def _uncompressed(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a binary mask (counts list, starting with 0s)."""
    flat = mask.ravel(order="F").astype(np.int8)
    edges = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate(([0], edges, [flat.size]))
    counts = np.diff(bounds).tolist()
    if flat.size and flat[0] == 1:
        counts = [0] + counts
    return {"size": list(mask.shape), "counts": counts}


def test_uncompressed_helper_matches_pycocotools():
    m = np.array([[1, 0, 1], [1, 1, 0]], np.uint8)
    r = _uncompressed(m)
    assert mask_utils.frPyObjects(r, *m.shape)["counts"] == coco_encode(m)["counts"]


@HYP
@given(st.data())
def test_from_coco_property(data):
    h, w = data.draw(st.integers(0, 7)), data.draw(st.integers(0, 7))
    n = data.draw(st.integers(1, 5))
    pairs, rles = [], []
    for _ in range(n):
        lab = data.draw(st.integers(-3, 70000))
        m = data.draw(hnp.arrays(np.bool_, (h, w)))
        kind = data.draw(st.sampled_from(["bytes", "str", "list"]))
        if kind == "list":
            rle = _uncompressed(m)
        else:
            rle = coco_encode(m)
            if kind == "str":
                rle = {"size": rle["size"], "counts": rle["counts"].decode()}
        pairs.append((lab, m))
        rles.append((lab, rle))
    background = data.draw(st.integers(-1, 3))
    for overlap in ("last", "first"):
        got = from_coco(rles, overlap=overlap, background=background)
        expected = paint((h, w), pairs, overlap, background)
        assert mcr.decode(got, dtype=np.int64).tolist() == expected.tolist()
        assert not np.any(got.values[1:] == got.values[:-1])
    clash = False
    for i, (li, mi) in enumerate(pairs):
        for lj, mj in pairs[i + 1:]:
            clash |= li != lj and bool((mi & mj).any())
    if clash:
        with pytest.raises(mcr.RLEValueError, match="overlap with different labels"):
            from_coco(rles, overlap="error", background=background)
    else:
        got = from_coco(rles, overlap="error", background=background)
        assert mcr.decode(got, dtype=np.int64).tolist() == \
            paint((h, w), pairs, background=background).tolist()


def test_from_coco_rules_and_errors():
    one = {"size": [1, 4], "counts": [0, 3, 1]}   # 1 1 1 0
    two = {"size": [1, 4], "counts": [2, 2]}      # 0 0 1 1
    assert mcr.decode(from_coco({1: one, 2: two})).tolist() == [[1, 1, 2, 2]]
    assert mcr.decode(from_coco({1: one, 2: two}, overlap="first")).tolist() == [[1, 1, 1, 2]]
    assert mcr.decode(from_coco([(5, one), (5, two)], overlap="error")).tolist() == [[5] * 4]
    with pytest.raises(mcr.RLEValueError,
                       match=r"on 1 pixels; the first, at index \(0, 2\), is covered by "
                             r"label 1, label 2"):
        from_coco({1: one, 2: two}, overlap="error")
    got = from_coco({1: one}, background=255, dtype=np.uint16)
    assert got.dtype == np.uint16 and mcr.decode(got).tolist() == [[1, 1, 1, 255]]
    assert from_coco({300: one}).dtype == np.uint16
    assert from_coco({-1: one}).dtype == np.int8
    with pytest.raises(mcr.RLEValueError, match=r"label 2 has size \[2, 2\].*label 1 has size "
                                                r"\[1, 4\]"):
        from_coco({1: one, 2: {"size": [2, 2], "counts": [4]}})
    with pytest.raises(mcr.RLEValueError, match="empty"):
        from_coco({})
    with pytest.raises(mcr.RLEValueError, match=r"not a binary mask.*0\.\.3"):
        from_coco({1: mcr.encode(np.array([[0, 3]], np.uint8))})
    with pytest.raises(mcr.RLEValueError, match="overlap must be"):
        from_coco({1: one}, overlap="max")
    with pytest.raises(mcr.MalformedRLEError, match=r"mask of label 1: counts sum to 3"):
        from_coco({1: {"size": [1, 4], "counts": [1, 2]}})
    with pytest.raises(mcr.RLEValueError, match="does not fit dtype uint8"):
        from_coco({300: one}, dtype=np.uint8)
    with pytest.raises(mcr.RLETypeError, match="pairs"):
        from_coco([one])
    with pytest.raises(mcr.RLETypeError, match="single RLE"):
        from_coco(one)
    with pytest.raises(mcr.RLETypeError, match="integer"):
        from_coco({"cat": one})


# ---------------------------------------------------------------------------
# COCO annotation files


def ann_to_rle(ann, h, w):
    """pycocotools.coco.COCO.annToRLE, as in pycocotools."""
    segm = ann["segmentation"]
    if isinstance(segm, list):
        return mask_utils.merge(mask_utils.frPyObjects(segm, h, w))
    if isinstance(segm["counts"], list):
        return mask_utils.frPyObjects(segm, h, w)
    return segm


def coco_decode(rle):
    """pycocotools.mask.decode, quiet about its numpy 2 __array__ deprecation."""
    with warnings.catch_warnings():
        warnings.filterwarnings("ignore", "__array__ implementation", DeprecationWarning)
        return mask_utils.decode(rle)


def reference_maps(coco, kind):
    out = {}
    for img in coco["images"]:
        h, w = img["height"], img["width"]
        anns = [a for a in coco["annotations"] if a["image_id"] == img["id"]]
        pairs = [((a["category_id"] if kind == "semantic" else k),
                  coco_decode(ann_to_rle(a, h, w)))
                 for k, a in enumerate(anns, start=1) if a.get("segmentation")]
        out[img["id"]] = paint((h, w), pairs)
    return out


def synthetic_coco():
    rng = np.random.default_rng(3)
    images = [{"id": 11, "height": 40, "width": 50}, {"id": "b", "height": 23, "width": 31},
              {"id": 12, "height": 9, "width": 9}]  # the last has no annotations
    anns = []
    for img in images[:2]:
        h, w = img["height"], img["width"]
        for k in range(6):
            cat = int(rng.integers(1, 91))
            if k % 3 == 0:   # polygons (two parts)
                segm = [rng.uniform(0, [w, h] * 4).round(1).tolist() for _ in range(2)]
            elif k % 3 == 1:  # compressed RLE (str counts)
                m = np.zeros((h, w), np.uint8)
                y, x = rng.integers(0, h - 5), rng.integers(0, w - 5)
                m[y:y + int(rng.integers(3, 15)), x:x + int(rng.integers(3, 15))] = 1
                r = coco_encode(m)
                segm = {"size": r["size"], "counts": r["counts"].decode()}
            else:            # uncompressed RLE (iscrowd style)
                segm = _uncompressed(rng.random((h, w)) < 0.2)
            anns.append({"id": len(anns) + 100, "image_id": img["id"], "category_id": cat,
                         "iscrowd": int(k % 3 == 2), "segmentation": segm})
    anns.append({"id": 999, "image_id": 11, "category_id": 5, "bbox": [0, 0, 1, 1]})  # none
    return {"images": images, "annotations": anns, "categories": []}


def test_annotations_to_label_maps_synthetic(tmp_path):
    coco = synthetic_coco()
    for kind in ("semantic", "instance"):
        got = coco_annotations_to_label_maps(coco, kind=kind)
        ref = reference_maps(coco, kind)
        assert list(got) == [11, "b", 12]
        for image_id, runs in got.items():
            assert runs.dtype == np.uint8
            assert np.array_equal(mcr.decode(runs, dtype=np.int64), ref[image_id])
    path = tmp_path / "instances.json"
    path.write_text(json.dumps(coco))
    both = coco_annotations_to_label_maps(path, kind="both")
    again = coco_annotations_to_label_maps(str(path), kind="semantic")
    for image_id in both:
        assert both[image_id]["semantic"] == again[image_id]
        assert both[image_id]["instance"] == coco_annotations_to_label_maps(
            coco, kind="instance")[image_id]
    assert not mcr.decode(both[12]["semantic"]).any()


def test_annotations_to_label_maps_overlap_and_dtype():
    img = {"id": 1, "height": 1, "width": 4}
    anns = [{"id": i, "image_id": 1, "category_id": c,
             "segmentation": {"size": [1, 4], "counts": counts}}
            for i, (c, counts) in enumerate([(3, [0, 3, 1]), (4, [2, 2])])]
    coco = {"images": [img], "annotations": anns}
    assert mcr.decode(coco_annotations_to_label_maps(coco)[1]).tolist() == [[3, 3, 4, 4]]
    first = coco_annotations_to_label_maps(coco, overlap="first")[1]
    assert mcr.decode(first).tolist() == [[3, 3, 3, 4]]
    with pytest.raises(mcr.RLEValueError, match=r"annotation 0 \(image 1\), annotation 1"):
        coco_annotations_to_label_maps(coco, overlap="error")
    many = {"images": [img], "annotations": [
        {"id": i, "image_id": 1, "category_id": 1,
         "segmentation": {"size": [1, 4], "counts": [i % 4, 1, 3 - i % 4]}}
        for i in range(300)]}
    inst = coco_annotations_to_label_maps(many, kind="instance")[1]
    assert inst.dtype == np.uint16 and mcr.decode(inst).tolist() == [[297, 298, 299, 300]]


def test_annotations_to_label_maps_errors(monkeypatch):
    coco = synthetic_coco()
    bad = json.loads(json.dumps(coco))
    bad["annotations"][1]["image_id"] = 77
    with pytest.raises(mcr.MalformedRLEError, match="image_id 77"):
        coco_annotations_to_label_maps(bad)
    bad = json.loads(json.dumps(coco))
    bad["annotations"][1]["segmentation"]["size"] = [10, 10]
    with pytest.raises(mcr.RLEValueError, match=r"annotation 101 \(image 11\).*\[10, 10\]"):
        coco_annotations_to_label_maps(bad)
    bad["annotations"][1]["segmentation"] = {"size": [10, 10], "counts": [100]}
    with pytest.raises(mcr.RLEValueError, match=r"size \[10, 10\].*\[40, 50\]"):
        coco_annotations_to_label_maps(bad)
    with pytest.raises(mcr.RLEValueError, match="kind"):
        coco_annotations_to_label_maps(coco, kind="panoptic")
    with pytest.raises(mcr.MalformedRLEError, match="'annotations'"):
        coco_annotations_to_label_maps({"images": []})
    # polygons without pycocotools: a clear ImportError naming the extra
    monkeypatch.setitem(sys.modules, "pycocotools", None)
    monkeypatch.setitem(sys.modules, "pycocotools.mask", None)
    with pytest.raises(ImportError, match=r"multiclass-rle\[coco\]"):
        coco_annotations_to_label_maps(coco)
    # RLE-only files need numpy alone
    rle_only = dict(coco, annotations=[a for a in coco["annotations"]
                                       if not isinstance(a.get("segmentation"), list)])
    assert len(coco_annotations_to_label_maps(rle_only)) == 3


def test_annotations_from_panoptic_sample():
    """A real instances file: every segment of the two COCO panoptic examples as an RLE."""
    root = DATA / "coco_panoptic_sample"
    if not root.is_dir():
        pytest.skip("real maps absent")
    meta = json.loads((root / "orig" / "sample_data" / "panoptic_examples.json").read_text())
    images, anns, maps = [], [], {}
    for img, pan in zip(meta["images"], meta["annotations"]):
        ids = np.load(root / f"panoptic_examples__{img['id']:012d}_uint32.npy")
        maps[img["id"]] = ids
        images.append({"id": img["id"], "height": ids.shape[0], "width": ids.shape[1]})
        for k, seg in enumerate(pan["segments_info"]):
            r = coco_encode(ids == seg["id"])
            segm = r if k % 2 else _uncompressed(ids == seg["id"])
            if k % 4 == 1:
                segm = {"size": r["size"], "counts": r["counts"].decode()}
            anns.append({"id": seg["id"], "image_id": img["id"],
                         "category_id": seg["category_id"], "segmentation": segm})
    coco = {"images": images, "annotations": anns}
    both = coco_annotations_to_label_maps(coco, kind="both", overlap="error")
    for img, pan in zip(meta["images"], meta["annotations"]):
        ids = maps[img["id"]]
        segs = pan["segments_info"]
        sem_lut = {s["id"]: s["category_id"] for s in segs}
        inst_lut = {s["id"]: k for k, s in enumerate(segs, start=1)}
        uniq, inv = np.unique(ids, return_inverse=True)
        sem = np.array([sem_lut.get(int(u), 0) for u in uniq])[inv].reshape(ids.shape)
        inst = np.array([inst_lut.get(int(u), 0) for u in uniq])[inv].reshape(ids.shape)
        assert np.array_equal(mcr.decode(both[img["id"]]["semantic"]), sem)
        assert np.array_equal(mcr.decode(both[img["id"]]["instance"]), inst)
        # and back: per-class COCO RLEs of the semantic map equal pycocotools' encode
        check_to_coco(sem, both[img["id"]]["semantic"])


def test_docstring_examples():
    result = doctest.testmod(_coco, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 8 and result.failed == 0
