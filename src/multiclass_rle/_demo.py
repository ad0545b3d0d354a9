"""`python -m multiclass_rle demo`: the main job on sample maps shipped in the package.

For each sample map: encode, decode, check the round trip is exact, and show
sizes and speeds next to the original dict form and a plain memory copy.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np

from ._api import decode, encode
from ._legacy import array_to_multi_class_rle


def load_samples() -> dict[str, np.ndarray]:
    """The sample label maps shipped with the package (synthetic, see tools/make_samples.py)."""
    with resources.files("multiclass_rle").joinpath("data/samples.npz").open("rb") as f:
        with np.load(f) as npz:
            return {name: npz[name] for name in npz.files}


def _best_time(fn: Callable[[], Any], min_time: float = 0.05) -> float:
    best, total, n = float("inf"), 0.0, 0
    while total < min_time or n < 3:
        t = time.perf_counter()
        fn()
        dt = time.perf_counter() - t
        best, total, n = min(best, dt), total + dt, n + 1
    return best


def run_demo(print_fn: Callable[[str], None] = print) -> bool:
    """Round-trip every sample map; return True when all are exact."""
    ok = True
    header = (f"{'map':8} {'shape':>12} {'dtype':>6} {'labels':>6} {'raw B':>8} {'json B':>7} "
              f"{'orig B':>7} {'enc MB/s':>9} {'dec MB/s':>9} {'copy MB/s':>9}  round trip")
    print_fn(header)
    for name, array in load_samples().items():
        rle = encode(array)
        text = json.dumps(rle)
        back = decode(json.loads(text))
        exact = back.dtype == array.dtype and back.shape == array.shape and bool(
            np.array_equal(back, array))
        ok &= exact
        orig = json.dumps(array_to_multi_class_rle(array))
        dst = np.empty_like(array)
        t_enc = _best_time(lambda: encode(array))
        t_dec = _best_time(lambda: decode(rle, out=dst))
        t_copy = _best_time(lambda: np.copyto(dst, array))
        mb = array.nbytes / 1e6
        print_fn(f"{name:8} {str(array.shape):>12} {array.dtype.name:>6} "
                 f"{len(np.unique(array)):6d} {array.nbytes:8d} {len(text):7d} {len(orig):7d} "
                 f"{mb / t_enc:9.0f} {mb / t_dec:9.0f} {mb / t_copy:9.0f}  "
                 f"{'exact' if exact else 'MISMATCH'}")
    print_fn("all round trips exact" if ok else "ROUND TRIP FAILED")
    return ok
