"""Dtypes: smallest dtype without a 'dtype' key, dtype= and out= overrides, refused dtypes."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multiclass_rle as mcr


def _rle(values, counts=None):
    counts = [1] * len(values) if counts is None else counts
    return {"size": [sum(counts)], "values": list(values), "counts": list(counts)}


@pytest.mark.parametrize("values,expected", [
    ([0, 255], np.uint8),
    ([0], np.uint8),
    ([7, 3, 7], np.uint8),
    ([0, 300], np.uint16),
    ([65535], np.uint16),
    ([65536], np.uint32),
    ([2**32 - 1], np.uint32),
    ([2**32], np.uint64),
    ([2**64 - 1], np.uint64),
    ([-1, 5], np.int8),
    ([-128, 127], np.int8),
    ([-1, 128], np.int16),
    ([-200, 0], np.int16),
    ([-2**15 - 1], np.int32),
    ([-2**31 - 1], np.int64),
    ([-2**63], np.int64),
    ([-2**63, 2**63 - 1], np.int64),
])
def test_smallest_dtype_without_dtype_key(values, expected):
    rle = _rle(values)
    for form in (rle, json.loads(json.dumps(rle))):
        out = mcr.decode(form)
        assert out.dtype == np.dtype(expected)
        assert out.tolist() == list(values)
        assert mcr.multi_class_rle_to_array(form).dtype == np.dtype(expected)


@pytest.mark.parametrize("values,expected", [
    ([0, 2**64 - 1], np.uint64),
    ([2**63, 5], np.uint64),
    ([1, 2**63], np.uint64),
])
def test_smallest_dtype_uint64_values_above_int64(values, expected):
    """Python-int lists mixing small values and values >= 2**63 (what
    array_to_multi_class_rle gives for such uint64 maps) must decode exactly."""
    out = mcr.decode(_rle(values))
    assert out.dtype == np.dtype(expected)
    assert out.tolist() == list(values)


def test_legacy_roundtrip_uint64_above_int64():
    a = np.array([[0, 2**64 - 1], [2**63, 0]], dtype=np.uint64)
    back = mcr.multi_class_rle_to_array(mcr.array_to_multi_class_rle(a))
    assert back.dtype == np.uint64
    assert np.array_equal(back, a)


def test_dtype_key_is_used():
    a = np.array([0, 1, 2], dtype=np.int64)
    rle = mcr.encode(a)
    assert rle["dtype"] == "int64"
    assert mcr.decode(rle).dtype == np.int64
    rle_without = {k: v for k, v in rle.items() if k != "dtype"}
    assert mcr.decode(rle_without).dtype == np.uint8


@pytest.mark.parametrize("dtype", ["int64", np.int16, np.dtype("uint32"), "u8", "<i4", ">i4", bool])
def test_dtype_override(dtype):
    rle = mcr.encode(np.array([[0, 1], [1, 1]], dtype=np.uint8))
    out = mcr.decode(rle, dtype=dtype)
    target = np.dtype(dtype)
    assert out.dtype.kind == target.kind and out.dtype.itemsize == target.itemsize
    assert out.dtype.isnative
    assert out.tolist() == [[0, 1], [1, 1]]
    runs = mcr.as_runs(rle, dtype=dtype)
    assert runs.dtype.kind == target.kind and runs.dtype.itemsize == target.itemsize


@pytest.mark.parametrize("values,dtype,bad", [
    ([0, 300], np.uint8, "300"),
    ([0, -1], np.uint16, "-1"),
    ([0, 2], bool, "2"),
    ([-129, 0], np.int8, "-129"),
    ([2**31], np.int32, str(2**31)),
    ([-1], np.uint64, "-1"),
])
def test_dtype_override_refuses_values_that_do_not_fit(values, dtype, bad):
    rle = _rle(values)
    with pytest.raises(mcr.RLEValueError, match=rf"(?<![\d-]){bad}(?!\d)") as info:
        mcr.decode(rle, dtype=dtype)
    assert isinstance(info.value, ValueError)
    with pytest.raises(ValueError):
        mcr.as_runs(rle, dtype=dtype)


def test_stored_dtype_refuses_values_that_do_not_fit():
    rle = {"size": [2], "values": [0, 300], "counts": [1, 1], "dtype": "uint8"}
    with pytest.raises(mcr.RLEValueError, match=r"300.*uint8"):
        mcr.decode(rle)
    # the RLE contradicts itself: a wider dtype= does not make it valid
    with pytest.raises(mcr.RLEValueError, match="300"):
        mcr.decode(rle, dtype=np.uint16)


@pytest.mark.parametrize("src", [np.bool_, np.uint8, np.int8, np.uint16, np.int16, np.int32])
@pytest.mark.parametrize("dst", [np.int64, np.int32])
def test_out_with_wider_dtype(src, dst):
    a = np.array([[0, 1, 1], [1, 0, 0]], dtype=src)
    if np.dtype(src).kind == "i":
        a[0, 0] = -3
    out = np.full(a.shape, 99, dtype=dst, order="F")
    assert mcr.decode(mcr.encode(a), out=out) is out
    assert out.dtype == np.dtype(dst)
    assert out.tolist() == a.astype(dst).tolist()


def test_out_unsigned_wider_from_uint():
    a = np.array([0, 255, 7], dtype=np.uint8)
    out = np.zeros(3, np.uint64)
    mcr.decode(mcr.encode(a), out=out)
    assert out.tolist() == [0, 255, 7]


def test_out_too_narrow_is_refused():
    rle = mcr.encode(np.array([0, 300], dtype=np.uint16))
    out = np.zeros(2, np.uint8)
    with pytest.raises(ValueError, match="300"):
        mcr.decode(rle, out=out)
    assert out.tolist() == [0, 0]


@pytest.mark.parametrize("arr", [
    np.zeros((2, 2), np.float32),
    np.zeros((2, 2), np.float64),
    np.zeros((2, 2), np.float16),
    np.zeros((2, 2), np.complex128),
    np.array([[1, None]], dtype=object),
    np.array([["a", "b"]]),
    np.array([[b"a"]]),
    np.zeros(3, "datetime64[s]"),
    np.zeros(3, "timedelta64[ms]"),
    [[0.5, 1.0]],
], ids=lambda a: str(getattr(a, "dtype", type(a).__name__)))
@pytest.mark.parametrize("fn", [mcr.encode, mcr.encode_runs, mcr.array_to_multi_class_rle],
                         ids=lambda f: f.__name__)
def test_non_integer_arrays_refused(arr, fn):
    with pytest.raises(TypeError) as info:
        fn(arr)
    assert isinstance(info.value, mcr.RLETypeError)
    assert isinstance(info.value, mcr.RLEError)
    dtname = str(np.asarray(arr).dtype)
    assert dtname.split("[")[0].lstrip("<>|=") in str(info.value)


@pytest.mark.parametrize("dtype", [np.float32, "complex64", object, "U3", "datetime64[s]"])
def test_non_integer_dtype_argument_refused(dtype):
    rle = mcr.encode(np.array([0, 1], np.uint8))
    with pytest.raises(mcr.RLETypeError):
        mcr.decode(rle, dtype=dtype)
    with pytest.raises(mcr.RLETypeError):
        mcr.decode(rle, out=np.zeros(2, dtype=dtype))


@pytest.mark.parametrize("shape", [(5,), (3, 4), (2, 3, 4), (2, 1, 3, 2)])
def test_bool_maps_roundtrip_as_bool(shape):
    rng = np.random.default_rng(len(shape))
    a = rng.random(shape) < 0.5
    rle = mcr.encode(a)
    assert rle["dtype"] == "bool"
    for form in (rle, json.loads(json.dumps(rle))):
        back = mcr.decode(form)
        assert back.dtype == np.bool_
        assert np.array_equal(back, a)
    runs = mcr.encode_runs(a)
    assert runs.dtype == np.bool_
    assert mcr.decode(runs).dtype == np.bool_
    # the legacy form has 0/1 ints and decodes to uint8
    legacy = mcr.array_to_multi_class_rle(a)
    assert set(legacy["values"]) <= {0, 1}
    assert all(type(v) is int for v in legacy["values"])
    back = mcr.multi_class_rle_to_array(legacy)
    assert back.dtype == np.uint8
    assert np.array_equal(back, a.astype(np.uint8))


def test_bool_dtype_key_with_value_two_refused():
    rle = {"size": [2], "values": [0, 2], "counts": [1, 1], "dtype": "bool"}
    with pytest.raises(ValueError, match=r"\b2\b"):
        mcr.decode(rle)
    rle = {"size": [2], "values": "02", "counts": "11", "dtype": "bool"}
    with pytest.raises(ValueError, match=r"\b2\b"):
        mcr.decode(rle)


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32",
                                  "uint64", "int64"])
def test_every_dtype_name_decodes(name):
    dt = np.dtype(name)
    hi = 1 if dt.kind == "b" else int(np.iinfo(dt).max)
    lo = 0 if dt.kind == "b" else int(np.iinfo(dt).min)
    a = np.array([lo, hi, hi, lo], dtype=dt)
    rle = mcr.encode(a)
    assert rle["dtype"] == name
    back = mcr.decode(json.loads(json.dumps(rle)))
    assert back.dtype == dt
    assert np.array_equal(back, a)


@pytest.mark.parametrize("name", ["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32",
                                  "uint64", "int64"])
@pytest.mark.parametrize("order", ["<", ">"])
def test_dicts_name_the_dtype_as_numpy_does_in_either_byte_order(name, order):
    # encode writes the name from a lookup (numpy's dtype.name is slow to build)
    dt = np.dtype(name).newbyteorder(order)
    a = np.array([0, 1, 1, 0], dtype=dt)
    assert mcr.encode(a)["dtype"] == dt.name == name
    assert mcr.encode(a, packed=True)["dtype"] == name
    assert mcr.encode_runs(a).to_dict()["dtype"] == name
