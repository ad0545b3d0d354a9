"""SemanticEvaluator: equal to a numpy bincount reference, to hotcoco and torchmetrics
where their conventions agree, in every input form; merging, errors, discovery."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import multiclass_rle as mcr

# ---------------------------------------------------------------------------
# the reference: np.bincount on the decoded maps, metrics written out again


def reference(pairs, labels, ignore=()):
    """Confusion matrix (L x L), pixels predicted as no class per true class, ignored pixels."""
    labels = list(labels)
    n = len(labels)
    cm = np.zeros((n, n + 1), dtype=np.int64)
    ignored = 0
    for t, p in pairs:
        t = np.asarray(t).ravel().astype(np.int64)
        p = np.asarray(p).ravel().astype(np.int64)
        keep = ~np.isin(t, list(ignore))
        ignored += int((~keep).sum())
        t, p = t[keep], p[keep]
        ti = np.searchsorted(labels, t)
        assert (np.asarray(labels)[np.minimum(ti, n - 1)] == t).all()
        pi = np.searchsorted(labels, p)
        known = (pi < n) & (np.asarray(labels)[np.minimum(pi, n - 1)] == p)
        pi = np.where(known, pi, n)
        cm += np.bincount(ti * (n + 1) + pi, minlength=n * (n + 1)).reshape(n, n + 1)
    return cm, ignored


def reference_metrics(cm):
    tp = np.diag(cm[:, :-1]).astype(float)
    gt = cm.sum(axis=1).astype(float)
    pred = cm[:, :-1].sum(axis=0).astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        iou = tp / (gt + pred - tp)
        dice = 2 * tp / (gt + pred)
        prec = tp / pred
        rec = tp / gt
    fw = sum(g * i for g, i in zip(gt, iou) if g > 0) / gt.sum()
    return {"iou": iou, "dice": dice, "precision": prec, "recall": rec,
            "miou": np.nanmean(iou), "mean_dice": np.nanmean(dice),
            "mean_precision": np.nanmean(prec), "mean_accuracy": np.nanmean(rec),
            "pixel_accuracy": tp.sum() / gt.sum(), "fwiou": fw}


def assert_matches(res, cm, ignored):
    np.testing.assert_array_equal(res.confusion_matrix, cm[:, :-1])
    np.testing.assert_array_equal(res.pred_other, cm[:, -1])
    assert res.ignored_pixels == ignored
    want = reference_metrics(cm)
    for name in ("iou", "dice", "precision", "recall"):
        np.testing.assert_allclose(getattr(res, name), want[name], rtol=1e-12, atol=0)
    for name in ("miou", "mean_dice", "mean_precision", "mean_accuracy", "pixel_accuracy",
                 "fwiou"):
        assert getattr(res, name) == pytest.approx(want[name], rel=1e-12, abs=0)


def resize(a, h, w):
    r = (np.arange(h) * a.shape[0]) // h
    c = (np.arange(w) * a.shape[1]) // w
    return a[r][:, c]


@pytest.fixture(scope="module")
def camvid(data_dir):
    return np.load(data_dir / "camvid" / "camvid_valannot_101x360x480_uint8.npz")["labels"]


def camvid_pairs(camvid, n=12, gap=4):
    # neighbouring video frames: realistic errors along every boundary
    return [(camvid[i], camvid[i + gap]) for i in range(n)]


# ---------------------------------------------------------------------------
# real maps against the reference, every input form

FORMS = {
    "compact": mcr.encode,
    "packed": lambda a: mcr.encode(a, packed=True),
    "original": mcr.array_to_multi_class_rle,
    "bytes": mcr.encode_bytes,
    "runs": mcr.encode_runs,
    "json": lambda a: json.loads(json.dumps(mcr.encode(a))),
    "array": lambda a: a,
    "fortran array": np.asfortranarray,
}


@pytest.mark.parametrize("form", sorted(FORMS))
def test_camvid_equals_bincount_reference(camvid, form):
    pairs = camvid_pairs(camvid)
    ev = mcr.SemanticEvaluator(num_classes=11, ignore_index=11)   # 11 = unlabelled
    for t, p in pairs:
        ev.update(FORMS[form](t), FORMS[form](p))
    cm, ignored = reference(pairs, range(11), ignore=[11])
    res = ev.compute()
    assert res.n_images == len(pairs)
    assert ignored > 0 and cm[:, -1].sum() > 0   # predicted 11 is a miss, not a class
    assert_matches(res, cm, ignored)


def test_mixed_forms_in_one_evaluator(camvid):
    pairs = camvid_pairs(camvid, n=len(FORMS))
    ev = mcr.SemanticEvaluator(num_classes=12)
    for (t, p), form in zip(pairs, sorted(FORMS)):
        ev.update(FORMS[form](t), mcr.encode(p))
    cm, ignored = reference(pairs, range(12))
    assert_matches(ev.compute(), cm, ignored)


def test_upscaled_maps_and_sparse_labels(camvid):
    pairs = [(resize(t, 1024, 2048), resize(p, 1024, 2048)) for t, p in camvid_pairs(camvid, 3)]
    labels = [0, 2, 3, 5, 8, 9]           # a subset: the others are "other" on both sides
    pairs = [(np.where(np.isin(t, labels), t, 255), p) for t, p in pairs]
    ev = mcr.SemanticEvaluator(labels=labels, ignore_index=255,
                               class_names=["sky", "pole", "road", "tree", "car", "person"])
    for t, p in pairs:
        ev.update(mcr.encode(t), mcr.encode(p))
    cm, ignored = reference(pairs, labels, ignore=[255])
    res = ev.compute()
    assert_matches(res, cm, ignored)
    assert res.class_names[2] == "road" and res.labels == tuple(labels)


def test_ade20k_uint16_and_int32_maps(data_dir):
    base = data_dir / "ade20k_sceneparsing"
    t = np.load(base / "ADE_train_00000970_fullclass_uint16.npy")
    p = np.roll(t, 7, axis=0)
    p[:40] = 2855   # a band of one class
    ev = mcr.SemanticEvaluator()            # classes discovered from the data
    ev.update(mcr.encode(t), mcr.encode(p.astype(np.int32)))
    labels = sorted(set(np.unique(t).tolist()) | set(np.unique(p).tolist()))
    cm, ignored = reference([(t, p)], labels)
    assert ev.compute().labels == tuple(labels)
    assert_matches(ev.compute(), cm, ignored)


def test_labelme_ignore_minus_one_and_255(data_dir):
    pngs = np.load(data_dir / "labelme" / "labelme_npy_labels_int32.npz")
    maps = [pngs[k] for k in pngs.files if "SegmentationClass" in k]
    pairs = [(m, np.roll(m, 5, axis=1)) for m in maps]
    ev = mcr.SemanticEvaluator(num_classes=21, ignore_index=[-1, 255])
    for t, p in pairs:
        ev.update(mcr.encode(t), p)
    cm, ignored = reference(pairs, range(21), ignore=[-1, 255])
    assert ignored > 0
    assert_matches(ev.compute(), cm, ignored)


def test_torch_tensors_and_batches(camvid):
    torch = pytest.importorskip("torch")
    pairs = camvid_pairs(camvid, 6)
    ev = mcr.SemanticEvaluator(num_classes=12)
    t = torch.from_numpy(np.stack([a for a, _ in pairs]))
    p = torch.from_numpy(np.stack([b for _, b in pairs])).to(torch.int64)
    ev.update_batch(t[:3], p[:3])                       # (N, H, W) tensors
    for i in range(3, 6):
        ev.update(t[i], p[i].requires_grad_(False))     # one tensor pair
    cm, ignored = reference(pairs, range(12))
    assert_matches(ev.compute(), cm, ignored)


# ---------------------------------------------------------------------------
# the peers: hotcoco (mmsegmentation's protocol) and torchmetrics


def test_equals_hotcoco(camvid):
    semantic = pytest.importorskip("hotcoco").semantic
    pairs = camvid_pairs(camvid, 10)
    hc = semantic.SemanticEval(12, ignore_index=255)
    ev = mcr.SemanticEvaluator(num_classes=12, ignore_index=255)
    for t, p in pairs:
        hc.update(t, p)
        ev.update(mcr.encode(t), mcr.encode(p))
    want, res = hc.results(), ev.compute()
    np.testing.assert_array_equal(hc.confusion(), res.confusion_matrix)
    assert res.miou == pytest.approx(want["mIoU"], rel=1e-12)
    assert res.fwiou == pytest.approx(want["fwIoU"], rel=1e-12)
    assert res.mean_accuracy == pytest.approx(want["mAcc"], rel=1e-12)
    assert res.pixel_accuracy == pytest.approx(want["aAcc"], rel=1e-12)
    for i, row in enumerate(want["per_class"]):
        assert res.iou[i] == pytest.approx(row["IoU"], rel=1e-12)


def test_equals_hotcoco_with_absent_classes():
    """A class only predicted: IoU 0 in the mean, accuracy undefined (hotcoco: -1)."""
    semantic = pytest.importorskip("hotcoco").semantic
    t = np.array([[0, 0, 1, 255], [2, 2, 1, 1]], np.uint8)
    p = np.array([[0, 1, 1, 1], [3, 2, 1, 0]], np.uint8)
    hc = semantic.SemanticEval(5, ignore_index=255)
    hc.update(t, p)
    ev = mcr.SemanticEvaluator(num_classes=5, ignore_index=255)
    ev.update(t, p)
    want, res = hc.results(), ev.compute()
    assert res.miou == pytest.approx(want["mIoU"]) and res.fwiou == pytest.approx(want["fwIoU"])
    assert res.mean_accuracy == pytest.approx(want["mAcc"])
    assert np.isnan(res.iou[4]) and res.iou[3] == 0 and np.isnan(res.recall[3])
    assert want["per_class"][3]["Acc"] == -1.0


def test_torchmetrics_where_the_conventions_agree(camvid):
    torch = pytest.importorskip("torch")
    tmc = pytest.importorskip("torchmetrics.classification")
    pairs = camvid_pairs(camvid, 4)
    t = torch.from_numpy(np.stack([a for a, _ in pairs]).astype(np.int64))
    p = torch.from_numpy(np.stack([b for _, b in pairs]).astype(np.int64))
    p[p == 7] = 4        # class 7 present in the ground truth, never predicted
    p[p == 11] = 0       # torchmetrics refuses predictions outside the classes
    t[t == 10] = 11      # class 10 predicted, absent from the ground truth
    ev = mcr.SemanticEvaluator(num_classes=11, ignore_index=11)
    ev.update_batch(t, p)
    res = ev.compute()
    kw = dict(num_classes=11, ignore_index=11)
    macro_iou = tmc.MulticlassJaccardIndex(average="macro", **kw)(p, t).item()
    weighted_iou = tmc.MulticlassJaccardIndex(average="weighted", **kw)(p, t).item()
    per_class_iou = tmc.MulticlassJaccardIndex(average="none", **kw)(p, t).numpy()
    f1 = tmc.MulticlassF1Score(average="macro", multidim_average="global", **kw)(p, t).item()
    assert res.miou == pytest.approx(macro_iou, rel=1e-6)          # float32 in torchmetrics
    assert res.fwiou == pytest.approx(weighted_iou, rel=1e-6)
    assert res.mean_dice == pytest.approx(f1, rel=1e-6)
    np.testing.assert_allclose(res.iou, per_class_iou, rtol=1e-6)
    # where they differ: an undefined precision / recall is 0 in torchmetrics'
    # macro mean, and left out here (mmsegmentation, hotcoco)
    prec = tmc.MulticlassPrecision(average="macro", **kw)(p, t).item()
    rec = tmc.MulticlassRecall(average="macro", **kw)(p, t).item()
    assert np.isnan(res.precision[7]) and np.isnan(res.recall[10])
    assert prec == pytest.approx(np.nansum(res.precision) / 11, rel=1e-6)
    assert rec == pytest.approx(np.nansum(res.recall) / 11, rel=1e-6)
    assert res.mean_precision > prec and res.mean_recall > rec


# ---------------------------------------------------------------------------
# accumulating, merging, state


def test_shards_merge_into_the_whole(camvid):
    pairs = camvid_pairs(camvid, 9)
    whole = mcr.SemanticEvaluator(num_classes=12, ignore_index=255)
    shards = [mcr.SemanticEvaluator(num_classes=12, ignore_index=255) for _ in range(3)]
    for i, (t, p) in enumerate(pairs):
        whole.update(t, p)
        shards[i % 3].update(mcr.encode(t), mcr.encode(p))
    merged = mcr.SemanticEvaluator(num_classes=12, ignore_index=255)
    merged.merge(shards[0])
    merged.merge(json.loads(json.dumps(shards[1].state())))     # across processes as JSON
    merged += pickle.loads(pickle.dumps(shards[2]))
    a, b = merged.compute(), whole.compute()
    np.testing.assert_array_equal(a.confusion_matrix, b.confusion_matrix)
    assert a.n_images == 9 and a.miou == b.miou
    restored = mcr.SemanticEvaluator.from_state(merged.state())
    assert restored.compute().miou == b.miou


def test_discovered_classes_grow_and_merge():
    a = mcr.SemanticEvaluator(ignore_index=255)
    b = mcr.SemanticEvaluator(ignore_index=255)
    a.update(np.array([[1, 1, 255]], np.uint8), np.array([[1, 4, 4]], np.uint8))
    assert a.labels == (1, 4)
    a.update(np.array([[0, 7, 7]], np.uint8), np.array([[0, 7, 1]], np.uint8))
    assert a.labels == (0, 1, 4, 7)
    b.update(np.array([[9, 1]], np.uint16), np.array([[9, 9]], np.uint16))
    a.merge(b)
    res = a.compute()
    assert res.labels == (0, 1, 4, 7, 9)
    cm, ignored = reference([([[1, 1, 255]], [[1, 4, 4]]), ([[0, 7, 7]], [[0, 7, 1]]),
                             ([[9, 1]], [[9, 9]])], [0, 1, 4, 7, 9], ignore=[255])
    assert_matches(res, cm, ignored)


def test_merge_refuses_other_settings():
    a = mcr.SemanticEvaluator(num_classes=3, ignore_index=255)
    with pytest.raises(mcr.RLEValueError, match="ignore_index"):
        a.merge(mcr.SemanticEvaluator(num_classes=3))
    with pytest.raises(mcr.RLEValueError, match="classes differ"):
        a.merge(mcr.SemanticEvaluator(num_classes=4, ignore_index=255))
    with pytest.raises(mcr.RLETypeError, match="state"):
        a.merge({"confusion": []})


def test_reset_and_repr():
    ev = mcr.SemanticEvaluator(num_classes=2)
    ev.update(np.array([0, 1]), np.array([0, 0]))
    assert "1 images" not in repr(ev) and "images=1" in repr(ev)
    ev.reset()
    assert ev.n_images == 0 and ev.confusion_matrix.sum() == 0


# ---------------------------------------------------------------------------
# conventions, reports


def test_undefined_values_are_nan_and_left_out():
    ev = mcr.SemanticEvaluator(num_classes=4)
    ev.update(np.array([0, 0, 1, 1]), np.array([0, 1, 1, 3]))
    res = ev.compute()
    assert np.isnan(res.iou[2]) and np.isnan(res.dice[2])          # in neither map
    assert res.iou[3] == 0 and np.isnan(res.recall[3])              # only predicted
    assert res.miou == pytest.approx(np.mean([0.5, 1 / 3, 0.0]))
    assert res.mean_accuracy == pytest.approx(0.5)
    d = res.to_dict()
    json.dumps(d, allow_nan=False)
    assert d["per_class"][2]["iou"] is None and d["summary"]["mIoU"] == pytest.approx(res.miou)


def test_empty_evaluator_gives_nan():
    res = mcr.SemanticEvaluator(num_classes=3).compute()
    assert np.isnan(res.miou) and np.isnan(res.pixel_accuracy) and np.isnan(res.fwiou)
    all_ignored = mcr.SemanticEvaluator(num_classes=2, ignore_index=9)
    all_ignored.update(np.full((2, 2), 9), np.zeros((2, 2), int))
    assert all_ignored.compute().ignored_pixels == 4
    assert np.isnan(all_ignored.compute().miou)


def test_table_names_classes():
    ev = mcr.SemanticEvaluator(num_classes=3, class_names=["road", "car", "sky"])
    ev.update(np.array([0, 1, 2, 2]), np.array([0, 1, 2, 1]))
    table = ev.compute().table()
    assert "road" in table and "sky" in table and "mIoU 66.67" in table
    names = mcr.SemanticEvaluator(class_names={3: "tree"})
    names.update(np.array([3, 4]), np.array([3, 3]))
    assert names.compute().class_names == ("tree", "4")


# ---------------------------------------------------------------------------
# bad input


def test_unknown_true_label_is_named_and_nothing_is_added():
    ev = mcr.SemanticEvaluator(num_classes=3)
    ev.update(np.array([0, 1]), np.array([0, 1]))
    with pytest.raises(mcr.RLEValueError, match=r"label 255 \(2 pixels\).*3 classes \(0\.\.2\)"
                                                 r".*ignore_index=255"):
        ev.update(np.array([0, 255, 255, 1], np.uint8), np.zeros(4, np.uint8))
    assert ev.n_images == 1 and ev.compute().confusion_matrix.sum() == 2


def test_size_mismatch_and_bad_rle():
    ev = mcr.SemanticEvaluator(num_classes=3)
    with pytest.raises(mcr.RLEValueError, match=r"true has size \[2, 3\] but pred has size "
                                                 r"\[3, 2\]"):
        ev.update(np.zeros((2, 3), np.uint8), np.zeros((3, 2), np.uint8))
    bad = {"size": [2, 2], "values": [0, 1], "counts": [1, 2]}
    with pytest.raises(mcr.MalformedRLEError, match="pred: counts sum to 3"):
        ev.update(np.zeros((2, 2), np.uint8), bad)
    with pytest.raises(mcr.RLETypeError, match="true"):
        ev.update(np.zeros((2, 2), np.float32), np.zeros((2, 2), np.uint8))
    assert ev.n_images == 0


@pytest.mark.parametrize("side", ["true", "pred"])
def test_malformed_compact_dicts_are_named(side):
    """The one-call path on two compact dicts refuses what decode refuses, with its message."""
    good = mcr.encode(np.array([[0, 1], [1, 2]], np.uint8))
    cases = [
        (mcr.Runs((2, 2), np.array([0, 1, 2], np.uint8), np.array([1, 2, 2])).to_dict(),
         mcr.MalformedRLEError, "counts sum to 5"),
        (dict(mcr.Runs((2, 2), np.array([0, 300, 2], np.uint16), np.array([1, 2, 1])).to_dict(),
              dtype="uint8"), mcr.MalformedRLEError, "300"),
        (dict(good, counts="1~"), mcr.MalformedRLEError, "character"),
        (dict(good, values=good["values"][:-1]), mcr.MalformedRLEError, "values"),
    ]
    for bad, exc, message in cases:
        ev = mcr.SemanticEvaluator(num_classes=3)
        pair = (bad, good) if side == "true" else (good, bad)
        with pytest.raises(exc, match=message) as info:
            ev.update(*pair)
        assert str(info.value).startswith(side)
        with pytest.raises(exc, match=message):
            mcr.decode(bad)
        assert ev.n_images == 0


def test_compact_dicts_of_other_shapes_and_dtypes():
    ev = mcr.SemanticEvaluator(labels=[-3, 0, 7, 300], ignore_index=-1)
    t = np.array([[-3, 0, 7], [300, -1, -1]], np.int16)
    p = np.array([[-3, 7, 7], [0, 300, -1]], np.int32)
    ev.update(mcr.encode(t), mcr.encode(p))
    cm, ignored = reference([(t, p)], [-3, 0, 7, 300], ignore=[-1])
    assert_matches(ev.compute(), cm, ignored)
    # labels past the kernel's lookup table (a cached binary search), uint16 ignore 65535
    big = mcr.SemanticEvaluator(labels=[0, 5000, 40000], ignore_index=65535)
    tb = np.array([[0, 5000, 40000, 65535], [40000, 40000, 5000, 7]], np.uint16)
    pb = np.array([[0, 40000, 40000, 0], [65535, 40000, 5000, 7]], np.uint16)
    tb[1, 3] = 0
    big.update(mcr.encode(tb), mcr.encode(pb))
    cm, ignored = reference([(tb, pb)], [0, 5000, 40000], ignore=[65535])
    assert_matches(big.compute(), cm, ignored)
    with pytest.raises(mcr.RLEValueError, match=r"true has size \[2, 3\] but pred has size \[3, 2\]"):
        ev.update(mcr.encode(t), mcr.encode(p.reshape(3, 2)))


def test_bad_arguments():
    with pytest.raises(mcr.RLEValueError, match="not both"):
        mcr.SemanticEvaluator(3, labels=[0, 1])
    with pytest.raises(mcr.RLEValueError, match="both a class and ignore_index"):
        mcr.SemanticEvaluator(3, ignore_index=2)
    with pytest.raises(mcr.RLEValueError, match="at least 1"):
        mcr.SemanticEvaluator(0)
    with pytest.raises(mcr.RLEValueError, match="2 names for num_classes=3"):
        mcr.SemanticEvaluator(3, class_names=["a", "b"])
    with pytest.raises(mcr.RLETypeError):
        mcr.SemanticEvaluator(3.0)
    with pytest.raises(mcr.RLEValueError, match="3 true maps but 2"):
        mcr.SemanticEvaluator(3).update_batch(np.zeros((3, 2, 2), int), np.zeros((2, 2, 2), int))


# ---------------------------------------------------------------------------
# properties


maps = st.integers(1, 40).flatmap(lambda n: st.tuples(
    st.lists(st.integers(0, 6), min_size=n, max_size=n),
    st.lists(st.integers(0, 6), min_size=n, max_size=n)))


@given(st.lists(maps, min_size=1, max_size=4), st.sampled_from(["uint8", "int16", "uint32"]))
def test_property_equals_reference(pairs, dtype):
    labels = [0, 1, 2, 3, 4, 5]
    ev = mcr.SemanticEvaluator(labels=labels, ignore_index=6)
    arrays = [(np.array(t, dtype), np.array(p, dtype)) for t, p in pairs]
    for t, p in arrays:
        ev.update(mcr.encode(t.reshape(1, -1)), mcr.encode_runs(p.reshape(1, -1)))
    cm, ignored = reference(arrays, labels, ignore=[6])
    res = ev.compute()
    np.testing.assert_array_equal(res.confusion_matrix, cm[:, :-1])
    np.testing.assert_array_equal(res.pred_other, cm[:, -1])
    assert res.ignored_pixels == ignored


def _long_map(draw, n_runs: int, labels: int) -> np.ndarray:
    """A 1D map of n_runs runs: mostly short (counts of one character in the
    compact string), some long, labels from a few (values of one character)."""
    lengths = draw(st.lists(st.one_of(st.integers(1, 15), st.integers(16, 3000)),
                            min_size=n_runs, max_size=n_runs))
    values = draw(st.lists(st.integers(0, labels - 1), min_size=n_runs, max_size=n_runs))
    return np.repeat(np.array(values, np.uint8), lengths)


@given(st.data())
def test_property_long_compact_pairs_equal_reference(data):
    """Maps of hundreds of runs: the fused kernel reads their strings in chunks
    (runs of one-character numbers in 64-character blocks) and walks each pair
    of chunks as two interleaved halves; the table must not depend on it."""
    n_runs = data.draw(st.integers(64, 1500))
    t = _long_map(data.draw, n_runs, 7)
    p = _long_map(data.draw, data.draw(st.integers(1, 1500)), 7)
    size = min(t.size, p.size)
    t, p = t[:size].reshape(1, -1), p[:size].reshape(1, -1)
    ev = mcr.SemanticEvaluator(labels=[0, 1, 2, 3, 4, 5], ignore_index=6)
    ev.update(mcr.encode(t), mcr.encode(p))
    assert mcr.as_runs(mcr.encode(t)) == mcr.encode_runs(t)
    cm, ignored = reference([(t, p)], [0, 1, 2, 3, 4, 5], ignore=[6])
    res = ev.compute()
    np.testing.assert_array_equal(res.confusion_matrix, cm[:, :-1])
    np.testing.assert_array_equal(res.pred_other, cm[:, -1])
    assert res.ignored_pixels == ignored
