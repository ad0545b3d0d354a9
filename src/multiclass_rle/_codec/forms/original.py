"""The original dict: ``{'size', 'values', 'counts'}`` with sequences of integers.

The form of the first public version of this library (tuples of Python
ints, lists after JSON) and of numpy arrays built by hand. Without a
``dtype`` key the map takes the smallest integer dtype holding every value
(uint8 for the usual 0..255 maps); with one, that dtype (docs/format.md,
section 2). Its writer, :func:`multiclass_rle.array_to_multi_class_rle`,
keeps the original API in :mod:`multiclass_rle.multiclass_rle`.

Recognised: a mapping with ``values`` that is not a string (those are
compact dicts); ``counts`` may be a list or a string.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from ..output import resolve_target
from ..runs import Runs, encode_runs, runs_to_array
from ._fields import int_array, parse_counts, parse_size, require_keys, stored_dtype, typed_runs

__all__ = ["NAME", "matches", "to_runs", "decode", "write"]

NAME = "original"


def matches(obj: Any) -> bool:
    return isinstance(obj, Mapping) and "values" in obj


def to_runs(rle: Mapping[str, Any], target: np.dtype | None) -> Runs:
    require_keys(rle, ("size", "counts"))
    shape = parse_size(rle["size"])
    counts = parse_counts(rle["counts"])
    stored = stored_dtype(rle)
    return typed_runs(shape, int_array(rle["values"], "'values'"), counts, stored)


def decode(rle: Mapping[str, Any], order: str, out: np.ndarray | None, dtype: Any,
           threads: int | None = None) -> np.ndarray:
    target = resolve_target(dtype, out, None)
    return runs_to_array(to_runs(rle, target), order=order, out=out, dtype=target,
                         threads=threads)


def write(array: Any) -> dict[str, tuple[int, ...]]:
    """``{'size': tuple, 'values': tuple, 'counts': tuple}`` of plain Python ints."""
    runs = encode_runs(array)
    values = runs.values
    if values.dtype.kind == "b":
        values = values.view(np.uint8)
    return {
        "size": tuple(runs.shape),
        "values": tuple(values.tolist()),
        "counts": tuple(runs.counts.tolist()),
    }
