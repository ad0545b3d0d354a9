"""The packed dict: ``encode(a, packed=True)``, the bytes form in base64 inside JSON."""

from __future__ import annotations

import base64
import json

import numpy as np
import pytest
from hypothesis import given

import multiclass_rle as mcr

from .test_bytesform import label_maps


def street() -> np.ndarray:
    a = np.zeros((120, 160), np.uint8)
    a[20:90, 10:70] = 7
    a[50:120, 60:150] = 3
    a[::7, 100:110] = 11
    return a


def test_packed_dict_keys_and_round_trip():
    a = street()
    rle = mcr.encode(a, packed=True)
    assert set(rle) == {"size", "dtype", "packed"}
    assert rle["size"] == [120, 160] and rle["dtype"] == "uint8"
    assert base64.b64decode(rle["packed"]) == mcr.encode_bytes(a)
    back = mcr.decode(json.loads(json.dumps(rle)))
    assert back.dtype == np.uint8 and np.array_equal(back, a)
    assert len(json.dumps(rle)) < len(json.dumps(mcr.encode(a))) / 2


@given(label_maps())
def test_packed_round_trips_every_map(a):
    rle = json.loads(json.dumps(mcr.encode(a, packed=True)))
    back = mcr.decode(rle)
    assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a)
    back_f = mcr.decode(rle, order="F")
    assert back_f.flags.f_contiguous and np.array_equal(back_f, a)
    assert mcr.as_runs(rle) == mcr.encode_runs(a)


def test_binary_maps_keep_coco_counts():
    pycoco = pytest.importorskip("pycocotools.mask")
    m = np.zeros((60, 80), np.uint8)
    m[10:50, 5:70] = 1
    m[20:30, 30:40] = 0
    rle = mcr.encode(m, packed=True)
    assert rle == mcr.encode(m)
    coco = pycoco.encode(np.asfortranarray(m))
    assert rle["counts"] == coco["counts"].decode()
    assert mcr.encode(m.astype(bool), packed=True) == mcr.encode(m.astype(bool))


def test_tiny_maps_keep_the_shorter_plain_form():
    a = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]], np.uint8)
    assert mcr.encode(a, packed=True) == mcr.encode(a)


def test_operations_take_packed_dicts():
    a = street()
    rle = mcr.encode(a, packed=True)
    assert "packed" in rle
    np.testing.assert_array_equal(mcr.labels(rle), np.unique(a))
    assert mcr.area(rle) == {int(v): int((a == v).sum()) for v in np.unique(a)}
    np.testing.assert_array_equal(mcr.decode_window(rle, (slice(10, 40), slice(50, 90))),
                                  a[10:40, 50:90])
    cm = mcr.confusion_matrix(rle, mcr.encode(a))
    assert np.array_equal(np.diag(cm), [int((a == v).sum()) for v in np.unique(a)])


@pytest.mark.parametrize("change,words", [
    ({"packed": 5}, "'packed' must be a base64 string, got int"),
    ({"packed": "TUNSTA=!"}, "'packed' is not valid base64"),
    ({"packed": "TUNSTA=="}, "bytes form"),
    ({"size": [120, 161]}, "'size' is (120, 161) but the packed map has shape (120, 160)"),
    ({"dtype": "int16"}, "'dtype' is 'int16' but the packed map holds uint8"),
    ({"counts": "12"}, "either 'packed' or 'values'/'counts'"),
])
def test_malformed_packed_dicts_are_named(change, words):
    rle = {**mcr.encode(street(), packed=True), **change}
    with pytest.raises(mcr.MalformedRLEError) as info:
        mcr.decode(rle)
    assert words in str(info.value)
    with pytest.raises(mcr.MalformedRLEError):
        mcr.as_runs(rle)


def test_corrupt_packed_payload_is_caught_by_the_checksum():
    rle = mcr.encode(street(), packed=True)
    blob = bytearray(base64.b64decode(rle["packed"]))
    blob[-3] ^= 0x40
    bad = {**rle, "packed": base64.b64encode(bytes(blob)).decode()}
    with pytest.raises(mcr.MalformedRLEError, match="checksum"):
        mcr.decode(bad)
