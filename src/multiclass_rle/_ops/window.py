"""Partial decodes: ``decode_window`` (a box of the map) and ``binary_mask`` (one label)."""

from __future__ import annotations

import math
import operator
from collections.abc import Sequence
from typing import Any, Literal

import numpy as np

from .._codec import _core
from .._codec.api import as_runs, decode
from .._codec.dtypes import value_range
from .._codec.errors import RLEError, RLETypeError, RLEValueError
from .._codec.forms import compact
from .._codec.limits import get_max_elements
from .._codec.output import check_limit, check_order
from .._codec.runs import U64 as _U64
from .._codec.runs import Runs, counts_error
from ._common import as_int, checked

__all__ = ["decode_window", "binary_mask"]


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
            sl = slice(None if start is None else as_int(start, f"window axis {axis} start"),
                       None if stop is None else as_int(stop, f"window axis {axis} stop"))
        else:
            raise RLETypeError(f"window axis {axis} must be a slice or a (start, stop) pair, "
                               f"got {item!r}")
        if sl.step is not None and not isinstance(sl.step, (float, str, bytes)):
            try:
                if operator.index(sl.step) == 0:
                    raise RLEValueError(f"window axis {axis} has step 0; only step 1 is "
                                        f"supported")
            except TypeError:
                pass   # slice.indices names it
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
    fields = compact.fields(rle)
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
                                    compact.KIND_CODES[stored_dt.kind], shape,
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
    check_order(order)
    if type(rle) is dict:
        fast = _decode_window_compact(rle, window, order)
        if fast is not None:
            return fast
    runs = as_runs(rle)
    shape = runs.shape
    box = _parse_window(window, shape)
    out_shape = tuple(stop - start for start, stop in box)
    check_limit(out_shape, "window")
    out = np.empty(out_shape, dtype=runs.dtype.newbyteorder("="), order=order)
    values = np.ascontiguousarray(runs.values, dtype=out.dtype)
    counts = np.ascontiguousarray(runs.counts, dtype=_U64)
    try:
        _core.decode_window(values, counts, shape, tuple(a for a, _ in box),
                            tuple(b for _, b in box), out)
    except _core.CodecError as exc:
        raise counts_error(exc, counts, shape) from None
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
    runs = checked(rle)
    lab = as_int(label, "label")
    lo, hi = value_range(runs.dtype)
    if lo <= lab <= hi:
        values = runs.values == np.asarray(lab).astype(runs.dtype)
    else:
        values = np.zeros(len(runs), dtype=bool)
    return decode(Runs(runs.shape, values, runs.counts), order=order)
