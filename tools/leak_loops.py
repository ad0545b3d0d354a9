"""Encode/decode loops for LeakSanitizer (run by tools/sanitize_pytest.sh).

Every public path that allocates in C runs many times, error paths included;
at exit LeakSanitizer lists the blocks never freed. CPython itself keeps
memory at exit, so tools/sanitize_pytest.sh counts only the leaks whose
allocation stack passes through the extension (``_core`` or a ``mcrle_``
kernel). Usage: python tools/leak_loops.py [ROUNDS]
"""

from __future__ import annotations

import json
import sys

import numpy as np

import multiclass_rle as mcr
from multiclass_rle._codec import _core
from multiclass_rle._integrations.png import PNGError, read_label_png


def main() -> int:
    rounds = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    rng = np.random.default_rng(0)
    small = rng.integers(0, 12, size=(45, 60)).astype(np.uint8)
    m = np.kron(small, np.ones((8, 8), np.uint8))             # 360 x 480
    vol = np.kron(rng.integers(0, 5, (4, 6, 8)), np.ones((3, 3, 3), np.int64)).astype(np.int32)
    bad = [
        {"size": [360, 480], "values": "0", "counts": "1", "dtype": "uint8"},
        {"size": [2, 2], "values": [1, 2], "counts": [1, 2]},
        {"size": [2, 2], "values": "0!", "counts": "4", "dtype": "uint8"},
        b"MCRL\x01" + bytes(30),
        {"size": [2, 2], "dtype": "uint8", "packed": "TUNSTA=="},
    ]
    png = b"\x89PNG\r\n\x1a\n" + bytes(40)
    errors = 0
    for _ in range(rounds):
        for a in (m, vol, m.T, m.astype(bool)):
            rle = mcr.encode(a)
            mcr.decode(json.loads(json.dumps(rle)))
            mcr.decode(mcr.encode_runs(a), order="F")
            mcr.decode(mcr.encode_bytes(a))
            mcr.decode(mcr.encode(a, packed=True))
            mcr.array_to_multi_class_rle(a)
        rle = mcr.encode(m)
        mcr.decode_window(rle, (slice(10, 200), slice(5, 300)))
        mcr.area(rle)
        mcr.bbox(rle)
        mcr.confusion_matrix(rle, mcr.encode(m.T.copy().T))
        mcr.remap(rle, {int(v): int(v) % 3 for v in np.unique(m)})
        mcr.to_coco(rle)
        _core.png_unfilter(bytes(481 * 4), 4, 480, 1, np.empty((4, 480), np.uint8))
        for b in bad:
            try:
                mcr.decode(b)
            except (mcr.RLEError, ValueError):
                errors += 1
        try:
            read_label_png(png)
        except PNGError:
            errors += 1
    print(f"leak_loops: {rounds} rounds, {errors} errors raised as expected")
    return 0


if __name__ == "__main__":
    sys.exit(main())
