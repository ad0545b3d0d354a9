"""Operations on runs (multiclass_rle._ops), each checked against numpy on the decoded map."""

from __future__ import annotations

import doctest
import functools
import json
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp

import multiclass_rle as mcr
from multiclass_rle._ops import (
    area,
    bbox,
    binary_mask,
    confusion_matrix,
    decode_window,
    iou,
    labels,
    miou,
    remap,
)

try:  # the reference for COCO boxes, areas and IoU; the other tests need numpy alone
    from pycocotools import mask as mask_utils
except ImportError:
    mask_utils = None
needs_coco = pytest.mark.skipif(mask_utils is None, reason="pycocotools is not installed")

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
DTYPES = ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"]
# example counts come from the hypothesis profile in conftest.py (HYPOTHESIS_PROFILE)
HYP = settings(deadline=None,
               suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


# ---------------------------------------------------------------------------
# references computed on decoded arrays


def eq(a: np.ndarray, label: int) -> np.ndarray:
    """a == label, also for labels outside a's dtype (then all False)."""
    info = (0, 1) if a.dtype.kind == "b" else (int(np.iinfo(a.dtype).min),
                                                 int(np.iinfo(a.dtype).max))
    if not info[0] <= label <= info[1]:
        return np.zeros(a.shape, dtype=bool)
    return a == np.asarray(label).astype(a.dtype)


def ref_area(a):
    u, c = np.unique(a, return_counts=True)
    return {int(x): int(y) for x, y in zip(u.tolist(), c.tolist())}


def ref_bbox(a):
    out = {}
    for lab in np.unique(a).tolist():
        where = np.nonzero(a == lab)
        out[int(lab)] = tuple((int(w.min()), int(w.max()) + 1) for w in where)
    return out


def ref_index(a, label_list):
    """Per pixel, position of its label in label_list, or -1."""
    uniq, inv = np.unique(a, return_inverse=True)
    pos = {lab: i for i, lab in enumerate(label_list)}
    table = np.array([pos.get(int(u), -1) for u in uniq.tolist()] + [-1], dtype=np.int64)
    return table[inv.reshape(-1)] if a.size else np.zeros(0, np.int64)


def ref_confusion(t, p, label_list):
    n = len(label_list)
    ti, pi = ref_index(t.ravel(), label_list), ref_index(p.ravel(), label_list)
    ok = (ti >= 0) & (pi >= 0)
    return np.bincount(ti[ok] * n + pi[ok], minlength=n * n).reshape(n, n).astype(np.int64)


def ref_iou(t, p, label_list, ignore=None):
    valid = np.ones(t.shape, bool) if ignore is None else ~eq(t, ignore)
    out = []
    for lab in label_list:
        mt, mp = eq(t, lab) & valid, eq(p, lab) & valid
        union = np.count_nonzero(mt | mp)
        out.append(np.count_nonzero(mt & mp) / union if union else np.nan)
    return np.array(out, dtype=np.float64)


def union_labels(t, p):
    return sorted({int(x) for x in np.unique(t).tolist()}
                  | {int(x) for x in np.unique(p).tolist()})


# ---------------------------------------------------------------------------
# the RLE forms every function must take


def split_runs(runs: mcr.Runs, cut: int) -> mcr.Runs:
    """The same map with run `cut` split in two (neighbours of equal value)."""
    if not len(runs) or runs.counts[cut % len(runs)] < 2:
        return runs
    k = cut % len(runs)
    c = int(runs.counts[k])
    values = np.insert(runs.values, k, runs.values[k])
    counts = np.insert(runs.counts, k, np.uint64(c // 2))
    counts[k + 1] = c - c // 2
    return mcr.Runs(runs.shape, values, counts)


def forms(a: np.ndarray):
    """The map as Runs, compact dict, JSON round trip, original dict, split runs."""
    runs = mcr.encode_runs(a)
    values = runs.values.astype(np.uint8) if a.dtype == bool else runs.values
    yield "runs", runs
    yield "compact", mcr.encode(a)
    yield "json", json.loads(json.dumps(mcr.encode(a)))
    yield "original", {"size": list(a.shape), "values": values.tolist(),
                       "counts": runs.counts.tolist(), "dtype": a.dtype.name}
    yield "split", split_runs(runs, 3)


FORM_NAMES = ["runs", "compact", "json", "original", "split"]


def as_form(a, name):
    return dict(forms(a))[name]


@st.composite
def label_maps(draw, min_dims=1, max_dims=3, dtypes=tuple(DTYPES), max_side=7, min_side=0):
    dt = np.dtype(draw(st.sampled_from(dtypes)))
    shape = draw(hnp.array_shapes(min_dims=min_dims, max_dims=max_dims, min_side=min_side,
                                  max_side=max_side))
    lo, hi = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    special = st.sampled_from(sorted({lo, hi, 0, 1 if hi >= 1 else 0, min(hi, 255)}))
    pool = draw(st.lists(special | st.integers(lo, hi), min_size=1, max_size=4, unique=True))
    index = draw(hnp.arrays(np.uint8, shape, elements=st.integers(0, len(pool) - 1)))
    a = np.array(pool, dtype=dt)[index]
    order = draw(st.sampled_from(["C", "F"]))
    return np.asarray(a, order=order)


# ---------------------------------------------------------------------------
# real maps from ../shared/data


def _load(rel, key=None):
    path = DATA / rel
    if path.suffix == ".npy":
        return np.load(path)
    with np.load(path) as z:
        return z[key or "labels"]


REAL = {
    "camvid_test_0": lambda: _load("camvid/camvid_testannot_233x360x480_uint8.npz")[0],
    "camvid_test_150": lambda: _load("camvid/camvid_testannot_233x360x480_uint8.npz")[150],
    "ade_val_1": lambda: _load("ade20k_sceneparsing/ADE_val_00000001_uint8.npy"),
    "ade_fullclass_u16": lambda: _load(
        "ade20k_sceneparsing/ADE_train_00000970_fullclass_uint16.npy"),
    "panoptic_u32": lambda: _load(
        "coco_panoptic_sample/panoptic_examples__000000142238_uint32.npy"),
    "stardist_u16": lambda: _load("stardist_dsb2018/stardist__data__images__mask2d_uint16.npy"),
    "labelme_int32": lambda: _load(
        "labelme/labelme_npy_labels_int32.npz",
        "instance_segmentation__data_dataset_voc__SegmentationClassNpy__2011_000006.npy"),
    "lesion_3d_F": lambda: _load("niivue_volumes_dev/lesion_124x160x140_uint8_F.npz"),
    "digimouse_3d": lambda: _load("digimouse/digimouse_190x496x104_uint8.npz"),
}
REAL_2D = [k for k in REAL if "3d" not in k]


@functools.lru_cache(maxsize=None)
def real(name: str) -> np.ndarray:
    if not DATA.is_dir():
        pytest.skip(f"real maps not found at {DATA}")
    try:
        return REAL[name]()
    except FileNotFoundError as exc:
        pytest.skip(f"real map missing: {exc}")


@functools.lru_cache(maxsize=None)
def camvid_big() -> np.ndarray:
    """A CamVid frame upscaled 3x and tiled to 1024x2048 (Cityscapes size)."""
    a = real("camvid_test_0")
    big = np.repeat(np.repeat(a, 3, axis=0), 3, axis=1)[:1024, :1024]
    return np.ascontiguousarray(np.tile(big, (1, 2)))


# ---------------------------------------------------------------------------
# labels, area


@pytest.mark.parametrize("form", FORM_NAMES)
def test_labels_area_small(form):
    a = np.array([[0, 0, 7], [3, 3, 7], [3, 200, 200]], dtype=np.uint8)
    rle = as_form(a, form)
    assert labels(rle).tolist() == [0, 3, 7, 200]
    assert labels(rle).dtype == np.uint8
    assert area(rle) == {0: 2, 3: 3, 7: 2, 200: 2}
    assert all(type(k) is int and type(v) is int for k, v in area(rle).items())


@pytest.mark.parametrize("name", list(REAL))
def test_labels_area_real(name):
    a = real(name)
    rle = mcr.encode(a)
    assert np.array_equal(labels(rle), np.unique(a))
    assert labels(rle).dtype == a.dtype
    assert area(rle) == ref_area(a)


@HYP
@given(label_maps())
def test_labels_area_property(a):
    for _, rle in forms(a):
        got = labels(rle)
        assert got.dtype == a.dtype
        assert np.array_equal(got, np.unique(a))
        assert area(rle) == ref_area(a)


@needs_coco
def test_area_of_coco_binary_rle_matches_pycocotools():
    rng = np.random.default_rng(0)
    m = np.asfortranarray(rng.random((37, 53)) < 0.3).astype(np.uint8)
    coco = mask_utils.encode(np.asfortranarray(m))
    assert area(coco)[1] == int(mask_utils.area(coco))
    assert area({"size": coco["size"], "counts": coco["counts"].decode()}) == ref_area(m)


def test_area_exact_beyond_float_precision():
    # 2**60 + 1 pixels: float64 weights would lose the odd pixel; never decoded
    runs = mcr.Runs((2**40, 2**20 + 1), np.array([0, 1, 0], np.uint8),
                    np.array([2**59, 1, 2**59 + 2**40 - 1], np.uint64))
    assert area(runs) == {0: 2**60 + 2**40 - 1, 1: 1}
    assert bbox(runs)[1] == ((0, 1), (2**19, 2**19 + 1))
    cm = confusion_matrix(runs, runs)
    assert cm.tolist() == [[2**60 + 2**40 - 1, 0], [0, 1]]


def test_zero_size_maps():
    a = np.zeros((0, 4), np.uint16)
    rle = mcr.encode(a)
    assert labels(rle).tolist() == [] and labels(rle).dtype == np.uint16
    assert area(rle) == {} and bbox(rle) == {}
    assert confusion_matrix(rle, rle).shape == (0, 0)
    assert iou(rle, rle).shape == (0,)
    assert np.isnan(miou(rle, rle))
    assert remap(rle, {}).shape == (0, 4)
    assert decode_window(rle, (slice(None), slice(1, 3))).shape == (0, 2)
    assert binary_mask(rle, 0).shape == (0, 4)


# ---------------------------------------------------------------------------
# bbox


@needs_coco
def test_bbox_index_and_coco_small():
    a = np.zeros((5, 6), np.uint8)
    a[1:3, 2:5] = 4
    a[4, 0] = 9
    a[0, 5] = 9
    rle = mcr.encode(a)
    got = bbox(rle)
    assert got == {0: ((0, 5), (0, 6)), 4: ((1, 3), (2, 5)), 9: ((0, 5), (0, 6))}
    assert np.array_equal(a[tuple(slice(*b) for b in got[4])], np.full((2, 3), 4))
    coco = bbox(rle, format="coco")
    for lab in (4, 9):
        ref = mask_utils.toBbox(mask_utils.encode(np.asfortranarray((a == lab).astype(np.uint8))))
        assert coco[lab] == ref.tolist()


@pytest.mark.parametrize("name", list(REAL))
def test_bbox_real(name):
    a = real(name)
    rle = mcr.encode(a)
    got = bbox(rle)
    assert got == ref_bbox(a)
    if a.ndim == 2 and mask_utils is not None:
        coco = bbox(rle, format="coco")
        for lab in list(coco)[:40]:
            m = np.asfortranarray(eq(a, lab).astype(np.uint8))
            ref = mask_utils.toBbox(mask_utils.encode(m))
            assert coco[lab] == ref.tolist()


@HYP
@given(label_maps(max_dims=4))
def test_bbox_property(a):
    expected = ref_bbox(a)
    for _, rle in forms(a):
        got = bbox(rle)
        assert got == expected
        for lab, box in got.items():
            crop = a[tuple(slice(*b) for b in box)]
            assert np.count_nonzero(eq(crop, lab)) == np.count_nonzero(eq(a, lab))


@needs_coco
@HYP
@given(label_maps(min_dims=2, max_dims=2, min_side=1))
def test_bbox_coco_matches_pycocotools(a):
    got = bbox(mcr.encode(a), format="coco")
    for lab in np.unique(a).tolist():
        m = np.asfortranarray(eq(a, int(lab)).astype(np.uint8))
        assert got[int(lab)] == mask_utils.toBbox(mask_utils.encode(m)).tolist()


def test_bbox_errors():
    rle = mcr.encode(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(mcr.RLEValueError, match=r"2D map.*\(2, 2, 2\)"):
        bbox(rle, format="coco")
    with pytest.raises(mcr.RLEValueError, match="format"):
        bbox(rle, format="xywh")


# ---------------------------------------------------------------------------
# confusion matrix, IoU


def test_confusion_matrix_small_and_labels_subset():
    t = np.array([[0, 0, 1], [1, 1, 2]], dtype=np.uint8)
    p = np.array([[0, 1, 1], [1, 2, 2]], dtype=np.int32)
    cm = confusion_matrix(mcr.encode(t), mcr.encode(p))
    assert cm.dtype == np.int64
    assert cm.tolist() == ref_confusion(t, p, [0, 1, 2]).tolist()
    # reorder, drop, and a label absent from both (sklearn semantics)
    for lab in ([2, 1], [1, 0, 5], [7]):
        assert confusion_matrix(mcr.encode(t), mcr.encode(p), labels=lab).tolist() == \
            ref_confusion(t, p, lab).tolist()


def test_confusion_matrix_size_mismatch_names_both_sizes():
    t = mcr.encode(np.zeros((4, 5), np.uint8))
    p = mcr.encode(np.zeros((5, 4), np.uint8))
    with pytest.raises(mcr.RLEValueError, match=r"\[4, 5\].*\[5, 4\]"):
        confusion_matrix(t, p)
    with pytest.raises(ValueError, match=r"\[4, 5\].*\[3, 5\]"):
        iou(t, mcr.encode(np.zeros((3, 5), np.uint8)))


def test_confusion_matrix_names_the_bad_map():
    good = mcr.encode(np.zeros((2, 2), np.uint8))
    bad = {"size": [2, 2], "values": [0, 1], "counts": [1, 2]}
    with pytest.raises(mcr.MalformedRLEError, match=r"^pred: counts sum to 3"):
        confusion_matrix(good, bad)
    with pytest.raises(mcr.MalformedRLEError, match=r"^true: "):
        confusion_matrix(bad, good)
    with pytest.raises(mcr.RLEValueError, match="more than once"):
        confusion_matrix(good, good, labels=[0, 1, 0])
    with pytest.raises(mcr.RLETypeError, match="integer"):
        confusion_matrix(good, good, labels=[0, 1.5])


@HYP
@given(label_maps(max_side=6), st.data())
def test_confusion_matrix_property(t, data):
    # the prediction: same shape, any dtype
    dt = np.dtype(data.draw(st.sampled_from(DTYPES)))
    lo, hi = (0, 1) if dt.kind == "b" else (int(np.iinfo(dt).min), int(np.iinfo(dt).max))
    pool = data.draw(st.lists(st.integers(lo, hi) | st.sampled_from([0, 1]), min_size=1,
                              max_size=4, unique=True))
    idx = data.draw(hnp.arrays(np.uint8, t.shape, elements=st.integers(0, len(pool) - 1)))
    p = np.array(pool, dtype=dt)[idx]
    lab = union_labels(t, p)
    t_form, p_form = data.draw(st.sampled_from(FORM_NAMES)), data.draw(st.sampled_from(FORM_NAMES))
    rt, rp = as_form(t, t_form), as_form(p, p_form)
    assert confusion_matrix(rt, rp).tolist() == ref_confusion(t, p, lab).tolist()
    subset = data.draw(st.lists(st.sampled_from(lab + [-3, 2**40]), unique=True))
    assert confusion_matrix(rt, rp, labels=subset).tolist() == ref_confusion(t, p, subset).tolist()
    ignore = data.draw(st.none() | st.sampled_from(lab)) if lab else None
    expected = ref_iou(t, p, [x for x in lab if x != ignore], ignore)
    got = iou(rt, rp, ignore=ignore)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-12)
    m = miou(rt, rp, ignore=ignore)
    finite = expected[~np.isnan(expected)]
    assert (np.isnan(m) and finite.size == 0) or m == pytest.approx(finite.mean(), abs=1e-12)


@pytest.mark.parametrize("name", REAL_2D)
def test_confusion_and_iou_real(name):
    t = real(name)
    # a plausible "prediction": the map shifted by 3 pixels, with a block relabelled
    p = np.roll(t, 3, axis=1).copy()
    p[: t.shape[0] // 3, : t.shape[1] // 4] = t.flat[0]
    rt, rp = mcr.encode(t), mcr.encode_runs(p)
    lab = union_labels(t, p)
    assert np.array_equal(confusion_matrix(rt, rp), ref_confusion(t, p, lab))
    if len(lab) <= 200:
        np.testing.assert_allclose(iou(rt, rp), ref_iou(t, p, lab), rtol=0, atol=1e-12)
    ignore = lab[-1]
    kept = lab[:-1]
    np.testing.assert_allclose(iou(rt, rp, labels=kept, ignore=ignore),
                               ref_iou(t, p, kept, ignore), rtol=0, atol=1e-12)


@needs_coco
def test_camvid_frames_iou_and_pycocotools():
    frames = _load("camvid/camvid_testannot_233x360x480_uint8.npz") if DATA.is_dir() else None
    if frames is None:
        pytest.skip("real maps absent")
    t, p = frames[10], frames[14]  # neighbouring video frames: a realistic prediction
    rt, rp = mcr.encode(t), mcr.encode(p)
    classes = list(range(11))  # 11 = unlabelled, ignored as in SegNet's evaluation
    got = iou(rt, rp, labels=classes, ignore=11)
    np.testing.assert_allclose(got, ref_iou(t, p, classes, 11), rtol=0, atol=1e-12)
    assert miou(rt, rp, labels=classes, ignore=11) == pytest.approx(np.nanmean(got))
    # without ignore, each class is pycocotools' IoU of the two binary masks
    plain = iou(rt, rp, labels=classes)
    for c in classes:
        mt = mask_utils.encode(np.asfortranarray((t == c).astype(np.uint8)))
        mp = mask_utils.encode(np.asfortranarray((p == c).astype(np.uint8)))
        ref = mask_utils.iou([mp], [mt], [0])[0, 0]
        if (t == c).any() or (p == c).any():
            assert plain[c] == pytest.approx(ref, abs=1e-12)
        else:
            assert np.isnan(plain[c])


def test_iou_rules():
    t = mcr.encode(np.array([[0, 0, 1, 255, 255]], dtype=np.uint8))
    p = mcr.encode(np.array([[0, 1, 1, 1, 255]], dtype=np.uint8))
    # pixels with true 255 are dropped; pred 255 on a valid pixel would be a miss
    assert iou(t, p, ignore=255).tolist() == [0.5, 0.5]
    got = iou(t, p, labels=[0, 1, 2], ignore=255)
    assert got[:2].tolist() == [0.5, 0.5] and np.isnan(got[2])
    assert miou(t, p, labels=[0, 1, 2], ignore=255) == 0.5
    assert iou(t, p).tolist() == pytest.approx([0.5, 1 / 3, 0.5])
    t2 = mcr.encode(np.array([[3, 3]], dtype=np.uint8))
    p2 = mcr.encode(np.array([[3, 255]], dtype=np.uint8))
    assert iou(t2, p2, ignore=255).tolist() == [0.5]  # the 255 prediction is a miss
    all_ignored = mcr.encode(np.full((2, 2), 255, np.uint8))
    assert np.isnan(miou(all_ignored, all_ignored, ignore=255))
    with pytest.raises(mcr.RLEValueError, match="ignore=255"):
        iou(t, p, labels=[0, 255], ignore=255)


# ---------------------------------------------------------------------------
# remap


def test_remap_dict_lut_default_and_merge():
    a = np.array([[7, 7, 8], [26, 26, 8]], dtype=np.uint8)
    r = remap(mcr.encode(a), {7: 1, 8: 1, 26: 1})
    assert r.values.tolist() == [1] and r.counts.tolist() == [6]  # all runs merged
    lut = np.full(256, 255, np.uint8)
    lut[[7, 8, 26]] = [0, 1, 13]
    assert np.array_equal(mcr.decode(remap(mcr.encode(a), lut)), lut[a])
    assert np.array_equal(mcr.decode(remap(mcr.encode(a), [0] * 27)), np.zeros_like(a))
    got = remap(mcr.encode(a), {7: 0}, default=9)
    assert np.array_equal(mcr.decode(got), np.where(a == 7, 0, 9))


def test_remap_errors_and_dtypes():
    a = np.array([[7, 7, 8], [26, 26, 8]], dtype=np.uint8)
    with pytest.raises(mcr.RLEValueError, match=r"2 label\(s\).*8 \(2 pixels\), 26 \(2 pixels\)"):
        remap(mcr.encode(a), {7: 0})
    with pytest.raises(mcr.RLEValueError, match=r"lookup array \(0\.\.9\).*26 \(2 pixels\)"):
        remap(mcr.encode(a), np.arange(10))
    with pytest.raises(mcr.RLETypeError, match="integer"):
        remap(mcr.encode(a), {7: 0.5, 8: 1, 26: 2})
    with pytest.raises(mcr.RLETypeError, match="lookup array"):
        remap(mcr.encode(a), np.zeros((2, 2), int))
    with pytest.raises(mcr.RLEValueError, match="does not fit dtype uint8"):
        remap(mcr.encode(a), {7: 0, 8: 1, 26: 300}, dtype=np.uint8)
    wide = remap(mcr.encode(a), {7: 0, 8: -1, 26: 70000})
    assert wide.dtype == np.int32
    assert mcr.decode(wide).tolist() == [[0, 0, -1], [70000, 70000, -1]]
    assert remap(mcr.encode(a), {7: 0, 8: 1, 26: 2}, dtype="int64").dtype == np.int64
    assert remap(mcr.encode(a.astype(bool)), {1: 1}).dtype == np.bool_


@pytest.mark.parametrize("name", list(REAL))
def test_remap_real(name):
    a = real(name)
    rng = np.random.default_rng(5)
    uniq = np.unique(a)
    new = rng.integers(0, 4, uniq.size)
    rle = mcr.encode(a)
    got = remap(rle, dict(zip(uniq.tolist(), new.tolist())))
    expected = new[np.searchsorted(uniq, a)]
    assert np.array_equal(mcr.decode(got), expected)
    assert got == mcr.encode_runs(expected.astype(got.dtype))  # merged: canonical runs


@HYP
@given(label_maps(), st.data())
def test_remap_property(a, data):
    uniq = [int(x) for x in np.unique(a).tolist()]
    mapped = data.draw(st.lists(st.sampled_from(uniq), unique=True)) if uniq else []
    mapping = {k: data.draw(st.integers(-5, 2**33)) for k in mapped}
    default = data.draw(st.none() | st.integers(0, 300))
    form = data.draw(st.sampled_from(FORM_NAMES))
    if default is None and len(mapped) < len(uniq):
        with pytest.raises(mcr.RLEValueError, match="not in the keys"):
            remap(as_form(a, form), mapping)
        return
    got = remap(as_form(a, form), mapping, default=default)
    expected = np.vectorize(lambda x: mapping.get(int(x), default), otypes=[object])(a) \
        if a.size else np.zeros(a.shape, object)
    assert mcr.decode(got).tolist() == expected.tolist()
    assert np.all(got.counts > 0)
    assert not np.any(got.values[1:] == got.values[:-1])  # neighbouring runs merged


# ---------------------------------------------------------------------------
# window decode, binary mask


def test_decode_window_forms_and_errors():
    a = np.arange(60, dtype=np.int16).reshape(3, 4, 5) // 4
    rle = mcr.encode(a)
    assert np.array_equal(decode_window(rle, (slice(1, 3), slice(0, 4), slice(2, 5))),
                          a[1:3, 0:4, 2:5])
    assert np.array_equal(decode_window(rle, ((1, 3), (None, -1))), a[1:3, :-1])
    assert np.array_equal(decode_window(rle, (slice(-2, None),)), a[-2:])
    assert np.array_equal(decode_window(rle, [(0, 100), (2, 2), (0, 5)]), a[0:100, 2:2, 0:5])
    assert np.array_equal(decode_window(rle, slice(1, 2)), a[1:2])
    f = decode_window(rle, (slice(0, 2), slice(1, 3)), order="F")
    assert f.flags.f_contiguous and np.array_equal(f, a[0:2, 1:3])
    assert decode_window(rle, (slice(0, 2),)).flags.c_contiguous
    with pytest.raises(mcr.RLEValueError, match="axis 1 has step 2"):
        decode_window(rle, (slice(None), slice(0, 4, 2)))
    with pytest.raises(mcr.RLEValueError, match="4 axes.*3 axes"):
        decode_window(rle, (slice(None),) * 4)
    with pytest.raises(mcr.RLETypeError, match="axis 0"):
        decode_window(rle, (1, slice(None)))
    with pytest.raises(mcr.RLETypeError, match="tuple of slices"):
        decode_window(rle, 3)
    with pytest.raises(mcr.RLEValueError, match="order"):
        decode_window(rle, (slice(None),), order="K")
    old = mcr.set_max_elements(10)
    try:
        with pytest.raises(mcr.LimitExceededError, match="12 elements"):
            decode_window(rle, (slice(0, 3), slice(0, 4), slice(0, 1)))
        assert decode_window(rle, (slice(0, 2), slice(0, 2), slice(0, 2))).shape == (2, 2, 2)
    finally:
        mcr.set_max_elements(old)


@HYP
@given(label_maps(max_dims=4), st.data())
def test_decode_window_property(a, data):
    window = []
    for n in a.shape[: data.draw(st.integers(0, a.ndim))]:
        start = data.draw(st.none() | st.integers(-n - 2, n + 2))
        stop = data.draw(st.none() | st.integers(-n - 2, n + 2))
        window.append(slice(start, stop) if data.draw(st.booleans()) else (start, stop))
    order = data.draw(st.sampled_from(["C", "F"]))
    form = data.draw(st.sampled_from(FORM_NAMES))
    got = decode_window(as_form(a, form), tuple(window), order=order)
    expected = a[tuple(slice(*w) if isinstance(w, tuple) else w for w in window)]
    assert got.dtype == a.dtype and got.shape == expected.shape
    assert np.array_equal(got, expected)
    assert got.flags.c_contiguous if order == "C" else got.flags.f_contiguous


@pytest.mark.parametrize("name", list(REAL) + ["camvid_1024x2048"])
def test_decode_window_real(name):
    a = camvid_big() if name == "camvid_1024x2048" else real(name)
    rle = mcr.encode(a)
    rng = np.random.default_rng(1)
    for _ in range(8):
        window = []
        for n in a.shape:
            size = int(rng.integers(1, min(n, 256) + 1))
            start = int(rng.integers(0, n - size + 1))
            window.append(slice(start, start + size))
        assert np.array_equal(decode_window(rle, tuple(window)), a[tuple(window)])
    assert np.array_equal(decode_window(rle, ()), a)


@pytest.mark.parametrize("form", FORM_NAMES)
def test_binary_mask(form):
    a = np.array([[0, 3, 3], [3, 1, 0]], dtype=np.int8)
    rle = as_form(a, form)
    m = binary_mask(rle, 3)
    assert m.dtype == np.bool_ and np.array_equal(m, a == 3)
    assert not binary_mask(rle, 5).any()
    assert not binary_mask(rle, 1000).any()  # outside int8: absent, not an error
    assert binary_mask(rle, 3, order="F").flags.f_contiguous
    with pytest.raises(mcr.RLETypeError, match="integer"):
        binary_mask(rle, 3.0)


@pytest.mark.parametrize("name", list(REAL))
def test_binary_mask_real(name):
    a = real(name)
    rle = mcr.encode(a)
    for lab in np.unique(a)[:5].tolist():
        assert np.array_equal(binary_mask(rle, lab), a == lab)


@HYP
@given(label_maps())
def test_binary_mask_property(a):
    for lab in np.unique(a).tolist()[:3]:
        assert np.array_equal(binary_mask(mcr.encode_runs(a), lab), a == lab)


# ---------------------------------------------------------------------------
# shared behaviour


@pytest.mark.parametrize("fn", [labels, area, bbox, lambda r: confusion_matrix(r, r),
                                lambda r: remap(r, {}, default=0),
                                lambda r: decode_window(r, ()), lambda r: binary_mask(r, 1)])
def test_malformed_input_is_refused(fn):
    with pytest.raises(mcr.MalformedRLEError, match=r"counts sum to 5, size \(2, 3\) needs 6"):
        fn({"size": [2, 3], "values": [0, 1], "counts": [2, 3]})
    with pytest.raises(mcr.MalformedRLEError, match="count at index 1 is 0"):
        fn({"size": [2, 3], "values": [0, 1, 2], "counts": [6, 0, 0]})
    with pytest.raises(mcr.RLETypeError, match="dict or Runs"):
        fn(np.zeros((2, 3), np.uint8))


@needs_coco
def test_coco_binary_rle_accepted_everywhere():
    m = np.asfortranarray(np.array([[1, 0, 0], [1, 1, 0]], np.uint8))
    coco = mask_utils.encode(m)  # counts as bytes, first pixel 1 (leading 0-run)
    assert area(coco) == {0: 3, 1: 3}
    assert bbox(coco)[1] == ((0, 2), (0, 2))
    assert np.array_equal(decode_window(coco, (slice(1, 2),)), m[1:2])
    assert confusion_matrix(coco, coco).tolist() == [[3, 0], [0, 3]]


def test_docstring_examples():
    from multiclass_rle._ops import coco, compare, relabel, summary, window

    attempted = 0
    for module in (summary, compare, relabel, window, coco):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.failed == 0, module.__name__
        attempted += result.attempted
    assert attempted > 20


def test_docs_examples():
    doc = Path(__file__).resolve().parents[1] / "docs" / "operations.md"
    if not doc.is_file():
        pytest.skip("docs/operations.md not in this checkout")
    result = doctest.testfile(str(doc), module_relative=False,
                              optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 10 and result.failed == 0


# ---------------------------------------------------------------------------
# the one-pass C kernels behind bbox, remap and decode_window, on hostile input:
# every operation that parses a compact dict itself must give exactly
# decode's answer on every map and exactly decode's error on every malformed
# one (corrupted counts, bad characters, strings of different lengths,
# values that do not fit the dtype).


def _error_of(fn, rle):
    try:
        return None, fn(rle)
    except mcr.RLEError as exc:
        return exc, None


def _window_of(data, shape):
    box = []
    for n in shape:
        a = data.draw(st.integers(0, n))
        b = data.draw(st.integers(a, n))
        box.append(slice(a, b))
    return tuple(box)


def _corrupt(runs: mcr.Runs, data) -> mcr.Runs:
    """The runs with one count changed, a run added or removed (often malformed)."""
    values, counts = runs.values.copy(), runs.counts.astype(np.uint64)
    how = data.draw(st.sampled_from(["zero", "plus", "minus", "wrap", "append", "drop", "none"]))
    n = len(counts)
    k = data.draw(st.integers(0, max(n - 1, 0)))
    if how == "append" or n == 0:
        values = np.append(values, values[-1:] if n else np.zeros(1, values.dtype))
        counts = np.append(counts, np.uint64(data.draw(st.integers(0, 5))))
    elif how == "drop":
        values, counts = np.delete(values, k), np.delete(counts, k)
    elif how == "zero":
        counts[k] = 0
    elif how == "plus":
        counts[k] += np.uint64(data.draw(st.integers(1, 3)))
    elif how == "minus":
        counts[k] -= np.uint64(min(int(counts[k]), data.draw(st.integers(1, 3))))
    elif how == "wrap":  # sums past 2**64 back to the size
        counts[k] = np.uint64(2**64 - 1)
        counts = np.append(counts, np.uint64(1))
        values = np.append(values, values[-1:])
    return mcr.Runs(runs.shape, values, counts)


OPS = {
    "bbox": bbox,
    "bbox_coco": lambda r: bbox(r, format="coco") if len(mcr.as_runs(r).shape) == 2 else bbox(r),
    "remap": lambda r: remap(r, {}, default=3),
    "remap_lut": lambda r: remap(r, np.arange(256, dtype=np.uint8)[::-1].copy(), default=0),
    "area": area,
    "labels": labels,
}


@HYP
@given(label_maps(max_dims=3), st.data())
def test_corrupted_counts_same_error_as_decode(a, data):
    runs = _corrupt(mcr.encode_runs(a), data)
    window = _window_of(data, a.shape)
    for rle in (runs, runs.to_dict()):
        err, full = _error_of(mcr.decode, rle)  # the Runs and the dict may differ (-1 vs 2**64-1)
        for name, fn in OPS.items():
            got_err, got = _error_of(fn, rle)
            if err is not None:
                assert type(got_err) is type(err) and str(got_err) == str(err), name
            else:
                assert got_err is None, (name, got_err)
        got_err, got = _error_of(lambda r: decode_window(r, window), rle)
        if err is not None:
            assert type(got_err) is type(err) and str(got_err) == str(err)
        else:
            assert got_err is None, got_err
            assert np.array_equal(got, full[window])


@HYP
@given(label_maps(max_dims=4), st.data())
def test_bbox_remap_window_against_numpy(a, data):
    rle = mcr.encode(a)
    assert bbox(rle) == ref_bbox(a)
    window = _window_of(data, a.shape)
    got = decode_window(rle, window, order=data.draw(st.sampled_from(["C", "F"])))
    assert got.dtype == a.dtype and np.array_equal(got, a[window])
    if a.dtype.kind in "iu" and a.size:
        lut = np.arange(256, dtype=np.int64) * 3 - 7
        small = a.astype(np.int64) % 256
        got = remap(mcr.encode(small.astype(np.uint8)), lut)
        assert np.array_equal(mcr.decode(got), lut[small])


@pytest.mark.parametrize("text", [
    "values_bad_char", "counts_bad_char", "values_short", "counts_truncated", "value_range",
])
@pytest.mark.parametrize("op", ["bbox", "remap", "area", "window", "window_head"])
def test_bad_strings_same_error_as_decode(text, op):
    a = np.zeros((40, 30), np.uint8)
    a[5:20, 3:9] = 7
    a[30:, 20:] = 200
    d = mcr.encode(a)
    v, c = d["values"], d["counts"]
    if text == "values_bad_char":
        d["values"] = v[:-1] + "~"
    elif text == "counts_bad_char":
        d["counts"] = c[:-1] + " "
    elif text == "values_short":
        d["values"] = v[:-1]
    elif text == "counts_truncated":
        d["counts"] = c + "P"
    elif text == "value_range":  # 400 in a uint8 map
        d["values"] = mcr.encode(a.astype(np.uint16) * 2)["values"]
    with pytest.raises(mcr.RLEError) as want:
        mcr.decode(d)
    fn = {"bbox": bbox, "remap": lambda r: remap(r, {}, default=1), "area": area,
          "window": lambda r: decode_window(r, (slice(30, 40), slice(20, 30))),
          # a window at the start: a prefix-only parse would not see the bad tail
          "window_head": lambda r: decode_window(r, (slice(0, 2), slice(0, 2)))}[op]
    with pytest.raises(type(want.value)) as got:
        fn(d)
    assert str(got.value) == str(want.value)


@pytest.mark.parametrize("name", list(REAL))
def test_kernels_on_real_maps(name):
    a = real(name)
    d = mcr.encode(a)
    runs = mcr.as_runs(d)
    assert bbox(d) == bbox(runs) == ref_bbox(a)
    lut_len = int(a.max()) + 1 if a.dtype.kind in "iu" and a.min() >= 0 else None
    if lut_len is not None and lut_len <= 2**20:
        lut = (np.arange(lut_len) * 7 % 23).astype(np.uint8)
        got = remap(d, lut)
        assert got == remap(runs, lut)
        assert np.array_equal(mcr.decode(got), lut[a])
    rng = np.random.default_rng(0)
    for _ in range(5):
        window = tuple(slice(s, s + int(rng.integers(1, 300)))
                       for s in (int(rng.integers(0, n)) for n in a.shape))
        assert np.array_equal(decode_window(d, window), a[window])


@HYP
@given(label_maps(dtypes=("uint8", "bool")), st.data())
def test_remap_compact_fast_path_matches_general(a, data):
    """The one-call path for 8-bit compact dicts against the path on Runs."""
    keys = st.integers(-3, 260) | st.sampled_from([True, False, np.int64(3), np.uint8(1)])
    news = st.integers(-2, 70000) | st.sampled_from([np.int16(-1), np.uint8(200), 2.5, True])
    lut_dtype = data.draw(st.sampled_from([np.uint8, np.int64, np.uint16, np.bool_]))
    lut = hnp.arrays(lut_dtype, st.integers(0, 300),
                     elements=st.booleans() if lut_dtype is np.bool_ else None)
    mapping = data.draw(st.dictionaries(keys, news, max_size=6) | lut)
    default = data.draw(st.none() | st.integers(-1, 300))
    dtype = data.draw(st.sampled_from([None, "uint8", "int16", "uint32", "bool"]))
    outcomes = []
    for rle in (mcr.encode(a), mcr.encode_runs(a)):
        try:
            got = remap(rle, mapping, default=default, dtype=dtype)
            outcomes.append(("ok", got.dtype, mcr.decode(got).tolist(), len(got)))
        except mcr.RLEError as exc:
            outcomes.append((type(exc), str(exc)))
    assert outcomes[0] == outcomes[1]
