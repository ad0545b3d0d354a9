"""The compact binary ("bytes") form: round trips, golden files, corrupt input, concatenation.

Until ``multiclass_rle.decode`` dispatches bytes itself, the bytes form is
tested through its own module (``multiclass_rle._codec.forms.bytes``).
"""

from __future__ import annotations

import json
import struct
import tracemalloc
import zlib
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

import multiclass_rle as mcr
from multiclass_rle._codec.forms import bytes as bf

FIXTURES = Path(__file__).resolve().parent / "fixtures"
DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")
README_MAP = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]],
                      dtype=np.uint8)


def roundtrip(a: np.ndarray) -> bytes:
    b = bf.encode_bytes(a)
    assert isinstance(b, bytes)
    back = bf.decode_bytes(b)
    assert back.dtype == a.dtype.newbyteorder("=")
    assert back.shape == a.shape
    # a new array in the order the map was coded in: Fortran for maps whose first axis is
    # fastest in memory (version 2), else C
    assert back.flags.f_contiguous if bf._fortran_first(a) else back.flags.c_contiguous
    assert bf.bytes_info(b).order == ("F" if bf._fortran_first(a) else "C")
    assert np.array_equal(back, a)
    info = bf.bytes_info(b)
    assert info.total_bytes == len(b)
    assert info.shape == a.shape and info.dtype == back.dtype
    assert info.n_values == len(np.unique(a))
    return b


# ---------------------------------------------------------------------------
# an independent decoder written from docs/format.md section 4 (pure Python, slow)
#
# It also decodes as a new implementer who guessed one point of the spec
# wrongly would (``wrong=``, a key of WRONG_GUESSES), and counts the paths a
# stream takes (``paths=``, a Counter): the golden-file tests below show that
# the fixtures take every path and that each wrong guess fails on one of them.

_REF_DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")

#: Readings of section 4 that an implementer could guess, each refuted by a golden file.
WRONG_GUESSES = {
    "eager_block_state": "4.6: the next block's state is read right after operation 32768, "
                         "even when no operation follows",
    "one_symbol_reads_free": "4.6: a read from a one-symbol table is not an operation",
    "zero_bit_reads_count": "4.6: a read of zero raw bits is an operation",
    "k_msb_first": "4.5: the 4-bit k field is read most significant bit first",
    "raw_in_bytes": "4.6: raw bits are read 8 at a time, high byte first",
    "wide_raw_low_first": "4.6: of more than 16 raw bits, the low 16 are read first",
    "cache_on_predicted": "4.7: a predicted segment also updates the cache of old",
    "cache_per_value": "4.7: every value index has its own cache (no slot u mod 4096)",
    "excluded_once": "4.7: excluded is left out as the neighbour it is, not from the cache",
    "front_keeps_copy": "4.7: moving to the front leaves the earlier copy in the cache",
}

_BLOCK_OPS = 32768


class _RefError(Exception):
    pass


def _ref_varint(b: bytes, pos: int) -> tuple[int, int]:
    x = 0
    for i in range(10):
        if pos >= len(b):
            raise _RefError("truncated varint")
        c = b[pos]
        pos += 1
        x |= (c & 0x7F) << (7 * i)
        if not c & 0x80:
            return x, pos
    raise _RefError("varint too long")


class _RefBits:
    """LSB-first bit reader (the frequency tables)."""

    def __init__(self, b: bytes, pos: int):
        self.b, self.pos, self.bit = b, pos, 0

    def get(self, n: int) -> int:
        v = 0
        for i in range(n):
            if self.pos >= len(self.b):
                raise _RefError("tables truncated")
            v |= ((self.b[self.pos] >> self.bit) & 1) << i
            self.bit += 1
            if self.bit == 8:
                self.bit, self.pos = 0, self.pos + 1
        return v

    def eg0(self) -> int:
        z = 0
        while self.get(1) == 0:
            z += 1
        return (1 << z | self.get(z)) - 1

    def byte_end(self) -> int:
        return self.pos + (1 if self.bit else 0)


class _RefRans:
    """The rANS decoder of section 4: M = 512, 16-bit words, blocks of 32768 operations."""

    def __init__(self, b: bytes, pos: int, wrong: str | None, paths: Counter):
        self.b, self.p, self.x, self.left = b, pos, 1 << 16, 0
        self.wrong, self.paths = wrong, paths

    def _next_block(self) -> None:
        if self.x != 1 << 16 or self.p + 4 > len(self.b):
            raise _RefError("bad block")
        self.x = int.from_bytes(self.b[self.p:self.p + 4], "little")
        if self.x < 1 << 16:
            raise _RefError("block state below 2^16")
        self.p += 4
        self.left = _BLOCK_OPS
        self.paths["blocks"] += 1

    def _begin(self) -> None:   # before an operation: its block's state
        if self.left == 0:
            self._next_block()
        self.left -= 1
        self.paths["ops"] += 1

    def _end(self) -> None:     # after an operation and its renormalisation
        if self.x < 1 << 16:
            if self.p + 2 > len(self.b):
                raise _RefError("stream truncated")
            self.x = self.x << 16 | int.from_bytes(self.b[self.p:self.p + 2], "little")
            self.p += 2
        if self.left == 0 and self.wrong == "eager_block_state":
            self._next_block()

    def sym(self, table) -> int:
        if table is None:     # an absent table: symbol 0, no state change
            self._begin()
            self._end()
            return 0
        if len(table) == 1:
            self.paths["one_symbol_reads"] += 1
            if self.wrong == "one_symbol_reads_free":
                return table[0][0]
        self._begin()
        slot = self.x & 511
        for s, f, c in table:
            if c <= slot < c + f:
                self.x = f * (self.x >> 9) + slot - c
                self._end()
                return s
        raise AssertionError

    def raw(self, n: int) -> int:
        if n == 0:
            self.paths["zero_bit_reads"] += 1
            if self.wrong == "zero_bit_reads_count":
                self._begin()
                self._end()
            return 0
        if n > 8 and self.wrong == "raw_in_bytes":
            hi = self.raw(n - 8)
            return hi << 8 | self.raw(8)
        if n > 16:
            self.paths["raw_over_16_bits"] += 1
            if self.wrong == "wide_raw_low_first":
                lo = self.raw(16)
                return self.raw(n - 16) << 16 | lo
            hi = self.raw(n - 16)
            return hi << 16 | self.raw(16)
        self._begin()
        v = self.x & ((1 << n) - 1)
        self.x >>= n
        self._end()
        return v

    def number(self, table) -> int:
        c = self.sym(table)
        return (1 << c) - 1 + self.raw(c)


def reference_decode(data: bytes, wrong: str | None = None,
                     paths: Counter | None = None) -> np.ndarray:
    """Decode one object of the bytes form, version 1 or 2, as docs/format.md says.

    ``wrong``: decode with that misreading of WRONG_GUESSES instead;
    ``paths``: a Counter that receives the paths the stream took.
    """
    assert wrong is None or wrong in WRONG_GUESSES, wrong
    paths = Counter() if paths is None else paths
    b = bytes(data)
    version = b[4]
    if b[:4] != b"MCRL" or version not in (1, 2) or b[7] & ~(1 if version == 2 else 0):
        raise _RefError("header")
    fortran = b[7] & 1   # version 2: the lines run along the first axis
    dtype = np.dtype(_REF_DTYPES[b[5]])
    ndim, pos, shape = b[6], 8, []
    for _ in range(ndim):
        d, pos = _ref_varint(b, pos)
        shape.append(d)
    n_values, pos = _ref_varint(b, pos)
    plen, pos = _ref_varint(b, pos)
    stored = int.from_bytes(b[pos:pos + 4], "little")
    payload = b[pos + 4:pos + 4 + plen]
    if len(payload) != plen or len(b) != pos + 4 + plen:
        raise _RefError("length")
    if zlib.adler32(payload, zlib.adler32(b[:pos])) != stored:
        raise _RefError("checksum")
    size = int(np.prod(shape))
    if size == 0:
        paths["empty"] += 1
        return np.zeros(shape, dtype=dtype)
    # the model's view: in Fortran order, the shape reversed (and the result transposed back)
    mshape = shape[::-1] if fortran else shape

    def as_map(flat) -> np.ndarray:
        m = np.asarray(flat).reshape(mshape)
        return m.T if fortran else m

    if payload[0] == 1:
        paths["raw_payload"] += 1
        raw = np.frombuffer(payload[1:], dtype=dtype.newbyteorder("<"))
        return as_map(raw.astype(dtype))
    paths["modelled_payload"] += 1
    # value table
    p, values = 1, []
    for i in range(n_values):
        g, p = _ref_varint(payload, p)
        if i == 0:
            v = (g >> 1) ^ -(g & 1) if dtype.kind == "i" else g
        else:
            v = values[-1] + g + 1
        values.append(v)
    # frequency tables
    bits = _RefBits(payload, p)
    tables = []
    for alpha in (106, 106, 106, 33, 33, 33, 8):
        if bits.get(1) == 0:
            tables.append(None)
            continue
        k = bits.get(4)
        if wrong == "k_msb_first":
            k = int(f"{k:04b}"[::-1], 2)
        if k > 9:
            raise _RefError(f"table precision k = {k}")
        paths["k_read_backwards_differs"] += int(f"{k:04b}"[::-1], 2) != k
        n_present = bits.eg0() + 1
        syms, nxt = [], 0
        for _ in range(n_present):
            s = nxt + bits.eg0()
            syms.append(s)
            nxt = s + 1
        freqs = [bits.eg0() + 1 for _ in range(n_present - 1)]
        freqs.append((1 << k) - sum(freqs))
        if min(freqs) < 1 or syms[-1] >= alpha:
            raise _RefError("bad frequency table")
        table, cum = [], 0
        for s, f in zip(syms, freqs):
            f <<= 9 - k
            table.append((s, f, cum))
            cum += f
        tables.append(table)
    FIRST0, FIRST1, SEG, KX, LX, OFF, VAL = tables
    # lines: drop axes of length 1; lines run along the last remaining axis
    dims = [d for d in mshape if d != 1] or [1]
    W = dims[-1]
    n_lines = size // W
    nb = (n_values - 1).bit_length()

    def lines(rd: _RefRans, count: int) -> list[int]:
        """count lines from a fresh start: all index 0 before, empty cache, changed 0."""
        ops_before = paths["ops"]
        cur = [0] * W
        cache: dict[int, list[int]] = {}     # slot -> indices, most recent first
        writers: dict[int, list[int]] = {}   # slot -> the old index each entry was stored under

        def to_front(old: int, v: int) -> None:
            key = old if wrong == "cache_per_value" else old % 4096
            slot, wr = cache.setdefault(key, []), writers.setdefault(key, [])
            if v in slot and wrong != "front_keeps_copy":
                i = slot.index(v)
                paths["cache_move_from_behind"] += i > 0
                del slot[i], wr[i]
            slot.insert(0, v)
            wr.insert(0, old)
            del slot[4:], wr[4:]

        out = []
        prev_changed = 0
        for _ in range(count):
            table, p, changed = (FIRST1 if prev_changed else FIRST0), 0, 0
            paths["lines_after_a_change"] += prev_changed
            while True:
                sym = rd.sym(table)
                table = SEG
                if sym == 0:
                    break
                changed = 1
                if sym >= 101:
                    paths["case_c"] += 1
                    off = rd.number(OFF)
                    lv = sym - 101
                    ln = lv + 1 if lv < 4 else 5 + rd.number(LX)
                    s, side, pred = p + off, 2, 0
                    e = s + ln
                else:
                    x = sym - 1
                    pred, lv, kv, side = x % 2, (x // 2) % 5, (x // 10) % 5, x // 50
                    paths["case_b" if side else "case_a"] += 1
                    paths["edge_number_escaped"] += kv == 4
                    k = kv + 1 if kv < 4 else 5 + rd.number(KX)
                    ln = lv + 1 if lv < 4 else 5 + rd.number(LX)
                    # the k-th of the edges after p, then W
                    edge, n = W, 0
                    for i in range(max(p, 1), W):
                        if cur[i] != cur[i - 1]:
                            n += 1
                            if n == k:
                                edge = i
                                break
                    else:
                        if k != n + 1:
                            raise _RefError("no such edge")
                    s, e = (edge, edge + ln) if side == 0 else (edge - ln, edge)
                paths["length_escaped"] += ln >= 5
                if not p <= s < e <= W:
                    raise _RefError("segment outside the line")
                left = cur[s - 1] if s > 0 else None
                right = cur[e] if e < W else None
                old = cur[s]
                if pred:
                    paths["predicted"] += 1
                    v = left if side == 0 else right
                    if v is None:
                        raise _RefError("no predicted value")
                    if wrong == "cache_on_predicted":
                        to_front(old, v)
                else:
                    excluded = left if side == 0 else right if side == 1 else None
                    key = old if wrong == "cache_per_value" else old % 4096
                    slot, wr = cache.get(key, []), writers.get(key, [])
                    if wrong == "excluded_once":
                        pool = ([right] if side == 0 else [left] if side == 1 else [left, right])
                        drop = {None, old}
                    else:
                        pool, drop = [left, right], {None, old, excluded}
                    pool = pool + slot
                    paths["excluded_in_cache"] += excluded is not None and excluded in slot
                    cands, source = [], []
                    for i, c in enumerate(pool):
                        if c not in drop and c not in cands:
                            cands.append(c)
                            source.append(i - (len(pool) - len(slot)))   # >= 0: cache entry
                    r = rd.sym(VAL)
                    if r < 7:
                        if r >= len(cands):
                            raise _RefError("no such candidate")
                        v = cands[r]
                        paths["value_from_cache"] += source[r] >= 0
                        # the entry was stored under another index of the same slot
                        paths["cache_slot_shared"] += source[r] >= 0 and wr[source[r]] != old
                    else:
                        v = rd.raw(nb)
                        paths["escapes"] += 1
                        paths["escapes_over_8_bits"] += nb > 8
                        paths["escapes_over_16_bits"] += nb > 16
                        if v >= n_values or v == old:
                            raise _RefError("bad index")
                    to_front(old, v)
                cur[s:e] = [v] * (e - s)
                p = e
            prev_changed = changed
            out.extend(cur)
        if rd.x != 1 << 16 or rd.p != len(rd.b):
            raise _RefError("stream does not end cleanly")
        paths["ops_exact_multiple_of_block"] += (paths["ops"] - ops_before) % _BLOCK_OPS == 0
        return out

    if version == 1:   # one stream, all lines, to the end of the payload
        out = lines(_RefRans(payload, bits.byte_end(), wrong, paths), n_lines)
    else:   # the chunk table, then each chunk's stream, decoded from a fresh start
        p = bits.byte_end()
        k, p = _ref_varint(payload, p)
        chunks = []
        for _ in range(k):
            nl, p = _ref_varint(payload, p)
            nbytes, p = _ref_varint(payload, p)
            chunks.append((nl, nbytes))
        if not 1 <= k <= n_lines or sum(c[0] for c in chunks) != n_lines \
                or min(c[0] for c in chunks) < 1 or sum(c[1] for c in chunks) != len(payload) - p:
            raise _RefError("chunk table")
        paths["chunks"] += k
        out = []
        for nl, nbytes in chunks:
            out.extend(lines(_RefRans(payload[p:p + nbytes], 0, wrong, paths), nl))
            p += nbytes
    return as_map(np.array([values[i] for i in out], dtype=object).astype(dtype))


# ---------------------------------------------------------------------------
# round trips

def _range(dt: np.dtype) -> tuple[int, int]:
    if dt.kind == "b":
        return 0, 1
    i = np.iinfo(dt)
    return int(i.min), int(i.max)


@st.composite
def label_maps(draw) -> np.ndarray:
    """Label-map-like arrays: few labels in blocks (or noise), any dtype, 1..4 dims, any layout."""
    dt = np.dtype(draw(st.sampled_from(DTYPES)))
    ndim = draw(st.integers(1, 4))
    shape = tuple(draw(st.lists(st.integers(0, 7 if ndim > 2 else 40), min_size=ndim,
                                max_size=ndim)))
    lo, hi = _range(dt)
    labels = draw(st.lists(st.integers(lo, hi), min_size=1, max_size=6))
    seed = draw(st.integers(0, 2**32 - 1))
    rng = np.random.default_rng(seed)
    size = int(np.prod(shape))
    if draw(st.booleans()):
        # blocks: a coarse random map, upscaled by repetition
        coarse = tuple(max(1, (d + 2) // 3) for d in shape)
        small = rng.integers(0, len(labels), size=coarse)
        idx = small
        for ax, d in enumerate(shape):
            idx = np.repeat(idx, 3, axis=ax).take(np.arange(d), axis=ax)
    else:
        idx = rng.integers(0, len(labels), size=size).reshape(shape)
    a = np.array(labels, dtype=object)[idx] if size else np.zeros(shape, dtype=object)
    a = np.asarray(a.astype(np.int64) if dt.kind != "u" else a.astype(np.uint64)).astype(dt)
    layout = draw(st.sampled_from(["C", "F", "step", "flip", "transpose"]))
    if layout == "F":
        a = np.asfortranarray(a)
    elif layout == "step":
        big = np.repeat(a, 2, axis=0)
        a = big[::2]
    elif layout == "flip":
        a = np.flip(np.flip(a, axis=0), axis=-1)
    elif layout == "transpose":
        a = a.T
    return a


@given(label_maps())
def test_roundtrip_property(a):
    b = roundtrip(a)
    # the other decode options
    f = bf.decode_bytes(b, order="F")
    assert f.flags.f_contiguous and np.array_equal(f, a)
    out = np.asfortranarray(np.zeros(a.shape, dtype=a.dtype))[...]
    assert bf.decode_bytes(bytearray(b), out=out) is out
    assert np.array_equal(out, a)
    # the same bytes for every layout of one memory order (version 2 codes the lines along
    # the fastest axis: C and Fortran orders give different bytes, the same map)
    order = bf.bytes_info(b).order
    assert order == ("F" if bf._fortran_first(a) else "C")
    assert bf.encode_bytes(np.require(a, requirements=order)) == b
    assert bf.encode_bytes(a, threads=3) == b
    v1 = bf.encode_bytes(a, version=1)
    assert bf.encode_bytes(np.ascontiguousarray(a), version=1) == v1
    assert np.array_equal(bf.decode_bytes(v1), a)


@pytest.mark.parametrize("dtype", DTYPES)
def test_roundtrip_every_dtype_extremes(dtype):
    dt = np.dtype(dtype)
    lo, hi = _range(dt)
    a = np.full((9, 11), lo, dtype=dt)
    a[2:7, 3:9] = hi
    a[4, :] = (lo + hi) // 2 if dt.kind != "b" else 1
    roundtrip(a)
    roundtrip(a.ravel())
    roundtrip(a.reshape(3, 3, 11))


@pytest.mark.parametrize("shape", [(0,), (0, 5), (5, 0), (3, 0, 2), (1,), (1, 1), (1, 7),
                                   (7, 1), (1, 1, 1, 1), (2, 1, 3, 1)])
def test_roundtrip_small_and_empty(shape):
    a = (np.arange(int(np.prod(shape))) // 2 % 3).reshape(shape).astype(np.int16)
    b = roundtrip(a)
    if a.size == 0:
        assert bf.bytes_info(b).payload_bytes == 0


def test_modeled_map_is_small_and_noise_falls_back_to_raw():
    a = np.zeros((360, 480), dtype=np.uint8)
    a[100:200, 50:300] = 7
    a[150:300, 250:400] = 3
    assert len(roundtrip(a)) < 100
    noise = np.random.default_rng(0).integers(0, 2**16, size=(50, 60), dtype=np.uint16)
    b = roundtrip(noise)
    # the raw payload: a mode byte and the elements, little-endian
    assert bf.bytes_info(b).payload_bytes == 1 + noise.nbytes
    info = bf.bytes_info(b)
    payload = b[info.header_bytes:]
    assert payload[0] == 1 and payload[1:] == noise.astype("<u2").tobytes()


def test_chunks_coded_from_the_record_and_walked_again_agree():
    """Pass 1 records its operations while they fit a store of a quarter of the input's
    bytes (split over the tasks); chunks past that point are walked again. A map of four
    chunks (2**20 elements each) whose second chunk is noise overflows the store there:
    on one task chunk 0 is coded from the record and 1-3 walked again; on four tasks
    (threads=2) only chunk 1 is walked again. The streams must be the same bytes."""
    rng = np.random.default_rng(5)
    a = np.zeros((2048, 2048), dtype=np.uint8)
    a[:, 300:900] = 1
    a[1100:1700, :] = 2
    a[512:1024] = rng.integers(0, 4, size=(512, 2048), dtype=np.uint8)   # chunk 1
    one = bf.encode_bytes(a, threads=1)
    assert bf.bytes_info(one).payload_bytes < a.nbytes // 2   # modelled, not raw
    for threads in (2, 3):
        assert bf.encode_bytes(a, threads=threads) == one
    assert np.array_equal(bf.decode_bytes(one), a)


def test_decode_options():
    a = np.array([[0, 300], [7, 7]], dtype=np.uint16)
    b = bf.encode_bytes(a)
    assert bf.decode_bytes(b, dtype=np.int32).dtype == np.int32
    assert np.array_equal(bf.decode_bytes(b, dtype="int64"), a)
    with pytest.raises(mcr.RLEValueError, match=r"300.*does not fit dtype uint8"):
        bf.decode_bytes(b, dtype=np.uint8)
    with pytest.raises(mcr.RLEValueError, match="order"):
        bf.decode_bytes(b, order="K")
    with pytest.raises(mcr.RLEValueError, match="shape"):
        bf.decode_bytes(b, out=np.zeros((2, 3), np.uint16))
    out = np.zeros((2, 2), dtype=">u2")   # non-native out
    bf.decode_bytes(b, out=out)
    assert np.array_equal(out, a)
    big = np.zeros((4, 4), dtype=">i4")   # non-native input
    big[1:3, 1:3] = -5
    assert np.array_equal(bf.decode_bytes(bf.encode_bytes(big)), big)
    for kind in (b, bytearray(b), memoryview(b), memoryview(bytearray(b))):
        assert np.array_equal(bf.decode_bytes(kind), a)
    with pytest.raises(mcr.RLETypeError):
        bf.decode_bytes("not bytes")


def test_bool_out_refuses_other_values():
    b = bf.encode_bytes(np.array([0, 1, 2], dtype=np.uint8))
    with pytest.raises(mcr.RLEValueError):
        bf.decode_bytes(b, dtype=bool)
    assert bf.decode_bytes(bf.encode_bytes(np.array([0, 1, 1], np.uint8)), dtype=bool).tolist() == [
        False, True, True]


def test_bytes_to_runs_matches_encode_runs():
    a = np.zeros((30, 20), dtype=np.int32)
    a[3:17, 4:9] = -1
    a[10:25, 7:18] = 70000
    runs = bf.bytes_to_runs(bf.encode_bytes(a))
    assert runs == mcr.encode_runs(a)
    assert bf.bytes_to_runs(bf.encode_bytes(a), dtype=np.int64).dtype == np.int64


def test_real_maps_roundtrip(data_dir, data_index):
    """A few maps of every real data set (not stored in the repository)."""
    seen = set()
    for entry in data_index:
        group = entry["file"].split("/")[0]
        if group in seen or np.prod(entry["shape"]) > 20_000_000:
            continue
        seen.add(group)
        path = data_dir / entry["file"]
        if entry["key"] is None:
            a = np.load(path)
        else:
            with np.load(path) as z:
                a = z[entry["key"]]
        if a.ndim == 3 and group == "camvid":
            a = a[:3]
        b = roundtrip(a)
        assert len(b) < a.nbytes / 4, (entry["file"], len(b), a.nbytes)


def test_decode_memory_is_o_output():
    a = np.zeros((1000, 1000), dtype=np.uint8)
    a[:, ::7] = 1                      # many runs
    b = bf.encode_bytes(a)
    tracemalloc.start()
    try:
        bf.decode_bytes(b)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < a.nbytes + 200_000


# ---------------------------------------------------------------------------
# golden files

def _fixture_names() -> list[str]:
    return sorted(p.name[:-len(".npy")] for p in FIXTURES.glob("*.npy"))


def test_fixtures_exist():
    names = _fixture_names()
    assert len(names) >= 10
    for name in names:
        for suffix in (".original.json", ".compact.json", ".packed.json", ".v1.mcrle"):
            assert (FIXTURES / (name + suffix)).is_file(), name + suffix


@pytest.mark.parametrize("name", _fixture_names())
def test_fixture_decodes(name):
    a = np.load(FIXTURES / f"{name}.npy")
    for suffix in (".original.json", ".compact.json", ".packed.json"):
        rle = json.loads((FIXTURES / (name + suffix)).read_text())
        back = mcr.decode(rle, dtype=a.dtype)
        assert back.shape == a.shape and np.array_equal(back, a), suffix
    compact = json.loads((FIXTURES / f"{name}.compact.json").read_text())
    assert mcr.decode(compact).dtype == a.dtype
    for path in sorted(FIXTURES.glob(f"{name}.v*.mcrle")):
        data = path.read_bytes()
        back = bf.decode_bytes(data)
        assert back.dtype == a.dtype and back.shape == a.shape, path.name
        assert np.array_equal(back, a), path.name


@pytest.mark.parametrize("name", _fixture_names())
def test_fixture_reference_decoder(name):
    """The pure-Python decoder written from docs/format.md reads every golden file."""
    a = np.load(FIXTURES / f"{name}.npy")
    paths = sorted(FIXTURES.glob(f"{name}.v*.mcrle"))
    assert len(paths) >= 2
    for path in paths:
        back = reference_decode(path.read_bytes())
        assert back.dtype == a.dtype and np.array_equal(back, a), path.name


def _v2_fixture_names() -> list[str]:
    return sorted(p.name[:-len(".npz")] for p in FIXTURES.glob("*.npz"))


def test_v2_fixtures_exist():
    names = _v2_fixture_names()
    assert {n.split("_")[0] for n in names} >= {"chunks", "blocks"}
    for name in names:
        assert (FIXTURES / f"{name}.v2.mcrle").is_file(), name


@pytest.mark.parametrize("name", _v2_fixture_names())
def test_v2_fixture(name):
    """Maps for the paths of version 2 the other fixtures do not reach (two chunks, several
    rANS blocks in a chunk): every decoder reads them, on any number of threads, and the
    encoder writes them byte for byte."""
    with np.load(FIXTURES / f"{name}.npz") as z:
        a = z["map"]
    data = (FIXTURES / f"{name}.v2.mcrle").read_bytes()
    info = bf.bytes_info(data)
    assert info.version == 2 and info.order == "C"
    for threads in (1, 2, 3):
        back = bf.decode_bytes(data, threads=threads)
        assert back.dtype == a.dtype and back.shape == a.shape and np.array_equal(back, a)
        assert bf.encode_bytes(a, threads=threads) == data
    if a.size <= 20_000:   # the pure-Python decoder walks every line's edges
        assert np.array_equal(reference_decode(data), a)


#: The path of section 4 each of these golden files was made for, as the reference decoder counts it.
_MADE_FOR = {
    "blocks_3_70000x2_uint8": lambda p: p["blocks"] == 3 and p["ops"] % 32768 != 0,
    "blocks_2_exact_62142x2_uint8": lambda p: p["blocks"] == 2 and p["ops"] == 65536,
    "cache_slots_6x4208_uint16": lambda p: p["cache_slot_shared"] > 0,
    "escapes_9bit_6x300_int16": lambda p: p["escapes_over_8_bits"] > 0,
    "raw_17bit_140000_uint8": lambda p: p["raw_over_16_bits"] > 0,
}

#: Paths some golden file must take (counted by the reference decoder).
_EVERY_PATH = (
    "empty", "raw_payload", "modelled_payload", "blocks", "ops_exact_multiple_of_block",
    "one_symbol_reads", "zero_bit_reads", "raw_over_16_bits", "k_read_backwards_differs",
    "lines_after_a_change", "case_a", "case_b", "case_c", "edge_number_escaped",
    "length_escaped", "predicted", "escapes", "escapes_over_8_bits", "value_from_cache",
    "excluded_in_cache", "cache_move_from_behind", "cache_slot_shared",
)


def _fixture_paths(name: str) -> Counter:
    paths: Counter = Counter()
    reference_decode((FIXTURES / f"{name}.v1.mcrle").read_bytes(), paths=paths)
    return paths


@pytest.mark.parametrize("name", sorted(_MADE_FOR))
def test_fixture_takes_the_path_it_was_made_for(name):
    assert _MADE_FOR[name](_fixture_paths(name)), name


def test_fixtures_take_every_path():
    taken = Counter()
    for name in _fixture_names():
        taken.update({k: 1 for k, v in _fixture_paths(name).items() if v})
    assert taken["blocks"] and any(_fixture_paths(n)["blocks"] > 1 for n in _MADE_FOR)
    assert not [path for path in _EVERY_PATH if not taken[path]]


@pytest.mark.parametrize("wrong", sorted(WRONG_GUESSES))
def test_each_misreading_of_the_spec_fails_on_a_golden_file(wrong):
    """A decoder that guessed one point of section 4 wrongly cannot read every fixture."""
    names = sorted(_fixture_names(), key=lambda n: (FIXTURES / f"{n}.v1.mcrle").stat().st_size)
    for name in names:
        a = np.load(FIXTURES / f"{name}.npy")
        try:
            back = reference_decode((FIXTURES / f"{name}.v1.mcrle").read_bytes(), wrong=wrong)
        except _RefError:
            return
        if not np.array_equal(back, a):
            return
    pytest.fail(f"every golden file decodes although {WRONG_GUESSES[wrong]}")


def test_escapes_of_more_than_16_bits():
    """66000 values: 17-bit escapes, each read as two operations (too big for a golden file)."""
    a = np.repeat(np.arange(66000, dtype=np.uint32)[:, None], 3, axis=1)
    paths: Counter = Counter()
    back = reference_decode(bf.encode_bytes(a), paths=paths)
    assert paths["escapes_over_16_bits"] > 65000 and np.array_equal(back, a)
    assert np.array_equal(bf.decode_bytes(bf.encode_bytes(a)), a)


@given(label_maps())
def test_reference_decoder_agrees(a):
    if a.size > 3000:
        return
    for version in (1, 2):
        back = reference_decode(bf.encode_bytes(a, version=version))
        assert back.shape == a.shape and np.array_equal(back, a)


def test_docs_worked_example():
    a = np.zeros((6, 10), np.uint8)
    a[1:5, 2:6] = 7
    a[2:6, 5:9] = 3
    b = bf.encode_bytes(a, version=1)
    assert b.hex(" ") == ("4d 43 52 4c 01 01 02 00 06 0a 03 16 b9 06 8f 6c 00 00 02 03 c5 29 50 "
                          "d4 a1 40 74 98 21 1d 22 00 90 02 02 00 35 30")
    assert np.array_equal(reference_decode(b), a)


@pytest.mark.parametrize("name", _fixture_names())
def test_fixture_encoding_is_stable(name):
    """This version writes exactly the stored files of each version (a change here changes
    the format)."""
    a = np.load(FIXTURES / f"{name}.npy")
    assert bf.encode_bytes(a, version=1) == (FIXTURES / f"{name}.v1.mcrle").read_bytes()
    v2 = FIXTURES / f"{name}.v2.mcrle"
    if v2.exists():
        assert bf.encode_bytes(a) == v2.read_bytes()


# ---------------------------------------------------------------------------
# corrupt input: always MalformedRLEError (a ValueError), never a crash

def _obj(dtype_code: int, shape, n_values: int, payload: bytes, version: int = 1,
         flags: int = 0) -> bytes:
    """A bytes-form object with a correct checksum around any payload."""
    def varint(v: int) -> bytes:
        out = bytearray()
        while True:
            c = v & 0x7F
            v >>= 7
            out.append(c | (0x80 if v else 0))
            if not v:
                return bytes(out)
    head = b"MCRL" + bytes([version, dtype_code, len(shape), flags])
    head += b"".join(varint(d) for d in shape) + varint(n_values) + varint(len(payload))
    ck = zlib.adler32(payload, zlib.adler32(head))
    return head + struct.pack("<I", ck) + payload


def _split(b: bytes) -> tuple[bytes, bytes]:
    info = bf.bytes_info(b)
    return b[:info.header_bytes], b[info.header_bytes:]


def test_checksum_is_adler32_of_header_and_payload():
    b = bf.encode_bytes(README_MAP)
    head, payload = _split(b)
    assert struct.unpack("<I", head[-4:])[0] == zlib.adler32(payload, zlib.adler32(head[:-4]))
    assert _obj(1, (4, 5), 3, payload, version=2) == b


def _malformed(data, *patterns):
    with pytest.raises(mcr.MalformedRLEError) as info:
        bf.decode_bytes(data)
    assert isinstance(info.value, ValueError)
    for p in patterns:
        assert p in str(info.value), (p, str(info.value))
    return info.value


def test_bad_header_fields():
    b = bf.encode_bytes(README_MAP)
    _malformed(b"PNG\x89" + b[4:], "not the bytes form", "b'PNG\\x89'")
    _malformed(b"", "truncated")
    _malformed(b"MC", "truncated")
    for v in (0, 3, 255):
        _malformed(b[:4] + bytes([v]) + b[5:], f"version {v}", "reads versions 1 to 2")
    _malformed(b[:5] + bytes([9]) + b[6:], "dtype code at offset 5 (value 9)")
    _malformed(b[:6] + bytes([0]) + b[7:], "ndim at offset 6 (value 0)")
    _malformed(b[:6] + bytes([33]) + b[7:], "ndim at offset 6 (value 33)")
    _malformed(b[:7] + bytes([2]) + b[8:], "flags at offset 7 (value 2)")   # version 2: bit 0 only
    b1 = bf.encode_bytes(README_MAP, version=1)
    _malformed(b1[:7] + bytes([1]) + b1[8:], "flags at offset 7 (value 1)")   # version 1: none
    _malformed(b + b"x", "1 bytes follow", "split_bytes")
    _malformed(b[:-1] + bytes([b[-1] ^ 0x40]), "checksum mismatch")


def test_bad_counts_in_header():
    _, payload = _split(bf.encode_bytes(README_MAP))
    _malformed(_obj(1, (4, 5), 0, payload), "invalid")            # no values for 20 elements
    _malformed(_obj(1, (4, 5), 21, payload), "invalid")           # more values than elements
    _malformed(_obj(1, (0, 5), 1, b""), "invalid")                # values of an empty map
    _malformed(_obj(1, (0, 5), 0, b"\x00"), "invalid")            # payload of an empty map
    _malformed(_obj(1, (2**62, 4), 1, b"\x00"), "invalid")        # size overflow
    _malformed(_obj(1, (4, 5), 3, payload)[:-3] + b"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7f",
               "")


def test_huge_claimed_size():
    with pytest.raises(mcr.LimitExceededError, match="limit"):
        bf.decode_bytes(_obj(1, (100000, 100000), 1, b"\x00\x00"))
    # a corrupt header claiming a huge size is reported as corrupt
    bad = bytearray(_obj(1, (100000, 100000), 1, b"\x00\x00"))
    bad[-1] ^= 1
    _malformed(bytes(bad), "checksum")


def test_every_truncation_and_byte_flip():
    a = np.zeros((20, 30), dtype=np.uint16)
    a[3:15, 5:25] = 900
    a[8:19, 12:29] = 4
    for data in (bf.encode_bytes(a), bf.encode_bytes(README_MAP)):
        for n in range(len(data)):
            _malformed(data[:n], "truncated" if n >= 4 or n == 0 else "")
        for i in range(len(data)):
            for bit in (0, 3, 7):
                bad = bytearray(data)
                bad[i] ^= 1 << bit
                with pytest.raises(mcr.MalformedRLEError):
                    bf.decode_bytes(bytes(bad))


def test_bad_mode_and_payload_length():
    _malformed(_obj(1, (4, 5), 3, b"\x02" + bytes(20)), "payload is corrupt")
    _malformed(_obj(1, (4, 5), 3, b"\x01" + bytes(19)), "payload is corrupt")   # raw, short
    _malformed(_obj(1, (4, 5), 3, b"\x01" + bytes(21)), "payload is corrupt")   # raw, long
    _malformed(_obj(1, (4, 5), 3, b"\x00" + b"\x00\x00"), "payload is corrupt")  # modeled, cut


def test_value_table_checks():
    a = np.zeros((10, 10), np.int8)
    a[3:7] = -3
    _, payload = _split(bf.encode_bytes(a))
    assert payload[0] == 0
    # values out of the int8 range (zigzag 300 = 150), or not increasing (gap overflow)
    _malformed(_obj(2, (10, 10), 2, b"\x00" + b"\xac\x02" + payload[2:]), "payload is corrupt")
    _malformed(_obj(2, (10, 10), 2, b"\x00\x05\xff\x01" + payload[3:]), "payload is corrupt")


@pytest.mark.parametrize("seed", range(8))
def test_payload_fuzz_with_valid_checksum(seed):
    """Mutated payloads with a recomputed checksum exercise the payload checks."""
    rng = np.random.default_rng(seed)
    a = np.zeros((40, 50), dtype=np.uint32)
    a[5:30, 10:40] = 123456
    a[20:38, 30:48] = 7
    a[::9, ::11] = 99
    maps = [a, a[:, :1], a.reshape(-1), a.reshape(10, 4, 50)]
    for m in maps:
        code = DTYPES.index(m.dtype.name)
        _, payload = _split(bf.encode_bytes(m))
        assert payload[0] == 0
        n_values = len(np.unique(m))
        for _ in range(300):
            p = bytearray(payload)
            what = rng.integers(4)
            if what == 0:
                for _ in range(rng.integers(1, 4)):
                    p[rng.integers(1, len(p))] ^= 1 << rng.integers(8)
            elif what == 1:
                p = p[:rng.integers(1, len(p))]
            elif what == 2:
                i = rng.integers(1, len(p))
                p[i:i] = rng.integers(0, 256, size=rng.integers(1, 5), dtype=np.uint8).tobytes()
            else:
                p[1:] = rng.integers(0, 256, size=len(p) - 1, dtype=np.uint8).tobytes()
            data = _obj(code, m.shape, n_values, bytes(p))
            out = np.full(m.shape, 5, dtype=m.dtype)
            try:
                bf.decode_bytes(data, out=out)
            except mcr.MalformedRLEError:
                # refused before writing (header) or zeroed: never left half-written
                assert (out == 5).all() or not out.any()
            else:
                assert out.shape == m.shape   # a consistent payload: some array


# ---------------------------------------------------------------------------
# concatenation

def test_split_and_iterate_concatenation():
    arrays = [README_MAP, np.zeros((0, 3), np.int8), np.arange(10, dtype=np.int64),
              np.ones((3, 3, 3), bool)]
    parts = [bf.encode_bytes(a) for a in arrays]
    blob = b"".join(parts)
    pieces = bf.split_bytes(blob)
    assert [bytes(p) for p in pieces] == parts
    for p, a in zip(bf.iter_bytes(bytearray(blob)), arrays):
        assert np.array_equal(bf.decode_bytes(p), a)
    assert bf.split_bytes(b"") == []
    with pytest.raises(mcr.MalformedRLEError, match="object at offset"):
        bf.split_bytes(blob + b"JUNK")
    with pytest.raises(mcr.MalformedRLEError, match="truncated"):
        bf.split_bytes(blob[:-1])
    with pytest.raises(mcr.MalformedRLEError, match="split_bytes"):
        bf.decode_bytes(blob)


# ---------------------------------------------------------------------------
# through the public API (once decode() and as_runs() dispatch the bytes form)

_WIRED = pytest.mark.skipif(not hasattr(mcr, "encode_bytes"),
                            reason="multiclass_rle does not export the bytes form yet")


@_WIRED
def test_public_decode_and_as_runs_read_bytes():
    a = np.zeros((30, 40), dtype=np.int16)
    a[5:20, 8:30] = -7
    b = mcr.encode_bytes(a)
    for data in (b, bytearray(b), memoryview(b)):
        assert np.array_equal(mcr.decode(data), a)
        assert mcr.as_runs(data) == mcr.encode_runs(a)
    assert mcr.decode(b, order="F").flags.f_contiguous
    assert mcr.decode(b, dtype=np.int64).dtype == np.int64
    out = np.empty((30, 40), np.int32)
    assert mcr.decode(b, out=out) is out and np.array_equal(out, a)
    with pytest.raises(mcr.MalformedRLEError, match="not the bytes form"):
        mcr.decode(b"\x00")
    with pytest.raises(mcr.MalformedRLEError, match="split_bytes"):
        mcr.decode(b + b)
    assert [mcr.decode(p).shape for p in mcr.split_bytes(b + b)] == [(30, 40), (30, 40)]


def _blocky_volume(shape: tuple[int, ...]) -> np.ndarray:
    """A label volume of boxes with ragged edges: runs of varied length on every axis."""
    z, y, x = np.indices(shape, dtype=np.int64)
    rng = np.random.default_rng(16)
    a = (z // 9 * 31 + (y + rng.integers(0, 3, shape)) // 7 * 5 + x // 13) % 997
    return a.astype(np.uint16)


@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("coded", ["C", "F"])
@pytest.mark.parametrize("version", [1, 2])
def test_decode_into_the_other_order_across_chunks(version, coded, threads):
    # 3 x 2^20 elements: version 2 codes them in several chunks, each decoded
    # into a stage and copied out in tiles when the output's lines are not
    # contiguous (the other memory order, a strided view); version 1's one
    # stream is larger than a stage and is written element by element
    a = _blocky_volume((48, 250, 250))   # lines not a multiple of the 32-element tiles
    src = np.require(a, requirements=coded)
    b = bf.encode_bytes(src, version=version)
    info = bf.bytes_info(b)
    assert info.order == (coded if version == 2 else "C")
    other = "F" if coded == "C" else "C"
    got = bf.decode_bytes(b, order=other, threads=threads)
    assert got.flags[f"{other}_CONTIGUOUS"]
    assert np.array_equal(got, a)
    assert np.array_equal(bf.decode_bytes(b, order=coded, threads=threads), a)
    big = np.full((48, 250, 500), 7, dtype=np.uint16, order=other)
    view = big[:, :, 1::2]   # every other element: lines strided in either order
    assert bf.decode_bytes(b, out=view, threads=threads) is view
    assert np.array_equal(view, a)
    assert (big[:, :, 0::2] == 7).all()   # nothing written between the elements
