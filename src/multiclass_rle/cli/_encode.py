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
from ._readers import have_pillow, map_name, pillow, read_maps
from ._records import FORMATS


def _encode_task(item: InputFile, fmt_name: str, verify: bool, rgb_ids: bool
                 ) -> tuple[InputFile, list[tuple[Any, ...]]]:
    """Runs in a worker: every map of one input file -> payloads or errors."""
    fmt = FORMATS[fmt_name]
    out: list[tuple[Any, ...]] = []
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


def cmd_encode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    fmt = FORMATS[args.format]
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
        files, _ = collect_inputs(args.inputs, root=args.root, report=report)
        if not files:
            con.error("encode", "no label maps found; nothing written")
            return 1
        others = [f for f in files if f.kind == "image" and not f.path.lower().endswith(".png")]
        if others and have_pillow():
            # import Pillow and its plugins once here, so that forked workers
            # start with them. PNGs rarely need it: greyscale and palette ones
            # are read by multiclass_rle._integrations.png (a worker imports Pillow itself
            # for any other PNG). Without Pillow, each image that needs it
            # fails on its own with the install hint.
            pillow().init()  # every plugin (TIFF, ...)
        stream = sys.stdout.buffer if sink is None else sink.stream
        writer = fmt.writer(stream)
        n_maps = n_files = bytes_in = bytes_out = raw = 0
        con.start(len(files), "files")
        with Pool(jobs, threads) as pool:
            for item, results in pool.run(_encode_task, files,
                                          (fmt.name, args.verify, args.rgb_ids),
                                          weights=[max(f.size, 1) for f in files]):
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
                if ok:
                    n_files += 1
                    bytes_in += item.size
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
             f"{human_bytes(bytes_out)} out ({where}), ratio in/out {ratio:.2f} "
             f"(raw maps {human_bytes(raw)}: {raw / bytes_out if bytes_out else 0:.1f}), "
             f"{seconds(dt)}" + (", verified" if args.verify else ""))
    return 1 if failures else 0
