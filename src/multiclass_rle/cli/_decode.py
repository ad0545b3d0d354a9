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


_STRIP_SUFFIXES = (".png", ".tif", ".tiff", ".npy", ".npz")


def target_path(outdir: str, name: str, ext: str) -> str:
    """Where a record named ``name`` is written; refuses names that leave ``outdir``."""
    file_part, sep, member = name.partition("::")
    parts = file_part.split("/")
    if sep:
        stem = parts[-1]
        if stem.lower().endswith(".npz"):
            stem = stem[:-4]
        parts = parts[:-1] + [stem] + member.split("/")
    if (not name or "\x00" in name or name.startswith("/") or "\\" in name
            or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]):
        raise InputError(f"unsafe or empty path {name!r} (must stay inside the output folder)")
    last = parts[-1]
    if last.lower().endswith(_STRIP_SUFFIXES):
        last = last[: last.rindex(".")]
    parts[-1] = last + ext
    return os.path.join(outdir, *parts)


def _decode_task(task: tuple[str, str, Any, str], out_format: str, fmt_name: str
                 ) -> tuple[Any, ...]:
    where, name, rle, target = task
    try:
        arr = FORMATS[fmt_name].to_array(rle)
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


def cmd_decode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    jobs = resolve_jobs(args.jobs)
    threads = resolve_threads(args.threads, jobs)
    fmt = format_of_file(args.input)
    ext = "." + args.format
    if args.format == "png" and not have_pillow():
        raise UsageError('--format png needs Pillow: pip install "multiclass-rle[image]" '
                         '(or use --format npy)')
    if os.path.exists(args.output) and not os.path.isdir(args.output):
        raise UsageError(f"{args.output} exists and is not a folder")
    failures = 0

    def report(where: str, reason: str) -> None:
        nonlocal failures
        failures += 1
        con.error(where, reason)
        if args.fail_fast:
            raise FailFast

    try:
        tasks: list[tuple[str, str, Any, str]] = []
        seen: dict[str, str] = {}
        for rec in fmt.records(args.input):
            if rec.error is not None:
                report(rec.where, rec.error)
                continue
            assert rec.name is not None
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
            tasks.append((rec.where, rec.name, rec.rle, target))
        existing = [t[3] for t in tasks if os.path.lexists(t[3])]
        if existing and not args.force:
            more = f" and {len(existing) - 1} more" if len(existing) > 1 else ""
            raise UsageError(f"{existing[0]}{more} exist; use --force to overwrite")
        for folder in sorted({os.path.dirname(t[3]) for t in tasks}):
            os.makedirs(folder, exist_ok=True)
        n = written = 0
        con.start(len(tasks), "maps")
        with Pool(jobs, threads) as pool:
            for res in pool.run(_decode_task, tasks, (args.format, fmt.name)):
                con.advance()
                if res[0] == "error":
                    report(res[1], res[2])
                else:
                    n += 1
                    written += res[1]
        con.finish()
    except FailFast:
        con.finish()
        con.error("decode", "stopped at the first failure (--fail-fast)")
        return 1
    dt = time.perf_counter() - t0
    con.note(f"decoded {plural(n, 'map')}{f' ({failures} failed)' if failures else ''} into "
             f"{args.output} as {args.format}: {human_bytes(written)} written, {seconds(dt)}")
    return 1 if failures else 0
