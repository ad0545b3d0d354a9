"""What the operations share: runs checked for the kernels, label groups, label lists.

Positions are Fortran-order linear indices (first axis fastest), so run ``k``
covers positions ``[ends[k] - counts[k], ends[k])`` with
``ends = cumsum(counts)``; position ``p`` lies in "column" ``p // shape[0]``
at row ``p % shape[0]``.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from .._codec import _core
from .._codec.api import as_runs
from .._codec.dtypes import value_range
from .._codec.errors import MalformedRLEError, RLEError, RLETypeError, RLEValueError
from .._codec.runs import U64 as _U64
from .._codec.runs import Runs, counts_error

def own_runs(rle: Any) -> Runs:
    """``as_runs(rle)`` with arrays no caller holds.

    A :class:`Runs` or a dict of numpy arrays hands over the caller's own
    arrays, which another thread may write into while an operation runs;
    an operation checks them in Python and then relies on the check, so it
    works on copies of those (O(runs), like the operations themselves).
    Runs parsed from strings, lists or bytes are new arrays already.
    """
    runs = as_runs(rle)
    if isinstance(rle, Runs):
        sources = [rle.values, rle.counts]
    elif isinstance(rle, Mapping):
        sources = [x for x in (rle.get("values"), rle.get("counts")) if isinstance(x, np.ndarray)]
    else:
        return runs
    values, counts = runs.values, runs.counts
    if any(np.may_share_memory(values, x) for x in sources):
        values = values.copy()
    if any(np.may_share_memory(counts, x) for x in sources):
        counts = counts.copy()
    if values is runs.values and counts is runs.counts:
        return runs
    return Runs(runs.shape, values, counts)


def checked_ends(rle: Any, name: str | None = None) -> tuple[Runs, np.ndarray]:
    """``as_runs`` plus the counts check that decode does, and the run ends.

    Returns the Runs (counts contiguous native uint64) and ``cumsum(counts)``.
    The check rides on that cumsum: every count positive, the last end equal
    to the size, and no uint64 wrap-around (impossible while runs * max count
    < 2**64; otherwise the C check decides). ``name`` prefixes error messages
    (``'true: ...'``) where a function takes two RLEs.
    """
    try:
        runs = own_runs(rle)
        counts = runs.counts
        if counts.dtype != _U64 or not counts.flags.c_contiguous:
            counts = np.ascontiguousarray(counts, dtype=_U64)
        if runs.values.ndim != 1 or runs.values.shape != counts.shape:
            raise MalformedRLEError(
                f"values has shape {runs.values.shape} and counts {counts.shape}; "
                f"they need one entry per run")
        size = runs.size
        if size >= 2**64:
            raise MalformedRLEError(f"size {runs.shape} has {size} elements; counts cannot sum "
                                    f"to more than 2**64 - 1")
        ends = np.cumsum(counts, dtype=_U64)
        n = counts.shape[0]
        ok = (int(ends[-1]) == size and int(counts.min()) > 0
              and n * int(counts.max()) < 2**64) if n else size == 0
        if not ok:
            try:
                _core.check_counts(counts, size)
            except _core.CodecError as exc:
                raise counts_error(exc, counts, runs.shape) from None
    except RLEError as exc:
        if name is None:
            raise
        raise type(exc)(f"{name}: {exc}") from None
    if counts is not runs.counts:
        runs = Runs(runs.shape, runs.values, counts)
    return runs, ends


def runs_for_kernel(rle: Any, name: str | None = None, *,
                    passes: int = 1) -> tuple[Runs, np.ndarray]:
    """``as_runs`` and its counts as contiguous native uint64, not yet validated.

    For the C kernels that validate the counts while they walk them (one pass
    instead of a cumsum and two reductions): their ``CodecError`` goes
    through :func:`kernel_counts_error`. Those kernels read each count and
    each group index once, so for one kernel pass a caller's arrays are
    handed over as they are (no copy): another thread writing into them can
    change the answer, not make it inconsistent with what the kernel read.
    An operation that makes several passes (``passes > 1``) gets private
    copies (:func:`own_runs`), so that every pass sees the same runs.
    """
    try:
        runs = as_runs(rle) if passes == 1 else own_runs(rle)
        counts = runs.counts
        if counts.dtype != _U64 or not counts.flags.c_contiguous:
            counts = np.ascontiguousarray(counts, dtype=_U64)
        size = math.prod(runs.shape)
        if size >= 2**64:
            raise MalformedRLEError(f"size {runs.shape} has {size} elements; counts cannot sum "
                                    f"to more than 2**64 - 1")
    except RLEError as exc:
        if name is None:
            raise
        raise type(exc)(f"{name}: {exc}") from None
    return runs, counts


def kernel_counts_error(exc: Any, counts: np.ndarray, shape: tuple[int, ...],
                         name: str | None = None) -> RLEError:
    """The MalformedRLEError of a kernel's counts check (as :func:`checked_ends`)."""
    err = counts_error(exc, counts, shape)
    return err if name is None else type(err)(f"{name}: {err}")


def groups(values: np.ndarray) -> tuple[np.ndarray, np.ndarray | None, int]:
    """Per run a group index for the kernels: ``(index, uniq, n_groups)``.

    8-bit and bool maps use their own values (256 groups, ``uniq`` None: a
    group is present when it has pixels); others the index of the run's value
    among the sorted distinct values ``uniq``.
    """
    if is_byte_label(values.dtype):
        return np.ascontiguousarray(values).view(np.uint8), None, 256
    uniq, inverse = unique_inverse(values)
    return inverse, uniq, int(uniq.shape[0])


def label_sums(rle: Any) -> tuple[Runs, np.ndarray, np.ndarray]:
    """Runs, sorted distinct labels (the map's dtype) and their pixel counts (uint64).

    One C pass (``group_sums``) that also validates the counts, as decode does.
    """
    runs, counts = runs_for_kernel(rle)
    return (runs, *group_sums_of(runs, counts)[1:])


def group_sums_of(runs: Runs, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(group index per run, sorted distinct labels, their pixel counts) of unchecked runs."""
    index, uniq, n_groups = groups(runs.values)
    sums = np.empty(n_groups, dtype=_U64)
    try:
        _core.group_sums(index, index.dtype.itemsize, counts, math.prod(runs.shape), sums)
    except _core.CodecError as exc:
        raise kernel_counts_error(exc, counts, runs.shape) from None
    if uniq is None:   # 8-bit map: its labels are the groups with pixels
        present = np.flatnonzero(sums)
        uniq = present.astype(runs.dtype)
        sums = sums[present]
    return index, uniq, sums


def checked(rle: Any, name: str | None = None) -> Runs:
    """:func:`checked_ends` without the ends."""
    return checked_ends(rle, name)[0]


def is_byte_label(dtype: np.dtype) -> bool:
    return dtype.kind in "ub" and dtype.itemsize == 1


def sorted_unique(x: np.ndarray) -> np.ndarray:
    """np.unique by sorting (numpy >= 2.3's hash-based np.unique is slower here)."""
    s = np.sort(x)
    if s.shape[0] < 2:
        return s
    keep = np.empty(s.shape[0], dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def distinct(values: np.ndarray) -> np.ndarray:
    """Sorted distinct values, in the values' dtype."""
    if is_byte_label(values.dtype):
        present = np.flatnonzero(np.bincount(values.view(np.uint8), minlength=256))
        return present.astype(values.dtype)
    return sorted_unique(values)


def unique_inverse(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct values and, per run, the index of its value among them."""
    if is_byte_label(values.dtype):
        key = values.view(np.uint8)
        present = np.flatnonzero(np.bincount(key, minlength=256))
        where = np.zeros(256, dtype=np.intp)
        where[present] = np.arange(present.shape[0])
        return present.astype(values.dtype), where[key]
    uniq, order, first = group_order(values)
    group = np.zeros(values.shape[0], dtype=np.intp)
    group[first[1:]] = 1
    inverse = np.empty(values.shape[0], dtype=np.intp)
    inverse[order] = np.cumsum(group)
    return uniq, inverse


def stable_argsort(values: np.ndarray) -> np.ndarray:
    """``np.argsort(values, kind='stable')``, faster for 16- and 32-bit values.

    Those are packed with their index into one uint64 key (value in the high
    half, made non-negative), whose plain sort is stable by construction.
    """
    n = values.shape[0]
    if values.dtype.itemsize not in (2, 4) or n >= 2**32:
        return np.argsort(values, kind="stable")  # 8-bit: radix sort; 64-bit: timsort
    key = values.astype(np.int64)
    if values.dtype.kind == "i":
        key -= np.iinfo(values.dtype).min
    key = key.view(_U64)
    key <<= _U64.type(32)
    key |= np.arange(n, dtype=_U64)
    key.sort()
    key &= _U64.type(0xFFFFFFFF)
    return key.astype(np.intp)


def group_order(values: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Runs grouped by label, keeping position order inside a group.

    Returns ``(uniq, order, first)``: ``values[order]`` is sorted (stable),
    group ``g`` (label ``uniq[g]``) is ``order[first[g]:first[g + 1]]``.
    """
    order = stable_argsort(values)
    sorted_values = values[order]
    change = np.empty(sorted_values.shape[0], dtype=bool)
    if change.shape[0]:
        change[0] = True
        np.not_equal(sorted_values[1:], sorted_values[:-1], out=change[1:])
    first = np.flatnonzero(change)
    return sorted_values[first], order, first


def merge_equal(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Join neighbouring runs of equal value (counts are summed exactly in uint64)."""
    n = values.shape[0]
    if n < 2:
        return values, counts
    change = np.empty(n, dtype=bool)
    change[0] = True
    np.not_equal(values[1:], values[:-1], out=change[1:])
    if change.all():
        return values, counts
    first = np.flatnonzero(change)
    return values[first], np.add.reduceat(counts, first).astype(_U64, copy=False)


def as_int(x: Any, what: str) -> int:
    if isinstance(x, (float, np.floating, complex, str, bytes)):
        raise RLETypeError(f"{what} must be an integer, got {x!r}")
    try:
        return operator.index(x)
    except TypeError:
        raise RLETypeError(f"{what} must be an integer, got {type(x).__name__} {x!r}") from None


def label_list(labels_arg: Any, what: str = "labels") -> list[int]:
    if isinstance(labels_arg, (str, bytes)) or not isinstance(
            labels_arg, (Sequence, np.ndarray, range)):
        raise RLETypeError(f"{what} must be a sequence of integers, got "
                           f"{type(labels_arg).__name__}")
    if isinstance(labels_arg, np.ndarray):
        if labels_arg.ndim != 1:
            raise RLEValueError(f"{what} must be 1D, got an array of shape {labels_arg.shape}")
        if labels_arg.dtype.kind not in "biu":
            raise RLETypeError(f"{what} must hold integers, got dtype {labels_arg.dtype}")
        out = [int(x) for x in labels_arg.tolist()]
    else:
        out = [as_int(x, f"{what}[{i}]") for i, x in enumerate(labels_arg)]
    if len(set(out)) != len(out):
        seen: set[int] = set()
        dup = next(x for x in out if x in seen or seen.add(x))  # type: ignore[func-returns-value]
        raise RLEValueError(f"{what} lists label {dup} more than once")
    return out


def index_in(values: np.ndarray, where: dict[int, int], missing: int = -1) -> np.ndarray:
    """Per run, ``where[value]`` (int64), or ``missing`` for values not in ``where``.

    O(runs) for 8-bit maps (a 256-entry table), else one sort of the runs.
    """
    lo, hi = value_range(values.dtype)
    where = {lab: i for lab, i in where.items() if lo <= lab <= hi}
    if not where:
        return np.full(values.shape[0], missing, dtype=np.int64)
    if is_byte_label(values.dtype):
        table = np.full(256, missing, dtype=np.int64)
        table[np.array(list(where), dtype=np.int64)] = np.array(list(where.values()))
        return table[values.view(np.uint8)]
    uniq, inverse = unique_inverse(values)
    table = np.array([where.get(u, missing) for u in uniq.tolist()], dtype=np.int64)
    return table[inverse]


def label_union(true: Runs, pred: Runs) -> list[int]:
    """Sorted union of the labels of two maps, as ints."""
    if is_byte_label(true.dtype) and is_byte_label(pred.dtype):
        seen = np.bincount(true.values.view(np.uint8), minlength=256)
        seen += np.bincount(pred.values.view(np.uint8), minlength=256)
        return np.flatnonzero(seen).tolist()
    return sorted_union(distinct(true.values), distinct(pred.values))


def sorted_union(a: np.ndarray, b: np.ndarray) -> list[int]:
    """Sorted union of two small arrays of labels of any two label dtypes, as ints."""
    common = np.promote_types(a.dtype, b.dtype)
    if common.kind in "biu":
        both = np.concatenate((a.astype(common), b.astype(common)))
        return [int(x) for x in sorted_unique(both).tolist()]
    # uint64 next to a signed dtype: numpy would go through float64
    return sorted({int(x) for x in a.tolist()} | {int(x) for x in b.tolist()})
