#!/usr/bin/env python3
"""Writes the hand-made seed inputs of each harness into corpus/<harness>/.

The byte formats are documented at the top of each fuzz_*.c file. The
checked-in corpus started from these seeds and was then minimised together
with fuzzing runs (`MERGE=1 run.sh`), which renames every input to its SHA-1;
running this again adds the seed-* files back (harmless: the merge keeps
their coverage anyway). Use it after changing an input format.
    python3 csrc/fuzz/make_seeds.py
"""
import os
import random
import struct

HERE = os.path.dirname(os.path.abspath(__file__))
rng = random.Random(20240601)


def write(harness, name, data):
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
