"""The payloads of the integrations (src/multiclass_rle/_integrations/payload.py): numpy only."""

from __future__ import annotations

import json

import numpy as np
import pytest

import multiclass_rle as mcr
from multiclass_rle._integrations import payload as _payload


def _map():
    a = np.zeros((30, 20, 3), np.int16)
    a[5:25, 2:18] = -4
    a[10:12] = 300
    return a


def test_writes_the_bytes_form_when_it_is_there():
    a = _map()
    p = _payload.to_payload(a)
    assert _payload.BYTES_FORM and p[:4] == b"MCRL"
    assert p == mcr.encode_bytes(a)


@pytest.mark.parametrize("interim", [False, True])
def test_roundtrip_and_header(interim):
    a = _map()
    if interim:   # the interim JSON payload of early builds: read, never written
        p = b"MCRJ" + json.dumps(mcr.encode(a)).encode("ascii")
    else:
        p = _payload.to_payload(a)
    assert p[:4] == (b"MCRJ" if interim else b"MCRL")
    for buf in (p, bytearray(p), memoryview(p), np.frombuffer(p, np.uint8)):
        assert np.array_equal(_payload.from_payload(buf), a)
    out = np.empty((30, 20, 3), np.int64, order="F")
    assert _payload.from_payload(p, out=out) is out and np.array_equal(out, a)
    assert _payload.from_payload(p, dtype=np.int32).dtype == np.int32
    assert _payload.payload_info(p) == ((30, 20, 3), np.dtype(np.int16))
    assert _payload.payload_runs(p) == mcr.encode_runs(a)
    assert _payload.payload_area(p) == mcr.area(mcr.encode(a))


def test_bad_payloads():
    with pytest.raises(mcr.MalformedRLEError):
        _payload.from_payload(b"MC")
    with pytest.raises(mcr.MalformedRLEError):
        _payload.from_payload(b"XXXX1234")
    for fn in (_payload.from_payload, _payload.payload_runs, _payload.payload_info):
        with pytest.raises(mcr.MalformedRLEError):
            fn(b"MCRJ{not json")
        with pytest.raises(mcr.MalformedRLEError):
            fn(b"ABCD")
    with pytest.raises(mcr.MalformedRLEError):
        _payload.from_payload(b"MCRJ[1, 2]")
    with pytest.raises(mcr.RLETypeError):
        _payload.from_payload(12345)
    p = _payload.to_payload(_map())
    with pytest.raises(mcr.MalformedRLEError):
        _payload.from_payload(p[:-3])
