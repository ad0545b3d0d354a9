"""``mcrle encode``: label-map files -> one file of RLE records."""

from __future__ import annotations

import argparse
import os
import sys
import time
from typing import Any

from ._console import Console, FailFast, InputError, human_bytes, plural, reason, seconds
from ._files import AtomicFile
from ._inputs import InputFile, collect_inputs
from ._pool import Pool, resolve_jobs, resolve_threads
from ._readers import FORMAT_KINDS, check_labels, have_pillow, map_name, pillow, read_maps, \
    read_format_file
from ._records import FORMATS, format_for_output

#: --from choices: the label-file kinds of a folder walk, and every format of
#: multiclass_rle._integrations.formats
CONTAINER_FORMATS = ("coco-panoptic", "sa1b", "label-studio", "cvat", "kaggle-csv")


def _format_maps(items: list[Any], fmt: Any, verify: bool, dataset_key: str | None,
                 out: list[tuple[Any, ...]]) -> None:
    for item in items:
        if isinstance(item, Exception):
            where, why = (item.where, item.reason) if hasattr(item, "reason") else ("", str(item))
            out.append(("error", where, why))
            continue
        try:
            arr = check_labels(item.array)
            meta = dict(item.meta)
            if dataset_key is not None and (item.dataset or dataset_key != item.meta.get(
                    "format")):
                meta["dataset"] = dataset_key
            payload, size = fmt.payload(item.name, arr, verify, meta or None)
        except Exception as exc:
            out.append(("error", item.name, reason(exc)))
            continue
        out.append(("map", item.name, payload, size, arr.nbytes))


def _encode_task(item: Any, fmt_name: str, verify: bool, rgb_ids: bool,
                 options: dict[str, Any] | None = None) -> tuple[Any, list[tuple[Any, ...]]]:
    """Runs in a worker: every map of one input file (or format task) -> payloads or errors."""
    fmt = FORMATS[fmt_name]
    out: list[tuple[Any, ...]] = []
    options = options or {}
    if not isinstance(item, InputFile):  # a task of a many-map format (CSV rows, JSON entry)
        from .._integrations.formats import read_task

        task, key = item
        try:
            _format_maps(read_task(task, options.get(task.format, {})), fmt, verify, key, out)
        except Exception as exc:
            out.append(("error", task.name, reason(exc)))
        return item, out
    if item.kind in FORMAT_KINDS:
        _format_maps(read_format_file(item.path, item.kind, item.rel,
                                      options.get(item.kind, {})), fmt, verify,
                     "cityscapes" if item.kind == "cityscapes" else None, out)
        return item, out
    try:
        for member, arr in read_maps(item.path, item.kind, rgb_ids):
            where = map_name(item.path, member)
            if isinstance(arr, InputError):
                out.append(("error", where, str(arr)))
                continue
            try:
                name = map_name(item.rel, member)
                payload, size = fmt.payload(name, arr, verify)
            except Exception as exc:  # one bad map must not stop the others
                out.append(("error", where, reason(exc)))
                continue
            out.append(("map", name, payload, size, arr.nbytes))
    except Exception as exc:
        out.append(("error", item.path, reason(exc)))
    return item, out


def format_options(args: argparse.Namespace) -> dict[str, dict[str, Any]]:
    """Per-format reader options from the command line."""
    common: dict[str, Any] = {}
    if args.overlap is not None:
        common["overlap"] = args.overlap
    csv = dict(common)
    if args.shape is not None:
        csv["shape"] = args.shape
    if args.order is not None:
        csv["order"] = args.order
    tools = dict(common, **({"instances": True} if args.instances else {}))
    return {"kaggle-csv": csv, "cityscapes": {"ids": args.ids} if args.ids else {},
            "label-studio": tools, "cvat": tools, "sa1b": common}


def _split_sources(args: argparse.Namespace, report: Any) -> tuple[list[str], list[tuple[str, str]]]:
    """Inputs read as label files (walked) and the files of many-map formats, with their format."""
    from .._integrations.formats import FORMATS as READERS, detect

    plain, many = [], []
    for arg in args.inputs:
        fmt = args.source
        if fmt in CONTAINER_FORMATS:
            many.append((arg, fmt))
        elif fmt == "auto" and os.path.isfile(arg) and not arg.lower().endswith(
                (".png", ".tif", ".tiff", ".npy", ".npz", ".nii", ".nii.gz", ".mgz", ".mgh")):
            found = detect(arg)
            if found in CONTAINER_FORMATS:
                many.append((arg, found))
            elif arg.lower().endswith((".json", ".csv", ".xml")):
                report(arg, f"cannot tell its format from its name and content; give --from "
                            f"({', '.join(n for n in READERS if n in CONTAINER_FORMATS)})")
            else:
                plain.append(arg)
        else:
            plain.append(arg)
    return plain, many


def cmd_encode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    fmt = format_for_output(args.format, args.output)
    jobs = resolve_jobs(args.jobs)
    threads = resolve_threads(args.threads, jobs)
    to_stdout = args.output == "-"
    failures = 0

    def report(where: str, reason: str) -> None:
        nonlocal failures
        failures += 1
        con.error(where, reason)
        if args.fail_fast:
            raise FailFast

    sink = None if to_stdout else AtomicFile(args.output, force=args.force)
    try:
        from .._integrations.formats import FORMATS as READERS, plan_source

        options = format_options(args)
        plain, many = _split_sources(args, report)
        files: list[Any] = []
        if plain:
            files, _ = collect_inputs(plain, root=args.root, report=report)
            if args.source == "cityscapes":
                keep = set(READERS["cityscapes"].select([f.path for f in files],
                                                        options["cityscapes"]))
                files = [InputFile(f.path, f.rel, "cityscapes", f.size) for f in files
                         if f.path in keep]
            elif args.source in ("nifti", "mgz"):
                files = [InputFile(f.path, f.rel, args.source, f.size) for f in files]
        datasets: dict[str, Any] = {}
        weights = [max(f.size, 1) for f in files]
        if any(f.kind == "cityscapes" for f in files):
            datasets["cityscapes"] = READERS["cityscapes"].dataset(
                READERS["cityscapes"].kind(options["cityscapes"]))
        for path, name in many:
            try:
                plan = plan_source(path, name, options.get(name, {}))
            except Exception as exc:
                report(path, getattr(exc, "reason", None) or reason(exc))
                continue
            key = os.path.basename(path.rstrip("/")) or path
            if plan.dataset:
                datasets[key] = plan.dataset
            files += [(task, key) for task in plan.tasks]
            weights += [max(task.weight, 1) for task in plan.tasks]
        if not files:
            con.error("encode", "no label maps found; nothing written")
            return 1
        others = [f for f in files if isinstance(f, InputFile) and f.kind == "image"
                  and not f.path.lower().endswith(".png")]
        if others and have_pillow():
            # import Pillow and its plugins once here, so that forked workers
            # start with them. PNGs rarely need it: greyscale and palette ones
            # are read by multiclass_rle._integrations.png (a worker imports Pillow itself
            # for any other PNG). Without Pillow, each image that needs it
            # fails on its own with the install hint.
            pillow().init()  # every plugin (TIFF, ...)
        stream = sys.stdout.buffer if sink is None else sink.stream
        writer = fmt.writer(stream)
        writer.datasets = datasets or None
        n_maps = n_files = bytes_in = bytes_out = raw = 0
        sources_done: set[str] = set()
        con.start(len(files), "files")
        with Pool(jobs, threads) as pool:
            for item, results in pool.run(_encode_task, files,
                                          (fmt.name, args.verify, args.rgb_ids, options),
                                          weights=weights):
                con.advance()
                ok = False
                for res in results:
                    if res[0] == "error":
                        report(res[1], res[2])
                        continue
                    _, name, payload, size, nbytes = res
                    writer.write(name, payload)
                    n_maps += 1
                    bytes_out += size
                    raw += nbytes
                    ok = True
                if ok and isinstance(item, InputFile):
                    n_files += 1
                    bytes_in += item.size
                elif ok:
                    if item[1] not in sources_done:
                        sources_done.add(item[1])
                        n_files += 1
                        bytes_in += os.path.getsize(item[0].path) if os.path.isfile(
                            item[0].path) else 0
        con.finish()
        if n_maps == 0:
            con.error("encode", "no map could be encoded; nothing written")
            return 1
        writer.close()
        if sink is not None:
            sink.commit()
            bytes_out = os.path.getsize(args.output)
        else:
            sys.stdout.flush()
    except FailFast:
        con.finish()
        con.error("encode", "stopped at the first failure (--fail-fast)"
                            + ("" if to_stdout else "; nothing written"))
        return 1
    finally:
        if sink is not None:
            sink.abort()  # no-op after commit
    dt = time.perf_counter() - t0
    ratio = bytes_in / bytes_out if bytes_out else float("inf")
    where = "stdout" if to_stdout else args.output
    con.note(f"encoded {plural(n_maps, 'map')} from {plural(n_files, 'file')}"
             f"{f' ({failures} failed)' if failures else ''}: {human_bytes(bytes_in)} in -> "
             f"{human_bytes(bytes_out)} out ({where}, {fmt.name}), ratio in/out {ratio:.2f} "
             f"(raw maps {human_bytes(raw)}: {raw / bytes_out if bytes_out else 0:.1f}), "
             f"{seconds(dt)}" + (", verified" if args.verify else ""))
    return 1 if failures else 0
