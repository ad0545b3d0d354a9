"""Record formats: how maps are stored in one ``mcrle`` output file, and read back.

JSON Lines of compact dicts (``jsonl``), of packed dicts (``jsonl-packed``),
the binary pack of bytes-form objects (``bytes``) and Parquet (``parquet``,
with pyarrow: the table of :mod:`multiclass_rle._integrations.arrow`). A format is a
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
    meta: dict[str, Any] | None = None  # what the source carried beside the map
    datasets: dict[str, Any] | None = None  # dataset metadata (the file's first record)


class RecordFormat:
    """How maps are stored in one output file.

    ``payload`` runs in the worker processes and returns something small and
    picklable; the main process hands payloads, in sorted order, to the
    writer. ``records`` reads a file back as :class:`Record` objects.
    """

    name = ""
    suffix = ""
    description = ""

    def payload(self, name: str, array: np.ndarray, verify: bool,
                meta: dict[str, Any] | None = None) -> tuple[Any, int]:
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
    #: dataset metadata, stored with the first record (set before the first write)
    datasets: dict[str, Any] | None = None

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


def json_line(name: str, rle: dict[str, Any], meta: dict[str, Any] | None = None) -> str:
    """``json.dumps({"path": name, "rle": rle}, separators=(",", ":")) + "\\n"``, faster.

    The compact strings use the characters '0'..'o', of which only the
    backslash needs escaping in JSON; anything unexpected takes json.dumps.
    """
    if meta:
        return json.dumps({"path": name, "rle": rle, "meta": meta}, separators=(",", ":")) + "\n"
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

    def payload(self, name: str, array: np.ndarray, verify: bool,
                meta: dict[str, Any] | None = None) -> tuple[bytes, int]:
        line = json_line(name, encode(array), meta)
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
                meta = rec.get("meta") if isinstance(rec.get("meta"), dict) else None
                datasets = rec.get("datasets") if isinstance(rec.get("datasets"), dict) else None
                yield Record(where, rec["path"], rec["rle"], len(line), None, meta, datasets)


class PackedJsonLines(JsonLines):
    """JSON Lines whose maps are packed dicts (``encode(a, packed=True)``): 3-4x smaller.

    Reading back needs nothing new: ``decode`` reads packed dicts, so such a
    file is read by :class:`JsonLines` (the two cannot be told apart by
    their first bytes, and need not be).
    """

    name = "jsonl-packed"
    description = "JSON Lines of packed dicts (the bytes form in base64)"

    def payload(self, name: str, array: np.ndarray, verify: bool,
                meta: dict[str, Any] | None = None) -> tuple[bytes, int]:
        line = json_line(name, encode(array, packed=True), meta)
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
        if self.datasets:  # the first record carries the dataset metadata
            rec = jsontext.loads(payload)
            rec["datasets"] = self.datasets
            payload = (json.dumps(rec, separators=(",", ":")) + "\n").encode("ascii")
            self.datasets = None
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

    def payload(self, name: str, array: np.ndarray, verify: bool,
                meta: dict[str, Any] | None = None) -> tuple[Any, int]:
        data = encode_bytes(array)
        if verify:
            _verify(array, data)
        return (data, meta) if meta else data, len(data)

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

    def entry(self, e: Any, data_end: int) -> tuple[str, int, int] | str:
        """``(path, offset, length)`` of an index entry, or why it is unusable.

        The map must lie inside the pack's maps (after the magic, before the
        index): checked before anything is sought or allocated from it (an
        offset of -5, a length of 2**62).
        """
        name = e.get("path") if isinstance(e, dict) else None
        offset = e.get("offset") if isinstance(e, dict) else None
        length = e.get("length") if isinstance(e, dict) else None
        if not isinstance(name, str) or type(offset) is not int or type(length) is not int:
            return 'corrupt index entry (needs "path", a string, and "offset" and "length", ' \
                   'integers)'
        start = len(self.MAGIC)
        if not (start <= offset and 0 < length <= data_end - offset):
            return (f"corrupt index entry: offset {offset} and length {length} are not inside "
                    f"the maps of the pack (bytes {start} to {data_end})")
        return name, offset, length

    def records(self, path: str) -> Iterator[Record]:
        entries, data_end = self.index(path)
        with open(path, "rb") as f:
            for i, e in enumerate(entries):
                where = f"{path}#{i}"
                got = self.entry(e, data_end)
                if isinstance(got, str):
                    name = e.get("path") if isinstance(e, dict) else None
                    yield Record(where, name if isinstance(name, str) else None, None, 0, got)
                    continue
                name, offset, length = got
                f.seek(offset)
                meta = e.get("meta") if isinstance(e.get("meta"), dict) else None
                datasets = e.get("datasets") if isinstance(e.get("datasets"), dict) else None
                yield Record(where, name, f.read(length), length, None, meta, datasets)


class _PackWriter(RecordWriter):
    def __init__(self, stream: IO[bytes], fmt: BytesPack) -> None:
        self.stream, self.fmt = stream, fmt
        self.offset = len(fmt.MAGIC)
        self.entries: list[str] = []
        stream.write(fmt.MAGIC)

    def write(self, name: str, payload: Any) -> None:
        data, meta = payload if isinstance(payload, tuple) else (payload, None)
        self.stream.write(data)
        entry: dict[str, Any] = {"path": name, "offset": self.offset, "length": len(data)}
        if meta:
            entry["meta"] = meta
        if self.datasets:
            entry["datasets"] = self.datasets
            self.datasets = None
        # kept as JSON text until the index is written: a few times smaller than the
        # dicts, so thousands of maps with metadata cost little memory
        self.entries.append(json.dumps(entry, separators=(",", ":")))
        self.offset += len(data)

    def close(self) -> None:
        index = ("[" + ",".join(self.entries) + "]").encode()
        self.stream.write(index)
        self.stream.write(self.offset.to_bytes(8, "little") + self.fmt.FOOTER)


def _arrow() -> Any:
    try:
        from .._integrations import arrow
    except ImportError as exc:
        raise UsageError(f"Parquet output needs pyarrow: pip install "
                         f"'multiclass-rle[arrow]' ({exc.__cause__ or exc})") from None
    return arrow


class Parquet(RecordFormat):
    """A Parquet table, one row per map (:data:`multiclass_rle._integrations.arrow.SCHEMA`):
    the bytes form in ``rle``, the metadata as JSON in ``meta``, the sources'
    dataset metadata in the schema's metadata. Needs pyarrow."""

    name = "parquet"
    suffix = ".parquet"
    description = "Parquet table: one row per map, the bytes form plus label areas and meta"
    MAGIC = b"PAR1"
    #: maps per row group
    ROW_GROUP = 1024

    def payload(self, name: str, array: np.ndarray, verify: bool,
                meta: dict[str, Any] | None = None) -> tuple[Any, int]:
        row = _arrow().map_row(name, array, meta)
        if verify:
            _verify(array, row[1])
        return row, len(row[1]) + len(row[6] or "")

    def writer(self, stream: IO[bytes]) -> RecordWriter:
        return _ParquetWriter(stream, _arrow(), self.ROW_GROUP)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(self.MAGIC)

    def records(self, path: str) -> Iterator[Record]:
        arrow = _arrow()
        import pyarrow.parquet as pq

        try:
            pf = pq.ParquetFile(path)
            datasets = arrow.parquet_datasets(path) or None
        except Exception as exc:  # pyarrow's errors: ArrowInvalid, OSError
            raise UsageError(f"{path}: not a readable Parquet file ({exc})") from None
        names = pf.schema_arrow.names
        if "name" not in names or "rle" not in names:
            raise UsageError(f"{path}: a Parquet file of maps has 'name' and 'rle' columns "
                             f"(it has {', '.join(names)})")
        columns = ["name", "rle"] + (["meta"] if "meta" in names else [])
        i = 0
        for batch in pf.iter_batches(batch_size=256, columns=columns):
            metas = batch.column("meta").to_pylist() if "meta" in columns else None
            for k, (name, buf) in enumerate(zip(batch.column("name").to_pylist(),
                                                batch.column("rle"))):
                where = f"{path}#{i}"
                i += 1
                if name is None or not buf.is_valid:
                    yield Record(where, None, None, 0, "a row without name or rle")
                    continue
                data = buf.as_py()
                try:
                    meta = arrow._meta_dict(metas[k], name) if metas else None
                except ValueError as exc:
                    yield Record(where, None, None, len(data), str(exc))
                    continue
                yield Record(where, name, data, len(data), None, meta or None, datasets)
                datasets = None


class _ParquetWriter(RecordWriter):
    def __init__(self, stream: IO[bytes], arrow: Any, row_group: int) -> None:
        self.stream, self.arrow, self.row_group = stream, arrow, row_group
        self.rows: list[tuple[Any, ...]] = []
        self.pq_writer: Any = None

    def _flush(self) -> None:
        if self.pq_writer is None:
            import pyarrow.parquet as pq

            self.pq_writer = pq.ParquetWriter(self.stream, self.arrow.schema_with(self.datasets),
                                              compression=self.arrow._COMPRESSION)
        if self.rows:
            self.pq_writer.write_batch(self.arrow.rows_batch(self.rows),
                                       row_group_size=self.row_group)
            self.rows = []

    def write(self, name: str, payload: Any) -> None:
        self.rows.append(payload)
        if len(self.rows) >= self.row_group:
            self._flush()

    def close(self) -> None:
        self._flush()
        self.pq_writer.close()


FORMATS: dict[str, RecordFormat] = {"jsonl": JsonLines(), "jsonl-packed": PackedJsonLines(),
                                     "bytes": BytesPack(), "parquet": Parquet()}

#: ``--format auto``: the output's name ending chooses; each is the smallest form of its
#: kind (JSON text: packed dicts; anything else: the binary pack)
_BY_SUFFIX = {".jsonl": "jsonl-packed", ".ndjson": "jsonl-packed", ".json": "jsonl-packed",
              ".mcrlpack": "bytes", ".parquet": "parquet"}


def format_for_output(name: str, output: str) -> RecordFormat:
    """The record format ``--format NAME`` asks for; ``auto`` chooses from ``output``."""
    if name != "auto":
        fmt = FORMATS[name]
    else:
        fmt = _auto_format(output)
    if fmt.name == "parquet":
        _arrow()  # a clear error now, before any map is read
    return fmt


def _auto_format(output: str) -> RecordFormat:
    if output == "-":
        return FORMATS["jsonl-packed"]
    low = output.lower()
    for suffix, fmt in _BY_SUFFIX.items():
        if low.endswith(suffix):
            return FORMATS[fmt]
    return FORMATS["bytes"]


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
    raise UsageError(f"{path}: not an mcrle file (expected JSON Lines, a bytes pack or "
                     f"Parquet)")
