"""Relabelling on the runs: ``remap`` (a dict or a lookup array; runs merged)."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from .._codec import _core
from .._codec.dtypes import dtype_from_argument, smallest_dtype, value_range
from .._codec.errors import RLEError, RLETypeError, RLEValueError
from .._codec.forms import compact
from .._codec.runs import U64 as _U64
from .._codec.runs import Runs
from ._common import as_int, group_sums_of, is_byte_label, runs_for_kernel

__all__ = ["remap"]


def _byte_table(mapping: Any, default: Any, target: np.dtype,
                labels: int) -> tuple[np.ndarray, np.ndarray] | None:
    """The new label of every possible old label 0..labels-1 of an 8-bit map.

    Returns ``(table, defined)``: 256 entries of ``target`` and 256 flags,
    an entry defined when the mapping (or ``default``) gives an integer that
    fits ``target``. Undefined entries are no error here: a run that meets
    one makes the kernel fail and the general path decide (raising for a
    label present in the map, or widening the dtype). None for mappings the
    general path should look at (e.g. more keys than labels).
    """
    lo, hi = value_range(target)
    table = np.zeros(256, dtype=target)
    defined = np.zeros(256, dtype=np.uint8)
    if default is not None:
        if type(default) is not int or not lo <= default <= hi:
            return None
        table[:labels] = default
        defined[:labels] = 1
    if isinstance(mapping, Mapping):
        if len(mapping) > 256:
            return None
        keys, new = [], []
        for k, v in mapping.items():
            if not isinstance(k, (int, np.integer)):
                return None    # e.g. 7.0 == 7 as a key: the general path decides
            k = int(k)         # True is 1, np.int64(7) is 7, as dict lookups see them
            if not 0 <= k < labels:
                continue       # a label this map cannot hold
            if type(v) is int or isinstance(v, np.integer):
                v = int(v)
                if lo <= v <= hi:
                    keys.append(k)
                    new.append(v)
                    continue
            defined[k] = 0   # not an integer that fits: a run of it goes to the general path
        if keys:
            table[keys] = new
            defined[keys] = 1
        return table, defined
    if isinstance(mapping, (str, bytes)):
        return None
    lut = np.asarray(mapping)
    if lut.ndim != 1 or lut.dtype.kind not in "biu":
        return None
    m = min(labels, lut.shape[0])
    picked = lut[:m]
    if np.can_cast(lut.dtype, target, "safe"):   # e.g. a uint8 lookup table: all fit
        table[:m] = picked
        defined[:m] = 1
        return table, defined
    if lut.dtype.kind == "b":
        picked = picked.astype(np.uint8)
    fits = (picked >= lo) & (picked <= hi)
    table[:m] = np.where(fits, picked, 0)
    defined[:m] = fits
    return table, defined


def _remap_compact(rle: dict, mapping: Any, default: Any, dtype: Any) -> Runs | None:
    """remap of a plainly well-formed compact dict of an 8-bit unsigned or
    bool map in one C call, or None.

    The kernel parses both strings, relabels through a 256-entry table and
    merges, validating everything as a whole decode would; any problem (a
    label the table does not define included) returns None and the general
    path raises the detailed error or picks a wider dtype.
    """
    fields = compact.fields(rle)
    if fields is None:
        return None
    values, counts, size, n, stored_dt = fields
    if stored_dt.kind not in "ub" or stored_dt.itemsize != 1:
        return None
    try:
        target = stored_dt if dtype is None else dtype_from_argument(dtype)
    except RLEError:
        return None
    if not target.isnative:
        return None
    made = _byte_table(mapping, default, target, 2 if stored_dt.kind == "b" else 256)
    if made is None:
        return None
    table, defined = made
    try:
        vb, cb = _core.relabel_compact(values, counts, False, compact.KIND_CODES[stored_dt.kind], n,
                                       table, defined, target.itemsize)
    except _core.CodecError:
        return None
    return Runs(tuple(size), np.frombuffer(vb, dtype=target), np.frombuffer(cb, dtype=_U64))


def remap(rle: Any, mapping: Any, *, default: Any = None, dtype: Any = None) -> Runs:
    """Relabel a map through a dict or a lookup array, on the runs.

    Parameters
    ----------
    rle : Runs or dict
        Any form :func:`as_runs` accepts.
    mapping : dict or array_like
        ``{old: new}``, or a 1D integer lookup array with ``new = mapping[old]``
        (e.g. Cityscapes id -> trainId). Only labels present in the map are
        looked up (O(labels)).
    default : int, optional
        New label for labels the mapping lacks (not a key; for an array,
        negative or >= its length). Without it such labels are an error.
    dtype : dtype, optional
        dtype of the result. Default: the map's dtype when every new label
        fits in it, else the smallest integer dtype that holds them.

    Returns
    -------
    Runs
        The relabelled map; neighbouring runs that got the same label are
        merged.

    Raises
    ------
    RLEValueError
        A label is not mapped and no ``default`` was given (the labels and
        their pixel counts are named), or a new label does not fit ``dtype``.
    RLETypeError
        A new label is not an integer.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[7, 7, 8], [26, 26, 8]], dtype=np.uint8)
    >>> r = mcr.remap(mcr.encode(a), {7: 0, 8: 1}, default=255)
    >>> r.values.tolist(), r.counts.tolist()
    ([0, 255, 0, 255, 1], [1, 1, 1, 1, 2])
    >>> mcr.decode(r)
    array([[  0,   0,   1],
           [255, 255,   1]], dtype=uint8)
    >>> lut = np.full(256, 255, dtype=np.uint8); lut[[7, 8, 26]] = [0, 1, 13]
    >>> mcr.decode(mcr.remap(mcr.encode(a), lut))
    array([[ 0,  0,  1],
           [13, 13,  1]], dtype=uint8)
    """
    if type(rle) is dict:
        fast = _remap_compact(rle, mapping, default, dtype)
        if fast is not None:
            return fast
    runs, counts = runs_for_kernel(rle, passes=2)   # group sums, then the relabelling
    target = None if dtype is None else dtype_from_argument(dtype)
    default_int = None if default is None else as_int(default, "default")
    index, uniq, sums = group_sums_of(runs, counts)
    size = math.prod(runs.shape)
    old = [int(x) for x in uniq.tolist()]
    missing: list[int] = []

    if isinstance(mapping, Mapping):
        new: list[int] = []
        for lab in old:
            if lab in mapping:
                new.append(as_int(mapping[lab], f"mapping[{lab}]"))
            elif default_int is not None:
                new.append(default_int)
            else:
                missing.append(lab)
        new_uniq: np.ndarray | list[int] = new
    else:
        if isinstance(mapping, (str, bytes)):
            raise RLETypeError("mapping must be a dict or a 1D integer lookup array, got a string")
        lut = np.asarray(mapping)
        if lut.ndim != 1 or lut.dtype.kind not in "biu":
            raise RLETypeError(f"mapping must be a dict or a 1D integer lookup array, got an "
                               f"array of shape {lut.shape} and dtype {lut.dtype}")
        inside = np.array([0 <= lab < lut.shape[0] for lab in old], dtype=bool)
        if not inside.all() and default_int is None:
            missing = [lab for lab, ok in zip(old, inside.tolist()) if not ok]
        else:
            picked = lut[np.where(inside, uniq, 0).astype(np.intp)] if old and lut.shape[0] \
                else np.zeros(len(old), dtype=lut.dtype)
            new_uniq = [int(x) if ok else default_int  # type: ignore[misc]
                        for x, ok in zip(picked.tolist(), inside.tolist())]
    if missing:
        pixels = dict(zip(old, sums.tolist()))
        shown = ", ".join(f"{lab} ({pixels[lab]} pixels)" for lab in missing[:10])
        more = f" and {len(missing) - 10} more" if len(missing) > 10 else ""
        what = "keys of mapping" if isinstance(mapping, Mapping) else \
            f"range of the lookup array (0..{np.asarray(mapping).shape[0] - 1})"
        raise RLEValueError(f"{len(missing)} label(s) not in the {what}: {shown}{more}; "
                            f"pass default= to map them")

    new_ints = list(new_uniq)
    if target is None:
        lo, hi = (min(new_ints), max(new_ints)) if new_ints else (0, 0)
        tlo, thi = value_range(runs.dtype)
        target = runs.dtype if tlo <= lo and hi <= thi else smallest_dtype(lo, hi)
    if new_ints:
        tlo, thi = value_range(target)
        bad = [x for x in new_ints if not tlo <= x <= thi]
        if bad:
            raise RLEValueError(f"new label {bad[0]} does not fit dtype {target} ({tlo}..{thi}); "
                                f"pass a wider dtype=")
    if is_byte_label(runs.dtype):
        table = np.zeros(256, dtype=target)
        table[uniq.astype(np.intp)] = new_ints   # uniq: the bytes present
    else:
        table = np.array(new_ints, dtype=target)
    vb, cb = _core.relabel_runs(index, index.dtype.itemsize, counts, size, table,
                                table.dtype.itemsize)
    return Runs(runs.shape, np.frombuffer(vb, dtype=target), np.frombuffer(cb, dtype=_U64))
