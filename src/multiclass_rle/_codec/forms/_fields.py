"""Fields shared by the dict forms: ``size``, ``counts``, COCO's string code, ``values`` typing.

The original, compact and COCO binary dicts all carry ``size`` and
``counts``; ``counts`` is either a list of integers or a string in COCO's
6-bit code (pycocotools' ``rleToString``), which the compact form also uses
for ``values``. Their parsers live here once; each form's own module says
what the dict holds beside them.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _core
from ..dtypes import cast_values, dtype_from_name, smallest_dtype
from ..errors import MalformedRLEError
from ..runs import U64, Runs

__all__ = ["VALUES_DELTA_FROM", "COUNTS_DELTA_FROM", "parse_size", "int_array", "string_numbers",
           "parse_counts", "require_keys", "stored_dtype", "typed_runs", "is_text"]

#: Numbers in a compact ``values`` string from this index on are stored as the
#: difference to the value two places back (label maps alternate: 0,3,0,3,...).
VALUES_DELTA_FROM = 2
#: COCO's rule for ``counts`` strings (pycocotools' rleToString: ``if (i > 2)``).
COUNTS_DELTA_FROM = 3

#: What a field in COCO's string code may be.
TEXT_TYPES = (str, bytes, bytearray, memoryview)


def is_text(field: Any) -> bool:
    """True for a field in the string code (str or bytes-like), False for a list."""
    return isinstance(field, TEXT_TYPES)


def require_keys(rle: Mapping[str, Any], keys: Sequence[str]) -> None:
    for key in keys:
        if key not in rle:
            raise MalformedRLEError(
                f"RLE dict has no {key!r} key (keys: {sorted(map(str, rle))})")


def parse_size(size: Any) -> tuple[int, ...]:
    if isinstance(size, (str, bytes)) or not isinstance(size, (Sequence, np.ndarray)):
        raise MalformedRLEError(
            f"'size' must be a list of non-negative integers, got {type(size).__name__}")
    dims = []
    for d in size:
        if isinstance(d, (bool, np.bool_)):
            raise MalformedRLEError(f"'size' must hold integers, got {list(size)!r}")
        try:
            dims.append(operator.index(d))
        except TypeError:
            raise MalformedRLEError(
                f"'size' must hold integers, got {d!r} in {list(size)!r}") from None
    if not dims:
        raise MalformedRLEError("'size' is empty; a label map needs at least one dimension")
    if len(dims) > _core.MAX_NDIM:
        raise MalformedRLEError(f"'size' has {len(dims)} dimensions, at most {_core.MAX_NDIM}")
    if any(d < 0 for d in dims):
        raise MalformedRLEError(f"'size' {dims} has a negative dimension")
    return tuple(dims)


def int_array(seq: Any, what: str) -> np.ndarray:
    """A list/tuple/array of integers as a 1D int64 or uint64 array."""
    if isinstance(seq, np.ndarray):
        arr = seq
    elif isinstance(seq, (Sequence, range)) and not isinstance(seq, (str, bytes)):
        try:
            arr = np.asarray(seq)
        except (ValueError, TypeError, OverflowError) as exc:
            raise MalformedRLEError(f"{what} is not a flat list of integers: {exc}") from None
        if arr.size == 0:
            arr = arr.astype(np.int64)
        elif arr.dtype.kind in "fO" and all(
                type(x) is int or isinstance(x, np.integer) for x in seq):
            # ints on both sides of 2**63 make numpy pick float64 (or object)
            if all(x >= 0 for x in seq) and max(seq) < 2**64:
                arr = np.array(seq, dtype=U64)
            else:
                lo, hi = min(seq), max(seq)
                raise MalformedRLEError(
                    f"{what} spans {lo}..{hi}, which no 64-bit integer type holds")
    else:
        raise MalformedRLEError(
            f"{what} must be a compact string or a list of integers, got {type(seq).__name__}")
    if arr.ndim != 1:
        raise MalformedRLEError(f"{what} must be flat, got an array of shape {arr.shape}")
    if arr.dtype.kind == "O":
        # Python ints beyond 64 bits, or mixed objects
        for x in arr:
            if isinstance(x, (bool, np.bool_)) or not isinstance(x, (int, np.integer)):
                raise MalformedRLEError(f"{what} must hold integers, got {x!r}")
        raise MalformedRLEError(f"{what} holds integers beyond 64 bits (e.g. {max(arr, key=abs)})")
    if arr.dtype.kind not in "biu":
        bad = arr[0] if arr.size else None
        raise MalformedRLEError(f"{what} must hold integers, got dtype {arr.dtype} (e.g. {bad!r})")
    if arr.dtype.kind == "b":
        arr = arr.astype(np.uint8)
    return arr


def string_numbers(s: Any, delta_from: int, what: str) -> np.ndarray:
    """The numbers of a string in COCO's 6-bit code, as uint64 (two's complement)."""
    if isinstance(s, (bytearray, memoryview)):
        # the parser may look at a character twice (where numbers end, then
        # their bits): give it a copy no other thread can write into
        s = bytes(s)
    try:
        raw = _core.string_decode(s, delta_from)
    except UnicodeEncodeError as exc:   # a lone surrogate: no UTF-8 for the kernel to read
        char = s[exc.start]
        raise MalformedRLEError(
            f"{what} has character {char!r} (code {ord(char)}) at offset {exc.start}; "
            f"compact strings use only '0'..'o'") from None
    except _core.CodecError as exc:
        code, _name, index, extra = exc.args
        if code == _core.ERR_BAD_CHAR:
            char, offset = chr(extra), index
            if isinstance(s, str) and extra >= 0x80:
                # the kernel saw UTF-8 bytes: report the character and its index in s
                offset = len(s.encode("utf-8")[:index].decode("utf-8", errors="ignore"))
                char = s[offset]
            msg = f"{what} has character {char!r} (code {ord(char)}) at offset {offset}"
            msg += "; compact strings use only '0'..'o'"
        elif code == _core.ERR_TRUNCATED:
            msg = f"{what} is truncated: the number starting at offset {extra} is unfinished"
        elif code == _core.ERR_NUMBER_TOO_LONG:
            msg = f"{what} has a number longer than 13 characters at offset {index}"
        else:  # pragma: no cover - only buffer errors remain
            msg = f"{what} could not be parsed ({_name})"
        raise MalformedRLEError(msg) from None
    return np.frombuffer(raw, dtype=U64)


def parse_counts(counts: Any) -> np.ndarray:
    """``counts`` (a string or a list) as contiguous uint64, every count non-negative.

    Zero counts are the form's business (COCO allows them; the others do
    not, which the decode kernels check).
    """
    if is_text(counts):
        arr = string_numbers(counts, COUNTS_DELTA_FROM, "'counts'")
        signed = arr.view(np.int64)
        if arr.size and int(signed.min()) < 0:   # strings hold signed numbers
            i = int(np.argmax(signed < 0))
            raise MalformedRLEError(
                f"count at index {i} is {int(signed[i])}; counts must be positive")
        return arr
    arr = int_array(counts, "'counts'")
    if arr.dtype.kind == "i":
        # convert (a private copy) before checking: a caller's array may change
        arr = arr.astype(np.int64)
        if arr.size and int(arr.min()) < 0:
            i = int(np.argmax(arr < 0))
            raise MalformedRLEError(f"count at index {i} is {int(arr[i])}; counts must be positive")
        return arr.view(U64)
    return np.ascontiguousarray(arr, dtype=U64)


def stored_dtype(rle: Mapping[str, Any]) -> np.dtype | None:
    """The dtype a dict's ``dtype`` key names, or None when it has none."""
    return dtype_from_name(rle["dtype"], where="'dtype'") if "dtype" in rle else None


def typed_runs(shape: tuple[int, ...], values: np.ndarray, counts: np.ndarray,
               stored: np.dtype | None) -> Runs:
    """Runs of a dict with ``values``: in its stored dtype, else the smallest that fits.

    ``values`` as parsed (int64 or uint64); a value outside the stored dtype
    means the dict is inconsistent.
    """
    if values.shape != counts.shape:
        raise MalformedRLEError(
            f"'values' has {values.shape[0]} entries but 'counts' has {counts.shape[0]}; "
            f"they need one entry per run")
    if stored is not None:
        values = cast_values(values, stored, own=True)
    else:
        lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
        values = cast_values(values, smallest_dtype(lo, hi))
    return Runs(shape=shape, values=values, counts=counts)
