"""The codec: arrays <-> runs <-> the dict forms.

Everything goes through :class:`Runs`, the in-memory RLE: two flat numpy
arrays (one value and one count per run) and a shape. The C kernels fill and
read those arrays directly; no Python object is made per run.
"""

from __future__ import annotations

import operator
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, Union

import numpy as np

from . import _core
from ._dtypes import (
    LABEL_DTYPE_NAMES,
    cast_values,
    check_array_dtype,
    dtype_from_argument,
    dtype_from_name,
    smallest_dtype,
)
from ._errors import LimitExceededError, MalformedRLEError, RLETypeError, RLEValueError
from ._limits import get_max_elements

__all__ = ["Runs", "encode_runs", "as_runs", "encode", "decode"]

#: Numbers in a compact ``values`` string from this index on are stored as the
#: difference to the value two places back (label maps alternate: 0,3,0,3,...).
VALUES_DELTA_FROM = 2
#: COCO's rule for ``counts`` strings (pycocotools' rleToString: ``if (i > 2)``).
COUNTS_DELTA_FROM = 3

_U64 = np.dtype(np.uint64)
#: mcrle_kind codes of the C kernels, by numpy dtype kind
_KIND_CODES = {"b": 0, "i": 1, "u": 2}
_COMPACT_DTYPES = {name: np.dtype(name) for name in LABEL_DTYPE_NAMES}


@dataclass(frozen=True, eq=False)
class Runs:
    """A label map as runs in Fortran order (first axis fastest).

    Attributes
    ----------
    shape : tuple of int
        Shape of the label map.
    values : numpy.ndarray
        1D, one label per run, in the map's dtype.
    counts : numpy.ndarray
        1D uint64, the length of each run; positive, summing to the map's size.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> runs = mcr.encode_runs(np.array([[0, 0], [1, 0]], dtype=np.uint8))
    >>> runs.values.tolist(), runs.counts.tolist()
    ([0, 1, 0], [1, 1, 2])
    """

    shape: tuple[int, ...]
    values: np.ndarray
    counts: np.ndarray

    def __post_init__(self) -> None:
        # Runs may be built by hand: check what the kernels rely on.
        try:
            shape = tuple(operator.index(d) for d in self.shape)
        except TypeError:
            raise RLETypeError(f"Runs.shape must hold integers, got {self.shape!r}") from None
        if not shape or any(d < 0 for d in shape) or len(shape) > _core.MAX_NDIM:
            raise MalformedRLEError(f"Runs.shape {shape} must have 1..{_core.MAX_NDIM} "
                                f"non-negative dimensions")
        for name in ("values", "counts"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 1:
                raise RLETypeError(f"Runs.{name} must be a 1D numpy array")
        check_array_dtype(self.values.dtype)
        counts = self.counts
        if counts.dtype != _U64:
            if counts.dtype.kind not in "iu":
                raise RLETypeError(f"Runs.counts must hold integers, got dtype {counts.dtype}")
            if counts.dtype.kind == "i" and counts.size and int(counts.min()) < 0:
                raise MalformedRLEError(f"Runs.counts holds a negative count {int(counts.min())}")
            counts = counts.astype(_U64)
        if counts.shape != self.values.shape:
            raise MalformedRLEError(
                f"Runs has {self.values.shape[0]} values but {counts.shape[0]} counts")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "counts", counts)

    @property
    def dtype(self) -> np.dtype:
        """dtype of the label map."""
        return self.values.dtype

    @property
    def size(self) -> int:
        """Number of elements of the label map."""
        return int(np.prod(self.shape, dtype=object))

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Runs):
            return NotImplemented
        return (
            self.shape == other.shape
            and self.dtype == other.dtype
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Runs(shape={self.shape}, dtype={self.dtype}, n_runs={len(self)})"

    def to_array(self, *, order: Literal["C", "F"] = "C", out: np.ndarray | None = None,
                 dtype: Any = None) -> np.ndarray:
        """Decode; same as :func:`decode` (``decode(runs, ...)``)."""
        return decode(self, order=order, out=out, dtype=dtype)

    def to_dict(self) -> dict[str, Any]:
        """The compact JSON-safe dict; same as :func:`encode` of the decoded array."""
        return _compact_dict(self)


RLELike = Union[Runs, Mapping[str, Any], np.ndarray]

# ---------------------------------------------------------------------------
# encoding


def _as_label_array(array: Any) -> np.ndarray:
    if isinstance(array, np.ndarray):
        arr = array
    else:
        try:
            arr = np.asarray(array)
        except (ValueError, TypeError) as exc:
            raise RLETypeError(f"cannot make an array of {type(array).__name__}: {exc}") from None
    check_array_dtype(arr.dtype)
    if arr.dtype.kind == "b" and arr.size and arr.view(np.uint8).max() > 1:
        # bools whose bytes are not 0/1 (views of other data, e.g. Pillow's 1-bit
        # images): the kernels compare bytes, so make them proper bools first
        arr = arr.view(np.uint8) != 0
    if arr.ndim == 0:
        raise RLEValueError("a label map needs at least one dimension, got a 0-d array")
    if arr.ndim > _core.MAX_NDIM:
        raise RLEValueError(f"at most {_core.MAX_NDIM} dimensions are supported, got {arr.ndim}")
    return arr


def encode_runs(array: Any) -> Runs:
    """Run-length encode a label map into :class:`Runs`.

    Parameters
    ----------
    array : array_like
        Integer or bool label map of 1 or more dimensions, in any memory
        layout (C, Fortran, strided views, read-only); it is not copied.

    Returns
    -------
    Runs
        Values in the array's dtype and uint64 counts, in Fortran order.

    Raises
    ------
    RLETypeError
        For float, complex, object, string or other non-integer arrays.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> mcr.encode_runs(np.array([[5, 5, 7]], dtype=np.int16))
    Runs(shape=(1, 3), dtype=int16, n_runs=2)
    """
    arr = _as_label_array(array)
    values, counts = _core.encode(arr)
    return Runs(
        shape=tuple(int(d) for d in arr.shape),
        values=np.frombuffer(values, dtype=arr.dtype),
        counts=np.frombuffer(counts, dtype=_U64),
    )


def _values_as_u64(values: np.ndarray) -> np.ndarray:
    """Values as 64-bit patterns: signed values sign-extended, the rest zero-extended."""
    if values.dtype.kind == "i":
        return values.astype(np.int64).view(_U64)
    return values.astype(_U64)


def _compact_dict(runs: Runs) -> dict[str, Any]:
    return {
        "size": list(runs.shape),
        "values": _core.string_encode(_values_as_u64(runs.values), VALUES_DELTA_FROM),
        "counts": _core.string_encode(np.ascontiguousarray(runs.counts, dtype=_U64),
                                      COUNTS_DELTA_FROM),
        "dtype": runs.dtype.name,
    }


def encode(array: Any, *, packed: bool = False) -> dict[str, Any]:
    """Encode a label map as a compact, JSON-safe RLE dict.

    Parameters
    ----------
    array : array_like
        Integer or bool label map, any number of dimensions and memory layout.
    packed : bool
        Store the modelled bytes form (:func:`encode_bytes`) as base64 under
        ``'packed'`` instead of ``values``/``counts``: several times smaller
        (smaller than PNG on real datasets) but slower to decode; for
        storage in JSON. Maps holding only 0s and 1s keep the plain form, so
        that ``counts`` stays pycocotools' string, and so do maps whose plain
        form is shorter.

    Returns
    -------
    dict
        ``{'size': [...], 'values': str, 'counts': str, 'dtype': str}``.
        ``counts`` is COCO's compressed string (for a 0/1 map whose first
        pixel is 0 it equals pycocotools' ``counts``); ``values`` uses the
        same 6-bit code, each value from the third on stored as the
        difference to the value two runs back (see docs/format.md).
        With ``packed``: ``{'size': [...], 'dtype': str, 'packed': str}``.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]],
    ...              dtype=np.uint8)
    >>> mcr.encode(a)
    {'size': [4, 5], 'values': '03001M00', 'counts': '132O1O04', 'dtype': 'uint8'}
    >>> bool((mcr.decode(mcr.encode(a)) == a).all())
    True
    """
    arr = _as_label_array(array)
    if packed:
        from ._bytesform import encode_packed  # lazy: _bytesform imports this module

        # one run-length pass gives both the plain dict (the fallback) and the
        # distinct values the bytes form's value table needs
        runs = encode_runs(arr)
        return encode_packed(arr, _compact_dict(runs), runs.values)
    if not arr.dtype.isnative:   # the one-call path reads values in native byte order
        return _compact_dict(encode_runs(arr))
    values, counts = _core.encode_compact(arr, _KIND_CODES[arr.dtype.kind])
    return {"size": list(arr.shape), "values": values, "counts": counts,
            "dtype": arr.dtype.name}


# ---------------------------------------------------------------------------
# parsing the accepted forms into Runs


def _parse_size(size: Any) -> tuple[int, ...]:
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


def _int_array(seq: Any, what: str) -> np.ndarray:
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
                arr = np.array(seq, dtype=_U64)
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


def _parse_counts(counts: Any) -> np.ndarray:
    if isinstance(counts, (str, bytes, bytearray, memoryview)):
        arr = _string_numbers(counts, COUNTS_DELTA_FROM, "'counts'")
        signed = arr.view(np.int64)
        if arr.size and int(signed.min()) < 0:   # strings hold signed numbers
            i = int(np.argmax(signed < 0))
            raise MalformedRLEError(
                f"count at index {i} is {int(signed[i])}; counts must be positive")
        return arr
    arr = _int_array(counts, "'counts'")
    if arr.dtype.kind == "i" and arr.size and int(arr.min()) < 0:
        i = int(np.argmax(arr < 0))
        raise MalformedRLEError(f"count at index {i} is {int(arr[i])}; counts must be positive")
    return np.ascontiguousarray(arr, dtype=_U64)


def _string_numbers(s: Any, delta_from: int, what: str) -> np.ndarray:
    try:
        raw = _core.string_decode(s, delta_from)
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
    return np.frombuffer(raw, dtype=_U64)


def _parse_values(values: Any, dtype: np.dtype | None) -> np.ndarray:
    """Run values as int64 (signed or untyped maps) or uint64 (unsigned dtypes)."""
    if isinstance(values, (str, bytes, bytearray, memoryview)):
        u64 = _string_numbers(values, VALUES_DELTA_FROM, "'values'")
        if dtype is not None and dtype.kind in "ub":
            return u64
        return u64.view(np.int64)
    return _int_array(values, "'values'")


def _counts_error(exc: Any, counts: np.ndarray, shape: tuple[int, ...]) -> MalformedRLEError:
    code, _name, index, total = exc.args
    need = int(np.prod(shape, dtype=object))
    if code == _core.ERR_ZERO_COUNT:
        return MalformedRLEError(f"count at index {index} is 0; counts must be positive")
    if code == _core.ERR_COUNTS_LONG:
        total_txt = f"at least {total}" if total == 2**64 - 1 else str(total)
        return MalformedRLEError(
            f"counts sum to {total_txt}, size {shape} needs {need} (excess from run {index})")
    return MalformedRLEError(f"counts sum to {total}, size {shape} needs {need}")


def _runs_from_mapping(rle: Mapping[str, Any], dtype_arg: np.dtype | None) -> Runs:
    for key in ("size", "counts"):
        if key not in rle:
            raise MalformedRLEError(
                f"RLE dict has no {key!r} key (keys: {sorted(map(str, rle))})")
    shape = _parse_size(rle["size"])
    counts = _parse_counts(rle["counts"])
    if "values" in rle:
        stored = dtype_from_name(rle["dtype"], where="'dtype'") if "dtype" in rle else None
        values = _parse_values(rle["values"], stored)
        if values.shape != counts.shape:
            raise MalformedRLEError(
                f"'values' has {values.shape[0]} entries but 'counts' has {counts.shape[0]}; "
                f"they need one entry per run")
        if stored is not None:
            values = cast_values(values, stored, own=True)
        else:
            lo, hi = (int(values.min()), int(values.max())) if values.size else (0, 0)
            values = cast_values(values, smallest_dtype(lo, hi))
    else:
        # A COCO binary RLE: alternating runs of 0 and 1, starting with 0;
        # COCO allows zero-length runs (a leading 0 when the first pixel is 1).
        if len(shape) != 2:
            raise MalformedRLEError(f"a COCO RLE (no 'values') needs a 2D 'size', got {shape}")
        nonzero = counts != 0
        values = (np.arange(counts.shape[0]) & 1).astype(np.uint8)[nonzero]
        counts = counts[nonzero]
    return Runs(shape=shape, values=values, counts=counts)


def _compact_fields(rle: dict) -> tuple[str, str, Sequence[int], int, np.dtype] | None:
    """(values, counts, size, element count, dtype) of a plainly well-formed
    compact dict, or None for anything the general path must look at."""
    values, counts, size = rle.get("values"), rle.get("counts"), rle.get("size")
    stored = rle.get("dtype")
    if type(values) is not str or type(counts) is not str or type(stored) is not str:
        return None
    stored_dt = _COMPACT_DTYPES.get(stored)
    if stored_dt is None or type(size) not in (list, tuple) or not 0 < len(size) <= _core.MAX_NDIM:
        return None
    n = 1
    for d in size:
        if type(d) is not int or d < 0:
            return None
        n *= d
    return values, counts, size, n, stored_dt


def _parse_compact_fast(rle: dict, target: np.dtype | None) -> Runs | None:
    """Parse a well-formed compact dict in one C call, or return None (see decode)."""
    fields = _compact_fields(rle)
    if fields is None:
        return None
    values, counts, size, _n, stored_dt = fields
    dt = stored_dt if target is None else target
    if not dt.isnative:
        return None
    try:
        vb, cb = _core.parse_compact(values, counts, stored_dt.kind == "i",
                                     _KIND_CODES[dt.kind], dt.itemsize)
    except _core.CodecError:
        return None
    return Runs(tuple(size), np.frombuffer(vb, dtype=dt), np.frombuffer(cb, dtype=_U64))


def as_runs(rle: Any, *, dtype: Any = None) -> Runs:
    """Parse any RLE form accepted by :func:`decode` into :class:`Runs`.

    Useful to parse a dict once and use it several times. Structure is
    validated here; counts are validated against the size when decoding.

    Parameters
    ----------
    rle : Runs, dict or bytes-like
        A compact dict from :func:`encode`, an original dict (``values`` and
        ``counts`` as tuples, lists or arrays), a pycocotools binary RLE, or
        one object of the bytes form from :func:`encode_bytes` (bytes,
        bytearray or memoryview).
    dtype : dtype, optional
        Dtype of the returned values; values that do not fit are an error.

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> mcr.as_runs({'size': [2, 2], 'values': [0, 700], 'counts': [3, 1]})
    Runs(shape=(2, 2), dtype=uint16, n_runs=2)
    """
    target = None if dtype is None else dtype_from_argument(dtype)
    if type(rle) is dict and (fast := _parse_compact_fast(rle, target)) is not None:
        return fast
    if isinstance(rle, (bytes, bytearray, memoryview)):
        from ._bytesform import bytes_to_runs  # lazy: _bytesform imports this module

        return bytes_to_runs(rle, dtype=target)
    if isinstance(rle, Runs):
        runs = rle
    elif isinstance(rle, Mapping) and "packed" in rle:
        from ._bytesform import bytes_to_runs, packed_bytes

        return bytes_to_runs(packed_bytes(rle), dtype=target)
    elif isinstance(rle, Mapping):
        runs = _runs_from_mapping(rle, target)
    else:
        raise RLETypeError(
            f"an RLE must be a dict or Runs (or the bytes form: bytes, bytearray, memoryview), "
            f"got {type(rle).__name__}"
            + (" (to encode an array, call encode())" if isinstance(rle, np.ndarray) else ""))
    if target is not None and runs.dtype != target:
        runs = Runs(runs.shape, cast_values(runs.values, target), runs.counts)
    return runs


# ---------------------------------------------------------------------------
# decoding


def _check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype | None) -> np.ndarray:
    if not isinstance(out, np.ndarray):
        raise RLETypeError(f"out must be a numpy array, got {type(out).__name__}")
    if out.shape != shape:
        raise RLEValueError(f"out has shape {out.shape}, the RLE has size {shape}")
    if dtype is not None and out.dtype != dtype:
        raise RLEValueError(f"out has dtype {out.dtype}, but dtype={dtype} was requested")
    check_array_dtype(out.dtype)
    if not out.flags.writeable:
        raise RLEValueError("out is read-only")
    return out




def _decode_compact_fast(rle: dict, order: str, out: np.ndarray | None,
                         dtype: Any) -> np.ndarray | None:
    """Decode a well-formed compact dict in a single C call, or return None.

    The C call parses, range-checks and expands without the GIL. Anything
    unusual (other forms, bad input) returns None, and the general path
    then does the work and raises the detailed error.
    """
    fields = _compact_fields(rle)
    if fields is None:
        return None
    values, counts, size, n, stored_dt = fields
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
        result = _check_out(out, shape, target)
    kind = _KIND_CODES.get(result.dtype.kind)
    if kind is None or not result.dtype.isnative:
        return None
    try:
        _core.decode_compact(values, counts, stored_dt.kind == "i", kind, result)
    except _core.CodecError:
        return None
    return result


def decode(rle: Any, *, order: Literal["C", "F"] = "C", out: np.ndarray | None = None,
           dtype: Any = None) -> np.ndarray:
    """Decode an RLE into a label map.

    Parameters
    ----------
    rle : dict, Runs or bytes-like
        A compact dict from :func:`encode` (also after a JSON round trip), an
        original dict with ``values`` and ``counts`` sequences, a pycocotools
        binary RLE (``counts`` as str, bytes or list; decodes to a 0/1 uint8
        mask), :class:`Runs`, or one object of the bytes form from
        :func:`encode_bytes` (bytes, bytearray or memoryview; use
        :func:`split_bytes` for a concatenation).
    order : {'C', 'F'}
        Memory order of the returned array.
    out : numpy.ndarray, optional
        Array of the RLE's shape to write into, any memory layout; nothing is
        allocated and ``out`` is returned. Its dtype is used unless ``dtype``
        is given.
    dtype : dtype, optional
        Dtype of the result. Default: ``out``'s, else the RLE's ``dtype``,
        else the smallest integer dtype holding every value (uint8 for the
        usual 0..255 maps). A value the dtype cannot hold is an error.

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    MalformedRLEError
        (a ValueError) counts that are not positive or do not sum to the
        size, values and counts of different lengths, bad strings, bad size.
    LimitExceededError
        The size exceeds :func:`get_max_elements` (checked before allocating).
    RLEValueError, RLETypeError
        Bad ``order``, ``out`` or ``dtype``, or a value that does not fit.

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> rle = {'size': (4, 5), 'values': (0, 3, 0, 3, 1, 0, 1, 0),
    ...        'counts': (1, 3, 2, 2, 3, 1, 3, 5)}
    >>> mcr.decode(rle)
    array([[0, 0, 1, 1, 0],
           [3, 0, 1, 1, 0],
           [3, 3, 1, 1, 0],
           [3, 3, 0, 0, 0]], dtype=uint8)
    """
    if order not in ("C", "F"):
        raise RLEValueError(f"order must be 'C' or 'F', got {order!r}")
    if out is not None and not isinstance(out, np.ndarray):
        raise RLETypeError(f"out must be a numpy array, got {type(out).__name__}")
    if isinstance(rle, (bytes, bytearray, memoryview)):
        from ._bytesform import decode_bytes  # lazy: _bytesform imports this module

        return decode_bytes(rle, order=order, out=out, dtype=dtype)
    if type(rle) is dict:
        fast = _decode_compact_fast(rle, order, out, dtype)
        if fast is not None:
            return fast
    if isinstance(rle, Mapping) and "packed" in rle:
        from ._bytesform import decode_bytes, packed_bytes

        return decode_bytes(packed_bytes(rle), order=order, out=out, dtype=dtype)
    target = None if dtype is None else dtype_from_argument(dtype)
    if target is None and out is not None:
        check_array_dtype(out.dtype)
        target = out.dtype
    runs = as_runs(rle, dtype=target)
    shape = runs.shape
    if out is None:
        size, limit = runs.size, get_max_elements()
        # an empty map may still claim huge other axes, which numpy cannot index
        span = int(np.prod([d for d in shape if d], dtype=object))
        if size > limit or span > limit:
            raise LimitExceededError(
                f"size {shape} has {size} elements" + ("" if size > limit else
                                                        f" but spans {span} positions")
                + f", more than the limit of {limit}; raise it with "
                f"multiclass_rle.set_max_elements(n) if this RLE is trusted")
        result = np.empty(shape, dtype=runs.dtype.newbyteorder("="), order=order)
    else:
        result = _check_out(out, shape, target)
    values = np.ascontiguousarray(runs.values, dtype=result.dtype)
    counts = np.ascontiguousarray(runs.counts, dtype=_U64)
    if result.dtype.kind == "b" and values.size and values.view(np.uint8).max() > 1:
        raise RLEValueError("bool label maps hold only 0 and 1")
    try:
        _core.decode(values, counts, result)
    except _core.CodecError as exc:
        raise _counts_error(exc, counts, shape) from None
    return result

