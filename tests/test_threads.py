"""Encode and decode from many threads at once (the kernels release the GIL and
share no state), and one map on many threads (threads=): every result must be
exactly right, and the same for any number of threads."""

from __future__ import annotations

import multiprocessing
import os
import sys
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pytest

import multiclass_rle as mcr
from multiclass_rle._codec import limits


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


# ---------------------------------------------------------------------------
# threads=: one map on several threads (bands of the run sequence or of rows)


@pytest.fixture
def tiny_bands(monkeypatch):
    """Make every map big enough for threads, so that small test maps use them."""
    monkeypatch.setattr(limits, "MIN_BYTES_PER_THREAD", 1)


def _blocky(rng, shape, dtype, labels=5, block=3):
    small = rng.integers(0, labels, size=tuple(max(1, -(-s // block)) for s in shape))
    big = np.kron(small, np.ones((block,) * len(shape), dtype=np.int64))
    return big[tuple(slice(0, s) for s in shape)].astype(dtype)


_LAYOUTS = {
    "C": lambda a: np.ascontiguousarray(a),
    "F": lambda a: np.asfortranarray(a),
    "crop": lambda a: np.pad(a, [(1, 2)] * a.ndim)[tuple(slice(1, 1 + s) for s in a.shape)],
    "reversed": lambda a: np.ascontiguousarray(a[..., ::-1])[..., ::-1],
    "transposed": lambda a: np.ascontiguousarray(a.T).T,
}


@pytest.mark.parametrize("shape", [(37, 41), (5, 7, 9), (3, 4, 5, 6), (200,), (1, 64), (64, 1),
                                   (2, 1, 33)])
@pytest.mark.parametrize("dtype", [np.uint8, np.int16, np.uint32, np.int64, bool])
def test_many_threads_give_the_same_runs_and_arrays(tiny_bands, shape, dtype):
    rng = np.random.default_rng(hash((shape, np.dtype(dtype).name)) % 2**32)
    base = _blocky(rng, shape, dtype, labels=2 if dtype is bool else 6)
    want_rle = mcr.encode(base, threads=1)
    want_runs = mcr.encode_runs(base, threads=1)
    for name, make in _LAYOUTS.items():
        a = make(base)
        for n in (2, 3, 7):
            assert mcr.encode(a, threads=n) == want_rle, (name, n)
            assert mcr.encode_runs(a, threads=n) == want_runs, (name, n)
            for order in "CF":
                got = mcr.decode(want_rle, order=order, threads=n)
                assert got.flags[order + "_CONTIGUOUS"] and np.array_equal(got, base), (name, n)
                assert np.array_equal(mcr.decode(want_runs, order=order, threads=n), base)
            out = make(np.zeros_like(base))
            assert mcr.decode(want_rle, out=out, threads=n) is out
            assert np.array_equal(out, base), (name, n)


def test_threads_default_follows_the_affinity(tiny_bands):
    assert limits.threads_for(None, 10**9) == min(limits.available_threads(), 64)
    if hasattr(os, "sched_getaffinity"):
        assert limits.available_threads() == len(os.sched_getaffinity(0))


def test_small_maps_stay_on_one_thread():
    per = limits.MIN_BYTES_PER_THREAD
    assert limits.threads_for(None, per) == 1
    assert limits.threads_for(8, 2 * per - 1) == 1
    assert limits.threads_for(8, 3 * per) == min(3, 8)
    assert limits.threads_for(1, 100 * per) == 1
    assert limits.threads_for(2, 100 * per) == 2


@pytest.mark.parametrize("bad", [0, -1, 2.5, "2", True])
def test_bad_threads_argument_is_refused(bad):
    a = np.zeros((4, 4), np.uint8)
    rle = mcr.encode(a)
    with pytest.raises((mcr.RLEValueError, mcr.RLETypeError)):
        mcr.encode(a, threads=bad)
    with pytest.raises((mcr.RLEValueError, mcr.RLETypeError)):
        mcr.decode(rle, threads=bad)
    with pytest.raises((mcr.RLEValueError, mcr.RLETypeError)):
        mcr.encode_runs(a, threads=bad)


def test_errors_are_the_same_on_many_threads(tiny_bands):
    a = _blocky(np.random.default_rng(5), (40, 50), np.uint8)
    runs = mcr.encode_runs(a)
    for counts, match in [(runs.counts[:-1], "counts sum to"),
                          (np.concatenate([runs.counts[:-1], [runs.counts[-1] + 1]]), "counts sum to"),
                          (np.where(np.arange(len(runs)) == 3, 0, runs.counts), "is 0")]:
        bad = mcr.Runs(runs.shape, runs.values[:len(counts)], counts.astype(np.uint64))
        msgs = []
        for n in (1, 2, 5):
            with pytest.raises(mcr.MalformedRLEError, match=match) as exc:
                mcr.decode(bad, threads=n)
            msgs.append(str(exc.value))
        assert len(set(msgs)) == 1, msgs


def _decode_in_child(rle, conn):
    conn.send(mcr.decode(rle, threads=2).tobytes())


@pytest.mark.skipif(sys.platform != "linux", reason="fork start method")
def test_forked_child_decodes_on_threads(tiny_bands):
    """After fork the child has none of the parent's worker threads: it starts its own."""
    a = _blocky(np.random.default_rng(6), (300, 200), np.uint16)
    rle = mcr.encode(a)
    mcr.decode(rle, threads=2)   # the parent's workers exist now
    ctx = multiprocessing.get_context("fork")
    parent, child = ctx.Pipe()
    p = ctx.Process(target=_decode_in_child, args=(rle, child))
    p.start()
    assert parent.poll(60), "the child hung"
    assert parent.recv() == a.tobytes()
    p.join(10)
    assert p.exitcode == 0


def test_concurrent_callers_with_threads(tiny_bands):
    """Several Python threads asking for teams at once: one gets the workers, the others
    run alone; every result is exact."""
    maps = [_blocky(np.random.default_rng(s), (120, 90), np.int32) for s in range(6)]
    rles = [mcr.encode(m) for m in maps]

    def work(i):
        for _ in range(10):
            assert mcr.encode(maps[i], threads=3) == rles[i]
            assert np.array_equal(mcr.decode(rles[i], threads=3), maps[i])
        return True

    with ThreadPoolExecutor(max_workers=6) as pool:
        assert all(pool.map(work, range(6)))


# ---------------------------------------------------------------------------
# batches: many maps of one shape, spread over threads

def _batch_maps(n=12, shape=(48, 64), dtype=np.uint16):
    rng = np.random.default_rng(11)
    return [_blocky(rng, shape, dtype, labels=9) for _ in range(n)]


@pytest.mark.parametrize("form", ["compact", "bytes", "mixed", "runs"])
def test_decode_batch_spreads_maps_and_gives_each_exactly(form):
    from multiclass_rle._codec.api import decode_batch

    maps = _batch_maps()
    if form == "compact":
        rles = [mcr.encode(m) for m in maps]
    elif form == "bytes":
        rles = [mcr.encode_bytes(m) for m in maps]
    elif form == "runs":
        rles = [mcr.encode_runs(m) for m in maps]
    else:
        rles = [mcr.encode(m) if i % 2 else mcr.encode_bytes(m) for i, m in enumerate(maps)]
    for threads in (1, 2, 5, None):
        out = np.full((len(maps),) + maps[0].shape, 7, np.uint16)
        assert decode_batch(rles, out, threads=threads) is out
        assert all(np.array_equal(out[i], m) for i, m in enumerate(maps)), (form, threads)
    # into a wider dtype and a Fortran-ordered batch
    out = np.zeros((len(maps),) + maps[0].shape[::-1], np.int64).transpose(0, 2, 1)
    decode_batch(rles, out, threads=2)
    assert all(np.array_equal(out[i], m) for i, m in enumerate(maps))


def test_decode_batch_reports_the_bad_map():
    from multiclass_rle._codec.api import decode_batch

    maps = _batch_maps(6)
    rles = [mcr.encode(m) for m in maps]
    rles[4] = dict(rles[4], values=rles[4]["values"] + "1", counts=rles[4]["counts"] + "1")
    with pytest.raises(mcr.MalformedRLEError, match="counts sum to"):   # one run too many
        decode_batch(rles, np.zeros((6,) + maps[0].shape, np.uint16), threads=3)
    blobs = [mcr.encode_bytes(m) for m in maps]
    blobs[2] = blobs[2][:-1] + bytes([blobs[2][-1] ^ 1])
    with pytest.raises(mcr.MalformedRLEError, match="checksum"):
        decode_batch(blobs, np.zeros((6,) + maps[0].shape, np.uint16), threads=3)
    with pytest.raises(mcr.RLEValueError, match="first axis"):
        decode_batch(rles, np.zeros((5,) + maps[0].shape, np.uint16))


def test_to_tensor_batch_threads():
    torch = pytest.importorskip("torch")
    maps = _batch_maps(8, (30, 40), np.uint8)
    rles = [mcr.encode(m) for m in maps]
    want = torch.from_numpy(np.stack(maps))
    for threads in (1, 3, None):
        assert torch.equal(mcr.to_tensor_batch(rles, threads=threads), want)


def test_long_compact_strings_parse_on_threads():
    """Strings of more than 2 x 65536 characters are parsed in chunks on threads."""
    rng = np.random.default_rng(21)
    a = np.repeat(rng.integers(0, 40, size=(900, 300)), 3, axis=1).astype(np.uint16)   # short runs
    rle = mcr.encode(a)
    assert len(rle["counts"]) > 2 * 65536
    for threads in (1, 2, 3):
        assert np.array_equal(mcr.decode(rle, threads=threads), a)
    bad = dict(rle, counts=rle["counts"][:70000] + " " + rle["counts"][70001:])
    msgs = set()
    for threads in (1, 3):
        with pytest.raises(mcr.MalformedRLEError) as exc:
            mcr.decode(bad, threads=threads)
        msgs.add(str(exc.value))
    assert len(msgs) == 1 and "70000" in msgs.pop()
