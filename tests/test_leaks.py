"""Encode/decode loops must not leak: resident memory stays flat."""

from __future__ import annotations

import gc
import os
import sys

import numpy as np
import pytest

import multiclass_rle as mcr

pytestmark = [
    pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc/self/statm"),
    # AddressSanitizer keeps freed blocks in quarantine, so resident memory grows
    # with any allocation churn; under it tools/leak_loops.py + LeakSanitizer
    # check for leaks instead (tools/sanitize_pytest.sh)
    pytest.mark.skipif("libasan" in os.environ.get("LD_PRELOAD", ""),
                       reason="resident memory is meaningless under ASan's quarantine"),
]


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * 4096


def test_encode_decode_loops_do_not_leak():
    rng = np.random.default_rng(0)
    small = rng.integers(0, 12, size=(45, 60)).astype(np.uint8)
    m = np.kron(small, np.ones((8, 8), np.uint8))          # 360 x 480, ~3k runs
    bad = {"size": [360, 480], "values": "0", "counts": "1", "dtype": "uint8"}

    def cycle(n: int) -> None:
        for _ in range(n):
            rle = mcr.encode(m)
            mcr.decode(rle)
            mcr.decode(mcr.encode_runs(m), order="F")
            mcr.array_to_multi_class_rle(m)
            mcr.decode_window(rle, (slice(10, 200), slice(5, 300)))
            with pytest.raises(mcr.MalformedRLEError):   # error paths free too
                mcr.decode(bad)

    cycle(200)          # warm up allocator pools and caches
    gc.collect()
    before = _rss_bytes()
    cycle(2000)         # a leak of even 1 kB per call would add ~12 MB
    gc.collect()
    grown = _rss_bytes() - before
    assert grown < 4 * 2**20, f"resident memory grew by {grown} bytes over 2000 cycles"
