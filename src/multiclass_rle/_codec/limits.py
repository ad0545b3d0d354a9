"""Resource limits applied before anything is allocated."""

from __future__ import annotations

import operator

__all__ = ["get_max_elements", "set_max_elements"]

#: Default largest array (in elements) that decoding will allocate: 2**31,
#: e.g. a 1290^3 volume. A hostile 100-byte RLE cannot claim more.
DEFAULT_MAX_ELEMENTS = 2**31

_max_elements = DEFAULT_MAX_ELEMENTS


def get_max_elements() -> int:
    """Return the largest number of elements :func:`decode` will allocate."""
    return _max_elements


def set_max_elements(n: int) -> int:
    """Set the largest number of elements :func:`decode` will allocate.

    The limit protects against RLEs that claim a huge size: they are refused
    before any memory is allocated. Decoding into a caller-provided ``out``
    allocates nothing and is not limited.

    Parameters
    ----------
    n : int
        New limit, at least 1.

    Returns
    -------
    int
        The previous limit, so that it can be restored.

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> old = mcr.set_max_elements(4_000_000_000)
    >>> _ = mcr.set_max_elements(old)
    """
    global _max_elements
    n = operator.index(n)
    if n < 1:
        raise ValueError(f"the element limit must be at least 1, got {n}")
    old, _max_elements = _max_elements, n
    return old
