"""Regenerate src/multiclass_rle/data/samples.npz: small synthetic label maps.

The package ships these maps (drawn here, not taken from any dataset) so that
`python -m multiclass_rle demo` runs anywhere. Deterministic: same file each run.
"""

from pathlib import Path

import numpy as np


def street_scene(h=240, w=320, seed=1):
    """A CamVid-like road scene: 12 classes (0 sky .. 11 unlabelled)."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), np.uint8)                       # 0 sky
    horizon = h * 2 // 5
    left = 0
    while left < w:                                      # 1 buildings of varied heights
        bw = int(rng.integers(25, 70))
        top = int(rng.integers(h // 10, horizon))
        m[top:horizon + 20, left:left + bw] = 1
        left += bw
    road_top = horizon + 20
    m[road_top:] = 4                                     # 4 pavement
    road = (y >= road_top) & (np.abs(x - w / 2) < (y - road_top) * 1.6 + 30)
    m[road] = 3                                          # 3 road
    for cx in rng.integers(10, w - 10, 6):               # 5 trees
        r = int(rng.integers(12, 25))
        m[(y - (horizon - 5)) ** 2 + (x - cx) ** 2 < r * r] = 5
    for px in rng.integers(5, w - 5, 4):                 # 2 poles
        m[h // 6:road_top + 10, px:px + 3] = 2
    for _ in range(4):                                   # 8 cars with 10 cyclists nearby
        cx, cy = int(rng.integers(30, w - 60)), int(rng.integers(road_top + 5, h - 30))
        m[cy:cy + 22, cx:cx + 45] = 8
        m[cy - 10:cy + 5, cx + 48:cx + 52] = 10
    m[(y > h - 6)] = 11                                  # 11 unlabelled border
    return m


def nuclei(h=256, w=256, n=300, seed=2):
    """A DSB2018-like instance map: uint16 ids 1..n on background 0."""
    rng = np.random.default_rng(seed)
    y, x = np.mgrid[0:h, 0:w]
    m = np.zeros((h, w), np.uint16)
    for i in range(1, n + 1):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        a, b = rng.uniform(3, 8), rng.uniform(3, 8)
        t = rng.uniform(0, np.pi)
        dy, dx = y - cy, x - cx
        u = (dx * np.cos(t) + dy * np.sin(t)) / a
        v = (-dx * np.sin(t) + dy * np.cos(t)) / b
        m[u * u + v * v < 1] = i
    return m


def atlas(d=48, h=64, w=64, seed=3):
    """A brain-atlas-like volume: nested ellipsoid regions 0..8."""
    rng = np.random.default_rng(seed)
    z, y, x = np.mgrid[0:d, 0:h, 0:w].astype(np.float32)
    m = np.zeros((d, h, w), np.uint8)
    for label in range(1, 9):
        s = 1.0 - label * 0.09
        cz, cy, cx = d / 2 + rng.uniform(-3, 3), h / 2 + rng.uniform(-4, 4), w / 2 + rng.uniform(-4, 4)
        inside = ((z - cz) / (d * 0.45 * s)) ** 2 + ((y - cy) / (h * 0.45 * s)) ** 2 + \
                 ((x - cx) / (w * 0.45 * s)) ** 2 < 1
        m[inside] = label
    return m


if __name__ == "__main__":
    out = Path(__file__).resolve().parents[1] / "src" / "multiclass_rle" / "data" / "samples.npz"
    np.savez_compressed(out, street=street_scene(), nuclei=nuclei(), atlas=atlas())
    print(out, out.stat().st_size, "bytes")
