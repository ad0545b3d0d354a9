"""Panoptic datasets: COCO panoptic (a PNG folder + a JSON file) and Cityscapes' id PNGs.

**COCO panoptic** (``coco-panoptic``): ``panoptic_val2017.json`` holds
``images``, ``categories`` and ``annotations``, one per image:
``{"image_id", "file_name", "segments_info": [{"id", "category_id", "iscrowd",
"bbox", "area"}, ...]}``; the PNG ``panoptic_val2017/<file_name>`` holds each
pixel's segment id as its colour, ``id = R + 256 G + 256**2 B`` (0 = void).
Each map is the uint32 id map; its ``meta`` is the image's annotation entry
(every key) plus its ``images`` entry under ``"image"``; the dataset metadata
is every other top-level key of the JSON (``categories``, ``info``,
``licenses``) with the JSON's and the PNG folder's names. A PNG id missing
from ``segments_info``, or a ``segments_info`` id no pixel has, is an error
for that image, as in panopticapi's evaluation.

**Cityscapes** (``cityscapes``): ``*_gtFine_labelIds.png`` (uint8 class ids),
``*_gtFine_instanceIds.png`` (uint16: ``class * 1000 + k`` for the k-th
instance of a class with instances, the class id elsewhere) and
``*_gtFine_labelTrainIds.png`` (uint8 train ids, made by cityscapesScripts;
where absent, the label ids are mapped through the labels table). Each map's
``meta`` names the city, the frame and the kind of ids; the dataset metadata
holds Cityscapes' labels table (name, id, trainId, category, catId,
hasInstances, ignoreInEval, color: the facts of cityscapesScripts'
``labels.py``).
"""

from __future__ import annotations

import json
import os
import re
from typing import Any

import numpy as np

from ..._codec import jsontext
from ..png import PNGError, load_png
from ._base import FormatError, LabelMap, Plan, Task, Writer, check_options, jsonable, read_json

__all__ = ["COCO_PANOPTIC", "CITYSCAPES", "CITYSCAPES_LABELS"]


# ---------------------------------------------------------------------------
# COCO panoptic


def _panoptic_json(data: Any) -> bool:
    return (isinstance(data, dict) and isinstance(data.get("annotations"), list)
            and bool(data["annotations"]) and isinstance(data["annotations"][0], dict)
            and "segments_info" in data["annotations"][0])


class _CocoPanoptic:
    name = "coco-panoptic"
    suffixes = (".json",)
    options = ("png_dir",)

    def sniff(self, path: str, head: bytes) -> bool:
        # a real panoptic JSON lists its images first (thousands: segments_info comes
        # later than any head), so the PNG folder of the same name beside it counts too
        return path.lower().endswith(".json") and (b'"segments_info"' in head or (
            head.lstrip().startswith(b"{") and os.path.isdir(os.path.splitext(path)[0])))

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        check_options(options, self.options, self.name)
        if os.path.isdir(path):
            found = [os.path.join(path, f) for f in sorted(os.listdir(path))
                     if f.lower().endswith(".json")
                     and os.path.isdir(os.path.join(path, f[:-5]))]
            if len(found) != 1:
                raise FormatError(path, f"a COCO panoptic folder holds one JSON file beside a "
                                        f"PNG folder of the same name; found {len(found)}")
            path = found[0]
        data = read_json(path)
        if not _panoptic_json(data):
            raise FormatError(path, "not a COCO panoptic JSON file (no 'annotations' with "
                                    "'segments_info')")
        json_name = os.path.basename(path)
        png_dir = options.get("png_dir") or os.path.splitext(path)[0]
        if not os.path.isdir(png_dir):
            raise FormatError(path, f"its PNG folder {png_dir} does not exist (give png_dir=)")
        folder = os.path.basename(os.path.normpath(png_dir))
        images = {img.get("id"): img for img in data.get("images", []) if isinstance(img, dict)}
        dataset = {k: v for k, v in data.items() if k not in ("images", "annotations")}
        dataset.update({"format": self.name, "json": json_name, "png_dir": folder})
        tasks = []
        for i, ann in enumerate(data["annotations"]):
            where = f"{path}: annotations[{i}]"
            if not isinstance(ann, dict) or not isinstance(ann.get("file_name"), str) \
                    or not isinstance(ann.get("segments_info"), list):
                tasks.append(Task(self.name, path, f"{folder}/#{i}",
                                  {"error": f"{where} needs 'file_name' and 'segments_info'"}))
                continue
            meta = dict(ann)
            if ann.get("image_id") in images:
                meta["image"] = images[ann["image_id"]]
            png = os.path.join(png_dir, ann["file_name"])
            # the meta as JSON text: a few times smaller than the dicts while thousands of
            # tasks wait (and travel to the workers)
            tasks.append(Task(self.name, png, f"{folder}/{ann['file_name']}",
                              json.dumps(meta, separators=(",", ":")), _size(png)))
        return Plan(dataset, tasks)

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        meta = jsontext.loads(task.data) if isinstance(task.data, str) else task.data
        if "error" in meta:
            return [FormatError(task.name, meta["error"])]
        try:
            ids = _load(task.path, rgb_ids=True)
            _check_segments(ids, meta, task.path)
        except FormatError as exc:
            return [exc]
        return [LabelMap(task.name, ids, meta)]

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, (), self.name)
        return _PanopticWriter()


def _load(path: str, rgb_ids: bool) -> np.ndarray:
    try:
        return load_png(path, rgb_ids=rgb_ids)
    except (PNGError, OSError) as exc:
        raise FormatError(path, getattr(exc, "strerror", None) or str(exc)) from None


def _size(path: str) -> int:
    try:
        return os.stat(path).st_size
    except OSError:
        return 1


def _check_segments(ids: np.ndarray, meta: dict[str, Any], where: str) -> None:
    from ..._codec.runs import encode_runs
    from ..._ops.summary import area

    present = area(encode_runs(ids))
    present.pop(0, None)  # void
    listed = {}
    for k, seg in enumerate(meta["segments_info"]):
        if not isinstance(seg, dict) or not isinstance(seg.get("id"), int):
            raise FormatError(where, f"segments_info[{k}] of image {meta.get('image_id')!r} has "
                                     f"no integer 'id'")
        listed[seg["id"]] = seg
    missing = [i for i in present if i not in listed]
    if missing:
        i = missing[0]
        rgb = (i & 255, i >> 8 & 255, i >> 16)
        more = f" (and {len(missing) - 1} more)" if len(missing) > 1 else ""
        raise FormatError(where, f"segment id {i} (RGB {rgb[0]}, {rgb[1]}, {rgb[2]}) covers "
                                 f"{present[i]} pixels but is not in the segments_info of image "
                                 f"{meta.get('image_id')!r}{more}")
    absent = [i for i in listed if i not in present]
    if absent:
        raise FormatError(where, f"segments_info of image {meta.get('image_id')!r} lists id "
                                 f"{absent[0]}, which no pixel of the PNG has"
                                 + (f" (and {len(absent) - 1} more)" if len(absent) > 1 else ""))


class _PanopticWriter(Writer):
    """PNGs (ids as colours, through Pillow) at their names, then one JSON per dataset."""

    suffix = ".png"
    per_map = True

    def __init__(self) -> None:
        self.outdir = ""

    def write(self, item: LabelMap, target: str) -> dict[str, Any]:
        from ..png import id_to_rgb
        from ._files import atomic_stream

        arr = np.asarray(item.array)
        if arr.ndim != 2:
            raise FormatError(item.name, f"a {arr.ndim}-D map is not a panoptic image (2-D)")
        rgb = id_to_rgb(arr)
        image = _pillow()
        size = atomic_stream(target, lambda f: image.fromarray(rgb).save(f, format="PNG"))
        meta = dict(item.meta)
        file_name = os.path.basename(target)
        if "segments_info" not in meta:  # a map from elsewhere: its segments, uncategorised
            from ..._codec.runs import encode_runs
            from ..._ops.summary import area

            meta = {"image_id": os.path.splitext(file_name)[0],
                    "segments_info": [{"id": int(k), "area": int(v)}
                                      for k, v in area(encode_runs(arr)).items() if k != 0]}
        meta["file_name"] = file_name
        return {"target": target, "meta": meta, "bytes": size,
                "dataset": item.meta.get("dataset", "")}

    def finish(self, parts: list[Any], datasets: dict[str, dict[str, Any]], outdir: str
               ) -> list[str]:
        from ._files import atomic_stream
        import json

        groups: dict[str, list[dict[str, Any]]] = {}
        for part in parts:
            groups.setdefault(part["dataset"], []).append(part)
        written = []
        for key, items in groups.items():
            ds = dict(datasets.get(key, {}))
            json_name = ds.pop("json", "panoptic.json")
            ds.pop("png_dir", None)
            ds.pop("format", None)
            images, annotations = [], []
            for part in items:
                meta = dict(part["meta"])
                image = meta.pop("image", None)
                meta.pop("dataset", None)
                if image is not None:
                    images.append(image)
                annotations.append(meta)
            doc = {**ds, "images": images, "annotations": annotations}
            doc.setdefault("categories", [])
            target = os.path.join(outdir, json_name)
            atomic_stream(target, lambda f: f.write(json.dumps(jsonable(doc)).encode()))
            written.append(target)
        return written


def _pillow() -> Any:
    from ._base import need

    return need("PIL.Image", "image", "writing PNGs")


# ---------------------------------------------------------------------------
# Cityscapes

#: Cityscapes' labels: (name, id, trainId, category, catId, hasInstances, ignoreInEval, color).
CITYSCAPES_LABELS = (
    ("unlabeled", 0, 255, "void", 0, False, True, (0, 0, 0)),
    ("ego vehicle", 1, 255, "void", 0, False, True, (0, 0, 0)),
    ("rectification border", 2, 255, "void", 0, False, True, (0, 0, 0)),
    ("out of roi", 3, 255, "void", 0, False, True, (0, 0, 0)),
    ("static", 4, 255, "void", 0, False, True, (0, 0, 0)),
    ("dynamic", 5, 255, "void", 0, False, True, (111, 74, 0)),
    ("ground", 6, 255, "void", 0, False, True, (81, 0, 81)),
    ("road", 7, 0, "flat", 1, False, False, (128, 64, 128)),
    ("sidewalk", 8, 1, "flat", 1, False, False, (244, 35, 232)),
    ("parking", 9, 255, "flat", 1, False, True, (250, 170, 160)),
    ("rail track", 10, 255, "flat", 1, False, True, (230, 150, 140)),
    ("building", 11, 2, "construction", 2, False, False, (70, 70, 70)),
    ("wall", 12, 3, "construction", 2, False, False, (102, 102, 156)),
    ("fence", 13, 4, "construction", 2, False, False, (190, 153, 153)),
    ("guard rail", 14, 255, "construction", 2, False, True, (180, 165, 180)),
    ("bridge", 15, 255, "construction", 2, False, True, (150, 100, 100)),
    ("tunnel", 16, 255, "construction", 2, False, True, (150, 120, 90)),
    ("pole", 17, 5, "object", 3, False, False, (153, 153, 153)),
    ("polegroup", 18, 255, "object", 3, False, True, (153, 153, 153)),
    ("traffic light", 19, 6, "object", 3, False, False, (250, 170, 30)),
    ("traffic sign", 20, 7, "object", 3, False, False, (220, 220, 0)),
    ("vegetation", 21, 8, "nature", 4, False, False, (107, 142, 35)),
    ("terrain", 22, 9, "nature", 4, False, False, (152, 251, 152)),
    ("sky", 23, 10, "sky", 5, False, False, (70, 130, 180)),
    ("person", 24, 11, "human", 6, True, False, (220, 20, 60)),
    ("rider", 25, 12, "human", 6, True, False, (255, 0, 0)),
    ("car", 26, 13, "vehicle", 7, True, False, (0, 0, 142)),
    ("truck", 27, 14, "vehicle", 7, True, False, (0, 0, 70)),
    ("bus", 28, 15, "vehicle", 7, True, False, (0, 60, 100)),
    ("caravan", 29, 255, "vehicle", 7, True, True, (0, 0, 90)),
    ("trailer", 30, 255, "vehicle", 7, True, True, (0, 0, 110)),
    ("train", 31, 16, "vehicle", 7, True, False, (0, 80, 100)),
    ("motorcycle", 32, 17, "vehicle", 7, True, False, (0, 0, 230)),
    ("bicycle", 33, 18, "vehicle", 7, True, False, (119, 11, 32)),
    ("license plate", -1, -1, "vehicle", 7, False, True, (0, 0, 142)),
)
_FIELDS = ("name", "id", "trainId", "category", "catId", "hasInstances", "ignoreInEval", "color")
_KINDS = {"labelIds": "_labelIds.png", "instanceIds": "_instanceIds.png",
          "trainIds": "_labelTrainIds.png"}
_NAME = re.compile(r"^(?P<city>[^_/]+)_(?P<seq>\d+)_(?P<frame>\d+)_(?P<type>gt\w+?)_"
                   r"(?P<kind>labelIds|instanceIds|labelTrainIds)\.png$")


def _train_lut() -> np.ndarray:
    lut = np.full(256, 255, dtype=np.uint8)
    for row in CITYSCAPES_LABELS:
        if row[1] >= 0:
            lut[row[1]] = row[2] if row[2] >= 0 else 255
    return lut


class _Cityscapes:
    name = "cityscapes"
    suffixes = tuple(_KINDS.values())
    options = ("ids",)

    def sniff(self, path: str, head: bytes) -> bool:
        return _NAME.match(os.path.basename(path)) is not None

    def kind(self, options: dict[str, Any]) -> str:
        check_options(options, self.options, self.name)
        kind = options.get("ids", "labelIds")
        if kind not in _KINDS:
            raise FormatError("cityscapes", f"ids must be one of {', '.join(_KINDS)}, got "
                                            f"{kind!r}")
        return kind

    def dataset(self, kind: str) -> dict[str, Any]:
        return {"format": self.name, "ids": kind,
                "labels": [dict(zip(_FIELDS, jsonable(row))) for row in CITYSCAPES_LABELS]}

    def select(self, files: list[str], options: dict[str, Any]) -> list[str]:
        """The files of one kind among a folder's; trainIds fall back to labelIds."""
        kind = self.kind(options)
        want = [f for f in files if f.endswith(_KINDS[kind])]
        if kind == "trainIds":
            have = {f[: -len(_KINDS["trainIds"])] for f in want}
            want += [f for f in files if f.endswith(_KINDS["labelIds"])
                     and f[: -len(_KINDS["labelIds"])] not in have]
        return sorted(want)

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        kind = self.kind(options)
        return Plan(self.dataset(kind), [Task(self.name, path, name or os.path.basename(path),
                                              kind, _size(path))])

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        kind = task.data or self.kind(options)
        base = os.path.basename(task.path)
        m = _NAME.match(base)
        try:
            arr = _load(task.path, rgb_ids=False)
            meta: dict[str, Any] = {"format": self.name, "ids": kind}
            if m:
                meta.update(city=m["city"], sequence=m["seq"], frame=m["frame"],
                            annotation=m["type"])
                if kind == "trainIds" and m["kind"] == "labelIds":
                    if arr.dtype != np.uint8:
                        raise FormatError(task.path, f"label ids of dtype {arr.dtype}; "
                                                     f"Cityscapes labelIds PNGs are 8-bit")
                    arr = _train_lut()[arr]
                    meta["converted_from"] = "labelIds"
            return [LabelMap(task.name, arr, meta, self.dataset(kind))]
        except FormatError as exc:
            return [exc]


COCO_PANOPTIC = _CocoPanoptic()
CITYSCAPES = _Cityscapes()
