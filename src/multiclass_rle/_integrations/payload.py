"""What the integrations share: one label map as one opaque ``bytes`` payload, and back.

The zarr / numcodecs codecs (:mod:`.zarr`) and the Parquet helpers
(:mod:`.arrow`) store each map (chunk, row) as one payload, and the torch
dataset reads them: the **bytes form** (``b"MCRL..."``, docs/format.md
section 4), self-describing (dtype and shape in its header).

Readers also accept the **interim JSON payload** of early development builds
(``b"MCRJ"`` followed by the UTF-8 JSON of :func:`multiclass_rle.encode`'s
compact dict), so that a store written by one stays readable; it is never
written.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .._codec import jsontext
from .._codec.api import as_runs, decode
from .._codec.errors import MalformedRLEError, RLETypeError
from .._codec.forms.bytes import BYTES_MAGIC, bytes_info, bytes_to_runs, decode_bytes, encode_bytes
from .._codec.runs import Runs

__all__ = ["BYTES_FORM", "to_payload", "from_payload", "payload_runs", "payload_info",
           "payload_area"]

#: First bytes of the interim JSON payload (read, never written).
JSON_MAGIC = b"MCRJ"

#: Payloads are written in the bytes form (kept for callers that asked).
BYTES_FORM = True


def _as_buffer(buf: Any) -> memoryview:
    if isinstance(buf, np.ndarray):
        buf = buf.reshape(-1).view(np.uint8)
    try:
        mv = memoryview(buf)
    except TypeError:
        raise RLETypeError(f"a payload must be bytes-like, got {type(buf).__name__}") from None
    if mv.ndim != 1 or mv.itemsize != 1:
        mv = mv.cast("B") if mv.c_contiguous else memoryview(mv.tobytes())
    return mv


def _magic(mv: memoryview) -> bytes:
    if mv.nbytes < 4:
        raise MalformedRLEError(f"a payload of {mv.nbytes} bytes is too short to hold a header")
    magic = bytes(mv[:4])
    if magic not in (BYTES_MAGIC, JSON_MAGIC):
        raise MalformedRLEError(f"payload starts with {magic!r}, neither {BYTES_MAGIC!r} "
                                f"nor {JSON_MAGIC!r}")
    return magic


def _json_dict(mv: memoryview) -> dict:
    try:
        rle = jsontext.loads(bytes(mv[4:]))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRLEError(f"interim payload is not valid JSON: {exc}") from None
    if not isinstance(rle, dict):
        raise MalformedRLEError("interim payload does not hold an RLE dict")
    return rle


def to_payload(array: Any) -> bytes:
    """One label map (any integer/bool dtype, any ndim and layout) as ``bytes``."""
    return bytes(encode_bytes(array))


def from_payload(buf: Any, out: np.ndarray | None = None, dtype: Any = None,
                 threads: int | None = None) -> np.ndarray:
    """Decode a payload into a new C-ordered array, or into ``out`` (any memory layout)."""
    mv = _as_buffer(buf)
    if _magic(mv) == BYTES_MAGIC:
        return decode_bytes(mv, order="C", out=out, dtype=dtype, threads=threads)
    return decode(_json_dict(mv), out=out, dtype=dtype, threads=threads)


def payload_runs(buf: Any) -> Runs:
    """The payload as :class:`Runs` (for statistics)."""
    mv = _as_buffer(buf)
    if _magic(mv) == BYTES_MAGIC:
        return bytes_to_runs(mv)
    return as_runs(_json_dict(mv))


def payload_info(buf: Any) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a payload, from its header alone."""
    mv = _as_buffer(buf)
    if _magic(mv) == BYTES_MAGIC:
        info = bytes_info(mv)
        return tuple(info.shape), info.dtype
    rle = _json_dict(mv)
    return tuple(int(d) for d in rle["size"]), np.dtype(rle["dtype"])


def payload_area(buf: Any) -> dict[int, int]:
    """``{label: count}`` of a payload, as :func:`multiclass_rle.area`."""
    from .._ops.summary import area

    return area(payload_runs(buf))
