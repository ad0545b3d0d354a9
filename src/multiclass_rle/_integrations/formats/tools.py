"""Annotation tools' exports: Label Studio brushes, CVAT for images 1.1 XML, SAM's SA-1B JSON.

**Label Studio** (``label-studio``): the JSON export, a list of tasks, each
with ``data`` (the image) and ``annotations``, whose ``result`` lists regions;
a brush region (``"type": "brushlabels"``) holds ``value.rle``, Label
Studio's own bit-packed RLE of the RGBA canvas (decoded by
:func:`decode_brush`, as label-studio-converter's ``brush.decode_rle`` does:
a 32-bit value count, a word size, four run-length bit widths, then runs),
``value.brushlabels`` and ``original_width``/``original_height``. A pixel
belongs to a region where the alpha channel is non-zero. One map per
annotation; class ids 1, 2, ... follow the sorted label names (or
``labels=[...]``), 0 is background; ``instances=True`` numbers the regions
instead.

**CVAT** (``cvat``): "CVAT for images 1.1" XML. ``<mask rle="..." left= top=
width= height=>`` holds run lengths over the mask's box, alternating
background / mask, starting with background, row by row; ``<polygon
points="x0,y0;x1,y1;...">`` is rasterised by pycocotools (extra ``coco``),
as COCO does. Shapes are painted in ``z_order`` (then file order); class ids
follow the task's label list (1, 2, ...), or ``instances=True``.

**SA-1B** (``sa1b``): one JSON per image, ``{"image": {...}, "annotations":
[{"id", "segmentation": COCO RLE, "bbox", "area", "predicted_iou", ...}]}``.
Masks overlap (SAM nests wholes, parts and subparts): annotation ``k`` gets
label ``k + 1``, painted with ``overlap`` as :func:`multiclass_rle.from_coco`
(``"last"``: later masks on top, ``"first"``, ``"error"``).

Every map's ``meta`` keeps the source's fields for it but the mask itself
(Label Studio's task, annotation and result entries, CVAT's image and shape
attributes, polygon points and the shapes that are not masks, SA-1B's image
and annotation fields), and the label each mask got (``values``); the class
names are in the dataset's ``classes`` (CVAT's whole ``<meta>`` element in
``meta_xml``).

All three are written back (:func:`multiclass_rle.write_labels`, ``mcrle
decode --format``): each mask is the pixels of its label in the map (inside
its original box, for CVAT masks; polygons are written as they were), so
reading the written file gives the same maps and metadata. A map from
elsewhere (no ``meta``) gets one mask per label but the background, named by
the dataset's ``classes`` (else the label number); class ids then follow the
tool's own numbering (1, 2, ... in label order).
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._base import FormatError, LabelMap, OneFileWriter, Plan, Task, Writer, check_options, \
    dataset_of, jsonable, read_json


def _et() -> Any:
    """xml.etree.ElementTree, imported when CVAT XML is read or written (not by every
    command that loads the format registry)."""
    import xml.etree.ElementTree as ET

    return ET


__all__ = ["LABEL_STUDIO", "CVAT", "SA1B", "decode_brush", "encode_brush"]

_OVERLAPS = ("last", "first", "error")


def _overlap(options: dict[str, Any], fmt: str) -> str:
    overlap = options.get("overlap", "last")
    if overlap not in _OVERLAPS:
        raise FormatError(fmt, f"overlap must be 'last', 'first' or 'error', got {overlap!r}")
    return overlap


def _paint(shape: tuple[int, int], masks: list[tuple[int, Any]], overlap: str, where: str,
           hi: int) -> np.ndarray:
    """Label map of (label, binary RLE) masks painted in order."""
    from ..._codec.api import decode
    from ..._ops.coco import from_coco

    if not masks:
        return np.zeros(shape, dtype=np.uint8)
    dtype = next(t for t in ("uint8", "uint16", "uint32", "uint64") if hi <= np.iinfo(t).max)
    try:
        return decode(from_coco(masks, overlap=overlap, dtype=dtype))
    except ValueError as exc:
        raise FormatError(where, str(exc)) from None


def _mask_rle(mask: np.ndarray) -> dict[str, Any]:
    """A pycocotools uncompressed RLE of a 2-D bool mask (Fortran order)."""
    from ..._codec.runs import encode_runs

    runs = encode_runs(mask)
    counts = runs.counts.astype(np.int64).tolist()
    if runs.values.size and runs.values[0]:
        counts = [0] + counts
    return {"size": [int(mask.shape[0]), int(mask.shape[1])], "counts": counts}


# ---------------------------------------------------------------------------
# Label Studio


def decode_brush(rle: Any, where: str = "brush rle") -> np.ndarray:
    """Values of a Label Studio brush RLE (a list of byte values), as uint8..uint32.

    The layout (thi.ng's rle-pack, which Label Studio uses): 32 bits the
    number of values; 5 bits the word size minus 1; four 4-bit run-length
    widths minus 1; then groups: 1 bit "repeat", 2 bits choosing a width,
    that many bits = the group's length minus 1, then one word repeated, or
    that many words. Bits are read most significant first.

    >>> decode_brush([0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128,
    ...               17, 56, 32]).tolist()
    [1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 4, 4, 4, 4, 4, 4, 4, 4]
    """
    try:
        data = bytes(rle) + bytes(8)  # padding: every read takes a 64-bit window
    except (TypeError, ValueError):
        raise FormatError(where, "a brush rle must be a list of byte values 0..255") from None
    nbits = 8 * (len(data) - 8)
    pos = 0

    def read(n: int) -> int:
        nonlocal pos
        if pos + n > nbits:
            raise FormatError(where, f"truncated: needs bit {pos + n}, has {nbits}")
        word = int.from_bytes(data[pos >> 3:(pos >> 3) + 8], "big")
        value = (word >> (64 - (pos & 7) - n)) & ((1 << n) - 1)
        pos += n
        return value

    num = read(32)
    word = read(5) + 1
    widths = [read(4) + 1 for _ in range(4)]
    if word > 32:
        raise FormatError(where, f"word size {word} > 32 bits")
    if num > nbits:  # each value costs at least one bit: refuse before allocating
        raise FormatError(where, f"claims {num} values in {nbits} bits")
    out = np.empty(num, dtype=np.uint8 if word <= 8 else np.uint16 if word <= 16 else np.uint32)
    i = 0
    while i < num:
        repeat = read(1)
        j = i + 1 + read(widths[read(2)])
        if j > num:
            raise FormatError(where, f"a run of {j - i} values at {i} passes the {num} values")
        if repeat:
            out[i:j] = read(word)
        else:
            out[i:j] = [read(word) for _ in range(j - i)]
        i = j
    return out


def encode_brush(values: np.ndarray) -> list[int]:
    """A Label Studio brush RLE (list of bytes) of uint8 values, runs only (8-bit words,
    run-length widths 3, 4, 8 and 16 bits), as label-studio-converter's ``encode_rle``.

    >>> encode_brush(np.array([1, 1, 2], np.uint8))
    [0, 0, 0, 3, 57, 27, 252, 32, 32, 1, 0]
    """
    from ..._codec.runs import encode_runs

    runs = encode_runs(np.asarray(values, dtype=np.uint8).reshape(-1))
    bits = [f"{runs.size:032b}", f"{7:05b}", "".join(f"{w - 1:04b}" for w in (3, 4, 8, 16))]
    for value, count in zip(runs.values.tolist(), runs.counts.tolist()):
        while count > 0:
            n = min(count, 1 << 16)
            if n == 1:
                bits.append(f"000000{value:08b}")
            else:
                k = next(i for i, w in enumerate((3, 4, 8, 16)) if n <= 1 << w)
                bits.append(f"1{k:02b}{n - 1:0{(3, 4, 8, 16)[k]}b}{value:08b}")
            count -= n
    text = "".join(bits)
    text += "0" * (8 - len(text) % 8)
    return [int(text[i:i + 8], 2) for i in range(0, len(text), 8)]


def _image_name(task: dict[str, Any]) -> str:
    data = task.get("data") or {}
    for value in data.values():
        if isinstance(value, str) and value:
            return value.rstrip("/").rsplit("/", 1)[-1].split("?")[0] or str(task.get("id"))
    return f"task-{task.get('id')}"


class _LabelStudio:
    name = "label-studio"
    suffixes = (".json",)
    options = ("overlap", "instances", "labels")

    def sniff(self, path: str, head: bytes) -> bool:
        return path.lower().endswith(".json") and head.lstrip().startswith(b"[") and (
            b'"annotations"' in head or b'"completions"' in head or b'"data"' in head)

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        check_options(options, self.options, self.name)
        _overlap(options, self.name)
        doc = read_json(path)
        if not isinstance(doc, list):
            raise FormatError(path, "a Label Studio JSON export is a list of tasks")
        names: set[str] = set()
        items = []
        for t, task in enumerate(doc):
            if not isinstance(task, dict):
                raise FormatError(f"{path}: task {t}", "not an object")
            anns = task.get("annotations", task.get("completions", [])) or []
            for a, ann in enumerate(anns):
                if not isinstance(ann, dict) or ann.get("was_cancelled"):
                    continue
                results = [r for r in ann.get("result", []) if isinstance(r, dict)
                           and str(r.get("type", "")).lower() == "brushlabels"]
                for r in results:
                    names.update((r.get("value") or {}).get("brushlabels", []) or [])
                if results:
                    items.append((t, a, task, ann))
        labels = list(options.get("labels") or sorted(names))
        missing = sorted(names - set(labels))
        if missing:
            raise FormatError(path, f"label {missing[0]!r} is not in labels={labels!r}")
        class_ids = {n: i + 1 for i, n in enumerate(labels)}
        dataset = {"format": self.name, "file": os.path.basename(path),
                   "classes": {str(i): n for n, i in class_ids.items()}}
        tasks, seen = [], {}
        for t, a, task, ann in items:
            base = _image_name(task)
            key = base if base not in seen else f"{base}#{ann.get('id', a)}"
            seen[key] = True
            meta = {"task_id": task.get("id"), "annotation_id": ann.get("id"),
                    "data": task.get("data"),
                    "task": {k: v for k, v in task.items()
                             if k not in ("id", "data", "annotations", "completions")},
                    "annotation": {k: v for k, v in ann.items() if k not in ("id", "result")},
                    "results": [{k: v for k, v in r.items() if k != "value"}
                                | {"value": {k: v for k, v in (r.get("value") or {}).items()
                                             if k != "rle"}}
                                for r in ann.get("result", []) if isinstance(r, dict)]}
            brush = [(r.get("value") or {}) | {"_w": r.get("original_width"),
                                                "_h": r.get("original_height"),
                                                "_id": r.get("id")}
                     for r in ann.get("result", []) if isinstance(r, dict)
                     and str(r.get("type", "")).lower() == "brushlabels"]
            tasks.append(Task(self.name, path, key, (meta, brush, class_ids),
                              sum(len(b.get("rle") or ()) for b in brush)))
        return Plan(dataset, tasks)

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        meta, brush, class_ids = task.data
        instances = bool(options.get("instances", False))
        overlap = _overlap(options, self.name)
        where = f"{task.path} (task {meta['task_id']}, annotation {meta['annotation_id']})"
        try:
            sizes = {(b["_h"], b["_w"]) for b in brush}
            if len(sizes) != 1 or not all(isinstance(x, int) and x > 0 for x in next(iter(sizes))):
                raise FormatError(where, f"brush results need one original_height/"
                                         f"original_width, got {sorted(map(str, sizes))}")
            h, w = next(iter(sizes))
            masks, values = [], []
            for k, b in enumerate(brush, 1):
                rgba = decode_brush(b.get("rle") or [], f"{where} result {b['_id']!r}")
                if rgba.size != 4 * h * w:
                    raise FormatError(where, f"result {b['_id']!r} decodes to {rgba.size} values;"
                                             f" {h}x{w} RGBA needs {4 * h * w}")
                mask = rgba[3::4].reshape(h, w) > 0
                names = b.get("brushlabels") or []
                label = k if instances else class_ids.get(names[0], 0) if names else 0
                values.append(label)
                if label:
                    masks.append((label, _mask_rle(mask)))
            arr = _paint((h, w), masks, overlap, where, max([m[0] for m in masks] or [0]))
        except FormatError as exc:
            return [exc]
        return [LabelMap(task.name, arr, {**meta, "values": values})]

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, (), self.name)
        return _LabelStudioWriter()


# ---------------------------------------------------------------------------
# CVAT


class _Cvat:
    name = "cvat"
    suffixes = (".xml",)
    options = ("overlap", "instances")

    def sniff(self, path: str, head: bytes) -> bool:
        return path.lower().endswith(".xml") and b"<annotations" in head

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        ET = _et()
        check_options(options, self.options, self.name)
        _overlap(options, self.name)
        labels: list[str] = []
        tasks = []
        meta_xml = None
        try:
            for _, elem in ET.iterparse(_no_dtd(path), events=("end",)):
                if elem.tag == "meta" and meta_xml is None:
                    elem.tail = None
                    meta_xml = ET.tostring(elem, encoding="unicode")
                elif elem.tag == "label" and elem.find("name") is not None:
                    if (elem.findtext("type") or "") not in ("skeleton", "points", "tag") \
                            and elem.find("parent") is None:
                        labels.append(elem.findtext("name") or "")
                elif elem.tag == "image":
                    a = elem.attrib
                    xml = ET.tostring(elem)
                    tasks.append(Task(self.name, path, a.get("name", f"image-{a.get('id')}"),
                                      xml, len(xml)))
                    elem.clear()
        except ET.ParseError as exc:
            raise FormatError(path, f"not well-formed XML ({exc})") from None
        except OSError as exc:
            raise FormatError(path, f"cannot read ({exc.strerror or exc})") from None
        class_ids = {n: i + 1 for i, n in enumerate(dict.fromkeys(labels))}
        dataset = {"format": self.name, "file": os.path.basename(path),
                   "classes": {str(i): n for n, i in class_ids.items()}}
        if meta_xml is not None:
            dataset["meta_xml"] = meta_xml
        return Plan(dataset, [Task(t.format, t.path, t.name, (t.data, class_ids), t.weight)
                              for t in tasks])

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        ET = _et()
        xml, class_ids = task.data
        image = ET.fromstring(xml)
        where = f"{task.path} (image {image.get('id')} {task.name!r})"
        try:
            return [self._read(task, image, class_ids, options, where)]
        except FormatError as exc:
            return [exc]

    def _read(self, task: Task, image: Any, class_ids: dict[str, int],
              options: dict[str, Any], where: str) -> LabelMap:
        ET = _et()
        instances = bool(options.get("instances", False))
        try:
            h, w = int(image.get("height")), int(image.get("width"))
        except (TypeError, ValueError):
            raise FormatError(where, "an <image> needs integer width and height") from None
        shapes, objects, others = [], [], []
        for k, el in enumerate(image):
            if el.tag not in ("mask", "polygon"):
                el.tail = None
                others.append(ET.tostring(el, encoding="unicode"))
                continue
            label = el.get("label", "")
            what = f"{el.tag} {len(objects) + 1} (label {label!r})"
            mask = _cvat_mask(el, h, w, f"{where}: {what}") if el.tag == "mask" else \
                _cvat_polygon(el, h, w, f"{where}: {what}")
            z = int(float(el.get("z_order", "0") or 0))
            cls = class_ids.get(label)
            if cls is None:
                cls = class_ids.setdefault(label, len(class_ids) + 1)
            objects.append({"shape": el.tag, "label": label, "class_id": cls,
                            **{k2: v for k2, v in el.attrib.items()
                               if k2 not in ("rle", "label")},
                            "attributes": {a.get("name"): a.text for a in el.findall("attribute")}})
            shapes.append((z, k, len(objects), cls, mask))
        shapes.sort(key=lambda s: (s[0], s[1]))
        masks = [(inst if instances else cls, m) for _, _, inst, cls, m in shapes]
        arr = _paint((h, w), masks, _overlap(options, self.name), where,
                     max([m[0] for m in masks] or [0]))
        meta = {"image_id": image.get("id"), "name": image.get("name"), "width": w, "height": h,
                "image_attributes": {k: v for k, v in image.attrib.items()
                                     if k not in ("id", "name", "width", "height")},
                "objects": objects, "other_shapes": others,
                "values": [i if instances else o["class_id"]
                           for i, o in enumerate(objects, 1)]}
        return LabelMap(task.name, arr, meta)

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, (), self.name)
        return _CvatWriter()


def _no_dtd(path: str) -> str:
    """``path``, after checking that its prolog has no ``<!DOCTYPE``: a DTD is where
    entities are declared (entity expansion, external entities), and CVAT never
    writes one, so the document is refused before the parser sees it."""
    try:
        with open(path, "rb") as f:
            head = f.read(1 << 16)
    except OSError as exc:
        raise FormatError(path, f"cannot read ({exc.strerror or exc})") from None
    i = 3 if head.startswith(b"\xef\xbb\xbf") else 0
    while True:
        while i < len(head) and head[i:i + 1].isspace():
            i += 1
        for start, end in ((b"<?", b"?>"), (b"<!--", b"-->")):
            if head.startswith(start, i):
                j = head.find(end, i + len(start))
                i = len(head) if j < 0 else j + len(end)
                break
        else:
            break
    if head.startswith(b"<!DOCTYPE", i):
        raise FormatError(path, "has a DTD (<!DOCTYPE ...>); CVAT XML has none, and DTD "
                                "entities are refused (they can expand without bound)")
    return path


def _cvat_mask(el: Any, h: int, w: int, where: str) -> dict[str, Any]:
    try:
        left, top = int(float(el.get("left"))), int(float(el.get("top")))
        bw, bh = int(float(el.get("width"))), int(float(el.get("height")))
        counts = [int(x) for x in (el.get("rle") or "").replace(" ", "").split(",") if x]
    except (TypeError, ValueError):
        raise FormatError(where, "a <mask> needs integer left, top, width, height and an rle "
                                 "of comma-separated counts") from None
    if left < 0 or top < 0 or bw <= 0 or bh <= 0 or left + bw > w or top + bh > h:
        raise FormatError(where, f"its box x {left}..{left + bw - 1}, y {top}..{top + bh - 1} "
                                 f"({bw}x{bh}) leaves the {w}x{h} image")
    if any(c < 0 for c in counts) or sum(counts) != bw * bh:
        raise FormatError(where, f"rle counts sum to {sum(counts)}, its {bw}x{bh} box needs "
                                 f"{bw * bh}")
    values = np.zeros(len(counts), dtype=bool)
    values[1::2] = True
    box = np.repeat(values, counts).reshape(bh, bw)
    full = np.zeros((h, w), dtype=bool)
    full[top:top + bh, left:left + bw] = box
    return _mask_rle(full)


def _cvat_polygon(el: Any, h: int, w: int, where: str) -> dict[str, Any]:
    from ..._ops.coco import _pycocotools_mask

    try:
        points = [float(v) for pair in (el.get("points") or "").split(";") if pair
                  for v in pair.split(",")]
    except ValueError:
        raise FormatError(where, f"points {el.get('points')!r} are not x,y;x,y;...") from None
    if len(points) < 6 or len(points) % 2:
        raise FormatError(where, f"a polygon needs at least 3 x,y points, got {len(points) / 2:g}")
    mask_utils = _pycocotools_mask()
    rle = mask_utils.merge(mask_utils.frPyObjects([points], h, w))
    return rle


# ---------------------------------------------------------------------------
# SA-1B


class _Sa1b:
    name = "sa1b"
    suffixes = (".json",)
    options = ("overlap",)

    def sniff(self, path: str, head: bytes) -> bool:
        return path.lower().endswith(".json") and head.lstrip().startswith(b"{") and \
            b'"image"' in head and \
            b'"annotations"' in head and b'"segments_info"' not in head

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        check_options(options, self.options, self.name)
        _overlap(options, self.name)
        return Plan({"format": self.name},
                    [Task(self.name, path, name or os.path.basename(path), None,
                          os.path.getsize(path) if os.path.exists(path) else 1)])

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        try:
            doc = read_json(task.path)
            if not isinstance(doc, dict) or not isinstance(doc.get("annotations"), list):
                raise FormatError(task.path, "an SA-1B file is an object with 'image' and "
                                             "'annotations'")
            image = doc.get("image") or {}
            anns = doc["annotations"]
            masks, fields = [], []
            for k, ann in enumerate(anns, 1):
                seg = ann.get("segmentation") if isinstance(ann, dict) else None
                if not isinstance(seg, dict):
                    raise FormatError(task.path, f"annotation {k - 1} has no RLE segmentation")
                masks.append((k, seg))
                fields.append({"label": k, **{key: v for key, v in ann.items()
                                              if key != "segmentation"}})
            h = image.get("height") or (masks[0][1].get("size", [0, 0])[0] if masks else 0)
            w = image.get("width") or (masks[0][1].get("size", [0, 0])[1] if masks else 0)
            arr = _paint((int(h), int(w)), masks, _overlap(options, self.name), task.path,
                         len(masks))
        except FormatError as exc:
            return [exc]
        return [LabelMap(task.name, arr, {"image": image, "annotations": fields})]

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, (), self.name)
        return _Sa1bWriter()


# ---------------------------------------------------------------------------
# Writers


def _regions(item: LabelMap, what: str) -> tuple[np.ndarray, list[int], dict[str, str]]:
    """A 2-D map, the label of each of its masks (from ``meta['values']``, else every
    label but 0) and the class names (the dataset's ``classes``)."""
    arr = np.asarray(item.array)
    if arr.ndim != 2:
        raise FormatError(item.name, f"a {arr.ndim}-D map does not fit {what} (2-D)")
    values = item.meta.get("values")
    if not isinstance(values, list):
        from ..._codec.runs import encode_runs
        from ..._ops.summary import labels as map_labels

        values = [int(v) for v in map_labels(encode_runs(arr)).tolist() if v != 0]
    classes = {str(k): str(v) for k, v in ((item.dataset or {}).get("classes") or {}).items()}
    return arr, values, classes


class _LabelStudioWriter(OneFileWriter):
    """One JSON export: a task per ``task_id`` holding its annotations, each brush
    result's ``rle`` made from the pixels of its label."""

    def write(self, item: LabelMap, target: str | None = None) -> dict[str, Any]:
        arr, values, classes = _regions(item, "a Label Studio brush")
        h, w = arr.shape
        meta = item.meta
        results = meta.get("results")
        if results is None:  # a map from elsewhere: one brush result per label
            results = [{"id": f"label-{v}", "type": "brushlabels", "from_name": "tag",
                        "to_name": "image", "original_width": w, "original_height": h,
                        "value": {"format": "rle",
                                  "brushlabels": [classes.get(str(v), str(v))]}}
                       for v in values]
        out, k = [], 0
        for r in results:
            r = dict(r)
            if str(r.get("type", "")).lower() == "brushlabels":
                if k >= len(values):
                    raise FormatError(item.name, f"its meta lists {len(values)} values for "
                                                 f"more brush results")
                mask = (arr == values[k]).astype(np.uint8) * 255
                r["value"] = {**(r.get("value") or {}),
                              "rle": encode_brush(np.repeat(mask.ravel(), 4))}
                k += 1
            out.append(r)
        name = item.name.rsplit("/", 1)[-1]
        return {"task_id": meta.get("task_id", name), "task": meta.get("task", {}),
                "data": meta.get("data", {"image": name}),
                "annotation": {"id": meta.get("annotation_id"), **meta.get("annotation", {}),
                               "result": out},
                "dataset": meta.get("dataset", "")}

    def finish(self, parts: list[Any], datasets: dict[str, dict[str, Any]], target: str
               ) -> list[str]:
        import json

        from ._files import atomic_stream

        tasks: dict[Any, dict[str, Any]] = {}
        for part in parts:
            key = json.dumps(part["task_id"])
            task = tasks.setdefault(key, {"id": part["task_id"], "data": part["data"],
                                          **part["task"], "annotations": []})
            task["annotations"].append(part["annotation"])
        data = json.dumps(jsonable(list(tasks.values()))).encode()
        atomic_stream(target, lambda f: f.write(data))
        return [target]


def _cvat_counts(box: np.ndarray) -> str:
    """CVAT's mask rle of a bool box: run lengths row by row, background first."""
    from ..._codec.runs import encode_runs

    runs = encode_runs(np.ascontiguousarray(box).reshape(-1))
    counts = runs.counts.astype(np.int64).tolist()
    if runs.values.size and runs.values[0]:
        counts = [0] + counts
    return ", ".join(map(str, counts))


class _CvatWriter(OneFileWriter):
    """One "CVAT for images 1.1" XML: masks remade from the map inside their boxes,
    polygons and the other shapes as they were."""

    def write(self, item: LabelMap, target: str | None = None) -> dict[str, Any]:
        ET = _et()
        arr, values, classes = _regions(item, "a CVAT image")
        h, w = arr.shape
        meta = item.meta
        objects = meta.get("objects")
        if objects is None:  # a map from elsewhere: one mask per label
            objects = [{"shape": "mask", "label": classes.get(str(v), str(v)), "attributes": {}}
                       for v in values]
        if len(objects) != len(values):
            raise FormatError(item.name, f"its meta has {len(objects)} shapes and "
                                         f"{len(values)} values")
        image = ET.Element("image", {"id": str(meta.get("image_id", "0")),
                                 "name": str(meta.get("name", item.name)),
                                 "width": str(w), "height": str(h),
                                 **meta.get("image_attributes", {})})
        for obj, value in zip(objects, values):
            attrib = {"label": obj["label"]}
            attrib.update({k: str(v) for k, v in obj.items()
                           if k not in ("shape", "label", "class_id", "attributes")})
            if obj["shape"] == "mask":
                ys, xs = np.nonzero(arr == value)
                if "left" in obj:
                    left, top = int(float(obj["left"])), int(float(obj["top"]))
                    bw, bh = int(float(obj["width"])), int(float(obj["height"]))
                elif ys.size:
                    left, top = int(xs.min()), int(ys.min())
                    bw, bh = int(xs.max()) - left + 1, int(ys.max()) - top + 1
                else:
                    left, top, bw, bh = 0, 0, 1, 1
                box = arr[top:top + bh, left:left + bw] == value
                if box.shape != (bh, bw):
                    raise FormatError(item.name, f"mask box {bw}x{bh} at x {left}, y {top} "
                                                 f"leaves the {w}x{h} map")
                attrib.update(rle=_cvat_counts(box), left=str(left), top=str(top),
                              width=str(bw), height=str(bh))
            el = ET.SubElement(image, obj["shape"], attrib)
            for name, text in (obj.get("attributes") or {}).items():
                ET.SubElement(el, "attribute", {"name": str(name)}).text = text
        for xml in meta.get("other_shapes", []):
            image.append(ET.fromstring(xml))
        return {"xml": ET.tostring(image, encoding="unicode"), "dataset": meta.get("dataset", "")}

    def finish(self, parts: list[Any], datasets: dict[str, dict[str, Any]], target: str
               ) -> list[str]:
        ET = _et()
        from ._files import atomic_stream

        ds = dataset_of(parts, datasets)
        meta_xml = ds.get("meta_xml")
        if meta_xml is None:
            meta = ET.Element("meta")
            labels = ET.SubElement(ET.SubElement(meta, "task"), "labels")
            names = (ds.get("classes") or {}).values() or dict.fromkeys(
                o.get("label") for p in parts
                for o in ET.fromstring(p["xml"]) if o.get("label") is not None)
            for name in names:
                ET.SubElement(ET.SubElement(labels, "label"), "name").text = name
            meta_xml = ET.tostring(meta, encoding="unicode")
        text = "".join(['<?xml version="1.0" encoding="utf-8"?>\n<annotations>\n',
                        "<version>1.1</version>\n", meta_xml, "\n",
                        *(p["xml"] + "\n" for p in parts), "</annotations>\n"])
        data = text.encode("utf-8")
        atomic_stream(target, lambda f: f.write(data))
        return [target]


class _Sa1bWriter(Writer):
    """One SA-1B JSON per map; each annotation's segmentation (a compressed COCO RLE)
    is the pixels of its label."""

    suffix = ".json"
    per_map = True

    def write(self, item: LabelMap, target: str) -> int:
        import json

        from ..._codec.runs import encode_runs
        from ..._ops.coco import to_coco
        from ._files import atomic_stream

        arr = np.asarray(item.array)
        if arr.ndim != 2:
            raise FormatError(item.name, f"a {arr.ndim}-D map is not an SA-1B image (2-D)")
        anns = item.meta.get("annotations")
        if anns is None:  # a map from elsewhere: one annotation per label
            _, values, _ = _regions(item, "an SA-1B image")
            anns = [{"label": v, "id": v} for v in values]
        masks = to_coco(encode_runs(arr), labels=[int(a["label"]) for a in anns])
        out = [{k: v for k, v in a.items() if k != "label"} | {
            "segmentation": masks[int(a["label"])]} for a in anns]
        image = item.meta.get("image") or {"file_name": item.name.rsplit("/", 1)[-1],
                                           "height": int(arr.shape[0]),
                                           "width": int(arr.shape[1])}
        data = json.dumps(jsonable({"image": image, "annotations": out})).encode()
        return atomic_stream(target, lambda f: f.write(data))


LABEL_STUDIO = _LabelStudio()
CVAT = _Cvat()
SA1B = _Sa1b()
