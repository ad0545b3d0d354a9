"""What the evaluators share: any map as runs, labels -> group indices, the pair matrix.

Every evaluator compares two maps through one table: the number of pixels
for each (true group, predicted group) pair, from one pass of the C kernel
``pair_sums`` over both run sequences. Which labels form which group is the
evaluator's business (classes, segments, void, ignored); this module turns
the runs' values into group indices of the narrowest integer type (so the
kernel reads 1 byte per run for up to 256 groups) and calls the kernel.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..._codec import _core
from ..._codec.dtypes import value_range
from ..._codec.errors import RLEError, RLETypeError, RLEValueError
from ..._codec.forms import compact
from ..._codec.runs import U64, Runs, changed_error, encode_runs
from .._common import checked_ends, is_byte_label, runs_for_kernel

__all__ = ["map_runs", "check_same_shape", "index_dtype", "group_index", "pair_matrix",
           "pair_triplets", "table_triplets", "GroupMap", "compact_pair", "set_frozen",
           "STATE_VERSION", "check_state", "nan_mean", "json_number"]


def _is_tensor(x: Any) -> bool:
    """A torch tensor, recognised without importing torch."""
    return type(x).__module__.partition(".")[0] == "torch" and hasattr(x, "numpy")


def map_runs(x: Any, what: str) -> tuple[Runs, np.ndarray]:
    """A label map in any form the library reads, as Runs and contiguous uint64 counts.

    RLE forms (compact, original and packed dicts, pycocotools binary RLEs,
    the bytes form, :class:`Runs`) are parsed; numpy arrays, torch tensors
    (moved to the CPU; torch is never imported here) and other array-likes
    are run-length encoded. ``what`` names the map in error messages.
    """
    if not isinstance(x, (Runs, Mapping, bytes, bytearray, memoryview)) and (
            isinstance(x, np.ndarray) or _is_tensor(x) or hasattr(x, "__array__")
            or isinstance(x, (list, tuple))):
        try:
            arr = x.numpy(force=True) if _is_tensor(x) else x
            runs = encode_runs(arr)
        except RLEError as exc:
            raise type(exc)(f"{what}: {exc}") from None
        return runs, runs.counts
    return runs_for_kernel(x, what)


def check_same_shape(true: Runs, pred: Runs, where: str = "") -> None:
    if true.shape != pred.shape:
        raise RLEValueError(
            f"{where}true has size {list(true.shape)} but pred has size {list(pred.shape)}; "
            f"they must be the same")


def index_dtype(n_groups: int) -> np.dtype:
    """The narrowest unsigned type whose values reach ``n_groups - 1``."""
    for dt in (np.uint8, np.uint16, np.uint32):
        if n_groups <= np.iinfo(dt).max + 1:
            return np.dtype(dt)
    return np.dtype(np.uint64)


def byte_table(dtype: np.dtype, keys: Sequence[int], groups: Sequence[int], missing: int,
               index: np.dtype) -> np.ndarray:
    """256-entry table: byte pattern of a value of an 8-bit ``dtype`` -> its group."""
    lo, hi = _range(dtype)
    table = np.full(256, missing, dtype=index)
    for key, group in zip(keys, groups):
        if lo <= key <= hi:
            table[key & 0xFF] = group
    return table


_RANGES: dict[np.dtype, tuple[int, int]] = {}


def _range(dtype: np.dtype) -> tuple[int, int]:
    """``value_range`` of a label dtype, remembered (np.iinfo costs microseconds a call)."""
    got = _RANGES.get(dtype)
    if got is None:
        got = _RANGES[dtype] = value_range(dtype)
    return got


def group_index(values: np.ndarray, keys: Sequence[int], groups: Sequence[int], missing: int,
                index: np.dtype, table: np.ndarray | None = None) -> np.ndarray:
    """Per run, the group of its value: ``groups[i]`` where it equals ``keys[i]``, else ``missing``.

    8-bit and bool maps: one lookup in a 256-entry table per run (``table``,
    from :func:`byte_table`, may be given to reuse it). Other dtypes: a
    binary search of the sorted keys (O(runs log keys)), no sort of the runs.
    """
    if is_byte_label(values.dtype):
        if table is None:
            table = byte_table(values.dtype, keys, groups, missing, index)
        return np.take(table, values.view(np.uint8))
    lo, hi = _range(values.dtype)
    pairs = [(k, g) for k, g in zip(keys, groups) if lo <= k <= hi]
    if not pairs:
        return np.full(values.shape[0], missing, dtype=index)
    key_arr = np.array([k for k, _ in pairs], dtype=values.dtype)
    order = np.argsort(key_arr, kind="stable")
    sorted_keys = key_arr[order]
    sorted_groups = np.append(np.array([g for _, g in pairs], dtype=index)[order],
                              np.array([missing], dtype=index))
    pos = np.searchsorted(sorted_keys, values)
    last = sorted_keys.shape[0] - 1
    hit = sorted_keys[np.minimum(pos, last)] == values
    pos[~hit] = last + 1
    return sorted_groups[pos]


def pair_matrix(true: Runs, ti: np.ndarray, counts_t: np.ndarray, n_true: int,
                pred: Runs, pi: np.ndarray, counts_p: np.ndarray, n_pred: int) -> np.ndarray:
    """``(n_true, n_pred)`` uint64 pixel counts of each (true group, predicted group) pair.

    ``ti``/``pi``: group index per run (the same unsigned dtype). The kernel
    validates both counts; on an error the readable checks of each map say
    what is wrong, naming it ``true`` or ``pred``.
    """
    if ti.dtype != pi.dtype:
        common = index_dtype(max(n_true, n_pred))
        ti, pi = ti.astype(common), pi.astype(common)
    sums = np.empty(n_true * n_pred, dtype=U64)
    try:
        _core.pair_sums(ti, counts_t, n_true, pi, counts_p, n_pred, ti.dtype.itemsize,
                        true.size, sums)
    except _core.CodecError as exc:
        if exc.args[0] == _core.ERR_CHANGED:
            raise changed_error("the runs") from None
        checked_ends(true, "true")
        checked_ends(pred, "pred")
        # found by the kernel but not by the checks: the caller's runs changed in between
        raise changed_error("the runs") from None
    return sums.reshape(n_true, n_pred)


#: Largest dense pair table (entries) before the sparse path takes over: 32 MB
DENSE_LIMIT = 1 << 22

#: Values below this are looked up in a table by the fused kernel, others by a cached binary
#: search: the kernel checks every table entry on each call, so a label like 65535 (an
#: ignore value of uint16 maps) must not make a table of 65,536 entries
_TABLE_LIMIT = 1 << 12


class GroupMap:
    """Labels -> groups for the fused kernel ``pair_sums_compact``, for one map dtype.

    ``keys[i]`` has group ``groups[i]``, every other value ``missing``;
    ``n_groups`` bounds them all. Non-negative keys below 4096 go into a
    lookup table, the rest (negative, large ids) into a sorted key array.
    """

    __slots__ = ("arg", "n_groups")

    def __init__(self, dtype: np.dtype, keys: Sequence[int], groups: Sequence[int], missing: int,
                 n_groups: int) -> None:
        lo, hi = _range(dtype)
        pairs = sorted(((k if k >= 0 else k + 2**64), g) for k, g in zip(keys, groups)
                       if lo <= k <= hi)
        small = [(k, g) for k, g in pairs if k < _TABLE_LIMIT]
        large = [(k, g) for k, g in pairs if k >= _TABLE_LIMIT]
        table = np.full(small[-1][0] + 1 if small else 0, missing, dtype=np.uint32)
        for k, g in small:
            table[k] = g
        self.arg = (compact.KIND_CODES[dtype.kind], dtype.itemsize, table,
                    np.array([k for k, _ in large], dtype=U64),
                    np.array([g for _, g in large], dtype=np.uint32), missing, n_groups)
        self.n_groups = n_groups

    @classmethod
    def for_segments(cls, dtype: np.dtype, ids: np.ndarray, void_group: int, missing: int,
                     n_groups: int) -> GroupMap:
        """Positive segment ids (uint64) -> their position; 0 -> ``void_group``."""
        gm = cls.__new__(cls)
        order = np.argsort(ids, kind="stable")
        gm.arg = (compact.KIND_CODES[dtype.kind], dtype.itemsize,
                  np.array([void_group], dtype=np.uint32), ids[order],
                  order.astype(np.uint32), missing, n_groups)
        gm.n_groups = n_groups
        return gm


def compact_pair(true: Any, pred: Any, true_map: Any, pred_map: Any) -> np.ndarray | None:
    """The pair table of two plainly well-formed compact dicts in one C call, or None.

    ``true_map``/``pred_map``: callables dtype -> :class:`GroupMap`. None when
    either map is another form, or anything is wrong: the general path then
    parses both and reports exactly what (the kernel succeeds exactly when
    decoding both would).
    """
    ft = compact.fields(true)
    if ft is None:
        return None
    fp = compact.fields(pred)
    if fp is None or list(ft[2]) != list(fp[2]):
        return None
    gt, gp = true_map(ft[4]), pred_map(fp[4])
    if gt.n_groups * gp.n_groups > DENSE_LIMIT:
        return None
    sums = np.empty(gt.n_groups * gp.n_groups, dtype=U64)
    try:
        _core.pair_sums_compact(ft[0], ft[1], gt.arg, fp[0], fp[1], gp.arg, ft[3], sums)
    except _core.CodecError:
        return None
    return sums.reshape(gt.n_groups, gp.n_groups)


def pair_triplets(true: Runs, ti: np.ndarray, counts_t: np.ndarray, n_true: int,
                  pred: Runs, pi: np.ndarray, counts_p: np.ndarray, n_pred: int
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The non-zero entries of the pair table: ``(rows, cols, pixels)``.

    Rows and columns are uint32 group indices in row-major order, pixels
    uint64. A table of up to :data:`DENSE_LIMIT` entries comes from the C
    kernel; a larger one (thousands of segments on each side, e.g. instance
    volumes) from a merge of the run ends in numpy, so memory stays O(runs)
    instead of O(segments^2).
    """
    if n_true * n_pred <= DENSE_LIMIT:
        return table_triplets(pair_matrix(true, ti, counts_t, n_true, pred, pi, counts_p, n_pred))
    _, ends_t = checked_ends(true, "true")
    _, ends_p = checked_ends(pred, "pred")
    if ends_t.shape[0] == 0:
        empty = np.zeros(0, dtype=np.uint32)
        return empty, empty, np.zeros(0, dtype=U64)
    cuts = np.union1d(ends_t, ends_p)            # every piece ends at a run end of either
    starts = np.concatenate((np.zeros(1, dtype=cuts.dtype), cuts[:-1]))
    rt = ti[np.searchsorted(ends_t, starts, side="right")].astype(U64)
    rp = pi[np.searchsorted(ends_p, starts, side="right")].astype(U64)
    key = rt * U64.type(n_pred) + rp
    uniq, inverse = np.unique(key, return_inverse=True)
    pixels = np.zeros(uniq.shape[0], dtype=U64)
    np.add.at(pixels, inverse.ravel(), cuts - starts)
    return ((uniq // U64.type(n_pred)).astype(np.uint32),
            (uniq % U64.type(n_pred)).astype(np.uint32), pixels)


def table_triplets(table: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(rows, cols, pixels)`` of the non-zero entries of a dense pair table."""
    rows, cols = np.nonzero(table)
    return rows.astype(np.uint32), cols.astype(np.uint32), table[rows, cols]


def set_frozen(obj: Any, values: dict[str, np.ndarray]) -> None:
    """Set the computed arrays of a frozen result dataclass, read-only."""
    for name, value in values.items():
        value.flags.writeable = False
        object.__setattr__(obj, name, value)


#: The version of the evaluators' ``state()`` that this version reads and writes
STATE_VERSION = 1


def check_state(state: Any, kind: str) -> None:
    """Refuse anything but the ``state()`` of the evaluator ``kind`` (e.g. 'SemanticEvaluator')."""
    if not isinstance(state, Mapping) or state.get("kind") != f"multiclass_rle.{kind}":
        raise RLETypeError(f"not a {kind} or its state()")
    if state.get("version") != STATE_VERSION:
        raise RLEValueError(f"state version {state.get('version')!r} is not {STATE_VERSION}, "
                            f"the one this version reads")


def nan_mean(x: np.ndarray) -> float:
    """Mean of the values that are not NaN; NaN (without a warning) when none is left."""
    keep = x[~np.isnan(x)]
    return float(keep.mean()) if keep.size else float("nan")


def json_number(x: Any) -> Any:
    """A float for JSON: NaN and infinities become None (JSON has no NaN)."""
    x = float(x)
    return x if np.isfinite(x) else None
