"""Plain-text tables of the evaluators' results (the ``table()`` methods, ``mcrle eval``)."""

from __future__ import annotations

import math
from collections.abc import Sequence

__all__ = ["format_table", "percent", "number"]


def percent(x: float) -> str:
    """``x`` in percent with 2 decimals; ``-`` for NaN (an undefined value)."""
    return "-" if math.isnan(x) else f"{100 * x:.2f}"


def number(x: float, digits: int = 4) -> str:
    """``x`` with ``digits`` decimals; ``-`` for NaN."""
    return "-" if math.isnan(x) else f"{x:.{digits}f}"


def format_table(header: Sequence[str], rows: Sequence[Sequence[str]], align: str) -> str:
    """Columns padded to their widest cell; ``align`` has one ``l`` or ``r`` per column.

    >>> print(format_table(["a", "bb"], [["x", "1"], ["yyy", "22"]], "lr"))
    a   | bb
    ----+---
    x   |  1
    yyy | 22
    """
    widths = [max([len(h)] + [len(r[i]) for r in rows]) for i, h in enumerate(header)]

    def line(cells: Sequence[str]) -> str:
        return " | ".join(c.ljust(w) if a == "l" else c.rjust(w)
                          for c, w, a in zip(cells, widths, align)).rstrip()

    rule = "-+-".join("-" * w for w in widths)
    return "\n".join([line(header), rule] + [line(r) for r in rows])
