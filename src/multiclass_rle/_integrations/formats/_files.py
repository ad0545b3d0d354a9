"""Files written atomically by the format writers: a temporary name beside the target,
renamed into place when complete, so an error never leaves a half-written file."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO

from ._base import FormatError


def atomic_write(target: str, write: Callable[[str], None], *, keep_suffix: bool = False) -> int:
    """Call ``write(tmp_path)`` then rename ``tmp_path`` to ``target``; returns its size.

    ``keep_suffix`` gives the temporary file the target's full name ending
    (``.nii.gz``), for writers that choose compression from the name.
    """
    folder = os.path.dirname(target) or "."
    base = os.path.basename(target)
    suffix = base[base.index("."):] if keep_suffix and "." in base else ".tmp"
    import tempfile   # here: reading (mcrle eval, read_labels) never pays for it

    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{base}.", suffix=suffix)
    os.close(fd)
    try:
        write(tmp)
        mask = os.umask(0)
        os.umask(mask)
        os.chmod(tmp, 0o666 & ~mask)
        size = os.path.getsize(tmp)
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return size


def atomic_stream(target: str, write: Callable[[IO[bytes]], None]) -> int:
    """``atomic_write`` for writers of a binary stream."""
    def to_path(tmp: str) -> None:
        with open(tmp, "wb") as f:
            write(f)
    return atomic_write(target, to_path)


def safe_target(outdir: str, name: str, suffix: str) -> str:
    """Where a map named ``name`` is written below ``outdir``, its ending replaced by
    ``suffix``; names that would leave ``outdir`` are refused."""
    file_part, sep, member = name.partition("::")
    parts = file_part.split("/")
    if sep:
        stem = parts[-1]
        if stem.lower().endswith(".npz"):
            stem = stem[:-4]
        parts = parts[:-1] + [stem] + member.split("/")
    if (not name or "\x00" in name or name.startswith("/") or "\\" in name
            or any(p in ("", ".", "..") for p in parts) or ":" in parts[0]):
        raise FormatError(repr(name), "unsafe or empty path (must stay inside the output folder)")
    last = parts[-1]
    low = last.lower()
    for ending in STRIP_SUFFIXES:
        if low.endswith(ending) and len(last) > len(ending):
            last = last[: -len(ending)]
            break
    parts[-1] = last + suffix
    return os.path.join(outdir, *parts)


#: File endings replaced by the output format's (longest first).
STRIP_SUFFIXES = (".nii.gz", ".png", ".tif", ".tiff", ".npy", ".npz", ".nii", ".mgz", ".mgh",
                  ".jpg", ".jpeg", ".json")
