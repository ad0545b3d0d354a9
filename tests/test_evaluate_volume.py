"""VolumeEvaluator / volume_metrics: per-label Dice, IoU and volume differences of 3D (any-d)
maps, equal to a numpy reference on real atlases; the convention for absent labels."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multiclass_rle as mcr


def reference(t, p, labels, ignore=None, empty=np.nan, voxel=1.0):
    t = np.asarray(t).ravel()
    p = np.asarray(p).ravel()
    if ignore is not None:
        keep = t != ignore
        t, p = t[keep], p[keep]
    out = {}
    for lab in labels:
        a, b = t == lab, p == lab
        tp, tv, pv = int((a & b).sum()), int(a.sum()), int(b.sum())
        dice = 2 * tp / (tv + pv) if tv + pv else empty
        iou = tp / (tv + pv - tp) if tv + pv else empty
        rvd = (pv - tv) / tv if tv else np.nan
        out[lab] = (tp, tv, pv, dice, iou, (pv - tv) * voxel, rvd)
    return out


def check(res, case, want):
    for j, lab in enumerate(res.labels):
        tp, tv, pv, dice, iou, vd, rvd = want[lab]
        assert (res.tp[case, j], res.true_voxels[case, j], res.pred_voxels[case, j]) == \
            (tp, tv, pv), lab
        np.testing.assert_allclose([res.dice[case, j], res.iou[case, j],
                                    res.volume_difference[case, j],
                                    res.relative_volume_difference[case, j]],
                                   [dice, iou, vd, rvd], rtol=1e-12, atol=0)


@pytest.fixture(scope="module")
def aal(data_dir):
    return np.load(data_dir / "niivue_volumes_dev" / "aal_181x217x181_uint8_F.npz")["labels"]


def shifted(vol, k):
    out = np.roll(vol, k, axis=0)
    out[:, :, :3] = 0
    return out


def test_aal_atlas_equals_reference(aal):
    pred = shifted(aal, 2)
    pred[pred == 50] = 51                     # one structure lost entirely
    res = mcr.volume_metrics(mcr.encode(aal), mcr.encode(pred), spacing=(1.0, 1.0, 1.5))
    labels = sorted((set(np.unique(aal).tolist()) | set(np.unique(pred).tolist())) - {0})
    assert res.labels == tuple(labels)
    check(res, 0, reference(aal, pred, labels, voxel=1.5))
    assert res.dice[0, labels.index(50)] == 0.0
    assert 0.5 < res.mean_dice < 0.95


def test_digimouse_and_many_cases(data_dir):
    vol = np.load(data_dir / "digimouse" / "digimouse_190x496x104_uint8.npz")["labels"]
    ev = mcr.VolumeEvaluator(class_names={1: "skin"})
    cases = [(vol, shifted(vol, 1)), (vol[:, :200], shifted(vol[:, :200], 3)),
             (vol[::2, ::2, ::2].copy(), vol[::2, ::2, ::2].copy())]
    for i, (t, p) in enumerate(cases):
        ev.update(mcr.encode_bytes(t), mcr.encode_runs(p), name=f"case{i}")
    res = ev.compute()
    assert res.cases == ("case0", "case1", "case2") and res.names[0] == "skin"
    for i, (t, p) in enumerate(cases):
        check(res, i, reference(t, p, res.labels))
    agg = res.per_label()
    j = 3
    d = res.dice[:, j]
    assert agg["dice"][j] == pytest.approx(np.nanmean(d), rel=1e-12)
    assert agg["dice_std"][j] == pytest.approx(np.nanstd(d), rel=1e-12)
    assert (res.dice[2] == 1.0).all()        # identical maps


@pytest.mark.parametrize("shape", [(50,), (7, 9), (4, 5, 6), (3, 4, 5, 2)])
def test_any_dimensions(shape):
    rng = np.random.default_rng(len(shape))
    t = rng.integers(0, 4, shape).astype(np.int16)
    p = np.where(rng.random(shape) < 0.3, rng.integers(0, 4, shape), t).astype(np.int16)
    res = mcr.volume_metrics(t, p, background=None, labels=[0, 1, 2, 3, 4])
    check(res, 0, reference(t, p, [0, 1, 2, 3, 4]))
    assert np.isnan(res.dice[0, 4])


def test_absent_labels_and_the_empty_score():
    t = np.array([[[1, 1, 0, 0]]], np.uint8)
    p = np.array([[[1, 0, 0, 2]]], np.uint8)
    res = mcr.volume_metrics(t, p, labels=[1, 2, 3])
    assert res.dice.tolist()[0][:2] == [2 / 3, 0.0] and np.isnan(res.dice[0, 2])
    assert np.isnan(res.relative_volume_difference[0, 1])      # no true voxels
    assert res.volume_difference[0, 2] == 0.0
    brats = mcr.volume_metrics(t, p, labels=[1, 2, 3], empty_score=1.0)
    assert brats.dice[0, 2] == 1.0 and brats.iou[0, 2] == 1.0
    # the means over cases leave NaN out
    ev = mcr.VolumeEvaluator(labels=[1, 2])
    ev.update(t, p)
    ev.update(np.zeros((1, 1, 4), np.uint8), np.zeros((1, 1, 4), np.uint8))
    agg = ev.compute().per_label()
    assert agg["dice"].tolist() == [2 / 3, 0.0] and agg["n_cases"].tolist() == [1, 1]
    json.dumps(ev.compute().to_dict(), allow_nan=False)


def test_ignore_index_and_background():
    t = np.array([0, 1, 1, 9, 9, 2], np.int32)
    p = np.array([1, 1, 2, 1, 2, 2], np.int32)
    res = mcr.volume_metrics(t, p, ignore_index=9)
    assert res.labels == (1, 2)
    check(res, 0, reference(t, p, [1, 2], ignore=9))
    with_bg = mcr.volume_metrics(t, p, ignore_index=9, background=None)
    assert with_bg.labels == (0, 1, 2)


def test_merge_state_and_table():
    t = np.array([[1, 1, 2, 0]], np.uint8)
    a, b = mcr.VolumeEvaluator(), mcr.VolumeEvaluator()
    a.update(t, t, name="a")
    b.update(t, np.array([[1, 0, 3, 3]], np.uint8), name="b", spacing=(2.0, 0.5))
    a.merge(json.loads(json.dumps(b.state())))
    res = a.compute()
    assert res.cases == ("a", "b") and res.labels == (1, 2, 3)
    assert res.voxel_volume.tolist() == [1.0, 1.0]
    assert res.dice[0].tolist()[:2] == [1.0, 1.0] and np.isnan(res.dice[0, 2])
    assert "mean Dice" in res.table() and "VolumeResult" in repr(res)


def test_bad_input():
    with pytest.raises(mcr.RLEValueError, match="spacing"):
        mcr.volume_metrics(np.zeros((2, 2), int), np.zeros((2, 2), int), spacing=(1.0,))
    with pytest.raises(mcr.RLEValueError, match="true has size"):
        mcr.volume_metrics(np.zeros((2, 2), int), np.zeros((4,), int))
    with pytest.raises(mcr.RLEValueError, match="both scored and ignore_index"):
        mcr.VolumeEvaluator(labels=[1, 2], ignore_index=2)
    with pytest.raises(mcr.RLETypeError, match="empty_score"):
        mcr.VolumeEvaluator(empty_score="x")
    with pytest.raises(mcr.RLEValueError, match="labels differ"):
        mcr.VolumeEvaluator(labels=[1]).merge(mcr.VolumeEvaluator(labels=[2]))
