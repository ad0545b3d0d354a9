"""Count the LeakSanitizer reports whose allocation stack passes through this library.

    python tools/lsan_ours.py LOG

CPython and numpy keep some memory at exit, which LeakSanitizer lists too;
a leak is ours when a frame of its stack is in the extension module
(``multiclass_rle/_codec/_core...so``) or a ``mcrle_`` kernel. Prints each of ours
and a summary line; exits 1 if there is any (or another sanitizer error),
2 if the loops did not finish.
"""

from __future__ import annotations

import re
import sys


def main() -> int:
    text = open(sys.argv[1], errors="replace").read()
    if "leak_loops:" not in text:
        print(f"{sys.argv[1]}: tools/leak_loops.py did not finish", file=sys.stderr)
        return 2
    if "ERROR: AddressSanitizer" in text or "runtime error:" in text:
        print(f"{sys.argv[1]}: a sanitizer error other than a leak", file=sys.stderr)
        return 1
    records = [r for r in re.split(r"\n(?=(?:Direct|Indirect) leak of)", text) if "leak of" in r]
    ours = []
    for rec in records:
        frames = re.findall(r"#\d+ 0x[0-9a-f]+ in (\S+) \(?(\S+)", rec)
        if any("/multiclass_rle/_codec/_core" in where or func.startswith("mcrle_")
               for func, where in frames):
            ours.append(rec)
    for rec in ours:
        print(rec.strip(), end="\n\n")
    total = sum(int(m) for m in re.findall(r"leak of (\d+) byte", "\n".join(records)))
    print(f"LeakSanitizer: {len(records)} leak records ({total} bytes) at exit, "
          f"{len(ours)} with an allocation in multiclass_rle")
    return 1 if ours else 0


if __name__ == "__main__":
    sys.exit(main())
