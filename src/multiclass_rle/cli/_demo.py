"""`mcrle demo` (`python -m multiclass_rle demo`): the main job on sample maps shipped
in the package.

For each sample map: encode, decode, check the round trip is exact, and show
sizes and speeds next to the original dict form and a plain memory copy. Then
the same maps go through the command line as files: ``mcrle encode`` a folder
of .npy files, ``mcrle decode`` it back and compare, ``mcrle info``.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import tempfile
import time
from collections.abc import Callable
from importlib import resources
from typing import Any

import numpy as np

from .._codec import jsontext
from .._codec.api import decode, encode
from ..multiclass_rle import array_to_multi_class_rle


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


def run_demo(print_fn: Callable[[str], None] = print, *, final_line: bool = True) -> bool:
    """Round-trip every sample map; return True when all are exact."""
    ok = True
    header = (f"{'map':8} {'shape':>12} {'dtype':>6} {'labels':>6} {'raw B':>8} {'json B':>7} "
              f"{'orig B':>7} {'enc MB/s':>9} {'dec MB/s':>9} {'copy MB/s':>9}  round trip")
    print_fn(header)
    for name, array in load_samples().items():
        rle = encode(array)
        text = json.dumps(rle)
        back = decode(jsontext.loads(text))
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
    if final_line:
        print_fn("all round trips exact" if ok else "ROUND TRIP FAILED")
    return ok


def run_cli_demo(main: Callable[..., int], print_fn: Callable[[str], None] = print) -> bool:
    """encode a folder of the samples as .npy files, decode it, compare; True when exact.

    ``main``: the command line's entry point (passed in: this module is below it).
    """
    samples = load_samples()
    ok = True
    cwd = os.getcwd()
    with tempfile.TemporaryDirectory(prefix="mcrle-demo-") as tmp:
        try:
            os.chdir(tmp)
            os.mkdir("samples")
            for name, array in samples.items():
                np.save(os.path.join("samples", f"{name}.npy"), array)
            steps = [
                ["encode", "samples", "-o", "samples.jsonl", "--verify"],
                ["decode", "samples.jsonl", "-o", "restored", "--format", "npy"],
                ["info", "samples.jsonl", "--top", "5"],
            ]
            for argv in steps:
                print_fn("")
                print_fn("$ mcrle " + " ".join(argv))
                sys.stdout.flush()
                with contextlib.redirect_stderr(sys.stdout):
                    status = main(argv, prog="mcrle")
                sys.stdout.flush()
                if status != 0:
                    print_fn(f"exit status {status}")
                    ok = False
            for name, array in samples.items():
                path = os.path.join("restored", f"{name}.npy")
                back = np.load(path) if os.path.exists(path) else None
                exact = back is not None and back.dtype == array.dtype and \
                    back.shape == array.shape and bool(np.array_equal(back, array))
                ok &= exact
                print_fn(f"restored/{name}.npy: {'exact' if exact else 'MISMATCH'}")
        finally:
            os.chdir(cwd)
    return ok


def main_demo(main: Callable[..., int], print_fn: Callable[[str], None] = print) -> int:
    """The demo command: the codec table, then the command line (``main``) on files."""
    ok = run_demo(print_fn, final_line=False)
    ok &= run_cli_demo(main, print_fn)
    print_fn("all round trips exact" if ok else "ROUND TRIP FAILED")
    return 0 if ok else 1
