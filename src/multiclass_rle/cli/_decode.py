"""``mcrle decode``: a file of RLE records -> one PNG or npy file per map."""

from __future__ import annotations

import argparse
import os
import time
from typing import Any

import numpy as np

from ._console import Console, FailFast, InputError, UsageError, human_bytes, plural, reason, \
    seconds
from ._files import write_atomic
from ._pool import Pool, resolve_jobs, resolve_threads
from ._readers import have_pillow
from ._records import FORMATS, format_of_file
from ._writers import png_fits, save_png


#: --format values written through multiclass_rle._integrations.formats
FORMAT_WRITERS = ("nifti", "mgz", "coco-panoptic", "kaggle-csv", "label-studio", "cvat", "sa1b")

#: formats of one file for all maps: its name ending, and its name when -o is a folder
ONE_FILE = {"kaggle-csv": (".csv", "masks.csv"), "label-studio": (".json", "label-studio.json"),
            "cvat": (".xml", "annotations.xml")}

#: formats that write files at the end (one per dataset) in Writer.finish
FINISHED = ("coco-panoptic", *ONE_FILE)


def target_path(outdir: str, name: str, ext: str) -> str:
    """Where a record named ``name`` is written; refuses names that leave ``outdir``."""
    from .._integrations.formats import FormatError
    from .._integrations.formats._files import safe_target

    try:
        return safe_target(outdir, name, ext)
    except FormatError as exc:
        raise InputError(f"unsafe or empty path {name!r} (must stay inside the output "
                         f"folder)") from exc


def _decode_task(task: tuple[Any, ...], out_format: str, fmt_name: str) -> tuple[Any, ...]:
    where, name, rle, target, meta, dataset = task
    try:
        arr = FORMATS[fmt_name].to_array(rle)
        if out_format in FORMAT_WRITERS:
            from .._integrations.formats import LabelMap, writer_for

            item = LabelMap(name, arr, meta or {}, dataset or {})
            part = writer_for(out_format).write(item, target)
            return ("part", part, part.get("bytes", 0) if isinstance(part, dict) else part)
        if out_format == "png":
            why = png_fits(arr)
            if why is not None:
                return ("error", f"{where} ({name})", f"{why}; use --format npy")
            size = write_atomic(target, lambda f: save_png(arr, f))
        else:
            size = write_atomic(target, lambda f: np.save(f, arr, allow_pickle=False))
        return ("ok", size)
    except Exception as exc:
        return ("error", f"{where} ({name})", reason(exc))


def _final_files(args: argparse.Namespace, datasets: dict[str, Any],
                 file_target: str | None) -> list[str]:
    """The one-per-dataset files a format writes at the end (checked before writing)."""
    if args.format in ONE_FILE:
        if file_target is not None:
            return [file_target]
        ending, default = ONE_FILE[args.format]
        name = next((d.get("csv") or d.get("file") for d in datasets.values()
                     if (d.get("csv") or d.get("file") or "").lower().endswith(ending)), default)
        return [os.path.join(args.output, name)]
    if args.format == "coco-panoptic":
        names = [d["json"] for d in datasets.values() if d.get("json")] or ["panoptic.json"]
        return [os.path.join(args.output, n) for n in names]
    return []


def cmd_decode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    jobs = resolve_jobs(args.jobs)
    threads = resolve_threads(args.threads, jobs)
    fmt = format_of_file(args.input)
    ext = {"nifti": ".nii.gz", "mgz": ".mgz", "coco-panoptic": ".png", "sa1b": ".json"}.get(
        args.format, "." + args.format)
    one_file = args.format in ONE_FILE
    if args.format == "png" and not have_pillow():
        raise UsageError('--format png needs Pillow: pip install "multiclass-rle[image]" '
                         '(or use --format npy)')
    file_target = None
    if one_file and args.output.lower().endswith(ONE_FILE[args.format][0]):
        file_target = args.output
    elif os.path.exists(args.output) and not os.path.isdir(args.output):
        raise UsageError(f"{args.output} exists and is not a folder")
    failures = 0

    def report(where: str, reason: str) -> None:
        nonlocal failures
        failures += 1
        con.error(where, reason)
        if args.fail_fast:
            raise FailFast

    try:
        tasks: list[tuple[Any, ...]] = []
        seen: dict[str, str] = {}
        datasets: dict[str, Any] = {}
        for rec in fmt.records(args.input):
            if rec.datasets:
                datasets.update(rec.datasets)
            if rec.error is not None:
                report(rec.where, rec.error)
                continue
            assert rec.name is not None
            key = (rec.meta or {}).get("dataset", "")
            if one_file:
                tasks.append((rec.where, rec.name, rec.rle, None, rec.meta,
                              datasets.get(key, {})))
                continue
            try:
                target = target_path(args.output, rec.name, ext)
            except InputError as exc:
                report(rec.where, str(exc))
                continue
            key = os.path.normcase(target)
            if key in seen:
                report(rec.where, f"{rec.name!r} would overwrite {target}, written for "
                                  f"{seen[key]}")
                continue
            seen[key] = rec.name
            tasks.append((rec.where, rec.name, rec.rle, target, rec.meta,
                          datasets.get((rec.meta or {}).get("dataset", ""), {})))
        finals = _final_files(args, datasets, file_target)
        existing = [t[3] for t in tasks if t[3] and os.path.lexists(t[3])] + [
            f for f in finals if os.path.lexists(f)]
        if existing and not args.force:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise UsageError(f"{existing[0]}{more} exist; use --force to overwrite")
        for folder in sorted({os.path.dirname(t[3]) for t in tasks if t[3]}
                             | {os.path.dirname(os.path.abspath(f)) for f in finals}):
            os.makedirs(folder, exist_ok=True)
        n = written = 0
        parts: list[Any] = []
        con.start(len(tasks), "maps")
        with Pool(jobs, threads) as pool:
            for res in pool.run(_decode_task, tasks, (args.format, fmt.name)):
                con.advance()
                if res[0] == "error":
                    report(res[1], res[2])
                else:
                    n += 1
                    written += res[-1] if isinstance(res[-1], int) else 0
                    if res[0] == "part":
                        parts.append(res[1])
        con.finish()
        if args.format in FINISHED and parts:
            from .._integrations.formats import writer_for

            target = args.output if args.format == "coco-panoptic" else finals[0]
            for path in writer_for(args.format).finish(parts, datasets, target):
                written += os.path.getsize(path)
    except FailFast:
        con.finish()
        con.error("decode", "stopped at the first failure (--fail-fast)")
        return 1
    dt = time.perf_counter() - t0
    con.note(f"decoded {plural(n, 'map')}{f' ({failures} failed)' if failures else ''} into "
             f"{args.output} as {args.format}: {human_bytes(written)} written, {seconds(dt)}")
    return 1 if failures else 0
