#!/usr/bin/env python
"""Check what the sdist and the wheel hold.

    python tools/check_dist.py dist/multiclass_rle-X.tar.gz dist/multiclass_rle-X-*.whl

The sdist must hold exactly the git-tracked files a build and its tests need
(KEEP), and nothing of what .gitattributes leaves out (LEFT_OUT: fuzz
corpora, benchmarks, docs sources, CI and tools); that it is enough is shown
by building the wheel from the unpacked sdist alone (tools/dist_check.sh).
The wheel must hold every file of the package (src/multiclass_rle, less the
binding's C source and meson.build), the compiled binding, and nothing else.
"""

from __future__ import annotations

import subprocess
import sys
import tarfile
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

#: What a build reads (meson files, csrc/, src/, pyproject.toml and the README it names,
#: the licence) and the test suite with its golden files, for whoever tests the build.
KEEP = ("pyproject.toml", "meson.build", "meson.options", "LICENSE", "README.md",
        "CHANGELOG.md", "csrc/", "src/", "tests/")
#: Never in the sdist (export-ignore in .gitattributes).
LEFT_OUT = (".ci/", ".github/", ".gitattributes", ".gitignore", "benchmarks/", "csrc/fuzz/",
            "docs/", "tools/")


def _kept(path: str) -> bool:
    return (any(path == k or (k.endswith("/") and path.startswith(k)) for k in KEEP)
            and not any(path == x or (x.endswith("/") and path.startswith(x)) for x in LEFT_OUT))


def check_sdist(sdist: Path) -> list[str]:
    with tarfile.open(sdist) as tar:
        members = [m.name.split("/", 1)[1] for m in tar.getmembers() if m.isfile()]
    top = {m.split("/", 1)[0] for m in members}
    problems = [f"sdist holds {m}, which it must not" for m in members
                if m != "PKG-INFO" and not _kept(m)]
    if "PKG-INFO" not in members:
        problems.append("sdist has no PKG-INFO")
    tracked = subprocess.run(["git", "ls-files"], cwd=ROOT, check=True, capture_output=True,
                             text=True).stdout.split()
    expected = {f for f in tracked if _kept(f)}
    missing = sorted(expected - set(members))
    problems += [f"sdist lacks {m}" for m in missing]
    size = sdist.stat().st_size
    print(f"sdist: {len(members)} files in {sorted(top)}, {size / 1e3:.0f} kB; "
          f"{len(tracked) - len(expected)} tracked files left out")
    return problems


def check_wheel(wheel: Path) -> list[str]:
    with zipfile.ZipFile(wheel) as z:
        names = [n for n in z.namelist() if not n.endswith("/")]
    package = ROOT / "src" / "multiclass_rle"
    want = {f"multiclass_rle/{p.relative_to(package).as_posix()}" for p in package.rglob("*")
            if p.is_file() and p.suffix != ".c" and p.name != "meson.build"
            and "__pycache__" not in p.parts}
    got = {n for n in names if not n.split("/", 1)[0].endswith(".dist-info")}
    binding = [n for n in got if n.startswith("multiclass_rle/_codec/_core.")
               and not n.endswith(".pyi")]
    problems = [f"wheel lacks {m}" for m in sorted(want - got)]
    problems += [f"wheel holds {m}, which is not in the package"
                 for m in sorted(got - want - set(binding))]
    if len(binding) != 1:
        problems.append(f"wheel should hold one compiled binding, has {binding}")
    print(f"wheel: {len(got)} package files ({binding[0] if binding else 'no binding'}), "
          f"{wheel.stat().st_size / 1e3:.0f} kB")
    return problems


def main(argv: list[str]) -> int:
    problems = []
    for arg in argv:
        path = Path(arg)
        problems += check_sdist(path) if path.name.endswith(".tar.gz") else check_wheel(path)
    for p in problems:
        print("  " + p)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
