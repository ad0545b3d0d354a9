"""Property tests: the codec against the pure-numpy reference, on any label map.

Maps cover every label dtype, 1..4 dimensions (zero-length axes included),
C and Fortran order, strided / reversed / transposed views, read-only
arrays, the extremes of each dtype, random noise and blocky maps.
"""

from __future__ import annotations

import json

import hypothesis.extra.numpy as hnp
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import multiclass_rle as mcr

DTYPES = [np.dtype(n) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64")]

#: Largest repetition factor of blocky maps, by number of dimensions (keeps maps small).
_MAX_REPEAT = {1: 40, 2: 8, 3: 4, 4: 3}


def _elements(dt: np.dtype, draw) -> st.SearchStrategy:
    """Element strategy for dtype ``dt``: full-range noise or a small alphabet, extremes favoured."""
    if dt.kind == "b":
        return st.booleans()
    info = np.iinfo(dt)
    lo, hi = int(info.min), int(info.max)
    extremes = st.sampled_from(sorted({lo, hi, lo + 1, hi - 1, 0, 1}))
    any_value = st.one_of(extremes, st.integers(lo, hi))
    if draw(st.booleans()):
        return any_value                                        # noise
    alphabet = draw(st.lists(any_value, min_size=1, max_size=4, unique=True))
    return st.sampled_from(alphabet)                            # few labels: long runs


@st.composite
def base_maps(draw) -> np.ndarray:
    dt = draw(st.sampled_from(DTYPES))
    ndim = draw(st.integers(1, 4))
    elements = _elements(dt, draw)
    min_side = draw(st.sampled_from([0, 1, 1, 1, 1, 1]))  # zero-length axes now and then
    if draw(st.booleans()):
        # blocky: a small random map blown up by np.repeat / np.kron
        small_shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=min_side,
                                            max_side=6 if ndim == 1 else 3))
        small = draw(hnp.arrays(dt, small_shape, elements=elements))
        reps = draw(st.lists(st.integers(1, _MAX_REPEAT[ndim]), min_size=ndim, max_size=ndim))
        if dt.kind in "iu" and draw(st.booleans()):
            return np.kron(small, np.ones(reps, dtype=dt)).astype(dt, copy=False)
        for axis, r in enumerate(reps):
            small = np.repeat(small, r, axis=axis)
        return small
    shape = draw(hnp.array_shapes(min_dims=ndim, max_dims=ndim, min_side=min_side,
                                  max_side={1: 40, 2: 10, 3: 6, 4: 5}[ndim]))
    return draw(hnp.arrays(dt, shape, elements=elements))


@st.composite
def label_maps(draw) -> np.ndarray:
    """A label map in some memory layout: C/F order, then views; maybe read-only."""
    a = draw(base_maps())
    a = np.array(a, order=draw(st.sampled_from("CF")))
    for _ in range(draw(st.integers(0, 3))):
        op = draw(st.sampled_from(["slice", "transpose", "moveaxis", "flip", "embed"]))
        if op == "slice":
            sl = []
            for n in a.shape:
                step = draw(st.sampled_from([1, 1, 2, 3, -1, -2]))
                start = draw(st.sampled_from([None] * 5 + [1, n // 2, n + 1]))
                sl.append(slice(start, None, step))
            a = a[tuple(sl)]
        elif op == "transpose":
            a = a.transpose(draw(st.permutations(range(a.ndim))))
        elif op == "moveaxis":
            src = draw(st.integers(0, a.ndim - 1))
            dst = draw(st.integers(0, a.ndim - 1))
            a = np.moveaxis(a, src, dst)
        elif op == "flip":
            a = np.flip(a, axis=draw(st.integers(0, a.ndim - 1)))
        else:
            # same content, non-contiguous: every other element of a bigger buffer
            k = draw(st.integers(2, 3))
            big = np.zeros(tuple(n * k for n in a.shape), dtype=a.dtype,
                           order=draw(st.sampled_from("CF")))
            view = big[tuple(slice(None, None, k) for _ in a.shape)]
            view[...] = a
            a = view
    if draw(st.booleans()):
        a.flags.writeable = False
    return a


def _snapshot(a: np.ndarray):
    return a.copy(order="K"), a.flags.writeable


def _assert_unchanged(a: np.ndarray, snap) -> None:
    before, writeable = snap
    assert a.dtype == before.dtype and a.shape == before.shape
    assert np.array_equal(a, before), "the input array was modified"
    assert a.flags.writeable == writeable


def _assert_same_map(got: np.ndarray, a: np.ndarray) -> None:
    assert got.shape == a.shape
    assert got.dtype == a.dtype
    assert np.array_equal(got, a)


# ---------------------------------------------------------------------------


@given(a=label_maps())
def test_encode_runs_matches_reference(a, ref):
    snap = _snapshot(a)
    runs = mcr.encode_runs(a)
    values, counts = ref.runs(a)
    assert runs.shape == a.shape
    assert all(type(d) is int for d in runs.shape)
    assert runs.values.dtype == a.dtype
    assert runs.dtype == a.dtype
    assert runs.counts.dtype == np.uint64
    assert runs.values.ndim == 1 and runs.counts.ndim == 1
    assert len(runs) == len(counts)
    assert np.array_equal(runs.values, values)
    assert np.array_equal(runs.counts, counts)
    assert runs.size == a.size
    assert int(runs.counts.sum()) == a.size
    _assert_unchanged(a, snap)


@given(a=label_maps())
def test_encode_compact_dict_matches_reference_coder(a, ref):
    snap = _snapshot(a)
    rle = mcr.encode(a)
    values, counts = ref.runs(a)
    assert list(rle) == ["size", "values", "counts", "dtype"]
    assert rle["size"] == list(a.shape)
    assert all(type(d) is int for d in rle["size"])
    assert rle["dtype"] == a.dtype.name
    assert rle["values"] == ref.string_encode([int(v) for v in values], 2)
    assert rle["counts"] == ref.string_encode([int(c) for c in counts], 3)
    # and the reference decoder reads them back
    assert ref.string_decode(rle["counts"], 3) == [int(c) for c in counts]
    assert [v % 2**64 for v in ref.string_decode(rle["values"], 2)] == \
        [int(v) % 2**64 for v in values]
    _assert_unchanged(a, snap)


@given(a=label_maps())
def test_decode_roundtrip_c_and_f(a):
    snap = _snapshot(a)
    rle = mcr.encode(a)
    back = mcr.decode(rle)
    _assert_same_map(back, a)
    assert back.flags.c_contiguous and back.flags.writeable
    back_f = mcr.decode(rle, order="F")
    _assert_same_map(back_f, a)
    assert back_f.flags.f_contiguous
    # from Runs too
    runs = mcr.encode_runs(a)
    _assert_same_map(mcr.decode(runs), a)
    _assert_same_map(runs.to_array(order="F"), a)
    assert runs.to_dict() == rle
    _assert_unchanged(a, snap)


@given(a=label_maps(), layout=st.sampled_from(["C", "F", "strided", "reversed", "transposed"]),
       k=st.integers(2, 3))
def test_decode_into_out(a, layout, k):
    snap = _snapshot(a)
    rle = mcr.encode(a)
    shape = a.shape
    if layout in ("C", "F"):
        big = np.empty(shape, dtype=a.dtype, order=layout)
        view_of = lambda buf: buf  # noqa: E731
    elif layout == "transposed":
        big = np.empty(shape[::-1], dtype=a.dtype)
        view_of = lambda buf: buf.T  # noqa: E731
    else:
        big = np.empty(tuple(n * k for n in shape), dtype=a.dtype)
        step = -k if layout == "reversed" else k
        view_of = lambda buf: buf[tuple(slice(None, None, step) for _ in shape)]  # noqa: E731
    out = view_of(big)
    assert out.shape == shape
    # a sentinel everywhere, to see that only out's elements are written
    sentinel = True if a.dtype.kind == "b" else np.iinfo(a.dtype).max
    big[...] = sentinel
    outside = np.ones(big.shape, dtype=bool)
    view_of(outside)[...] = False

    ret = mcr.decode(rle, out=out)
    assert ret is out
    _assert_same_map(out, a)
    assert bool((big[outside] == sentinel).all()), "decode wrote outside out"
    # again via Runs, into the same out
    out[...] = 0
    assert mcr.decode(mcr.encode_runs(a), out=out) is out
    _assert_same_map(out, a)
    _assert_unchanged(a, snap)


@given(a=label_maps())
def test_json_roundtrip(a):
    snap = _snapshot(a)
    text = json.dumps(mcr.encode(a))
    back = mcr.decode(json.loads(text))
    _assert_same_map(back, a)
    _assert_unchanged(a, snap)


@given(a=label_maps())
def test_legacy_roundtrip(a, ref):
    snap = _snapshot(a)
    d = mcr.array_to_multi_class_rle(a)
    values, counts = ref.runs(a)
    assert list(d) == ["size", "values", "counts"]
    assert all(type(v) is tuple for v in d.values())
    assert d["size"] == a.shape
    assert all(type(x) is int for x in d["size"] + d["values"] + d["counts"])
    assert d["values"] == tuple(int(v) for v in values)
    assert d["counts"] == tuple(int(c) for c in counts)

    expected_dtype = ref.smallest_dtype(d["values"])
    for form in (d, json.loads(json.dumps(d))):
        back = mcr.multi_class_rle_to_array(form)
        assert back.shape == a.shape
        assert back.dtype == expected_dtype
        assert back.flags.c_contiguous
        # unsigned/bool maps may come back in a smaller dtype: compare values
        expected = a.astype(np.uint8) if a.dtype.kind == "b" else a
        assert back.tolist() == expected.tolist()
    _assert_unchanged(a, snap)


@given(a=label_maps())
def test_non_native_byte_order(a):
    """Byte-swapped arrays encode like native ones and decode to the native dtype."""
    if a.dtype.itemsize == 1:
        return
    swapped = a.astype(a.dtype.newbyteorder("S"))
    assert not swapped.dtype.isnative
    snap = _snapshot(swapped)
    rle = mcr.encode(swapped)
    assert rle == mcr.encode(a)
    runs = mcr.encode_runs(swapped)
    assert np.array_equal(runs.values, mcr.encode_runs(a).values)
    _assert_same_map(mcr.decode(rle), a)
    _assert_unchanged(swapped, snap)


@pytest.mark.parametrize("dt", DTYPES, ids=str)
@pytest.mark.parametrize("ndim", [1, 2, 3, 4])
def test_extremes_every_dtype_and_ndim(dt, ndim, ref):
    """Deterministic: min/max of each dtype alternating in blocks, in 1..4 dimensions."""
    lo, hi = (False, True) if dt.kind == "b" else (np.iinfo(dt).min, np.iinfo(dt).max)
    shape = (5, 4, 3, 2)[:ndim]
    rng = np.random.default_rng(ndim)
    a = np.where(rng.random(shape) < 0.5, lo, hi).astype(dt)
    a.flat[0] = hi
    a.flat[-1] = lo
    for arr in (a, np.asfortranarray(a), a[::-1], a.T):
        values, counts = ref.runs(arr)
        runs = mcr.encode_runs(arr)
        assert np.array_equal(runs.values, values) and np.array_equal(runs.counts, counts)
        _assert_same_map(mcr.decode(json.loads(json.dumps(mcr.encode(arr)))), arr)


@pytest.mark.parametrize("shape", [(0,), (3, 0), (0, 4), (2, 0, 3), (1, 1, 1, 0), (0, 0, 0, 0)])
@pytest.mark.parametrize("dt", DTYPES, ids=str)
def test_zero_length_axes(shape, dt):
    a = np.zeros(shape, dtype=dt)
    runs = mcr.encode_runs(a)
    assert len(runs) == 0 and runs.counts.dtype == np.uint64 and runs.values.dtype == dt
    rle = mcr.encode(a)
    assert rle == {"size": list(shape), "values": "", "counts": "", "dtype": dt.name}
    for order in "CF":
        _assert_same_map(mcr.decode(rle, order=order), a)
    assert mcr.array_to_multi_class_rle(a) == {"size": shape, "values": (), "counts": ()}
    back = mcr.multi_class_rle_to_array(mcr.array_to_multi_class_rle(a))
    assert back.shape == shape and back.dtype == np.uint8
