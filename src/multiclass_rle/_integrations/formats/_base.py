"""What every format reader and writer shares: the record, errors, the registry's shape.

A format is an object with ``name``, ``suffixes`` and some of:

* ``sniff(path, head)``: True when the file (its name, its first bytes) is
  in this format, for ``format="auto"``;
* ``plan(path, options)``: the main-process step: parses what lists the maps
  (a JSON index, a CSV's rows, an XML's images) and returns a :class:`Plan`,
  the dataset-level metadata and small picklable tasks, one per map or group
  of maps, so that maps are read one at a time (bounded memory) and in worker
  processes (``mcrle encode -j``);
* ``read(task, options)``: runs anywhere: one task -> :class:`LabelMap`
  objects, or :class:`FormatError` objects for maps that failed;
* ``writer(dest, options)``: a :class:`Writer` for ``decode --format``.
"""

from __future__ import annotations

import base64
import math
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..._codec import jsontext
from ..._codec.errors import RLETypeError, RLEValueError

__all__ = ["LabelMap", "FormatError", "Plan", "Task", "Writer", "OneFileWriter", "dataset_of",
           "b64", "unb64", "jsonable",
           "binary_coco", "label_array", "check_options", "need"]


@dataclass
class LabelMap:
    """One label map read from (or to be written to) a file format, with what came beside it.

    Attributes
    ----------
    name : str
        The map's name: a path below the source (``"val/0001.png"``), an image id.
    array : numpy.ndarray
        The label map (integer or bool, any number of dimensions).
    meta : dict
        What the source carries for this map, JSON-safe (NIfTI affine and
        header, COCO ``segments_info``, image ids, class names...). Every
        output form of ``mcrle encode`` stores it; writers read it back.
    dataset : dict
        What the source carries for all its maps (COCO ``categories``, a CSV's
        columns, a labels table), shared by the maps of one source; ``{}`` if
        none.
    """

    name: str
    array: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    dataset: dict[str, Any] = field(default_factory=dict)

    def __repr__(self) -> str:
        a = self.array
        return (f"LabelMap(name={self.name!r}, array=<{a.dtype} {'x'.join(map(str, a.shape))}>, "
                f"meta keys={sorted(self.meta)})")


class FormatError(RLEValueError):
    """A file (or one record in it) breaks its format; the message names file and record."""

    def __init__(self, where: str, reason: str) -> None:
        super().__init__(f"{where}: {reason}")
        self.where, self.reason = where, reason


@dataclass(frozen=True)
class Task:
    """One unit of reading work: small and picklable (it travels to worker processes)."""

    format: str
    path: str
    name: str  # the map's name, or a prefix for the maps of the task
    data: Any = None  # format-specific: offsets, an index entry, a row group
    weight: int = 1  # for scheduling: bytes or pixels to read


@dataclass
class Plan:
    """A source made ready to read: its dataset metadata and its tasks."""

    dataset: dict[str, Any]
    tasks: list[Task]


class Writer:
    """Writes maps in one format. ``write`` may run in worker processes (per-map
    files) and returns a small picklable part; ``finish`` runs once in the main
    process with every part in order (one-file formats write their file there)."""

    #: Writes one file per map (True) or one file for all (False).
    per_map = True

    def targets(self, item: LabelMap) -> list[str]:
        """Files ``write`` would create for this map (checked before writing)."""
        return []

    def write(self, item: LabelMap) -> Any:
        raise NotImplementedError

    def finish(self, parts: list[Any], datasets: Mapping[str, dict[str, Any]]) -> list[str]:
        """Write what covers every map; returns the files written."""
        return []


class OneFileWriter(Writer):
    """A writer of one file for all maps (a CSV, a JSON export, an XML): ``write``
    returns each map's part, ``finish`` writes the file."""

    per_map = False
    suffix = None


def dataset_of(parts: list[Any], datasets: Mapping[str, dict[str, Any]]) -> dict[str, Any]:
    """The dataset metadata of the first part (``part["dataset"]``) that has some."""
    return next((datasets[p["dataset"]] for p in parts if p["dataset"] in datasets), {})


def b64(data: bytes) -> str:
    return base64.b64encode(bytes(data)).decode("ascii")


def unb64(text: str, what: str) -> bytes:
    try:
        return base64.b64decode(text.encode("ascii"), validate=True)
    except (ValueError, AttributeError, UnicodeEncodeError) as exc:
        raise RLEValueError(f"{what} is not base64 ({exc})") from None


def jsonable(x: Any) -> Any:
    """``x`` with numpy scalars and arrays made plain, NaN/inf as strings, for JSON."""
    if isinstance(x, Mapping):
        return {str(k): jsonable(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [jsonable(v) for v in x]
    if isinstance(x, np.ndarray):
        return jsonable(x.tolist())
    if isinstance(x, (np.bytes_, bytes)):
        return bytes(x).decode("latin-1")
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, float) and not math.isfinite(x):
        return str(x)
    return x


def binary_coco(size: tuple[int, int], starts: np.ndarray, stops: np.ndarray) -> dict[str, Any]:
    """A pycocotools uncompressed RLE of the 1-intervals ``[starts, stops)`` (sorted,
    disjoint, Fortran-order pixel indices) of a ``size`` mask, for ``from_coco``."""
    n = int(size[0]) * int(size[1])
    edges = np.empty(2 * starts.shape[0] + 2, dtype=np.int64)
    edges[0], edges[-1] = 0, n
    edges[1:-1:2], edges[2:-1:2] = starts, stops
    return {"size": [int(size[0]), int(size[1])], "counts": np.diff(edges).tolist()}


def label_array(values: np.ndarray, where: str, what: str = "labels") -> np.ndarray:
    """An integer or bool label array; floats are accepted only when every value is
    an integer, and become the smallest integer dtype holding them."""
    if values.dtype.kind in "biu":
        return values if values.dtype.isnative else values.astype(values.dtype.newbyteorder("="))
    if values.dtype.kind != "f":
        raise FormatError(where, f"{what} of dtype {values.dtype}; label maps hold integers")
    finite = np.isfinite(values)
    if not finite.all():
        bad = np.unravel_index(int(np.argmin(finite)), values.shape)
        raise FormatError(where, f"non-integer {what}: {float(values[bad])!r} at voxel "
                                 f"{tuple(int(i) for i in bad)}")
    if values.size:
        frac = values != np.round(values)
        if frac.any():
            k = int(np.argmax(frac))
            bad = np.unravel_index(k, values.shape)
            n = int(np.count_nonzero(frac))
            raise FormatError(where, f"non-integer {what}: {float(values[bad])!r} at voxel "
                                     f"{tuple(int(i) for i in bad)} ({n} such voxels); a label "
                                     f"map holds integers")
        lo, hi = int(values.min()), int(values.max())
    else:
        lo = hi = 0
    for name in ("uint8", "uint16", "uint32", "int8", "int16", "int32", "int64"):
        info = np.iinfo(name)
        if info.min <= lo and hi <= info.max:
            order = "F" if values.flags.f_contiguous and not values.flags.c_contiguous else "C"
            return values.astype(name, order=order)
    raise FormatError(where, f"{what} {lo}..{hi} do not fit a 64-bit integer")


def check_options(options: Mapping[str, Any], allowed: Iterable[str], fmt: str) -> None:
    extra = sorted(set(options) - set(allowed))
    if extra:
        raise RLETypeError(f"format {fmt!r} takes no option {extra[0]!r} (its options: "
                           f"{', '.join(sorted(allowed)) or 'none'})")


def need(module: str, extra: str, what: str) -> Any:
    """Import an optional dependency, or raise ImportError naming the extra."""
    from importlib import import_module

    try:
        return import_module(module)
    except ImportError as exc:
        raise ImportError(f"{what} needs {module.split('.')[0]}: pip install "
                          f"'multiclass-rle[{extra}]'") from exc


def read_json(path: str) -> Any:
    try:
        with open(path, "rb") as f:
            return jsontext.load(f)
    except OSError as exc:
        raise FormatError(path, f"cannot read ({exc.strerror or exc})") from None
    except ValueError as exc:   # nested too deeply too: jsontext
        raise FormatError(path, f"not valid JSON ({exc})") from None


def rel_name(path: str, base: str) -> str:
    rel = os.path.relpath(path, base)
    return rel.replace(os.sep, "/")


def iter_errors(items: Iterable[LabelMap | FormatError]) -> Iterator[LabelMap]:
    """The maps of a reader, raising its first error (the Python API's behaviour)."""
    for item in items:
        if isinstance(item, FormatError):
            raise item
        yield item
