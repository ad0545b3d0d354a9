"""Output files written atomically: a temporary name beside the target, renamed at the end.

An error or Ctrl-C never leaves a half-written file, and an existing file is
never replaced without ``--force``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import IO, Any

from ._console import UsageError


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


class AtomicFile:
    """A file written under a temporary name beside its target and renamed at the end.

    ``commit()`` renames it into place; ``abort()`` (also on any exception in
    a ``with`` block) deletes it, so no half-written output is ever left.
    """

    def __init__(self, target: str, *, force: bool) -> None:
        self.target = target
        if os.path.isdir(target):
            raise UsageError(f"{target} is a folder; give a file name")
        if os.path.exists(target) and not force:
            raise UsageError(f"{target} exists; use --force to overwrite it")
        folder = os.path.dirname(os.path.abspath(target))
        if not os.path.isdir(folder):
            raise UsageError(f"cannot write {target}: folder {folder} does not exist")
        try:
            import tempfile   # here: a run that writes nothing never imports it

            fd, self.tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.",
                                            suffix=".tmp")
        except OSError as exc:
            raise UsageError(f"cannot write in {folder}: {exc.strerror or exc}") from None
        self.stream: IO[bytes] = os.fdopen(fd, "wb")
        self.done = False

    def commit(self) -> None:
        self.stream.flush()
        os.fsync(self.stream.fileno())
        self.stream.close()
        os.chmod(self.tmp, 0o666 & ~_umask())
        os.replace(self.tmp, self.target)
        self.done = True

    def abort(self) -> None:
        if self.done:
            return
        self.done = True
        try:
            self.stream.close()
        finally:
            try:
                os.unlink(self.tmp)
            except FileNotFoundError:
                pass

    def __enter__(self) -> AtomicFile:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.abort()


def write_atomic(target: str, write: Callable[[IO[bytes]], None]) -> int:
    """Write one file through a temporary file beside it; returns its size."""
    from .._integrations.formats._files import atomic_stream

    return atomic_stream(target, write)
