"""A fast reader for the PNGs label maps come in, used by the command-line tool.

Label maps are stored as 8- or 16-bit greyscale PNGs or 8-bit palette PNGs
(whose palette indices are the labels). For those, decoding a PNG is parsing a
few chunks, inflating the image data with zlib (the standard library's) and
undoing the row filters (``_core.png_unfilter``, a C kernel): about twice as
fast as Pillow, whose general image machinery dominates on small label maps.
Every other PNG (other bit depths and colour types, interlaced, animated) is
left to Pillow: :func:`read_label_png` returns None for it.

The reader is strict: it checks every chunk's CRC, the IHDR fields, that the
image data inflates to exactly the bytes the size needs, and each row's
filter type; a violation raises :class:`PNGError` naming it.
"""

from __future__ import annotations

import struct
import zlib

import numpy as np

from .._codec import _core
from .._codec.limits import get_max_elements

__all__ = ["PNGError", "read_label_png"]

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_CHUNK = struct.Struct(">I4s")
_IHDR = struct.Struct(">IIBBBBB")
# deflate expands at most about 1032:1; data that cannot inflate past this
# many bytes is inflated in one call, anything larger in bounded steps
_DEFLATE_MAX_RATIO = 1100
_ONE_SHOT_LIMIT = 64 << 20


class PNGError(ValueError):
    """The bytes claim to be a PNG but break the format (the message says where)."""


def read_label_png(data: bytes) -> np.ndarray | None:
    """The label map in a PNG file's bytes, or None if Pillow should read it.

    Handles non-interlaced 8-bit greyscale (uint8), 16-bit greyscale (uint16)
    and 8-bit palette images (uint8 palette indices, never colours): the same
    arrays Pillow gives through ``np.asarray(Image.open(...))``.

    Raises
    ------
    PNGError
        A corrupt or truncated file.
    """
    if not data.startswith(PNG_SIGNATURE):
        raise PNGError("not a PNG file (no PNG signature)")
    view = memoryview(data)
    n = len(data)
    pos = len(PNG_SIGNATURE)
    header: tuple[int, ...] | None = None
    idat: list[memoryview] = []
    seen_end = seen_plte = False
    while pos < n:
        if pos + 12 > n:
            raise PNGError(f"truncated: a chunk header at byte {pos}, file has {n} bytes")
        length, ctype = _CHUNK.unpack_from(data, pos)
        end = pos + 8 + length
        if end + 4 > n:
            raise PNGError(f"truncated: chunk {ctype!r} at byte {pos} needs {length + 12} bytes, "
                           f"{n - pos} left")
        body = view[pos + 8:end]
        (crc,) = struct.unpack_from(">I", data, end)
        if zlib.crc32(body, zlib.crc32(ctype)) != crc:
            raise PNGError(f"CRC mismatch in chunk {ctype!r} at byte {pos}")
        if header is None:
            if ctype != b"IHDR" or length != 13:
                raise PNGError("the first chunk is not a 13-byte IHDR")
            header = _IHDR.unpack(body)
        elif ctype == b"IDAT":
            idat.append(body)
        elif ctype == b"PLTE":
            if idat:
                raise PNGError(f"PLTE chunk at byte {pos} after the image data (it must come "
                               f"before IDAT)")
            seen_plte = True
        elif ctype == b"IEND":
            seen_end = True
            break
        elif ctype in (b"acTL", b"fdAT"):
            return None  # animated: frames are Pillow's business
        pos = end + 4
    if header is None:
        raise PNGError("no IHDR chunk")
    if not seen_end:
        raise PNGError(f"truncated: no IEND chunk in {n} bytes")
    width, height, depth, colour, method, filt, interlace = header
    if method != 0 or filt != 0 or interlace > 1:
        raise PNGError(f"unknown compression {method}, filter {filt} or interlace {interlace} method")
    if width == 0 or height == 0 or width > 2**31 - 1 or height > 2**31 - 1:
        raise PNGError(f"invalid image size {width}x{height}")
    if colour == 3 and not seen_plte:
        # the palette indices are the labels, so the palette itself is not read,
        # but a palette image without one is not a valid PNG (PNG spec, 11.2.3)
        raise PNGError("a palette image (colour type 3) without a PLTE chunk")
    if interlace or not ((colour == 0 and depth in (8, 16)) or (colour == 3 and depth == 8)):
        return None
    if width * height > get_max_elements():
        return None  # Pillow's own limits and messages apply
    if not idat:
        raise PNGError("no image data (IDAT chunk)")
    bpp = depth // 8
    row_bytes = width * bpp
    need = height * (row_bytes + 1)
    data_in = b"".join(idat) if len(idat) > 1 else idat[0]
    try:
        if len(data_in) * _DEFLATE_MAX_RATIO <= max(4 * need, _ONE_SHOT_LIMIT):
            # zlib.decompress into a buffer of the right size is 1.7x faster than
            # a decompressobj with max_length (one allocation, no output blocks);
            # safe because this little data cannot inflate to much more
            raw = zlib.decompress(data_in, bufsize=need)
            extra = len(raw) > need
        else:
            inflater = zlib.decompressobj()
            raw = inflater.decompress(data_in, need)
            extra = bool(inflater.unconsumed_tail or (not inflater.eof
                                                       and inflater.decompress(b"", 1)))
    except zlib.error as exc:
        raise PNGError(f"corrupt image data ({exc})") from None
    if len(raw) < need:
        raise PNGError(f"truncated image data: {len(raw)} bytes inflated, "
                       f"{width}x{height} needs {need}")
    if extra:
        raise PNGError(f"more image data than {width}x{height} needs ({need} bytes)")
    out = np.empty((height, width), dtype=np.uint8 if bpp == 1 else ">u2")
    try:
        _core.png_unfilter(raw, height, row_bytes, bpp, out)
    except _core.CodecError as exc:
        raise PNGError(f"corrupt image data: row {exc.args[2]} has filter type "
                       f"{raw[exc.args[2] * (row_bytes + 1)]} (0-4 allowed)") from None
    if bpp == 2:
        return out.astype(np.uint16)
    return out
