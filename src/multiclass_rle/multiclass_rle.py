"""The original module of multiclass-rle: ``from multiclass_rle.multiclass_rle import ...``.

The first public version kept its two functions here, and its users (and
its own tests) import them from this path; they keep working exactly as
documented, on top of the C codec. Importing this module loads nothing
beyond the package itself.
"""

from __future__ import annotations

from typing import Any, TypedDict

import numpy as np

from ._codec.api import decode
from ._codec.forms import original

__all__ = ["array_to_multi_class_rle", "multi_class_rle_to_array", "MultiClassRLE"]

#: The memory order of the runs, as the original module named it (COCO's order).
NUMPY_ORDER_RAVEL = "F"
NUMPY_ORDER_RESHAPE = "F"


class MultiClassRLE(TypedDict):
    """The original dict: tuples of Python ints (lists after a JSON round trip)."""

    size: tuple[int, ...]
    values: tuple[int, ...]
    counts: tuple[int, ...]


def array_to_multi_class_rle(array: Any) -> dict[str, tuple[int, ...]]:
    """Encode a label map as the original multiclass RLE dict.

    Parameters
    ----------
    array : array_like
        Integer or bool label map (2D in the original; any number of
        dimensions works, runs follow Fortran order).

    Returns
    -------
    dict
        ``{'size': tuple, 'values': tuple, 'counts': tuple}`` of plain Python
        ints, in that key order.

    Examples
    --------
    >>> from multiclass_rle import array_to_multi_class_rle
    >>> array_to_multi_class_rle([[0, 0, 1, 1, 0],
    ...                           [3, 0, 1, 1, 0],
    ...                           [3, 3, 1, 1, 0],
    ...                           [3, 3, 0, 0, 0]])
    {'size': (4, 5), 'values': (0, 3, 0, 3, 1, 0, 1, 0), 'counts': (1, 3, 2, 2, 3, 1, 3, 5)}
    """
    return original.write(array)


def multi_class_rle_to_array(rle: Any) -> np.ndarray:
    """Decode an original multiclass RLE dict (tuples or, after JSON, lists).

    Returns a C-ordered array in the smallest integer dtype that holds every
    value: uint8 for the usual 0..255 maps, wider or signed when needed
    (the original wrapped such values silently).

    Examples
    --------
    >>> from multiclass_rle import multi_class_rle_to_array
    >>> multi_class_rle_to_array({'size': [2, 2], 'values': [0, 1000], 'counts': [3, 1]})
    array([[   0,    0],
           [   0, 1000]], dtype=uint16)
    """
    return decode(rle)
