"""Resources one call may use: the element limit (checked before anything is
allocated) and the number of threads (the ``threads=`` argument)."""

from __future__ import annotations

import operator
import os
from typing import Any

from .errors import RLETypeError, RLEValueError

__all__ = ["get_max_elements", "set_max_elements", "available_threads", "threads_for",
           "MIN_BYTES_PER_THREAD"]

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


#: Bytes of a map below which another thread does not pay: the kernels split
#: a map into bands (pieces of the run sequence, or rows), and waking a thread
#: costs about 10 us, what about 1 MB of a typical map takes to decode
#: (``benchmarks/bench_threads.py`` measures the crossover).
MIN_BYTES_PER_THREAD = 1 << 20


def available_threads() -> int:
    """The number of cores this process may run on (its CPU affinity).

    ``threads=None``, the default of every encode and decode, uses up to this
    many threads for a large map.

    Examples
    --------
    >>> from multiclass_rle._codec.limits import available_threads
    >>> available_threads() >= 1
    True
    """
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):   # no affinity API (macOS, Windows)
        return max(1, os.cpu_count() or 1)


def threads_for(threads: Any, nbytes: int) -> int:
    """The threads a map of ``nbytes`` gets for the ``threads=`` argument.

    ``None``: as many as the map has MIN_BYTES_PER_THREAD bytes, at most
    :func:`available_threads`. A number: at most that many (1: the calling
    thread alone), with the same cap by size, so that a small map never pays
    for threads it cannot use. The result is the same whatever the count.
    """
    if threads is None:
        if nbytes < 2 * MIN_BYTES_PER_THREAD:   # the usual small map, before anything else
            return 1
        limit = None
    elif isinstance(threads, bool) or not isinstance(threads, int):
        try:
            limit = operator.index(threads) if not isinstance(threads, bool) else None
        except TypeError:
            limit = None
        if limit is None:
            raise RLETypeError(f"threads must be None or a positive int, got {threads!r}")
    else:
        limit = threads
    if limit is not None and limit < 1:
        raise RLEValueError(f"threads must be at least 1 (1: no extra threads), got {limit}")
    by_size = nbytes // MIN_BYTES_PER_THREAD
    if by_size < 2 or limit == 1:
        return 1
    if limit is None:
        limit = available_threads()
    return max(1, min(limit, by_size, 64))
