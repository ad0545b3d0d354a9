"""The packed dict: ``{'size', 'dtype', 'packed': base64}`` (docs/format.md, section 5).

The bytes form (:mod:`.bytes`) inside JSON, for storage: what
``encode(array, packed=True)`` writes. Maps holding only 0s and 1s keep the
plain compact dict, whose ``counts`` pycocotools reads, and so do maps whose
plain dict is shorter (tiny maps).

Recognised: a mapping with a ``packed`` key. A dict that also holds
``values`` or ``counts`` is refused: it is one form or the other.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..dtypes import dtype_name
from ..errors import MalformedRLEError
from ..limits import threads_for
from ..runs import Runs, encode_runs
from . import bytes as bytes_form
from . import compact
from ._fields import parse_size

__all__ = ["NAME", "matches", "to_runs", "decode", "encode", "packed_bytes"]

NAME = "packed"


def matches(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "packed" in obj


def encode(arr: np.ndarray, threads: int | None = None) -> dict[str, Any]:
    """The packed dict of a checked label array, or its compact dict where that is better."""
    # one run-length pass gives both the plain dict (the fallback) and the
    # distinct values the bytes form's value table needs
    runs = encode_runs(arr, threads=threads)
    plain = compact.write(runs)
    run_values = runs.values
    order = "F" if bytes_form._fortran_first(arr) else "C"
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="), order=order)
        run_values = run_values.astype(arr.dtype)
    elif not arr.flags[order + "_CONTIGUOUS"]:
        arr = np.require(arr, requirements=order)
    distinct = np.unique(run_values)
    blob = bytes_form.encode_with_table(arr, distinct, order,
                                        n_threads=threads_for(threads, arr.nbytes))
    if distinct.size == 0 or (int(distinct[0]) >= 0 and int(distinct[-1]) <= 1):
        return plain
    import base64   # stdlib, loaded on first use: `import multiclass_rle` stays small

    text = base64.b64encode(blob).decode("ascii")
    if len(text) >= len(plain["values"]) + len(plain["counts"]):
        return plain
    return {"size": list(arr.shape), "dtype": dtype_name(arr.dtype), "packed": text}


def packed_bytes(rle: Mapping[str, Any]) -> bytes:
    """The bytes-form object inside a packed dict, checked against its other keys."""
    import base64

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
    info = bytes_form.whole(blob)[1]
    if "size" in rle:
        size = parse_size(rle["size"])
        if size != info.shape:
            raise MalformedRLEError(
                f"'size' is {size} but the packed map has shape {info.shape}")
    if "dtype" in rle and rle["dtype"] != dtype_name(info.dtype):
        raise MalformedRLEError(
            f"'dtype' is {rle['dtype']!r} but the packed map holds {info.dtype.name}")
    return blob


def to_runs(rle: Mapping[str, Any], target: np.dtype | None) -> Runs:
    return bytes_form.bytes_to_runs(packed_bytes(rle), dtype=target)


def decode(rle: Mapping[str, Any], order: str, out: np.ndarray | None, dtype: Any,
           threads: int | None = None) -> np.ndarray:
    return bytes_form.decode_bytes(packed_bytes(rle), order=order, out=out, dtype=dtype,
                                   threads=threads)
