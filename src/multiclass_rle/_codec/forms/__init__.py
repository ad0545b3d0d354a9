"""The forms of a label map, one module each, and the registry that tells them apart.

A form is a module with four entries:

``NAME``
    its name in messages;
``matches(obj) -> bool``
    a cheap test of whether ``obj`` is in this form (after the forms before
    it in :data:`FORMS` said no);
``to_runs(obj, target) -> Runs``
    read ``obj`` into :class:`Runs` (``target``: the dtype the caller asked
    for, or None; the result may still have another, which the caller casts);
``decode(obj, order, out, dtype, threads) -> ndarray``
    expand ``obj``, straight into the output where the form has a faster
    path than going through :class:`Runs` (``threads``: the caller's
    ``threads=``, see :func:`.limits.threads_for`).

Each module also holds that form's writer. Adding a form is one module and
one line in :data:`FORMS`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

import numpy as np

from ..errors import RLETypeError
from ..runs import Runs, runs_to_array
from . import bytes, coco_binary, compact, original, packed


class _InMemory:
    """:class:`Runs` itself: already read."""

    NAME = "Runs"

    @staticmethod
    def matches(obj: Any) -> bool:
        return isinstance(obj, Runs)

    @staticmethod
    def to_runs(obj: Runs, target: np.dtype | None) -> Runs:
        return obj

    @staticmethod
    def decode(obj: Runs, order: str, out: np.ndarray | None, dtype: Any,
               threads: int | None = None) -> np.ndarray:
        return runs_to_array(obj, order=order, out=out, dtype=dtype, threads=threads)


#: Every form, in the order they are tried: the first that matches reads the object.
FORMS: tuple[Any, ...] = (compact, _InMemory, bytes, packed, original, coco_binary)

__all__ = ["FORMS", "form_of", "bytes", "coco_binary", "compact", "original", "packed"]


def form_of(obj: Any) -> ModuleType | Any:
    """The form module that reads ``obj``; a clear error for objects of no form."""
    for form in FORMS:
        if form.matches(obj):
            return form
    raise RLETypeError(
        f"an RLE must be a dict or Runs (or the bytes form: bytes, bytearray, memoryview), "
        f"got {type(obj).__name__}"
        + (" (to encode an array, call encode())" if isinstance(obj, np.ndarray) else ""))
