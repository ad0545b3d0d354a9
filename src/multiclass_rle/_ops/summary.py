"""Summaries of a map from its runs: ``labels``, ``area``, ``bbox``."""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from .._codec import _core
from .._codec.errors import RLEValueError
from .._codec.runs import U64 as _U64
from ._common import checked, distinct, group_sums_of, groups, is_byte_label, kernel_counts_error, \
    label_sums, runs_for_kernel

__all__ = ["labels", "area", "bbox"]


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
    runs, counts = runs_for_kernel(rle)
    if is_byte_label(runs.dtype):   # one C pass: sums of 256 groups, validated
        return group_sums_of(runs, counts)[1]
    return distinct(checked(runs).values)   # a sort of the values; no sums needed


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
    _runs, uniq, sums = label_sums(rle)
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
    runs, counts = runs_for_kernel(rle)
    shape = runs.shape
    ndim = len(shape)
    index, uniq, n_groups = groups(runs.values)
    lo = np.empty((n_groups, ndim), dtype=_U64)
    hi = np.empty((n_groups, ndim), dtype=_U64)
    try:
        _core.group_bbox(index, index.dtype.itemsize, counts, shape, lo, hi)
    except _core.CodecError as exc:
        raise kernel_counts_error(exc, counts, shape) from None
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
