"""Per-label overlap and volume metrics of 3D (any-dimensional) label maps, case by case.

Medical segmentation reports each structure of each case: Dice, IoU
(Jaccard) and the volume difference, then the mean over cases. One pass of
the C kernel over both run sequences gives every label's overlap and both
volumes at once, without decoding the volumes.

Convention for a label absent from both maps of a case: its Dice and IoU
are NaN (``empty_score``) and left out of the means over cases, as nnU-Net
does; ``empty_score=1.0`` counts it as perfect (the BraTS rule). A label in
one map only scores 0. Label 0 is background and not scored (``background``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._codec.errors import RLETypeError, RLEValueError
from .._common import as_int, label_list, label_union
from ._maps import (
    STATE_VERSION,
    check_same_shape,
    check_state,
    group_index,
    index_dtype,
    json_number,
    map_runs,
    pair_matrix,
    set_frozen,
)
from ._table import format_table, number

__all__ = ["VolumeEvaluator", "VolumeResult", "volume_metrics"]


def _ratio(num: np.ndarray, den: np.ndarray, empty: float) -> np.ndarray:
    out = np.full(num.shape, float(empty))
    np.divide(num, den, out=out, where=den > 0)
    return out


def _nan_stats(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per column: mean and standard deviation (ddof 0) of the non-NaN values, and their count."""
    ok = ~np.isnan(x)
    n = ok.sum(axis=0)
    filled = np.where(ok, x, 0.0)
    mean = np.full(x.shape[1], np.nan)
    np.divide(filled.sum(axis=0), n, out=mean, where=n > 0)
    dev = np.where(ok, x - mean, 0.0)
    std = np.full(x.shape[1], np.nan)
    np.divide((dev * dev).sum(axis=0), n, out=std, where=n > 0)
    return mean, np.sqrt(std), n


@dataclass(frozen=True, repr=False)
class VolumeResult:
    """Per case and per label: overlap, volumes and their difference.

    Arrays are ``(n_cases, n_labels)``, rows following ``cases`` and columns
    ``labels``.

    Attributes
    ----------
    labels : tuple of int
    names : tuple of str
    cases : tuple of str
    tp, true_voxels, pred_voxels : numpy.ndarray
        int64: voxels with the label in both maps, in the ground truth, in
        the prediction (voxels whose true label is ignored left out).
    voxel_volume : numpy.ndarray
        float64 per case: the volume of one voxel (the product of the
        spacing; 1 without one).
    dice, iou : numpy.ndarray
        ``2 tp / (true + pred)`` and ``tp / (true + pred - tp)``;
        ``empty_score`` (NaN by default) where the label is in neither map.
    volume_difference : numpy.ndarray
        ``(pred - true) * voxel_volume``: positive when the prediction is
        too large (0 where the label is in neither map).
    relative_volume_difference : numpy.ndarray
        ``(pred - true) / true``; NaN where the ground truth lacks the label.
    """

    labels: tuple[int, ...]
    names: tuple[str, ...]
    cases: tuple[str, ...]
    tp: np.ndarray
    true_voxels: np.ndarray
    pred_voxels: np.ndarray
    voxel_volume: np.ndarray
    empty_score: float = float("nan")
    dice: np.ndarray = field(init=False)
    iou: np.ndarray = field(init=False)
    volume_difference: np.ndarray = field(init=False)
    relative_volume_difference: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        tp, t, p = self.tp, self.true_voxels, self.pred_voxels
        diff = (p - t).astype(np.float64)
        values = {
            "dice": _ratio(2 * tp, t + p, self.empty_score),
            "iou": _ratio(tp, t + p - tp, self.empty_score),
            "volume_difference": diff * self.voxel_volume[:, None],
            "relative_volume_difference": _ratio(diff, t.astype(np.float64), np.nan),
        }
        set_frozen(self, values)

    def per_label(self) -> dict[str, np.ndarray]:
        """Means over cases per label (NaN left out), standard deviations and counts.

        Keys: ``dice``, ``dice_std``, ``iou``, ``iou_std``,
        ``volume_difference``, ``abs_volume_difference``,
        ``relative_volume_difference``, ``n_cases`` (cases where Dice is
        defined).
        """
        dice, dice_std, n = _nan_stats(self.dice)
        iou, iou_std, _ = _nan_stats(self.iou)
        vd, _, _ = _nan_stats(self.volume_difference)
        avd, _, _ = _nan_stats(np.abs(self.volume_difference))
        rvd, _, _ = _nan_stats(self.relative_volume_difference)
        return {"dice": dice, "dice_std": dice_std, "iou": iou, "iou_std": iou_std,
                "volume_difference": vd, "abs_volume_difference": avd,
                "relative_volume_difference": rvd, "n_cases": n}

    @property
    def mean_dice(self) -> float:
        """Mean over labels of each label's mean Dice over cases (labels never scored left out)."""
        d = self.per_label()["dice"]
        d = d[~np.isnan(d)]
        return float(d.mean()) if d.size else float("nan")

    @property
    def mean_iou(self) -> float:
        """As :attr:`mean_dice`, for IoU."""
        d = self.per_label()["iou"]
        d = d[~np.isnan(d)]
        return float(d.mean()) if d.size else float("nan")

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe values (NaN as None)."""
        agg = self.per_label()
        return {
            "task": "volume",
            "n_cases": len(self.cases),
            "summary": {"mean_dice": json_number(self.mean_dice),
                        "mean_iou": json_number(self.mean_iou)},
            "per_label": [
                {"label": lab, "name": self.names[j],
                 **{k: (int(v[j]) if k == "n_cases" else json_number(v[j]))
                    for k, v in agg.items()}}
                for j, lab in enumerate(self.labels)],
            "per_case": [
                {"case": case, "voxel_volume": float(self.voxel_volume[i]),
                 "labels": [
                     {"label": lab, "dice": json_number(self.dice[i, j]),
                      "iou": json_number(self.iou[i, j]),
                      "true_voxels": int(self.true_voxels[i, j]),
                      "pred_voxels": int(self.pred_voxels[i, j]), "tp": int(self.tp[i, j]),
                      "volume_difference": float(self.volume_difference[i, j]),
                      "relative_volume_difference":
                          json_number(self.relative_volume_difference[i, j])}
                     for j, lab in enumerate(self.labels)]}
                for i, case in enumerate(self.cases)],
        }

    def table(self) -> str:
        """Per-label means over cases, and the overall means."""
        agg = self.per_label()
        rows = [[str(lab), self.names[j], number(agg["dice"][j]), number(agg["dice_std"][j]),
                 number(agg["iou"][j]), f"{agg['volume_difference'][j]:.6g}",
                 number(agg["relative_volume_difference"][j]), str(int(agg["n_cases"][j]))]
                for j, lab in enumerate(self.labels)]
        head = format_table(["label", "name", "Dice", "Dice sd", "IoU", "vol diff", "rel vol diff",
                             "cases"], rows, align="llrrrrrr")
        return (f"{head}\nmean Dice {number(self.mean_dice)}  mean IoU {number(self.mean_iou)}  "
                f"({len(self.cases)} cases)")

    def __repr__(self) -> str:
        return (f"VolumeResult(mean_dice={self.mean_dice:.4f}, labels={len(self.labels)}, "
                f"cases={len(self.cases)})")


class VolumeEvaluator:
    """Collects per-label overlaps of (ground truth, prediction) volume pairs, case by case.

    Parameters
    ----------
    labels : sequence of int, optional
        Labels to score. Default: every label of any map added, except
        ``background`` and ``ignore_index``. Other labels count as background.
    background : int or None
        Not scored (default 0); ``None`` scores every label.
    ignore_index : int, optional
        Voxels whose true label it is are left out entirely.
    class_names : mapping or sequence, optional
        Names by label (a sequence is indexed by label value).
    empty_score : float
        Dice and IoU of a label absent from both maps of a case: NaN (left
        out of the means, nnU-Net's rule) or e.g. 1.0 (BraTS's).

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> true = np.zeros((4, 4, 4), np.uint8); true[1:3, 1:3, 1:3] = 1; true[0, 0, :2] = 2
    >>> pred = np.zeros((4, 4, 4), np.uint8); pred[1:3, 1:3, 1:4] = 1
    >>> ev = mcr.VolumeEvaluator()
    >>> ev.update(true, pred, name="case1", spacing=(1.0, 1.0, 2.5))
    >>> res = ev.compute()
    >>> res.labels, res.dice.round(3).tolist(), res.volume_difference.tolist()
    ((1, 2), [[0.8, 0.0]], [[10.0, -5.0]])
    """

    def __init__(self, labels: Any = None, *, background: int | None = 0,
                 ignore_index: int | None = None, class_names: Any = None,
                 empty_score: float = float("nan")) -> None:
        self._fixed = labels is not None
        self._labels = label_list(labels) if labels is not None else []
        self._background = None if background is None else as_int(background, "background")
        self._ignore = None if ignore_index is None else as_int(ignore_index, "ignore_index")
        if self._ignore is not None and self._ignore in self._labels:
            raise RLEValueError(f"label {self._ignore} is both scored and ignore_index")
        if class_names is not None and not isinstance(class_names, (Mapping, Sequence)):
            raise RLETypeError("class_names must be a mapping label -> name or a sequence")
        self._class_names = class_names
        try:
            self._empty = float(empty_score)
        except (TypeError, ValueError):
            raise RLETypeError(f"empty_score must be a number, got {empty_score!r}") from None
        self.reset()

    def reset(self) -> None:
        """Forget every case added."""
        self._cases: list[str] = []
        self._rows: list[dict[int, tuple[int, int, int]]] = []
        self._voxel: list[float] = []
        if not self._fixed:
            self._labels = []

    @property
    def n_cases(self) -> int:
        return len(self._cases)

    def update(self, true: Any, pred: Any, *, name: str | None = None,
               spacing: Sequence[float] | None = None) -> None:
        """Add one case: ground truth and prediction of the same shape, any forms.

        ``spacing``: the voxel size along each axis (e.g. millimetres), for
        volume differences in physical units.
        """
        t, counts_t = map_runs(true, "true")
        p, counts_p = map_runs(pred, "pred")
        check_same_shape(t, p)
        voxel = 1.0
        if spacing is not None:
            sp = [float(s) for s in spacing]
            if len(sp) != len(t.shape) or not all(s > 0 for s in sp):
                raise RLEValueError(f"spacing {tuple(spacing)} must give one positive size per "
                                    f"axis of the {len(t.shape)}-d maps")
            voxel = float(np.prod(sp))
        skip = {x for x in (self._background, self._ignore) if x is not None}
        if self._fixed:
            labels = self._labels
        else:
            labels = [x for x in label_union(t, p) if x not in skip]
        k = len(labels)
        index = index_dtype(k + 2)
        keys = list(labels) + ([] if self._ignore is None else [self._ignore])
        ti = group_index(t.values, keys, list(range(k)) + [k + 1] * (len(keys) - k), k, index)
        pi = group_index(p.values, labels, list(range(k)), k, index)
        m = pair_matrix(t, ti, counts_t, k + 2, p, pi, counts_p, k + 1)
        kept = m[:k + 1]                   # the ignored row left out
        tp = np.diagonal(kept).tolist()
        tv = kept[:k].sum(axis=1).tolist()
        pv = kept.sum(axis=0)[:k].tolist()
        self._rows.append({lab: (int(tp[j]), int(tv[j]), int(pv[j]))
                           for j, lab in enumerate(labels)})
        self._cases.append(str(len(self._cases)) if name is None else str(name))
        self._voxel.append(voxel)
        if not self._fixed:
            self._labels = sorted(set(self._labels) | set(labels))

    def compute(self) -> VolumeResult:
        """Every case added so far (:class:`VolumeResult`)."""
        labels = list(self._labels)
        shape = (len(self._cases), len(labels))
        tp = np.zeros(shape, dtype=np.int64)
        tv = np.zeros(shape, dtype=np.int64)
        pv = np.zeros(shape, dtype=np.int64)
        col = {lab: j for j, lab in enumerate(labels)}
        for i, row in enumerate(self._rows):
            for lab, (a, b, c) in row.items():
                j = col[lab]
                tp[i, j], tv[i, j], pv[i, j] = a, b, c
        names = _names(labels, self._class_names)
        return VolumeResult(tuple(labels), names, tuple(self._cases), tp, tv, pv,
                            np.array(self._voxel, dtype=np.float64), self._empty)

    def state(self) -> dict[str, Any]:
        """The cases collected, as JSON-safe values (for :meth:`merge`)."""
        return {"kind": "multiclass_rle.VolumeEvaluator", "version": STATE_VERSION,
                "labels": list(self._labels), "fixed": self._fixed,
                "background": self._background, "ignore_index": self._ignore,
                "empty_score": self._empty if np.isfinite(self._empty) else None,
                "cases": list(self._cases), "voxel_volume": list(self._voxel),
                "rows": [[[lab, *v] for lab, v in row.items()] for row in self._rows]}

    def merge(self, other: VolumeEvaluator | Mapping[str, Any]) -> VolumeEvaluator:
        """Append another evaluator's cases (or its :meth:`state`); returns self."""
        if isinstance(other, VolumeEvaluator):
            other = other.state()
        check_state(other, "VolumeEvaluator")
        if (other["background"], other["ignore_index"]) != (self._background, self._ignore):
            raise RLEValueError("cannot merge: background or ignore_index differ")
        if self._fixed and list(other["labels"]) != self._labels:
            raise RLEValueError("cannot merge: the labels differ")
        for case, voxel, row in zip(other["cases"], other["voxel_volume"], other["rows"]):
            self._cases.append(str(case))
            self._voxel.append(float(voxel))
            self._rows.append({int(r[0]): (int(r[1]), int(r[2]), int(r[3])) for r in row})
        if not self._fixed:
            self._labels = sorted(set(self._labels) | {int(x) for x in other["labels"]})
        return self

    def __repr__(self) -> str:
        return f"VolumeEvaluator({len(self._labels)} labels, cases={len(self._cases)})"


def _names(labels: Sequence[int], class_names: Any) -> tuple[str, ...]:
    if class_names is None:
        return tuple(str(x) for x in labels)
    if isinstance(class_names, Mapping):
        return tuple(str(class_names.get(x, x)) for x in labels)
    names = list(class_names)
    return tuple(str(names[x]) if 0 <= x < len(names) else str(x) for x in labels)


def volume_metrics(true: Any, pred: Any, *, labels: Any = None, background: int | None = 0,
                   ignore_index: int | None = None, spacing: Sequence[float] | None = None,
                   empty_score: float = float("nan")) -> VolumeResult:
    """Per-label Dice, IoU and volume difference of one pair of label maps (any dimensions).

    The one-case form of :class:`VolumeEvaluator` (same parameters).

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> t = np.array([[[0, 1, 1], [2, 2, 0]]], np.uint8)
    >>> p = np.array([[[1, 1, 1], [0, 0, 0]]], np.uint8)
    >>> r = mcr.volume_metrics(t, p, labels=[1, 2, 3])
    >>> r.dice.tolist(), r.relative_volume_difference.tolist()
    ([[0.8, 0.0, nan]], [[0.5, -1.0, nan]])
    """
    ev = VolumeEvaluator(labels, background=background, ignore_index=ignore_index,
                         empty_score=empty_score)
    ev.update(true, pred, spacing=spacing)
    return ev.compute()
