"""What every ``mcrle`` command shares: its errors, the console and the wording of numbers.

Nothing in the command line prints except :class:`Console` (stderr) and the
commands' own reports on stdout.
"""

from __future__ import annotations

import sys
import time
from typing import IO, Any

from .._codec.errors import RLEError


class UsageError(Exception):
    """A problem with the command line as a whole (exit status 2)."""


class InputError(Exception):
    """One input (file, npz member, record) could not be used; the others go on."""


class FailFast(Exception):
    """Raised to stop at the first failure (--fail-fast)."""


def reason(exc: BaseException) -> str:
    if isinstance(exc, (InputError, RLEError)):
        return str(exc)
    if isinstance(exc, OSError):
        return f"cannot read ({exc.strerror or exc})"
    if isinstance(exc, MemoryError):
        return "out of memory"
    return f"{type(exc).__name__}: {exc}"


class Console:
    """stderr messages that share the line with an optional progress bar."""

    def __init__(self, prog: str, *, quiet: bool = False, progress: bool | None = None,
                 stream: IO[str] | None = None) -> None:
        self.prog = prog
        self.quiet = quiet
        self.stream = stream if stream is not None else sys.stderr
        if progress is None:
            progress = not quiet and _isatty(self.stream)
        self.progress_enabled = progress
        self._bar_shown = False
        self._total = 0
        self._done = 0
        self._unit = "maps"
        self._t0 = 0.0
        self._last = 0.0

    # messages -------------------------------------------------------------
    def _clear_bar(self) -> None:
        if self._bar_shown:
            self.stream.write("\r\x1b[K")
            self._bar_shown = False

    def error(self, where: str, reason: str) -> None:
        """``prog: WHERE: reason`` (always shown, also with --quiet)."""
        self._clear_bar()
        self.stream.write(f"{self.prog}: {where}: {reason}\n")
        self.stream.flush()

    def note(self, text: str) -> None:
        if self.quiet:
            return
        self._clear_bar()
        self.stream.write(f"{self.prog}: {text}\n")
        self.stream.flush()

    # progress bar -----------------------------------------------------------
    def start(self, total: int, unit: str) -> None:
        self._total, self._done, self._unit = total, 0, unit
        self._t0 = self._last = time.perf_counter()

    def advance(self, n: int = 1) -> None:
        self._done += n
        if not self.progress_enabled:
            return
        now = time.perf_counter()
        if now - self._last < 0.1 and self._done < self._total:
            return
        self._last = now
        frac = self._done / self._total if self._total else 1.0
        width = 30
        fill = int(round(frac * width))
        self.stream.write(f"\r[{'#' * fill}{'.' * (width - fill)}] {self._done}/{self._total} "
                          f"{self._unit} {now - self._t0:5.1f} s")
        self.stream.flush()
        self._bar_shown = True

    def finish(self) -> None:
        self._clear_bar()
        self.stream.flush()


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def seconds(dt: float) -> str:
    return f"{dt:.3f} s" if dt < 10 else f"{dt:.1f} s"


def human_bytes(n: float) -> str:
    for unit in ("B", "kB", "MB", "GB"):
        if abs(n) < 1000 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "B" else f"{n:.2f} {unit}"
        n /= 1000
    return f"{n:.2f} TB"  # pragma: no cover


def plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def shape_text(shape: tuple[int, ...]) -> str:
    return "x".join(map(str, shape))
