"""The codec's entry points: ``encode``, ``decode`` and ``as_runs`` for every form.

Which form an object is, is decided once, by :func:`.forms.form_of`; the
form's module reads it (into :class:`Runs`, or straight into the output
where it has a faster path). See docs/architecture.md for the path of a
decode and of an encode.
"""

from __future__ import annotations

from typing import Any, Literal

import numpy as np

from . import _core
from .dtypes import cast_values, dtype_from_argument
from .errors import RLEValueError
from .forms import compact, form_of, packed
from .limits import threads_for
from .output import check_order, check_out_type
from .runs import Runs, as_label_array

__all__ = ["encode", "decode", "as_runs", "decode_batch"]


def encode(array: Any, *, packed: bool = False, threads: int | None = None) -> dict[str, Any]:
    """Encode a label map as a compact, JSON-safe RLE dict.

    Parameters
    ----------
    array : array_like
        Integer or bool label map, any number of dimensions and memory layout.
    packed : bool
        Store the modelled bytes form (:func:`encode_bytes`) as base64 under
        ``'packed'`` instead of ``values``/``counts``: several times smaller
        (smaller than PNG on real datasets) but slower to decode; for
        storage in JSON. Maps holding only 0s and 1s keep the plain form, so
        that ``counts`` stays pycocotools' string, and so do maps whose plain
        form is shorter.
    threads : int, optional
        Most threads to use: a large map is cut into bands, one per thread.
        Default: the cores this process may run on (its CPU affinity); 1:
        only the calling thread. Maps below about 2 MB always use one thread.
        The result is the same for any number.

    Returns
    -------
    dict
        ``{'size': [...], 'values': str, 'counts': str, 'dtype': str}``.
        ``counts`` is COCO's compressed string (for a 0/1 map whose first
        pixel is 0 it equals pycocotools' ``counts``); ``values`` uses the
        same 6-bit code, each value from the third on stored as the
        difference to the value two runs back (see docs/format.md).
        With ``packed``: ``{'size': [...], 'dtype': str, 'packed': str}``.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]],
    ...              dtype=np.uint8)
    >>> mcr.encode(a)
    {'size': [4, 5], 'values': '03001M00', 'counts': '132O1O04', 'dtype': 'uint8'}
    >>> bool((mcr.decode(mcr.encode(a)) == a).all())
    True
    """
    arr = as_label_array(array)
    if packed:
        return _packed_form.encode(arr, threads)
    return compact.encode(arr, threads)


_packed_form = packed   # the argument named packed hides the module inside encode


def as_runs(rle: Any, *, dtype: Any = None) -> Runs:
    """Parse any RLE form accepted by :func:`decode` into :class:`Runs`.

    Useful to parse a dict once and use it several times. Structure is
    validated here; counts are validated against the size when decoding.

    Parameters
    ----------
    rle : Runs, dict or bytes-like
        A compact dict from :func:`encode`, an original dict (``values`` and
        ``counts`` as tuples, lists or arrays), a pycocotools binary RLE, a
        packed dict, or one object of the bytes form from
        :func:`encode_bytes` (bytes, bytearray or memoryview).
    dtype : dtype, optional
        Dtype of the returned values; values that do not fit are an error.

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> mcr.as_runs({'size': [2, 2], 'values': [0, 700], 'counts': [3, 1]})
    Runs(shape=(2, 2), dtype=uint16, n_runs=2)
    """
    target = None if dtype is None else dtype_from_argument(dtype)
    runs = form_of(rle).to_runs(rle, target)
    if target is not None and runs.dtype != target:
        runs = Runs(runs.shape, cast_values(runs.values, target), runs.counts)
    return runs


def decode(rle: Any, *, order: Literal["C", "F"] = "C", out: np.ndarray | None = None,
           dtype: Any = None, threads: int | None = None) -> np.ndarray:
    """Decode an RLE into a label map.

    Parameters
    ----------
    rle : dict, Runs or bytes-like
        A compact dict from :func:`encode` (also after a JSON round trip), an
        original dict with ``values`` and ``counts`` sequences, a pycocotools
        binary RLE (``counts`` as str, bytes or list; decodes to a 0/1 uint8
        mask), a packed dict, :class:`Runs`, or one object of the bytes form
        from :func:`encode_bytes` (bytes, bytearray or memoryview; use
        :func:`split_bytes` for a concatenation).
    order : {'C', 'F'}
        Memory order of the returned array.
    out : numpy.ndarray, optional
        Array of the RLE's shape to write into, any memory layout; nothing is
        allocated and ``out`` is returned. Its dtype is used unless ``dtype``
        is given. Each element needs its own memory (a broadcast view is
        refused); when decoding fails, ``out``'s contents are unspecified
        (the runs are checked as they are written).
    dtype : dtype, optional
        Dtype of the result. Default: ``out``'s, else the RLE's ``dtype``,
        else the smallest integer dtype holding every value (uint8 for the
        usual 0..255 maps). A value the dtype cannot hold is an error.
    threads : int, optional
        Most threads to use, as for :func:`encode` (default: the cores this
        process may run on; 1: only the calling thread).

    Returns
    -------
    numpy.ndarray

    Raises
    ------
    MalformedRLEError
        (a ValueError) counts that are not positive or do not sum to the
        size, values and counts of different lengths, bad strings, bad size.
    LimitExceededError
        The size exceeds :func:`get_max_elements` (checked before allocating).
    RLEValueError, RLETypeError
        Bad ``order``, ``out`` or ``dtype``, or a value that does not fit.

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> rle = {'size': (4, 5), 'values': (0, 3, 0, 3, 1, 0, 1, 0),
    ...        'counts': (1, 3, 2, 2, 3, 1, 3, 5)}
    >>> mcr.decode(rle)
    array([[0, 0, 1, 1, 0],
           [3, 0, 1, 1, 0],
           [3, 3, 1, 1, 0],
           [3, 3, 0, 0, 0]], dtype=uint8)
    """
    check_order(order)
    check_out_type(out)
    if type(rle) is dict:   # the usual compact dict: its one-call decoder before any form test
        fast = compact.decode_fast(rle, order, out, dtype, threads)
        if fast is not None:
            return fast
    form = form_of(rle)
    if form is compact and type(rle) is dict:   # declined above: not parsed again in C
        return compact.decode_general(rle, order, out, dtype, threads)
    return form.decode(rle, order, out, dtype, threads)


def _batch_items(rles: list[Any], shape: tuple[int, ...]) -> list[Any] | None:
    """What the C batch decoder takes: every map a plain compact dict of ``shape`` (its
    strings and whether its values are signed), or every map a bytes-form object; else None."""
    first = rles[0]
    if isinstance(first, (bytes, bytearray, memoryview)):
        if all(type(r) is bytes for r in rles):
            return rles
        return None
    items = []
    for r in rles:
        got = compact.fields(r)
        if got is None or tuple(got[2]) != shape:
            return None
        items.append((got[0], got[1], got[4].kind == "i"))
    return items


def decode_batch(rles: Any, out: np.ndarray, *, threads: int | None = None) -> np.ndarray:
    """Decode N maps of one shape into ``out[0]`` .. ``out[N-1]``, the maps spread over threads.

    A batch for a training step (what ``to_tensor_batch`` and the datasets
    use): when every map is a plain compact dict (or every one a bytes-form
    object) one C call decodes them all without the GIL, one map per task on
    up to ``threads`` threads; anything else, or any map that fails, is
    decoded map by map, which reports the failing map's error.

    Parameters
    ----------
    rles : sequence
        N maps in any form :func:`decode` takes, all of ``out.shape[1:]``.
    out : numpy.ndarray
        Writable, of shape ``(N, *map shape)`` and any integer or bool dtype
        that holds every map's values.
    threads : int, optional
        Most threads to use (default: the cores of the process's CPU
        affinity, as for :func:`decode`; small batches use one).

    Returns
    -------
    numpy.ndarray
        ``out``. After an error its maps are unspecified.

    Raises
    ------
    RLEValueError
        ``out``'s first axis is not N, or a map does not fit it.
    MalformedRLEError
        A malformed map (the first one, with its numbers).

    Examples
    --------
    >>> import numpy as np
    >>> import multiclass_rle as mcr
    >>> maps = [np.full((2, 3), k, np.uint8) for k in range(4)]
    >>> out = np.empty((4, 2, 3), np.uint8)
    >>> got = mcr.decode_batch([mcr.encode(m) for m in maps], out)
    >>> got is out, out[:, 0, 0].tolist()
    (True, [0, 1, 2, 3])
    """
    rles = list(rles)
    check_out_type(out)
    if out.ndim < 1 or out.shape[0] != len(rles):
        raise RLEValueError(f"out has shape {out.shape}, {len(rles)} maps need a first axis "
                            f"of {len(rles)}")
    n_threads = threads_for(threads, out.nbytes)
    if rles and out.ndim > 1 and out.dtype.isnative and out.dtype.kind in compact.KIND_CODES \
            and len(rles) <= 4096:
        items = _batch_items(rles, out.shape[1:])
        if items is not None:
            try:
                _core.decode_batch(items, compact.KIND_CODES[out.dtype.kind], out, n_threads)
                return out
            except _core.CodecError:
                pass   # decoded again below, one map at a time, for the exact error
    for i, rle in enumerate(rles):
        decode(rle, out=out[i], threads=1 if n_threads > 1 else threads)
    return out
