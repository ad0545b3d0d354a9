"""Exceptions raised by multiclass_rle.

Every exception derives from :class:`RLEError`; those about malformed content
also derive from :class:`ValueError`, those about wrong types from
:class:`TypeError`, so ``except ValueError`` keeps working for callers that
do not know this library.
"""

from __future__ import annotations

__all__ = [
    "RLEError",
    "RLEValueError",
    "RLETypeError",
    "MalformedRLEError",
    "LimitExceededError",
]


class RLEError(Exception):
    """Base class of every error raised by multiclass_rle."""


class RLEValueError(RLEError, ValueError):
    """An argument has the right type but a wrong value (shape, dtype, order, ``out``)."""


class RLETypeError(RLEError, TypeError):
    """An argument has a type the library cannot use (float labels, a non-dict RLE)."""


class MalformedRLEError(RLEValueError):
    """The RLE itself is inconsistent: counts, values, size or strings do not agree."""


class LimitExceededError(RLEValueError):
    """The RLE claims more elements than the configured limit allows."""


# Tracebacks and pickles name the public path (multiclass_rle.MalformedRLEError),
# which stays put when modules move.
for _cls in (RLEError, RLEValueError, RLETypeError, MalformedRLEError, LimitExceededError):
    _cls.__module__ = "multiclass_rle"
del _cls
