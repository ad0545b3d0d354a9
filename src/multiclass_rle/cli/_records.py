"""Record formats: how maps are stored in one ``mcrle`` output file, and read back.

JSON Lines of compact dicts (``jsonl``), of packed dicts (``jsonl-packed``),
and the binary pack of bytes-form objects (``bytes``). A format is a
:class:`RecordFormat`; adding one means a class here and an entry in
:data:`FORMATS`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from .._codec import jsontext
from .._codec.api import as_runs, decode, encode
from .._codec.forms.bytes import encode_bytes
from .._codec.runs import Runs
from ._console import InputError, UsageError


@dataclass(frozen=True)
class Record:
    """One stored map as read back: ``rle`` is anything ``decode`` accepts."""

    where: str  # file:line (or file#index) for messages
    name: str | None
    rle: Any
    nbytes: int  # bytes the record takes in the file
    error: str | None = None


class RecordFormat:
    """How maps are stored in one output file.

    ``payload`` runs in the worker processes and returns something small and
    picklable; the main process hands payloads, in sorted order, to the
    writer. ``records`` reads a file back as :class:`Record` objects.
    """

    name = ""
    suffix = ""
    description = ""

    def payload(self, name: str, array: np.ndarray, verify: bool) -> tuple[Any, int]:
        raise NotImplementedError

    def writer(self, stream: IO[bytes]) -> RecordWriter:
        raise NotImplementedError

    def sniff(self, head: bytes) -> bool:
        raise NotImplementedError

    def records(self, path: str) -> Iterator[Record]:
        raise NotImplementedError

    def to_array(self, rle: Any) -> np.ndarray:
        """Decode one record's ``rle``."""
        return decode(rle)

    def to_runs(self, rle: Any) -> Runs:
        """One record's ``rle`` as :class:`Runs` (for label statistics)."""
        return as_runs(rle)


class RecordWriter:
    def write(self, name: str, payload: Any) -> None:
        raise NotImplementedError

    def close(self) -> None:
        """Finish the file (a binary form writes its index here)."""


class VerifyError(InputError):
    pass


def _verify(array: np.ndarray, rle: Any) -> None:
    back = decode(rle)
    if back.shape != array.shape or back.dtype != array.dtype:
        raise VerifyError(f"--verify: decoded map is {back.dtype} {back.shape}, "
                          f"the input is {array.dtype} {array.shape}")
    if not np.array_equal(back, array):
        n = int(np.count_nonzero(back != array))
        raise VerifyError(f"--verify: decoded map differs from the input in {n} pixels")


def json_line(name: str, rle: dict[str, Any]) -> str:
    """``json.dumps({"path": name, "rle": rle}, separators=(",", ":")) + "\\n"``, faster.

    The compact strings use the characters '0'..'o', of which only the
    backslash needs escaping in JSON; anything unexpected takes json.dumps.
    """
    values, counts, size, dtype = rle.get("values"), rle.get("counts"), rle["size"], rle["dtype"]
    if len(rle) == 4 and type(values) is str and type(counts) is str and dtype.isidentifier():
        return (f'{{"path":{json.dumps(name)},"rle":{{"size":[{",".join(map(str, size))}],'
                f'"values":"{values.replace(chr(92), chr(92) * 2)}",'
                f'"counts":"{counts.replace(chr(92), chr(92) * 2)}","dtype":"{dtype}"}}}}\n')
    return json.dumps({"path": name, "rle": rle}, separators=(",", ":")) + "\n"


class JsonLines(RecordFormat):
    """One JSON object per line: ``{"path": NAME, "rle": <compact dict>}``."""

    name = "jsonl"
    suffix = ".jsonl"
    description = "JSON Lines, one {\"path\", \"rle\"} object per map"

    def payload(self, name: str, array: np.ndarray, verify: bool) -> tuple[bytes, int]:
        line = json_line(name, encode(array))
        if verify:
            _verify(array, jsontext.loads(line)["rle"])
        data = line.encode("ascii")
        return data, len(data)

    def writer(self, stream: IO[bytes]) -> RecordWriter:
        return _JsonLinesWriter(stream)

    def sniff(self, head: bytes) -> bool:
        return head.lstrip()[:1] in (b"{", b"")

    def records(self, path: str) -> Iterator[Record]:
        with open(path, "rb") as f:
            for lineno, line in enumerate(f, 1):
                where = f"{path}:{lineno}"
                if not line.strip():
                    continue
                try:
                    rec = jsontext.loads(line)
                except ValueError as exc:
                    yield Record(where, None, None, len(line), f"not a JSON line ({exc})")
                    continue
                if not isinstance(rec, dict) or not isinstance(rec.get("path"), str) \
                        or not isinstance(rec.get("rle"), dict):
                    yield Record(where, None, None, len(line),
                                 'a record must be an object with "path" (a string) '
                                 'and "rle" (an object)')
                    continue
                yield Record(where, rec["path"], rec["rle"], len(line), None)


class PackedJsonLines(JsonLines):
    """JSON Lines whose maps are packed dicts (``encode(a, packed=True)``): 3-4x smaller.

    Reading back needs nothing new: ``decode`` reads packed dicts, so such a
    file is read by :class:`JsonLines` (the two cannot be told apart by
    their first bytes, and need not be).
    """

    name = "jsonl-packed"
    description = "JSON Lines of packed dicts (the bytes form in base64)"

    def payload(self, name: str, array: np.ndarray, verify: bool) -> tuple[bytes, int]:
        line = json_line(name, encode(array, packed=True))
        if verify:
            _verify(array, jsontext.loads(line)["rle"])
        data = line.encode("ascii")
        return data, len(data)

    def sniff(self, head: bytes) -> bool:
        return False  # read back as "jsonl"


class _JsonLinesWriter(RecordWriter):
    def __init__(self, stream: IO[bytes]) -> None:
        self.stream = stream

    def write(self, name: str, payload: bytes) -> None:
        self.stream.write(payload)


class BytesPack(RecordFormat):
    """One binary file: the bytes form of every map, then an index.

    Layout: ``MCRLPACK`` (8 bytes), the maps' bytes-form objects one after
    another, a JSON index ``[{"path": NAME, "offset": O, "length": N}, ...]``
    (offsets from the start of the file), then 16 bytes: the index offset as
    a little-endian uint64 and ``MCRLIDX1``. One map is read by seeking to its
    offset, without reading the others.
    """

    name = "bytes"
    suffix = ".mcrlpack"
    description = "binary pack: bytes-form maps plus an index"
    MAGIC = b"MCRLPACK"
    FOOTER = b"MCRLIDX1"

    def payload(self, name: str, array: np.ndarray, verify: bool) -> tuple[bytes, int]:
        data = encode_bytes(array)
        if verify:
            _verify(array, data)
        return data, len(data)

    def writer(self, stream: IO[bytes]) -> RecordWriter:
        return _PackWriter(stream, self)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(self.MAGIC)

    def index(self, path: str) -> tuple[list[Any], int]:
        """The pack's index entries, and where its maps end (the index's offset).

        A pack that cannot be read as a whole (truncated, no footer, an index
        that is not a JSON list) is an :class:`InputError` (exit status 1,
        like any unreadable input); a bad entry is reported by :meth:`records`.
        """
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size < len(self.MAGIC) + 16:
                raise InputError(f"{path}: truncated pack ({size} bytes)")
            f.seek(size - 16)
            tail = f.read(16)
            at = int.from_bytes(tail[:8], "little")
            if tail[8:] != self.FOOTER or not len(self.MAGIC) <= at <= size - 16:
                raise InputError(f"{path}: pack without a valid index (truncated or not "
                                 f"finished?)")
            f.seek(at)
            try:
                entries = jsontext.loads(f.read(size - 16 - at))
            except ValueError as exc:
                raise InputError(f"{path}: corrupt pack index ({exc})") from None
        if not isinstance(entries, list):
            raise InputError(f"{path}: corrupt pack index (not a list)")
        return entries, at

    def records(self, path: str) -> Iterator[Record]:
        entries, data_end = self.index(path)
        start = len(self.MAGIC)
        with open(path, "rb") as f:
            for i, e in enumerate(entries):
                where = f"{path}#{i}"
                name = e.get("path") if isinstance(e, dict) else None
                offset = e.get("offset") if isinstance(e, dict) else None
                length = e.get("length") if isinstance(e, dict) else None
                if not isinstance(name, str) or type(offset) is not int or \
                        type(length) is not int:
                    yield Record(where, None, None, 0,
                                 'corrupt index entry (needs "path", a string, and '
                                 '"offset" and "length", integers)')
                    continue
                # checked against the file before seeking or allocating
                if not (start <= offset and 0 < length <= data_end - offset):
                    yield Record(where, name, None, 0,
                                 f"corrupt index entry: offset {offset} and length {length} "
                                 f"are not inside the maps of the pack (bytes {start} to "
                                 f"{data_end})")
                    continue
                f.seek(offset)
                yield Record(where, name, f.read(length), length, None)


class _PackWriter(RecordWriter):
    def __init__(self, stream: IO[bytes], fmt: BytesPack) -> None:
        self.stream, self.fmt = stream, fmt
        self.offset = len(fmt.MAGIC)
        self.entries: list[dict[str, Any]] = []
        stream.write(fmt.MAGIC)

    def write(self, name: str, payload: bytes) -> None:
        self.stream.write(payload)
        self.entries.append({"path": name, "offset": self.offset, "length": len(payload)})
        self.offset += len(payload)

    def close(self) -> None:
        index = json.dumps(self.entries, separators=(",", ":")).encode()
        self.stream.write(index)
        self.stream.write(self.offset.to_bytes(8, "little") + self.fmt.FOOTER)


FORMATS: dict[str, RecordFormat] = {"jsonl": JsonLines(), "jsonl-packed": PackedJsonLines(),
                                     "bytes": BytesPack()}


def format_of_file(path: str) -> RecordFormat:
    """The record format of an existing file, from its first bytes."""
    try:
        with open(path, "rb") as f:
            head = f.read(64)
    except OSError as exc:
        raise UsageError(f"{path}: cannot read ({exc.strerror or exc})") from None
    for fmt in FORMATS.values():
        if fmt.sniff(head):
            return fmt
    raise UsageError(f"{path}: not an mcrle file (expected JSON Lines or a bytes pack)")
