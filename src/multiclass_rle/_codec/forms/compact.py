"""The compact dict: ``{'size', 'values': str, 'counts': str, 'dtype'}`` (docs/format.md, section 3).

What :func:`multiclass_rle.encode` writes: ``counts`` in COCO's 6-bit string
code (for a 0/1 map starting with 0, pycocotools' own string), ``values`` in
the same code with each value from the third on stored as the difference to
the value two runs back. A plainly well-formed dict is parsed and expanded
in one C call without the GIL; anything unusual takes the general path,
which reports exactly what is wrong.

Recognised: a mapping whose ``values`` is a string (str or bytes-like) and
that has no ``packed`` key; ``counts`` may then be a string or a list.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .. import _core
from ..dtypes import LABEL_DTYPE_NAMES, dtype_from_argument, dtype_name
from ..limits import get_max_elements, threads_for
from ..output import check_out, resolve_target
from ..runs import U64, Runs, encode_call, encode_runs, register_dict_writer, runs_to_array
from ._fields import (
    COUNTS_DELTA_FROM,
    VALUES_DELTA_FROM,
    is_text,
    parse_counts,
    parse_size,
    require_keys,
    stored_dtype,
    string_numbers,
    typed_runs,
)

__all__ = ["NAME", "matches", "to_runs", "decode", "decode_fast", "decode_general", "encode",
           "write", "fields", "KIND_CODES"]

NAME = "compact"

#: mcrle_kind codes of the C kernels, by numpy dtype kind
KIND_CODES = {"b": 0, "i": 1, "u": 2}
_DTYPES = {name: np.dtype(name) for name in LABEL_DTYPE_NAMES}


def matches(obj: Any) -> bool:
    return ((type(obj) is dict or isinstance(obj, Mapping)) and "values" in obj
            and "packed" not in obj and is_text(obj["values"]))


# ---------------------------------------------------------------------------
# writing


def _values_as_u64(values: np.ndarray) -> np.ndarray:
    """Values as 64-bit patterns: signed values sign-extended, the rest zero-extended."""
    if values.dtype.kind == "i":
        return values.astype(np.int64).view(U64)
    return values.astype(U64)


def write(runs: Runs) -> dict[str, Any]:
    """The compact dict of :class:`Runs` (what :meth:`Runs.to_dict` returns)."""
    return {
        "size": list(runs.shape),
        "values": _core.string_encode(_values_as_u64(runs.values), VALUES_DELTA_FROM),
        "counts": _core.string_encode(np.ascontiguousarray(runs.counts, dtype=U64),
                                      COUNTS_DELTA_FROM),
        "dtype": dtype_name(runs.dtype),
    }


register_dict_writer(write)


def encode(arr: np.ndarray, threads: int | None = None) -> dict[str, Any]:
    """The compact dict of a checked label array (:func:`as_label_array`), in one C pass."""
    if not arr.dtype.isnative:   # the one-call path reads values in native byte order
        return write(encode_runs(arr, threads=threads))
    values, counts = encode_call(_core.encode_compact, arr, KIND_CODES[arr.dtype.kind],
                                threads_for(threads, arr.nbytes))
    return {"size": list(arr.shape), "values": values, "counts": counts,
            "dtype": dtype_name(arr.dtype)}


# ---------------------------------------------------------------------------
# reading


def fields(rle: Any) -> tuple[str, str, Sequence[int], int, np.dtype] | None:
    """(values, counts, size, element count, dtype) of a plainly well-formed
    compact dict, or None for anything the general path must look at.

    The operations use it too, for their one-call kernels on compact dicts.
    """
    if type(rle) is not dict or "packed" in rle:   # a packed dict is never read as compact
        return None
    values, counts, size = rle.get("values"), rle.get("counts"), rle.get("size")
    stored = rle.get("dtype")
    if type(values) is not str or type(counts) is not str or type(stored) is not str:
        return None
    if not (values.isascii() and counts.isascii()):   # O(1): a flag of the str
        return None   # the general path names the character (a lone surrogate has no UTF-8)
    stored_dt = _DTYPES.get(stored)
    if stored_dt is None or type(size) not in (list, tuple) or not 0 < len(size) <= _core.MAX_NDIM:
        return None
    n = 1
    for d in size:
        if type(d) is not int or d < 0:
            return None
        n *= d
    return values, counts, size, n, stored_dt


def _parse_fast(rle: Any, target: np.dtype | None) -> Runs | None:
    """Parse a well-formed compact dict in one C call, or return None."""
    got = fields(rle)
    if got is None:
        return None
    values, counts, size, _n, stored_dt = got
    dt = stored_dt if target is None else target
    if not dt.isnative:
        return None
    try:
        vb, cb = _core.parse_compact(values, counts, stored_dt.kind == "i",
                                     KIND_CODES[dt.kind], dt.itemsize)
    except _core.CodecError:
        return None
    return Runs(tuple(size), np.frombuffer(vb, dtype=dt), np.frombuffer(cb, dtype=U64))


def _values(values: Any, dtype: np.dtype | None) -> np.ndarray:
    """A ``values`` string as int64 (signed or untyped maps) or uint64 (unsigned dtypes)."""
    u64 = string_numbers(values, VALUES_DELTA_FROM, "'values'")
    if dtype is not None and dtype.kind in "ub":
        return u64
    return u64.view(np.int64)


def to_runs(rle: Mapping[str, Any], target: np.dtype | None) -> Runs:
    fast = _parse_fast(rle, target)
    if fast is not None:
        return fast
    require_keys(rle, ("size", "counts"))
    shape = parse_size(rle["size"])
    counts = parse_counts(rle["counts"])
    stored = stored_dtype(rle)
    return typed_runs(shape, _values(rle["values"], stored), counts, stored)


def decode_fast(rle: Any, order: str, out: np.ndarray | None, dtype: Any,
                threads: int | None) -> np.ndarray | None:
    """Decode a well-formed compact dict in a single C call, or return None.

    The C call parses, range-checks and expands without the GIL. Anything
    unusual (bad input, a huge or empty size) returns None, and the general
    path then does the work and raises the detailed error.
    """
    got = fields(rle)
    if got is None:
        return None
    values, counts, size, n, stored_dt = got
    shape = tuple(size)
    if dtype is not None:
        target = dtype_from_argument(dtype)
    elif out is not None:
        target = out.dtype
    else:
        target = stored_dt
    if out is None:
        if n == 0 or n > get_max_elements():   # empty maps: the general path checks them
            return None
        result = np.empty(shape, dtype=target, order=order)
    else:
        result = check_out(out, shape, target)
    kind = KIND_CODES.get(result.dtype.kind)
    if kind is None or not result.dtype.isnative:
        return None
    try:
        _core.decode_compact(values, counts, stored_dt.kind == "i", kind, result,
                             threads_for(threads, result.nbytes))
    except _core.CodecError:
        return None
    return result


def decode(rle: Mapping[str, Any], order: str, out: np.ndarray | None, dtype: Any,
           threads: int | None = None) -> np.ndarray:
    fast = decode_fast(rle, order, out, dtype, threads)
    if fast is not None:
        return fast
    return decode_general(rle, order, out, dtype, threads)


def decode_general(rle: Mapping[str, Any], order: str, out: np.ndarray | None, dtype: Any,
                   threads: int | None = None) -> np.ndarray:
    """What :func:`decode_fast` declined: parsed to :class:`Runs`, then expanded
    (bad input gets its detailed error here)."""
    target = resolve_target(dtype, out, None)
    return runs_to_array(to_runs(rle, target), order=order, out=out, dtype=target,
                         threads=threads)
