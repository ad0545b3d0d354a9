"""``mcrle info``: what a file of RLE records holds (maps, shapes, labels, sizes)."""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections import Counter
from io import BytesIO
from typing import Any

import numpy as np

from .._codec.api import decode
from ._console import Console, human_bytes, plural, reason, shape_text
from ._pool import Pool, resolve_jobs, resolve_threads
from ._readers import have_pillow, load_names
from ._records import FORMATS, Record, format_of_file
from ._writers import png_fits, save_png


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


#: The output forms whose sizes info compares (mcrle encode --format NAME).
FORM_NAMES = ("jsonl", "jsonl-packed", "bytes")


def _form_sizes(name: str, arr: np.ndarray, meta: Any) -> tuple[int, ...]:
    """Bytes this map's record would take in each of FORM_NAMES (index entries counted
    for the pack: its JSON entry and its share of the magic and footer are ~50 bytes)."""
    out = []
    for form in FORM_NAMES:
        payload, size = FORMATS[form].payload(name, arr, False, meta)
        if form == "bytes":
            size += len(json.dumps({"path": name, "offset": 10**6, "length": size,
                                    **({"meta": meta} if meta else {})},
                                   separators=(",", ":"))) + 1
        out.append(size)
    return tuple(out)


def _info_task(rec: Record, want_png: bool, fmt_name: str) -> tuple[Any, ...]:
    try:
        fmt = FORMATS[fmt_name]
        runs = fmt.to_runs(rec.rle)
        # decode too, so that info checks every record is sound
        arr = decode(runs)
        png = _png_size(arr) if want_png else None
        labels, pixels = label_pixels(runs.values, runs.counts)
        forms = _form_sizes(rec.name or "", arr, rec.meta)
        return ("ok", rec.name, runs.shape, runs.dtype.name, len(runs), labels.tolist(),
                pixels.tolist(), runs.size * runs.dtype.itemsize, rec.nbytes, png, forms)
    except Exception as exc:
        return ("error", f"{rec.where} ({rec.name})", reason(exc))


def cmd_info(args: argparse.Namespace, con: Console) -> int:
    jobs = resolve_jobs(args.jobs)
    threads = resolve_threads(args.threads, jobs)
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
    form_bytes: Counter[str] = Counter()
    records: list[Record] = []
    for rec in fmt.records(args.input):
        if rec.error is not None:
            failures += 1
            errors.append({"where": rec.where, "reason": rec.error})
            con.error(rec.where, rec.error)
        else:
            records.append(rec)
    con.start(len(records), "maps")
    with Pool(jobs, threads) as pool:
        for res in pool.run(_info_task, records, (want_png, fmt.name)):
            con.advance()
            if res[0] == "error":
                failures += 1
                errors.append({"where": res[1], "reason": res[2]})
                con.error(res[1], res[2])
                continue
            _, name, shape, dtype, nruns, labels, pixels, nraw, nbytes, png, forms = res
            for form, size in zip(FORM_NAMES, forms):
                form_bytes[form] += size
            n += 1
            shapes[shape_text(shape)] += 1
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
        "format": "jsonl-packed" if fmt.name == "jsonl" and records and isinstance(
            records[0].rle, dict) and "packed" in records[0].rle else fmt.name,
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
        "forms": {form: form_bytes[form] + (24 if form == "bytes" else 0) for form in FORM_NAMES}
        if n else {},
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


def _forms_text(info: dict[str, Any]) -> str:
    """What this file would take in each output form, and what that saves or costs."""
    here = info["file_bytes"]
    parts = []
    for form, size in sorted(info["forms"].items(), key=lambda kv: kv[1]):
        mark = " (this file's form)" if form == info["format"] else ""
        delta = here - size
        change = (f"saves {human_bytes(delta)}" if delta > 0 else
                  f"+{human_bytes(-delta)}" if delta < 0 else "same")
        parts.append(f"{form} {human_bytes(size)}{mark}" + ("" if mark else f" ({change})"))
    return "; ".join(parts) + " (mcrle encode --format FORM)"


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
    if info["forms"]:
        w(f"forms    {_forms_text(info)}\n")
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
        w(f"map      {m['path']}  {shape_text(tuple(m['shape']))} {m['dtype']}  "
          f"{m['labels']} labels  {m['runs']} runs  {m['bytes']} B\n")
