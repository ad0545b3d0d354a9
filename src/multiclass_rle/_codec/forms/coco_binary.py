"""pycocotools' binary RLE: ``{'size': [h, w], 'counts': str | list}``, no ``values``.

One binary mask: alternating runs of 0 and 1, starting with 0, in COCO's
column-major order; ``counts`` is COCO's compressed string (str or bytes)
or its uncompressed list. COCO allows zero-length runs (a leading 0 when the
first pixel is 1). It decodes to a 0/1 uint8 mask. :func:`write` makes one
from the alternating counts; :func:`multiclass_rle.to_coco` uses it for
every label of a map.

Recognised: any other mapping (no ``values``, no ``packed``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from .. import _core
from ..errors import MalformedRLEError
from ..output import resolve_target
from ..runs import U64, Runs, runs_to_array
from ._fields import COUNTS_DELTA_FROM, parse_counts, parse_size, require_keys

__all__ = ["NAME", "matches", "to_runs", "decode", "write"]

NAME = "coco_binary"


def matches(obj: Any) -> bool:
    return isinstance(obj, Mapping)


def to_runs(rle: Mapping[str, Any], target: np.dtype | None) -> Runs:
    require_keys(rle, ("size", "counts"))
    shape = parse_size(rle["size"])
    counts = parse_counts(rle["counts"])
    if len(shape) != 2:
        raise MalformedRLEError(f"a COCO RLE (no 'values') needs a 2D 'size', got {shape}")
    nonzero = counts != 0
    values = (np.arange(counts.shape[0]) & 1).astype(np.uint8)[nonzero]
    return Runs(shape=shape, values=values, counts=counts[nonzero])


def decode(rle: Mapping[str, Any], order: str, out: np.ndarray | None, dtype: Any,
           threads: int | None = None) -> np.ndarray:
    target = resolve_target(dtype, out, None)
    return runs_to_array(to_runs(rle, target), order=order, out=out, dtype=target,
                         threads=threads)


def write(size: tuple[int, int] | list[int], counts: np.ndarray) -> dict[str, Any]:
    """The COCO RLE of alternating 0/1 run lengths (the first a run of 0s, maybe empty).

    ``counts`` as uint64; ``counts`` of the result is byte for byte what
    pycocotools' ``rleToString`` writes, as str.
    """
    return {"size": [int(size[0]), int(size[1])],
            "counts": _core.string_encode(np.ascontiguousarray(counts, dtype=U64),
                                          COUNTS_DELTA_FROM)}
