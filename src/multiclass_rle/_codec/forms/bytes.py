"""The compact binary ("bytes") form of a label map.

``encode_bytes(array)`` returns ``bytes``: a self-delimiting header (magic
``b"MCRL"``, format version, dtype, line order, shape, number of distinct
values, payload length, Adler-32 checksum) and a payload that models the map
line by line (docs/format.md, section 4). Version 2, the default, runs the
lines along the array's fastest axis in memory (a Fortran-ordered volume is
coded along its first axis, so that it decodes into its own order without a
strided copy) and cuts large maps into chunks that threads code and decode
at once; version 1 objects are still read, and written on request. Objects can be concatenated: :func:`iter_bytes`
and :func:`split_bytes` cut a concatenation apart without copying.

The C kernels (csrc/bytesform.c) do all the work without the GIL; this module
chooses dtypes, allocates, and turns result codes into readable errors.

Recognised: bytes, bytearray and memoryview (one object; :func:`split_bytes`
cuts a concatenation). The packed dict (:mod:`.packed`) carries the same
object as base64 inside JSON.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any, Literal, NamedTuple

import numpy as np

from .. import _core
from ..errors import MalformedRLEError, RLETypeError, RLEValueError
from ..limits import get_max_elements, threads_for
from ..output import check_limit, check_order, check_out, resolve_target
from ..runs import Runs, as_label_array, encode_runs

__all__ = [
    "NAME",
    "matches",
    "to_runs",
    "decode",
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
    "whole",
    "encode_with_table",
    "distinct_values",
    "BYTES_VERSIONS",
]

NAME = "bytes"

#: The first four bytes of every object of the bytes form.
BYTES_MAGIC = b"MCRL"
#: The format version this library writes by default (and the newest it reads).
BYTES_VERSION = 2
#: Every version this library reads.
BYTES_VERSIONS = (1, 2)

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
    order: str = "C"     #: the lines' order: "C" (along the last axis) or "F" (the first)


BytesInfo.__module__ = "multiclass_rle"   # pickles name the public path


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
            f"versions {BYTES_VERSIONS[0]} to {BYTES_VERSIONS[-1]}; a newer multiclass_rle "
            f"may read it")
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
        version, code, shape, n_values, hlen, plen, total, order = _core.bytes_header(buf)
    except _core.CodecError as exc:
        raise _error(exc, data, base) from None
    return BytesInfo(version, _DTYPE_OF_CODE[code], shape, n_values, hlen, plen, total,
                     "F" if order else "C")


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
    (2, dtype('int16'), (2, 3), 1)
    >>> mcr.bytes_info(mcr.encode_bytes(np.zeros((2, 3), np.int16, order="F"))).order
    'F'
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


def encode_bytes(array: Any, *, threads: int | None = None, version: int = BYTES_VERSION) -> bytes:
    """Encode a label map in the compact binary form.

    Parameters
    ----------
    array : array_like
        Integer or bool label map of 1 or more dimensions, any memory layout.
    threads : int, optional
        Most threads to use, as for :func:`multiclass_rle.encode`. The bytes
        are the same for any number.
    version : {2, 1}
        Format version. 2 (the default) codes the lines along the array's
        fastest axis in memory (a Fortran-ordered volume along its first
        axis) and in chunks that threads code and decode at once; 1 is for
        readers older than version 2 (multiclass_rle 0.2): lines along the
        last axis, one stream.

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
    arr = as_label_array(array)
    if version not in BYTES_VERSIONS:
        raise RLEValueError(f"version must be one of {BYTES_VERSIONS}, got {version!r}")
    order = "F" if version >= 2 and _fortran_first(arr) else "C"
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="), order=order)
    elif not arr.flags[order + "_CONTIGUOUS"]:
        # the model reads lines along one axis: gathering them from a strided view
        # element by element is slower than numpy's copy
        arr = np.require(arr, requirements=order)
    n_threads = threads_for(threads, arr.nbytes)
    return encode_with_table(arr, distinct_values(arr, n_threads), order, version, n_threads)


def _fortran_first(arr: np.ndarray) -> bool:
    """Whether the array's first axis is its fastest in memory (code it in Fortran order)."""
    if arr.flags.c_contiguous or arr.ndim < 2:
        return False
    if arr.flags.f_contiguous:
        return True
    return abs(arr.strides[0]) < abs(arr.strides[-1])


def distinct_values(arr: np.ndarray, n_threads: int = 1) -> np.ndarray:
    """The sorted distinct values of a native label array (for the value table).

    One C pass: a presence table for 1- and 2-byte elements, else a hash set
    of the values that start a run in memory order; arrays of 4 MiB and more
    in pieces on ``n_threads`` threads, their lists merged.
    """
    table = np.frombuffer(_core.distinct_values(arr, _KIND[arr.dtype.kind], n_threads), dtype=_U64)
    if arr.dtype.kind == "i":
        return table.view(np.int64).astype(arr.dtype)
    return table.astype(arr.dtype)


def encode_with_table(arr: np.ndarray, distinct: np.ndarray, order: str = "C",
                      version: int = BYTES_VERSION, n_threads: int = 1) -> bytes:
    """The bytes form of a native label array, contiguous in ``order``, with its sorted
    distinct values ``distinct``."""
    if arr.dtype.kind == "i":
        table = distinct.astype(np.int64).view(_U64)
    else:
        table = distinct.astype(_U64)
    return _core.bytes_encode(arr, _KIND[arr.dtype.kind], table, 1 if order == "F" else 0,
                              version, n_threads)


def whole(data: Any) -> tuple[Any, BytesInfo]:
    """The buffer of exactly one object and its header; trailing bytes are an error."""
    buf = _as_buffer(data)
    info = _info_at(buf)
    if info.total_bytes != len(buf):
        raise MalformedRLEError(
            f"{len(buf) - info.total_bytes} bytes follow the bytes form object of "
            f"{info.total_bytes} bytes; to decode a concatenation, use split_bytes()")
    return buf, info


def decode_bytes(data: Any, *, order: Literal["C", "F"] | None = None,
                 out: np.ndarray | None = None,
                 dtype: Any = None, threads: int | None = None) -> np.ndarray:
    """Decode one object of the bytes form into a label map.

    Parameters
    ----------
    data : bytes, bytearray or memoryview
        Exactly one object (use :func:`split_bytes` for concatenations).
    order : {None, "C", "F"}
        Memory order of a new array. Default: the order the map was coded
        in (``bytes_info(data).order``: "F" for a map that was Fortran-ordered
        when encoded, from format version 2, else "C"), which is also the
        fastest to decode, as ``np.load`` keeps a saved array's order.
    out, dtype
        As for :func:`multiclass_rle.decode`: an array of the right shape to
        write into (any layout), the dtype of the result (default: ``out``'s,
        else the stored one).
    threads : int, optional
        Most threads to use, as for :func:`multiclass_rle.decode`.

    Raises
    ------
    MalformedRLEError
        Bad magic, unknown version, bad header field, truncation, checksum
        mismatch, corrupt payload, trailing bytes.
    LimitExceededError
        The size exceeds :func:`get_max_elements` (checked before allocating).
    RLEValueError
        A value that does not fit ``dtype``; bad ``order`` or ``out``.

    Examples
    --------
    >>> import numpy as np
    >>> import multiclass_rle as mcr
    >>> vol = np.asfortranarray(np.arange(24, dtype=np.uint8).reshape(2, 3, 4) // 5)
    >>> back = mcr.decode_bytes(mcr.encode_bytes(vol))
    >>> bool((back == vol).all()), back.flags.f_contiguous
    (True, True)
    >>> mcr.decode_bytes(mcr.encode_bytes(vol), order="C").flags.c_contiguous
    True
    """
    threads_for(threads, 0)   # checks the argument
    if out is None and dtype is None and type(data) is bytes and (
            order is None or order == "C" or order == "F"):
        # the common case without building a BytesInfo (small maps decode in tens of
        # microseconds): anything unusual goes the general way below, which reports it
        try:
            _, code, shape, _, _, _, total, fortran = _core.bytes_header(data)
        except _core.CodecError:
            total = -1
        if total == len(data) and math.prod(shape) <= get_max_elements():
            result = np.empty(shape, dtype=_DTYPE_OF_CODE[code],
                              order=("F" if fortran else "C") if order is None else order)
            try:
                _core.bytes_decode(data, _KIND[result.dtype.kind], result,
                                   threads_for(threads, result.nbytes))
            except _core.CodecError as exc:
                raise _error(exc, data, 0, result.dtype) from None
            return result
    if order is not None:
        check_order(order)
    buf, info = whole(data)
    order = info.order if order is None else order
    shape = info.shape
    target = resolve_target(dtype, out, info.dtype)
    if out is None:
        if math.prod(shape) > get_max_elements():
            try:   # a corrupt header is reported as such, not as a size
                _core.bytes_header(buf, True)
            except _core.CodecError as exc:
                raise _error(exc, buf) from None
            check_limit(shape)
        result = np.empty(shape, dtype=target.newbyteorder("="), order=order)
        dest = result
    else:
        result = check_out(out, shape, target)
        dest = result if result.dtype.isnative else np.empty(shape, result.dtype.newbyteorder("="))
    try:
        _core.bytes_decode(buf, _KIND[dest.dtype.kind], dest, threads_for(threads, dest.nbytes))
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


# ---------------------------------------------------------------------------
# the form's entry points (forms/__init__.py)


def matches(obj: Any) -> bool:
    return isinstance(obj, (bytes, bytearray, memoryview))


def to_runs(data: Any, target: np.dtype | None) -> Runs:
    return bytes_to_runs(data, dtype=target)


def decode(data: Any, order: str, out: np.ndarray | None, dtype: Any,
           threads: int | None = None) -> np.ndarray:
    return decode_bytes(data, order=order, out=out, dtype=dtype, threads=threads)
