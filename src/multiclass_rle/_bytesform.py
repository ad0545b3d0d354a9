"""The compact binary ("bytes") form of a label map.

``encode_bytes(array)`` returns ``bytes``: a self-delimiting header (magic
``b"MCRL"``, format version, dtype, shape, number of distinct values, payload
length, Adler-32 checksum) and a payload that models the map line by line
(docs/format.md, section 4). Objects can be concatenated: :func:`iter_bytes`
and :func:`split_bytes` cut a concatenation apart without copying.

The C kernels (csrc/bytesform.c) do all the work without the GIL; this module
chooses dtypes, allocates, and turns result codes into readable errors.
"""

from __future__ import annotations

import base64
import math
from collections.abc import Iterator, Mapping
from typing import Any, Literal, NamedTuple

import numpy as np

from . import _core
from ._api import Runs, _as_label_array, _check_out, encode_runs
from ._dtypes import check_array_dtype, dtype_from_argument
from ._errors import LimitExceededError, MalformedRLEError, RLETypeError, RLEValueError
from ._limits import get_max_elements

__all__ = [
    "BYTES_MAGIC",
    "BYTES_VERSION",
    "BytesInfo",
    "encode_bytes",
    "decode_bytes",
    "bytes_to_runs",
    "bytes_info",
    "iter_bytes",
    "split_bytes",
    "is_bytes_like",
]

#: The first four bytes of every object of the bytes form.
BYTES_MAGIC = b"MCRL"
#: The format version this library writes (and the newest it reads).
BYTES_VERSION = 1

#: dtype of each header dtype code (csrc/mcrle_bytes.h, mcrle_bytes_dtype).
_DTYPE_OF_CODE = tuple(np.dtype(n) for n in (
    "bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64"))
_KIND = {"b": 0, "i": 1, "u": 2}

# result codes of csrc/mcrle_bytes.h and csrc/mcrle.h
_ERR_ARG = 1
_ERR_NOSPACE = 8
_ERR_VALUE_RANGE = 10
_ERR_MAGIC = 20
_ERR_VERSION = 21
_ERR_TRUNCATED = 22
_ERR_HEADER = 23
_ERR_CHECKSUM = 24
_ERR_PAYLOAD = 25

_HEADER_FIELDS = {4: "version", 5: "dtype code", 6: "ndim", 7: "flags"}

_U64 = np.dtype(np.uint64)


class BytesInfo(NamedTuple):
    """What the header of one object of the bytes form says."""

    version: int
    dtype: np.dtype
    shape: tuple[int, ...]
    n_values: int        #: distinct values in the map
    header_bytes: int
    payload_bytes: int
    total_bytes: int     #: header + payload: where the next object starts


def is_bytes_like(obj: Any) -> bool:
    """True for the types :func:`decode_bytes` accepts (bytes, bytearray, memoryview)."""
    return isinstance(obj, (bytes, bytearray, memoryview))


def _as_buffer(data: Any) -> memoryview | bytes:
    if type(data) is bytes:
        return data
    if isinstance(data, (bytearray, memoryview)):
        mv = memoryview(data)
        if not mv.c_contiguous:
            raise RLETypeError("the bytes form must be a contiguous buffer")
        return mv.cast("B") if mv.format != "B" or mv.ndim != 1 else mv
    raise RLETypeError(
        f"the bytes form must be bytes, bytearray or memoryview, got {type(data).__name__}")


def _error(exc: _core.CodecError, data: Any, base: int = 0,
           dtype: np.dtype | None = None) -> Exception:
    """A readable exception for a kernel result (args: code, name, index, sum)."""
    code, name, index, extra = exc.args
    where = f" (object at offset {base})" if base else ""
    if code == _ERR_MAGIC:
        head = bytes(memoryview(data)[base:base + 4])
        return MalformedRLEError(
            f"not the bytes form{where}: it starts with {head!r}, not {BYTES_MAGIC!r}")
    if code == _ERR_VERSION:
        return MalformedRLEError(
            f"bytes form version {extra}{where} is not supported: this library reads "
            f"version {BYTES_VERSION}; a newer multiclass_rle may read it")
    if code == _ERR_TRUNCATED:
        return MalformedRLEError(
            f"bytes form truncated{where}: {index} bytes, the object needs at least {extra}")
    if code == _ERR_HEADER:
        field = _HEADER_FIELDS.get(index, "shape, value count or payload length")
        return MalformedRLEError(
            f"bytes form header{where} is invalid: {field} at offset {index} (value {extra})")
    if code == _ERR_CHECKSUM:
        return MalformedRLEError(
            f"bytes form checksum mismatch{where}: computed {extra:#010x}; the data is corrupt")
    if code == _ERR_PAYLOAD:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where} (detected at line {index} of {extra} "
            f"or payload offset {index})")
    if code == _ERR_VALUE_RANGE:
        stored = _info_at(data, base).dtype
        value = extra - 2**64 if stored.kind == "i" and extra >= 2**63 else extra
        return RLEValueError(f"value {value} does not fit dtype {dtype}; pass a wider dtype=")
    return RLEValueError(f"bytes form could not be decoded ({name})")


def _info_at(data: Any, base: int = 0) -> BytesInfo:
    buf = data if base == 0 else memoryview(data)[base:]
    try:
        version, code, shape, n_values, hlen, plen, total = _core.bytes_header(buf)
    except _core.CodecError as exc:
        raise _error(exc, data, base) from None
    return BytesInfo(version, _DTYPE_OF_CODE[code], shape, n_values, hlen, plen, total)


def bytes_info(data: Any) -> BytesInfo:
    """Parse and check the header of the (first) object of the bytes form.

    Parameters
    ----------
    data : bytes, bytearray or memoryview

    Returns
    -------
    BytesInfo
        ``(version, dtype, shape, n_values, header_bytes, payload_bytes, total_bytes)``.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> mcr.bytes_info(mcr.encode_bytes(np.zeros((2, 3), np.int16)))[:4]
    (1, dtype('int16'), (2, 3), 1)
    """
    return _info_at(_as_buffer(data))


def iter_bytes(data: Any) -> Iterator[memoryview]:
    """Iterate over the objects of a concatenation of bytes forms, without copying.

    Each item is a memoryview of one whole object (header and payload), ready
    for :func:`decode_bytes`. Only headers are checked here; a buffer that
    does not end exactly at the end of an object raises MalformedRLEError.
    """
    buf = memoryview(_as_buffer(data))
    pos, n = 0, len(buf)
    while pos < n:
        info = _info_at(buf, pos)
        yield buf[pos:pos + info.total_bytes]
        pos += info.total_bytes


def split_bytes(data: Any) -> list[memoryview]:
    """The objects of a concatenation of bytes forms (see :func:`iter_bytes`).

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> blob = mcr.encode_bytes(np.zeros(3, np.uint8)) + mcr.encode_bytes(np.ones((2, 2), bool))
    >>> [mcr.decode_bytes(b).shape for b in mcr.split_bytes(blob)]
    [(3,), (2, 2)]
    """
    return list(iter_bytes(data))


def encode_bytes(array: Any) -> bytes:
    """Encode a label map in the compact binary form.

    Parameters
    ----------
    array : array_like
        Integer or bool label map of 1 or more dimensions, any memory layout.

    Returns
    -------
    bytes
        One self-delimiting object (see docs/format.md, section 4): objects
        can be concatenated and cut apart again with :func:`split_bytes`.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.zeros((360, 480), np.uint8); a[100:200, 50:300] = 7
    >>> b = mcr.encode_bytes(a)
    >>> len(b) < 60, bool((mcr.decode_bytes(b) == a).all())
    (True, True)
    """
    arr = _as_label_array(array)
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    elif not arr.flags.c_contiguous:
        # the model reads lines along the last axis: gathering them from, say, a
        # Fortran-ordered volume element by element is slower than numpy's copy
        arr = np.ascontiguousarray(arr)
    values, _counts = _core.encode(arr)   # runs: their values are all the distinct values
    return _encode_with_table(arr, np.frombuffer(values, dtype=arr.dtype))[0]


def _encode_with_table(arr: np.ndarray, run_values: np.ndarray) -> tuple[bytes, np.ndarray]:
    """The bytes form of a native, C-contiguous label array, and its distinct values.

    ``run_values``: the values of the array's runs (every distinct value occurs).
    """
    distinct = np.unique(run_values)
    if arr.dtype.kind == "i":
        table = distinct.astype(np.int64).view(_U64)
    else:
        table = distinct.astype(_U64)
    return _core.bytes_encode(arr, _KIND[arr.dtype.kind], table), distinct


def encode_packed(arr: np.ndarray, compact: dict[str, Any],
                  run_values: np.ndarray) -> dict[str, Any]:
    """``encode(array, packed=True)``: the packed dict, or ``compact`` where it is better.

    ``compact`` (the plain compact dict of the same map) is returned for maps
    holding only 0s and 1s, whose ``counts`` pycocotools reads, and whenever
    its strings are shorter than the packed one (tiny maps). ``run_values``:
    the values of the map's runs.
    """
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
        run_values = run_values.astype(arr.dtype)
    elif not arr.flags.c_contiguous:
        arr = np.ascontiguousarray(arr)
    blob, distinct = _encode_with_table(arr, run_values)
    if distinct.size == 0 or (int(distinct[0]) >= 0 and int(distinct[-1]) <= 1):
        return compact
    text = base64.b64encode(blob).decode("ascii")
    if len(text) >= len(compact["values"]) + len(compact["counts"]):
        return compact
    return {"size": list(arr.shape), "dtype": arr.dtype.name, "packed": text}


def packed_bytes(rle: Mapping[str, Any]) -> bytes:
    """The bytes-form object inside a packed dict, checked against its other keys."""
    text = rle["packed"]
    if not isinstance(text, str):
        raise MalformedRLEError(
            f"'packed' must be a base64 string, got {type(text).__name__}")
    if "values" in rle or "counts" in rle:
        raise MalformedRLEError("an RLE dict holds either 'packed' or 'values'/'counts', not both")
    try:
        blob = base64.b64decode(text, validate=True)
    except ValueError as exc:
        raise MalformedRLEError(f"'packed' is not valid base64 ({exc})") from None
    info = _whole(blob)[1]
    if "size" in rle:
        from ._api import _parse_size  # lazy: _api imports this module lazily too

        size = _parse_size(rle["size"])
        if size != info.shape:
            raise MalformedRLEError(
                f"'size' is {size} but the packed map has shape {info.shape}")
    if "dtype" in rle and rle["dtype"] != info.dtype.name:
        raise MalformedRLEError(
            f"'dtype' is {rle['dtype']!r} but the packed map holds {info.dtype.name}")
    return blob


def _whole(data: Any) -> tuple[Any, BytesInfo]:
    buf = _as_buffer(data)
    info = _info_at(buf)
    if info.total_bytes != len(buf):
        raise MalformedRLEError(
            f"{len(buf) - info.total_bytes} bytes follow the bytes form object of "
            f"{info.total_bytes} bytes; to decode a concatenation, use split_bytes()")
    return buf, info


def decode_bytes(data: Any, *, order: Literal["C", "F"] = "C", out: np.ndarray | None = None,
                 dtype: Any = None) -> np.ndarray:
    """Decode one object of the bytes form into a label map.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        Exactly one object (use :func:`split_bytes` for concatenations).
    order, out, dtype
        As for :func:`multiclass_rle.decode`: memory order of a new array,
        an array of the right shape to write into (any layout), the dtype of
        the result (default: ``out``'s, else the stored one).

    Raises
    ------
    MalformedRLEError
        Bad magic, unknown version, bad header field, truncation, checksum
        mismatch, corrupt payload, trailing bytes.
    LimitExceededError
        The size exceeds :func:`get_max_elements` (checked before allocating).
    RLEValueError
        A value that does not fit ``dtype``; bad ``order`` or ``out``.
    """
    if out is None and dtype is None and type(data) is bytes and (order == "C" or order == "F"):
        # the common case without building a BytesInfo (small maps decode in tens of
        # microseconds): anything unusual goes the general way below, which reports it
        try:
            _, code, shape, _, _, _, total = _core.bytes_header(data)
        except _core.CodecError:
            total = -1
        if total == len(data) and math.prod(shape) <= get_max_elements():
            result = np.empty(shape, dtype=_DTYPE_OF_CODE[code], order=order)
            try:
                _core.bytes_decode(data, _KIND[result.dtype.kind], result)
            except _core.CodecError as exc:
                raise _error(exc, data, 0, result.dtype) from None
            return result
    if order not in ("C", "F"):
        raise RLEValueError(f"order must be 'C' or 'F', got {order!r}")
    buf, info = _whole(data)
    shape = info.shape
    if dtype is not None:
        target = dtype_from_argument(dtype)
    elif out is not None:
        if not isinstance(out, np.ndarray):
            raise RLETypeError(f"out must be a numpy array, got {type(out).__name__}")
        check_array_dtype(out.dtype)
        target = out.dtype
    else:
        target = info.dtype
    if out is None:
        size = 1
        for d in shape:
            size *= d
        if size > get_max_elements():
            try:   # a corrupt header is reported as such, not as a size
                _core.bytes_header(buf, True)
            except _core.CodecError as exc:
                raise _error(exc, buf) from None
            raise LimitExceededError(
                f"size {shape} has {size} elements, more than the limit of "
                f"{get_max_elements()}; raise it with multiclass_rle.set_max_elements(n) "
                f"if this data is trusted")
        result = np.empty(shape, dtype=target.newbyteorder("="), order=order)
        dest = result
    else:
        result = _check_out(out, shape, target)
        dest = result if result.dtype.isnative else np.empty(shape, result.dtype.newbyteorder("="))
    try:
        _core.bytes_decode(buf, _KIND[dest.dtype.kind], dest)
    except _core.CodecError as exc:
        raise _error(exc, buf, 0, dest.dtype) from None
    if dest is not result:
        np.copyto(result, dest)
    return result


def bytes_to_runs(data: Any, *, dtype: Any = None) -> Runs:
    """Parse one object of the bytes form into :class:`Runs` (Fortran-order runs).

    The map is decoded into a temporary array first (O(size) memory), then
    run-length encoded.
    """
    arr = decode_bytes(data, order="F", dtype=dtype)
    return encode_runs(arr)
