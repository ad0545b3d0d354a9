"""``mcrle bench``: size and speed on the user's own maps, against PNG and pycocotools."""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from io import BytesIO
from typing import Any

import numpy as np

from .._codec import jsontext
from .._codec.api import decode, encode
from ._console import Console, InputError, UsageError, human_bytes
from ._inputs import collect_inputs
from ._readers import map_name, read_maps
from ._writers import png_fits, save_png


def _timed(fn: Callable[[], Any], repeat: int, budget: float) -> tuple[float, Any]:
    """Best time of up to ``repeat`` runs (stops repeating once ``budget`` s are spent)."""
    best, spent, result = float("inf"), 0.0, None
    for _ in range(max(1, repeat)):
        t = time.perf_counter()
        result = fn()
        dt = time.perf_counter() - t
        best, spent = min(best, dt), spent + dt
        if spent > budget:
            break
    return best, result


def _method_mcrle(maps: list[np.ndarray]) -> tuple[Callable[[], Any], Callable[[Any], Any],
                                                   Callable[[Any], int]]:
    def enc() -> list[str]:
        return [json.dumps(encode(a), separators=(",", ":")) for a in maps]

    def dec(texts: list[str]) -> list[np.ndarray]:
        return [decode(jsontext.loads(t)) for t in texts]

    return enc, dec, lambda texts: sum(len(t) for t in texts)


def _method_png(maps: list[np.ndarray]) -> tuple[Callable[[], Any], Callable[[Any], Any],
                                                 Callable[[Any], int]]:
    from ._readers import pillow

    Image = pillow()

    def enc() -> list[bytes]:
        out = []
        for a in maps:
            buf = BytesIO()
            save_png(a, buf)
            out.append(buf.getvalue())
        return out

    def dec(blobs: list[bytes]) -> list[np.ndarray]:
        out = []
        for b in blobs:
            with Image.open(BytesIO(b)) as im:
                out.append(np.asarray(im))
        return out

    return enc, dec, lambda blobs: sum(len(b) for b in blobs)


def _method_coco(maps: list[np.ndarray]) -> tuple[Callable[[], Any], Callable[[Any], Any],
                                                  Callable[[Any], int]]:
    from pycocotools import mask as mask_utils

    def enc() -> list[list[tuple[int, dict[str, Any]]]]:
        out = []
        for a in maps:
            rles = []
            for lab in np.unique(a).tolist():
                rles.append((lab, mask_utils.encode(np.asfortranarray(a == lab, dtype=np.uint8))))
            out.append(rles)
        return out

    def dec(encoded: list[list[tuple[int, dict[str, Any]]]]) -> list[np.ndarray]:
        out = []
        for a, rles in zip(maps, encoded):
            res = np.zeros(a.shape, dtype=a.dtype)
            for lab, rle in rles:
                res[mask_utils.decode(rle).astype(bool)] = lab
            out.append(res)
        return out

    def size(encoded: list[list[tuple[int, dict[str, Any]]]]) -> int:
        # the JSON a user would store: per map, a list of {label, size, counts}
        return sum(len(json.dumps([{"label": lab, "size": r["size"],
                                    "counts": r["counts"].decode("ascii")} for lab, r in rles],
                                  separators=(",", ":"))) for rles in encoded)

    return enc, dec, size


def cmd_bench(args: argparse.Namespace, con: Console) -> int:
    failures = 0

    def report(where: str, reason: str) -> None:
        nonlocal failures
        failures += 1
        con.error(where, reason)

    files, _ = collect_inputs(args.inputs, root=args.root, report=report)
    if args.limit:
        files = files[: args.limit]
    maps: list[np.ndarray] = []
    names: list[str] = []
    file_bytes = 0
    t = time.perf_counter()
    for item in files:
        try:
            got = False
            for member, arr in read_maps(item.path, item.kind, args.rgb_ids):
                if isinstance(arr, InputError):
                    report(map_name(item.path, member), str(arr))
                    continue
                maps.append(arr)
                names.append(map_name(item.rel, member))
                got = True
            if got:
                file_bytes += item.size
        except InputError as exc:
            report(item.path, str(exc))
    t_read = time.perf_counter() - t
    if not maps:
        raise UsageError("no label maps to measure")
    raw = sum(a.nbytes for a in maps)
    two_d = [a for a in maps if a.ndim == 2]
    png_ok = [a for a in maps if png_fits(a) is None]

    rows: list[dict[str, Any]] = []

    def measure(label: str, subset: list[np.ndarray], factory: Any, note: str = "") -> None:
        if not subset:
            rows.append({"method": label, "maps": 0, "note": note or "no map fits"})
            return
        enc, dec, size = factory(subset)
        t_enc, encoded = _timed(enc, args.repeat, args.budget)
        t_dec, decoded = _timed(lambda: dec(encoded), args.repeat, args.budget)
        exact = all(d.shape == a.shape and np.array_equal(d, a) for d, a in zip(decoded, subset))
        nraw = sum(a.nbytes for a in subset)
        nbytes = size(encoded)
        rows.append({"method": label, "maps": len(subset), "raw_bytes": nraw, "bytes": nbytes,
                     "ratio": nraw / nbytes if nbytes else None,
                     "encode_s": t_enc, "decode_s": t_dec,
                     "encode_MBps": nraw / 1e6 / t_enc if t_enc else None,
                     "decode_MBps": nraw / 1e6 / t_dec if t_dec else None,
                     "exact": bool(exact), "note": note})

    measure("mcrle (JSON)", maps, _method_mcrle)
    from ._readers import have_pillow

    if have_pillow():
        measure("PNG (Pillow)", png_ok, _method_png,
                "" if len(png_ok) == len(maps) else "only maps PNG holds")
    else:
        rows.append({"method": "PNG (Pillow)", "maps": 0,
                     "note": 'needs Pillow: pip install "multiclass-rle[image]"'})
    try:
        import pycocotools.mask  # noqa: F401
    except ImportError:
        rows.append({"method": "pycocotools", "maps": 0, "note": "not installed"})
    else:
        measure("pycocotools", two_d, _method_coco,
                "one binary RLE per label" + ("" if len(two_d) == len(maps) else ", 2-D maps"))
    result = {"maps": len(maps), "files": len(files), "file_bytes": file_bytes, "raw_bytes": raw,
              "read_s": t_read, "failed": failures, "methods": rows}
    if args.json:
        json.dump(result, sys.stdout, indent=1)
        sys.stdout.write("\n")
        return 1 if failures else 0
    shapes = {a.shape for a in maps}
    dtypes = sorted({a.dtype.name for a in maps})
    w = sys.stdout.write
    w(f"{len(maps)} maps ({len(shapes)} shape{'s' if len(shapes) > 1 else ''}, "
      f"{', '.join(dtypes)}), {human_bytes(raw)} raw, read from {human_bytes(file_bytes)} of "
      f"files in {t_read:.2f} s\n")
    w(f"{'method':14} {'maps':>5} {'bytes':>13} {'vs raw':>8} {'enc MB/s':>9} {'dec MB/s':>9}"
      f"  exact  note\n")
    for r in rows:
        if not r["maps"]:
            w(f"{r['method']:14} {0:>5} {'-':>13} {'-':>8} {'-':>9} {'-':>9}  {'-':5}  "
              f"{r['note']}\n")
            continue
        w(f"{r['method']:14} {r['maps']:>5} {r['bytes']:>13,} {r['ratio']:>7.1f}x "
          f"{r['encode_MBps']:>9.0f} {r['decode_MBps']:>9.0f}  "
          f"{'yes' if r['exact'] else 'NO':5}  {r['note']}\n")
    w(f"{'source files':14} {len(maps):>5} {file_bytes:>13,} "
      f"{raw / file_bytes if file_bytes else 0:>7.1f}x  (the inputs as stored)\n")
    return 1 if failures else 0
