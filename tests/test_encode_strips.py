"""The encoder of 2D maps with contiguous rows (C order and its crops).

On x86-64 it takes the columns 16 at a time (a strip), folds 64 rows of
compares into one word per column, and reads the boundaries off the words;
strips are grouped by about 2 KB of a row, and the last strip overlaps the
one before when the width is not a multiple of 16 (csrc/encode.c). These
shapes cross each of those edges; every result is checked against a NumPy
reference of the Fortran-order runs. Elsewhere the same tests check the
portable encoder.
"""
from __future__ import annotations

import numpy as np
import pytest

import multiclass_rle as mcr

DTYPES = [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.uint32, np.int32, np.uint64,
          np.int64]
# heights around the 64-row words, widths around the 16-column strips and the groups
# of 2 KB (2048 byte columns, 256 columns of 8 bytes)
SHAPES = [(1, 16), (2, 17), (63, 16), (64, 31), (65, 32), (127, 33), (130, 47), (200, 257),
          (70, 2050)]


def reference_runs(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    flat = np.asarray(a).ravel(order="F")
    starts = np.concatenate([[0], np.flatnonzero(flat[1:] != flat[:-1]) + 1])
    ends = np.concatenate([starts[1:], [flat.size]])
    return flat[starts], (ends - starts).astype(np.uint64)


def label_map(shape: tuple[int, int], dtype, seed: int, noise: bool) -> np.ndarray:
    rng = np.random.default_rng(seed)
    h, w = shape
    if noise:   # more runs than the encoder's first guess: it counts, then encodes again
        a = rng.integers(0, 5, size=shape)
    else:       # blocks of labels, as segmentation maps have
        blocks = rng.integers(0, 6, size=(h // 5 + 1, w // 7 + 1))
        a = np.repeat(np.repeat(blocks, 5, axis=0), 7, axis=1)[:h, :w]
    if dtype is np.bool_:
        return (a % 2).astype(bool)
    a = a.astype(dtype)
    if np.dtype(dtype).itemsize == 8:   # labels that differ only in the high half of the word
        a = (a.astype(np.uint64) << np.uint64(35)).astype(dtype)
    elif np.dtype(dtype).kind == "i":
        a = (a - 2).astype(dtype)
    return a


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("noise", [False, True])
def test_c_ordered_maps_encode_to_the_fortran_runs(dtype, shape, noise):
    a = label_map(shape, dtype, seed=shape[0] * 1000 + shape[1], noise=noise)
    values, counts = reference_runs(a)
    runs = mcr.encode_runs(a, threads=1)
    np.testing.assert_array_equal(runs.values, values)
    np.testing.assert_array_equal(runs.counts, counts)
    np.testing.assert_array_equal(mcr.decode(mcr.encode(a)), a)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.int32, np.int64])
@pytest.mark.parametrize("view", ["crop", "rows_reversed", "every_other_row"])
def test_views_with_contiguous_rows(dtype, view):
    base = label_map((150, 90), dtype, seed=7, noise=False)
    a = {"crop": base[3:140, 5:80],
         "rows_reversed": base[::-1],
         "every_other_row": base[::2, 1:]}[view]
    assert a.strides[1] == a.itemsize and not a.flags.c_contiguous
    values, counts = reference_runs(a)
    runs = mcr.encode_runs(a, threads=1)
    np.testing.assert_array_equal(runs.values, values)
    np.testing.assert_array_equal(runs.counts, counts)


@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.uint32, np.int64])
@pytest.mark.parametrize("threads", [2, 3, 4])
def test_bands_of_columns_on_several_threads(dtype, threads, monkeypatch):
    # on several threads a 2D map is cut into bands of columns, each strip-encoded, then
    # joined where a band's first run continues the run before (maps of a few MB get
    # threads; here every map does)
    from multiclass_rle._codec import limits
    monkeypatch.setattr(limits, "MIN_BYTES_PER_THREAD", 1)
    for seed, shape in enumerate([(90, 130), (200, 257), (33, 70)]):
        a = label_map(shape, dtype, seed=seed, noise=seed == 2)
        values, counts = reference_runs(a)
        runs = mcr.encode_runs(a, threads=threads)
        np.testing.assert_array_equal(runs.values, values)
        np.testing.assert_array_equal(runs.counts, counts)
        assert mcr.encode(a, threads=threads) == mcr.encode(a, threads=1)
