"""``mcrle encode``, ``decode`` and ``info``."""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from collections import Counter
from io import BytesIO
from typing import Any

import numpy as np

from ._api import decode
from ._cli_io import (
    FORMATS,
    AtomicFile,
    Console,
    InputError,
    InputFile,
    Pool,
    Record,
    UsageError,
    collect_inputs,
    format_of_file,
    have_pillow,
    human_bytes,
    seconds,
    map_name,
    pillow,
    read_maps,
    resolve_jobs,
    write_atomic,
)
from ._errors import RLEError


class FailFast(Exception):
    """Raised to stop at the first failure (--fail-fast)."""


def _reason(exc: BaseException) -> str:
    if isinstance(exc, (InputError, RLEError)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read ({exc.strerror or exc})"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__}: {exc}"


# ---------------------------------------------------------------------------
# encode


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
                out.append(("error", where, _reason(exc)))
                continue
            out.append(("map", name, payload, size, arr.nbytes))
    except Exception as exc:
        out.append(("error", item.path, _reason(exc)))
    return item, out


def cmd_encode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    fmt = FORMATS[args.format]
    jobs = resolve_jobs(args.jobs)
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
            # are read by multiclass_rle._png (a worker imports Pillow itself
            # for any other PNG). Without Pillow, each image that needs it
            # fails on its own with the install hint.
            pillow().init()  # every plugin (TIFF, ...)
        stream = sys.stdout.buffer if sink is None else sink.stream
        writer = fmt.writer(stream)
        n_maps = n_files = bytes_in = bytes_out = raw = 0
        con.start(len(files), "files")
        with Pool(jobs) as pool:
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


# ---------------------------------------------------------------------------
# decode

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


def png_fits(arr: np.ndarray) -> str | None:
    """None when PNG holds this map exactly, else the reason it cannot."""
    if arr.ndim != 2:
        return f"a {arr.ndim}-D map of shape {arr.shape} does not fit PNG (2-D only)"
    if arr.dtype.name not in ("uint8", "uint16", "bool"):
        return (f"dtype {arr.dtype} does not fit PNG (PNG holds uint8, uint16 and bool "
                f"label maps)")
    return None


def save_png(arr: np.ndarray, f: Any) -> None:
    Image = pillow()
    Image.fromarray(np.ascontiguousarray(arr)).save(f, format="PNG")


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
        return ("error", f"{where} ({name})", _reason(exc))


def cmd_decode(args: argparse.Namespace, con: Console) -> int:
    t0 = time.perf_counter()
    jobs = resolve_jobs(args.jobs)
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
        with Pool(jobs) as pool:
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


# ---------------------------------------------------------------------------
# info


def label_pixels(values: np.ndarray, counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct labels (sorted) and the number of pixels of each, from runs."""
    if values.size == 0:
        return values[:0], counts[:0]
    order = np.argsort(values, kind="stable")
    v = values[order]
    c = counts[order]
    starts = np.flatnonzero(np.concatenate(([True], v[1:] != v[:-1])))
    return v[starts], np.add.reduceat(c, starts)


def _png_size(arr: np.ndarray) -> int | None:
    if png_fits(arr) is not None:
        return None
    buf = BytesIO()
    save_png(arr, buf)
    return buf.tell()


def _info_task(rec: Record, want_png: bool, fmt_name: str) -> tuple[Any, ...]:
    try:
        fmt = FORMATS[fmt_name]
        runs = fmt.to_runs(rec.rle)
        # decode too, so that info checks every record is sound
        arr = decode(runs)
        png = _png_size(arr) if want_png else None
        labels, pixels = label_pixels(runs.values, runs.counts)
        return ("ok", rec.name, runs.shape, runs.dtype.name, len(runs), labels.tolist(),
                pixels.tolist(), runs.size * runs.dtype.itemsize, rec.nbytes, png)
    except Exception as exc:
        return ("error", f"{rec.where} ({rec.name})", _reason(exc))


def _shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))


def load_names(path: str | None) -> dict[int, str]:
    """Label names: a JSON object {label: name}, or text with one name per line
    (line i names label i) or ``LABEL NAME`` / ``LABEL: NAME`` / ``LABEL,NAME`` lines."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise UsageError(f"--names {path}: cannot read ({exc.strerror or exc})") from None
    if text.lstrip().startswith("{"):
        try:
            return {int(k): str(v) for k, v in json.loads(text).items()}
        except (ValueError, AttributeError) as exc:
            raise UsageError(f"--names {path}: not a JSON object of label: name ({exc})") from None
    import re

    names: dict[int, str] = {}
    pattern = re.compile(r"^\s*(-?\d+)\s*[:,=\s]\s*(.+?)\s*$")
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        m = pattern.match(line)
        if m:
            names[int(m.group(1))] = m.group(2)
        else:
            names[i] = line.strip()
    return names


def cmd_info(args: argparse.Namespace, con: Console) -> int:
    jobs = resolve_jobs(args.jobs)
    fmt = format_of_file(args.input)
    names = load_names(args.names)
    want_png = not args.no_png and have_pillow()
    failures = 0
    errors: list[dict[str, str]] = []
    shapes: Counter[str] = Counter()
    dtypes: Counter[str] = Counter()
    label_px: dict[int, int] = {}
    label_maps: Counter[int] = Counter()
    per_map: list[dict[str, Any]] = []
    n = runs_total = raw = rle_bytes = 0
    png_total = png_maps = png_rle_bytes = 0
    records: list[Record] = []
    for rec in fmt.records(args.input):
        if rec.error is not None:
            failures += 1
            errors.append({"where": rec.where, "reason": rec.error})
            con.error(rec.where, rec.error)
        else:
            records.append(rec)
    con.start(len(records), "maps")
    with Pool(jobs) as pool:
        for res in pool.run(_info_task, records, (want_png, fmt.name)):
            con.advance()
            if res[0] == "error":
                failures += 1
                errors.append({"where": res[1], "reason": res[2]})
                con.error(res[1], res[2])
                continue
            _, name, shape, dtype, nruns, labels, pixels, nraw, nbytes, png = res
            n += 1
            shapes[_shape_text(shape)] += 1
            dtypes[dtype] += 1
            runs_total += nruns
            raw += nraw
            rle_bytes += nbytes
            if png is not None:
                png_total += png
                png_maps += 1
                png_rle_bytes += nbytes
            for lab, px in zip(labels, pixels):
                label_px[lab] = label_px.get(lab, 0) + px
                label_maps[lab] += 1
            if args.maps:
                per_map.append({"path": name, "shape": list(shape), "dtype": dtype,
                                "labels": len(labels), "runs": nruns, "bytes": nbytes,
                                "raw_bytes": nraw, "png_bytes": png})
    con.finish()
    total_px = sum(label_px.values())
    labels_out = [{"label": lab, "pixels": label_px[lab],
                   "fraction": label_px[lab] / total_px if total_px else 0.0,
                   "maps": label_maps[lab], **({"name": names[lab]} if lab in names else {})}
                  for lab in sorted(label_px)]
    file_bytes = os.path.getsize(args.input)
    info: dict[str, Any] = {
        "file": args.input,
        "format": fmt.name,
        "file_bytes": file_bytes,
        "maps": n,
        "failed": failures,
        "shapes": dict(shapes.most_common()),
        "dtypes": dict(dtypes.most_common()),
        "runs": runs_total,
        "raw_bytes": raw,
        "rle_bytes": rle_bytes,
        "png_bytes": png_total if png_maps else None,
        "png_maps": png_maps,
        "png_rle_bytes": png_rle_bytes,
        "ratio_vs_raw": raw / rle_bytes if rle_bytes else None,
        "ratio_vs_png": png_total / png_rle_bytes if png_maps and png_rle_bytes else None,
        "labels": labels_out,
        "errors": errors,
    }
    if args.maps:
        info["per_map"] = per_map
    if args.json:
        json.dump(info, sys.stdout, indent=1)
        sys.stdout.write("\n")
    else:
        _print_info(info, args, want_png)
    return 1 if failures else 0


def _versus(other: float, rle: float) -> str:
    if rle <= other:
        return f"RLE is {other / rle:.2f}x smaller" if rle else "RLE is empty"
    return f"RLE is {rle / other:.2f}x larger" if other else "RLE is larger"


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def _counter_text(d: dict[str, int], limit: int = 6) -> str:
    items = list(d.items())
    text = ", ".join(f"{k} ({v})" for k, v in items[:limit])
    return text + (f", ... {len(items) - limit} more" if len(items) > limit else "")


def _print_info(info: dict[str, Any], args: argparse.Namespace, want_png: bool) -> None:
    w = sys.stdout.write
    w(f"file     {info['file']} ({info['format']}, {human_bytes(info['file_bytes'])})\n")
    w(f"maps     {info['maps']}" + (f" ({info['failed']} failed)" if info["failed"] else "")
      + "\n")
    w(f"shapes   {_counter_text(info['shapes'])}\n")
    w(f"dtypes   {_counter_text(info['dtypes'])}\n")
    per = info["runs"] / info["maps"] if info["maps"] else 0
    w(f"runs     {info['runs']:,} ({per:,.0f} per map)\n")
    sizes = f"raw {human_bytes(info['raw_bytes'])}"
    if info["rle_bytes"]:
        sizes += f" ({_versus(info['raw_bytes'], info['rle_bytes'])})"
    if info["png_bytes"] is not None:
        sizes += f"; as PNG {human_bytes(info['png_bytes'])}"
        if info["png_maps"] < info["maps"]:
            sizes += f" for the {plural(info['png_maps'], 'map')} PNG holds"
        sizes += f" ({_versus(info['png_bytes'], info['png_rle_bytes'])})"
    elif args.no_png:
        sizes += "; PNG size skipped (--no-png)"
    elif not want_png:
        sizes += '; PNG size needs Pillow (pip install "multiclass-rle[image]")'
    else:
        sizes += "; no map fits PNG"
    w(f"sizes    RLE {human_bytes(info['rle_bytes'])}; {sizes}\n")
    labels = info["labels"]
    w(f"labels   {len(labels)}\n")
    shown = labels if args.top == 0 else sorted(
        labels, key=lambda d: -d["pixels"])[: args.top]
    shown = sorted(shown, key=lambda d: d["label"])
    if shown:
        w(f"  {'label':>10} {'pixels':>15} {'share':>7} {'maps':>6}  name\n")
        for d in shown:
            w(f"  {d['label']:>10} {d['pixels']:>15,} {100 * d['fraction']:6.2f}% "
              f"{d['maps']:>6}  {d.get('name', '')}".rstrip() + "\n")
        if len(shown) < len(labels):
            w(f"  ... {len(labels) - len(shown)} rarer labels not shown (--top 0 shows all)\n")
    for m in info.get("per_map", []):
        w(f"map      {m['path']}  {_shape_text(tuple(m['shape']))} {m['dtype']}  "
          f"{m['labels']} labels  {m['runs']} runs  {m['bytes']} B\n")
