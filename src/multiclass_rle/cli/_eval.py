"""``mcrle eval GT PRED``: semantic, panoptic or volume metrics of a dataset of predictions.

GT and PRED are each a folder of label files (PNG, TIFF, npy, npz), a file of
RLE records (JSON Lines, packed JSON Lines, a bytes pack), a Parquet file or
folder, or a COCO panoptic JSON file beside its PNG folder. Pairs are matched
by name (the path inside the folder, the record's path; with the file
extension if both have one, else without) or, for COCO panoptic, by image id.

Each pair is read and evaluated where it is needed (a worker with ``-j``):
the main process holds names and offsets, never the maps, and keeps at most
a few chunks of pairs per worker in flight (``Pool.run``), so memory stays
bounded whatever the dataset's size. Workers send back small totals (an
evaluator per chunk of pairs), merged here in order.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from .._codec import jsontext
from .._codec.errors import RLEError
from .._integrations.formats import FormatError, detect, plan_source
from .._integrations.png import load_png_id_runs
from .._ops.evaluate import PanopticEvaluator, SemanticEvaluator, VolumeEvaluator
from ._console import Console, InputError, UsageError, plural, reason, seconds
from ._inputs import collect_inputs
from ._pool import Pool, resolve_jobs
from ._readers import load_names, map_name, read_maps
from ._records import FORMATS, format_of_file

TASKS = ("semantic", "panoptic", "volume")

#: Pairs per chunk sent to a worker: large enough that the worker's totals
#: (sent back once per chunk) cost little, small enough for a smooth bar.
CHUNK = 16


# ---------------------------------------------------------------------------
# sources: what GT and PRED name, and how a worker loads one map


@dataclass(frozen=True)
class Item:
    """One map of a source: its matching name and how to load it (picklable)."""

    name: str
    ref: Any


@dataclass
class Source:
    """A folder of files, a file of records, a Parquet table or a COCO panoptic set."""

    kind: str                         # "files", "records", "parquet", "coco-panoptic"
    path: str
    fmt: str | None = None            # records: the record format
    categories: list[dict[str, Any]] | None = None    # panoptic sets

    @property
    def panoptic(self) -> bool:
        """Every map comes with its segments_info (COCO panoptic, or records keeping it)."""
        return bool(self.items) and all(
            isinstance(item.ref, tuple) and len(item.ref) in (2, 3) and
            isinstance(item.ref[-1], list) for item in self.items)
    items: list[Item] = field(default_factory=list)

    def load(self, ref: Any) -> tuple[Any, Any]:
        """(the map in a form the evaluators read, its segments_info or None)."""
        if self.kind == "files":
            path, file_kind, member = ref
            for got_member, arr in read_maps(path, file_kind, rgb_ids=False):
                if got_member == member:
                    if isinstance(arr, InputError):
                        raise arr
                    return arr, None
            raise InputError(f"{path}: member {member!r} is gone")
        if self.kind == "records":
            return _read_record(self.path, self.fmt, ref[:2]), ref[2]
        if self.kind == "parquet":
            return ref, None
        png, segments = ref
        return _read_panoptic_png(png), segments


def _read_record(path: str, fmt: str | None, ref: tuple[int, int]) -> Any:
    offset, length = ref
    with open(path, "rb") as f:
        f.seek(offset)
        data = f.read(length)
    if fmt == "bytes":
        return data
    try:
        rec = jsontext.loads(data)
        return rec["rle"]
    except (ValueError, KeyError, TypeError) as exc:
        raise InputError(f"{path} at byte {offset}: not a JSON record ({exc})") from None


def _read_panoptic_png(path: str) -> Any:
    # runs straight from the PNG rows: the evaluation needs no array
    try:
        return load_png_id_runs(path)
    except (RLEError, OSError) as exc:
        raise InputError(f"{path}: {getattr(exc, 'strerror', None) or exc}") from None


def _read_json(path: str, what: str) -> Any:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, ValueError) as exc:
        raise UsageError(f"{what}: cannot read as JSON ({exc})") from None


def _coco_source(path: str, folder: str | None, what: str) -> Source:
    """A COCO panoptic set, listed by the format's planner (the JSON, its PNG folder).

    The PNGs are read here, not by the format's reader: a ground-truth id that
    segments_info does not list is no error for the evaluation (panopticapi
    neither counts it nor takes it for void), and the evaluator checks the
    predictions, naming the image and the id.
    """
    try:
        plan = plan_source(path, "coco-panoptic", {"png_dir": folder} if folder else {})
    except FormatError as exc:
        raise UsageError(f"{what} {exc}") from None
    src = Source("coco-panoptic", path, categories=plan.dataset.get("categories"))
    seen: set[Any] = set()
    for task in plan.tasks:
        meta = jsontext.loads(task.data) if isinstance(task.data, str) else task.data
        if "error" in meta:
            raise UsageError(f"{what} {meta['error']}")
        if "image_id" not in meta or meta["image_id"] in seen:
            raise UsageError(f"{what} {path}: image id {meta.get('image_id')!r} is missing or "
                             f"annotated twice")
        seen.add(meta["image_id"])
        src.items.append(Item(str(meta["image_id"]), (task.path, meta["segments_info"])))
    return src


def open_source(path: str, folder: str | None, what: str, report: Any) -> Source:
    """The source a GT or PRED argument names (UsageError when it is none)."""
    if os.path.isfile(path) and path.lower().endswith(".json") and \
            detect(path) == "coco-panoptic":
        return _coco_source(path, folder, what)
    if folder is not None:
        raise UsageError(f"--{what.lower()}-folder is for a COCO panoptic JSON file; "
                         f"{path} is not one")
    if path.lower().endswith(".parquet") or (os.path.isdir(path) and any(
            f.lower().endswith(".parquet") for f in os.listdir(path))):
        return _parquet_source(path)
    if os.path.isdir(path) or path.lower().endswith((".png", ".tif", ".tiff", ".npy", ".npz")):
        return _file_source(path, what, report)
    if not os.path.exists(path):
        raise UsageError(f"{what} {path}: no such file or folder")
    return _record_source(path)


def _file_source(path: str, what: str, report: Any) -> Source:
    files, missing = collect_inputs([path], root=None, report=report)
    if missing or not files:
        raise UsageError(f"{what} {path}: no label-map files")
    src = Source("files", path)
    for f in files:
        if f.kind == "npz":
            with np.load(f.path, allow_pickle=False) as npz:
                members = [m for m in npz.files]
            for m in members:
                src.items.append(Item(map_name(f.rel, m), (f.path, f.kind, m)))
        else:
            src.items.append(Item(f.rel, (f.path, f.kind, None)))
    return src


def _record_source(path: str) -> Source:
    """A file of records. Records with panoptic metadata (``meta`` holding ``image_id``
    and ``segments_info``, as ``mcrle encode --from coco-panoptic`` keeps them) are
    named by image id and carry their segments; the categories come from the
    file's dataset metadata."""
    fmt = format_of_file(path)
    src = Source("records", path, fmt=fmt.name)

    def add(name: str, offset: int, length: int, meta: Any, datasets: Any) -> None:
        if isinstance(datasets, dict) and src.categories is None:
            for ds in datasets.values():
                if isinstance(ds, dict) and isinstance(ds.get("categories"), list):
                    src.categories = ds["categories"]
                    break
        if isinstance(meta, dict) and isinstance(meta.get("segments_info"), list) \
                and "image_id" in meta:
            src.items.append(Item(str(meta["image_id"]), (offset, length, meta["segments_info"])))
        else:
            src.items.append(Item(name, (offset, length, None)))

    if fmt.name == "bytes":
        entries, data_end = fmt.index(path)   # type: ignore[attr-defined]
        for i, e in enumerate(entries):
            got = fmt.entry(e, data_end)   # type: ignore[attr-defined]
            if isinstance(got, str):   # an unreadable pack: an input error (exit 1)
                raise InputError(f"{path}#{i}: {got}")
            add(*got, e.get("meta"), e.get("datasets"))
        return src
    offset = 0
    with open(path, "rb") as f:
        for lineno, line in enumerate(f, 1):
            if line.strip():
                meta = datasets = None
                if b'"meta"' in line or b'"datasets"' in line:
                    try:
                        rec = jsontext.loads(line)
                        meta, datasets = rec.get("meta"), rec.get("datasets")
                    except (ValueError, AttributeError):
                        pass
                name = _record_name(line)
                if name is None:
                    raise UsageError(f"{path}:{lineno}: not a record "
                                     '({"path": NAME, "rle": {...}})')
                add(name, offset, len(line), meta, datasets)
            offset += len(line)
    return src


def _record_name(line: bytes) -> str | None:
    # the name comes first in the records mcrle writes: read it without parsing the map
    head = line[:4096]
    if head.startswith(b'{"path":'):
        try:
            name, _ = json.JSONDecoder().raw_decode(head[8:].decode("utf-8", "replace"))
            if isinstance(name, str):
                return name
        except (ValueError, RecursionError):   # a name nested too deeply: not a record
            pass
    try:
        rec = jsontext.loads(line)
    except ValueError:
        return None
    return rec.get("path") if isinstance(rec, dict) and isinstance(rec.get("path"), str) \
        else None


def _parquet_source(path: str) -> Source:
    try:
        from .._integrations.arrow import read_parquet
    except ImportError as exc:
        raise UsageError(str(exc)) from None
    table = read_parquet(path, columns=["name", "rle"])   # the maps' bytes: small
    src = Source("parquet", path)
    names = table.column("name").to_pylist()
    for name, buf in zip(names, table.column("rle")):
        src.items.append(Item(str(name), buf.as_py()))
    return src


# ---------------------------------------------------------------------------
# pairs


def _stem(name: str) -> str:
    file_part, sep, member = name.partition("::")
    base = file_part.rsplit("/", 1)
    last = base[-1]
    if "." in last:
        last = last[: last.rindex(".")]
    file_part = "/".join(base[:-1] + [last])
    return f"{file_part}{sep}{member}"


def match(gt: Sequence[Item], pred: Sequence[Item]
          ) -> tuple[list[tuple[str, Any, Any]], list[str], list[str]]:
    """(name, gt ref, pred ref) pairs, GT names without a prediction, unused predictions.

    Names match exactly, or else without their file extension (``a/b.png``
    and ``a/b.npy``) when that is unambiguous on both sides.
    """
    by_name = {p.name: p for p in pred}
    by_stem: dict[str, list[Item]] = {}
    for p in pred:
        by_stem.setdefault(_stem(p.name), []).append(p)
    gt_stems: dict[str, int] = {}
    for g in gt:
        gt_stems[_stem(g.name)] = gt_stems.get(_stem(g.name), 0) + 1
    pairs, missing, used = [], [], set()
    for g in gt:
        p = by_name.get(g.name)
        if p is None:
            cands = by_stem.get(_stem(g.name), [])
            if len(cands) == 1 and gt_stems[_stem(g.name)] == 1:
                p = cands[0]
        if p is None or p.name in used:
            missing.append(g.name)
            continue
        used.add(p.name)
        pairs.append((g.name, g.ref, p.ref))
    extra = [p.name for p in pred if p.name not in used]
    return pairs, missing, extra


# ---------------------------------------------------------------------------
# evaluators and the work of one chunk


@dataclass(frozen=True)
class Config:
    task: str
    num_classes: int | None = None
    labels: tuple[int, ...] | None = None
    ignore: tuple[int, ...] = ()
    names: dict[int, str] | None = None
    categories: tuple[Any, ...] | None = None
    label_divisor: int | None = None
    void_label: int | None = None
    background: int | None = 0
    empty_score: float = float("nan")

    def evaluator(self) -> Any:
        if self.task == "semantic":
            return SemanticEvaluator(self.num_classes,
                                     labels=None if self.labels is None else list(self.labels),
                                     ignore_index=list(self.ignore) or None,
                                     class_names=self.names)
        if self.task == "volume":
            return VolumeEvaluator(None if self.labels is None else list(self.labels),
                                   background=self.background,
                                   ignore_index=self.ignore[0] if self.ignore else None,
                                   class_names=self.names, empty_score=self.empty_score)
        return PanopticEvaluator(list(self.categories or ()), label_divisor=self.label_divisor,
                                 void_label=self.void_label)


def _eval_pair(ev: Any, config: Config, gt: Source, pred: Source, name: str, gref: Any,
               pref: Any) -> None:
    g, gsegs = gt.load(gref)
    p, psegs = pred.load(pref)
    if config.task == "semantic":
        ev.update(g, p)
    elif config.task == "volume":
        ev.update(g, p, name=name)
    elif config.label_divisor is not None:
        ev.update(g, p, image_id=name)
    else:
        ev.update(g, p, gsegs, psegs, image_id=name)


def _eval_chunk(chunk: list[tuple[str, Any, Any]], config: Config, gt: Source, pred: Source,
                ev: Any = None) -> tuple[Any, int, list[tuple[str, str]]]:
    """Runs in a worker (or in-process with ``ev``): the chunk's totals, pairs done, errors."""
    if ev is None:
        ev = config.evaluator()
    done = 0
    errors: list[tuple[str, str]] = []
    for name, gref, pref in chunk:
        try:
            _eval_pair(ev, config, gt, pred, name, gref, pref)
            done += 1
        except Exception as exc:   # one bad pair must not stop the others
            errors.append((name, reason(exc)))
    return ev, done, errors


def _chunks(pairs: list[tuple[str, Any, Any]], size: int) -> Iterator[list[tuple[str, Any, Any]]]:
    for i in range(0, len(pairs), size):
        yield pairs[i:i + size]


# ---------------------------------------------------------------------------
# the command


def _int_list(text: str | None, what: str) -> tuple[int, ...] | None:
    if text is None:
        return None
    try:
        return tuple(int(x) for x in text.replace(",", " ").split())
    except ValueError:
        raise UsageError(f"{what} must be integers separated by commas, got {text!r}") from None


def _categories(path: str | None) -> list[dict[str, Any]] | None:
    if path is None:
        return None
    data = _read_json(path, f"--categories {path}")
    if isinstance(data, dict) and isinstance(data.get("categories"), list):
        data = data["categories"]
    if not isinstance(data, list) or not all(isinstance(c, dict) and "id" in c for c in data):
        raise UsageError(f"--categories {path}: not a list of COCO categories "
                         f"({{'id', 'name', 'isthing'}} each) or a JSON file holding one")
    return data


def _detect_task(args: argparse.Namespace, gt: Source, pred: Source,
                 pairs: list[tuple[str, Any, Any]]) -> str:
    if args.task != "auto":
        return str(args.task)
    if gt.panoptic or pred.panoptic or args.label_divisor:
        return "panoptic"
    if pairs:
        try:
            first, _ = gt.load(pairs[0][1])
            from .._codec.api import as_runs

            shape = first.shape if isinstance(first, np.ndarray) else as_runs(first).shape
            if len(shape) >= 3:
                return "volume"
        except Exception:   # the pair's own error is reported when it is evaluated
            pass
    return "semantic"


def cmd_eval(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    jobs = resolve_jobs(args.jobs)

    def report(where: str, why: str) -> None:
        con.error(where, why)

    gt = open_source(args.gt, args.gt_folder, "GT", report)
    pred = open_source(args.pred, args.pred_folder, "PRED", report)
    if gt.panoptic != pred.panoptic and \
            args.label_divisor is None:
        raise UsageError("a panoptic GT (COCO panoptic JSON, or records that keep their "
                         "segments_info) needs panoptic predictions, and the reverse; or "
                         "give --label-divisor for label maps")
    pairs, missing, extra = match(gt.items, pred.items)
    task = _detect_task(args, gt, pred, pairs)
    categories = _categories(args.categories) or gt.categories or pred.categories
    if task == "panoptic" and not categories:
        raise UsageError("panoptic evaluation needs categories: the GT JSON's, or "
                         "--categories FILE")
    if task == "panoptic" and not gt.panoptic and args.label_divisor is None:
        raise UsageError("panoptic evaluation of label maps needs --label-divisor (id = "
                         "category x divisor + instance), or COCO panoptic JSON inputs")
    names = load_names(args.names) if args.names else None
    config = Config(task, num_classes=args.num_classes, labels=_int_list(args.labels, "--labels"),
                    ignore=_int_list(args.ignore_index, "--ignore-index") or (),
                    names=names or None,
                    categories=tuple(categories) if categories else None,
                    label_divisor=args.label_divisor, void_label=args.void_label,
                    background=None if args.background == "none" else int(args.background),
                    empty_score=float(args.empty_score))
    try:
        total = config.evaluator()
    except RLEError as exc:
        raise UsageError(str(exc)) from None

    for name in missing:
        con.error(name, "no prediction for this ground truth")
    for name in extra:
        con.error(name, "prediction without a ground truth")
    failures: list[tuple[str, str]] = []
    done = 0
    con.start(len(pairs), "pairs")
    with Pool(jobs) as pool:
        if jobs <= 1:
            for chunk in _chunks(pairs, CHUNK):
                _, n, errs = _eval_chunk(chunk, config, gt, pred, total)
                done += n
                for name, why in errs:
                    failures.append((name, why))
                    con.error(name, why)
                con.advance(len(chunk))
        else:
            # the workers need only how to load: not the sources' lists of names
            slim = (config, replace(gt, items=[], categories=None),
                    replace(pred, items=[], categories=None))
            size = max(1, min(CHUNK, len(pairs) // (4 * jobs) or 1))
            # Pool.run keeps a few chunks per worker in flight: memory stays bounded
            for ev, n, errs in pool.run(_eval_chunk, list(_chunks(pairs, size)), slim):
                total.merge(ev)
                done += n
                for name, why in errs:
                    failures.append((name, why))
                    con.error(name, why)
                con.advance(n + len(errs))
    con.finish()
    result = total.compute()
    if args.json:
        out = {"task": task, "pairs": done, "missing": missing, "extra": extra,
               "failed": [{"name": n, "reason": r} for n, r in failures],
               "result": result.to_dict()}
        json.dump(out, sys.stdout, indent=1, allow_nan=False)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(result.table() + "\n")
    sys.stdout.flush()
    con.note(f"{task}: evaluated {plural(done, 'pair')}"
             + (f", {len(failures)} failed" if failures else "")
             + (f", {len(missing)} missing" if missing else "")
             + (f", {len(extra)} extra" if extra else "")
             + f" in {seconds(time.perf_counter() - t0)}")
    bad = bool(failures) or ((bool(missing) or bool(extra)) and not args.allow_missing)
    return 1 if bad or done == 0 else 0
