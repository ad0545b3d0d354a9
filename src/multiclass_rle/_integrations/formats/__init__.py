"""Label maps where they live: medical volumes, panoptic datasets, Kaggle CSVs, annotation tools.

:func:`read_labels` reads any of :data:`FORMATS` into :class:`LabelMap`
objects (name, array, metadata); :func:`write_labels` writes maps back in the
formats that can hold them. One module per family: :mod:`.medical` (NIfTI,
MGZ), :mod:`.panoptic` (COCO panoptic, Cityscapes), :mod:`.kaggle` (Kaggle
CSVs), :mod:`.tools` (Label Studio, CVAT, SA-1B). Each format's optional
dependency is imported only when that format is used.

>>> import numpy as np, os, tempfile, multiclass_rle as mcr
>>> d = tempfile.mkdtemp(); csv = os.path.join(d, "train.csv")
>>> with open(csv, "w") as f:
...     _ = f.write("ImageId,EncodedPixels\\na.jpg,1 3 10 2\\n")
>>> [m] = mcr.read_labels(csv, shape=(4, 3))     # pixels numbered down each column
>>> m.name, m.array.tolist()
('a.jpg', [[1, 0, 0], [1, 0, 1], [1, 0, 1], [0, 0, 0]])
>>> mcr.write_labels([m], os.path.join(d, "back.csv"), format="kaggle-csv")
1
>>> with open(os.path.join(d, "back.csv")) as a, open(csv) as b:
...     a.read() == b.read()
True
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from typing import Any

from ._base import FormatError, LabelMap, Plan, Task, iter_errors
from ._files import safe_target
from .kaggle import KAGGLE_CSV
from .medical import MGZ, NIFTI
from .panoptic import CITYSCAPES, COCO_PANOPTIC
from .tools import CVAT, LABEL_STUDIO, SA1B

__all__ = ["LabelMap", "FormatError", "FORMATS", "WRITABLE", "read_labels", "write_labels",
           "detect", "plan_source", "read_task", "writer_for"]

#: Readable formats by name, in the order ``auto`` tries them.
FORMATS: dict[str, Any] = {f.name: f for f in (
    NIFTI, MGZ, COCO_PANOPTIC, SA1B, LABEL_STUDIO, CVAT, KAGGLE_CSV, CITYSCAPES)}

#: Formats :func:`write_labels` writes (``png`` and ``npy`` are the command line's).
WRITABLE = ("nifti", "mgz", "coco-panoptic", "kaggle-csv", "label-studio", "cvat", "sa1b")

#: Formats whose one file holds many maps (given by name, never found in a folder walk).
CONTAINERS = ("coco-panoptic", "sa1b", "label-studio", "cvat", "kaggle-csv")


def detect(path: str) -> str | None:
    """The format of a file from its name and first bytes, or None when it cannot tell."""
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        head = b""
    for fmt in FORMATS.values():
        if fmt.sniff(path, head):
            return fmt.name
    return None


def plan_source(path: str, format: str = "auto", options: dict[str, Any] | None = None,
                name: str | None = None) -> Plan:
    """Parse what a source lists (main process) into a :class:`Plan` of small tasks."""
    options = dict(options or {})
    if format == "auto":
        found = detect(path)
        if found is None:
            raise FormatError(path, "cannot tell its format from its name and content; give "
                                    f"format= (one of {', '.join(FORMATS)})")
        format = found
    if format not in FORMATS:
        raise FormatError(path, f"unknown format {format!r} (one of {', '.join(FORMATS)})")
    return FORMATS[format].plan(path, options, name)


def read_task(task: Task, options: dict[str, Any] | None = None
              ) -> list[LabelMap | FormatError]:
    """Read one task (anywhere: in a worker process too)."""
    return FORMATS[task.format].read(task, dict(options or {}))


def _folder_files(folder: str, fmt: Any, options: dict[str, Any]) -> list[str]:
    out = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        out += [os.path.join(dirpath, f) for f in sorted(filenames)
                if not f.startswith(".") and (f.endswith(fmt.suffixes)
                                              or f.lower().endswith(fmt.suffixes))]
    if fmt.name == "cityscapes":
        return fmt.select(out, options)
    return out


def read_labels(source: str | os.PathLike[str], format: str = "auto", **options: Any
                ) -> Iterator[LabelMap]:
    """The label maps of a file (or folder) in any of :data:`FORMATS`, one at a time.

    Parameters
    ----------
    source : path
        A file (NIfTI, MGZ, COCO panoptic JSON, SA-1B JSON, Label Studio
        export, CVAT XML, Kaggle CSV, Cityscapes PNG) or a folder of files of
        one ``format`` (for ``coco-panoptic``: the folder holding the JSON and
        its PNG folder).
    format : str
        One of :data:`FORMATS`, or ``"auto"``: told from the file's name and
        first bytes (a clear error when it cannot tell).
    **options
        The format's options: ``shape``, ``order``, ``overlap``,
        ``id_column``, ``rle_column``, ``label_column`` (``kaggle-csv``);
        ``ids`` (``cityscapes``: ``"labelIds"``, ``"instanceIds"``,
        ``"trainIds"``); ``overlap``, ``instances``, ``labels``
        (``label-studio``, ``cvat``, ``sa1b``); ``png_dir``
        (``coco-panoptic``).

    Yields
    ------
    LabelMap
        ``name``, ``array``, ``meta`` (what the source carries for the map)
        and ``dataset`` (what it carries for all).

    Raises
    ------
    FormatError
        (an ``RLEValueError``) naming the file and the record, at the first
        bad map.
    """
    path = os.fspath(source)
    if os.path.isdir(path) and format not in ("coco-panoptic", "auto"):
        if format not in FORMATS:
            raise FormatError(path, f"unknown format {format!r} (one of {', '.join(FORMATS)})")
        paths = [(p, os.path.relpath(p, path).replace(os.sep, "/"))
                 for p in _folder_files(path, FORMATS[format], options)]
        if not paths:
            raise FormatError(path, f"no {format} files in this folder")
    elif os.path.isdir(path) and format == "auto":
        raise FormatError(path, "a folder: give format= (the formats of its files may differ)")
    else:
        paths = [(path, None)]
    for p, name in paths:
        plan = plan_source(p, format, options, name)
        for task in plan.tasks:
            for item in iter_errors(read_task(task, options)):
                if not item.dataset:
                    item.dataset = plan.dataset
                yield item


def writer_for(format: str, options: dict[str, Any] | None = None) -> Any:
    if format not in WRITABLE:
        raise FormatError(format, f"cannot write format {format!r} (writable: "
                                  f"{', '.join(WRITABLE)})")
    return FORMATS[format].writer(dict(options or {}))


def write_labels(maps: Iterable[LabelMap], dest: str | os.PathLike[str], format: str,
                 **options: Any) -> int:
    """Write label maps in one of :data:`WRITABLE`; returns the number of maps written.

    ``dest`` is a folder for formats of one file per map (``nifti``, ``mgz``,
    ``sa1b``, ``coco-panoptic``: its PNGs, and its JSON beside them) and the
    file for ``kaggle-csv``, ``label-studio`` (JSON) and ``cvat`` (XML). A map's ``meta`` (and ``dataset``) from
    :func:`read_labels` or an ``mcrle`` file gives back what the source had:
    the NIfTI header and affine, the COCO ``segments_info`` and categories,
    the CSV's rows and columns, the annotation tools' tasks, shapes and
    annotations.
    """
    writer = writer_for(format, options)
    dest = os.fspath(dest)
    parts, datasets = [], {}
    n = 0
    for item in maps:
        key = item.meta.get("dataset", "") if isinstance(item.meta, dict) else ""
        if item.dataset and key not in datasets:
            datasets[key] = item.dataset
        if writer.per_map:
            target = safe_target(dest, item.name, writer.suffix)
            os.makedirs(os.path.dirname(target), exist_ok=True)
            parts.append(writer.write(item, target))
        else:
            parts.append(writer.write(item))
        n += 1
    if format == "coco-panoptic":
        writer.finish(parts, datasets, dest)
    elif not writer.per_map:
        folder = os.path.dirname(os.path.abspath(dest))
        os.makedirs(folder, exist_ok=True)
        writer.finish(parts, datasets, dest)
    return n
