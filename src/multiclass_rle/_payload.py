"""The one place where the integrations turn a label map into bytes and back.

The zarr / numcodecs codecs (:mod:`._zarr`) and the Parquet helpers
(:mod:`._arrow`) store each map (chunk, row) as one opaque ``bytes`` object
made here. Two payloads exist:

* the **bytes form** (``b"MCRL..."``, docs/format.md section 4), made by
  :func:`multiclass_rle._bytesform.encode_bytes`. Used whenever
  :mod:`._bytesform` can be imported (:data:`BYTES_FORM` is True);
* an **interim payload**, used only while :mod:`._bytesform` is missing:
  ``b"MCRJ"`` followed by the UTF-8 JSON of :func:`encode`'s compact dict
  (which already holds ``size`` and ``dtype``). It exists so that the
  integrations could be built before the bytes form; it can be removed
  together with the fallback branch below.

Readers accept both (the magic tells them apart), so a store written with one
payload stays readable with the other in place. Nothing outside this module
knows which payload is in use.
"""

from __future__ import annotations

import json
from typing import Any

import numpy as np

from ._api import Runs, as_runs, decode, encode
from ._errors import MalformedRLEError, RLETypeError

__all__ = ["BYTES_FORM", "to_payload", "from_payload", "payload_runs", "payload_info",
           "payload_area"]

#: First bytes of the bytes form and of the interim JSON payload.
BYTES_MAGIC = b"MCRL"
JSON_MAGIC = b"MCRJ"

# --- the switch: the bytes form when it is there, else the interim payload ---
try:  # pragma: no branch
    from . import _bytesform as _bf
    _bf_encode = _bf.encode_bytes
except (ImportError, AttributeError):  # pragma: no cover - depends on the build
    _bf = None
    _bf_encode = None

#: True when payloads are written in the bytes form.
BYTES_FORM: bool = _bf_encode is not None


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
    return bytes(mv[:4])


def to_payload(array: Any) -> bytes:
    """One label map (any integer/bool dtype, any ndim and layout) as ``bytes``."""
    if _bf_encode is not None:
        return bytes(_bf_encode(array))
    return JSON_MAGIC + json.dumps(encode(array), separators=(",", ":")).encode("ascii")


def _json_dict(mv: memoryview) -> dict:
    try:
        rle = json.loads(bytes(mv[4:]))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedRLEError(f"interim payload is not valid JSON: {exc}") from None
    if not isinstance(rle, dict):
        raise MalformedRLEError("interim payload does not hold an RLE dict")
    return rle


def _bytes_form_module() -> Any:
    if _bf is None:  # pragma: no cover - depends on the build
        raise MalformedRLEError(
            "this payload is in the bytes form, which this build of multiclass_rle cannot read")
    return _bf


def from_payload(buf: Any, out: np.ndarray | None = None, dtype: Any = None) -> np.ndarray:
    """Decode a payload (either kind) into a new C-ordered array, or into ``out``.

    ``out`` may have any memory layout; its shape must be the map's.
    """
    mv = _as_buffer(buf)
    magic = _magic(mv)
    if magic == BYTES_MAGIC:
        return _bytes_form_module().decode_bytes(mv, out=out, dtype=dtype)
    if magic == JSON_MAGIC:
        return decode(_json_dict(mv), out=out, dtype=dtype)
    raise MalformedRLEError(f"payload starts with {magic!r}, neither {BYTES_MAGIC!r} "
                            f"nor {JSON_MAGIC!r}")


def payload_runs(buf: Any) -> Runs:
    """The payload as :class:`Runs` (for statistics; the interim payload is not expanded)."""
    mv = _as_buffer(buf)
    magic = _magic(mv)
    if magic == JSON_MAGIC:
        return as_runs(_json_dict(mv))
    if magic == BYTES_MAGIC:
        bf = _bytes_form_module()
        return bf.bytes_to_runs(mv)
    raise MalformedRLEError(f"payload starts with {magic!r}, neither {BYTES_MAGIC!r} "
                            f"nor {JSON_MAGIC!r}")


def payload_info(buf: Any) -> tuple[tuple[int, ...], np.dtype]:
    """(shape, dtype) of a payload, from its header alone."""
    mv = _as_buffer(buf)
    magic = _magic(mv)
    if magic == BYTES_MAGIC:
        bf = _bytes_form_module()
        info = bf.bytes_info(mv)
        return tuple(info.shape), info.dtype
    if magic == JSON_MAGIC:
        rle = _json_dict(mv)
        return tuple(int(d) for d in rle["size"]), np.dtype(rle["dtype"])
    raise MalformedRLEError(f"payload starts with {magic!r}, neither {BYTES_MAGIC!r} "
                            f"nor {JSON_MAGIC!r}")


def payload_area(buf: Any) -> dict[int, int]:
    """``{label: count}`` of a payload, as :func:`multiclass_rle.area`."""
    from ._ops import area
    return area(payload_runs(buf))
