"""Semantic segmentation metrics over a dataset: one confusion matrix, accumulated on runs.

:class:`SemanticEvaluator` takes pairs of label maps (ground truth, prediction)
one at a time, in any form the library reads, and adds each pair's pixel
confusion matrix (one pass of the C kernel over both run sequences) to a
running total. :meth:`SemanticEvaluator.compute` turns the total into the
usual metrics (:class:`SemanticResult`). Evaluators over shards of a dataset
merge (:meth:`SemanticEvaluator.merge`), also across processes through
:meth:`SemanticEvaluator.state`.

Conventions (docs/evaluation.md): pixels whose true label is ``ignore_index``
count for nothing; a per-class value whose denominator is zero is NaN and
left out of the means (mmsegmentation's and hotcoco's rule; torchmetrics
agrees for IoU and Dice, and counts such a precision or recall as 0).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._codec.errors import RLETypeError, RLEValueError
from ..._codec.runs import Runs
from .._common import as_int, label_list, label_sums, label_union
from ._maps import (
    GroupMap,
    byte_table,
    STATE_VERSION,
    check_same_shape,
    check_state,
    compact_pair,
    group_index,
    index_dtype,
    json_number,
    map_runs,
    nan_mean,
    pair_matrix,
    set_frozen,
)
from ._table import format_table, percent

__all__ = ["SemanticEvaluator", "SemanticResult"]



def _ratio(num: np.ndarray, den: np.ndarray) -> np.ndarray:
    """num / den elementwise, NaN where den is 0 (no warning)."""
    out = np.full(num.shape, np.nan)
    np.divide(num, den, out=out, where=den > 0)
    return out


@dataclass(frozen=True, repr=False)
class SemanticResult:
    """The metrics of a :class:`SemanticEvaluator`, from its accumulated confusion matrix.

    Per-class arrays are aligned with ``labels``. A per-class value whose
    denominator is zero is NaN: IoU and Dice of a class absent from both the
    ground truth and the predictions, precision of a class never predicted,
    recall (accuracy) of a class absent from the ground truth. The means
    leave NaN out (``numpy.nanmean``); a mean with nothing left is NaN.

    Attributes
    ----------
    labels : tuple of int
        The classes, in the order of every per-class array.
    class_names : tuple of str
    confusion_matrix : numpy.ndarray
        int64, ``(n, n)``: entry ``[i, j]`` counts pixels of true class
        ``labels[i]`` predicted as ``labels[j]`` (rows true, as sklearn).
    pred_other : numpy.ndarray
        int64, per true class: its pixels predicted as a label that is no
        class (e.g. ``ignore_index``); misses, in ``fn``, in no ``fp``.
    tp, fp, fn : numpy.ndarray
        int64 per class: pixels right, predicted as it wrongly, missed.
    gt_pixels, pred_pixels : numpy.ndarray
        int64 per class: ``tp + fn`` and ``tp + fp``.
    iou, dice, precision, recall : numpy.ndarray
        float64 per class: ``tp / (tp + fp + fn)``, ``2 tp / (2 tp + fp + fn)``
        (= F1), ``tp / (tp + fp)``, ``tp / (tp + fn)``. ``accuracy`` is
        ``recall`` (per-class accuracy, as in mmsegmentation's ``Acc``).
    miou, mean_dice, mean_precision, mean_recall : float
        Means over the classes where the value is defined.
    mean_accuracy : float
        Mean class accuracy, the same as ``mean_recall``.
    fwiou : float
        Frequency-weighted IoU: ``sum(gt_pixels * iou) / sum(gt_pixels)``
        over classes with ground-truth pixels.
    pixel_accuracy : float
        ``sum(tp) / sum(gt_pixels)``: correct pixels among those not ignored.
    n_images, ignored_pixels : int
        Pairs added, and pixels left out because their true label is ignored.
    """

    labels: tuple[int, ...]
    class_names: tuple[str, ...]
    confusion_matrix: np.ndarray
    pred_other: np.ndarray
    n_images: int
    ignored_pixels: int
    tp: np.ndarray = field(init=False)
    fp: np.ndarray = field(init=False)
    fn: np.ndarray = field(init=False)
    gt_pixels: np.ndarray = field(init=False)
    pred_pixels: np.ndarray = field(init=False)
    iou: np.ndarray = field(init=False)
    dice: np.ndarray = field(init=False)
    precision: np.ndarray = field(init=False)
    recall: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        cm = self.confusion_matrix
        tp = np.diagonal(cm).copy()
        gt = cm.sum(axis=1) + self.pred_other
        pred = cm.sum(axis=0)
        fp, fn = pred - tp, gt - tp
        values = {
            "tp": tp, "fp": fp, "fn": fn, "gt_pixels": gt, "pred_pixels": pred,
            "iou": _ratio(tp, tp + fp + fn),
            "dice": _ratio(2 * tp, 2 * tp + fp + fn),
            "precision": _ratio(tp, pred),
            "recall": _ratio(tp, gt),
        }
        set_frozen(self, values)

    @property
    def accuracy(self) -> np.ndarray:
        """Per-class accuracy: ``recall`` (the fraction of each class's pixels found)."""
        return self.recall

    @property
    def miou(self) -> float:
        return nan_mean(self.iou)

    @property
    def mean_dice(self) -> float:
        return nan_mean(self.dice)

    @property
    def mean_precision(self) -> float:
        return nan_mean(self.precision)

    @property
    def mean_recall(self) -> float:
        return nan_mean(self.recall)

    @property
    def mean_accuracy(self) -> float:
        return self.mean_recall

    @property
    def fwiou(self) -> float:
        gt = self.gt_pixels
        total = int(gt.sum())
        if total == 0:
            return float("nan")
        present = gt > 0
        return float((gt[present] * self.iou[present]).sum() / total)

    @property
    def pixel_accuracy(self) -> float:
        total = int(self.gt_pixels.sum())
        return float(self.tp.sum() / total) if total else float("nan")

    def summary(self) -> dict[str, float]:
        """The dataset-level numbers, by name."""
        return {"mIoU": self.miou, "mean_dice": self.mean_dice, "fwIoU": self.fwiou,
                "pixel_accuracy": self.pixel_accuracy, "mean_accuracy": self.mean_accuracy,
                "mean_precision": self.mean_precision, "mean_recall": self.mean_recall}

    def to_dict(self) -> dict[str, Any]:
        """Everything as JSON-safe Python values (NaN as None)."""
        per_class = []
        for i, label in enumerate(self.labels):
            per_class.append({
                "label": label, "name": self.class_names[i],
                "iou": json_number(self.iou[i]), "dice": json_number(self.dice[i]),
                "precision": json_number(self.precision[i]),
                "recall": json_number(self.recall[i]),
                "tp": int(self.tp[i]), "fp": int(self.fp[i]), "fn": int(self.fn[i]),
                "gt_pixels": int(self.gt_pixels[i]), "pred_pixels": int(self.pred_pixels[i]),
            })
        return {
            "task": "semantic",
            "n_images": self.n_images,
            "pixels": int(self.gt_pixels.sum()),
            "ignored_pixels": self.ignored_pixels,
            "summary": {k: json_number(v) for k, v in self.summary().items()},
            "per_class": per_class,
            "confusion_matrix": self.confusion_matrix.tolist(),
            "pred_other": self.pred_other.tolist(),
        }

    def table(self) -> str:
        """Per-class and summary table, in percent (``-`` for undefined values)."""
        rows = [[str(label), name, percent(self.iou[i]), percent(self.dice[i]),
                 percent(self.precision[i]), percent(self.recall[i]), str(int(self.gt_pixels[i]))]
                for i, (label, name) in enumerate(zip(self.labels, self.class_names))]
        head = format_table(["label", "class", "IoU", "Dice", "Prec", "Recall", "GT pixels"],
                            rows, align="llrrrrr")
        s = self.summary()
        foot = (f"mIoU {percent(s['mIoU'])}  mDice {percent(s['mean_dice'])}  "
                f"fwIoU {percent(s['fwIoU'])}  aAcc {percent(s['pixel_accuracy'])}  "
                f"mAcc {percent(s['mean_accuracy'])}  "
                f"({self.n_images} images, {int(self.gt_pixels.sum())} pixels, "
                f"{self.ignored_pixels} ignored)")
        return f"{head}\n{foot}"

    def __repr__(self) -> str:
        return (f"SemanticResult(mIoU={self.miou:.4f}, pixel_accuracy={self.pixel_accuracy:.4f}, "
                f"classes={len(self.labels)}, images={self.n_images})")


def _names_of(labels: Sequence[int], class_names: Any, by_value: bool) -> tuple[str, ...]:
    """Names of ``labels``: from a mapping label -> name, or a sequence (by position
    among the labels, or indexed by label value when ``by_value``); else the label."""
    if class_names is None:
        return tuple(str(x) for x in labels)
    if isinstance(class_names, Mapping):
        return tuple(str(class_names.get(x, x)) for x in labels)
    names = list(class_names)
    if by_value:
        return tuple(names[x] if 0 <= x < len(names) else str(x) for x in labels)
    return tuple(str(n) for n in names)


class SemanticEvaluator:
    """Accumulates the pixel confusion matrix of pairs of label maps; metrics at the end.

    Parameters
    ----------
    num_classes : int, optional
        The classes are ``0 .. num_classes - 1``.
    labels : sequence of int, optional
        The classes, by label value, in the order of the reports (instead of
        ``num_classes``, e.g. for sparse ids). With neither, the classes are
        every label met in either map of any pair, except ``ignore_index``;
        they grow as pairs are added.
    ignore_index : int or sequence of int, optional
        True label(s) whose pixels count for nothing (e.g. 255).
    class_names : sequence or mapping, optional
        Names for the reports: a mapping label -> name, or a sequence aligned
        with ``labels`` (with ``num_classes`` or neither: indexed by label).

    Raises
    ------
    RLEValueError
        From :meth:`update`: the maps differ in size, or, with fixed classes,
        a true label is neither a class nor ignored (the message names it and
        its pixel count). A *predicted* label that is no class is a miss of
        the true class there (counted in ``pred_other``), as mmsegmentation
        counts it.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> ev = mcr.SemanticEvaluator(num_classes=3, ignore_index=255)
    >>> true = np.array([[0, 0, 1, 255], [2, 2, 1, 1]], np.uint8)
    >>> pred = np.array([[0, 1, 1, 1], [2, 0, 1, 1]], np.uint8)
    >>> ev.update(mcr.encode(true), pred)       # any forms: dicts, bytes, Runs, arrays, tensors
    >>> res = ev.compute()
    >>> res.iou.round(4).tolist(), round(res.miou, 4), round(res.pixel_accuracy, 4)
    ([0.3333, 0.75, 0.5], 0.5278, 0.7143)
    >>> res.confusion_matrix.tolist()
    [[1, 1, 0], [0, 3, 0], [1, 0, 1]]
    """

    def __init__(self, num_classes: int | None = None, *, labels: Any = None,
                 ignore_index: Any = None, class_names: Any = None) -> None:
        if num_classes is not None and labels is not None:
            raise RLEValueError("give num_classes or labels, not both")
        if num_classes is not None:
            n = as_int(num_classes, "num_classes")
            if n < 1:
                raise RLEValueError(f"num_classes must be at least 1, got {n}")
            classes: list[int] | None = list(range(n))
        elif labels is not None:
            classes = label_list(labels)
            if not classes:
                raise RLEValueError("labels is empty; give at least one class")
        else:
            classes = None
        if ignore_index is None:
            ignore: list[int] = []
        elif isinstance(ignore_index, (Sequence, np.ndarray, set, frozenset)) and \
                not isinstance(ignore_index, (str, bytes)):
            ignore = label_list(sorted(ignore_index) if isinstance(ignore_index, (set, frozenset))
                                else ignore_index, "ignore_index")
        else:
            ignore = [as_int(ignore_index, "ignore_index")]
        if classes is not None:
            both = sorted(set(classes) & set(ignore))
            if both:
                raise RLEValueError(f"label {both[0]} is both a class and ignore_index")
        if class_names is not None and not isinstance(class_names, Mapping):
            if isinstance(class_names, (str, bytes)) or not isinstance(class_names, Iterable):
                raise RLETypeError("class_names must be a sequence or a mapping of label -> name")
            class_names = [str(x) for x in class_names]
            if labels is not None and len(class_names) != len(classes or ()):
                raise RLEValueError(f"class_names has {len(class_names)} names for "
                                    f"{len(classes or ())} labels")
            if num_classes is not None and len(class_names) != len(classes or ()):
                raise RLEValueError(f"class_names has {len(class_names)} names for "
                                    f"num_classes={num_classes}")
        self._fixed = classes is not None
        self._by_value = labels is None
        self._class_names = class_names
        self._ignore = ignore
        self._ignore_set = frozenset(ignore)
        self._set_classes(classes or [])
        self.reset()

    # -- state ---------------------------------------------------------------
    def _set_classes(self, classes: list[int]) -> None:
        self._classes = classes
        n = len(classes)
        self._index = index_dtype(n + 2)
        self._tables: dict[str, Any] = {}

    def reset(self) -> None:
        """Forget every pair added (the classes given at construction stay)."""
        if not self._fixed:
            self._set_classes([])
        n = len(self._classes)
        self._set_totals(np.zeros((n, n + 1), dtype=np.int64), 0)
        self._n_images = 0

    def _set_totals(self, cm: np.ndarray, ignored: int) -> None:
        """New totals: the ``(n, n + 1)`` confusion matrix (last column: predicted
        no class) and the ignored pixels."""
        n = cm.shape[0]
        totals = np.zeros((n + 2, n + 1), dtype=np.int64)
        totals[:n] = cm
        self._adopt(totals, ignored)

    def _adopt(self, totals: np.ndarray, ignored_base: int) -> None:
        """Totals laid out as a pair's table, so that adding a pair is one numpy call:
        rows the classes (``_cm`` is a view of them), the ignored labels (their
        pixels summed when read), the unknown true labels (zero between updates)."""
        n = totals.shape[0] - 2
        self._totals = totals
        self._cm = totals[:n]
        self._ignored_row = totals[n]
        # any() of a memoryview's few ints: a fifth of the time of numpy's any() per pair
        self._unknown = memoryview(totals[n + 1])
        self._ignored_base = ignored_base

    @property
    def _ignored(self) -> int:
        return self._ignored_base + int(self._ignored_row.sum())

    def __reduce__(self) -> tuple[Any, ...]:
        # the views of the totals are rebuilt (pickle would copy each on its own)
        return (SemanticEvaluator.from_state, (self.state(),))

    @property
    def labels(self) -> tuple[int, ...]:
        """The classes, in report order (so far, when they are discovered from the data)."""
        return tuple(self._classes)

    @property
    def n_images(self) -> int:
        """Pairs added so far."""
        return self._n_images

    @property
    def confusion_matrix(self) -> np.ndarray:
        """The accumulated ``(n, n)`` int64 matrix (a copy; rows true, columns predicted)."""
        return self._cm[:, :-1].copy()

    def _grow(self, new: Iterable[int]) -> None:
        """Add classes found in the data (discovery mode), keeping the totals."""
        old = self._classes
        classes = sorted(set(old) | set(new))
        n_old, n = len(old), len(classes)
        where = np.array([classes.index(x) for x in old], dtype=np.intp)
        cm = np.zeros((n, n + 1), dtype=np.int64)
        cm[np.ix_(where, np.append(where, n))] = self._cm[:, list(range(n_old)) + [n_old]]
        ignored = self._ignored
        self._set_classes(classes)
        self._set_totals(cm, ignored)

    def _keys(self, role: str) -> tuple[list[int], list[int], int]:
        """Group of each label. Rows (true): classes, then ignored, then unknown.
        Columns (pred): classes, then "no class"."""
        n = len(self._classes)
        keys = list(self._classes)
        groups = list(range(n))
        if role == "true":
            return keys + self._ignore, groups + [n] * len(self._ignore), n + 1
        return keys, groups, n

    def _groups(self, runs_values: np.ndarray, role: str) -> np.ndarray:
        """Group index per run (one table lookup per run for 8-bit maps)."""
        keys, groups, missing = self._keys(role)
        dt = runs_values.dtype
        if dt.itemsize == 1:
            cache_key = f"{role}:{dt.str}"
            table = self._tables.get(cache_key)
            if table is None:
                table = self._tables[cache_key] = byte_table(dt, keys, groups, missing,
                                                             self._index)
            return np.take(table, runs_values.view(np.uint8))
        return group_index(runs_values, keys, groups, missing, self._index)

    def _group_map(self, role: str, dtype: np.dtype) -> GroupMap:
        """The same groups for the fused kernel, built once per dtype."""
        cache_key = f"map:{role}:{dtype.str}"
        gm = self._tables.get(cache_key)
        if gm is None:
            keys, groups, missing = self._keys(role)
            n = len(self._classes)
            gm = self._tables[cache_key] = GroupMap(dtype, keys, groups, missing,
                                                    n + 2 if role == "true" else n + 1)
        return gm

    # -- adding pairs ----------------------------------------------------------
    def update(self, true: Any, pred: Any) -> None:
        """Add one pair: ground truth and prediction of the same shape, any forms.

        Forms: compact, original and packed dicts, pycocotools binary RLEs, the
        bytes form, :class:`Runs`, numpy arrays, torch tensors (any device;
        moved to the CPU) and array-likes; any integer dtypes, any number of
        dimensions (a 3D volume is one sample). The pair is added entirely or
        (on an error) not at all.
        """
        if self._fixed:
            # two compact dicts: one C call parses, maps and pairs them
            sums = compact_pair(true, pred, lambda dt: self._group_map("true", dt),
                                lambda dt: self._group_map("pred", dt))
            if sums is not None:
                self._take(sums, lambda: map_runs(true, "true")[0])
                return
        t, counts_t = map_runs(true, "true")
        p, counts_p = map_runs(pred, "pred")
        check_same_shape(t, p)
        if not self._fixed:
            seen = [x for x in label_union(t, p) if x not in self._ignore_set]
            if any(x not in self._classes for x in seen):
                # the classes found so far grow; a failed update must not keep new ones
                classes, totals, ignored = self._classes, self._totals, self._ignored_base
                self._grow(seen)
                try:
                    self._add(t, counts_t, p, counts_p)
                except BaseException:
                    self._set_classes(classes)
                    self._adopt(totals, ignored)
                    raise
                return
        self._add(t, counts_t, p, counts_p)

    def _add(self, t: Runs, counts_t: np.ndarray, p: Runs, counts_p: np.ndarray) -> None:
        n = len(self._classes)
        ti = self._groups(t.values, "true")
        pi = self._groups(p.values, "pred")
        self._take(pair_matrix(t, ti, counts_t, n + 2, p, pi, counts_p, n + 1), lambda: t)

    def _take(self, sums: np.ndarray, true_runs: Callable[[], Runs]) -> None:
        """Add one pair's ``(n + 2, n + 1)`` table (rows: classes, ignored, unknown)."""
        totals = self._totals
        # counts < 2**63: the uint64 table viewed as int64 adds without a casting loop
        pair = sums.view(np.int64)
        np.add(totals, pair, out=totals)
        if any(self._unknown):   # a true label that is no class: the pair is taken back
            np.subtract(totals, pair, out=totals)
            self._unknown_true(true_runs())
        self._n_images += 1

    def _unknown_true(self, t: Runs) -> None:
        _, labels, pixels = label_sums(t)
        known = set(self._classes) | self._ignore_set
        bad = [(int(x), int(c)) for x, c in zip(labels.tolist(), pixels.tolist())
               if int(x) not in known]
        shown = ", ".join(f"{x} ({c} pixels)" for x, c in bad[:5])
        more = f" and {len(bad) - 5} more" if len(bad) > 5 else ""
        lo, hi = self._classes[0], self._classes[-1]
        span = (f"{len(self._classes)} classes ({lo}..{hi})"
                if self._classes == list(range(lo, hi + 1)) else f"{len(self._classes)} classes")
        ignore = (f"ignore_index {self._ignore}" if self._ignore else "ignore_index (none given)")
        raise RLEValueError(
            f"true map has label {shown}{more}, which is not one of the {span} nor "
            f"{ignore}; pass ignore_index={bad[0][0]} or list it among the labels")

    def update_batch(self, trues: Any, preds: Any) -> None:
        """Add pairs ``zip(trues, preds)``: e.g. ``(N, H, W)`` arrays or tensors, or lists.

        A torch tensor is moved to the CPU once for the whole batch.
        """
        from ._maps import _is_tensor

        if _is_tensor(trues):
            trues = trues.numpy(force=True)
        if _is_tensor(preds):
            preds = preds.numpy(force=True)
        if len(trues) != len(preds):
            raise RLEValueError(f"{len(trues)} true maps but {len(preds)} predictions")
        for t, p in zip(trues, preds):
            self.update(t, p)

    # -- results and merging -------------------------------------------------------
    def compute(self) -> SemanticResult:
        """The metrics of every pair added so far (:class:`SemanticResult`)."""
        names = _names_of(self._classes, self._class_names, self._by_value)
        return SemanticResult(tuple(self._classes), names, self._cm[:, :-1].copy(),
                              self._cm[:, -1].copy(), self._n_images, self._ignored)

    def state(self) -> dict[str, Any]:
        """The accumulated totals as JSON-safe values, for :meth:`merge` or :meth:`from_state`.

        Send it between processes (``json``, ``pickle``,
        ``torch.distributed.all_gather_object``) and merge on one of them.
        """
        return {
            "kind": "multiclass_rle.SemanticEvaluator", "version": STATE_VERSION,
            "labels": list(self._classes), "fixed": self._fixed, "by_value": self._by_value,
            "ignore_index": list(self._ignore),
            "class_names": (None if self._class_names is None else
                            {str(k): v for k, v in self._class_names.items()}
                            if isinstance(self._class_names, Mapping) else
                            list(self._class_names)),
            "confusion": self._cm.tolist(), "ignored_pixels": self._ignored,
            "n_images": self._n_images,
        }

    @classmethod
    def from_state(cls, state: Mapping[str, Any]) -> SemanticEvaluator:
        """An evaluator holding the totals of :meth:`state`."""
        check_state(state, "SemanticEvaluator")
        names = state.get("class_names")
        if isinstance(names, Mapping):
            names = {int(k): v for k, v in names.items()}
        ev = cls.__new__(cls)
        ev._fixed = bool(state["fixed"])
        ev._by_value = bool(state.get("by_value", True))
        ev._class_names = names
        ev._ignore = [int(x) for x in state["ignore_index"]]
        ev._ignore_set = frozenset(ev._ignore)
        labels = [int(x) for x in state["labels"]]
        ev._set_classes(labels)
        cm = np.array(state["confusion"], dtype=np.int64).reshape(len(labels), len(labels) + 1)
        if (cm < 0).any():
            raise RLEValueError("state: confusion holds a negative count")
        ev._set_totals(cm, int(state["ignored_pixels"]))
        ev._n_images = int(state["n_images"])
        return ev

    def merge(self, other: SemanticEvaluator | Mapping[str, Any]) -> SemanticEvaluator:
        """Add another evaluator's totals (or its :meth:`state`) to this one; returns self.

        Both must ignore the same labels; fixed classes must be the same.
        Discovered classes are united.
        """
        if not isinstance(other, SemanticEvaluator):
            other = SemanticEvaluator.from_state(other)
        if other._ignore_set != self._ignore_set:
            raise RLEValueError(f"cannot merge: ignore_index {sorted(other._ignore_set)} and "
                                f"{sorted(self._ignore_set)} differ")
        if self._fixed or other._fixed:
            if self._classes != other._classes:
                raise RLEValueError(f"cannot merge: the classes differ ({len(self._classes)} "
                                    f"and {len(other._classes)}; first difference at "
                                    f"{_first_difference(self._classes, other._classes)})")
        elif other._classes != self._classes:
            self._grow(other._classes)
            other = SemanticEvaluator.from_state(other.state())
            other._grow(self._classes)
        self._cm += other._cm
        self._ignored_base += other._ignored
        self._n_images += other._n_images
        return self

    def __iadd__(self, other: SemanticEvaluator) -> SemanticEvaluator:
        return self.merge(other)

    def __repr__(self) -> str:
        mode = "fixed" if self._fixed else "discovered"
        return (f"SemanticEvaluator({len(self._classes)} {mode} classes, "
                f"ignore_index={self._ignore}, images={self._n_images})")


def _first_difference(a: Sequence[int], b: Sequence[int]) -> str:
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"position {i}: {x} vs {y}"
    return f"position {min(len(a), len(b))}"
