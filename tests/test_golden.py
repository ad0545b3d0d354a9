"""Golden values: the README example, COCO (pycocotools) strings, pinned compact dicts.

The pinned dicts freeze the compact format: if one of these tests fails, the
format changed and every stored RLE would decode differently.
"""

from __future__ import annotations

import json
import warnings

import numpy as np
import pytest

import multiclass_rle as mcr

README_MAP = [[0, 0, 1, 1, 0],
              [3, 0, 1, 1, 0],
              [3, 3, 1, 1, 0],
              [3, 3, 0, 0, 0]]
README_RLE = {"size": (4, 5), "values": (0, 3, 0, 3, 1, 0, 1, 0), "counts": (1, 3, 2, 2, 3, 1, 3, 5)}


def test_readme_example_encode_exact():
    rle = mcr.array_to_multi_class_rle(README_MAP)
    assert rle == README_RLE
    assert list(rle) == ["size", "values", "counts"]
    for key in rle:
        assert type(rle[key]) is tuple
        assert all(type(x) is int for x in rle[key])


@pytest.mark.parametrize("dt", [np.uint8, np.int8, np.uint16, np.int32, np.int64, np.uint64])
def test_readme_example_any_input_dtype_gives_python_ints(dt):
    rle = mcr.array_to_multi_class_rle(np.array(README_MAP, dtype=dt))
    assert rle == README_RLE
    assert all(type(x) is int for key in rle for x in rle[key])


@pytest.mark.parametrize("form", ["tuples", "json", "numpy_int64", "numpy_uint8", "numpy_uint64"])
def test_readme_example_decode(form):
    if form == "tuples":
        rle = dict(README_RLE)
    elif form == "json":
        rle = json.loads(json.dumps(README_RLE))
        assert isinstance(rle["values"], list)
    else:
        dt = {"numpy_int64": np.int64, "numpy_uint8": np.uint8, "numpy_uint64": np.uint64}[form]
        rle = {"size": README_RLE["size"], "values": np.array(README_RLE["values"], dtype=dt),
               "counts": np.array(README_RLE["counts"], dtype=dt)}
    for back in (mcr.multi_class_rle_to_array(rle), mcr.decode(rle)):
        assert back.dtype == np.uint8
        assert back.shape == (4, 5)
        assert back.tolist() == README_MAP


def test_readme_example_compact():
    a = np.array(README_MAP, dtype=np.uint8)
    rle = mcr.encode(a)
    assert rle == {"size": [4, 5], "values": "03001M00", "counts": "132O1O04", "dtype": "uint8"}
    assert mcr.decode(rle).tolist() == README_MAP


# ---------------------------------------------------------------------------
# pinned compact dicts: (array, compact dict), each checked by hand


def _golden_cases():
    return [
        # runs (Fortran order): T,F,TT,F,T -> values 1,0,1,0,1 (deltas 1,0,0,0,0);
        # counts 1,1,2,1,1 -> '1','1','2', 1-1=0 '0', 1-2=-1 'O'
        ("bool",
         np.array([[True, True, False], [False, True, True]]),
         {"size": [2, 3], "values": "10000", "counts": "1120O", "dtype": "bool"}),
        ("int8_extremes",
         np.array([-128, -128, 127, 0, 0, 0, -1], dtype=np.int8),
         {"size": [7], "values": "PLo3P4PL", "counts": "2130", "dtype": "int8"}),
        ("int16_3d",
         np.array([[[-400, -300], [-200, -100]], [[0, 100], [200, 300]]], dtype=np.int16),
         {"size": [2, 2, 2], "values": "`C0X6X6lLlLX6X6", "counts": "11100000",
          "dtype": "int16"}),
        # counts 40 (two chars: 8|0x20 -> 'X', 1 -> '1'), 1000, 17, 3
        ("uint16_long_runs",
         np.repeat(np.array([0, 300, 0, 65535], dtype=np.uint16), [40, 1000, 17, 3]),
         {"size": [1060], "values": "0\\90cfo1", "counts": "X1Xo0a0kPO", "dtype": "uint16"}),
        ("uint32_panoptic_ids",
         np.array([[0, 16762578], [0, 16762578], [7, 7]], dtype=np.uint32),
         {"size": [3, 2], "values": "07bfao?0", "counts": "2120", "dtype": "uint32"}),
        ("uint64_extremes",
         np.array([0, 2**64 - 1, 2**63], dtype=np.uint64),
         {"size": [3], "values": "0OPPPPPPPPPPPPH", "counts": "111", "dtype": "uint64"}),
        ("int64_extremes",
         np.array([-2**63, 2**63 - 1], dtype=np.int64),
         {"size": [2], "values": "PPPPPPPPPPPPHoooooooooooo7", "counts": "11", "dtype": "int64"}),
        # 12 ones then 12 minus-twos: counts 12,12 -> '<<'; values 1, -2 -> '1', 'N'
        ("int32_4d",
         np.concatenate([np.ones((1, 2, 2, 3), np.int32), np.full((1, 2, 2, 3), -2, np.int32)],
                        axis=3),
         {"size": [1, 2, 2, 6], "values": "1N", "counts": "<<", "dtype": "int32"}),
        ("uint8_zeros",
         np.zeros((4, 5), dtype=np.uint8),
         {"size": [4, 5], "values": "0", "counts": "d0", "dtype": "uint8"}),
    ]


_CASES = _golden_cases()


@pytest.mark.parametrize("name,array,golden", _CASES, ids=[c[0] for c in _CASES])
def test_pinned_compact_dicts(name, array, golden, ref):
    assert mcr.encode(array) == golden
    for rle in (golden, json.loads(json.dumps(golden))):
        back = mcr.decode(rle)
        assert back.dtype == array.dtype
        assert back.shape == array.shape
        assert np.array_equal(back, array)
    # independent check: the reference (pure Python COCO) decoder reads the same runs
    counts = ref.string_decode(golden["counts"], 3)
    values = [v % 2**64 for v in ref.string_decode(golden["values"], 2)]
    if array.dtype.kind == "i":
        values = [v - 2**64 if v >= 2**63 else v for v in values]
    expected = ref.decode(np.array(values, dtype=object), counts, golden["size"])
    assert expected.tolist() == array.tolist()


def test_pinned_values_of_known_runs():
    """Direct: numbers -> string for the two delta rules (values: from 3rd; counts: from 4th)."""
    rle = mcr.encode(np.array([5] * 3 + [9] * 3 + [5] * 3 + [9] * 3, dtype=np.uint8))
    # values 5,9,5,9 -> '5','9', 5-5=0, 9-9=0 ; counts 3,3,3,3 -> '3','3','3', 3-3=0
    assert rle["values"] == "5900"
    assert rle["counts"] == "3330"


# ---------------------------------------------------------------------------
# pycocotools


def _binary_maps():
    rng = np.random.default_rng(20240601)
    maps = []
    for shape, density in [((1, 1), 0.0), ((1, 7), 0.5), ((5, 1), 0.5), ((6, 7), 0.5),
                           ((17, 13), 0.1), ((17, 13), 0.9), ((40, 50), 0.5)]:
        maps.append((rng.random(shape) < density).astype(np.uint8))
    # blobs: long runs (multi-character numbers, negative differences)
    for seed in range(8):
        r = np.random.default_rng(seed)
        h, w = int(r.integers(20, 120)), int(r.integers(20, 120))
        m = np.zeros((h, w), np.uint8)
        for _ in range(int(r.integers(1, 6))):
            y0, x0 = int(r.integers(0, h)), int(r.integers(0, w))
            m[y0:y0 + int(r.integers(1, h)), x0:x0 + int(r.integers(1, w))] ^= 1
        maps.append(m)
    maps.append(np.zeros((300, 400), np.uint8))
    full = np.ones((37, 41), np.uint8)
    maps.append(full)
    for m in maps:
        m[0, 0] = 0  # COCO strings start with a run of 0s
    return maps


_BINARY = _binary_maps()


@pytest.mark.parametrize("i", range(len(_BINARY)))
def test_counts_string_equals_pycocotools(i):
    mask_api = pytest.importorskip("pycocotools.mask")
    m = _BINARY[i]
    coco = mask_api.encode(np.asfortranarray(m))
    ours = mcr.encode(m)
    assert ours["counts"] == coco["counts"].decode()
    assert ours["size"] == list(coco["size"])
    # and for a C-ordered input or a transposed view of the transpose
    assert mcr.encode(np.ascontiguousarray(m))["counts"] == coco["counts"].decode()
    assert mcr.encode(np.asfortranarray(m.T).T)["counts"] == coco["counts"].decode()


def _masks_with_first_pixel(first: int):
    out = []
    for m in _BINARY:
        m = m.copy()
        m[0, 0] = first
        out.append(m)
    return out


def _coco_decode(mask_api, rle):
    """pycocotools' decode; its numpy-2 DeprecationWarning is silenced here only."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return mask_api.decode(rle)


@pytest.mark.parametrize("first", [0, 1])
@pytest.mark.parametrize("counts_type", ["bytes", "str"])
def test_decode_pycocotools_compressed(first, counts_type):
    mask_api = pytest.importorskip("pycocotools.mask")
    for m in _masks_with_first_pixel(first):
        coco = mask_api.encode(np.asfortranarray(m))
        rle = {"size": coco["size"], "counts": coco["counts"]}
        if counts_type == "str":
            rle["counts"] = rle["counts"].decode()
        got = mcr.decode(rle)
        expected = _coco_decode(mask_api, coco)
        assert got.dtype == np.uint8
        assert got.shape == expected.shape == m.shape
        assert np.array_equal(got, expected)
        assert np.array_equal(got, m)


@pytest.mark.parametrize("first", [0, 1])
def test_decode_pycocotools_uncompressed(first, ref):
    mask_api = pytest.importorskip("pycocotools.mask")
    for m in _masks_with_first_pixel(first):
        values, counts = ref.runs(m)
        counts = [int(c) for c in counts]
        if values[0] == 1:
            counts = [0] + counts  # COCO: the first count is always of 0s
        h, w = m.shape
        rle = {"size": [h, w], "counts": counts}
        expected = _coco_decode(mask_api, mask_api.frPyObjects(rle, h, w))
        got = mcr.decode(rle)
        assert got.dtype == np.uint8
        assert np.array_equal(got, expected)
        assert np.array_equal(got, m)
        assert np.array_equal(mcr.decode(json.loads(json.dumps(rle))), m)


def test_decode_coco_leading_zero_count():
    """A COCO RLE whose first pixel is 1 starts with a zero count."""
    got = mcr.decode({"size": [2, 3], "counts": [0, 2, 3, 1]})
    assert got.dtype == np.uint8
    # Fortran order: 1,1 | 0,0,0 | 1
    assert got.tolist() == [[1, 0, 0], [1, 0, 1]]
