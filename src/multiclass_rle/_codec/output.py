"""Where a decoded map goes: the ``order``, ``out`` and ``dtype`` arguments, and new arrays.

Every decoder of every form (and the window decoder of the operations)
checks its arguments and allocates through here, so that the rules and the
messages are the same everywhere: a new array is refused before it is
allocated when it would pass the element limit (:mod:`.limits`), and a
caller's ``out`` must have the map's shape and be writeable.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .dtypes import check_array_dtype, dtype_from_argument
from .errors import LimitExceededError, RLETypeError, RLEValueError
from .limits import get_max_elements

__all__ = ["check_order", "check_out", "check_out_type", "resolve_target", "check_limit",
           "new_output", "overlaps_itself", "apart_from"]


def check_order(order: Any) -> None:
    if order != "C" and order != "F":
        raise RLEValueError(f"order must be 'C' or 'F', got {order!r}")


def check_out_type(out: Any) -> None:
    if out is not None and not isinstance(out, np.ndarray):
        raise RLETypeError(f"out must be a numpy array, got {type(out).__name__}")


def resolve_target(dtype: Any, out: np.ndarray | None, default: np.dtype | None) -> Any:
    """The result's dtype: ``dtype=`` if given, else ``out``'s, else ``default``."""
    if dtype is not None:
        return dtype_from_argument(dtype)
    if out is not None:
        check_out_type(out)
        check_array_dtype(out.dtype)
        return out.dtype
    return default


def overlaps_itself(shape: tuple[int, ...], strides: tuple[int, ...], itemsize: int) -> bool:
    """Whether two elements of an array of this layout share a byte.

    Such an output (``np.broadcast_to``, ``torch.Tensor.expand``, a hand-made
    ``as_strided`` view) would hold, for every element, whichever value was
    written last: a decode into it is silently wrong. Exact: axes of length
    1 are ignored; a stride of 0 on a longer axis overlaps; otherwise the
    axes sorted by stride must each step past everything the smaller ones
    span (the usual layouts, in O(ndim)), and layouts that interleave are
    checked element by element.
    """
    axes = sorted((abs(st), n) for n, st in zip(shape, strides) if n > 1)
    if any(n == 0 for n in shape):
        return False
    if any(st == 0 for st, _n in axes):
        return True
    span = itemsize
    for st, n in axes:
        if st < span:
            break
        span = st * (n - 1) + span
    else:
        return False
    if math.prod(n for _st, n in axes) > 1 << 22:
        return True   # too many to list; no real array interleaves like this
    offsets = np.zeros(1, dtype=np.int64)
    for st, n in axes:   # interleaved strides: every element's offset, sorted
        offsets = (offsets[:, None] + st * np.arange(n, dtype=np.int64)).ravel()
    offsets.sort()
    return bool(np.any(np.diff(offsets) < itemsize))


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype | None) -> np.ndarray:
    """``out`` when it can take a map of ``shape`` (and ``dtype``), else a clear error."""
    check_out_type(out)
    if out.shape != shape:
        raise RLEValueError(f"out has shape {out.shape}, the RLE has size {shape}")
    if dtype is not None and out.dtype != dtype:
        raise RLEValueError(f"out has dtype {out.dtype}, but dtype={dtype} was requested")
    check_array_dtype(out.dtype)
    flags = out.flags   # (a new object at each access)
    if not flags.writeable:
        raise RLEValueError("out is read-only")
    # a contiguous array (numpy's flags, O(1)) has its own memory for every element
    contiguous = flags.c_contiguous or flags.f_contiguous
    if not contiguous and overlaps_itself(out.shape, out.strides, out.itemsize):
        raise RLEValueError(
            f"out has elements that share memory (shape {out.shape}, strides {out.strides}, "
            f"as a broadcast or expanded view has): a decode into it would keep only the "
            f"value written last; pass an array with its own memory for every element")
    return out


def apart_from(source: Any, out: np.ndarray | None) -> Any:
    """``source`` (an input the kernel reads), or a copy of it when it may share memory with ``out``.

    A decode writes ``out`` while it reads its inputs; an ``out`` that is a
    view of the RLE's own values, counts or bytes would overwrite them before
    they are read. Inputs are small next to the map, so copying them is the
    cheap way out (``np.may_share_memory`` compares address ranges only).
    """
    if out is None or source is None:
        return source
    if isinstance(source, np.ndarray):
        return source.copy() if np.may_share_memory(source, out) else source
    try:
        view = np.frombuffer(source, dtype=np.uint8)
    except (TypeError, ValueError):
        return source
    return bytes(source) if np.may_share_memory(view, out) else source


def check_limit(shape: tuple[int, ...], what: str = "size") -> None:
    """Refuse a new array of ``shape`` above the element limit, before allocating.

    An empty map may still claim huge other axes, which numpy cannot index:
    the product of the non-zero axes (its span) is limited too.
    """
    size = span = 1
    for d in shape:
        size *= d
        span *= d or 1
    limit = get_max_elements()
    if size > limit or span > limit:
        raise LimitExceededError(
            f"{what} {shape} has {size} elements" + ("" if size > limit else
                                                     f" but spans {span} positions")
            + f", more than the limit of {limit}; raise it with "
            f"multiclass_rle.set_max_elements(n) if this RLE is trusted")


def new_output(shape: tuple[int, ...], dtype: np.dtype, order: str,
               out: np.ndarray | None) -> np.ndarray:
    """``out`` checked against ``shape``/``dtype``, or a new array within the limit."""
    if out is not None:
        return check_out(out, shape, dtype)
    check_limit(shape)
    return np.empty(shape, dtype=dtype.newbyteorder("="), order=order)
