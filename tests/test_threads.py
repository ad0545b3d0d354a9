"""Encode and decode from many threads at once: the kernels release the GIL
and share no state, so every result must be exactly right."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

import multiclass_rle as mcr


def _maps(seed: int) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    maps = []
    for dtype, shape in [(np.uint8, (360, 480)), (np.uint16, (128, 96)),
                         (np.int32, (40, 50, 3)), (np.uint64, (1000,))]:
        small = rng.integers(0, 6, size=tuple(max(1, s // 8) for s in shape))
        big = np.kron(small, np.ones((8,) * len(shape), dtype=np.int64))
        big = big[tuple(slice(0, s) for s in shape)]
        maps.append(np.ascontiguousarray(big.astype(dtype)))
    return maps


def test_eight_threads_encode_and_decode_exactly():
    maps = _maps(0) + _maps(1)
    expected = [mcr.encode(m) for m in maps]
    start = threading.Barrier(8)

    def work(worker: int) -> int:
        start.wait()   # all threads hit the kernels together
        checked = 0
        for rep in range(25):
            i = (worker + rep) % len(maps)
            m = maps[i]
            rle = mcr.encode(m)
            assert rle == expected[i]
            back = mcr.decode(rle)
            assert back.dtype == m.dtype and np.array_equal(back, m)
            out = np.empty(m.shape[::-1], m.dtype).T   # Fortran-strided out
            mcr.decode(expected[i], out=out)
            assert np.array_equal(out, m)
            runs = mcr.encode_runs(m)
            assert np.array_equal(mcr.decode(runs), m)
            checked += 1
        return checked

    with ThreadPoolExecutor(max_workers=8) as pool:
        done = list(pool.map(work, range(8)))
    assert done == [25] * 8


def test_threads_share_one_input_array():
    m = _maps(2)[0]
    m.setflags(write=False)
    rle = mcr.encode(m)
    results: list[bool] = []

    def work() -> None:
        for _ in range(20):
            results.append(mcr.encode(m) == rle and np.array_equal(mcr.decode(rle), m))

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert results == [True] * 160
