"""Bad input: one test per class of error, checking the exception type and that
the message names the offending numbers. Nothing may crash: every refusal is
one of the library's own exceptions."""

from __future__ import annotations

import json
import re
import tracemalloc

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import multiclass_rle as mcr

SIZE = [4, 5]  # 20 elements


def _raises(exc_type, rle, match=None, **kwargs):
    """decode(rle) raises exc_type (an RLEError) whose message matches every pattern."""
    with pytest.raises(exc_type) as info:
        mcr.decode(rle, **kwargs)
    assert isinstance(info.value, mcr.RLEError)
    msg = str(info.value)
    for pattern in ([match] if isinstance(match, str) else (match or [])):
        assert re.search(pattern, msg), (pattern, msg)
    return info.value


def test_exception_classes():
    assert issubclass(mcr.MalformedRLEError, ValueError)
    assert issubclass(mcr.RLEValueError, ValueError)
    assert issubclass(mcr.LimitExceededError, ValueError)
    assert issubclass(mcr.RLETypeError, TypeError)


# ---------------------------------------------------------------------------
# counts


@pytest.mark.parametrize("counts", [[10, 9], [19], [1] * 19, [18, 1]])
def test_counts_short(counts):
    values = [i % 2 for i in range(len(counts))]
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": counts},
            [r"\b19\b", r"\b20\b"])


def test_counts_short_compact(ref):
    counts = ref.string_encode([10, 9], 3)
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": "01", "counts": counts},
            [r"\b19\b", r"\b20\b"])


@pytest.mark.parametrize("counts,total", [([10, 11], 21), ([21], 21), ([10, 10, 1], 21),
                                          ([1] * 25, None)])
def test_counts_long(counts, total):
    values = [i % 2 for i in range(len(counts))]
    err = _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": counts},
                  [r"\b20\b"])
    if total is not None:
        assert str(total) in str(err)


def test_counts_long_compact(ref):
    counts = ref.string_encode([10, 11], 3)
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": "01", "counts": counts},
            [r"\b21\b", r"\b20\b"])


@pytest.mark.parametrize("counts,index", [([10, 0, 10], 1), ([0, 20], 0), ([20, 0], 1)])
def test_zero_count(counts, index):
    values = [i % 2 for i in range(len(counts))]
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": counts},
            [rf"index {index}\b", r"\b0\b"])


def test_zero_count_compact(ref):
    _raises(mcr.MalformedRLEError,
            {"size": SIZE, "values": "012", "counts": ref.string_encode([10, 0, 10], 3)},
            [r"index 1\b", r"\b0\b"])


@pytest.mark.parametrize("counts,index,bad", [([10, -5, 15], 1, -5), ([-1, 21], 0, -1),
                                              ([25, -5], 1, -5)])
def test_negative_count_list(counts, index, bad):
    values = [i % 2 for i in range(len(counts))]
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": counts},
            [rf"index {index}\b", rf"(?<!\d){bad}\b"])


@pytest.mark.parametrize("numbers,index,bad", [([5, 5, -3], 2, -3), ([-15], 0, -15),
                                               ([5, 5, 3, -7], 3, -7), ([-1, 21], 0, -1)])
def test_negative_count_compact(numbers, index, bad, ref):
    s = ref.string_encode(numbers, 3)
    values = ref.string_encode([i % 2 for i in range(len(numbers))], 2)
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": s},
            [rf"index {index}\b", rf"(?<!\d){bad}\b"])


def test_count_given_in_a_list_beyond_int64_is_named_as_given():
    """A count of 2**63 in a list is a (huge) positive count, not a negative one."""
    big = 2**63
    _raises(mcr.MalformedRLEError, {"size": [4], "values": [0], "counts": [big]},
            rf"(?<![-\d]){big}\b")
    _raises(mcr.MalformedRLEError, {"size": [4], "values": [0], "counts": [2**64 - 1]},
            rf"(?<![-\d]){2**64 - 1}\b")


def test_counts_sum_overflowing_64_bits():
    counts = np.array([2**63 - 1, 2**63 - 1, 6], dtype=np.uint64)
    _raises(mcr.MalformedRLEError, {"size": [4], "values": [0, 1, 2], "counts": counts},
            [r"\b4\b"])


@pytest.mark.parametrize("counts,pattern", [
    ([10.0, 10.0], r"10\.0"),
    ([10.5, 9.5], r"10\.5"),
    (["10", "10"], r"'10'"),
    ([10, None], r"None"),
    (None, r"None"),
    ([[10], [10]], r"flat"),
    ([[10], 10], r"flat"),
    ([10, "a"], r"integers"),
    ({"a": 1}, r"dict"),
    (12.0, r"float"),
    ([2**70, 1], str(2**70)),
])
def test_non_integer_counts(counts, pattern):
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": [0, 1], "counts": counts}, pattern)


@pytest.mark.parametrize("values,pattern", [
    ([0.5, 1], r"0\.5"),
    (["a", "b"], r"'a'"),
    ([0, None], r"None"),
    ([[0], [1]], r"flat"),
    (None, r"None"),
    ([2**70, 1], str(2**70)),
])
def test_non_integer_values(values, pattern):
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": [10, 10]}, pattern)


@pytest.mark.parametrize("values,counts,nv,nc", [([0, 1, 2], [10, 10], 3, 2),
                                                  ([0], [10, 10], 1, 2),
                                                  ("012", "::", 3, 2),  # ':' is 10
                                                  ([], [20], 0, 1)])
def test_values_counts_length_mismatch(values, counts, nv, nc):
    _raises(mcr.MalformedRLEError, {"size": SIZE, "values": values, "counts": counts},
            [rf"\b{nv}\b", rf"\b{nc}\b"])


def test_value_outside_stored_dtype():
    values = mcr.encode(np.array([0, 300], np.uint16))["values"]
    _raises(mcr.RLEValueError,
            {"size": [2], "values": values, "counts": "11", "dtype": "uint8"},
            [r"\b300\b", "uint8"])
    _raises(mcr.RLEValueError,
            {"size": [2], "values": [0, -1], "counts": [1, 1], "dtype": "uint16"},
            [r"-1\b", "uint16"])


# ---------------------------------------------------------------------------
# compact strings


@pytest.mark.parametrize("key", ["counts", "values"])
@pytest.mark.parametrize("s,offset,char", [
    ("~", 0, "~"),
    ("12~", 2, "~"),
    ("\x00", 0, "\\x00"),
    ("1\x00", 1, "\\x00"),
    (" ", 0, " "),
    ("/", 0, "/"),
    ("p", 0, "p"),
])
def test_bad_character(key, s, offset, char):
    rle = {"size": [1], "values": "0", "counts": "1"}
    rle[key] = s
    _raises(mcr.MalformedRLEError, rle, [f"'{key}'", rf"offset {offset}\b", repr(char)[1:-1]])


@pytest.mark.parametrize("key", ["counts", "values"])
def test_non_ascii_character_is_named(key):
    rle = {"size": [1], "values": "0", "counts": "1"}
    rle[key] = "1é"
    err = _raises(mcr.MalformedRLEError, rle, [f"'{key}'", "offset 1"])
    assert "é" in str(err), f"the message should name the character the RLE holds: {err}"


@pytest.mark.parametrize("key", ["counts", "values"])
def test_non_ascii_bytes(key):
    rle = {"size": [1], "values": "0", "counts": "1"}
    rle[key] = "1é".encode()
    _raises(mcr.MalformedRLEError, rle, [f"'{key}'", "offset 1"])


@pytest.mark.parametrize("key", ["counts", "values"])
@pytest.mark.parametrize("s,offset", [("P", 0), ("1P", 1), ("12PP", 2), ("`", 0), ("1o", 1)])
def test_truncated_string(key, s, offset):
    rle = {"size": [1], "values": "0", "counts": "1"}
    rle[key] = s
    _raises(mcr.MalformedRLEError, rle, [f"'{key}'", "truncated", rf"offset {offset}\b"])


@pytest.mark.parametrize("key", ["counts", "values"])
@pytest.mark.parametrize("s,offset", [("P" * 13 + "0", 0), ("1" + "P" * 14 + "0", 1),
                                      ("o" * 20 + "0", 0)])
def test_number_too_long(key, s, offset):
    rle = {"size": [4], "values": "0", "counts": "4"}
    rle[key] = s
    _raises(mcr.MalformedRLEError, rle, [f"'{key}'", r"\b13\b", rf"offset {offset}\b"])


def test_thirteen_character_number_is_fine():
    # the longest 64-bit number takes 13 characters
    rle = mcr.encode(np.array([-2**63, 2**63 - 1], np.int64))
    assert len(rle["values"]) == 26
    assert mcr.decode(rle).tolist() == [-2**63, 2**63 - 1]


# ---------------------------------------------------------------------------
# size


@pytest.mark.parametrize("size,pattern", [
    ([-1, 5], r"-1"),
    ([4, -5], r"-5"),
    ([4.0, 5], r"4\.0"),
    ([4, 5.5], r"5\.5"),
    ([True, 5], r"True"),
    ([4, False], r"False"),
    ([], r"empty"),
    ("45", r"str"),
    (b"45", r"bytes"),
    ([4, "5"], r"'5'"),
    (None, r"None"),
    (20, r"int"),
    ([[4, 5]], r"\[4, 5\]"),
    ([1] * 33, r"\b33\b"),
    (np.array([4.0, 5.0]), r"4\.0"),
])
def test_bad_size(size, pattern):
    _raises(mcr.MalformedRLEError, {"size": size, "values": [0], "counts": [20]}, pattern)


@pytest.mark.parametrize("size", [[0, 2**63], [0, 2**64], [0, 10**30], [2**31, 0, 2**40]])
def test_zero_element_size_with_huge_dimension(size):
    """No elements, but numpy cannot make the array: still an RLE error, not numpy's."""
    with pytest.raises(mcr.RLEError) as info:
        mcr.decode({"size": size, "values": [], "counts": []})
    assert isinstance(info.value, ValueError)


def test_size_over_limit_refused_before_allocating():
    size = [10**6, 10**6, 10**6]
    rle = {"size": size, "values": [0], "counts": [10**18]}  # consistent counts
    tracemalloc.start()
    try:
        err = _raises(mcr.LimitExceededError, rle,
                      [str(10**18), "set_max_elements", str(mcr.get_max_elements())])
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 10 * 2**20, f"{peak} bytes allocated before refusing"
    assert isinstance(err, ValueError)
    # even far beyond 64 bits
    _raises(mcr.LimitExceededError, {"size": [10**10] * 3, "values": [0], "counts": [1]},
            [str(10**30), "set_max_elements"])


def test_set_max_elements():
    default = mcr.get_max_elements()
    assert default == 2**31
    old = mcr.set_max_elements(10)
    try:
        assert old == default
        assert mcr.get_max_elements() == 10
        assert mcr.decode({"size": [2, 5], "values": [1], "counts": [10]}).shape == (2, 5)
        _raises(mcr.LimitExceededError, {"size": [11], "values": [1], "counts": [11]},
                [r"\b11\b", r"\b10\b", "set_max_elements"])
        # decoding into out allocates nothing and is not limited
        out = np.zeros(11, np.uint8)
        assert mcr.decode({"size": [11], "values": [1], "counts": [11]}, out=out) is out
        assert out.tolist() == [1] * 11
        # raising it again lets the RLE through
        assert mcr.set_max_elements(11) == 10
        assert mcr.decode({"size": [11], "values": [1], "counts": [11]}).shape == (11,)
    finally:
        mcr.set_max_elements(old)
    assert mcr.get_max_elements() == default


@pytest.mark.parametrize("n,exc", [(0, ValueError), (-5, ValueError), (1.5, TypeError),
                                   ("10", TypeError), (None, TypeError)])
def test_set_max_elements_bad_argument(n, exc):
    before = mcr.get_max_elements()
    with pytest.raises(exc):
        mcr.set_max_elements(n)
    assert mcr.get_max_elements() == before


# ---------------------------------------------------------------------------
# dict structure


@pytest.mark.parametrize("dtype,pattern", [("float32", "float32"), ("uint128", "uint128"),
                                           ("", "''"), ("Int8", "Int8"), (3, "int"),
                                           (None, "NoneType")])
def test_unknown_dtype_name(dtype, pattern):
    _raises(mcr.MalformedRLEError,
            {"size": [2], "values": [0, 1], "counts": [1, 1], "dtype": dtype}, pattern)


@pytest.mark.parametrize("rle,missing", [
    ({"values": [0], "counts": [20]}, "size"),
    ({"size": SIZE, "values": [0]}, "counts"),
    ({}, "size"),
    ({"Size": SIZE, "Counts": [20]}, "size"),
])
def test_missing_keys(rle, missing):
    _raises(mcr.MalformedRLEError, rle, rf"'{missing}'")


@pytest.mark.parametrize("rle,pattern", [
    ([[0, 0], [1, 1]], "list"),
    ("size=4,5", "str"),
    (None, "NoneType"),
    (np.zeros((4, 5), np.uint8), r"ndarray.*encode\(\)"),
    (42, "int"),
    ((("size", [1]), ("counts", [1])), "tuple"),
])
def test_rle_not_a_dict(rle, pattern):
    for fn in (mcr.decode, mcr.as_runs, mcr.multi_class_rle_to_array):
        with pytest.raises(mcr.RLETypeError, match=pattern):
            fn(rle)


_RLE = {"size": [2, 3], "values": [0, 1], "counts": [3, 3]}


def test_out_wrong_shape():
    _raises(mcr.RLEValueError, _RLE, [r"\(3, 2\)", r"\(2, 3\)"], out=np.zeros((3, 2), np.uint8))
    _raises(mcr.RLEValueError, _RLE, [r"\(6,\)", r"\(2, 3\)"], out=np.zeros(6, np.uint8))


def test_out_dtype_differs_from_explicit_dtype():
    out = np.zeros((2, 3), np.uint8)
    _raises(mcr.RLEValueError, _RLE, ["uint8", "uint16"], out=out, dtype=np.uint16)
    assert out.tolist() == [[0] * 3] * 2


def test_out_read_only():
    out = np.zeros((2, 3), np.uint8)
    out.flags.writeable = False
    _raises(mcr.RLEValueError, _RLE, "read-only", out=out)
    assert not out.any()


def test_out_float_dtype():
    _raises(mcr.RLETypeError, _RLE, "float32", out=np.zeros((2, 3), np.float32))


@pytest.mark.parametrize("out,pattern", [([[0] * 3] * 2, "list"), ((0, 0), "tuple"),
                                         (memoryview(bytearray(6)), "memoryview")])
def test_out_not_an_ndarray(out, pattern):
    _raises(mcr.RLETypeError, _RLE, pattern, out=out)


@pytest.mark.parametrize("order", ["X", "A", "K", "c", "f", "", None, 0])
def test_bad_order(order):
    _raises(mcr.RLEValueError, _RLE, repr(order), order=order)


def test_coco_rle_needs_2d_size():
    _raises(mcr.MalformedRLEError, {"size": [2, 2, 2], "counts": [3, 5]},
            [r"\(2, 2, 2\)", "2D"])
    _raises(mcr.MalformedRLEError, {"size": [8], "counts": [3, 5]}, [r"\(8,\)", "2D"])


@pytest.mark.parametrize("array,exc,pattern", [
    (np.uint8(3), mcr.RLEValueError, "0-d"),
    (5, mcr.RLEValueError, "0-d"),
    (np.zeros((1,) * 33, np.uint8), mcr.RLEValueError, r"\b33\b"),
    ([[1, 2], [3]], mcr.RLETypeError, "list"),
])
def test_bad_arrays_to_encode(array, exc, pattern):
    for fn in (mcr.encode, mcr.encode_runs, mcr.array_to_multi_class_rle):
        with pytest.raises(exc, match=pattern):
            fn(array)


# ---------------------------------------------------------------------------
# nothing crashes: random and mutated RLEs are decoded or refused with RLEError

_CHARS = st.characters(min_codepoint=0, max_codepoint=0x7F) | st.sampled_from("é€\u3042")
_NUMBERS = st.one_of(
    st.integers(-3, 40), st.integers(-2**63, 2**64 - 1),
    st.sampled_from([0, 2**63, 2**64 - 1, -2**63, 2**64, -2**64, 2**70]),
    st.floats(allow_nan=True), st.none(), st.text(max_size=2), st.booleans())
_SEQ = st.one_of(st.text(_CHARS, max_size=12), st.text(st.sampled_from(
    [chr(c) for c in range(48, 112)]), max_size=12), st.lists(_NUMBERS, max_size=6),
    st.lists(st.integers(0, 30), max_size=6), st.none(), st.integers())


@given(size=st.one_of(st.lists(st.integers(0, 6), min_size=1, max_size=3),
                      st.lists(st.one_of(st.integers(-2, 2**65), st.floats(), st.none()),
                               max_size=4),
                      st.none(), st.text(max_size=3)),
       counts=_SEQ, values=st.one_of(_SEQ, st.just("absent")),
       dtype=st.one_of(st.just("absent"), st.sampled_from(
           ["uint8", "int8", "bool", "uint64", "int64", "float", "x", None])),
       order=st.sampled_from("CF"))
def test_random_rles_never_crash(size, counts, values, dtype, order):
    rle = {"size": size, "counts": counts}
    if values != "absent":
        rle["values"] = values
    if dtype != "absent":
        rle["dtype"] = dtype
    try:
        out = mcr.decode(rle, order=order)
    except mcr.RLEError:
        return
    assert isinstance(out, np.ndarray)
    assert out.shape == tuple(size)


@given(a=st.lists(st.integers(0, 300), min_size=1, max_size=60),
       key=st.sampled_from(["counts", "values"]), pos=st.integers(0, 100),
       char=st.characters(min_codepoint=0, max_codepoint=0x7F),
       how=st.sampled_from(["replace", "insert", "delete"]))
def test_mutated_compact_strings_never_crash(a, key, pos, char, how, ref):
    arr = np.array(a, dtype=np.uint16)
    rle = mcr.encode(arr)
    s = rle[key]
    pos %= len(s) + 1
    if how == "replace" and pos < len(s):
        s = s[:pos] + char + s[pos + 1:]
    elif how == "insert":
        s = s[:pos] + char + s[pos:]
    else:
        s = s[:pos] + s[pos + 1:]
    rle[key] = s
    rle = json.loads(json.dumps(rle))
    try:
        out = mcr.decode(rle)
    except mcr.RLEError:
        return
    # accepted: then it must be what the reference decoder reads from the strings
    assert out.shape == arr.shape and out.dtype == np.uint16
    counts = ref.string_decode(rle["counts"], 3)
    values = ref.string_decode(rle["values"], 2)
    assert out.tolist() == ref.decode(np.array([v % 2**64 for v in values], dtype=object),
                                      counts, arr.shape).tolist()


# ---------------------------------------------------------------------------
# Runs built by hand (a public dataclass): decode validates them like dicts


@pytest.mark.parametrize("shape,values,counts,exc", [
    ((4,), np.array([1, 2, 3], np.uint8), np.array([2, 2], np.uint64), mcr.MalformedRLEError),
    ((4,), np.array([1], np.uint8), np.array([2, 2], np.uint64), mcr.MalformedRLEError),
    ((4,), np.array([1.5]), np.array([4], np.uint64), mcr.RLETypeError),
    ((-4,), np.array([1], np.uint8), np.array([4], np.uint64), mcr.MalformedRLEError),
], ids=["more_values", "fewer_values", "float_values", "negative_dim"])
def test_hand_made_runs_are_validated(shape, values, counts, exc):
    # validated when built, so a bad Runs never reaches decode()
    with pytest.raises(exc):
        mcr.decode(mcr.Runs(shape=shape, values=values, counts=counts))
