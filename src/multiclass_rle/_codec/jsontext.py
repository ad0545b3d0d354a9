"""JSON text from files and records, read so that hostile nesting is a plain error.

Python's JSON parser recurses once per nested array or object, so a line of
``'[' * 100000`` raises :class:`RecursionError`, which code that expects
:class:`ValueError` from bad JSON does not catch: one such record would stop
a whole file. Every JSON reader of the package goes through :func:`loads`.
"""

from __future__ import annotations

from typing import IO, Any

__all__ = ["loads", "load"]


def loads(text: str | bytes | bytearray) -> Any:
    """``json.loads(text)``; nesting too deep for the parser is a ``json.JSONDecodeError``.

    ``json.JSONDecodeError`` is a ``ValueError``, like every other JSON error.

    Examples
    --------
    >>> from multiclass_rle._codec.jsontext import loads
    >>> loads('{"size": [2, 3]}')
    {'size': [2, 3]}
    >>> try:
    ...     loads('[' * 100000 + ']' * 100000)
    ... except ValueError as exc:
    ...     print(str(exc)[:44])
    JSON nested more deeply than the parser can
    """
    import json   # stdlib, loaded on first use: `import multiclass_rle` stays small

    try:
        return json.loads(text)
    except RecursionError:
        raise json.JSONDecodeError(
            "JSON nested more deeply than the parser can follow (arrays or objects inside "
            "each other, about a thousand levels or more)", "", 0) from None


def load(stream: IO[str] | IO[bytes]) -> Any:
    """:func:`loads` of everything ``stream`` holds."""
    return loads(stream.read())
