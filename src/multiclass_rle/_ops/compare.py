"""Two maps compared on their runs: ``confusion_matrix``, ``iou``, ``miou``.

One pass of the C kernel ``pair_sums`` over both run sequences at once (a
linear merge), whatever the number of pixels.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._codec import _core
from .._codec.errors import LimitExceededError, RLEValueError
from .._codec.limits import get_max_elements
from .._codec.runs import U64 as _U64
from .._codec.runs import Runs, changed_error
from ._common import as_int, checked_ends, index_in, label_list, label_union, runs_for_kernel

__all__ = ["confusion_matrix", "iou", "miou"]


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
    cells = (n + 2) * (n + 1)
    if cells > get_max_elements():   # refused before allocating, as decode refuses sizes
        raise LimitExceededError(
            f"{n} labels need a {n + 1} x {n + 1} table of pixel counts ({cells} cells with "
            f"the ignored row, {8 * cells / 2**30:.1f} GiB), more than the limit of "
            f"{get_max_elements()} elements; pass the labels the maps hold (by default "
            f"the union of both maps' labels), or raise the limit with "
            f"multiclass_rle.set_max_elements(n)")
    where = {lab: i for i, lab in enumerate(label_ints)}
    ti = index_in(true.values, where if ignore is None else {**where, ignore: n + 1},
                   missing=n)
    pi = index_in(pred.values, where, missing=n)
    sums = np.empty((n + 2) * (n + 1), dtype=_U64)   # row n + 1: ignored pixels
    try:
        _core.pair_sums(ti, counts_t, n + 2, pi, counts_p, n + 1, 8, true.size, sums)
    except _core.CodecError as exc:
        if exc.args[0] == _core.ERR_CHANGED:
            raise changed_error("the runs") from None
        checked_ends(true_rle, "true")
        checked_ends(pred_rle, "pred")
        # found by the kernel but not by the checks: the caller's runs changed in between
        raise changed_error("the runs") from None
    return sums.reshape(n + 2, n + 1)[:n + 1]


def _confusion_inputs(true_rle: Any, pred_rle: Any) -> tuple[Runs, Runs, np.ndarray, np.ndarray]:
    true, counts_t = runs_for_kernel(true_rle, "true")
    pred, counts_p = runs_for_kernel(pred_rle, "pred")
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
        label_ints = label_union(true, pred)
    else:
        label_ints = label_list(labels)
    n = len(label_ints)
    return _confusion(true_rle, pred_rle, true, pred, counts_t, counts_p,
                      label_ints)[:n, :n].astype(np.int64)


def _iou_setup(true_rle: Any, pred_rle: Any, labels: Any,
               ignore: Any) -> tuple[list[int], np.ndarray]:
    true, pred, counts_t, counts_p = _confusion_inputs(true_rle, pred_rle)
    ignore_int = None if ignore is None else as_int(ignore, "ignore")
    if labels is None:
        label_ints = label_union(true, pred)
        if ignore_int is not None:
            label_ints = [x for x in label_ints if x != ignore_int]
    else:
        label_ints = label_list(labels)
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
