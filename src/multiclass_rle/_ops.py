"""Operations on label maps that work on the runs, without decoding the map.

Every function takes any form :func:`as_runs` accepts (a :class:`Runs`, a
compact or original dict, a pycocotools binary RLE), works for any number of
dimensions and costs time proportional to the number of runs (plus the number
of labels, or of window columns, where the answer needs it). The work is
vectorised numpy on the ``values`` and ``counts`` arrays, or one pass of a C
kernel over them (bbox, remap, decode_window); no Python code runs per run
and no full-size array is made.

Positions are Fortran-order linear indices (first axis fastest), so run ``k``
covers positions ``[ends[k] - counts[k], ends[k])`` with
``ends = cumsum(counts)``; position ``p`` lies in "column" ``p // shape[0]``
at row ``p % shape[0]``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any, Literal

import numpy as np

from . import _core
from ._api import _KIND_CODES, Runs, _compact_fields, _counts_error, as_runs, decode
from ._dtypes import dtype_from_argument, smallest_dtype, value_range
from ._errors import LimitExceededError, MalformedRLEError, RLEError, RLETypeError, RLEValueError
from ._limits import get_max_elements

__all__ = [
    "labels",
    "area",
    "bbox",
    "confusion_matrix",
    "iou",
    "miou",
    "remap",
    "decode_window",
    "binary_mask",
]

_U64 = np.dtype(np.uint64)


# ---------------------------------------------------------------------------
# helpers


def _checked_ends(rle: Any, name: str | None = None) -> tuple[Runs, np.ndarray]:
    """``as_runs`` plus the counts check that decode does, and the run ends.

    Returns the Runs (counts contiguous native uint64) and ``cumsum(counts)``.
    The check rides on that cumsum: every count positive, the last end equal
    to the size, and no uint64 wrap-around (impossible while runs * max count
    < 2**64; otherwise the C check decides). ``name`` prefixes error messages
    (``'true: ...'``) where a function takes two RLEs.
    """
    try:
        runs = as_runs(rle)
        counts = runs.counts
        if counts.dtype != _U64 or not counts.flags.c_contiguous:
            counts = np.ascontiguousarray(counts, dtype=_U64)
        if runs.values.ndim != 1 or runs.values.shape != counts.shape:
            raise MalformedRLEError(
                f"values has shape {runs.values.shape} and counts {counts.shape}; "
                f"they need one entry per run")
        size = runs.size
        if size >= 2**64:
            raise MalformedRLEError(f"size {runs.shape} has {size} elements; counts cannot sum "
                                    f"to more than 2**64 - 1")
        ends = np.cumsum(counts, dtype=_U64)
        n = counts.shape[0]
        ok = (int(ends[-1]) == size and int(counts.min()) > 0
              and n * int(counts.max()) < 2**64) if n else size == 0
        if not ok:
            try:
                _core.check_counts(counts, size)
            except _core.CodecError as exc:
                raise _counts_error(exc, counts, runs.shape) from None
    except RLEError as exc:
        if name is None:
            raise
        raise type(exc)(f"{name}: {exc}") from None
    if counts is not runs.counts:
        runs = Runs(runs.shape, runs.values, counts)
    return runs, ends


def _runs_for_kernel(rle: Any, name: str | None = None) -> tuple[Runs, np.ndarray]:
    """``as_runs`` and its counts as contiguous native uint64, not yet validated.

    For the C kernels that validate the counts while they walk them (one pass
    instead of a cumsum and two reductions): their ``CodecError`` goes
    through :func:`_kernel_counts_error`.
    """
    try:
        runs = as_runs(rle)
        counts = runs.counts
        if counts.dtype != _U64 or not counts.flags.c_contiguous:
            counts = np.ascontiguousarray(counts, dtype=_U64)
        size = math.prod(runs.shape)
        if size >= 2**64:
            raise MalformedRLEError(f"size {runs.shape} has {size} elements; counts cannot sum "
                                    f"to more than 2**64 - 1")
    except RLEError as exc:
        if name is None:
            raise
        raise type(exc)(f"{name}: {exc}") from None
    return runs, counts


def _kernel_counts_error(exc: Any, counts: np.ndarray, shape: tuple[int, ...],
                         name: str | None = None) -> RLEError:
    """The MalformedRLEError of a kernel's counts check (as :func:`_checked_ends`)."""
    err = _counts_error(exc, counts, shape)
    return err if name is None else type(err)(f"{name}: {err}")


def _groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Per run a group index for the kernels: ``(index, uniq, n_groups)``.

    8-bit and bool maps use their own values (256 groups, ``uniq`` None: a
    group is present when it has pixels); others the index of the run's value
    among the sorted distinct values ``uniq``.
    """
    if _is_byte_label(values.dtype):
        return np.ascontiguousarray(values).view(np.uint8), None, 256
    uniq, inverse = _unique_inverse(values)
    return inverse, uniq, int(uniq.shape[0])


def _label_sums(rle: Any) -> tuple[Runs, np.ndarray, np.ndarray]:
    """Runs, sorted distinct labels (the map's dtype) and their pixel counts (uint64).

    One C pass (``group_sums``) that also validates the counts, as decode does.
    """
    runs, counts = _runs_for_kernel(rle)
    return (runs, *_group_sums_of(runs, counts)[1:])


def _group_sums_of(runs: Runs, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group index per run, sorted distinct labels, their pixel counts) of unchecked runs."""
    index, uniq, n_groups = _groups(runs.values)
    sums = np.empty(n_groups, dtype=_U64)
    try:
        _core.group_sums(index, index.dtype.itemsize, counts, math.prod(runs.shape), sums)
    except _core.CodecError as exc:
        raise _kernel_counts_error(exc, counts, runs.shape) from None
    if uniq is None:   # 8-bit map: its labels are the groups with pixels
        present = np.flatnonzero(sums)
        uniq = present.astype(runs.dtype)
        sums = sums[present]
    return index, uniq, sums


def _checked(rle: Any, name: str | None = None) -> Runs:
    """:func:`_checked_ends` without the ends."""
    return _checked_ends(rle, name)[0]


def _is_byte_label(dtype: np.dtype) -> bool:
    return dtype.kind in "ub" and dtype.itemsize == 1


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy >= 2.3's hash-based np.unique is slower here)."""
    s = np.sort(x)
    if s.shape[0] < 2:
        return s
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, in the values' dtype."""
    if _is_byte_label(values.dtype):
        present = np.flatnonzero(np.bincount(values.view(np.uint8), minlength=256))
        return present.astype(values.dtype)
    return _sorted_unique(values)


def _unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, per run, the index of its value among them."""
    if _is_byte_label(values.dtype):
        key = values.view(np.uint8)
        present = np.flatnonzero(np.bincount(key, minlength=256))
        where = np.zeros(256, dtype=np.intp)
        where[present] = np.arange(present.shape[0])
        return present.astype(values.dtype), where[key]
    uniq, order, first = _group_order(values)
    group = np.zeros(values.shape[0], dtype=np.intp)
    group[first[1:]] = 1
    inverse = np.empty(values.shape[0], dtype=np.intp)
    inverse[order] = np.cumsum(group)
    return uniq, inverse


def _stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind='stable')``, faster for 16- and 32-bit values.

    Those are packed with their index into one uint64 key (value in the high
    half, made non-negative), whose plain sort is stable by construction.
    """
    n = values.shape[0]
    if values.dtype.itemsize not in (2, 4) or n >= 2**32:
        return np.argsort(values, kind="stable")  # 8-bit: radix sort; 64-bit: timsort
    key = values.astype(np.int64)
    if values.dtype.kind == "i":
        key -= np.iinfo(values.dtype).min
    key = key.view(_U64)
    key <<= _U64.type(32)
    key |= np.arange(n, dtype=_U64)
    key.sort()
    key &= _U64.type(0xFFFFFFFF)
    return key.astype(np.intp)


def _group_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs grouped by label, keeping position order inside a group.

    Returns ``(uniq, order, first)``: ``values[order]`` is sorted (stable),
    group ``g`` (label ``uniq[g]``) is ``order[first[g]:first[g + 1]]``.
    """
    order = _stable_argsort(values)
    sorted_values = values[order]
    change = np.empty(sorted_values.shape[0], dtype=bool)
    if change.shape[0]:
        change[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=change[1:])
    first = np.flatnonzero(change)
    return sorted_values[first], order, first


def _merge_equal(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join neighbouring runs of equal value (counts are summed exactly in uint64)."""
    n = values.shape[0]
    if n < 2:
        return values, counts
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    if change.all():
        return values, counts
    first = np.flatnonzero(change)
    return values[first], np.add.reduceat(counts, first).astype(_U64, copy=False)


def _as_int(x: Any, what: str) -> int:
    if isinstance(x, (float, np.floating, complex, str, bytes)):
        raise RLETypeError(f"{what} must be an integer, got {x!r}")
    try:
        return operator.index(x)
    except TypeError:
        raise RLETypeError(f"{what} must be an integer, got {type(x).__name__} {x!r}") from None


def _label_list(labels_arg: Any, what: str = "labels") -> list[int]:
    if isinstance(labels_arg, (str, bytes)) or not isinstance(
            labels_arg, (Sequence, np.ndarray, range)):
        raise RLETypeError(f"{what} must be a sequence of integers, got "
                           f"{type(labels_arg).__name__}")
    if isinstance(labels_arg, np.ndarray):
        if labels_arg.ndim != 1:
            raise RLEValueError(f"{what} must be 1D, got an array of shape {labels_arg.shape}")
        if labels_arg.dtype.kind not in "biu":
            raise RLETypeError(f"{what} must hold integers, got dtype {labels_arg.dtype}")
        out = [int(x) for x in labels_arg.tolist()]
    else:
        out = [_as_int(x, f"{what}[{i}]") for i, x in enumerate(labels_arg)]
    if len(set(out)) != len(out):
        seen: set[int] = set()
        dup = next(x for x in out if x in seen or seen.add(x))  # type: ignore[func-returns-value]
        raise RLEValueError(f"{what} lists label {dup} more than once")
    return out


def _index_in(values: np.ndarray, where: dict[int, int], missing: int = -1) -> np.ndarray:
    """Per run, ``where[value]`` (int64), or ``missing`` for values not in ``where``.

    O(runs) for 8-bit maps (a 256-entry table), else one sort of the runs.
    """
    lo, hi = value_range(values.dtype)
    where = {lab: i for lab, i in where.items() if lo <= lab <= hi}
    if not where:
        return np.full(values.shape[0], missing, dtype=np.int64)
    if _is_byte_label(values.dtype):
        table = np.full(256, missing, dtype=np.int64)
        table[np.array(list(where), dtype=np.int64)] = np.array(list(where.values()))
        return table[values.view(np.uint8)]
    uniq, inverse = _unique_inverse(values)
    table = np.array([where.get(u, missing) for u in uniq.tolist()], dtype=np.int64)
    return table[inverse]


def _label_union(true: Runs, pred: Runs) -> list[int]:
    """Sorted union of the labels of two maps, as ints."""
    if _is_byte_label(true.dtype) and _is_byte_label(pred.dtype):
        seen = np.bincount(true.values.view(np.uint8), minlength=256)
        seen += np.bincount(pred.values.view(np.uint8), minlength=256)
        return np.flatnonzero(seen).tolist()
    return _sorted_union(_distinct(true.values), _distinct(pred.values))


def _sorted_union(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Sorted union of two small arrays of labels of any two label dtypes, as ints."""
    common = np.promote_types(a.dtype, b.dtype)
    if common.kind in "biu":
        both = np.concatenate((a.astype(common), b.astype(common)))
        return [int(x) for x in _sorted_unique(both).tolist()]
    # uint64 next to a signed dtype: numpy would go through float64
    return sorted({int(x) for x in a.tolist()} | {int(x) for x in b.tolist()})


# ---------------------------------------------------------------------------
# labels, area, bbox


def labels(rle: Any) -> np.ndarray:
    """Sorted distinct labels of a label map.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts.

    Returns
    -------
    numpy.ndarray
        1D, sorted, in the map's dtype. O(runs) for 8-bit and bool maps,
        O(runs log runs) otherwise.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> rle = mcr.encode(np.array([[0, 0, 7], [3, 3, 7]], dtype=np.uint8))
    >>> mcr.labels(rle)
    array([0, 3, 7], dtype=uint8)
    """
    runs, counts = _runs_for_kernel(rle)
    if _is_byte_label(runs.dtype):   # one C pass: sums of 256 groups, validated
        return _group_sums_of(runs, counts)[1]
    return _distinct(_checked(runs).values)   # a sort of the values; no sums needed


def area(rle: Any) -> dict[int, int]:
    """Number of pixels (voxels) of every label.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts.

    Returns
    -------
    dict
        ``{label: count}`` of Python ints, in increasing label order, for the
        labels present in the map. Exact for any size (uint64 sums).

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[0, 0, 7], [3, 3, 7]], dtype=np.uint8)
    >>> mcr.area(mcr.encode(a))
    {0: 2, 3: 2, 7: 2}

    A pycocotools binary RLE works too (its labels are 0 and 1):

    >>> mcr.area({'size': [2, 3], 'counts': '2111'})
    {0: 3, 1: 3}
    """
    _runs, uniq, sums = _label_sums(rle)
    return dict(zip((int(x) for x in uniq.tolist()), sums.tolist()))


def bbox(rle: Any, *, format: Literal["index", "coco"] = "index") -> dict[int, Any]:
    """Bounding box of every label, from the runs.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts, any number of dimensions.
    format : {'index', 'coco'}
        ``'index'`` (default): per label, one half-open ``(start, stop)``
        pair per axis in array index space, so
        ``a[tuple(slice(*b) for b in box)]`` is the smallest box holding the
        label. ``'coco'`` (2D only): ``[x, y, w, h]`` as floats, x being the
        column (axis 1) and y the row (axis 0), the same numbers as
        ``pycocotools.mask.toBbox`` of the label's mask.

    Returns
    -------
    dict
        ``{label: box}`` in increasing label order, for labels present.

    Notes
    -----
    One C pass over the runs (:c:func:`mcrle_group_bbox`), which also
    validates the counts. Along axis 0 a run covers rows ``[first row, last
    row]`` when it stays in one column, else every row (it wraps past the
    column's end); along a higher axis likewise with the block indices
    ``column // stride``. Each run widens its label's box: O(runs * ndim),
    plus a sort of the run values for labels wider than 8 bits.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[0, 0, 0, 0],
    ...               [0, 5, 5, 0],
    ...               [0, 0, 5, 0]], dtype=np.uint8)
    >>> mcr.bbox(mcr.encode(a))
    {0: ((0, 3), (0, 4)), 5: ((1, 3), (1, 3))}
    >>> box = mcr.bbox(mcr.encode(a))[5]
    >>> a[tuple(slice(*b) for b in box)]
    array([[5, 5],
           [0, 5]], dtype=uint8)
    >>> mcr.bbox(mcr.encode(a), format='coco')[5]
    [1.0, 1.0, 2.0, 2.0]
    """
    if format not in ("index", "coco"):
        raise RLEValueError(f"format must be 'index' or 'coco', got {format!r}")
    runs, counts = _runs_for_kernel(rle)
    shape = runs.shape
    ndim = len(shape)
    index, uniq, n_groups = _groups(runs.values)
    lo = np.empty((n_groups, ndim), dtype=_U64)
    hi = np.empty((n_groups, ndim), dtype=_U64)
    try:
        _core.group_bbox(index, index.dtype.itemsize, counts, shape, lo, hi)
    except _core.CodecError as exc:
        raise _kernel_counts_error(exc, counts, shape) from None
    if format == "coco" and ndim != 2:
        raise RLEValueError(f"format='coco' needs a 2D map ([x, y, w, h]), got size {shape}")
    if uniq is None:   # 256 groups: the labels present are those with a box
        present = np.flatnonzero(lo[:, 0] != np.iinfo(np.uint64).max)
        keys = present.tolist()
        lo, hi = lo[present], hi[present]
    else:
        keys = [int(x) for x in uniq.tolist()]
    hi += _U64.type(1)
    lows, highs = lo.tolist(), hi.tolist()
    if format == "coco":
        return {k: [float(a[1]), float(a[0]), float(b[1] - a[1]), float(b[0] - a[0])]
                for k, a, b in zip(keys, lows, highs)}
    return {k: tuple(zip(a, b)) for k, a, b in zip(keys, lows, highs)}


# ---------------------------------------------------------------------------
# confusion matrix, IoU


def _check_same_shape(true: Runs, pred: Runs) -> None:
    if true.shape != pred.shape:
        raise RLEValueError(
            f"true has size {list(true.shape)} ({true.size} elements) but pred has size "
            f"{list(pred.shape)} ({pred.size} elements); they must be the same")


def _confusion(true_rle: Any, pred_rle: Any, true: Runs, pred: Runs, counts_t: np.ndarray,
               counts_p: np.ndarray, label_ints: list[int],
               ignore: int | None = None) -> np.ndarray:
    """(L+1) x (L+1) uint64 pixel counts; index L gathers labels not in ``label_ints``.

    Pixels whose true label equals ``ignore`` are left out. One pass of the C
    kernel ``pair_sums`` over both run sequences at once (a linear merge),
    which also validates both counts; on an error the usual checks of each
    RLE say what is wrong, named ``true`` or ``pred``.
    """
    n = len(label_ints)
    where = {lab: i for i, lab in enumerate(label_ints)}
    ti = _index_in(true.values, where if ignore is None else {**where, ignore: n + 1},
                   missing=n)
    pi = _index_in(pred.values, where, missing=n)
    sums = np.empty((n + 2) * (n + 1), dtype=_U64)   # row n + 1: ignored pixels
    try:
        _core.pair_sums(ti, counts_t, n + 2, pi, counts_p, n + 1, 8, true.size, sums)
    except _core.CodecError:
        _checked_ends(true_rle, "true")
        _checked_ends(pred_rle, "pred")
        raise   # not reached: the checks above find what the kernel found
    return sums.reshape(n + 2, n + 1)[:n + 1]


def _confusion_inputs(true_rle: Any, pred_rle: Any) -> tuple[Runs, Runs, np.ndarray, np.ndarray]:
    true, counts_t = _runs_for_kernel(true_rle, "true")
    pred, counts_p = _runs_for_kernel(pred_rle, "pred")
    _check_same_shape(true, pred)
    return true, pred, counts_t, counts_p


def confusion_matrix(true_rle: Any, pred_rle: Any, labels: Any = None) -> np.ndarray:
    """Pixel confusion matrix between two label maps, from their runs.

    Parameters
    ----------
    true_rle, pred_rle : Runs or dict
        Ground truth and prediction, any forms :func:`as_runs` accepts, of
        the same size (their dtypes may differ).
    labels : sequence of int, optional
        Labels that index the matrix, in this order. Default: the sorted
        union of the labels of both maps. As in
        ``sklearn.metrics.confusion_matrix``, pixels whose true or predicted
        label is not listed are not counted.

    Returns
    -------
    numpy.ndarray
        int64 array of shape ``(len(labels), len(labels))``: entry ``[i, j]``
        is the number of pixels with true label ``labels[i]`` and predicted
        label ``labels[j]``.

    Raises
    ------
    RLEValueError
        The two maps have different sizes (both are named), or ``labels``
        repeats a label.

    Notes
    -----
    Both maps are cut at the union of their run ends (a linear merge of two
    sorted arrays); each piece has one true and one predicted label, so the
    cost is O(runs_true + runs_pred), whatever the number of pixels.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> t = np.array([[0, 0, 1], [1, 1, 2]], dtype=np.uint8)
    >>> p = np.array([[0, 1, 1], [1, 2, 2]], dtype=np.uint8)
    >>> mcr.confusion_matrix(mcr.encode(t), mcr.encode(p))
    array([[1, 1, 0],
           [0, 2, 1],
           [0, 0, 1]])
    >>> mcr.confusion_matrix(mcr.encode(t), mcr.encode(p), labels=[2, 1])
    array([[1, 0],
           [1, 2]])
    """
    true, pred, counts_t, counts_p = _confusion_inputs(true_rle, pred_rle)
    if labels is None:
        label_ints = _label_union(true, pred)
    else:
        label_ints = _label_list(labels)
    n = len(label_ints)
    return _confusion(true_rle, pred_rle, true, pred, counts_t, counts_p,
                      label_ints)[:n, :n].astype(np.int64)


def _iou_setup(true_rle: Any, pred_rle: Any, labels: Any,
               ignore: Any) -> tuple[list[int], np.ndarray]:
    true, pred, counts_t, counts_p = _confusion_inputs(true_rle, pred_rle)
    ignore_int = None if ignore is None else _as_int(ignore, "ignore")
    if labels is None:
        label_ints = _label_union(true, pred)
        if ignore_int is not None:
            label_ints = [x for x in label_ints if x != ignore_int]
    else:
        label_ints = _label_list(labels)
        if ignore_int is not None and ignore_int in label_ints:
            raise RLEValueError(f"ignore={ignore_int} is also in labels; a label cannot be both")
    return label_ints, _confusion(true_rle, pred_rle, true, pred, counts_t, counts_p, label_ints,
                                  ignore_int)


def iou(true_rle: Any, pred_rle: Any, labels: Any = None, ignore: Any = None) -> np.ndarray:
    """Per-class intersection over union between two label maps.

    Parameters
    ----------
    true_rle, pred_rle : Runs or dict
        Ground truth and prediction of the same size.
    labels : sequence of int, optional
        Classes to score, in this order. Default: the sorted union of the
        labels of both maps, without ``ignore``.
    ignore : int, optional
        A true label to leave out (e.g. 255): pixels whose *true* label is
        ``ignore`` count for no class. A prediction of ``ignore`` (or of any
        label not in ``labels``) on another pixel is simply a miss for the
        true class there.

    Returns
    -------
    numpy.ndarray
        float64, one IoU per label: ``TP / (TP + FP + FN)`` with
        ``TP`` = pixels where both maps have the label, ``FP`` = pixels
        predicted as it whose true label is something else (not ignored),
        ``FN`` = its true pixels predicted as something else.
        A label absent from both maps (``TP + FP + FN == 0``) gets NaN,
        which :func:`miou` leaves out of the mean.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> t = mcr.encode(np.array([[0, 0, 1, 255]], dtype=np.uint8))
    >>> p = mcr.encode(np.array([[0, 1, 1, 1]], dtype=np.uint8))
    >>> mcr.iou(t, p, ignore=255)
    array([0.5, 0.5])
    >>> mcr.iou(t, p, labels=[0, 1, 2], ignore=255)
    array([0.5, 0.5, nan])
    """
    label_ints, cm = _iou_setup(true_rle, pred_rle, labels, ignore)
    n = len(label_ints)
    cm = cm.astype(np.float64)  # counts are exact in float64 up to 2**53 pixels
    tp = np.diagonal(cm)[:n]
    union = cm[:n, :].sum(axis=1) + cm[:, :n].sum(axis=0) - tp
    result = np.full(n, np.nan)
    np.divide(tp, union, out=result, where=union > 0)
    return result


def miou(true_rle: Any, pred_rle: Any, labels: Any = None, ignore: Any = None) -> float:
    """Mean of :func:`iou` over the labels present in either map.

    Labels absent from both maps (IoU NaN) are left out of the mean; when
    no label is left (e.g. every pixel ignored) the result is NaN.

    Parameters
    ----------
    true_rle, pred_rle, labels, ignore
        As for :func:`iou`.

    Returns
    -------
    float

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> t = mcr.encode(np.array([[0, 0, 1, 255]], dtype=np.uint8))
    >>> p = mcr.encode(np.array([[0, 1, 1, 1]], dtype=np.uint8))
    >>> mcr.miou(t, p, labels=[0, 1, 2], ignore=255)
    0.5
    """
    values = iou(true_rle, pred_rle, labels=labels, ignore=ignore)
    values = values[~np.isnan(values)]
    return float(values.mean()) if values.size else float("nan")


# ---------------------------------------------------------------------------
# remap


def _byte_table(mapping: Any, default: Any, target: np.dtype,
                labels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The new label of every possible old label 0..labels-1 of an 8-bit map.

    Returns ``(table, defined)``: 256 entries of ``target`` and 256 flags,
    an entry defined when the mapping (or ``default``) gives an integer that
    fits ``target``. Undefined entries are no error here: a run that meets
    one makes the kernel fail and the general path decide (raising for a
    label present in the map, or widening the dtype). None for mappings the
    general path should look at (e.g. more keys than labels).
    """
    lo, hi = value_range(target)
    table = np.zeros(256, dtype=target)
    defined = np.zeros(256, dtype=np.uint8)
    if default is not None:
        if type(default) is not int or not lo <= default <= hi:
            return None
        table[:labels] = default
        defined[:labels] = 1
    if isinstance(mapping, Mapping):
        if len(mapping) > 256:
            return None
        keys, new = [], []
        for k, v in mapping.items():
            if not isinstance(k, (int, np.integer)):
                return None    # e.g. 7.0 == 7 as a key: the general path decides
            k = int(k)         # True is 1, np.int64(7) is 7, as dict lookups see them
            if not 0 <= k < labels:
                continue       # a label this map cannot hold
            if type(v) is int or isinstance(v, np.integer):
                v = int(v)
                if lo <= v <= hi:
                    keys.append(k)
                    new.append(v)
                    continue
            defined[k] = 0   # not an integer that fits: a run of it goes to the general path
        if keys:
            table[keys] = new
            defined[keys] = 1
        return table, defined
    if isinstance(mapping, (str, bytes)):
        return None
    lut = np.asarray(mapping)
    if lut.ndim != 1 or lut.dtype.kind not in "biu":
        return None
    m = min(labels, lut.shape[0])
    picked = lut[:m]
    if np.can_cast(lut.dtype, target, "safe"):   # e.g. a uint8 lookup table: all fit
        table[:m] = picked
        defined[:m] = 1
        return table, defined
    if lut.dtype.kind == "b":
        picked = picked.astype(np.uint8)
    fits = (picked >= lo) & (picked <= hi)
    table[:m] = np.where(fits, picked, 0)
    defined[:m] = fits
    return table, defined


def _remap_compact(rle: dict, mapping: Any, default: Any, dtype: Any) -> Runs | None:
    """remap of a plainly well-formed compact dict of an 8-bit unsigned or
    bool map in one C call, or None.

    The kernel parses both strings, relabels through a 256-entry table and
    merges, validating everything as a whole decode would; any problem (a
    label the table does not define included) returns None and the general
    path raises the detailed error or picks a wider dtype.
    """
    fields = _compact_fields(rle)
    if fields is None:
        return None
    values, counts, size, n, stored_dt = fields
    if stored_dt.kind not in "ub" or stored_dt.itemsize != 1:
        return None
    try:
        target = stored_dt if dtype is None else dtype_from_argument(dtype)
    except RLEError:
        return None
    if not target.isnative:
        return None
    made = _byte_table(mapping, default, target, 2 if stored_dt.kind == "b" else 256)
    if made is None:
        return None
    table, defined = made
    try:
        vb, cb = _core.relabel_compact(values, counts, False, _KIND_CODES[stored_dt.kind], n,
                                       table, defined, target.itemsize)
    except _core.CodecError:
        return None
    return Runs(tuple(size), np.frombuffer(vb, dtype=target), np.frombuffer(cb, dtype=_U64))


def remap(rle: Any, mapping: Any, *, default: Any = None, dtype: Any = None) -> Runs:
    """Relabel a map through a dict or a lookup array, on the runs.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts.
    mapping : dict or array_like
        ``{old: new}``, or a 1D integer lookup array with ``new = mapping[old]``
        (e.g. Cityscapes id -> trainId). Only labels present in the map are
        looked up (O(labels)).
    default : int, optional
        New label for labels the mapping lacks (not a key; for an array,
        negative or >= its length). Without it such labels are an error.
    dtype : dtype, optional
        dtype of the result. Default: the map's dtype when every new label
        fits in it, else the smallest integer dtype that holds them.

    Returns
    -------
    Runs
        The relabelled map; neighbouring runs that got the same label are
        merged.

    Raises
    ------
    RLEValueError
        A label is not mapped and no ``default`` was given (the labels and
        their pixel counts are named), or a new label does not fit ``dtype``.
    RLETypeError
        A new label is not an integer.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[7, 7, 8], [26, 26, 8]], dtype=np.uint8)
    >>> r = mcr.remap(mcr.encode(a), {7: 0, 8: 1}, default=255)
    >>> r.values.tolist(), r.counts.tolist()
    ([0, 255, 0, 255, 1], [1, 1, 1, 1, 2])
    >>> mcr.decode(r)
    array([[  0,   0,   1],
           [255, 255,   1]], dtype=uint8)
    >>> lut = np.full(256, 255, dtype=np.uint8); lut[[7, 8, 26]] = [0, 1, 13]
    >>> mcr.decode(mcr.remap(mcr.encode(a), lut))
    array([[ 0,  0,  1],
           [13, 13,  1]], dtype=uint8)
    """
    if type(rle) is dict:
        fast = _remap_compact(rle, mapping, default, dtype)
        if fast is not None:
            return fast
    runs, counts = _runs_for_kernel(rle)
    target = None if dtype is None else dtype_from_argument(dtype)
    default_int = None if default is None else _as_int(default, "default")
    index, uniq, sums = _group_sums_of(runs, counts)
    size = math.prod(runs.shape)
    old = [int(x) for x in uniq.tolist()]
    missing: list[int] = []

    if isinstance(mapping, Mapping):
        new: list[int] = []
        for lab in old:
            if lab in mapping:
                new.append(_as_int(mapping[lab], f"mapping[{lab}]"))
            elif default_int is not None:
                new.append(default_int)
            else:
                missing.append(lab)
        new_uniq: np.ndarray | list[int] = new
    else:
        if isinstance(mapping, (str, bytes)):
            raise RLETypeError("mapping must be a dict or a 1D integer lookup array, got a string")
        lut = np.asarray(mapping)
        if lut.ndim != 1 or lut.dtype.kind not in "biu":
            raise RLETypeError(f"mapping must be a dict or a 1D integer lookup array, got an "
                               f"array of shape {lut.shape} and dtype {lut.dtype}")
        inside = np.array([0 <= lab < lut.shape[0] for lab in old], dtype=bool)
        if not inside.all() and default_int is None:
            missing = [lab for lab, ok in zip(old, inside.tolist()) if not ok]
        else:
            picked = lut[np.where(inside, uniq, 0).astype(np.intp)] if old and lut.shape[0] \
                else np.zeros(len(old), dtype=lut.dtype)
            new_uniq = [int(x) if ok else default_int  # type: ignore[misc]
                        for x, ok in zip(picked.tolist(), inside.tolist())]
    if missing:
        pixels = dict(zip(old, sums.tolist()))
        shown = ", ".join(f"{lab} ({pixels[lab]} pixels)" for lab in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        what = "keys of mapping" if isinstance(mapping, Mapping) else \
            f"range of the lookup array (0..{np.asarray(mapping).shape[0] - 1})"
        raise RLEValueError(f"{len(missing)} label(s) not in the {what}: {shown}{more}; "
                            f"pass default= to map them")

    new_ints = list(new_uniq)
    if target is None:
        lo, hi = (min(new_ints), max(new_ints)) if new_ints else (0, 0)
        tlo, thi = value_range(runs.dtype)
        target = runs.dtype if tlo <= lo and hi <= thi else smallest_dtype(lo, hi)
    if new_ints:
        tlo, thi = value_range(target)
        bad = [x for x in new_ints if not tlo <= x <= thi]
        if bad:
            raise RLEValueError(f"new label {bad[0]} does not fit dtype {target} ({tlo}..{thi}); "
                                f"pass a wider dtype=")
    if _is_byte_label(runs.dtype):
        table = np.zeros(256, dtype=target)
        table[uniq.astype(np.intp)] = new_ints   # uniq: the bytes present
    else:
        table = np.array(new_ints, dtype=target)
    vb, cb = _core.relabel_runs(index, index.dtype.itemsize, counts, size, table,
                                table.dtype.itemsize)
    return Runs(runs.shape, np.frombuffer(vb, dtype=target), np.frombuffer(cb, dtype=_U64))


# ---------------------------------------------------------------------------
# window decode, binary masks


def _parse_window(window: Any, shape: tuple[int, ...]) -> list[tuple[int, int]]:
    if isinstance(window, slice):
        items = [window]
    elif isinstance(window, (tuple, list, np.ndarray)):
        items = list(window)
    else:
        raise RLETypeError(f"window must be a tuple of slices or (start, stop) pairs, one "
                           f"per axis, got {type(window).__name__}")
    if len(items) > len(shape):
        raise RLEValueError(f"window has {len(items)} axes but the map has size {list(shape)} "
                            f"({len(shape)} axes)")
    box = []
    for axis, n in enumerate(shape):
        item = items[axis] if axis < len(items) else slice(None)
        if isinstance(item, slice):
            sl = item
        elif isinstance(item, (Sequence, np.ndarray)) and not isinstance(item, (str, bytes)) \
                and len(item) == 2:
            start, stop = item
            sl = slice(None if start is None else _as_int(start, f"window axis {axis} start"),
                       None if stop is None else _as_int(stop, f"window axis {axis} stop"))
        else:
            raise RLETypeError(f"window axis {axis} must be a slice or a (start, stop) pair, "
                               f"got {item!r}")
        try:
            start, stop, step = sl.indices(n)
        except TypeError as exc:
            raise RLETypeError(f"window axis {axis}: {exc}") from None
        if step != 1:
            raise RLEValueError(f"window axis {axis} has step {step}; only step 1 is supported")
        box.append((start, max(start, stop)))
    return box


def _decode_window_compact(rle: dict, window: Any, order: str) -> np.ndarray | None:
    """decode_window of a plainly well-formed compact dict in one C call, or None.

    The kernel skips the runs before the window without storing them and
    reads both strings to their ends, validating them as a whole decode
    would; on any problem (or an unusual dict, window or size) this returns
    None and the general path raises the detailed error.
    """
    fields = _compact_fields(rle)
    if fields is None:
        return None
    values, counts, size, _n, stored_dt = fields
    if not stored_dt.isnative:
        return None
    shape = tuple(size)
    try:
        box = _parse_window(window, shape)
    except RLEError:
        return None   # the general path reports a malformed dict first
    out_shape = tuple(stop - start for start, stop in box)
    if math.prod(out_shape) > get_max_elements():
        return None
    out = np.empty(out_shape, dtype=stored_dt, order=order)
    try:
        _core.decode_window_compact(values, counts, stored_dt.kind == "i",
                                    _KIND_CODES[stored_dt.kind], shape,
                                    tuple(a for a, _ in box), tuple(b for _, b in box), out)
    except _core.CodecError:
        return None
    return out


def decode_window(rle: Any, window: Any, *, order: Literal["C", "F"] = "C") -> np.ndarray:
    """Decode only a box of a label map (e.g. a random training crop).

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts, any number of dimensions.
    window : tuple
        One ``slice`` (step 1) or ``(start, stop)`` pair per axis, with
        numpy's meaning: negative indices count from the end, bounds are
        clipped to the map, missing trailing axes are taken whole.
    order : {'C', 'F'}
        Memory order of the result.

    Returns
    -------
    numpy.ndarray
        Equal to ``decode(rle)[window]``, in the map's dtype.

    Raises
    ------
    LimitExceededError
        The window has more elements than :func:`get_max_elements`.

    Notes
    -----
    One C pass walks the runs, cutting the pieces that fall inside the
    window into the window's own runs, which the C decoder then writes out:
    no array of the map's size is ever made. From a compact dict the pass
    reads both strings directly without storing the runs; it still reads
    them to their ends, so that a malformed RLE raises exactly the error
    :func:`decode` raises, even when the problem lies outside the window.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.arange(20, dtype=np.uint8).reshape(4, 5) // 3
    >>> rle = mcr.encode(a)
    >>> mcr.decode_window(rle, (slice(1, 3), slice(2, 5)))
    array([[2, 2, 3],
           [4, 4, 4]], dtype=uint8)
    >>> mcr.decode_window(rle, ((1, 3), (2, 5)), order='F').flags.f_contiguous
    True
    """
    if order not in ("C", "F"):
        raise RLEValueError(f"order must be 'C' or 'F', got {order!r}")
    if type(rle) is dict:
        fast = _decode_window_compact(rle, window, order)
        if fast is not None:
            return fast
    runs = as_runs(rle)
    shape = runs.shape
    box = _parse_window(window, shape)
    out_shape = tuple(stop - start for start, stop in box)
    n_out = int(np.prod(out_shape, dtype=object))
    if n_out > get_max_elements():
        raise LimitExceededError(
            f"window {out_shape} has {n_out} elements, more than the limit of "
            f"{get_max_elements()}; raise it with multiclass_rle.set_max_elements(n)")
    out = np.empty(out_shape, dtype=runs.dtype.newbyteorder("="), order=order)
    values = np.ascontiguousarray(runs.values, dtype=out.dtype)
    counts = np.ascontiguousarray(runs.counts, dtype=_U64)
    try:
        _core.decode_window(values, counts, shape, tuple(a for a, _ in box),
                            tuple(b for _, b in box), out)
    except _core.CodecError as exc:
        raise _counts_error(exc, counts, shape) from None
    return out


def binary_mask(rle: Any, label: Any, *, order: Literal["C", "F"] = "C") -> np.ndarray:
    """Boolean mask of one label.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts.
    label : int
        The label; one absent from the map (or outside its dtype) gives an
        all-False mask.
    order : {'C', 'F'}
        Memory order of the result.

    Returns
    -------
    numpy.ndarray
        bool array of the map's shape, ``decode(rle) == label``. The runs are
        relabelled (O(runs)) and decoded straight to bool: no label map is made.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> rle = mcr.encode(np.array([[0, 3], [3, 1]], dtype=np.uint8))
    >>> mcr.binary_mask(rle, 3)
    array([[False,  True],
           [ True, False]])
    """
    runs = _checked(rle)
    lab = _as_int(label, "label")
    lo, hi = value_range(runs.dtype)
    if lo <= lab <= hi:
        values = runs.values == np.asarray(lab).astype(runs.dtype)
    else:
        values = np.zeros(len(runs), dtype=bool)
    return decode(Runs(runs.shape, values, runs.counts), order=order)

