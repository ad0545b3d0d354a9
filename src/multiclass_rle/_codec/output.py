"""Where a decoded map goes: the ``order``, ``out`` and ``dtype`` arguments, and new arrays.

Every decoder of every form (and the window decoder of the operations)
checks its arguments and allocates through here, so that the rules and the
messages are the same everywhere: a new array is refused before it is
allocated when it would pass the element limit (:mod:`.limits`), and a
caller's ``out`` must have the map's shape and be writeable.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .dtypes import check_array_dtype, dtype_from_argument
from .errors import LimitExceededError, RLETypeError, RLEValueError
from .limits import get_max_elements

__all__ = ["check_order", "check_out", "check_out_type", "resolve_target", "check_limit",
           "new_output"]


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


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype | None) -> np.ndarray:
    """``out`` when it can take a map of ``shape`` (and ``dtype``), else a clear error."""
    check_out_type(out)
    if out.shape != shape:
        raise RLEValueError(f"out has shape {out.shape}, the RLE has size {shape}")
    if dtype is not None and out.dtype != dtype:
        raise RLEValueError(f"out has dtype {out.dtype}, but dtype={dtype} was requested")
    check_array_dtype(out.dtype)
    if not out.flags.writeable:
        raise RLEValueError("out is read-only")
    return out


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
