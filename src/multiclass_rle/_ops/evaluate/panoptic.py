"""Panoptic quality (PQ, SQ, RQ) over a dataset, with panopticapi's rules, on runs.

:class:`PanopticEvaluator` takes pairs of segment-id maps (ground truth,
prediction) with their segment tables, one image at a time, and counts per
category the true positives, false positives, false negatives and the sum
of the matched IoUs, exactly as ``panopticapi.evaluation.pq_compute`` does
(docs/evaluation.md lists its rules, quirks included). The pixel counts of
every (ground-truth segment, predicted segment) pair come from one pass of
the C kernel over both run sequences; the rules are vectorised numpy on
that small table.

Three inputs: id maps with COCO ``segments_info`` lists (the COCO panoptic
format, whose ground-truth areas are the JSON ``area`` fields), id maps
with a table ``{segment id: category id}``, and label maps with a label
divisor (``id = category * divisor + instance``, as Cityscapes and
panoptic-deeplab store them).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._codec import _core
from ..._codec.errors import RLETypeError, RLEValueError
from ..._codec.runs import Runs
from .._common import as_int, label_sums
from ._maps import (
    STATE_VERSION,
    GroupMap,
    check_same_shape,
    check_state,
    compact_pair,
    group_index,
    index_dtype,
    json_number,
    map_runs,
    pair_triplets,
    set_frozen,
    table_triplets,
)
from ._table import format_table, percent

__all__ = ["PanopticEvaluator", "PanopticResult"]

_GROUPS = (("All", None), ("Things", True), ("Stuff", False))


@dataclass(frozen=True, repr=False)
class PanopticResult:
    """PQ, SQ and RQ of a :class:`PanopticEvaluator`, per category and per group.

    Per-category arrays follow ``category_ids``. For a category with
    ``tp + fp + fn == 0`` (never in either the ground truth or the
    predictions) ``pq``/``sq``/``rq`` are NaN and it is left out of the
    group means (panopticapi reports 0.0 for it and also leaves it out:
    :meth:`as_panopticapi`). As in panopticapi, ``sq`` is 0 (not NaN) for a
    category with no true positive but some false ones.

    Attributes
    ----------
    category_ids : tuple of int
    names : tuple of str
    isthing : tuple of bool
    tp, fp, fn : numpy.ndarray
        int64 per category: matched pairs, unmatched predictions that count,
        unmatched non-crowd ground-truth segments, summed over the images.
    iou_sum : numpy.ndarray
        float64 per category: the sum of the IoUs of its matches.
    pq, sq, rq : numpy.ndarray
        float64 per category: ``iou_sum / (tp + fp/2 + fn/2)``,
        ``iou_sum / tp``, ``tp / (tp + fp/2 + fn/2)``.
    n_images : int
    """

    category_ids: tuple[int, ...]
    names: tuple[str, ...]
    isthing: tuple[bool, ...]
    tp: np.ndarray
    fp: np.ndarray
    fn: np.ndarray
    iou_sum: np.ndarray
    n_images: int
    pq: np.ndarray = field(init=False)
    sq: np.ndarray = field(init=False)
    rq: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        tp, fp, fn, iou = self.tp, self.fp, self.fn, self.iou_sum
        den = tp + 0.5 * fp + 0.5 * fn
        seen = (tp + fp + fn) > 0
        pq = np.full(tp.shape, np.nan)
        rq = np.full(tp.shape, np.nan)
        sq = np.full(tp.shape, np.nan)
        np.divide(iou, den, out=pq, where=seen)
        np.divide(tp, den, out=rq, where=seen)
        sq[seen] = 0.0
        np.divide(iou, tp, out=sq, where=seen & (tp > 0))
        set_frozen(self, {"pq": pq, "sq": sq, "rq": rq})

    def group(self, name: str = "All") -> dict[str, float]:
        """``{'pq', 'sq', 'rq', 'n'}`` of ``'All'``, ``'Things'`` or ``'Stuff'``.

        Unweighted means over the group's categories with ``tp + fp + fn > 0``
        (``n`` of them); NaN when there is none (panopticapi divides by zero).
        """
        which = dict(_GROUPS)
        if name not in which:
            raise RLEValueError(f"group must be 'All', 'Things' or 'Stuff', got {name!r}")
        want = which[name]
        sel = ~np.isnan(self.pq)
        if want is not None:
            sel &= np.array(self.isthing, dtype=bool) == want
        n = int(sel.sum())
        if n == 0:
            return {"pq": float("nan"), "sq": float("nan"), "rq": float("nan"), "n": 0}
        return {"pq": float(self.pq[sel].sum() / n), "sq": float(self.sq[sel].sum() / n),
                "rq": float(self.rq[sel].sum() / n), "n": n}

    @property
    def pq_all(self) -> float:
        """PQ over all categories (``group('All')['pq']``)."""
        return self.group("All")["pq"]

    def summary(self) -> dict[str, dict[str, float]]:
        """``{'All': group('All'), 'Things': ..., 'Stuff': ...}``."""
        return {name: self.group(name) for name, _ in _GROUPS}

    def as_panopticapi(self) -> dict[Any, Any]:
        """What ``panopticapi.evaluation.pq_compute`` returns, for code that reads it.

        ``{'All': {'pq', 'sq', 'rq', 'n'}, 'Things': ..., 'Stuff': ...,
        'per_class': {category_id: {'pq', 'sq', 'rq'}}}``, with 0.0 for
        categories never seen; an empty group has NaN where panopticapi
        raises ZeroDivisionError.
        """
        out: dict[Any, Any] = dict(self.summary())
        out["per_class"] = {
            cid: ({"pq": 0.0, "sq": 0.0, "rq": 0.0} if np.isnan(self.pq[i]) else
                  {"pq": float(self.pq[i]), "sq": float(self.sq[i]), "rq": float(self.rq[i])})
            for i, cid in enumerate(self.category_ids)}
        return out

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe values (NaN as None)."""
        return {
            "task": "panoptic",
            "n_images": self.n_images,
            "summary": {g: {k: (v if k == "n" else json_number(v)) for k, v in d.items()}
                        for g, d in self.summary().items()},
            "per_class": [
                {"category_id": cid, "name": self.names[i], "isthing": self.isthing[i],
                 "pq": json_number(self.pq[i]), "sq": json_number(self.sq[i]),
                 "rq": json_number(self.rq[i]), "tp": int(self.tp[i]), "fp": int(self.fp[i]),
                 "fn": int(self.fn[i]), "iou_sum": float(self.iou_sum[i])}
                for i, cid in enumerate(self.category_ids)],
        }

    def table(self, all_categories: bool = False) -> str:
        """Per-category rows (those seen, or all) and panopticapi's All/Things/Stuff lines."""
        rows = [[str(cid), self.names[i], "thing" if self.isthing[i] else "stuff",
                 percent(self.pq[i]), percent(self.sq[i]), percent(self.rq[i]),
                 str(int(self.tp[i])), str(int(self.fp[i])), str(int(self.fn[i]))]
                for i, cid in enumerate(self.category_ids)
                if all_categories or not np.isnan(self.pq[i])]
        per_class = format_table(["id", "category", "kind", "PQ", "SQ", "RQ", "TP", "FP", "FN"],
                                 rows, align="lllrrrrrr")
        groups = format_table(
            ["", "PQ", "SQ", "RQ", "N"],
            [[name, percent(g["pq"]), percent(g["sq"]), percent(g["rq"]), str(g["n"])]
             for name, g in self.summary().items()], align="lrrrr")
        return f"{per_class}\n\n{groups}\n({self.n_images} images)"

    def __repr__(self) -> str:
        g = self.group("All")
        return (f"PanopticResult(PQ={g['pq']:.4f}, SQ={g['sq']:.4f}, RQ={g['rq']:.4f}, "
                f"categories={g['n']}, images={self.n_images})")


@dataclass
class _Segments:
    """One image's segment table: ids, category positions, crowd flags, areas (or None)."""

    ids: list[int]
    cats: np.ndarray          # uint32, position in the evaluator's categories
    crowd: np.ndarray         # uint8, 1 for crowd segments
    area: np.ndarray | None   # float64 (the JSON field), or None: count the pixels
    void: list[int]           # ids that are void (0 in the COCO format)


def _categories(categories: Any) -> tuple[list[int], list[str], list[bool]]:
    if isinstance(categories, Mapping):
        items = [dict(v, id=k) if isinstance(v, Mapping) else v for k, v in categories.items()]
    elif isinstance(categories, (str, bytes)) or not isinstance(categories, Sequence):
        raise RLETypeError("categories must be a list of COCO category dicts "
                           "({'id', 'name', 'isthing'}) or a mapping id -> such dict")
    else:
        items = list(categories)
    ids, names, things = [], [], []
    for i, cat in enumerate(items):
        if not isinstance(cat, Mapping) or "id" not in cat or "isthing" not in cat:
            raise RLEValueError(f"categories[{i}] must be a dict with 'id' and 'isthing' "
                                f"(and a 'name'), got {cat!r}")
        cid = as_int(cat["id"], f"categories[{i}]['id']")
        if cid in ids:
            raise RLEValueError(f"categories list id {cid} twice")
        ids.append(cid)
        names.append(str(cat.get("name", cid)))
        things.append(bool(cat["isthing"]))
    if not ids:
        raise RLEValueError("categories is empty")
    return ids, names, things


class PanopticEvaluator:
    """Accumulates panoptic quality statistics of image pairs, by panopticapi's rules.

    Parameters
    ----------
    categories : list of dict or mapping
        COCO panoptic categories: ``{'id', 'name', 'isthing'}`` each (the
        ``categories`` of the ground-truth JSON), or a mapping id -> dict.
    label_divisor : int, optional
        For label maps whose id is ``category * label_divisor + instance``
        (Cityscapes: 1000): segments come from the maps themselves, ground-
        truth areas are pixel counts, and a ground-truth id of a *thing*
        category with instance 0 is a crowd region (the Cityscapes rule).
        Without it, :meth:`update` needs segment tables.
    void_label : int, optional
        With ``label_divisor``: the category value that means void (e.g. 255
        for panoptic-deeplab, whose void id is ``255 * label_divisor``). Id 0
        is void too unless 0 is a category id, and ground-truth ids of
        categories not in ``categories`` are void (as in panopticapi's
        Cityscapes converter); predicted ones are an error.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> cats = [{"id": 1, "name": "person", "isthing": 1}, {"id": 2, "name": "sky", "isthing": 0}]
    >>> gt = np.array([[1, 1, 2, 2], [1, 1, 2, 2], [0, 0, 2, 2]], np.uint32)
    >>> pred = np.array([[7, 7, 9, 9], [7, 0, 9, 9], [7, 0, 9, 9]], np.uint32)
    >>> ev = mcr.PanopticEvaluator(cats)
    >>> ev.update(gt, pred, {1: 1, 2: 2}, {7: 1, 9: 2})   # segment id -> category id
    >>> res = ev.compute()
    >>> round(res.group("All")["pq"], 4), res.tp.tolist(), res.fp.tolist(), res.fn.tolist()
    (0.875, [1, 1], [0, 0], [0, 0])
    """

    def __init__(self, categories: Any, *, label_divisor: int | None = None,
                 void_label: int | None = None) -> None:
        self._cat_ids, self._names, self._isthing = _categories(categories)
        self._cat_pos = {cid: i for i, cid in enumerate(self._cat_ids)}
        self._thing = np.array(self._isthing, dtype=bool)
        if label_divisor is not None:
            label_divisor = as_int(label_divisor, "label_divisor")
            if label_divisor < 1:
                raise RLEValueError(f"label_divisor must be positive, got {label_divisor}")
        elif void_label is not None:
            raise RLEValueError("void_label needs label_divisor (in the COCO format void is id 0)")
        self._divisor = label_divisor
        self._void_label = None if void_label is None else as_int(void_label, "void_label")
        self.reset()

    def reset(self) -> None:
        """Forget every image added."""
        n = len(self._cat_ids)
        self._tp = np.zeros(n, dtype=np.int64)
        self._fp = np.zeros(n, dtype=np.int64)
        self._fn = np.zeros(n, dtype=np.int64)
        self._iou = np.zeros(n, dtype=np.float64)
        self._n_images = 0

    @property
    def n_images(self) -> int:
        return self._n_images

    # -- segment tables --------------------------------------------------------
    def _table(self, segments: Any, role: str, where: str) -> _Segments:
        """A ``segments_info`` list (COCO dicts) or a mapping id -> category id."""
        crowd: list[bool] | None = None
        areas: list[Any] | None = None
        if isinstance(segments, Mapping):
            ids, cats = list(segments), list(segments.values())
        elif isinstance(segments, Sequence) and not isinstance(segments, (str, bytes)):
            try:
                ids = [seg["id"] for seg in segments]
                cats = [seg["category_id"] for seg in segments]
                if role == "gt":
                    crowd = [seg.get("iscrowd", 0) == 1 for seg in segments]
                    areas = [seg.get("area") for seg in segments]
            except (TypeError, KeyError, AttributeError):
                bad = next(seg for seg in segments if not isinstance(seg, Mapping)
                           or "id" not in seg or "category_id" not in seg)
                raise RLEValueError(f"{where}{role} segments_info entry {bad!r} needs "
                                    f"'id' and 'category_id'") from None
        else:
            raise RLETypeError(f"{where}{role} segments must be a segments_info list or a "
                               f"mapping segment id -> category id, got {type(segments).__name__}")
        pos = self._cat_pos
        try:
            cat_index = [pos[c] for c in cats]
        except (KeyError, TypeError):
            self._table_error(ids, cats, role, where)
            raise   # not reached: the check names the problem
        if not all(type(x) is int for x in ids) or len(set(ids)) != len(ids) or \
                (ids and min(ids) <= 0):
            self._table_error(ids, cats, role, where)
            ids = [int(x) for x in ids]   # numpy integers
        area_arr = None
        if areas is not None and None not in areas:
            try:
                area_arr = np.array(areas, dtype=np.float64)
            except (TypeError, ValueError):
                raise RLEValueError(f"{where}{role} segment areas must be numbers") from None
        return _Segments(ids, np.array(cat_index, dtype=np.uint32),
                         np.array(crowd if crowd is not None else [False] * len(ids),
                                  dtype=np.uint8), area_arr, [0])

    def _table_error(self, ids: list[Any], cats: list[Any], role: str, where: str) -> None:
        seen: set[int] = set()
        for sid, cid in zip(ids, cats):
            try:
                s = as_int(sid, "segment id")
            except RLETypeError:
                raise RLEValueError(f"{where}{role} segment id {sid!r} is not an integer") from None
            if s == 0:
                raise RLEValueError(f"{where}{role} segment with id 0: 0 is void, not a segment")
            if s < 0:
                raise RLEValueError(f"{where}{role} segment id {s} is negative")
            if s in seen:
                raise RLEValueError(f"{where}{role} segment id {s} is listed twice")
            seen.add(s)
            if not isinstance(cid, (int, np.integer)) or cid not in self._cat_pos:
                raise RLEValueError(f"{where}{role} segment {s} has unknown category_id {cid!r}")

    def _divisor_table(self, runs: Runs, role: str, where: str) -> _Segments:
        """Segments of a label map with a label divisor: every id present is one."""
        d = self._divisor
        assert d is not None
        _, labels, _ = label_sums(runs)
        ids: list[int] = []
        cats: list[int] = []
        crowd: list[bool] = []
        void: list[int] = []
        for lab in labels.tolist():
            lab = int(lab)
            cat, inst = divmod(lab, d)
            if cat == self._void_label or (lab == 0 and 0 not in self._cat_pos):
                void.append(lab)
                continue
            p = self._cat_pos.get(cat)
            if p is None:
                if role == "gt":
                    void.append(lab)
                    continue
                raise RLEValueError(
                    f"{where}pred segment {lab} has category {cat} (= {lab} // {d}), which is "
                    f"not among the categories" + ("" if self._void_label is None else
                                                    f" nor void_label {self._void_label}"))
            ids.append(lab)
            cats.append(p)
            crowd.append(role == "gt" and inst == 0 and self._isthing[p])
        return _Segments(ids, np.array(cats, dtype=np.uint32), np.array(crowd, dtype=np.uint8),
                         None, void)

    # -- adding images -----------------------------------------------------------
    def update(self, gt: Any, pred: Any, gt_segments: Any = None, pred_segments: Any = None,
               *, image_id: Any = None) -> None:
        """Add one image: ground-truth and predicted id maps and their segment tables.

        Parameters
        ----------
        gt, pred
            Segment-id maps in any form the library reads (RLE dicts, bytes,
            :class:`Runs`, numpy arrays, torch tensors), the same shape.
        gt_segments, pred_segments
            COCO ``segments_info`` lists (``id``, ``category_id``, for the
            ground truth ``iscrowd`` and ``area``), or mappings segment id ->
            category id. Not given with ``label_divisor``.
        image_id
            Named in error messages.

        Raises
        ------
        RLEValueError
            Sizes differ; a predicted id in the map but not in its table or
            the reverse; an unknown category; an id listed twice or id 0 in a
            table. The message names the image and the id. The image is then
            not counted.
        """
        where = f"image {image_id}: " if image_id is not None else \
            f"image #{self._n_images}: "
        pred_runs: Runs | None = None
        if self._divisor is not None:
            if gt_segments is not None or pred_segments is not None:
                raise RLEValueError("with label_divisor the segments come from the maps; "
                                    "give no segment tables")
            g, counts_g = map_runs(gt, "gt")
            p, counts_p = map_runs(pred, "pred")
            check_same_shape(g, p, where)
            gs = self._divisor_table(g, "gt", where)
            ps = self._divisor_table(p, "pred", where)
            rows, cols, inter = self._pairs(g, counts_g, gs, p, counts_p, ps)
            pred_runs = p
        else:
            if gt_segments is None or pred_segments is None:
                raise RLEValueError("update needs gt_segments and pred_segments (segments_info "
                                    "lists or id -> category mappings), or build the "
                                    "evaluator with label_divisor")
            gs = self._table(gt_segments, "gt", where)
            ps = self._table(pred_segments, "pred", where)
            ng, npr = len(gs.ids), len(ps.ids)
            gid = np.array(gs.ids, dtype=np.uint64)
            pid = np.array(ps.ids, dtype=np.uint64)
            # two compact dicts: one C call parses both, maps ids to segments and pairs them
            table = compact_pair(gt, pred,
                                 lambda dt: GroupMap.for_segments(dt, gid, ng, ng + 1, ng + 2),
                                 lambda dt: GroupMap.for_segments(dt, pid, npr, npr + 1, npr + 2))
            if table is not None:
                rows, cols, inter = table_triplets(table)
            else:
                g, counts_g = map_runs(gt, "gt")
                p, counts_p = map_runs(pred, "pred")
                check_same_shape(g, p, where)
                rows, cols, inter = self._pairs(g, counts_g, gs, p, counts_p, ps)
                pred_runs = p
        self._rules(rows, cols, inter, gs, ps, where, lambda: (
            pred_runs if pred_runs is not None else map_runs(pred, "pred")[0]))
        self._n_images += 1

    @staticmethod
    def _pairs(g: Runs, counts_g: np.ndarray, gs: _Segments, p: Runs, counts_p: np.ndarray,
               ps: _Segments) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The pair table's non-zero entries from runs (any forms). Rows: gt segments,
        void, ids not in the table; columns: the same for the prediction."""
        ng, npr = len(gs.ids), len(ps.ids)
        index = index_dtype(max(ng, npr) + 2)
        gi = group_index(g.values, gs.ids + gs.void, list(range(ng)) + [ng] * len(gs.void),
                         ng + 1, index)
        pi = group_index(p.values, ps.ids + ps.void, list(range(npr)) + [npr] * len(ps.void),
                         npr + 1, index)
        return pair_triplets(g, gi, counts_g, ng + 2, p, pi, counts_p, npr + 2)

    def _rules(self, rows: np.ndarray, cols: np.ndarray, pixels: np.ndarray, gs: _Segments,
               ps: _Segments, where: str, pred_runs: Callable[[], Runs]) -> None:
        """panopticapi's rules on one image's pair table (C kernel ``pq_image``): adds its
        per-category TP, FP, FN and IoU sums to the totals, or nothing on an error."""
        try:
            _core.pq_image(rows, cols, pixels, len(gs.ids), gs.cats, gs.crowd, gs.area,
                           len(ps.ids), ps.cats, self._tp, self._fp, self._fn, self._iou)
        except _core.CodecError as exc:
            self._rules_error(exc, rows, cols, pixels, gs, ps, where, pred_runs)
            raise   # not reached: the checks above name the problem

    def _rules_error(self, exc: Any, rows: np.ndarray, cols: np.ndarray, pixels: np.ndarray,
                     gs: _Segments, ps: _Segments, where: str,
                     pred_runs: Callable[[], Runs]) -> None:
        ng, npr = len(gs.ids), len(ps.ids)
        if exc.args[0] == _core.ERR_VALUE_RANGE:
            k = exc.args[2]
            r, c = int(rows[k]), int(cols[k])
            area = float(gs.area[r]) if gs.area is not None else float("nan")
            raise RLEValueError(
                f"{where}gt segment {gs.ids[r]} has area {area:g} in its table but "
                f"{int(pixels[k])} pixels overlap pred segment {ps.ids[c]}; the IoU is "
                f"undefined (ground-truth areas come from the table, as in panopticapi)")
        area = np.zeros(npr + 2, dtype=np.uint64)
        np.add.at(area, cols.astype(np.intp), pixels)
        if area[npr + 1] > 0:
            self._pred_not_listed(pred_runs(), ps, where)
        missing = np.flatnonzero(area[:npr] == 0)
        if missing.size:
            listed = [ps.ids[j] for j in missing[:10].tolist()]
            raise RLEValueError(f"{where}pred segments {listed} are in segments_info but not "
                                f"in the map" + ("" if missing.size <= 10 else
                                                f" ({missing.size} in all)"))

    def _pred_not_listed(self, p: Runs, ps: _Segments, where: str) -> None:
        _, labels, _ = label_sums(p)
        known = set(ps.ids) | set(ps.void)
        extra = [int(x) for x in labels.tolist() if int(x) not in known]
        raise RLEValueError(f"{where}pred segment ids {extra[:10]} are in the map but not in "
                            f"segments_info" + ("" if len(extra) <= 10 else
                                                f" ({len(extra)} in all)"))

    # -- results and merging -----------------------------------------------------
    def compute(self) -> PanopticResult:
        """PQ/SQ/RQ of every image added so far (:class:`PanopticResult`)."""
        return PanopticResult(tuple(self._cat_ids), tuple(self._names), tuple(self._isthing),
                              self._tp.copy(), self._fp.copy(), self._fn.copy(),
                              self._iou.copy(), self._n_images)

    def state(self) -> dict[str, Any]:
        """The accumulated totals as JSON-safe values (for :meth:`merge`, :meth:`from_state`)."""
        return {"kind": "multiclass_rle.PanopticEvaluator", "version": STATE_VERSION,
                "categories": [{"id": c, "name": n, "isthing": int(t)} for c, n, t in
                               zip(self._cat_ids, self._names, self._isthing)],
                "label_divisor": self._divisor, "void_label": self._void_label,
                "tp": self._tp.tolist(), "fp": self._fp.tolist(), "fn": self._fn.tolist(),
                "iou_sum": self._iou.tolist(), "n_images": self._n_images}

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> PanopticEvaluator:
        """An evaluator holding the totals of :meth:`state`."""
        check_state(state, "PanopticEvaluator")
        ev = cls(state["categories"], label_divisor=state.get("label_divisor"),
                 void_label=state.get("void_label"))
        n = len(ev._cat_ids)
        for name in ("tp", "fp", "fn"):
            arr = np.array(state[name], dtype=np.int64)
            if arr.shape != (n,) or (arr < 0).any():
                raise RLEValueError(f"state: {name} must hold {n} non-negative counts")
            setattr(ev, f"_{name}", arr)
        ev._iou = np.array(state["iou_sum"], dtype=np.float64).reshape(n)
        ev._n_images = int(state["n_images"])
        return ev

    def merge(self, other: PanopticEvaluator | Mapping[str, Any]) -> PanopticEvaluator:
        """Add another evaluator's totals (or its :meth:`state`); returns self."""
        if not isinstance(other, PanopticEvaluator):
            other = PanopticEvaluator.from_state(other)
        if other._cat_ids != self._cat_ids or other._isthing != self._isthing:
            raise RLEValueError("cannot merge: the categories differ")
        self._tp += other._tp
        self._fp += other._fp
        self._fn += other._fn
        self._iou += other._iou
        self._n_images += other._n_images
        return self

    def __iadd__(self, other: PanopticEvaluator) -> PanopticEvaluator:
        return self.merge(other)

    def __repr__(self) -> str:
        return (f"PanopticEvaluator({len(self._cat_ids)} categories, "
                f"images={self._n_images})")
