"""Synthetic dense segmentations that stand in for connectomics volumes.

    python benchmarks/synthetic.py [--size 256] [--seeds 3000]   # builds and caches one

``voronoi_volume(n, seeds)`` is an n^3 uint32 map: a 3D Voronoi tessellation
of ``seeds`` random points (every voxel takes the id of its nearest point),
computed on smoothly warped coordinates so that the supervoxel boundaries are
curved surfaces rather than planes, with ids spread at random over
[1, 10^8) as agglomerated connectomics ids are. Like a real dense
segmentation it has no background, a few thousand labels with large ids, and
a run every ~30 voxels along any axis.

The nearest point is searched among the points of the 27 grid cells around
each voxel's cell (cells hold about one point each), block by block, in
numpy: a 512^3 volume takes about a minute on one core, so volumes are cached
in ``$MCRLE_BENCH_CACHE`` (default ``~/.cache/multiclass_rle_bench``), never in
the repository.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

import numpy as np

CACHE = Path(os.environ.get("MCRLE_BENCH_CACHE",
                            Path.home() / ".cache" / "multiclass_rle_bench"))


def _warp(coord: np.ndarray, other1: np.ndarray, other2: np.ndarray, n: int,
          rng: np.random.Generator) -> np.ndarray:
    """coord displaced by a smooth field of the two other coordinates (a few sine waves)."""
    out = coord.astype(np.float32)
    for _ in range(3):
        amp = rng.uniform(1.5, 3.5) * n / 256
        k1, k2 = rng.uniform(1.0, 4.0, size=2) * 2 * np.pi / n
        ph = rng.uniform(0, 2 * np.pi)
        out += np.float32(amp) * np.sin(k1 * other1 + k2 * other2 + ph).astype(np.float32)
    return out


def voronoi_volume(n: int = 256, seeds: int = 3000, max_id: int = 10**8,
                   seed: int = 0) -> np.ndarray:
    """An n^3 uint32 dense segmentation (C order); see the module docstring."""
    rng = np.random.default_rng(seed)
    pts = rng.uniform(0, n, size=(seeds, 3)).astype(np.float32)
    ids = rng.choice(np.arange(1, max_id, dtype=np.int64), size=seeds, replace=False)
    ids = ids.astype(np.uint32)
    cells = max(1, round(seeds ** (1 / 3)))
    cell = n / cells
    cell_of = np.minimum((pts / cell).astype(np.int64), cells - 1)
    key = (cell_of[:, 0] * cells + cell_of[:, 1]) * cells + cell_of[:, 2]
    order = np.argsort(key, kind="stable")
    starts = np.searchsorted(key[order], np.arange(cells ** 3 + 1))
    # three warp fields, each of the two other coordinates (same for every block)
    wrng = np.random.default_rng(seed + 1)
    warps = [(wrng.integers(0, 1 << 30)) for _ in range(3)]
    out = np.empty((n, n, n), dtype=np.uint32)
    edges = np.linspace(0, n, cells + 1).round().astype(int)
    for cz in range(cells):
        z0, z1 = edges[cz], edges[cz + 1]
        for cy in range(cells):
            y0, y1 = edges[cy], edges[cy + 1]
            for cx in range(cells):
                x0, x1 = edges[cx], edges[cx + 1]
                cand = []
                for dz in (-1, 0, 1):
                    for dy in (-1, 0, 1):
                        for dx in (-1, 0, 1):
                            a, b, c = cz + dz, cy + dy, cx + dx
                            if 0 <= a < cells and 0 <= b < cells and 0 <= c < cells:
                                k = (a * cells + b) * cells + c
                                cand.append(order[starts[k]:starts[k + 1]])
                cand = np.concatenate(cand)
                if cand.size == 0:   # no point near: the nearest of all
                    cand = np.arange(seeds)
                z, y, x = np.meshgrid(np.arange(z0, z1, dtype=np.float32),
                                      np.arange(y0, y1, dtype=np.float32),
                                      np.arange(x0, x1, dtype=np.float32), indexing="ij")
                wz = _warp(z, y, x, n, np.random.default_rng(warps[0]))
                wy = _warp(y, x, z, n, np.random.default_rng(warps[1]))
                wx = _warp(x, z, y, n, np.random.default_rng(warps[2]))
                p = pts[cand]
                d = ((wz[..., None] - p[:, 0]) ** 2 + (wy[..., None] - p[:, 1]) ** 2
                     + (wx[..., None] - p[:, 2]) ** 2)
                out[z0:z1, y0:y1, x0:x1] = ids[cand[np.argmin(d, axis=-1)]]
    return out


def cached_voronoi(n: int = 256, seeds: int = 3000, seed: int = 0) -> np.ndarray:
    """voronoi_volume(n, seeds), from the cache when it was built before (C order)."""
    path = CACHE / f"voronoi_{n}_{seeds}_{seed}.npy"
    if path.exists():
        return np.load(path)
    vol = voronoi_volume(n, seeds, seed=seed)
    CACHE.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp.npy")
    np.save(tmp, vol)
    os.replace(tmp, path)   # atomic: a half-written cache is never read
    return vol


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--seeds", type=int, default=3000)
    args = ap.parse_args()
    vol = cached_voronoi(args.size, args.seeds)
    runs = int(np.count_nonzero(vol[1:] != vol[:-1])) + vol.shape[1] * vol.shape[2]
    print(f"{vol.shape} {vol.dtype}: {len(np.unique(vol))} labels, ids up to {vol.max()}, "
          f"about {runs} runs along axis 0")


if __name__ == "__main__":
    main()
