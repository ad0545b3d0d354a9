"""The in-memory RLE: :class:`Runs`, and the run-length passes between arrays and runs.

Every form (:mod:`.forms`) is read into ``Runs`` or decoded straight into an
array; :func:`encode_runs` makes ``Runs`` of an array and
:func:`runs_to_array` expands them again. Two flat numpy arrays (one value and
one count per run) and a shape: the C kernels fill and read those arrays
directly, and no Python object is made per run.
"""

from __future__ import annotations

import operator
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from . import _core
from .dtypes import cast_values, check_array_dtype
from .errors import MalformedRLEError, RLETypeError, RLEValueError
from .limits import threads_for
from .output import apart_from, check_order, new_output, resolve_target

__all__ = ["Runs", "encode_runs", "as_label_array", "runs_to_array", "counts_error",
           "register_dict_writer", "changed_error", "encode_call"]

U64 = np.dtype(np.uint64)

#: The writer behind :meth:`Runs.to_dict`; the compact form registers it
#: (:func:`register_dict_writer`), so this module needs no form above it.
_dict_writer: list[Callable[[Runs], dict[str, Any]]] = []


def register_dict_writer(writer: Callable[[Runs], dict[str, Any]]) -> None:
    """Make ``writer`` the one :meth:`Runs.to_dict` calls (the compact form's)."""
    _dict_writer[:] = [writer]


@dataclass(frozen=True, eq=False)
class Runs:
    """A label map as runs in Fortran order (first axis fastest).

    Attributes
    ----------
    shape : tuple of int
        Shape of the label map.
    values : numpy.ndarray
        1D, one label per run, in the map's dtype.
    counts : numpy.ndarray
        1D uint64, the length of each run; positive, summing to the map's size.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> runs = mcr.encode_runs(np.array([[0, 0], [1, 0]], dtype=np.uint8))
    >>> runs.values.tolist(), runs.counts.tolist()
    ([0, 1, 0], [1, 1, 2])
    """

    shape: tuple[int, ...]
    values: np.ndarray
    counts: np.ndarray

    def __post_init__(self) -> None:
        # Runs may be built by hand: check what the kernels rely on.
        try:
            shape = tuple(operator.index(d) for d in self.shape)
        except TypeError:
            raise RLETypeError(f"Runs.shape must hold integers, got {self.shape!r}") from None
        if not shape or any(d < 0 for d in shape) or len(shape) > _core.MAX_NDIM:
            raise MalformedRLEError(f"Runs.shape {shape} must have 1..{_core.MAX_NDIM} "
                                    f"non-negative dimensions")
        for name in ("values", "counts"):
            arr = getattr(self, name)
            if not isinstance(arr, np.ndarray) or arr.ndim != 1:
                raise RLETypeError(f"Runs.{name} must be a 1D numpy array")
        check_array_dtype(self.values.dtype)
        counts = self.counts
        if counts.dtype != U64:
            if counts.dtype.kind not in "iu":
                raise RLETypeError(f"Runs.counts must hold integers, got dtype {counts.dtype}")
            # convert (a private copy) before checking: the caller's array may change
            if counts.dtype.kind == "i":
                counts = counts.astype(np.int64)
                if counts.size and int(counts.min()) < 0:
                    raise MalformedRLEError(
                        f"Runs.counts holds a negative count {int(counts.min())}")
                counts = counts.view(U64)
            else:
                counts = counts.astype(U64)
        if counts.shape != self.values.shape:
            raise MalformedRLEError(
                f"Runs has {self.values.shape[0]} values but {counts.shape[0]} counts")
        object.__setattr__(self, "shape", shape)
        object.__setattr__(self, "counts", counts)

    @property
    def dtype(self) -> np.dtype:
        """dtype of the label map."""
        return self.values.dtype

    @property
    def size(self) -> int:
        """Number of elements of the label map."""
        return int(np.prod(self.shape, dtype=object))

    def __len__(self) -> int:
        return int(self.counts.shape[0])

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Runs):
            return NotImplemented
        return (
            self.shape == other.shape
            and self.dtype == other.dtype
            and np.array_equal(self.values, other.values)
            and np.array_equal(self.counts, other.counts)
        )

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Runs(shape={self.shape}, dtype={self.dtype}, n_runs={len(self)})"

    def to_array(self, *, order: Literal["C", "F"] = "C", out: np.ndarray | None = None,
                 dtype: Any = None, threads: int | None = None) -> np.ndarray:
        """Decode; same as :func:`decode` (``decode(runs, ...)``)."""
        check_order(order)
        return runs_to_array(self, order=order, out=out, dtype=dtype, threads=threads)

    def to_dict(self) -> dict[str, Any]:
        """The compact JSON-safe dict; same as :func:`encode` of the decoded array."""
        return _dict_writer[0](self)


# Pickles and reprs name the public path, which stays put when modules move.
Runs.__module__ = "multiclass_rle"


# ---------------------------------------------------------------------------
# array -> runs


def as_label_array(array: Any) -> np.ndarray:
    """``array`` as a numpy label map the kernels can read (no copy where none is needed)."""
    if isinstance(array, np.ndarray):
        arr = array
    else:
        try:
            arr = np.asarray(array)
        except (ValueError, TypeError) as exc:
            raise RLETypeError(f"cannot make an array of {type(array).__name__}: {exc}") from None
    check_array_dtype(arr.dtype)
    if arr.dtype.kind == "b" and arr.size and arr.view(np.uint8).max() > 1:
        # bools whose bytes are not 0/1 (views of other data, e.g. Pillow's 1-bit
        # images): the kernels compare bytes, so make them proper bools first
        arr = arr.view(np.uint8) != 0
    if arr.ndim == 0:
        raise RLEValueError("a label map needs at least one dimension, got a 0-d array")
    if arr.ndim > _core.MAX_NDIM:
        raise RLEValueError(f"at most {_core.MAX_NDIM} dimensions are supported, got {arr.ndim}")
    return arr


def changed_error(what: str = "the array") -> RLEValueError:
    """The error of an input that another thread wrote into while a kernel read it."""
    return RLEValueError(
        f"{what} changed while it was being read (another thread wrote into it); "
        f"pass a copy, or wait until the writer is done")


def encode_call(kernel: Callable[..., Any], *args: Any) -> Any:
    """``kernel(*args)`` of an encoder, its input-changed result as :func:`changed_error`."""
    try:
        return kernel(*args)
    except _core.CodecError as exc:
        if exc.args[0] in (_core.ERR_CHANGED, _core.ERR_VALUE_RANGE):
            # the bytes encoder's value table came from the same array: a value
            # missing from it means the array changed too
            raise changed_error() from None
        raise   # pragma: no cover - the encoders fail in no other way


def encode_runs(array: Any, *, threads: int | None = None) -> Runs:
    """Run-length encode a label map into :class:`Runs`.

    Parameters
    ----------
    array : array_like
        Integer or bool label map of 1 or more dimensions, in any memory
        layout (C, Fortran, strided views, read-only); it is not copied.
    threads : int, optional
        Most threads to use (default: the cores this process may run on;
        1: only the calling thread). Small maps always use one; the result
        is the same for any number.

    Returns
    -------
    Runs
        Values in the array's dtype and uint64 counts, in Fortran order.

    Raises
    ------
    RLETypeError
        For float, complex, object, string or other non-integer arrays.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> mcr.encode_runs(np.array([[5, 5, 7]], dtype=np.int16))
    Runs(shape=(1, 3), dtype=int16, n_runs=2)
    """
    arr = as_label_array(array)
    values, counts = encode_call(_core.encode, arr, threads_for(threads, arr.nbytes))
    return Runs(
        shape=tuple(int(d) for d in arr.shape),
        values=np.frombuffer(values, dtype=arr.dtype),
        counts=np.frombuffer(counts, dtype=U64),
    )


# ---------------------------------------------------------------------------
# runs -> array


def counts_error(exc: Any, counts: np.ndarray, shape: tuple[int, ...]) -> MalformedRLEError:
    """The readable error of a kernel's counts check (``CodecError`` args: code, name, index, sum)."""
    code, _name, index, total = exc.args
    need = int(np.prod(shape, dtype=object))
    if code == _core.ERR_CHANGED:
        return changed_error("the runs")   # type: ignore[return-value]
    if code == _core.ERR_ZERO_COUNT:
        return MalformedRLEError(f"count at index {index} is 0; counts must be positive")
    if code == _core.ERR_COUNTS_LONG:
        total_txt = f"at least {total}" if total == 2**64 - 1 else str(total)
        return MalformedRLEError(
            f"counts sum to {total_txt}, size {shape} needs {need} (excess from run {index})")
    return MalformedRLEError(f"counts sum to {total}, size {shape} needs {need}")


def runs_to_array(runs: Runs, *, order: str = "C", out: np.ndarray | None = None,
                  dtype: Any = None, threads: int | None = None) -> np.ndarray:
    """Expand :class:`Runs` into a new array (``order``) or into ``out``.

    The counts are validated while the kernel writes (positive, summing to
    the size; each read once, so another thread writing into them cannot
    make it write past the output); values that do not fit the result's
    dtype are refused first, on a private copy that is then the one decoded.
    """
    target = resolve_target(dtype, out, runs.dtype)
    values = runs.values
    private = target != values.dtype
    if private:
        values = cast_values(values, target)   # checked on, and returns, a private copy
    result = new_output(runs.shape, target, order, out)
    values = np.ascontiguousarray(values, dtype=result.dtype)
    if result.dtype.kind == "b" and values.size:
        if not private:   # (ascontiguousarray may return a view: compare no identities)
            values = values.copy()   # check what is decoded, not what the caller may change
        if values.view(np.uint8).max() > 1:
            raise RLEValueError("bool label maps hold only 0 and 1")
    counts = np.ascontiguousarray(runs.counts, dtype=U64)
    # an out that is a view of the values or counts would overwrite them first
    values, counts = apart_from(values, out), apart_from(counts, out)
    try:
        _core.decode(values, counts, result, threads_for(threads, result.nbytes))
    except _core.CodecError as exc:
        raise counts_error(exc, counts, runs.shape) from None
    return result
