"""Hostile threads: another thread writes into an input while a kernel reads it.

The kernels release the GIL, so a training loop with worker threads or a
server handling requests can change a buffer (counts, values, an array, the
bytes of an object) in the middle of a call. Whatever it writes, a call must
return a right result or raise an RLEError: never crash, write outside its
output, or return a result that the input never described (issue 13).

Each test runs a writer thread that flips one input between a good and a
bad state while the main thread calls one entry point over and over, for
``MCRLE_RACE_SECONDS`` (default 1.0) seconds. On the code before issue 13,
the decode tests crashed the process ("double free or corruption") or, under
AddressSanitizer (``tools/sanitize_pytest.sh`` runs this file), reported a
heap overflow within that time; the values tests returned wrong labels, the
bytes encoder died of SIGFPE. The counts each test saw are asserted, so a
writer that never got to run fails the test rather than passing it.
"""

from __future__ import annotations

import os
import re
import sys
import threading
import time
from collections.abc import Callable

import numpy as np
import pytest

import multiclass_rle as mcr

SECONDS = float(os.environ.get("MCRLE_RACE_SECONDS", "1.0"))


def race(call: Callable[[], object], flip: Callable[[], None],
         seconds: float = SECONDS, errors: str | None = None) -> dict[str, int]:
    """Run ``call`` repeatedly while a thread runs ``flip`` repeatedly.

    Returns how many calls returned and how many raised an RLEError; any
    other exception propagates (and fails the test), and so does an
    RLEError whose message does not match ``errors`` (it must describe the
    input as it was at some moment, e.g. name the count that was changed).
    """
    stop = threading.Event()
    flips = [0]

    def writer() -> None:
        while not stop.is_set():
            flip()
            flips[0] += 1

    old = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)   # hand the GIL over often: more interleavings
    thread = threading.Thread(target=writer, daemon=True)
    seen = {"ok": 0, "error": 0}
    thread.start()
    try:
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            try:
                call()
                seen["ok"] += 1
            except mcr.RLEError as exc:
                if errors is not None and not re.search(errors, str(exc)):
                    raise
                seen["error"] += 1
    finally:
        stop.set()
        thread.join()
        sys.setswitchinterval(old)
    assert flips[0] > 0 and seen["ok"] + seen["error"] > 0
    return seen


HOLD = float(os.environ.get("MCRLE_RACE_HOLD", "0.0001"))


def _toggle(arr: np.ndarray, index: int, good, bad, hold: float = HOLD) -> Callable[[], None]:
    """Writes bad, then good, each held a moment (a kernel call lasts about a millisecond):
    the states change inside calls even when the two threads share one core."""
    def flip() -> None:
        arr[index] = bad
        time.sleep(hold)
        arr[index] = good
        time.sleep(hold)
    return flip


def _hold_for(call: Callable[[], object]) -> float:
    """A hold of several calls' time (at least HOLD): some calls then run whole inside a
    good state, so a test that needs successes gets them on a slow build (ASan) too."""
    times = []
    for _ in range(5):
        t = time.perf_counter()
        call()
        times.append(time.perf_counter() - t)
    return max(HOLD, 5 * sorted(times)[2])


def _runs_2d(n: int = 200_000, shape=(1000, 200)) -> tuple[mcr.Runs, np.ndarray]:
    """The issue's map: 200,000 runs of one element (values 0..6)."""
    values = (np.arange(n) % 7).astype(np.uint8)
    runs = mcr.Runs(shape, values, np.ones(n, np.uint64))
    return runs, mcr.decode(mcr.Runs(shape, values.copy(), np.ones(n, np.uint64)))


# ---------------------------------------------------------------------------
# counts changed while a decode reads them (finding 1)

COUNT_CALLS = {
    "decode C": lambda runs: mcr.decode(runs),
    "decode F": lambda runs: mcr.decode(runs, order="F"),
    "decode C out=": lambda runs: mcr.decode(runs, out=np.empty(runs.shape, np.uint8)),
    "decode F out=": lambda runs: mcr.decode(
        runs, out=np.empty(runs.shape[::-1], np.uint8).T),
    "decode into uint16": lambda runs: mcr.decode(runs, dtype=np.uint16),
    "original dict, numpy counts": lambda runs: mcr.decode(
        {"size": runs.shape, "values": runs.values, "counts": runs.counts}),
}


@pytest.mark.parametrize("name", list(COUNT_CALLS))
def test_counts_changed_during_decode(name):
    runs, expected = _runs_2d()
    call = COUNT_CALLS[name]

    def checked() -> None:
        got = call(runs)
        # every count is read once and checked: a call that returns saw the good counts
        assert np.array_equal(got, expected)

    race(checked, _toggle(runs.counts, -1, 1, 10**9), errors=r"excess from run 199999\)$")


def test_counts_changed_during_decode_window():
    # a count that drops to 0 after a check made the window walk run past
    # the last run (it read counts[n_runs]); the box reaches the map's end
    runs, expected = _runs_2d()

    def call() -> None:
        got = mcr.decode_window(runs, (slice(100, 1000), slice(20, 200)))
        assert np.array_equal(got, expected[100:, 20:])

    race(call, _toggle(runs.counts, 50_000, 1, 0), errors=r"^count at index 50000 is 0")


@pytest.mark.parametrize("where", [0, 100_000, -1])
def test_zero_and_huge_counts_anywhere_during_decode(where):
    runs, expected = _runs_2d()
    counts = runs.counts

    def flip() -> None:
        counts[where] = 0
        time.sleep(HOLD)
        counts[where] = 2**63
        time.sleep(HOLD)
        counts[where] = 1
        time.sleep(HOLD)

    index = where % counts.size
    race(lambda: np.array_equal(mcr.decode(runs), expected) or pytest.fail("wrong map"), flip,
         errors=rf"(index|run) {index}\b")


def test_counts_changed_during_binary_mask():
    runs, expected = _runs_2d()

    def call() -> None:
        assert np.array_equal(mcr.binary_mask(runs, 3), expected == 3)

    race(call, _toggle(runs.counts, -1, 1, 10**9), errors=r"excess from run 199999\)$")


OPS = {
    "area": lambda runs: mcr.area(runs),
    "labels": lambda runs: mcr.labels(runs),
    "bbox": lambda runs: mcr.bbox(runs),
    "remap": lambda runs: mcr.remap(runs, {k: (k + 1) % 7 for k in [*range(7), 200]}),
    "confusion_matrix": lambda runs: mcr.confusion_matrix(runs, runs),
    "iou": lambda runs: mcr.iou(runs, runs),
    "to_coco": lambda runs: mcr.to_coco(runs),
}


def _same(a: object, b: object) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same(a[k], b[k]) for k in a)
    if isinstance(a, (np.ndarray, mcr.Runs)) or isinstance(b, (np.ndarray, mcr.Runs)):
        return bool(np.array_equal(a, b, equal_nan=True)) if not isinstance(a, mcr.Runs) \
            else a == b
    return a == b


@pytest.mark.parametrize("name", list(OPS))
def test_counts_and_values_changed_during_operations(name):
    runs, _ = _runs_2d(20_000, (200, 100))
    good = mcr.Runs(runs.shape, runs.values.copy(), runs.counts.copy())
    other = mcr.Runs(runs.shape, runs.values.copy(), runs.counts.copy())
    other.values[5] = 200
    # an operation reads its input once (a private copy): it sees one state of it
    wants = [OPS[name](good), OPS[name](other)]
    counts, values = runs.counts, runs.values

    def flip() -> None:
        counts[-1] = 10**6
        time.sleep(HOLD)
        values[5] = 200
        time.sleep(HOLD)
        counts[-1] = 1
        time.sleep(HOLD)
        values[5] = 5
        time.sleep(HOLD)

    def call() -> None:
        got = OPS[name](runs)
        if name in ("confusion_matrix", "iou"):
            # both arguments are the same object, copied at two moments
            assert np.asarray(got).shape[0] in (7, 8)
        else:
            assert any(_same(got, w) for w in wants), got

    race(call, flip)


def test_values_changed_during_a_narrowing_decode():
    """Finding 3: uint16 values changed to 300 while decoded into uint8 gave 44."""
    runs, expected = _runs_2d(2000, (100, 20))   # small: many calls, many check-cast gaps
    runs = mcr.Runs(runs.shape, runs.values.astype(np.uint16), runs.counts)
    out = np.empty(runs.shape, np.uint8)

    def call() -> None:
        mcr.decode(runs, out=out)
        assert np.array_equal(out, expected)   # never 300 cut to 44

    seen = race(call, _toggle(runs.values, 5, 5, 300),
                errors=r"^value 300 \(run 5\) does not fit dtype uint8")
    assert seen["error"] > 0   # the bad state was seen and refused


def test_values_changed_during_a_bool_decode():
    # bool values are checked to be 0/1 bytes, then copied by the kernel
    runs, _ = _runs_2d(2000, (100, 20))
    values = (runs.values % 2).astype(bool)
    runs = mcr.Runs(runs.shape, values, runs.counts)

    def call() -> None:
        got = mcr.decode(runs)
        assert got.view(np.uint8).max() <= 1   # never a bool byte of 2

    race(call, _toggle(values.view(np.uint8), 5, 1, 2),
         errors="^bool label maps hold only 0 and 1$")


def test_group_map_changed_during_pair_sums_compact():
    """The fused evaluation kernel checks its group map first, then looks groups up
    as it walks: a group written out of range in between must not index the sums."""
    from multiclass_rle._codec import _core
    from multiclass_rle._ops.evaluate._maps import GroupMap

    true, pred = _label_map(), np.roll(_label_map(), 3, axis=0)
    t, p = mcr.encode(true), mcr.encode(pred)
    gm = GroupMap(np.dtype(np.uint8), [0, 1, 2, 3, 4], [0, 1, 2, 3, 4], 5, 6)
    table = gm.arg[2]
    expected = np.zeros((6, 6), np.uint64)
    np.add.at(expected, (true.ravel(order="F"), pred.ravel(order="F")), 1)

    def call() -> None:
        sums = np.empty(36, np.uint64)
        try:
            _core.pair_sums_compact(t["values"], t["counts"], gm.arg, p["values"],
                                    p["counts"], gm.arg, true.size, sums)
        except _core.CodecError as exc:
            # found at the start (MCRLE_ERR_ARG, 1) or on the walk (MCRLE_ERR_CHANGED, 11),
            # in A's map or B's (+ 100)
            assert exc.args[0] % 100 in (1, 11), exc.args
            raise mcr.RLEValueError(exc.args[1]) from None
        assert np.array_equal(sums.reshape(6, 6), expected)

    # held long enough that some calls see only the good table (under ASan a call outlasted
    # the default hold, and every call met the bad value: no success to compare)
    seen = race(call, _toggle(table, 3, 3, 1_000_000, _hold_for(call)))
    assert seen["ok"] > 0 and seen["error"] > 0


# ---------------------------------------------------------------------------
# an array changed while it is encoded (finding 2: the bytes encoder)

def _label_map() -> np.ndarray:
    rng = np.random.default_rng(1)
    small = rng.integers(0, 5, (64, 64)).astype(np.uint8)
    return np.kron(small, np.ones((8, 8), np.uint8))   # 512 x 512, blocky


ENCODERS = {
    "encode_bytes": mcr.encode_bytes,
    "encode packed": lambda a: mcr.encode(a, packed=True),
    "encode": mcr.encode,
    "encode_runs": mcr.encode_runs,
    "array_to_multi_class_rle": mcr.array_to_multi_class_rle,
    "encode_bytes 1D": lambda a: mcr.encode_bytes(a.reshape(-1)),
}


def _encode_race(a: np.ndarray, encoder: Callable[[np.ndarray], object], seed: int,
                 errors: str | None = None) -> None:
    """encoder(a) while another thread writes random labels into a and restores it."""
    rng = np.random.default_rng(seed)
    noise = [rng.integers(0, 9, a.shape).astype(np.uint8) for _ in range(3)]
    clean = a.copy()
    state = [0]

    def flip() -> None:   # writes random labels (some new to the map), then restores
        state[0] = (state[0] + 1) % 3
        np.copyto(a, noise[state[0]], where=noise[state[0]] > 6)
        time.sleep(HOLD)
        np.copyto(a, clean)
        time.sleep(HOLD)

    def call() -> None:
        got = encoder(a)
        back = mcr.decode(got)   # whatever was returned is a valid RLE of the shape
        assert back.size == a.size and back.dtype == a.dtype

    race(call, flip, errors=errors)


@pytest.mark.parametrize("name", list(ENCODERS))
def test_array_changed_during_encode(name):
    _encode_race(_label_map(), ENCODERS[name], 2)


# ---------------------------------------------------------------------------
# the bytes of an object, or a compact string, changed while it is decoded

def test_bytes_changed_during_decode():
    a = _label_map()
    blob = bytearray(mcr.encode_bytes(a))
    header = mcr.bytes_info(bytes(blob)).header_bytes
    rng = np.random.default_rng(3)
    spots = rng.integers(header, len(blob), 64)
    saved = [blob[i] for i in spots]

    def flip() -> None:
        for i in spots:
            blob[i] ^= 0x5A
        time.sleep(HOLD)
        for i, b in zip(spots, saved):
            blob[i] = b
        time.sleep(HOLD)

    def call() -> None:
        assert np.array_equal(mcr.decode(blob), a)   # checksum and payload from one copy

    race(call, flip)


def test_compact_bytes_changed_during_decode():
    a = _label_map()
    rle = mcr.encode(a)
    values = bytearray(rle["values"].encode())
    counts = bytearray(rle["counts"].encode())
    dict_ = {"size": rle["size"], "values": values, "counts": counts, "dtype": "uint8"}
    saved = counts[10]

    def flip() -> None:
        counts[10] = ord("~")   # not a character of the code
        time.sleep(HOLD)
        counts[10] = ord("o")   # a long run
        time.sleep(HOLD)
        counts[10] = saved
        time.sleep(HOLD)

    def call() -> None:
        assert np.array_equal(mcr.decode(dict_), a)

    race(call, flip)


# ---------------------------------------------------------------------------
# PyTorch (skipped where torch is not installed, e.g. the ASan run)

def test_counts_changed_during_to_tensor():
    torch = pytest.importorskip("torch")
    from multiclass_rle._integrations import torch as _torch

    runs, expected = _runs_2d()
    calls = [
        lambda: mcr.to_tensor(runs).numpy(),
        lambda: mcr.to_tensor_batch([runs, runs]).numpy()[1],
        # the GPU path (runs expanded by torch.repeat_interleave), on the CPU
        lambda: _torch._to_device(_torch._runs(runs, None), torch.device("cpu"), None).numpy(),
        lambda: _torch._batch_to_device([runs], torch.empty((1,) + runs.shape, dtype=torch.uint8),
                                        np.dtype(np.uint8)).numpy()[0],
    ]
    for call in calls:
        race(lambda: np.array_equal(call(), expected) or pytest.fail("wrong map"),
             _toggle(runs.counts, -1, 1, 10**9), SECONDS / 2)


# ---------------------------------------------------------------------------
# the same on several threads (issue 16): maps large enough for bands, chunks
# and row bands; the guarantees must not depend on the thread count

def _runs_large(n: int = 400_000, shape=(2048, 2304)) -> tuple[mcr.Runs, np.ndarray]:
    """4.5 MiB of uint8 (2 MiB a thread: row bands take it), n runs, the last one long."""
    size = shape[0] * shape[1]
    counts = np.ones(n, np.uint64)
    counts[-1] = size - (n - 1)
    values = (np.arange(n) % 7).astype(np.uint8)
    runs = mcr.Runs(shape, values, counts)
    return runs, mcr.decode(mcr.Runs(shape, values.copy(), counts.copy()), threads=1)


THREADED_COUNT_CALLS = {
    "decode C threads=2": lambda runs: mcr.decode(runs, threads=2),
    "decode F threads=2": lambda runs: mcr.decode(runs, order="F", threads=2),
}


@pytest.mark.parametrize("name", list(THREADED_COUNT_CALLS))
def test_counts_changed_during_a_threaded_decode(name):
    runs, expected = _runs_large()
    call = THREADED_COUNT_CALLS[name]
    good = int(runs.counts[-1])

    def checked() -> None:
        got = call(runs)
        # each count read once (into the private copy) and checked there
        assert np.array_equal(got, expected)

    race(checked, _toggle(runs.counts, -1, good, 10**9), errors=r"excess from run 399999\)$")


def _label_map_large() -> np.ndarray:
    rng = np.random.default_rng(3)
    small = rng.integers(0, 5, (256, 288)).astype(np.uint8)
    return np.kron(small, np.ones((8, 8), np.uint8))   # 2048 x 2304, blocky: 4.5 MiB


THREADED_ENCODERS = {
    "encode_bytes threads=2": lambda a: mcr.encode_bytes(a, threads=2),
    "encode_bytes F threads=2": lambda a: mcr.encode_bytes(a.T, threads=2),
    "encode threads=2": lambda a: mcr.encode(a, threads=2),
    "encode_runs threads=2": lambda a: mcr.encode_runs(a, threads=2),
}


@pytest.mark.parametrize("name", list(THREADED_ENCODERS))
def test_array_changed_during_a_threaded_encode(name):
    _encode_race(_label_map_large(), THREADED_ENCODERS[name], 4,
                 errors="changed while it was being read")
