#!/usr/bin/env python
"""Peak memory and time of the calls issue 13's attack found greedy, each in a fresh process.

Usage::

    python tools/hostile_memory.py [--log2-size 27]

Cases: decoding and encoding a 1D uint8 map of 2**N elements in the bytes
form (a few long runs and one short run every 4096 elements), and decoding
(and ``as_runs`` of) a 27-byte object that claims a 65536x32768 uint8 map
but holds one block of coded lines where its lines need two. Each case runs
in its own Python process, which reports ``ru_maxrss`` before and after the
call (the peak resident memory the call added) and its time. The figures in
docs/security.md ("Memory") come from this script.
"""

from __future__ import annotations

import argparse
import os
import struct
import subprocess
import sys
import tempfile
import zlib

CHILD = r"""
import resource, sys, time
import numpy as np
import multiclass_rle as mcr
what, n, blob_path, hostile_hex = sys.argv[1], int(sys.argv[2]), sys.argv[3], sys.argv[4]
def steps(n):
    a = np.zeros(n, np.uint8); a[n // 7: n // 3] = 5; a[n // 2:] = 9; a[::4096] = 3
    return a
blob = open(blob_path, "rb").read()
a = steps(n) if what == "encode_bytes 1D" else None
hostile = bytes.fromhex(hostile_hex)
calls = {"decode 1D": lambda: mcr.decode(blob), "encode_bytes 1D": lambda: mcr.encode_bytes(a),
         "decode hostile": lambda: mcr.decode(hostile), "as_runs hostile": lambda: mcr.as_runs(hostile)}
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
t = time.perf_counter()
try:
    calls[what]()
    note = ""
except mcr.RLEError as exc:
    note = f"{type(exc).__name__}: {exc}"
dt = time.perf_counter() - t
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(f"{dt:.3f}\t{(after - before) / 1024:.0f}\t{note}")
"""


MAKE = r"""
import os, sys
import numpy as np
import multiclass_rle as mcr
n, path = int(sys.argv[1]), sys.argv[2]
a = np.zeros(n, np.uint8); a[n // 7: n // 3] = 5; a[n // 2:] = 9; a[::4096] = 3
open(path, "wb").write(mcr.encode_bytes(a))
print(os.path.dirname(mcr.__file__))
"""


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        c, v = v & 0x7F, v >> 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def hostile_object() -> bytes:
    """65536x32768 uint8, one value, every table absent, one coder block of the two needed."""
    payload = b"\x00" + b"\x00" + b"\x00" + struct.pack("<I", 1 << 16)
    head = b"MCRL" + bytes([1, 1, 2, 0]) + _varint(65536) + _varint(32768) + _varint(1)
    head += _varint(len(payload))
    return head + struct.pack("<I", zlib.adler32(payload, zlib.adler32(head))) + payload


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--log2-size", type=int, default=27, help="1D map of 2**N elements")
    args = ap.parse_args()
    n = 1 << args.log2_size
    hostile = hostile_object()
    with tempfile.TemporaryDirectory() as tmp:
        blob_path = os.path.join(tmp, "blob")
        # made in a child too: a process's peak RSS passes to the processes it
        # starts (Linux keeps it across fork and exec), so this one stays small
        where = subprocess.run([sys.executable, "-c", MAKE, str(n), blob_path],
                               capture_output=True, text=True, check=True).stdout.strip()
        print(f"multiclass_rle at {where}; 1D map of {n} uint8 elements "
              f"({os.path.getsize(blob_path)} bytes encoded); hostile object {len(hostile)} "
              f"bytes")
        print("case\tseconds\tpeak MB added\tresult")
        for what in ("decode 1D", "encode_bytes 1D", "decode hostile", "as_runs hostile"):
            proc = subprocess.run([sys.executable, "-c", CHILD, what, str(n), blob_path,
                                   hostile.hex()], capture_output=True, text=True)
            line = proc.stdout.strip() or f"failed: {proc.stderr.strip()[-200:]}"
            print(f"{what}\t{line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
