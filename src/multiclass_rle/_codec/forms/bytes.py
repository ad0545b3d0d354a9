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
from ..runs import Runs, as_label_array, encode_call, encode_runs

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
_ERR_PAYLOAD = 25      # a modelled line (index: the line, extra: the number of lines)
_ERR_MODE = 26         # unknown mode byte (extra: the byte)
_ERR_VALUES = 27       # value table (index: payload offset, extra: the entry)
_ERR_TABLES = 28       # frequency table (index: payload offset, extra: the table)
_ERR_SHORT = 29        # too few coded bytes (index: bytes there, extra: bytes needed)
_ERR_END = 30          # stream ends early or late (index: offset reached, extra: payload length)
_ERR_RAW_LENGTH = 31   # raw payload length (index: length needed, extra: length there)
_ERR_BOOL = 32         # raw bool byte (index: element, extra: the byte)

#: The frequency tables of a modelled payload (docs/format.md 4.5), by number.
_TABLE_NAMES = ("FIRST0", "FIRST1", "SEG", "KX", "LX", "OFF", "VAL")

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
        return MalformedRLEError(f"bytes form header{where} is invalid: "
                                 f"{_header_reason(memoryview(data)[base:], index, extra)}")
    if code == _ERR_CHECKSUM:
        return MalformedRLEError(
            f"bytes form checksum mismatch{where}: computed {extra:#010x}; the data is corrupt")
    if code == _ERR_PAYLOAD:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: its line {index} (of {extra}) does not "
            f"decode (a segment outside the line, an edge or a value that does not exist, "
            f"or the coded data ended)")
    if code == _ERR_MODE:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: " + (
                f"mode byte {extra} is unknown (0 is modelled, 1 raw)" if extra else
                "it is modelled, but the map has lines or values beyond what the model codes"))
    if code == _ERR_VALUES:
        info = _info_at(data, base)
        payload = memoryview(data)[base + info.header_bytes:base + info.total_bytes]
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: entry {extra} of its value table "
            f"{_value_reason(payload, info.dtype, extra)}")
    if code == _ERR_TABLES:
        name = _TABLE_NAMES[extra] if 0 <= extra < len(_TABLE_NAMES) else str(extra)
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: frequency table {extra} ({name}, ending "
            f"by payload offset {index}) is malformed or cut short")
    if code == _ERR_SHORT:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: {index} bytes of coded lines, but its "
            f"{_info_lines(data, base)} lines need at least {extra}")
    if code == _ERR_END:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: its lines end at payload offset {index} "
            f"of {extra}" + (" in a wrong coder state" if index == extra else
                            f" ({extra - index} bytes left over)"))
    if code == _ERR_RAW_LENGTH:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: a raw payload of {extra} bytes, the map "
            f"needs {index} (1 + elements * itemsize)")
    if code == _ERR_BOOL:
        return MalformedRLEError(
            f"bytes form payload is corrupt{where}: element {index} (C order) of a bool map "
            f"is {extra}; bool maps hold only 0 and 1")
    if code == _ERR_VALUE_RANGE:
        stored = _info_at(data, base).dtype
        value = extra - 2**64 if stored.kind == "i" and extra >= 2**63 else extra
        return RLEValueError(f"value {value} does not fit dtype {dtype}; pass a wider dtype=")
    return RLEValueError(f"bytes form could not be decoded ({name})")


def _varint_at(buf: memoryview, pos: int) -> tuple[int | None, int]:
    """The varint at ``pos`` (format.md 4: at most 10 bytes, below 2**64) and where it ends;
    None when it is cut short or too long. For error messages only: the kernel reads them."""
    at, value, shift = pos, 0, 0
    while pos < len(buf) and pos - at < 10:
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        shift += 7
        if not byte & 0x80:
            return (value if value < 2**64 else None), pos
    return None, pos


def _header_reason(head: memoryview, index: int, extra: int) -> str:
    """What is wrong with the header field the kernel found at offset ``index``.

    The header's fixed bytes and varints are read again here (docs/format.md
    4.1), only to say which field it is and why: the kernel has already
    refused the object.
    """
    if index in _HEADER_FIELDS:
        return f"{_HEADER_FIELDS[index]} at offset {index} (value {extra})"
    fields: list[tuple[str, int, int | None]] = []   # (name, offset, value or None)
    pos, ndim = 8, head[6] if len(head) > 6 else 0
    for name in [f"shape[{a}]" for a in range(ndim)] + ["n_values", "payload_len"]:
        at = pos
        value, pos = _varint_at(head, pos)
        fields.append((name, at, value))
        if value is None:
            break
    found = dict((at, (name, value)) for name, at, value in fields)
    values = {name: value for name, _at, value in fields}
    if index == 8:
        shape = [values.get(f"shape[{a}]") for a in range(ndim)]
        return f"shape {shape} has more elements than this machine can address"
    if index not in found:
        return f"field at offset {index} (value {extra})"
    name, value = found[index]
    if value is None:
        return f"{name} at offset {index} is longer than 10 bytes or above 2**64"
    shape = [values.get(f"shape[{a}]") or 0 for a in range(ndim)]
    size = math.prod(shape)
    dtype = _DTYPE_OF_CODE[head[5]] if len(head) > 5 and head[5] < len(_DTYPE_OF_CODE) else None
    if name == "n_values":
        if value > size:
            return f"n_values is {value}, more than the {size} elements of shape {shape}"
        most = 2 if dtype == np.dtype(bool) else 2 ** (8 * dtype.itemsize) if dtype else 0
        return (f"n_values is {value}, more distinct values than dtype {dtype} has ({most})"
                if dtype is not None else f"n_values is {value}")
    if name == "payload_len":
        n_values = values.get("n_values")
        if size == 0:
            return (f"an empty map (shape {shape}) with n_values {n_values} and payload_len "
                    f"{value}; both must be 0")
        return (f"n_values is {n_values}, but a map of {size} elements needs 1 to payload_len "
                f"({value}) of them")
    return f"{name} at offset {index} is {value}"


def _value_reason(payload: memoryview, dtype: np.dtype, entry: int) -> str:
    """Why entry ``entry`` of a modelled payload's value table is refused (format.md 4.3).

    Read again here only to name the value: the kernel has refused it.
    """
    pos, value = 1, 0
    for i in range(entry + 1):
        at = pos
        v, pos = _varint_at(payload, pos)
        if v is None:
            return f"(payload offset {at}) is cut short or longer than 10 bytes"
        if i == 0:
            value = ((v >> 1) ^ -(v & 1)) if dtype.kind == "i" else v   # zigzag for signed
        else:
            value += v + 1
    lo, hi = (0, 1) if dtype.kind == "b" else (int(np.iinfo(dtype).min), int(np.iinfo(dtype).max))
    return (f"(payload offset {at}) is {value}, outside dtype {dtype} ({lo}..{hi})"
            if not lo <= value <= hi else f"(payload offset {at}) is invalid")


def _info_lines(data: Any, base: int = 0) -> int:
    """Lines of the model (docs/format.md 4.4): elements over the last axis longer than 1."""
    shape = [d for d in _info_at(data, base).shape if d != 1] or [1]
    return math.prod(shape) // shape[-1]


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
    # an array changed since its runs were taken (another thread) is an error,
    # never a division by zero or a corrupt object (csrc/bytesform.c)
    return encode_call(_core.bytes_encode, arr, _KIND[arr.dtype.kind], table,
                       1 if order == "F" else 0, version, n_threads)


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
    if not (type(buf) is bytes or (isinstance(buf, memoryview) and type(buf.obj) is bytes)):
        # the kernel reads the object twice (checksum, then payload): give it
        # a copy no other thread can write into (objects are small next to maps)
        buf = bytes(buf)
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
    run-length encoded. It is decoded in C order, the order of the model's
    lines (a Fortran-ordered map would take a strided write per element),
    and the encoder reads C order at full speed.
    """
    arr = decode_bytes(data, order="C", dtype=dtype)
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
