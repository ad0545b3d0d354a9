"""Readers: one input file -> its label maps (PNG, TIFF, npy, npz), and label names.

Greyscale and palette PNGs go through the package's own reader
(:mod:`multiclass_rle._integrations.png`); other images through Pillow
(extra ``image``), imported on first use.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import numpy as np

from .._codec import jsontext
from .._integrations.png import PNG_SIGNATURE, PNGError, read_label_png
from ._console import InputError, UsageError


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

    Greyscale and palette PNGs, what label maps are (and 8-bit RGB ones with
    ``rgb_ids``), go through the fast reader of ``_integrations.png`` (zlib +
    a C unfilter kernel); other images to Pillow.
    """
    source: Any = path
    if path.lower().endswith(".png"):
        with open(path, "rb") as f:
            data = f.read()
        if data.startswith(PNG_SIGNATURE):
            try:
                arr = read_label_png(data, rgb_ids=rgb_ids)
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
    elif kind in FORMAT_KINDS:
        for item in read_format_file(path, kind, path, {}):
            if isinstance(item, Exception):
                raise InputError(item.reason if hasattr(item, "reason") else str(item))
            yield None, check_labels(item.array)
    else:
        yield None, check_labels(read_image(path, rgb_ids))


#: Input kinds read through multiclass_rle._integrations.formats (one file, one map).
FORMAT_KINDS = ("nifti", "mgz", "cityscapes")


def read_format_file(path: str, kind: str, name: str, options: dict[str, Any]) -> list[Any]:
    """LabelMap objects (or FormatError objects) of one file of a format kind."""
    from .._integrations.formats import plan_source, read_task

    try:
        plan = plan_source(path, kind, options, name)
    except Exception as exc:
        return [exc]
    out = []
    for task in plan.tasks:
        for item in read_task(task, options):
            if not isinstance(item, Exception) and not item.dataset:
                item.dataset = plan.dataset
            out.append(item)
    return out


def map_name(rel: str, member: str | None) -> str:
    return rel if member is None else f"{rel}::{member}"


def load_names(path: str | None) -> dict[int, str]:
    """Label names: a JSON object {label: name}, or text with one name per line
    (line i names label i) or ``LABEL NAME`` / ``LABEL: NAME`` / ``LABEL,NAME`` lines."""
    if path is None:
        return {}
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as exc:
        raise UsageError(f"--names {path}: cannot read ({exc.strerror or exc})") from None
    if text.lstrip().startswith("{"):
        try:
            return {int(k): str(v) for k, v in jsontext.loads(text).items()}
        except (ValueError, AttributeError) as exc:
            raise UsageError(f"--names {path}: not a JSON object of label: name ({exc})") from None
    import re

    names: dict[int, str] = {}
    pattern = re.compile(r"^\s*(-?\d+)\s*[:,=\s]\s*(.+?)\s*$")
    for i, line in enumerate(text.splitlines()):
        if not line.strip():
            continue
        m = pattern.match(line)
        if m:
            names[int(m.group(1))] = m.group(2)
        else:
            names[i] = line.strip()
    return names
