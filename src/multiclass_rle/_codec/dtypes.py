"""Label dtypes: which are allowed, the smallest that holds a set of values."""

from __future__ import annotations

import numpy as np

from .errors import MalformedRLEError, RLETypeError, RLEValueError

#: Every dtype a label map may have, by numpy name.
LABEL_DTYPE_NAMES = (
    "bool",
    "uint8",
    "int8",
    "uint16",
    "int16",
    "uint32",
    "int32",
    "uint64",
    "int64",
)
_BY_NAME = {name: np.dtype(name) for name in LABEL_DTYPE_NAMES}
_NAME_BY_KIND_SIZE = {(dt.kind, dt.itemsize): name for name, dt in _BY_NAME.items()}


def dtype_name(dtype: np.dtype) -> str:
    """``dtype.name`` of a label dtype (either byte order), in a dict lookup.

    NumPy builds ``dtype.name`` anew on every call (about 4.6 us, a tenth of
    encoding a 640x480 map); an encode writes it into every dict.
    """
    name = _NAME_BY_KIND_SIZE.get((dtype.kind, dtype.itemsize))
    return name if name is not None else dtype.name


def is_label_dtype(dtype: np.dtype) -> bool:
    return dtype.kind in "biu"


def check_array_dtype(dtype: np.dtype) -> None:
    """Refuse arrays whose elements are not integers (or bools)."""
    if not is_label_dtype(dtype):
        raise RLETypeError(
            f"label maps must hold integers or bools, got dtype {dtype} "
            f"(labels are class or instance ids; round or cast the array first)"
        )


def dtype_from_name(name: object, *, where: str) -> np.dtype:
    """The dtype of an RLE's ``dtype`` key; unknown names are malformed RLEs."""
    if not isinstance(name, str):
        raise MalformedRLEError(f"{where} must be a dtype name string, got {type(name).__name__}")
    try:
        return _BY_NAME[name]
    except KeyError:
        raise MalformedRLEError(
            f"unknown {where} {name!r}; expected one of {', '.join(LABEL_DTYPE_NAMES)}"
        ) from None


def dtype_from_argument(dtype: object) -> np.dtype:
    """The ``dtype=`` argument of decode: any numpy spelling of an integer or bool dtype."""
    try:
        dt = np.dtype(dtype)  # type: ignore[call-overload]
    except TypeError as exc:
        raise RLETypeError(f"dtype={dtype!r} is not a numpy dtype: {exc}") from None
    if not is_label_dtype(dt):
        raise RLETypeError(f"dtype={dt} is not an integer or bool dtype")
    return dt.newbyteorder("=") if dt.byteorder not in "=|" else dt


def value_range(dtype: np.dtype) -> tuple[int, int]:
    if dtype.kind == "b":
        return 0, 1
    info = np.iinfo(dtype)
    return int(info.min), int(info.max)


def smallest_dtype(vmin: int, vmax: int) -> np.dtype:
    """Smallest dtype holding [vmin, vmax]: unsigned when vmin >= 0 (uint8 for 0..255)."""
    candidates = ("uint8", "uint16", "uint32", "uint64") if vmin >= 0 else (
        "int8", "int16", "int32", "int64")
    for name in candidates:
        lo, hi = value_range(_BY_NAME[name])
        if lo <= vmin and vmax <= hi:
            return _BY_NAME[name]
    raise MalformedRLEError(f"values span {vmin}..{vmax}, which no integer dtype holds")


def cast_values(values: np.ndarray, dtype: np.dtype, *, own: bool = False) -> np.ndarray:
    """Cast run values to dtype, refusing any value that would wrap or truncate.

    own: dtype is the RLE's own 'dtype' key, so a misfit means a corrupt RLE.
    """
    if values.dtype == dtype:
        return values
    # check and cast one private copy: the caller's array may change between
    # a check on it and the cast (another thread), which would wrap silently
    values = values.copy()
    if values.size:
        lo, hi = value_range(dtype)
        vmin, vmax = int(values.min()), int(values.max())
        if vmin < lo or vmax > hi:
            bad = vmin if vmin < lo else vmax
            index = int(np.flatnonzero(values == bad)[0])
            if own:
                raise MalformedRLEError(
                    f"value {bad} (run {index}) does not fit the RLE's own dtype {dtype} "
                    f"({lo}..{hi}): the RLE is inconsistent")
            raise RLEValueError(
                f"value {bad} (run {index}) does not fit dtype {dtype} ({lo}..{hi}); "
                f"pass a wider dtype="
            )
    return values.astype(dtype, copy=False)
