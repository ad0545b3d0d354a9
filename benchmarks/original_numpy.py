"""Pure-numpy re-implementation of the ORIGINAL (seed) multiclass-rle algorithm.

This module reproduces the seed version of multiclass-rle, before the C
codec, so that the benchmark can show what the rewrite gained:

* encode: flatten the label map in Fortran order (``array.flatten(order='F')``),
  compare neighbours with numpy to find where runs start, and return the
  ``values`` and ``counts`` as tuples of Python ints;
* decode: allocate a flat ``np.zeros(size, np.uint8)``, fill it run by run
  with a Python loop over ``zip(values, counts)`` (one slice assignment per
  run), then ``reshape(shape, order='F')``.

Like the original it decodes everything as uint8 (larger values wrap), so
the benchmark only runs it on uint8 label maps. The original handled 2D maps;
here ``size`` is simply the whole shape, so 3D volumes work the same way.
The decoded array is the Fortran-ordered reshape of the flat buffer, exactly
as the original returned it.
"""

from __future__ import annotations

import numpy as np

__all__ = ["array_to_multi_class_rle", "multi_class_rle_to_array"]


def array_to_multi_class_rle(array: np.ndarray) -> dict:
    """Encode like the seed version: Fortran-order flatten + numpy neighbour compare."""
    shape = tuple(array.shape)
    flat = array.flatten(order="F")
    # Pad with a value different from the first/last element so that the
    # first run starts at 0 and the last one ends at flat.size.
    with np.errstate(over="ignore"):  # 255 + 1 wraps to 0: still different
        padded = np.concatenate(([flat[0] + 1], flat, [flat[-1] + 1]))
    starts = np.where(padded[1:] != padded[:-1])[0]
    return {
        "size": shape,
        "values": tuple(flat[starts[:-1]].tolist()),
        "counts": tuple((starts[1:] - starts[:-1]).tolist()),
    }


def multi_class_rle_to_array(rle: dict) -> np.ndarray:
    """Decode like the seed version: Python loop over runs into a flat uint8 buffer."""
    shape = tuple(rle["size"])
    size = 1
    for d in shape:
        size *= d
    flat = np.zeros(size, dtype=np.uint8)
    start = 0
    for value, count in zip(rle["values"], rle["counts"]):
        flat[start:start + count] = value
        start += count
    return flat.reshape(shape, order="F")
