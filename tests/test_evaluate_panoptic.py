"""PanopticEvaluator: panopticapi's pq_compute rules, one at a time on hand-made maps, and
on the COCO panoptic sample with perturbed predictions against a plain transcription of
the rules, hotcoco (pip) and panopticapi itself (PANOPTICAPI_PATH, else skipped)."""

from __future__ import annotations

import importlib
import json
import os
import pickle
import sys

import numpy as np
import pytest

import multiclass_rle as mcr

CATS = [{"id": 1, "name": "person", "isthing": 1}, {"id": 2, "name": "car", "isthing": 1},
        {"id": 3, "name": "sky", "isthing": 0}, {"id": 4, "name": "road", "isthing": 0}]

# ---------------------------------------------------------------------------
# the rules written out plainly (dicts and loops), as panopticapi's evaluation.py states them


def reference_stats(pairs, categories):
    """Per category [iou_sum, tp, fp, fn] of (gt, gt_segments, pred, pred_segments) pairs."""
    stats = {c["id"]: [0.0, 0, 0, 0] for c in categories}
    for gt, gsegs, pred, psegs in pairs:
        gt = np.asarray(gt).astype(np.uint64)
        pred = np.asarray(pred).astype(np.uint64)
        gt_info = {s["id"]: s for s in gsegs}
        ids, counts = np.unique(pred, return_counts=True)
        area = dict(zip(ids.tolist(), counts.tolist()))
        pred_info = {s["id"]: dict(s, area=area[s["id"]]) for s in psegs}
        keys, inter_counts = np.unique(gt * np.uint64(2**32) + pred, return_counts=True)
        inter = {(k >> 32, k & 0xFFFFFFFF): c for k, c in zip(keys.tolist(), inter_counts.tolist())}
        gt_matched, pred_matched = set(), set()
        for (g, p), n in sorted(inter.items()):
            if g not in gt_info or p not in pred_info:
                continue
            gs, ps = gt_info[g], pred_info[p]
            if gs["iscrowd"] == 1 or gs["category_id"] != ps["category_id"]:
                continue
            union = ps["area"] + gs["area"] - n - inter.get((0, p), 0)
            if n / union > 0.5:
                st = stats[gs["category_id"]]
                st[0] += n / union
                st[1] += 1
                gt_matched.add(g)
                pred_matched.add(p)
        crowd = {}
        for g, gs in gt_info.items():
            if g in gt_matched:
                continue
            if gs["iscrowd"] == 1:
                crowd[gs["category_id"]] = g      # the last one of its category
                continue
            stats[gs["category_id"]][3] += 1
        for p, ps in pred_info.items():
            if p in pred_matched:
                continue
            ignored = inter.get((0, p), 0)
            if ps["category_id"] in crowd:
                ignored += inter.get((crowd[ps["category_id"]], p), 0)
            if ignored / ps["area"] > 0.5:
                continue
            stats[ps["category_id"]][2] += 1
    return stats


def reference_groups(stats, categories):
    out = {}
    for name, want in (("All", None), ("Things", True), ("Stuff", False)):
        pq = sq = rq = 0.0
        n = 0
        for c in categories:
            if want is not None and bool(c["isthing"]) != want:
                continue
            iou, tp, fp, fn = stats[c["id"]]
            if tp + fp + fn == 0:
                continue
            n += 1
            pq += iou / (tp + 0.5 * fp + 0.5 * fn)
            sq += iou / tp if tp else 0.0
            rq += tp / (tp + 0.5 * fp + 0.5 * fn)
        out[name] = {"pq": pq / n, "sq": sq / n, "rq": rq / n, "n": n} if n else None
    return out


def assert_equal_to_reference(res, pairs, categories):
    stats = reference_stats(pairs, categories)
    for i, c in enumerate(categories):
        iou, tp, fp, fn = stats[c["id"]]
        assert (res.tp[i], res.fp[i], res.fn[i]) == (tp, fp, fn), c
        assert res.iou_sum[i] == pytest.approx(iou, rel=1e-12, abs=1e-12)
    for name, want in reference_groups(stats, categories).items():
        got = res.group(name)
        if want is None:
            assert got["n"] == 0 and np.isnan(got["pq"])
            continue
        assert got["n"] == want["n"]
        for k in ("pq", "sq", "rq"):
            assert got[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12), (name, k)


def evaluate(pairs, categories=CATS, form=lambda a: a, **kw):
    ev = mcr.PanopticEvaluator(categories, **kw)
    for i, (gt, gsegs, pred, psegs) in enumerate(pairs):
        ev.update(form(gt), form(pred), gsegs, psegs, image_id=i)
    return ev.compute()


def seg(i, cat, area=None, crowd=0):
    d = {"id": i, "category_id": cat, "iscrowd": crowd}
    if area is not None:
        d["area"] = area
    return d


def segs_of(ids, cats, crowd=()):
    """segments_info of an id map: {id: category}, areas counted, ids in ``crowd`` crowd."""
    ids = np.asarray(ids)
    return [seg(i, c, int((ids == i).sum()), int(i in crowd)) for i, c in cats.items()]


def one(gt, gcats, pred, pcats, crowd=(), **kw):
    gt, pred = np.array(gt, np.uint32), np.array(pred, np.uint32)
    pairs = [(gt, segs_of(gt, gcats, crowd), pred, [seg(i, c) for i, c in pcats.items()])]
    res = evaluate(pairs, **kw)
    assert_equal_to_reference(res, pairs, CATS)
    return res


def counts(res, cat):
    i = [c["id"] for c in CATS].index(cat)
    return int(res.tp[i]), int(res.fp[i]), int(res.fn[i])


# ---------------------------------------------------------------------------
# each rule on its own


def test_match_needs_iou_strictly_above_half():
    # gt segment 5 has 4 pixels; pred 7 covers 2 of them and 0 else: IoU 2/4 = 0.5
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 9, 9]], {7: 1, 9: 3})
    assert counts(res, 1) == (0, 1, 1)
    # 3 of 4 pixels, nothing else: IoU 0.75
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 7, 9]], {7: 1, 9: 3})
    assert counts(res, 1) == (1, 0, 0) and res.iou_sum[0] == 0.75


def test_match_needs_the_same_category():
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 7, 7]], {7: 2})
    assert counts(res, 1) == (0, 0, 1) and counts(res, 2) == (0, 1, 0)


def test_union_leaves_out_only_the_predictions_overlap_with_gt_void():
    # pred 7 covers gt 5 (2 pixels) and 2 gt void pixels: IoU 2 / (4 + 2 - 2 - 2) = 1
    res = one([[5, 5, 0, 0]], {5: 1}, [[7, 7, 7, 7]], {7: 1})
    assert counts(res, 1) == (1, 0, 0) and res.iou_sum[0] == 1.0
    # predicted void inside the gt segment stays in the gt area: 2 / (2 + 4 - 2) = 0.5
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 0, 0]], {7: 1})
    assert counts(res, 1) == (0, 1, 1)


def test_crowd_gt_is_never_matched_and_hides_predictions_of_its_category():
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 7, 7]], {7: 1}, crowd={5})
    assert counts(res, 1) == (0, 0, 0)          # no FN for crowd, the pred is not an FP
    assert res.group("All")["n"] == 0 and np.isnan(res.group("All")["pq"])
    res = one([[5, 5, 5, 5]], {5: 1}, [[7, 7, 7, 7]], {7: 2}, crowd={5})
    assert counts(res, 2) == (0, 1, 0)          # a crowd of another category hides nothing


def test_only_the_last_crowd_segment_of_a_category_counts():
    gt = [[5, 5, 5, 6, 6, 6]]
    # pred over the first crowd segment of category 1: an FP
    res = one(gt, {5: 1, 6: 1}, [[7, 7, 7, 0, 0, 0]], {7: 1}, crowd={5, 6})
    assert counts(res, 1) == (0, 1, 0)
    # over the last one: ignored
    res = one(gt, {5: 1, 6: 1}, [[0, 0, 0, 7, 7, 7]], {7: 1}, crowd={5, 6})
    assert counts(res, 1) == (0, 0, 0)
    # table order decides, not the ids: 6 listed first, so 5 is the last
    gt_a = np.array(gt, np.uint32)
    pairs = [(gt_a, [seg(6, 1, 3, 1), seg(5, 1, 3, 1)], np.array([[7, 7, 7, 0, 0, 0]], np.uint32),
              [seg(7, 1)])]
    res = evaluate(pairs)
    assert counts(res, 1) == (0, 0, 0)
    assert_equal_to_reference(res, pairs, CATS)


def test_unmatched_prediction_over_half_in_void_and_crowd_is_no_false_positive():
    # 2 of 4 pixels in void: exactly half is an FP
    res = one([[0, 0, 8, 8]], {8: 3}, [[7, 7, 7, 7]], {7: 1})
    assert counts(res, 1) == (0, 1, 0)
    # 3 of 5 pixels in void + crowd of its category: ignored
    res = one([[0, 0, 5, 8, 8]], {5: 1, 8: 3}, [[7, 7, 7, 7, 7]], {7: 1}, crowd={5})
    assert counts(res, 1) == (0, 0, 0) and counts(res, 3) == (0, 0, 1)


def test_gt_areas_come_from_the_table():
    gt = np.array([[5, 5, 5, 5]], np.uint32)
    pred = np.array([[7, 7, 7, 9]], np.uint32)
    # true area 4 gives IoU 0.75; a table area of 8 gives 3 / (4 + 8 - 3) = 0.33
    pairs = [(gt, [seg(5, 1, area=8)], pred, [seg(7, 1), seg(9, 3)])]
    res = evaluate(pairs)
    assert counts(res, 1) == (0, 1, 1)
    assert_equal_to_reference(res, pairs, CATS)
    # a mapping table (no areas) counts the pixels
    res = mcr.PanopticEvaluator(CATS)
    res.update(gt, pred, {5: 1}, {7: 1, 9: 3})
    assert res.compute().tp[0] == 1


def test_inconsistent_gt_areas_may_match_twice_as_in_panopticapi():
    # areas smaller than the pixels: two predictions pass IoU > 0.5 with one gt segment
    gt = np.array([[5, 5, 5, 5, 5, 5]], np.uint32)
    pred = np.array([[7, 7, 7, 9, 9, 9]], np.uint32)
    pairs = [(gt, [seg(5, 1, area=1)], pred, [seg(7, 1), seg(9, 1)])]
    res = evaluate(pairs)
    assert counts(res, 1) == (2, 0, 0)
    assert_equal_to_reference(res, pairs, CATS)


@pytest.mark.parametrize("form", [lambda a: a, mcr.encode], ids=["array", "compact"])
def test_undefined_iou_from_a_bad_area_is_an_error(form):
    with pytest.raises(mcr.RLEValueError, match=r"image 0: gt segment 5 has area 0 in its table .* "
                                                 r"pred segment 7"):
        evaluate([(np.array([[5, 5]], np.uint32), [seg(5, 1, area=0)],
                   np.array([[7, 7]], np.uint32), [seg(7, 1)])], form=form)


def test_missed_gt_segments_are_false_negatives_also_when_absent_from_the_map():
    gt = np.array([[5, 5, 0, 0]], np.uint32)
    pairs = [(gt, [seg(5, 1, 2), seg(6, 2, 10)], np.zeros((1, 4), np.uint32), [])]
    res = evaluate(pairs)
    assert counts(res, 1) == (0, 0, 1) and counts(res, 2) == (0, 0, 1)
    assert_equal_to_reference(res, pairs, CATS)


def test_gt_ids_missing_from_the_table_are_not_void():
    # gt id 9 is in the map but not listed: a prediction over it is an FP, not ignored
    res = one([[9, 9, 9, 5]], {5: 3}, [[7, 7, 7, 8]], {7: 1, 8: 3})
    assert counts(res, 1) == (0, 1, 0) and counts(res, 3) == (1, 0, 0)


def test_no_area_threshold_and_sums_over_images():
    gt = np.array([[5]], np.uint32)
    pairs = [(gt, [seg(5, 1, 1)], np.array([[7]], np.uint32), [seg(7, 1)])] * 3
    res = evaluate(pairs)
    assert counts(res, 1) == (3, 0, 0) and res.n_images == 3
    assert res.group("Things") == {"pq": 1.0, "sq": 1.0, "rq": 1.0, "n": 1}


def test_averages_per_category_without_weights_and_empty_groups():
    res = one([[5, 5, 6, 6, 6, 6]], {5: 1, 6: 2}, [[7, 7, 8, 8, 8, 0]], {7: 1, 8: 2})
    assert res.group("Things")["pq"] == pytest.approx((1.0 + 0.75) / 2)
    stuff = res.group("Stuff")
    assert stuff["n"] == 0 and np.isnan(stuff["pq"]) and np.isnan(stuff["sq"])
    api = res.as_panopticapi()
    assert api["per_class"][3] == {"pq": 0.0, "sq": 0.0, "rq": 0.0}
    assert api["All"]["n"] == 2 and api["per_class"][2]["sq"] == 0.75
    assert np.isnan(res.pq[2]) and "person" in res.table()
    json.dumps(res.to_dict(), allow_nan=False)


def test_sq_is_zero_for_a_category_without_true_positives():
    res = one([[5, 5]], {5: 1}, [[7, 0]], {7: 1})    # IoU 0.5: FP and FN
    assert res.sq[0] == 0.0 and res.pq[0] == 0.0 and res.group("All")["n"] == 1


# ---------------------------------------------------------------------------
# validation: errors name the image and the id


@pytest.mark.parametrize("pred_segs, pred, message", [
    ([seg(7, 1)], [[7, 8]], r"image 0: pred segment ids \[8\] are in the map but not in "
                            r"segments_info"),
    ([seg(7, 1), seg(8, 1), seg(9, 2)], [[7, 8]], r"image 0: pred segments \[9\] are in "
                                                  r"segments_info but not in the map"),
    ([seg(7, 1), seg(8, 99)], [[7, 8]], r"image 0: pred segment 8 has unknown category_id 99"),
    ([seg(7, 1), seg(7, 2)], [[7, 7]], r"image 0: pred segment id 7 is listed twice"),
    ([seg(0, 1), seg(7, 1)], [[7, 0]], r"image 0: pred segment with id 0: 0 is void"),
    ([{"id": 7}], [[7, 7]], r"needs 'id' and 'category_id'"),
])
@pytest.mark.parametrize("form", [lambda a: a, mcr.encode], ids=["array", "compact"])
def test_strict_validation_of_predictions(pred_segs, pred, message, form):
    ev = mcr.PanopticEvaluator(CATS)
    with pytest.raises(mcr.RLEValueError, match=message):
        ev.update(form(np.array([[5, 5]], np.uint32)), form(np.array(pred, np.uint32)),
                  [seg(5, 1, 2)], pred_segs, image_id=0)
    assert ev.n_images == 0 and ev.compute().tp.sum() == 0


def test_validation_of_gt_and_shapes():
    ev = mcr.PanopticEvaluator(CATS)
    with pytest.raises(mcr.RLEValueError, match="image 42: gt segment 5 has unknown category_id 7"):
        ev.update(np.array([[5]]), np.array([[0]]), [seg(5, 7, 1)], [], image_id=42)
    with pytest.raises(mcr.RLEValueError, match=r"image 3: true has size \[1, 2\] but pred"):
        ev.update(np.zeros((1, 2), int), np.zeros((2, 1), int), [], [], image_id=3)
    with pytest.raises(mcr.RLEValueError, match="needs gt_segments"):
        ev.update(np.zeros((1, 2), int), np.zeros((1, 2), int))
    with pytest.raises(mcr.RLETypeError, match="segments_info list or a mapping"):
        ev.update(np.zeros((1, 2), int), np.zeros((1, 2), int), "abc", [])
    with pytest.raises(mcr.RLEValueError, match="'id' and 'isthing'"):
        mcr.PanopticEvaluator([{"id": 1}])
    with pytest.raises(mcr.RLEValueError, match="void_label needs label_divisor"):
        mcr.PanopticEvaluator(CATS, void_label=0)


# ---------------------------------------------------------------------------
# label maps with a label divisor (Cityscapes, panoptic-deeplab)


def test_label_divisor_maps_equal_the_same_segments_as_tables():
    d = 1000
    gt = np.array([[1001, 1001, 1002, 2000, 3000, 3000, 255000, 7000]], np.int32)
    pred = np.array([[1005, 1005, 1005, 2003, 3000, 4000, 3000, 255000]], np.int32)
    ev = mcr.PanopticEvaluator(CATS, label_divisor=d, void_label=255)
    ev.update(gt, pred)
    res = ev.compute()
    # the same as id maps with tables: 2000 (a thing with instance 0) is crowd; the
    # void label and unknown gt category 7 are void (0)
    g = np.where(np.isin(gt, [255000, 7000]), 0, gt)
    p = np.where(pred == 255000, 0, pred)
    gsegs = [seg(1001, 1, 2), seg(1002, 1, 1), seg(2000, 2, 1, crowd=1), seg(3000, 3, 2)]
    psegs = [seg(1005, 1), seg(2003, 2), seg(3000, 3), seg(4000, 4)]
    assert_equal_to_reference(res, [(g, gsegs, p, psegs)], CATS)
    assert counts(res, 2) == (0, 0, 0)           # the car is over the crowd region
    with pytest.raises(mcr.RLEValueError, match=r"pred segment 9001 has category 9 "
                                                 r"\(= 9001 // 1000\)"):
        ev.update(gt, np.full_like(gt, 9001), image_id="x")
    with pytest.raises(mcr.RLEValueError, match="give no segment tables"):
        ev.update(gt, pred, [], [])


# ---------------------------------------------------------------------------
# the COCO panoptic sample with perturbed predictions


def erode(ids, steps):
    out = ids.copy()
    for _ in range(steps):
        same = np.ones(out.shape, bool)
        for axis in (0, 1):
            for shift in (1, -1):
                same &= np.roll(out, shift, axis) == out
        out = np.where(same, out, 0)
    return out


def dilate(ids, steps):
    out = ids.copy()
    for _ in range(steps):
        for axis in (0, 1):
            for shift in (1, -1):
                nb = np.roll(out, shift, axis)
                out = np.where(out == 0, nb, out)
    return out


def perturb(ids, segs, rng, cats):
    """A prediction from a ground truth: every kind of error, chosen at random."""
    cat_of = {s["id"]: s["category_id"] for s in segs}
    pred = ids.copy()
    kind = rng.integers(8)
    seg_ids = [s["id"] for s in segs if s["id"] in set(np.unique(ids).tolist())]
    if kind == 0:
        pred = erode(pred, int(rng.integers(1, 4)))
    elif kind == 1:
        pred = dilate(erode(pred, 3), int(rng.integers(1, 8)))
    elif kind == 2:
        pred = np.roll(pred, tuple(rng.integers(-9, 10, 2)), axis=(0, 1))
    if rng.random() < 0.5:                                  # dropped segments
        for s in rng.choice(seg_ids, size=min(3, len(seg_ids)), replace=False):
            pred[pred == s] = 0
    if rng.random() < 0.5:                                  # merged: same category
        by_cat = {}
        for s in seg_ids:
            by_cat.setdefault(cat_of[s], []).append(s)
        for group in by_cat.values():
            if len(group) > 1:
                pred[pred == group[1]] = group[0]
    if rng.random() < 0.5:                                  # split in two
        s = int(rng.choice(seg_ids))
        ys, xs = np.nonzero(pred == s)
        if xs.size:
            left = (pred == s) & (np.arange(pred.shape[1])[None, :] < np.median(xs))
            pred[left] = 16_000_000 + s % 1000
            cat_of[16_000_000 + s % 1000] = cat_of[s]
    if rng.random() < 0.5:                                  # predicted void
        y, x = rng.integers(0, pred.shape[0] - 40), rng.integers(0, pred.shape[1] - 60)
        pred[y:y + 40, x:x + 60] = 0
    if rng.random() < 0.5:                                  # a new segment
        y, x = rng.integers(0, pred.shape[0] - 30), rng.integers(0, pred.shape[1] - 30)
        pred[y:y + 30, x:x + 30] = 12_345_678
        cat_of[12_345_678] = int(rng.choice([c["id"] for c in cats]))
    relabel = rng.random() < 0.5
    psegs = []
    for s in np.unique(pred).tolist():
        if s == 0:
            continue
        c = cat_of[s]
        if relabel and rng.random() < 0.15:
            c = int(rng.choice([c["id"] for c in cats]))
        psegs.append({"id": s, "category_id": c, "area": 1})   # pred areas are recounted
    rng.shuffle(psegs)
    gsegs = [dict(s) for s in segs]
    if rng.random() < 0.3:                                  # more crowd regions
        for s in rng.choice(len(gsegs), size=3, replace=False):
            gsegs[s]["iscrowd"] = 1
    if rng.random() < 0.3:                                  # JSON areas that are not the pixels
        for s in gsegs:
            s["area"] = int(s["area"] * rng.uniform(0.6, 1.6)) + 1
    return pred.astype(np.uint32), psegs, gsegs


@pytest.fixture(scope="module")
def coco(data_dir):
    base = data_dir / "coco_panoptic_sample"
    gt_json = json.loads((base / "orig" / "sample_data" / "panoptic_examples.json").read_text())
    cats = json.loads((base / "orig" / "panoptic_coco_categories.json").read_text())
    images = []
    for ann in gt_json["annotations"]:
        ids = np.load(base / f"panoptic_examples__{ann['image_id']:012d}_uint32.npy")
        images.append((ann["image_id"], ids, ann["segments_info"]))
    return cats, images


@pytest.fixture(scope="module")
def coco_pairs(coco):
    cats, images = coco
    rng = np.random.default_rng(15)
    pairs = []
    for k in range(24):
        image_id, ids, segs = images[k % len(images)]
        pred, psegs, gsegs = perturb(ids, segs, rng, cats)
        pairs.append((ids, gsegs, pred, psegs))
    return pairs


PAN_FORMS = {"array": lambda a: a, "compact": mcr.encode, "bytes": mcr.encode_bytes,
             "runs": mcr.encode_runs, "packed": lambda a: mcr.encode(a, packed=True)}


@pytest.mark.parametrize("form", sorted(PAN_FORMS))
def test_coco_sample_equals_the_rules(coco, coco_pairs, form):
    cats, _ = coco
    res = evaluate(coco_pairs, cats, PAN_FORMS[form])
    assert_equal_to_reference(res, coco_pairs, cats)
    assert res.fp.sum() > 0 and res.fn.sum() > 0 and res.tp.sum() > 50
    assert 0.1 < res.group("All")["pq"] < 0.95


def test_coco_sample_identity_is_perfect(coco):
    cats, images = coco
    ev = mcr.PanopticEvaluator(cats)
    for image_id, ids, segs in images:
        rle = mcr.encode(ids)
        ev.update(rle, rle, segs, segs, image_id=image_id)
    assert ev.compute().group("All") == {"pq": 1.0, "sq": 1.0, "rq": 1.0, "n": 8}


def test_sparse_pair_table_equals_dense(coco, coco_pairs, monkeypatch):
    from multiclass_rle._ops.evaluate import _maps

    cats, _ = coco
    dense = evaluate(coco_pairs[:6], cats, mcr.encode)
    monkeypatch.setattr(_maps, "DENSE_LIMIT", 4)
    sparse = evaluate(coco_pairs[:6], cats, mcr.encode)
    for name in ("tp", "fp", "fn", "iou_sum"):
        np.testing.assert_array_equal(getattr(dense, name), getattr(sparse, name))


def test_merge_and_state(coco, coco_pairs):
    cats, _ = coco
    whole = evaluate(coco_pairs, cats)
    a = mcr.PanopticEvaluator(cats)
    b = mcr.PanopticEvaluator(cats)
    for i, (gt, gsegs, pred, psegs) in enumerate(coco_pairs):
        (a if i % 2 else b).update(gt, pred, gsegs, psegs)
    a.merge(json.loads(json.dumps(b.state())))
    merged = pickle.loads(pickle.dumps(a)).compute()
    np.testing.assert_array_equal(merged.tp, whole.tp)
    assert merged.group("All")["pq"] == pytest.approx(whole.group("All")["pq"], rel=1e-12)
    with pytest.raises(mcr.RLEValueError, match="categories differ"):
        a.merge(mcr.PanopticEvaluator(CATS))


# ---------------------------------------------------------------------------
# the references themselves, on the same perturbed predictions


def _write_coco(folder, name, pairs, which, cats):
    Image = pytest.importorskip("PIL.Image")
    png_dir = folder / name
    png_dir.mkdir()
    anns, imgs = [], []
    for i, pair in enumerate(pairs):
        ids = pair[0] if which == "gt" else pair[2]
        segs = pair[1] if which == "gt" else pair[3]
        rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], axis=-1).astype(np.uint8)
        Image.fromarray(rgb).save(png_dir / f"{i:06d}.png")
        anns.append({"image_id": i, "file_name": f"{i:06d}.png", "segments_info": segs})
        imgs.append({"id": i, "file_name": f"{i:06d}.jpg", "height": int(ids.shape[0]),
                     "width": int(ids.shape[1])})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"images": imgs, "annotations": anns, "categories": cats}))
    return path, png_dir


def test_equals_hotcoco_png_path(coco, coco_pairs, tmp_path):
    panoptic = pytest.importorskip("hotcoco").panoptic
    cats, _ = coco
    gt_json, gt_dir = _write_coco(tmp_path, "gt", coco_pairs, "gt", cats)
    pred_json, pred_dir = _write_coco(tmp_path, "pred", coco_pairs, "pred", cats)
    ev = panoptic.PanopticEval(str(gt_json), str(pred_json), gt_folder=str(gt_dir),
                               pred_folder=str(pred_dir))
    ev.evaluate()
    want = ev.results()
    res = evaluate(coco_pairs, cats, mcr.encode)
    for name in ("All", "Things", "Stuff"):
        for k in ("pq", "sq", "rq"):
            assert res.group(name)[k] == pytest.approx(want[name][k], rel=1e-12, abs=1e-12)
        assert res.group(name)["n"] == want[name]["n"]
    for cid, d in want["per_class"].items():
        got = res.as_panopticapi()["per_class"][int(cid)]
        if d["pq"] == -1:   # hotcoco's mark of a category never seen (panopticapi: 0.0)
            assert np.isnan(res.pq[[c["id"] for c in cats].index(int(cid))])
            continue
        for k in ("pq", "sq", "rq"):
            assert got[k] == pytest.approx(d[k], rel=1e-12, abs=1e-12)


def _panopticapi():
    path = os.environ.get("PANOPTICAPI_PATH")
    if not path:
        pytest.skip("PANOPTICAPI_PATH (a checkout of cocodataset/panopticapi) is not set")
    pytest.importorskip("PIL.Image")
    sys.path.insert(0, path)
    try:
        return importlib.import_module("panopticapi.evaluation")
    finally:
        sys.path.remove(path)


def test_equals_panopticapi(coco, coco_pairs, tmp_path, capsys):
    evaluation = _panopticapi()
    cats, _ = coco
    gt_json, gt_dir = _write_coco(tmp_path, "gt", coco_pairs, "gt", cats)
    pred_json, pred_dir = _write_coco(tmp_path, "pred", coco_pairs, "pred", cats)
    gt_anns = json.loads(gt_json.read_text())["annotations"]
    pred_anns = json.loads(pred_json.read_text())["annotations"]
    categories = {c["id"]: c for c in cats}
    # its single-core function: pq_compute would start (and never close) a pool
    stat = evaluation.pq_compute_single_core(0, list(zip(gt_anns, pred_anns)), str(gt_dir),
                                             str(pred_dir), categories)
    res = evaluate(coco_pairs, cats, mcr.encode)
    for i, c in enumerate(cats):
        s = stat.pq_per_cat[c["id"]]
        assert (res.tp[i], res.fp[i], res.fn[i]) == (s.tp, s.fp, s.fn)
        assert res.iou_sum[i] == pytest.approx(s.iou, rel=1e-12, abs=1e-12)
    for name, isthing in (("All", None), ("Things", True), ("Stuff", False)):
        want, per_class = stat.pq_average(categories, isthing=isthing)
        for k in ("pq", "sq", "rq"):
            assert res.group(name)[k] == pytest.approx(want[k], rel=1e-12, abs=1e-12)
        if name == "All":
            api = res.as_panopticapi()["per_class"]
            for cid, d in per_class.items():
                for k in ("pq", "sq", "rq"):
                    assert api[cid][k] == pytest.approx(d[k], rel=1e-12, abs=1e-12)
    capsys.readouterr()
