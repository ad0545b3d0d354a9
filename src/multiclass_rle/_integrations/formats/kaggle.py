"""Kaggle segmentation CSVs: ``ImageId,EncodedPixels`` with 1-indexed ``start length`` pairs.

One row per image, per class or per instance; the pairs number the pixels
column by column (``order="F"``: top to bottom, then left to right, as in
most competitions) or row by row (``order="C"``). The image shape is given
(``shape=(height, width)``) or read from ``height``/``width`` columns.

Columns are found by name (case-insensitive): the image id (``ImageId``,
``image_id``, ``id``; Severstal's ``ImageId_ClassId`` is split at its last
``_``), the pairs (``EncodedPixels``, ``rle``, ``annotation``,
``segmentation``, ``predicted``) and, if present, the class (``ClassId``,
``class_id``, ``class``, ``category_id``, ``label``; names that are not
numbers get ids 1, 2, ... in order of appearance, listed in the dataset's
``classes``). Without a class column each row of an image is an instance,
numbered 1, 2, ... in file order. Pixels of several rows take the label of
the last row (``overlap="last"``), the first, or raise (``"error"``), as in
:func:`multiclass_rle.from_coco`.

Each map's ``meta`` keeps every row of its image: its line, its label and its
other fields, so that :func:`write` gives the same file back. The file is
read one image at a time: the main process only notes where each image's
rows are (``plan``), workers parse them (``read``).
"""

from __future__ import annotations

import csv
import io
import os
from typing import Any

import numpy as np

from ._base import FormatError, LabelMap, OneFileWriter, Plan, Task, Writer, binary_coco, \
    check_options, dataset_of

__all__ = ["KAGGLE_CSV", "parse_pairs", "encode_pairs"]

_ID = ("imageid", "image_id", "imageid_classid", "id", "image", "img", "filename")
_RLE = ("encodedpixels", "encoded_pixels", "rle", "annotation", "segmentation", "predicted",
        "mask")
_LABEL = ("classid", "class_id", "class", "category_id", "category", "label", "cell_type")
_H = ("height", "img_height", "image_height", "h")
_W = ("width", "img_width", "image_width", "w")


def _find(header: list[str], names: tuple[str, ...], given: str | None, what: str,
          where: str, required: bool = True) -> int | None:
    low = [h.strip().lower() for h in header]
    if given is not None:
        if given not in header and given.lower() not in low:
            raise FormatError(where, f"no column {given!r} (columns: {', '.join(header)})")
        return header.index(given) if given in header else low.index(given.lower())
    for name in names:
        if name in low:
            return low.index(name)
    if required:
        raise FormatError(where, f"no {what} column among {', '.join(header)} (expected one of "
                                 f"{', '.join(names)}; name it with {what}_column=)")
    return None


def parse_pairs(text: str, n_pixels: int, where: str) -> tuple[np.ndarray, np.ndarray]:
    """0-indexed ``[starts, stops)`` of a Kaggle ``start length ...`` string, sorted;
    overlapping pairs and pairs past ``n_pixels`` are errors naming them."""
    words = text.split()
    if not words or words == ["-1"]:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    if len(words) % 2:
        raise FormatError(where, f"{len(words)} numbers; EncodedPixels holds pairs of start "
                                 f"and length")
    try:
        nums = np.array(words, dtype=np.int64)
    except (ValueError, OverflowError):
        bad = next(w for w in words if not w.lstrip("-").isdigit())
        raise FormatError(where, f"{bad!r} is not a pixel number") from None
    starts, lengths = nums[0::2] - 1, nums[1::2]
    if starts.size and int(starts.min()) < 0:
        k = int(np.argmin(starts))
        raise FormatError(where, f"pair {k + 1} starts at pixel {int(starts[k]) + 1}; pixels "
                                 f"are numbered from 1")
    if int(lengths.min()) <= 0:
        k = int(np.argmin(lengths))
        raise FormatError(where, f"pair {k + 1} (start {int(starts[k]) + 1}) has length "
                                 f"{int(lengths[k])}")
    stops = starts + lengths
    if int(stops.max()) > n_pixels:
        k = int(np.argmax(stops))
        raise FormatError(where, f"pair {k + 1} (start {int(starts[k]) + 1}, length "
                                 f"{int(lengths[k])}) runs to pixel {int(stops[k])}, past the "
                                 f"image's {n_pixels} pixels")
    order = np.argsort(starts, kind="stable")
    s, e = starts[order], stops[order]
    clash = np.flatnonzero(s[1:] < e[:-1])
    if clash.size:
        i = int(clash[0])
        a, b = int(order[i]), int(order[i + 1])
        raise FormatError(where, f"pairs {a + 1} and {b + 1} overlap: pixels {int(s[i]) + 1}.."
                                 f"{int(e[i])} and {int(s[i + 1]) + 1}..{int(e[i + 1])}")
    return s, e


def encode_pairs(array: np.ndarray, label: int, order: str = "F") -> str:
    """The Kaggle pairs (1-indexed, ``order`` numbering) of the pixels equal to ``label``.

    >>> import numpy as np
    >>> encode_pairs(np.array([[1, 0, 1], [1, 0, 0]]), 1)
    '1 2 5 1'
    >>> encode_pairs(np.array([[1, 0, 1], [1, 0, 0]]), 1, order="C")
    '1 1 3 2'
    """
    from ..._codec.runs import encode_runs

    runs = encode_runs(array if order == "F" else array.T)
    stops = np.cumsum(runs.counts.astype(np.int64))
    hit = runs.values == label
    starts = stops[hit] - runs.counts[hit].astype(np.int64) + 1
    pairs = np.empty(2 * starts.shape[0], dtype=np.int64)
    pairs[0::2], pairs[1::2] = starts, runs.counts[hit]
    return " ".join(map(str, pairs.tolist()))


def _shape_option(shape: Any) -> tuple[int, int] | None:
    if shape is None:
        return None
    if isinstance(shape, str):
        shape = shape.lower().replace(",", "x").split("x")
    try:
        h, w = (int(x) for x in shape)
    except (TypeError, ValueError):
        raise FormatError("kaggle-csv", f"shape must be (height, width), got {shape!r}") from None
    if h <= 0 or w <= 0:
        raise FormatError("kaggle-csv", f"shape must be positive, got {h}x{w}")
    return h, w


class _KaggleCsv:
    name = "kaggle-csv"
    suffixes = (".csv",)
    options = ("shape", "order", "overlap", "id_column", "rle_column", "label_column")

    def sniff(self, path: str, head: bytes) -> bool:
        if not path.lower().endswith(".csv"):
            return False
        first = head.split(b"\n", 1)[0].decode("utf-8", "replace").lower()
        return any(name in first for name in _RLE)

    def _settings(self, options: dict[str, Any]) -> dict[str, Any]:
        check_options(options, self.options, self.name)
        order = options.get("order", "F")
        if order not in ("C", "F"):
            raise FormatError("kaggle-csv", f"order must be 'C' or 'F', got {order!r}")
        overlap = options.get("overlap", "last")
        if overlap not in ("last", "first", "error"):
            raise FormatError("kaggle-csv", f"overlap must be 'last', 'first' or 'error', got "
                                            f"{overlap!r}")
        return {"shape": _shape_option(options.get("shape")), "order": order, "overlap": overlap}

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        settings = self._settings(options)
        groups: dict[str, list[tuple[int, int, int]]] = {}
        classes: dict[str, int] = {}
        with open(path, "rb") as f:
            header_line = f.readline()
            offset = len(header_line)
            header = next(csv.reader([header_line.decode("utf-8-sig")]), [])
            if not header:
                raise FormatError(path, "empty file (no header line)")
            id_col = _find(header, _ID, options.get("id_column"), "id", path)
            rle_col = _find(header, _RLE, options.get("rle_column"), "rle", path)
            label_col = _find(header, _LABEL, options.get("label_column"), "label", path,
                              required=False)
            split_class = header[id_col].strip().lower() == "imageid_classid" and label_col is None
            lineno = 1
            for line in f:
                lineno += 1
                length = len(line)
                if line.strip():
                    fields = next(csv.reader([line.decode("utf-8", "replace")]), [])
                    if len(fields) != len(header):
                        raise FormatError(f"{path}:{lineno}", f"{len(fields)} fields, the header "
                                                              f"has {len(header)}")
                    image = fields[id_col]
                    if split_class:
                        image, _, cls = image.rpartition("_")
                        classes.setdefault(cls, 0)
                    elif label_col is not None:
                        classes.setdefault(fields[label_col], 0)
                    groups.setdefault(image, []).append((offset, length, lineno))
                offset += length
        names = list(classes)
        numeric = all(c.lstrip("-").isdigit() for c in names)
        class_ids = {c: int(c) for c in names} if numeric else \
            {c: i + 1 for i, c in enumerate(names)}
        labels = "column" if (label_col is not None or split_class) else "instance"
        dataset = {"format": self.name, "csv": os.path.basename(path), "columns": header,
                   "id_column": header[id_col], "rle_column": header[rle_col],
                   "label_column": header[label_col] if label_col is not None else None,
                   "split_id_class": split_class, "order": settings["order"], "labels": labels}
        if labels == "column" and not numeric:
            dataset["classes"] = {str(i): c for c, i in class_ids.items()}
        data = {"header": header, "id": id_col, "rle": rle_col, "label": label_col,
                "split": split_class, "class_ids": class_ids, **settings}
        tasks = [Task(self.name, path, image, (rows, data), sum(r[1] for r in rows))
                 for image, rows in groups.items()]
        return Plan(dataset, tasks)

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        rows, d = task.data
        try:
            return [self._read(task, rows, d)]
        except FormatError as exc:
            return [exc]

    def _read(self, task: Task, rows: list[tuple[int, int, int]], d: dict[str, Any]) -> LabelMap:
        from ..._codec.api import decode
        from ..._ops.coco import from_coco

        header = d["header"]
        parsed = []
        with open(task.path, "rb") as f:
            for offset, length, lineno in rows:
                f.seek(offset)
                fields = next(csv.reader([f.read(length).decode("utf-8", "replace")]))
                parsed.append((lineno, fields))
        shape = d["shape"]
        if shape is None:
            hc = _find(header, _H, None, "height", task.path, required=False)
            wc = _find(header, _W, None, "width", task.path, required=False)
            if hc is None or wc is None:
                raise FormatError(task.path, "the image shape is needed: give shape=(height, "
                                             "width) (mcrle: --shape HxW) or height and width "
                                             "columns")
            lineno, fields = parsed[0]
            try:
                shape = (int(float(fields[hc])), int(float(fields[wc])))
            except ValueError:
                raise FormatError(f"{task.path}:{lineno}", f"height/width {fields[hc]!r}, "
                                                           f"{fields[wc]!r} are not numbers") from None
        h, w = shape
        size = (h, w) if d["order"] == "F" else (w, h)
        masks, meta_rows = [], []
        for k, (lineno, fields) in enumerate(parsed, 1):
            where = f"{task.path}:{lineno} ({header[d['id']]} {task.name!r})"
            if d["split"]:
                label = d["class_ids"][fields[d["id"]].rpartition("_")[2]]
            elif d["label"] is not None:
                label = d["class_ids"][fields[d["label"]]]
            else:
                label = k
            s, e = parse_pairs(fields[d["rle"]], h * w, where)
            if s.size:
                masks.append((label, binary_coco(size, s, e)))
            meta_rows.append({"line": lineno, "label": label,
                              "fields": {header[i]: v for i, v in enumerate(fields)
                                         if i != d["rle"]}})
        labels = [m[0] for m in masks] or [0]
        if not masks:
            arr = np.zeros((h, w), dtype=np.uint8)
        else:
            try:
                runs = from_coco(masks, overlap=d["overlap"],
                                 dtype=_dtype(max(labels + [r["label"] for r in meta_rows])))
            except ValueError as exc:
                raise FormatError(f"{task.path} ({header[d['id']]} {task.name!r})",
                                  str(exc)) from None
            arr = decode(runs, order="F")
            if d["order"] == "C":
                arr = arr.T
        meta = {"image_id": task.name, "shape": [h, w], "rows": meta_rows}
        return LabelMap(task.name, arr, meta)

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, ("order",), self.name)
        return _CsvWriter(options.get("order"))


def _dtype(hi: int) -> np.dtype:
    for name in ("uint8", "uint16", "uint32", "uint64"):
        if hi <= np.iinfo(name).max:
            return np.dtype(name)
    return np.dtype(np.int64)  # pragma: no cover - ids are Python ints of CSV text


class _CsvWriter(OneFileWriter):
    """One CSV for all maps: the rows of each map in order, its pairs made from the map."""

    def __init__(self, order: str | None) -> None:
        self.order = order

    def write(self, item: LabelMap, target: str | None = None) -> dict[str, Any]:
        arr = np.asarray(item.array)
        if arr.ndim != 2:
            raise FormatError(item.name, f"a {arr.ndim}-D map does not fit a Kaggle CSV (2-D)")
        ds = item.dataset or {}
        order = self.order or ds.get("order", "F")
        rows = item.meta.get("rows")
        if rows is None:  # a map from elsewhere: one row per label but the background
            from ..._codec.runs import encode_runs
            from ..._ops.summary import labels as map_labels

            rows = [{"label": int(v), "fields": {}}
                    for v in map_labels(encode_runs(arr)).tolist() if v != 0]
            if not rows:
                rows = [{"label": None, "fields": {}}]
        out = []
        for row in rows:
            pairs = "" if row["label"] is None else encode_pairs(arr, row["label"], order)
            out.append((row.get("fields", {}), pairs, row["label"]))
        image_id = item.meta.get("image_id", os.path.basename(item.name))
        return {"rows": out, "image_id": image_id, "dataset": item.meta.get("dataset", "")}

    def finish(self, parts: list[Any], datasets: dict[str, dict[str, Any]], target: str
               ) -> list[str]:
        from ._files import atomic_stream

        ds = dataset_of(parts, datasets)
        columns = ds.get("columns") or ["ImageId", "EncodedPixels"]
        rle_col = ds.get("rle_column") or "EncodedPixels"
        id_col = ds.get("id_column") or "ImageId"
        label_col = ds.get("label_column")
        if label_col is None and not ds and any(len(p["rows"]) > 1 for p in parts):
            columns, label_col = ["ImageId", "ClassId", "EncodedPixels"], "ClassId"
        buf = io.StringIO()
        out = csv.writer(buf, lineterminator="\n")
        out.writerow(columns)
        for part in parts:
            for fields, pairs, label in part["rows"]:
                values = dict(fields)
                values[rle_col] = pairs
                values.setdefault(id_col, part["image_id"])
                if label_col is not None and label is not None:
                    values.setdefault(label_col, str(label))
                out.writerow([values.get(c, "") for c in columns])
        data = buf.getvalue().encode("utf-8")
        atomic_stream(target, lambda f: f.write(data))
        return [target]


KAGGLE_CSV = _KaggleCsv()
