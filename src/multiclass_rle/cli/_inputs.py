"""Input discovery: files, folders and globs -> sorted, uniquely named input files."""

from __future__ import annotations

import glob
import os
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

from ._console import UsageError


#: File name endings the readers know, lower case, and the reader kind.
SUFFIX_KINDS = {
    ".png": "image",
    ".tif": "image",
    ".tiff": "image",
    ".npy": "npy",
    ".npz": "npz",
    ".nii": "nifti",
    ".nii.gz": "nifti",
    ".mgz": "mgz",
    ".mgh": "mgz",
}


def suffix_kind(path: str) -> str | None:
    """Reader kind from the file name's ending, or None."""
    low = path.lower()
    if low.endswith(".nii.gz"):
        return "nifti"
    return SUFFIX_KINDS.get(os.path.splitext(low)[1])


def kind_of(path: str) -> str:
    """Reader kind from the name, else from the first bytes ('image' by default)."""
    kind = suffix_kind(path)
    if kind is not None:
        return kind
    try:
        with open(path, "rb") as f:
            head = f.read(8)
    except OSError:
        return "image"  # the reader reports the error
    if head.startswith(b"\x93NUMPY"):
        return "npy"
    if head.startswith(b"PK\x03\x04"):
        return "npz"
    return "image"


@dataclass(frozen=True)
class InputFile:
    path: str  # as found on disk
    rel: str  # name in the output, '/'-separated
    kind: str
    size: int  # bytes on disk


def _posix(rel: str) -> str:
    return rel.replace(os.sep, "/") if os.sep != "/" else rel


def _magic_base(pattern: str) -> str:
    """The leading directories of a glob pattern that hold no wildcard."""
    parts = pattern.replace(os.sep, "/").split("/")
    base: list[str] = []
    for part in parts[:-1]:
        if glob.has_magic(part):
            break
        base.append(part)
    if not base:
        return "."
    joined = "/".join(base)
    return joined or "/"


def _walk(folder: str) -> Iterator[str]:
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            if suffix_kind(name) is not None:
                yield os.path.join(dirpath, name)


def collect_inputs(args: Sequence[str], *, root: str | None,
                   report: Callable[[str, str], None]) -> tuple[list[InputFile], int]:
    """Expand files, folders and globs into sorted, de-duplicated input files.

    The name of a file is its path relative to ``root`` when given, else to
    the folder it was found in (a folder argument, or the part of a glob
    before its first wildcard); a plain file argument keeps its file name.
    Returns the files and the number of arguments that found nothing.
    """
    found: dict[str, InputFile] = {}
    missing = 0
    root_abs = os.path.abspath(root) if root is not None else None

    def add(path: str, base: str) -> None:
        if root_abs is not None:
            rel = os.path.relpath(os.path.abspath(path), root_abs)
            if rel == os.pardir or rel.startswith(os.pardir + os.sep) or os.path.isabs(rel):
                raise UsageError(f"{path} is not inside --root {root}")
        else:
            rel = os.path.relpath(path, base)
        rel = _posix(rel)
        try:
            size = os.stat(path).st_size
        except OSError:
            size = 0
        item = InputFile(path=path, rel=rel, kind=kind_of(path), size=size)
        old = found.get(rel)
        if old is not None:
            if os.path.realpath(old.path) != os.path.realpath(path):
                raise UsageError(
                    f"two inputs have the name {rel!r} ({old.path} and {path}); "
                    f"give --root DIR to name files by their path below DIR")
            return
        found[rel] = item

    for arg in args:
        if os.path.isdir(arg):
            n = 0
            for path in _walk(arg):
                add(path, arg)
                n += 1
            if n == 0:
                report(arg, "no label-map files in this folder "
                            f"(looked for {', '.join(sorted(SUFFIX_KINDS))})")
                missing += 1
        elif glob.has_magic(arg) and not os.path.exists(arg):
            base = _magic_base(arg)
            n = 0
            for match in sorted(glob.glob(arg, recursive=True)):
                if os.path.isdir(match):
                    for path in _walk(match):
                        add(path, base)
                        n += 1
                elif not os.path.basename(match).startswith("."):
                    add(match, base)
                    n += 1
            if n == 0:
                report(arg, "no files match this pattern")
                missing += 1
        elif os.path.exists(arg):
            add(arg, os.path.dirname(arg) or ".")
        else:
            report(arg, "no such file or folder")
            missing += 1
    return [found[k] for k in sorted(found)], missing
