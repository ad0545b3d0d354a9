#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each harness into corpus/<harness>/.

The byte formats are documented at the top of each fuzz_*.c file. The
checked-in corpus started from these seeds and was then minimised together
with fuzzing runs (`MERGE=1 run.sh`), which renames every input to its SHA-1;
running this again adds the seed-* files back (harmless: the merge keeps
their coverage anyway). Use it after changing an input format. Harness names
as arguments limit it to those harnesses' seeds.
    python3 csrc/fuzz/make_seeds.py
    python3 csrc/fuzz/make_seeds.py fuzz_window fuzz_bytes_decode

The bytes-form seeds include real encodings made by the kernels: the
tests/fixtures/*.v1.mcrle golden files (written by encode_bytes) and the
worked example of docs/format.md 4.8.
"""
import glob
import os
import random
import struct
import sys
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
rng = random.Random(20240601)
ONLY = set(a.removesuffix(".c") for a in sys.argv[1:])


def write(harness, name, data):
    if ONLY and harness not in ONLY:
        return
    d = os.path.join(HERE, "corpus", harness)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, "seed-" + name), "wb") as f:
        f.write(bytes(data))


# ---- fuzz_string_decode: byte 0 = delta_from choice, rest = the string ----
S = "fuzz_string_decode"
write(S, "coco-counts", b"\x03" + b"132O1O04")
write(S, "no-delta", b"\x07" + b"13223135")
write(S, "extremes", b"\x07" + b"oooooooooooo7" + b"PPPPPPPPPPPPH" + b"O0")
write(S, "groups", b"\x02" + b"T3lL`0o0P1O@_O")
write(S, "truncated", b"\x03" + b"11P")
write(S, "too-long", b"\x03" + b"1PPPPPPPPPPPPP0")
write(S, "bad-char", b"\x03" + b"12 3")
write(S, "empty", b"\x03")
write(S, "mask", b"\x03" + b"e0S1:8O1N2M2O1N2N1O1O0O2N2O1000O100000O1N2N2N1O1N3M2N3M3SU4")


# ---- fuzz_decode ----
# b0: elem (bits 0-1), fixup (bit 2), short scratch (bit 3), no info (bit 4)
# ndim byte (1 + b % 4), shape (2 bytes for 1D, else 1 byte per axis; lengths
# are small unless the top bit is set: see fz_shape in fuzz_common.h)
# layout: l (order bits 0-1, pad bit 2, gap bit 3, misalign bits 4-5), f (flip
# bits 0-3), then a pad byte per axis if padded, then a perm byte if order 2
# runs: count byte (< 0xE0 literal; 0xE0.. x16; 0xF0.. near UINT64_MAX; 0xFF raw 8)
#       value byte (bit 7: E raw bytes follow; else label)
D = "fuzz_decode"


def runs(pairs):
    out = []
    for c, v in pairs:
        out += [c, v]
    return out


write(D, "c2d-u8", [0x04, 1, 4, 5, 0x00, 0x00] + runs([(3, 1), (7, 2), (10, 0)]))
write(D, "f3d-u64", [0x07, 2, 3, 4, 5, 0x01, 0x00] + runs([(5, 3), (20, 6), (35, 0x80)]) + [1] * 8)
write(D, "crop-neg-u16", [0x05, 1, 6, 7, 0x04, 0x03, 0x07, 0x0B] + runs([(9, 1), (9, 2), (24, 5)]))
write(D, "perm4d-u32", [0x06, 3, 3, 2, 4, 2, 0x22, 0x05, 0x1B] + runs([(2, i % 8) for i in range(24)]))
write(D, "gap-misaligned-u64", [0x07, 1, 9, 4, 0x38, 0x02] + runs([(1, i % 5) for i in range(36)]))
write(D, "zero-count", [0x00, 1, 3, 3, 0x00, 0x00] + runs([(4, 1), (0, 2), (5, 3)]))
write(D, "long-overflow", [0x01, 1, 3, 3, 0x00, 0x00] + runs([(4, 1), (0xF0, 2), (7, 3)]))
write(D, "short", [0x02, 2, 2, 3, 4, 0x00, 0x00] + runs([(4, 1), (5, 2)]))
write(D, "raw-count", [0x03, 0, 10, 0, 0x00, 0x00] + [0xFF] + list(struct.pack("<Q", 10)) + [4])
write(D, "short-scratch", [0x0C, 1, 8, 8, 0x00, 0x00] + runs([(30, 1), (34, 2)]))
write(D, "1d-long", [0x04, 0, 0xF4, 0x81, 0x00, 0x00] + runs([(0xE1, 0x10), (1, 2)] * 2 + [(0xE0, 0x50), (200, 3)]))
write(D, "empty", [0x00, 1, 0, 7, 0x00, 0x00])
write(D, "empty-with-runs", [0x00, 1, 0, 7, 0x00, 0x00] + runs([(1, 1)]))


# ---- fuzz_roundtrip ----
# b0: elem (bits 0-1), labels - 1 (bits 2-4), raw values (bit 5)
# ndim, shape, source layout (broadcast bit 6 of l, axis f >> 4), target layout,
# data bytes: label (bits 0-2) and repeat - 1 (bits 3-7), C order
R = "fuzz_roundtrip"


def data(n, labels=8):
    return [rng.randrange(256) & ~7 | rng.randrange(labels) for _ in range(n)]


write(R, "c-to-f-u8", [0x08, 1, 20, 30, 0x00, 0x00, 0x01, 0x00] + data(60, 3))
write(R, "f-to-c-u16", [0x0D, 1, 0x91, 17, 0x01, 0x00, 0x00, 0x00] + data(80))
write(R, "3d-perm-crop-neg-u64", [0x1F, 2, 9, 8, 7, 0x06, 0x05, 0x2B, 0x19, 0x3A, 0x11,
                                   0x14, 0x0A, 0x33, 0x2E] + data(100))
write(R, "raw-u32", [0x3E, 1, 5, 6, 0x00, 0x00, 0x02, 0x00, 0x07] +
      [rng.randrange(256) for _ in range(12 * 5)])
write(R, "broadcast-u8", [0x04, 1, 12, 9, 0x40, 0x10, 0x00, 0x00] + data(20, 2))
write(R, "4d-u8", [0x0C, 3, 4, 3, 5, 2, 0x03, 0x0F, 0x02, 0x0A, 0x41] + data(50, 4))
write(R, "1d-u64-gap", [0x13, 0, 0xDC, 0x85, 0x18, 0x01, 0x30, 0x00] + data(200, 5))
write(R, "misaligned-u16", [0x09, 1, 7, 0x94, 0x10, 0x02, 0x31, 0x01] + data(40, 3))
write(R, "empty", [0x03, 2, 4, 0, 5, 0x00, 0x00, 0x01, 0x00])
write(R, "constant", [0x00, 2, 0x9E, 0x9E, 0x9E, 0x00, 0x00, 0x01, 0x00])


# ---- fuzz_bytes_decode ----
# b0 (ctl): bit 0 build mode; bit 1 raw mode: fix the checksum up, build mode:
# wrong checksum; bits 2-4 output dtype = header dtype + this (mod 9); bit 5
# short scratch; bit 6 no error info first; bit 7 build mode: trailing bytes
# b1, b2: layouts of outputs A and B (fuzz_ndarr.h): order bits 0-1 (C, F,
# transposed, rotated), gap bit 2, negative strides bits 3-4, misalign bits
# 5-6, padding bit 7
# raw mode: the object; build mode: dtype, ndim byte, a byte per axis (bit 7:
# 15 bits in two bytes), n_values byte (0xFF: 2 bytes), then the payload
BD = "fuzz_bytes_decode"


def varint(v):
    out = []
    while True:
        c = v & 0x7F
        v >>= 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return out


def obj(dtype, shape, n_values, payload, ndim=None, version=1, flags=0, magic=b"MCRL", bad_ck=False):
    h = bytearray(magic) + bytes([version, dtype, len(shape) if ndim is None else ndim, flags])
    for d in shape:
        h += bytes(varint(d))
    h += bytes(varint(n_values)) + bytes(varint(len(payload)))
    ck = zlib.adler32(bytes(payload), zlib.adler32(bytes(h))) ^ (1 if bad_ck else 0)
    return bytes(h) + struct.pack("<I", ck) + bytes(payload)


def build(ctl, la, lb, dtype, ndim_byte, axes, nv, payload):
    return [ctl | 1, la, lb, dtype, ndim_byte] + axes + [nv] + list(payload)


# real encodings (the golden files), into a few output types and layouts
fixtures = sorted(glob.glob(os.path.join(REPO, "tests", "fixtures", "*.v1.mcrle")))
layouts = [(0x00, 0x01), (0x81, 0x2E), (0x5C, 0x03), (0x22, 0x95)]
for i, f in enumerate(fixtures):
    blob = open(f, "rb").read()
    if len(blob) > 4000:
        continue
    name = os.path.basename(f).replace(".v1.mcrle", "")
    la, lb = layouts[i % len(layouts)]
    write(BD, "fixture-" + name, [0x00, la, lb] + list(blob))
    ctl = [0x04, 0x10, 0x1C][i % 3]   # another output dtype
    write(BD, "fixture-otype-" + name, [ctl, lb, la] + list(blob))
# the worked example of docs/format.md 4.8 (6x10 uint8)
example = bytes.fromhex("4d43524c0101020006 0a03 16 b9068f6c"
                        "00 000203 c52950d4a14074982 11d2200 90020200 3530".replace(" ", ""))
write(BD, "format-example", [0x00, 0x03, 0x4A] + list(example))
write(BD, "format-example-trailing", [0x00, 0x20, 0x01] + list(example) + list(example))
write(BD, "format-example-int8", [0x04, 0x00, 0x00] + list(example))
# corrupted real encodings, checksum fixed up: the payload decoder sees them
ex = bytearray(example)
ex[-3] ^= 0x40
write(BD, "format-example-rans-flip", [0x02, 0x00, 0x01] + list(ex))
ex = bytearray(example)
ex[25] ^= 0x08
write(BD, "format-example-table-flip", [0x02, 0x00, 0x01] + list(ex))
# raw payloads built here
write(BD, "raw-int16-3x4", [0x00, 0x01, 0x00] + list(obj(4, [3, 4], 5, b"\x01" + struct.pack("<12h", *[rng.randrange(-3, 3) for _ in range(12)]))))
write(BD, "raw-uint32-to-uint8", [0x14, 0x00, 0x06] + list(obj(5, [2, 3, 2], 3, b"\x01" + struct.pack("<12I", *([7, 300, 7] * 4)))))
write(BD, "raw-bool-2", [0x00, 0x02, 0x80] + list(obj(0, [5], 2, b"\x01" + bytes([0, 1, 1, 2, 0]))))
write(BD, "raw-int64-neg-to-uint", [0x04, 0x00, 0x01] + list(obj(8, [3], 2, b"\x01" + struct.pack("<3q", 5, -1, 5))))
write(BD, "raw-wrong-length", [0x00, 0x00, 0x00] + list(obj(1, [4, 4], 1, b"\x01" + bytes(15))))
write(BD, "bad-mode", [0x00, 0x00, 0x00] + list(obj(1, [4, 4], 1, b"\x02" + bytes(16))))
write(BD, "bad-checksum", [0x00, 0x00, 0x00] + list(obj(3, [2, 2], 1, b"\x01" + bytes(8), bad_ck=True)))
write(BD, "short-scratch", [0x20, 0x00, 0x00] + list(obj(3, [2, 2], 1, b"\x01" + bytes(8))))
write(BD, "empty-0x5", [0x00, 0x00, 0x01] + list(obj(4, [0, 5], 0, b"")))
write(BD, "empty-huge-axis", [0x00, 0x00, 0x00] + list(obj(1, [0, 2**62], 0, b"")))
# modelled payloads: all seven tables unused (one zero byte), then a stream that
# is only the block's initial state 2^16: every line copies the one before, so
# the map is value 0 of the table everywhere, however large
const_stream = b"\x00\x00\x01\x00"
write(BD, "model-constant-7x9-int16", [0x00, 0x0B, 0x81] + list(obj(4, [7, 9], 2, b"\x00" + bytes(varint(5)) + bytes(varint(0)) + b"\x00" + const_stream)))
write(BD, "model-constant-1024x1024", [0x00, 0x00, 0x01] + list(obj(1, [1024, 1024], 1, b"\x00\x03\x00" + const_stream)))
write(BD, "model-constant-over-limit", [0x00, 0x00, 0x01] + list(obj(1, [1025, 1024], 1, b"\x00\x03\x00" + const_stream)))
write(BD, "model-32-axes", [0x00, 0x02, 0x03] + list(obj(7, [1] * 28 + [2, 3, 1, 4], 1, b"\x00\x09\x00" + const_stream)))
write(BD, "model-value-out-of-range", [0x00, 0x00, 0x00] + list(obj(0, [4], 1, b"\x00\x02\x00" + const_stream)))
write(BD, "model-values-overflow", [0x00, 0x00, 0x00] + list(obj(1, [4], 2, b"\x00\xfe\x01\x05\x00" + const_stream)))
# header errors
write(BD, "bad-magic", [0x00, 0x00, 0x00] + list(obj(1, [2], 1, b"\x01\x00\x00", magic=b"MCRX")))
write(BD, "bad-version", [0x00, 0x00, 0x00] + list(obj(1, [2], 1, b"\x01\x00\x00", version=2)))
write(BD, "bad-dtype", [0x00, 0x00, 0x00] + list(obj(9, [2], 1, b"\x01\x00\x00")))
write(BD, "bad-ndim", [0x00, 0x00, 0x00] + list(obj(1, [], 1, b"\x01\x00\x00", ndim=0)))
write(BD, "bad-flags", [0x00, 0x00, 0x00] + list(obj(1, [2], 1, b"\x01\x00\x00", flags=1)))
write(BD, "overlong-varint", [0x00, 0x00, 0x00] + list(b"MCRL\x01\x01\x01\x00" + b"\xff" * 10 + b"\x01\x01\x03"))
write(BD, "shape-overflow", [0x00, 0x00, 0x00] + list(obj(1, [2**40, 2**40], 1, b"\x01\x00\x00")))
write(BD, "truncated", [0x00, 0x00, 0x00] + list(obj(1, [3], 1, b"\x01\x05\x05\x05"))[:-2])
write(BD, "n-values-above-payload", [0x00, 0x00, 0x00] + list(obj(1, [300], 4, b"\x01\x00\x00")))
# build mode: header made by the harness
write(BD, "build-raw-u8-5x6", build(0x00, 0x00, 0x01, 1, 1, [5, 6], 3, b"\x01" + bytes(rng.randrange(3) for _ in range(30))))
write(BD, "build-raw-i32-3d", build(0x80, 0x0D, 0x62, 6, 2, [2, 3, 2], 2, b"\x01" + struct.pack("<12i", *[rng.choice([-5, 9]) for _ in range(12)])))
write(BD, "build-model-u16", build(0x08, 0x01, 0x00, 3, 1, [6, 10], 3, example[16:]))
write(BD, "build-model-32d", build(0x00, 0x03, 0x9C, 2, 0x80 | 31, [1] * 29 + [3, 1, 5], 1, b"\x00\x01\x00" + const_stream))
# build mode with a synthesised modelled payload (ctl bit 7): value bytes, then
# per line symbols (0 ends; 1..100 cases a/b; 101..105 case c) with their numbers
# and VAL bytes (rank | escape index << 3); this one is the 4.8 example again
synth_example = [0, 2, 3, 0, 104, 2, 0x17, 0, 104, 5, 0x0F, 0, 0, 0, 6, 0]
write(BD, "synth-format-example", build(0x80, 0x00, 0x01, 1, 1, [6, 10], 3, synth_example))
write(BD, "synth-example-int16-strided", build(0x84, 0x9D, 0x4A, 4, 1, [6, 10], 3, synth_example))
# escapes: KX / LX numbers (k' or l' = 4), case b, a predicted right value
write(BD, "synth-escapes-3d", build(0x80, 0x02, 0x81, 3, 2, [3, 5, 40], 4,
      [1, 0, 4, 9] + [105, 3, 20, 0x1F, 0] + [49, 2, 0x0F, 0] + [0] * 4 + [59, 1, 0x27, 0] + [96, 0, 7, 0x08, 0]))
write(BD, "synth-bad-segment", build(0x80, 0x00, 0x00, 1, 1, [4, 8], 2, [0, 0, 105, 6, 9, 0x0F, 0]))
write(BD, "synth-long-line-u64", build(0x80, 0x00, 0x05, 7, 0, [0x81, 0x00], 3, [5, 1, 2] + [103, 0xFF, 40, 0, 0, 0, 0x0F, 0, 101, 3, 0x17, 0]))
write(BD, "build-wrong-checksum", build(0x02, 0x00, 0x00, 1, 0, [4], 1, b"\x01\x01\x01\x01\x01"))


# ---- fuzz_bytes_roundtrip ----
# b0: elem (bits 0-1), kind (bits 2-3: 0/3 unsigned, 1 signed, 2 bool), labels - 1
#     (bits 4-6; 7: 256 labels, a byte each), raw label values (bit 7)
# b1: unused table value (bit 0), drop a used value (1), widened decode (2),
#     trailing bytes (3), one byte short (4), line edits (5), swapped table (6)
# ndim, shape, source layout, target layout, [8 raw values], data
BR = "fuzz_bytes_roundtrip"


def edits(lines, per_line):
    out = []
    for _ in range(lines):
        for _ in range(rng.randrange(per_line + 1)):
            out += [rng.randrange(8), rng.randrange(256)]
        out.append(0xFF)
    return out


write(BR, "runs-u8-2d", [0x30, 0x00, 1, 20, 30, 0x00, 0x00, 0x01, 0x00] + data(60, 4))
write(BR, "edits-u8-2d", [0x30, 0x20, 1, 24, 30, 0x00, 0x00, 0x01, 0x00] + edits(24, 3))
write(BR, "edits-i16-3d", [0x25, 0x25, 2, 4, 9, 12, 0x00, 0x00, 0x02, 0x00, 0x07] + edits(36, 2))
write(BR, "edits-u32-256-labels", [0x72, 0x21, 1, 16, 20, 0x01, 0x00, 0x00, 0x00] + edits(16, 4))
write(BR, "runs-i64-raw-values", [0xE7, 0x1F, 1, 10, 10, 0x06, 0x05, 0x2B, 0x19, 0x00, 0x00] +
      [rng.randrange(256) for _ in range(64)] + data(40))
write(BR, "bool-broadcast", [0x18, 0x0D, 1, 12, 9, 0x40, 0x10, 0x01, 0x00] + data(20, 2))
write(BR, "noise-u16-raw-payload", [0x71, 0x00, 1, 8, 8, 0x00, 0x00, 0x00, 0x00] + [rng.randrange(256) & 0x07 for _ in range(64)] + [rng.randrange(256) for _ in range(64)])
write(BR, "4d-u8-swap-drop", [0x1C, 0x46, 3, 4, 3, 5, 2, 0x03, 0x0F, 0x02, 0x0A, 0x41] + data(50, 4))
write(BR, "1d-long-line", [0x20, 0x20, 0, 0xE8, 0x83, 0x00, 0x00, 0x00, 0x00] + edits(1, 30))
write(BR, "empty", [0x01, 0x1F, 2, 4, 0, 5, 0x00, 0x00, 0x01, 0x00])
write(BR, "single", [0x17, 0x0C, 2, 1, 1, 0x00, 0x00, 0x01, 0x00, 0x03])


# ---- fuzz_window ----
# b0: elem (bits 0-1), hostile runs (bit 2), labels - 1 (bits 3-5), fixup (bit 6), no info (bit 7)
# b1: invalid box (bit 0), which (bit 1), axis (>> 2)
# ndim, shape, per axis (start byte, length byte), box layout (fz_arr_make), data or runs
FW = "fuzz_window"
write(FW, "2d-u8", [0x18, 0x00, 1, 20, 30, 3, 10, 5, 20, 0x00, 0x00] + data(60, 4))
write(FW, "3d-u16-fortran-box", [0x11, 0x00, 2, 9, 8, 7, 2, 5, 1, 6, 0, 7, 0x01, 0x00] + data(80, 3))
write(FW, "4d-u64-neg-strides", [0x3B, 0x00, 3, 4, 3, 5, 2, 1, 2, 0, 3, 1, 3, 0, 2, 0x03, 0x0F, 0x02, 0x0A, 0x41] + data(50, 5))
write(FW, "1d-u32", [0x0A, 0x00, 0, 0x90, 0x01, 17, 200, 0x10, 0x02] + data(120, 3))
write(FW, "whole-array", [0x18, 0x00, 1, 6, 7, 0, 6, 0, 7, 0x00, 0x00] + data(20, 4))
write(FW, "empty-box", [0x18, 0x00, 1, 6, 7, 2, 0, 1, 3, 0x00, 0x00] + data(20, 4))
write(FW, "bad-box-start", [0x18, 0x05, 1, 6, 7, 2, 3, 1, 3, 0x00, 0x00] + data(20, 4))
write(FW, "bad-box-stop", [0x18, 0x07, 2, 3, 4, 5, 0, 3, 1, 2, 0, 5, 0x00, 0x00] + data(20, 4))
write(FW, "hostile-fixup-u8", [0x44, 0x00, 1, 8, 8, 2, 4, 1, 6, 0x00, 0x00] + runs([(5, 1), (9, 2), (0, 3), (30, 0x80), (7, 4)]) + [0x42])
write(FW, "hostile-zero-count", [0x05, 0x00, 1, 3, 3, 0, 2, 1, 2, 0x00, 0x00] + runs([(4, 1), (0, 2), (5, 3)]))
write(FW, "hostile-overflow", [0x07, 0x00, 1, 3, 3, 0, 2, 1, 2, 0x00, 0x00] + runs([(4, 1), (0xF0, 2), (7, 3)]))
write(FW, "hostile-short", [0x86, 0x00, 2, 2, 3, 4, 0, 1, 1, 2, 0, 4, 0x00, 0x00] + runs([(4, 1), (5, 2)]))
write(FW, "hostile-raw-count", [0x47, 0x00, 0, 10, 0, 2, 5, 0x00, 0x00] + [0xFF] + list(struct.pack("<Q", 10)) + [4])


# ---- fuzz_png_unfilter ----
# b0: bpp - 1 (bits 0-2), short output (bit 3), no info (bit 4); row_bytes (2
# bytes LE, % 1024); rows (255: as many as the data holds); the inflated data
PU = "fuzz_png_unfilter"


def png_rows(rows, rb, types, zero_share=0.9):
    out = []
    for r in range(rows):
        out.append(types[r % len(types)])
        out += [0 if rng.random() < zero_share else rng.randrange(256) for _ in range(rb)]
    return out


write(PU, "every-filter-bpp1", [0x00, 40, 0, 255] + png_rows(10, 40, [0, 1, 2, 3, 4]))
write(PU, "paeth-up-bpp1", [0x00, 48, 0, 255] + png_rows(12, 48, [2, 4, 4, 1, 2]))
write(PU, "bpp2", [0x01, 34, 0, 255] + png_rows(6, 34, [1, 4, 3, 2]))
write(PU, "bpp3-random", [0x02, 21, 0, 255] + png_rows(5, 21, [4, 3, 1], 0.2))
write(PU, "bpp8", [0x07, 64, 0, 255] + png_rows(4, 64, [4, 1, 3, 2]))
write(PU, "bad-filter", [0x00, 8, 0, 255] + png_rows(2, 8, [2]) + [5] + [0] * 8)
write(PU, "wrong-length", [0x00, 8, 0, 3] + png_rows(2, 8, [2]))
write(PU, "short-output", [0x08, 8, 0, 255] + png_rows(2, 8, [4]))
write(PU, "no-rows", [0x10, 8, 0, 0])

# ---- fuzz_png_id_runs ----
# b0: bpp 3/4 (bit 0), no info (bit 1), short work (bit 2), short col_pos (bit 3),
# room byte follows (bits 4-7 non-zero); width (2 bytes LE, % 300); rows (255: as
# many as the data holds); the inflated data
PI = "fuzz_png_id_runs"


def label_rows(rows, width, bpp, types, ids=4):
    """Filtered rows of a label-like RGB(A) image (few ids in blocks)."""
    pal = [[rng.randrange(256) for _ in range(3)] for _ in range(ids)]
    img = []
    for r in range(rows):
        row = []
        for c in range(width):
            if r and rng.random() < 0.7:
                px = img[r - 1][c * bpp:c * bpp + 3]
            elif c and rng.random() < 0.8:
                px = row[-bpp:][:3]
            else:
                px = pal[rng.randrange(ids)]
            row += list(px) + ([rng.randrange(256)] if bpp == 4 else [])
        img.append(row)
    out = []
    rb = width * bpp
    for r, row in enumerate(img):
        t = types[r % len(types)]
        out.append(t)
        for i in range(rb):
            a = row[i - bpp] if i >= bpp else 0
            b = img[r - 1][i] if r else 0
            c = img[r - 1][i - bpp] if r and i >= bpp else 0
            if t == 0:
                pred = 0
            elif t == 1:
                pred = a
            elif t == 2:
                pred = b
            elif t == 3:
                pred = (a + b) // 2
            else:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else (b if pb <= pc else c)
            out.append((row[i] - pred) % 256)
    return out


write(PI, "rgb-every-filter", [0x00, 37, 0, 255] + label_rows(10, 37, 3, [0, 1, 2, 3, 4]))
write(PI, "rgba-paeth-up", [0x01, 24, 0, 255] + label_rows(8, 24, 4, [4, 2, 4, 1, 3]))
write(PI, "rgb-wide-blocks", [0x00, 64, 0, 255] + label_rows(4, 64, 3, [2, 4]))
write(PI, "rgb-little-room", [0x10, 5, 17, 0, 255] + label_rows(6, 17, 3, [1, 4, 2]))
write(PI, "rgba-random", [0x01, 9, 0, 255] + png_rows(5, 36, [4, 3, 1], 0.2))
write(PI, "bad-filter", [0x00, 4, 0, 255] + png_rows(2, 12, [2]) + [6] + [0] * 12)
write(PI, "wrong-length", [0x02, 4, 0, 3] + png_rows(2, 12, [2]))
write(PI, "short-work", [0x04, 4, 0, 255] + png_rows(2, 12, [4]))
write(PI, "short-col", [0x09, 3, 0, 255] + png_rows(2, 12, [4]))
write(PI, "no-rows", [0x02, 8, 0, 0])

# ---- fuzz_ops ----
# b0: index size (bits 0-1), table element size (bits 2-3), fixup (bit 4), no info (bit 5)
# b1: groups - 1; ndim, shape, then (count byte, index byte) pairs
FO = "fuzz_ops"
write(FO, "2d-u8-fixup", [0x10, 0x07, 1, 20, 30] + runs([(rng.randrange(1, 60), rng.randrange(8)) for _ in range(30)]))
write(FO, "3d-u16-idx-u32-table", [0x19, 0x0F, 2, 9, 8, 7] + runs([(rng.randrange(1, 40), rng.randrange(16)) for _ in range(40)]))
write(FO, "4d-u64-idx", [0x1F, 0x04, 3, 4, 3, 5, 2] + runs([(rng.randrange(1, 20), rng.randrange(5)) for _ in range(20)]))
write(FO, "1d-long-runs", [0x10, 0x02, 0, 0x90, 0x01] + runs([(0xE3, 0), (0x40, 1), (0xE1, 2)]))
write(FO, "2d-wrapping-runs", [0x10, 0x03, 1, 5, 6] + runs([(2, 0), (7, 1), (11, 2), (4, 3), (6, 0)]))
write(FO, "index-out-of-range", [0x10, 0x02, 1, 4, 4] + runs([(3, 1), (5, 3), (8, 0)]))
write(FO, "raw-index", [0x11, 0x02, 1, 4, 4] + runs([(3, 1), (5, 0x80)]) + [0xFF, 0xFF] + [8, 0])
write(FO, "zero-count", [0x00, 0x02, 1, 3, 3] + runs([(4, 1), (0, 2), (5, 0)]))
write(FO, "overflow", [0x20, 0x02, 1, 3, 3] + runs([(4, 1), (0xF0, 2), (7, 0)]))
write(FO, "short", [0x05, 0x02, 1, 3, 3] + runs([(4, 1), (2, 2)]))
write(FO, "empty-array", [0x10, 0x02, 1, 0, 7])


# ---- fuzz_compact ----
# b0: elem (bits 0-1), kind (bits 2-3), raw (bit 4), values_signed (bit 5), no info (bit 6), mutate (bit 7)
# b1: the relabel table (element size bits 0-1, values and defined pattern; bit 7 all defined)
# ndim, shape, per axis (start byte, length byte), then mutation bytes (3) + data, or raw strings
FC = "fuzz_compact"
write(FC, "2d-u8", [0x08, 0x80, 1, 20, 30, 3, 10, 5, 20, 0, 0, 0] + data(60, 4))
write(FC, "2d-bool", [0x00, 0x80, 1, 12, 9, 2, 6, 0, 9, 0, 0, 0] + data(30, 2))
write(FC, "3d-i16-signed", [0x25, 0x80, 2, 9, 8, 7, 2, 5, 1, 6, 0, 7, 0, 0, 0] + data(80, 5))
write(FC, "4d-u64", [0x0B, 0x80, 3, 4, 3, 5, 2, 1, 2, 0, 3, 1, 3, 0, 2, 0, 0, 0] + data(50, 6))
write(FC, "1d-u32", [0x0A, 0x80, 0, 0x90, 0x01, 17, 200, 0, 0, 0] + data(120, 3))
write(FC, "empty-box", [0x08, 0x80, 1, 6, 7, 2, 0, 1, 3, 0, 0, 0] + data(20, 4))
write(FC, "box-at-start", [0x08, 0x80, 1, 30, 30, 0, 3, 0, 2, 0, 0, 0] + data(200, 4))
write(FC, "mutate-counts-char", [0x88, 0x80, 1, 20, 30, 0, 3, 0, 2, 0x01, 0, 40] + data(80, 4))
write(FC, "mutate-values-cut", [0x88, 0x80, 1, 20, 30, 0, 3, 0, 2, 0x02, 0, 10] + data(80, 4))
write(FC, "mutate-counts-add", [0x88, 0x80, 1, 20, 30, 0, 3, 0, 2, 0x05, 7, 0] + data(80, 4))
write(FC, "value-too-big", [0x88, 0x80, 1, 6, 7, 0, 3, 0, 2, 0x00, 0x50, 0x03] + data(20, 4))
write(FC, "raw", [0x18, 0x80, 1, 3, 4, 0, 2, 1, 2, 3] + list(b"0O1") + list(b"3451"))
write(FC, "raw-long-numbers", [0x1B, 0x80, 1, 3, 4, 0, 2, 1, 2, 4] + list(b"0PPP") + list(b";0"))
write(FC, "relabel-u16-table-some-undefined", [0x08, 0x05, 1, 20, 30, 3, 10, 5, 20, 0, 0, 0] + data(60, 8))
write(FC, "relabel-bool-u64-table", [0x00, 0x83, 1, 12, 9, 2, 6, 0, 9, 0, 0, 0] + data(30, 2))


# ---- fuzz_threads ----
# b0: elem (bits 0-1), threads - 1 (bits 2-3), signed (bit 4), bool (bit 5),
# corrupt counts (bit 6), capacity one short (bit 7); shape; source layout;
# output layout; then label bytes (low 3 bits a label, 7: 8 raw bytes follow;
# high 5 bits: repeats - 1), and (corrupting) a run index and a how byte
T = "fuzz_threads"
write(T, "c-2d-2threads", bytes([0x04, 1, 0x08, 0x0C, 0, 0, 0, 0]) + bytes([0x11, 0x0A, 0xF3, 0x22]))
write(T, "f-3d-4threads", bytes([0x0D, 2, 4, 5, 6, 1, 0, 1, 0]) + bytes([0x01, 0x32, 0x0B, 0x44]))
write(T, "corrupt", bytes([0x45, 1, 0x06, 0x09, 0, 0, 2, 0, 0x13, 0x2A, 0x07, 1, 2, 3, 4, 5, 6, 7, 8, 3, 7]))
write(T, "bool", bytes([0x24, 1, 0x10, 0x10, 0, 0, 0, 0]) + bytes([0x08, 0x09, 0x10, 0x11]))
write(T, "short-cap-1d", bytes([0x87, 0, 0x40, 0x80, 3, 0, 3, 0]) + bytes(range(0, 256, 7)))

# ---- fuzz_bytes_v2 ----
# b0: elem (bits 0-1), kind (bits 2-3), encode threads - 1 (bits 4-5),
# order F (bit 6), corrupt (bit 7); b1: decode threads - 1 (bits 0-1),
# corrupted bytes - 1 (bits 2-4); shape; source and target layouts; label
# bytes as fuzz_threads; then (offset 2 bytes, xor 1 byte) triples
B2 = "fuzz_bytes_v2"
write(B2, "c-2d", bytes([0x10, 0x01, 1, 0x30, 0x28, 0, 0, 0, 0]) + bytes([0x19, 0x2A, 0xF3, 0x32, 0x0B]))
write(B2, "f-3d", bytes([0x51, 0x02, 2, 12, 9, 7, 1, 0, 1, 0]) + bytes([0x21, 0x5A, 0x0B, 0x44, 0x13]))
write(B2, "corrupt", bytes([0xA3, 0x1D, 1, 0x20, 0x18, 0, 5, 0, 0]) + bytes([0x11, 0x2A, 0x3B, 0x0C])
      + bytes([0, 40, 0x55, 0, 7, 0x80, 1, 2, 0x01, 0, 90, 0xFF]))
write(B2, "bool-1d", bytes([0x38, 0x03, 0, 0x00, 0x84, 0, 0, 0, 0]) + bytes([0x08, 0x31, 0xF8]))
write(B2, "wide-signed", bytes([0x57, 0x02, 1, 0x12, 0x11, 2, 0, 0, 0])
      + bytes([0x07]) + struct.pack("<q", -5) + bytes([0x0F]) + struct.pack("<q", 2**62) + bytes([0x12]))


# ---- fuzz_pairs ----
# b0: elem (bits 0-1), kind (bits 2-3), raw (bit 4), mutate (bit 5), no info (bit 6)
# b1: table length (% 40); b2: keys (low nibble % 24), groups of A - 1 (high nibble)
# b3: groups of B - 1 (low nibble), 'other' groups (high bits)
# table groups, key labels (bit 7: 8 raw bytes), key groups, size (2 bytes), then
# data of A and B (+ 3 mutation bytes), or 3 length bytes and the raw strings
FP = "fuzz_pairs"


def pairs_seed(b0, tlen, nk, nga, ngb, other, size, labels=8, extra=()):
    head = [b0, tlen, nk | (nga - 1) << 4, (ngb - 1) | other << 4]
    head += [rng.randrange(nga) for _ in range(tlen)]
    head += [rng.randrange(8) for _ in range(nk)] + [rng.randrange(16) for _ in range(nk)]
    head += [size & 255, size >> 8]
    return head + data(size, labels) + data(size, labels) + list(extra)


write(FP, "u8-table", pairs_seed(0x08, 12, 0, 8, 8, 3, 600))
write(FP, "u16-keys", pairs_seed(0x09, 0, 6, 7, 5, 1, 900))
write(FP, "i32-signed-keys-and-table", pairs_seed(0x06, 5, 7, 9, 9, 2, 400))
write(FP, "u64-keys", pairs_seed(0x0B, 3, 8, 4, 6, 0, 300))
write(FP, "bool", pairs_seed(0x00, 2, 1, 2, 2, 0, 200, labels=2))
write(FP, "mutate-b-counts", pairs_seed(0x28, 4, 2, 5, 5, 1, 300, extra=[0x03, 0, 9]))
write(FP, "mutate-a-values-cut", pairs_seed(0x28, 4, 2, 5, 5, 1, 300, extra=[0x04, 0, 5]))
write(FP, "raw-u8", [0x18, 3, 0x20, 0x02, 0, 1, 2, 4, 0, 3, 3, 2] + list(b"012") + list(b"112") +
      list(b"01") + list(b"13"))
write(FP, "empty", [0x08, 2, 0x10, 0x01, 0, 1, 0, 0])


# ---- fuzz_pq ----
# b0: n_gt % 9, b1: n_pred % 9, b2: categories (1 + b % 5), b3: areas (bit 0), no info (bit 1),
# hostile (bit 2), short scratch (bit 3); gt categories, crowd bits, gt areas, pred categories,
# then (row, column, pixels) triples
FQ = "fuzz_pq"


def pq_seed(ng, npr, nc, flags, crowd, n_entries):
    out = [ng, npr, nc - 1, flags] + [rng.randrange(nc) for _ in range(ng)] + [crowd]
    if flags & 1:
        out += [rng.randrange(1, 200) for _ in range(ng)]
    out += [rng.randrange(nc) for _ in range(npr)]
    for _ in range(n_entries):
        out += [rng.randrange(ng + 2), rng.randrange(npr + 2), rng.randrange(1, 60)]
    return out


write(FQ, "counted-areas", pq_seed(6, 6, 3, 0, 0x00, 30))
write(FQ, "table-areas", pq_seed(5, 7, 4, 1, 0x00, 30))
write(FQ, "crowd", pq_seed(7, 5, 2, 0, 0x29, 30))
write(FQ, "diagonal", [4, 4, 1, 0, 0, 1, 0, 1, 0x00, 0, 1, 0, 1] +
      [0, 0, 50, 1, 1, 40, 2, 2, 30, 3, 3, 20, 4, 0, 5, 0, 4, 7])
write(FQ, "hostile", pq_seed(3, 3, 3, 4, 0x02, 12) + [0xFF, 0x00, 0xFF])
write(FQ, "short-scratch", pq_seed(3, 3, 3, 8, 0x00, 5))
