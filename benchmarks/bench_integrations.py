#!/usr/bin/env python
"""Benchmark the integrations on real data: a PyTorch DataLoader epoch, zarr volumes.

Usage::

    python benchmarks/bench_integrations.py [--quick] [--workers N] [--data DIR]
                                            [--skip-torch] [--skip-zarr]

1. **DataLoader epoch of CamVid masks** (701 label PNGs, 360x480). The same
   ``torch.utils.data.DataLoader`` settings (batch size, ``num_workers``,
   persistent workers, default collate) read every mask once from:

   * ``PNG + Pillow``: the original PNG files, ``np.asarray(Image.open(p))``;
   * ``mcrle JSONL``: one JSON Lines file written by ``mcrle encode`` on the
     same PNGs, read with :class:`RLEMaskDataset` (one line read and decoded
     per item);
   * ``bytes form (in memory)``: :class:`RLEMaskDataset` over a list of the
     maps' bytes forms (as a Parquet ``rle`` column loaded in memory).

   Two ways of loading, the same for every source: ``per item`` (the usual
   ``batch_size=16``: one ``__getitem__`` per mask, the default collate
   stacks them) and ``batched`` (``batch_size=None`` with a ``BatchSampler``:
   each worker gets 16 indices and returns one (16, 360, 480) tensor, decoded
   into shared memory, with no collate copy). Each epoch time is the best of
   several epochs after a warm-up epoch (the workers are started, the files
   are in the page cache). A third way is ours alone: ``decode in main``
   (``RLEMaskDataset(..., decode=False)``, ``collate_fn=list``): the workers
   only read and parse, the compact RLEs travel to the training process,
   which decodes each batch with ``to_tensor_batch`` into one reused tensor
   (with a GPU: straight on the device). The speed-ups are against the
   fastest PNG way at the same ``num_workers``. The goal of issue 7
   is at least 3x faster mask loading than the PNGs. A single-process row
   (``num_workers=0``) shows the per-item cost without the worker machinery.

2. **zarr volumes** (the 3D atlases of ``../shared/data`` and the CamVid
   test stack as a (N, 360, 480) volume), chunks of 64^3 (CamVid: 8 frames):

   * ``multiclass_rle``: ``serializer={"name": "multiclass_rle"}, compressors=None``;
   * ``zarr default``: zarr's default codec chain (``bytes`` + ``zstd`` level 0);
   * ``zstd-3 raw chunks`` / ``zstd-19 raw chunks``: numcodecs' zstd on each raw
     chunk, outside zarr (the codec alone, no store or pipeline);
   * ``multiclass_rle raw chunks``: our bytes form on each chunk, outside zarr.

   ``stored`` is the bytes of all chunks (for zarr: every file of the store),
   ``ratio`` raw bytes / stored, ``read`` the time of reading the whole
   volume (``z[:]``, or decoding every chunk), best of 3, page cache warm.
"""

from __future__ import annotations

import argparse
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
import warnings
from pathlib import Path

import numpy as np

import multiclass_rle as mcr
from multiclass_rle._integrations.payload import from_payload, to_payload

DEFAULT_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
ATLASES = [
    "digimouse/digimouse_190x496x104_uint8.npz",
    "niivue_volumes_dev/aal_181x217x181_uint8_F.npz",
    "niivue_volumes_dev/lesion_124x160x140_uint8_F.npz",
    "niivue_volumes_dev/aparc.a2009s+aseg_256cube_uint16_F.npz",
]


def best_of(fn, repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return best


# ---------------------------------------------------------------------------
# 1. DataLoader epoch


class PngMasks:
    """The baseline Dataset: one label PNG per item, decoded with Pillow."""

    def __init__(self, paths):
        self.paths = [str(p) for p in paths]

    def __len__(self):
        return len(self.paths)

    def __getitem__(self, i):
        import torch
        from PIL import Image
        if isinstance(i, list):   # a whole batch (batched loading), into one tensor
            from multiclass_rle._integrations.torch import _new_batch_tensor
            first = self[i[0]]
            out = _new_batch_tensor((len(i),) + tuple(first.shape), first.dtype)
            out[0] = first
            for k, j in enumerate(i[1:], 1):
                with Image.open(self.paths[j]) as im:
                    out[k].numpy()[...] = np.asarray(im)
            return out
        with Image.open(self.paths[i]) as im:
            return torch.from_numpy(np.array(im))


def bench_torch(data: Path, workers: int, epochs: int, quick: bool) -> None:
    import torch
    from PIL import Image

    from multiclass_rle._integrations.torch import RLEMaskDataset, to_tensor_batch

    root = data / "camvid" / "orig" / "CamVid"
    pngs = sorted(p for d in ("trainannot", "valannot", "testannot")
                  for p in (root / d).glob("*.png"))
    if not pngs:
        print(f"(no CamVid PNGs under {root}: DataLoader benchmark skipped)\n")
        return
    if quick:
        pngs = pngs[:160]
    tmp = Path(tempfile.mkdtemp(prefix="bench_integrations_"))
    try:
        jsonl = tmp / "camvid.jsonl"
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "multiclass_rle", "encode", *map(str, pngs),
                        "-o", str(jsonl), "-q", "--root", str(root)], check=True)
        encode_s = time.perf_counter() - t0
        ds_jsonl = RLEMaskDataset(jsonl)
        name_to_png = {str(p.relative_to(root)): p for p in pngs}
        ordered_pngs = [name_to_png[n] for n in ds_jsonl.names]
        ds_png = PngMasks(ordered_pngs)
        payloads = []
        for p in ordered_pngs:
            with Image.open(p) as im:
                payloads.append(to_payload(np.asarray(im)))
        ds_bytes = RLEMaskDataset(payloads)
        # same content, checked once
        for i in (0, len(ds_png) // 2, len(ds_png) - 1):
            assert torch.equal(ds_png[i], ds_jsonl[i]) and torch.equal(ds_png[i], ds_bytes[i])
        png_bytes = sum(p.stat().st_size for p in pngs)
        print(f"## DataLoader epoch: {len(pngs)} CamVid masks (360x480 uint8)\n")
        print(f"sources: PNG files {png_bytes / 1e6:.2f} MB; mcrle JSONL "
              f"{jsonl.stat().st_size / 1e6:.2f} MB (written by `mcrle encode` in "
              f"{encode_s:.1f} s); bytes form {sum(map(len, payloads)) / 1e6:.2f} MB\n")

        ds_jsonl_raw = RLEMaskDataset(jsonl, decode=False)
        ds_bytes_raw = RLEMaskDataset(payloads, decode=False)

        def epoch_time(ds, nw: int, mode: str) -> float:
            common = dict(num_workers=nw, persistent_workers=nw > 0,
                          prefetch_factor=4 if nw else None)
            if mode == "batched":   # each worker builds whole batches: ds[16 indices]
                sampler = torch.utils.data.BatchSampler(
                    torch.utils.data.SequentialSampler(ds), 16, drop_last=False)
                loader = torch.utils.data.DataLoader(ds, batch_size=None, sampler=sampler,
                                                     **common)
            elif mode == "per item":   # one item per __getitem__, default collate
                loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False,
                                                     **common)
            else:   # "decode in main": workers send the RLEs; decode into one buffer
                loader = torch.utils.data.DataLoader(ds, batch_size=16, shuffle=False,
                                                     collate_fn=list, **common)
                buf = torch.empty((16, 360, 480), dtype=torch.uint8)

                def one_epoch():
                    n = 0
                    for rles in loader:
                        n += to_tensor_batch(rles, out=buf[:len(rles)]).shape[0]
                    return n

            if mode != "decode in main":
                def one_epoch():
                    return sum(b.shape[0] for b in loader)

            assert one_epoch() == len(ds)   # warm-up epoch (starts the workers)
            t = best_of(one_epoch, epochs)
            del loader
            return t

        rows = []
        for nw in sorted({workers, 0}, reverse=True):
            for mode in ("per item", "batched", "decode in main"):
                if mode == "decode in main":
                    t_png = None
                    t_jsonl = epoch_time(ds_jsonl_raw, nw, mode)
                    t_bytes = epoch_time(ds_bytes_raw, nw, mode)
                else:
                    t_png = epoch_time(ds_png, nw, mode)
                    t_jsonl = epoch_time(ds_jsonl, nw, mode)
                    t_bytes = epoch_time(ds_bytes, nw, mode)
                rows.append((nw, mode, t_png, t_jsonl, t_bytes))
        print("| num_workers | loading | PNG + Pillow | mcrle JSONL | x vs PNG "
              "| bytes form (in memory) | x vs PNG |")
        print("|---:|---|---:|---:|---:|---:|---:|")
        for nw, mode, t_png, t_jsonl, t_bytes in rows:
            base = min(r[2] for r in rows if r[0] == nw and r[2] is not None)
            png = "-" if t_png is None else f"{t_png * 1e3:.0f} ms"
            print(f"| {nw} | {mode} | {png} | {t_jsonl * 1e3:.0f} ms | {base / t_jsonl:.1f}x | "
                  f"{t_bytes * 1e3:.0f} ms | {base / t_bytes:.1f}x |")
        print(f"\n(16 masks per batch. 'per item': batch_size=16 and the default collate; "
              f"'batched': batch_size=None with a BatchSampler, each worker decoding a batch "
              f"into one shared-memory tensor (PNG: Pillow decodes each mask into it); "
              f"'decode in main': workers read and parse the records, the training process "
              f"decodes each batch with to_tensor_batch into one reused tensor (as it would "
              f"into a pinned buffer or straight on the GPU). x = the fastest PNG time at "
              f"the same num_workers / ours. Best of {epochs} epochs after a warm-up epoch.)\n")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


# ---------------------------------------------------------------------------
# 2. zarr


def _chunks(a: np.ndarray, chunks: tuple[int, ...]):
    idx = np.ndindex(*(-(-s // c) for s, c in zip(a.shape, chunks)))
    for i in idx:
        yield a[tuple(slice(k * c, (k + 1) * c) for k, c in zip(i, chunks))]


def _store_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()
               and p.name not in ("zarr.json", ".zarray", ".zattrs", ".zgroup"))


def bench_zarr(data: Path, quick: bool) -> None:
    import zarr
    from numcodecs import Zstd

    volumes = []
    for name in ATLASES:
        if (data / name).is_file():
            volumes.append((Path(name).name.split("_")[0], np.load(data / name)["labels"],
                            (64, 64, 64)))
    cam = data / "camvid" / "camvid_testannot_233x360x480_uint8.npz"
    if cam.is_file():
        volumes.append(("camvid test", np.load(cam)["labels"], (8, 360, 480)))
    if not volumes:
        print("(no 3D volumes found: zarr benchmark skipped)")
        return
    if quick:
        volumes = volumes[:2]
    repeat = 2 if quick else 3
    print("## zarr: stored bytes and full-read time\n")
    print("| volume | shape dtype | codec | stored | ratio | read | read MB/s |")
    print("|---|---|---|---:|---:|---:|---:|")
    tmp = Path(tempfile.mkdtemp(prefix="bench_zarr_"))
    try:
        for label, a, chunks in volumes:
            a = np.ascontiguousarray(a)
            raw = a.nbytes
            rows = []
            variants = [
                ("multiclass_rle", dict(serializer={"name": "multiclass_rle"},
                                        compressors=None)),
                ("zarr default", {}),
            ]
            for vname, kwargs in variants:
                path = tmp / f"{label}-{vname}.zarr".replace(" ", "_")
                z = zarr.create_array(path, shape=a.shape, chunks=chunks, dtype=a.dtype,
                                      **kwargs)
                z[:] = a
                back = zarr.open_array(path, mode="r")
                assert np.array_equal(back[:], a)
                t = best_of(lambda: back[:], repeat)
                rows.append((vname, _store_bytes(path), t))
            parts = list(_chunks(a, chunks))
            for level in (3, 19):
                codec = Zstd(level=level)
                enc = [codec.encode(np.ascontiguousarray(c)) for c in parts]

                def read_zstd(enc=enc, codec=codec):
                    for e, c in zip(enc, parts):
                        np.frombuffer(codec.decode(e), a.dtype).reshape(c.shape)

                rows.append((f"zstd-{level} raw chunks", sum(len(e) for e in enc),
                             best_of(read_zstd, repeat)))
            enc = [to_payload(c) for c in parts]
            outs = [np.empty(c.shape, a.dtype) for c in parts]

            def read_ours(enc=enc, outs=outs):
                for e, o in zip(enc, outs):
                    from_payload(e, out=o)

            read_ours()
            assert all(np.array_equal(o, c) for o, c in zip(outs, parts))
            rows.append(("multiclass_rle raw chunks", sum(len(e) for e in enc),
                         best_of(read_ours, repeat)))
            for vname, stored, t in rows:
                print(f"| {label} | {'x'.join(map(str, a.shape))} {a.dtype} | {vname} | "
                      f"{stored / 1e3:,.1f} kB | {raw / stored:.0f} | {t * 1e3:.1f} ms | "
                      f"{raw / t / 1e6:,.0f} |")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    print(f"\n(chunks 64^3, CamVid (8, 360, 480); stored = chunk bytes only; read = best of "
          f"{repeat}, page cache warm)\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DEFAULT_DATA)
    ap.add_argument("--workers", type=int, default=min(4, os.cpu_count() or 1),
                    help="DataLoader num_workers (the same for every source)")
    ap.add_argument("--epochs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--skip-torch", action="store_true")
    ap.add_argument("--skip-zarr", action="store_true")
    args = ap.parse_args(argv)
    if not (args.data / "INDEX.json").is_file():
        print(f"real data folder {args.data} not found", file=sys.stderr)
        return 1
    import numcodecs
    versions = [f"multiclass_rle {mcr.__version__}", f"numpy {np.__version__}"]
    for mod in ("torch", "PIL", "zarr", "numcodecs"):
        try:
            versions.append(f"{mod} {__import__(mod).__version__}")
        except ImportError:
            pass
    del numcodecs
    print(f"# Integrations benchmark\n\n{platform.platform()}, {platform.processor() or ''} "
          f"{os.cpu_count()} CPUs, Python {platform.python_version()}; "
          f"{', '.join(versions)}\n")
    if not args.skip_torch:
        try:
            import torch  # noqa: F401
            import PIL  # noqa: F401
        except ImportError as exc:
            print(f"(DataLoader benchmark skipped: {exc})\n")
        else:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                bench_torch(args.data, args.workers, args.epochs, args.quick)
    if not args.skip_zarr:
        try:
            import zarr  # noqa: F401
        except ImportError as exc:
            print(f"(zarr benchmark skipped: {exc})\n")
        else:
            bench_zarr(args.data, args.quick)
    return 0


if __name__ == "__main__":
    sys.exit(main())
