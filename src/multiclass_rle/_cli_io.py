"""Plumbing of the ``mcrle`` command: inputs, label-map readers, record formats,
atomic output files, the worker pool and the progress bar.

Nothing here prints except :class:`Console`; commands live in ``_cli_cmds``.
"""

from __future__ import annotations

import glob
import io
import json
import multiprocessing
import os
import sys
import tempfile
import time
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from typing import IO, Any

import numpy as np

from ._api import Runs, as_runs, decode, encode
from ._png import PNG_SIGNATURE, PNGError, read_label_png

# ---------------------------------------------------------------------------
# errors and console


class UsageError(Exception):
    """A problem with the command line as a whole (exit status 2)."""


class InputError(Exception):
    """One input (file, npz member, record) could not be used; the others go on."""


def pillow() -> Any:
    """``PIL.Image``, imported on first use; a clear error when Pillow is missing."""
    try:
        from PIL import Image
    except ImportError:
        raise InputError(
            'reading and writing images needs Pillow: pip install "multiclass-rle[image]"'
        ) from None
    return Image


def have_pillow() -> bool:
    try:
        pillow()
    except InputError:
        return False
    return True


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


# ---------------------------------------------------------------------------
# input discovery

#: File name endings the readers know, lower case, and the reader kind.
SUFFIX_KINDS = {
    ".png": "image",
    ".tif": "image",
    ".tiff": "image",
    ".npy": "npy",
    ".npz": "npz",
}


def kind_of(path: str) -> str:
    """Reader kind from the name, else from the first bytes ('image' by default)."""
    ext = os.path.splitext(path)[1].lower()
    if ext in SUFFIX_KINDS:
        return SUFFIX_KINDS[ext]
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
            if os.path.splitext(name)[1].lower() in SUFFIX_KINDS:
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


# ---------------------------------------------------------------------------
# readers: file -> label maps

#: Pillow modes that hold one integer channel, and how to read them.
_GREY_MODES = {"1", "L", "P", "I", "I;16", "I;16L", "I;16B", "I;16N", "I;8", "I;32", "I;32L",
               "I;32B", "I;32N"}


def _image_array(im: Any, path: str, rgb_ids: bool) -> np.ndarray:
    mode = im.mode
    if mode in _GREY_MODES:
        # mode 'P': the palette indices are the labels; never convert to colours
        arr = np.asarray(im)
        if mode == "I" and im.format == "PNG":
            arr = arr.astype(np.uint16)  # 16-bit greyscale PNG read by an older Pillow
    elif mode in ("RGB", "RGBA") and rgb_ids:
        rgb = np.asarray(im)[..., :3].astype(np.uint32)
        arr = rgb[..., 0] | (rgb[..., 1] << 8) | (rgb[..., 2] << 16)
    elif mode == "F":
        raise InputError("floating-point pixels (image mode F); label maps hold integers")
    else:
        hint = (" (for COCO panoptic PNGs, --rgb-ids reads R + 256*G + 65536*B)"
                if mode in ("RGB", "RGBA") else "")
        raise InputError(
            f"a colour or multi-channel image (mode {mode}) is not a label map; label maps "
            f"are greyscale (8/16-bit) or palette images{hint}")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    return arr


def read_image(path: str, rgb_ids: bool = False) -> np.ndarray:
    """A PNG or TIFF (any other format Pillow reads) as a label map; TIFF pages stack.

    Greyscale and palette PNGs, what label maps are, go through the fast
    reader of ``_png`` (zlib + a C unfilter kernel); other images to Pillow.
    """
    source: Any = path
    if path.lower().endswith(".png"):
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(PNG_SIGNATURE):
            try:
                arr = read_label_png(data)
            except PNGError as exc:
                raise InputError(f"corrupt PNG: {exc}") from None
            if arr is not None:
                return arr
            source = io.BytesIO(data)  # read once, then Pillow
    Image = pillow()
    try:
        with Image.open(source) as im:
            frames = getattr(im, "n_frames", 1)
            if frames <= 1:
                return _image_array(im, path, rgb_ids)
            pages = []
            for i in range(frames):
                im.seek(i)
                pages.append(_image_array(im, path, rgb_ids))
            if len({(p.shape, p.dtype) for p in pages}) != 1:
                raise InputError(f"its {frames} pages differ in size or type")
            return np.stack(pages)
    except InputError:
        raise
    except Image.DecompressionBombError as exc:
        raise InputError(f"too large for Pillow's safety limit ({exc})") from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise InputError(_image_reason(exc)) from None


def _image_reason(exc: BaseException) -> str:
    text = str(exc)
    if "cannot identify image file" in text:
        return "not an image Pillow can read (unknown or corrupt format)"
    if "truncated" in text or isinstance(exc, EOFError):
        return f"truncated or corrupt image ({text})"
    return f"corrupt image ({type(exc).__name__}: {text})"


def check_labels(arr: np.ndarray) -> np.ndarray:
    if arr.dtype.kind not in "biu":
        what = {"f": "floating-point", "c": "complex", "U": "text", "S": "bytes",
                "O": "object", "V": "structured"}.get(arr.dtype.kind, "non-integer")
        raise InputError(f"{what} values (dtype {arr.dtype}); label maps hold integers or bools")
    if arr.ndim == 0:
        raise InputError("a 0-d array (a single number) is not a label map")
    if not arr.dtype.isnative:
        arr = arr.astype(arr.dtype.newbyteorder("="))
    if arr.dtype.kind == "b" and arr.size:
        # Pillow hands 1-bit images to numpy as bools stored as bytes 0/255:
        # make them canonical 0/1 bools
        raw = arr.view(np.uint8)
        if raw.max() > 1:
            arr = raw != 0
    return arr


def _np_reason(exc: BaseException) -> str:
    text = str(exc)
    if "allow_pickle" in text:
        return "holds Python objects (pickled data), not a label map"
    return f"not a readable numpy file ({type(exc).__name__}: {text})"


def read_maps(path: str, kind: str, rgb_ids: bool = False
              ) -> Iterator[tuple[str | None, np.ndarray | InputError]]:
    """The label maps in a file: (npz member or None, array or the error for it).

    A file-level failure raises :class:`InputError`; npz members that fail
    are yielded as errors so the other members go on. Text and object members
    of an npz (names, metadata) are skipped, not errors.
    """
    if kind == "npy":
        try:
            arr = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(_np_reason(exc)) from None
        if not isinstance(arr, np.ndarray):
            raise InputError("is an npz archive, not an npy file")
        yield None, check_labels(arr)
    elif kind == "npz":
        try:
            npz = np.load(path, allow_pickle=False)
        except Exception as exc:
            raise InputError(_np_reason(exc)) from None
        if not hasattr(npz, "files"):
            raise InputError("is an npy file, not an npz archive")
        with npz:
            for member in npz.files:
                try:
                    arr = npz[member]
                except Exception as exc:
                    yield member, InputError(_np_reason(exc))
                    continue
                if arr.dtype.kind in "USO":
                    continue  # names and other metadata beside the maps
                try:
                    yield member, check_labels(arr)
                except InputError as exc:
                    yield member, exc
    else:
        yield None, check_labels(read_image(path, rgb_ids))


def map_name(rel: str, member: str | None) -> str:
    return rel if member is None else f"{rel}::{member}"


# ---------------------------------------------------------------------------
# record formats (JSON Lines now; a binary form can register beside it)


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
            _verify(array, json.loads(line)["rle"])
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
                    rec = json.loads(line)
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
            _verify(array, json.loads(line)["rle"])
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
        from ._bytesform import encode_bytes

        data = encode_bytes(array)
        if verify:
            _verify(array, data)
        return data, len(data)

    def writer(self, stream: IO[bytes]) -> RecordWriter:
        return _PackWriter(stream, self)

    def sniff(self, head: bytes) -> bool:
        return head.startswith(self.MAGIC)

    def index(self, path: str) -> list[dict[str, Any]]:
        with open(path, "rb") as f:
            size = f.seek(0, os.SEEK_END)
            if size < len(self.MAGIC) + 16:
                raise UsageError(f"{path}: truncated pack ({size} bytes)")
            f.seek(size - 16)
            tail = f.read(16)
            at = int.from_bytes(tail[:8], "little")
            if tail[8:] != self.FOOTER or not len(self.MAGIC) <= at <= size - 16:
                raise UsageError(f"{path}: pack without a valid index (truncated or not "
                                 f"finished?)")
            f.seek(at)
            try:
                entries = json.loads(f.read(size - 16 - at))
            except ValueError as exc:
                raise UsageError(f"{path}: corrupt pack index ({exc})") from None
        if not isinstance(entries, list):
            raise UsageError(f"{path}: corrupt pack index (not a list)")
        return entries

    def records(self, path: str) -> Iterator[Record]:
        entries = self.index(path)
        with open(path, "rb") as f:
            for i, e in enumerate(entries):
                where = f"{path}#{i}"
                try:
                    name, offset, length = e["path"], int(e["offset"]), int(e["length"])
                except (TypeError, KeyError, ValueError):
                    yield Record(where, None, None, 0, "corrupt index entry")
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


# ---------------------------------------------------------------------------
# atomic output


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
    folder = os.path.dirname(target) or "."
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f".{os.path.basename(target)}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
            size = f.tell()
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, target)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise
    return size


# ---------------------------------------------------------------------------
# worker pool


def resolve_jobs(jobs: int) -> int:
    if jobs < 0:
        raise UsageError(f"-j must be 0 (all cores) or a positive number, got {jobs}")
    if jobs == 0:
        return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
                   else (os.cpu_count() or 1))
    return jobs


def _run_chunk(fn: Callable[..., Any], args: tuple[Any, ...], chunk: list[Any]) -> list[Any]:
    return [fn(task, *args) for task in chunk]


def _mp_context() -> Any:
    # fork starts workers at once with everything already imported (Linux);
    # elsewhere the platform default (spawn) is the safe choice.
    if sys.platform.startswith("linux") and "fork" in multiprocessing.get_all_start_methods():
        return multiprocessing.get_context("fork")
    return None


class Pool:
    """Ordered, chunked map over worker processes (or in-process for -j 1).

    ``run`` yields each task's result in task order, so output is the same
    for any -j. Leaving the ``with`` block early (--fail-fast, an error,
    Ctrl-C) cancels the chunks that have not started.
    """

    def __init__(self, jobs: int) -> None:
        self.jobs = jobs
        self.executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> Pool:
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=exc[0] is None, cancel_futures=True)
            self.executor = None

    def run(self, fn: Callable[..., Any], tasks: Sequence[Any], args: tuple[Any, ...] = (),
            *, weights: Sequence[int] | None = None) -> Iterator[Any]:
        if self.jobs <= 1 or len(tasks) <= 1:
            for task in tasks:
                yield fn(task, *args)
            return
        chunks = list(_chunks(tasks, self.jobs, weights))
        self.executor = ProcessPoolExecutor(max_workers=min(self.jobs, len(chunks)),
                                            mp_context=_mp_context())
        futures: list[Future[list[Any]]] = [
            self.executor.submit(_run_chunk, fn, args, chunk) for chunk in chunks]
        for fut in futures:
            yield from fut.result()


def _chunks(tasks: Sequence[Any], jobs: int, weights: Sequence[int] | None
            ) -> Iterable[list[Any]]:
    """Consecutive chunks, large first and small at the end (guided scheduling).

    A chunk holds about 1/(4*jobs) of the weight still left (at most 16
    tasks), so workers get few messages early and finish together.
    """
    n = len(tasks)
    if weights is None:
        weights = [1] * n
    left = float(sum(weights)) or 1.0
    mean = left / n if n else 1.0
    chunk: list[Any] = []
    acc = 0.0
    target = max(left / (4 * jobs), mean)
    for task, w in zip(tasks, weights):
        chunk.append(task)
        acc += w
        if acc >= target or len(chunk) >= 16:
            yield chunk
            left -= acc
            chunk, acc = [], 0.0
            target = max(left / (4 * jobs), mean)
    if chunk:
        yield chunk
