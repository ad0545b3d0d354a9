"""The command-line tool's PNG reader (``multiclass_rle._integrations.png``) against Pillow.

PNGs are built here with every filter type (the encoder below writes the
format from the specification, with zlib), so the C unfilter kernel meets
Sub, Up, Average and Paeth rows on label-map-like and random data; every real
PNG under ../shared/data must give exactly Pillow's array (or be left to
Pillow); corrupt files raise PNGError naming the problem.
"""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest

from multiclass_rle._codec import _core
import multiclass_rle as mcr
from multiclass_rle._integrations.png import (PNGError, load_png_id_runs, read_label_png,
                                              read_png_id_runs)

PIL = pytest.importorskip("PIL.Image")


def paeth(a: int, b: int, c: int) -> int:
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    return a if pa <= pb and pa <= pc else (b if pb <= pc else c)


def filter_rows(raw: np.ndarray, bpp: int, types: list[int]) -> bytes:
    """PNG filtering (spec 9.2) of the byte rows of raw, row r with types[r % len]."""
    rows, n = raw.shape
    out = bytearray()
    for r in range(rows):
        t = types[r % len(types)]
        out.append(t)
        for i in range(n):
            a = int(raw[r, i - bpp]) if i >= bpp else 0
            b = int(raw[r - 1, i]) if r else 0
            c = int(raw[r - 1, i - bpp]) if r and i >= bpp else 0
            pred = [0, a, b, (a + b) // 2, paeth(a, b, c)][t]
            out.append((int(raw[r, i]) - pred) % 256)
    return bytes(out)


def chunk(ctype: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + ctype + body + struct.pack(
        ">I", zlib.crc32(body, zlib.crc32(ctype)))


def make_png(labels: np.ndarray, *, types=(0, 1, 2, 3, 4), palette: bool = False,
             idat_parts: int = 1, interlace: int = 0) -> bytes:
    """A PNG of labels: (h, w) greyscale/palette, or (h, w, 3|4) uint8 RGB/RGBA."""
    h, w = labels.shape[:2]
    channels = labels.shape[2] if labels.ndim == 3 else 1
    colour = {1: 3 if palette else 0, 3: 2, 4: 6}[channels]
    depth = 16 if labels.dtype == np.uint16 else 8
    raw = labels.astype(">u2").view(np.uint8).reshape(h, -1) if depth == 16 else \
        labels.reshape(h, -1)
    data = zlib.compress(filter_rows(raw, depth // 8 * channels, list(types)))
    ihdr = struct.pack(">IIBBBBB", w, h, depth, colour, 0, 0, interlace)
    out = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
    if palette:
        out += chunk(b"PLTE", bytes(range(256)) * 3)
    step = -(-len(data) // idat_parts)
    for k in range(0, len(data), step):
        out += chunk(b"IDAT", data[k:k + step])
    return out + chunk(b"IEND", b"")


def pillow_array(data: bytes) -> np.ndarray:
    with PIL.open(io.BytesIO(data)) as im:
        return np.asarray(im)


def label_map(rng: np.random.Generator, h: int, w: int, n_labels: int, dtype) -> np.ndarray:
    """Blocks of labels with ragged edges: rows that mostly repeat the row above."""
    arr = np.zeros((h, w), dtype)
    for _ in range(6):
        y, x = rng.integers(0, h), rng.integers(0, w)
        arr[y:y + rng.integers(1, h + 1), x:x + rng.integers(1, w + 1)] = rng.integers(0, n_labels)
    return arr


@pytest.mark.parametrize("types", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4), (4, 2, 1)])
@pytest.mark.parametrize("dtype,palette", [(np.uint8, False), (np.uint8, True), (np.uint16, False)])
def test_every_filter_type_matches_pillow(types, dtype, palette):
    rng = np.random.default_rng(len(types) * 7 + types[0])
    n_labels = 40000 if dtype == np.uint16 else 256
    for h, w in [(1, 1), (3, 17), (9, 33), (24, 50)]:
        for arr in (label_map(rng, h, w, n_labels, dtype),
                    rng.integers(0, n_labels, (h, w)).astype(dtype)):
            png = make_png(arr, types=types, palette=palette, idat_parts=2)
            got = read_label_png(png)
            assert got is not None
            want = pillow_array(png)
            assert got.dtype == want.dtype == arr.dtype
            np.testing.assert_array_equal(got, want)
            np.testing.assert_array_equal(got, arr)


def panopticapi_ids(rgb: np.ndarray) -> np.ndarray:
    """panopticapi's rgb2id formula, written out: R + 256 G + 256**2 B."""
    rgb = rgb.astype(np.uint32)
    return rgb[..., 0] + 256 * rgb[..., 1] + 256 * 256 * rgb[..., 2]


@pytest.mark.parametrize("types", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4)])
@pytest.mark.parametrize("channels", [3, 4])
def test_rgb_pngs_give_panoptic_ids(types, channels):
    rng = np.random.default_rng(channels * 10 + types[0])
    for h, w in [(1, 1), (3, 17), (9, 33), (24, 50)]:
        ids = label_map(rng, h, w, 1 << 24, np.uint32)
        rgb = np.dstack([(ids >> s & 255).astype(np.uint8) for s in (0, 8, 16)]
                        + ([rng.integers(0, 256, (h, w), dtype=np.uint8)] if channels == 4 else []))
        png = make_png(rgb, types=types, idat_parts=2)
        assert read_label_png(png) is None  # a colour image is not a label map by default
        got = read_label_png(png, rgb_ids=True)
        assert got.dtype == np.uint32 and got.shape == (h, w)
        np.testing.assert_array_equal(got, ids)
        np.testing.assert_array_equal(got, panopticapi_ids(pillow_array(png)))


def test_rgb_to_id_and_back():
    from multiclass_rle import id_to_rgb, rgb_to_id

    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, (7, 9, 3), dtype=np.uint8)
    ids = rgb_to_id(rgb)
    np.testing.assert_array_equal(ids, panopticapi_ids(rgb))
    assert ids.dtype == np.uint32 and ids.flags.c_contiguous
    np.testing.assert_array_equal(id_to_rgb(ids), rgb)
    # strided and RGBA inputs, 1-D and 3-D shapes
    np.testing.assert_array_equal(rgb_to_id(rgb[::2, ::-3]), panopticapi_ids(rgb[::2, ::-3]))
    rgba = np.concatenate([rgb, np.full((7, 9, 1), 200, np.uint8)], axis=2)
    np.testing.assert_array_equal(rgb_to_id(rgba), ids)
    assert rgb_to_id(np.zeros((0, 3), np.uint8)).shape == (0,)
    assert rgb_to_id(rgb[None]).shape == (1, 7, 9)
    with pytest.raises(TypeError, match=r"uint8 colours of shape \(..., 3\)"):
        rgb_to_id(rgb.astype(np.int32))
    with pytest.raises(TypeError, match=r"got uint8 \(7, 9\)"):
        rgb_to_id(rgb[..., 0])
    with pytest.raises(ValueError, match=r"ids -1..5 do not fit 24-bit RGB"):
        id_to_rgb(np.array([-1, 5]))
    with pytest.raises(ValueError, match="16777216"):
        id_to_rgb(np.array([1 << 24]))
    with pytest.raises(TypeError, match="integer ids"):
        id_to_rgb(np.array([1.5]))


def test_real_panoptic_pngs_match_panopticapi(data_dir):
    pngs = sorted((data_dir / "coco_panoptic_sample" / "orig").rglob("*.png"))
    assert pngs
    for path in pngs:
        got = read_label_png(path.read_bytes(), rgb_ids=True)
        np.testing.assert_array_equal(got, panopticapi_ids(pillow_array(path.read_bytes())))
        npy = sorted(path.parents[2].parent.glob(f"*{path.parent.name}__{path.stem}_uint32.npy"))
        if npy:  # the data set's own conversion, made with Pillow
            np.testing.assert_array_equal(got, np.load(npy[0]))


def test_real_pngs_match_pillow(data_dir):
    pngs = sorted(data_dir.rglob("*.png"))
    assert pngs
    read = 0
    for path in pngs:
        data = path.read_bytes()
        got = read_label_png(data)
        if got is None:  # colour images are Pillow's
            with PIL.open(path) as im:
                assert im.mode not in ("L", "P", "I;16")
            continue
        want = pillow_array(data)
        assert got.dtype == want.dtype and got.shape == want.shape, path
        assert np.array_equal(got, want), path
        read += 1
    assert read >= len(pngs) - 10


def test_other_pngs_are_left_to_pillow():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert read_label_png(make_png(arr, interlace=1)) is None
    rgb = io.BytesIO()
    PIL.fromarray(np.zeros((3, 4, 3), np.uint8)).save(rgb, format="PNG")
    assert read_label_png(rgb.getvalue()) is None
    assert read_label_png(rgb.getvalue(), rgb_ids=True).tolist() == [[0] * 4] * 3
    # 16-bit RGB is Pillow's, also for ids
    assert read_label_png(make_png(np.zeros((3, 4, 3), np.uint16)), rgb_ids=True) is None
    one_bit = io.BytesIO()
    PIL.fromarray(np.eye(4, dtype=bool)).save(one_bit, format="PNG")
    assert read_label_png(one_bit.getvalue()) is None


def corrupt_cases() -> dict[str, tuple[bytes, str]]:
    arr = label_map(np.random.default_rng(3), 20, 30, 5, np.uint8)
    good = make_png(arr)
    ihdr_end = 8 + 25
    idat_at = good.index(b"IDAT") - 4
    (idat_len,) = struct.unpack(">I", good[idat_at:idat_at + 4])
    bad_crc = bytearray(good)
    bad_crc[idat_at + 8 + 3] ^= 0xFF
    bad_filter = make_png(arr, types=(2,))
    raw = bytearray(zlib.decompress(bad_filter[idat_at + 8:idat_at + 8 + idat_len]))
    raw[5 * 31] = 7  # row 5's filter type
    body = zlib.compress(bytes(raw))
    bad_filter = (bad_filter[:idat_at] + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    short = zlib.compress(filter_rows(arr[:-1], 1, [1]))
    long = zlib.compress(filter_rows(np.vstack([arr, arr[:1]]), 1, [1]))
    head = good[:ihdr_end]
    return {
        "signature": (b"\x89PNX" + good[4:], "no PNG signature"),
        "truncated": (good[:idat_at + 20], "truncated"),
        "no IEND": (good[:-12], "no IEND"),
        "CRC": (bytes(bad_crc), "CRC mismatch in chunk b'IDAT'"),
        "filter": (bad_filter, "row 5 has filter type 7"),
        "short data": (head + chunk(b"IDAT", short) + chunk(b"IEND", b""), "30x20 needs 620"),
        "long data": (head + chunk(b"IDAT", long) + chunk(b"IEND", b""), "more image data"),
        "no IDAT": (head + chunk(b"IEND", b""), "no image data"),
        "zlib": (head + chunk(b"IDAT", b"\x78\x9c\xff\xff") + chunk(b"IEND", b""), "corrupt"),
        "IHDR first": (good[:8] + chunk(b"IEND", b""), "IHDR"),
        "zero size": (good[:8] + chunk(b"IHDR", struct.pack(">IIBBBBB", 0, 5, 8, 0, 0, 0, 0))
                      + chunk(b"IEND", b""), "invalid image size 0x5"),
    }


@pytest.mark.parametrize("case", sorted(corrupt_cases()))
def test_corrupt_pngs_raise_named_errors(case):
    data, words = corrupt_cases()[case]
    with pytest.raises(PNGError, match=None) as info:
        read_label_png(data)
    assert words in str(info.value)
    assert isinstance(info.value, ValueError)


def test_unfilter_kernel_checks_its_arguments():
    out = np.empty((2, 3), np.uint8)
    with pytest.raises(_core.CodecError) as info:
        _core.png_unfilter(b"\x00" * 7, 2, 3, 1, out)
    assert info.value.args[0] == 41 and info.value.args[3] == 7
    with pytest.raises(_core.CodecError) as info:
        _core.png_unfilter(b"\x00\x01\x02\x03\x09\x00\x00\x00", 2, 3, 1, out)
    assert info.value.args[0] == 40 and info.value.args[2] == 1
    np.testing.assert_array_equal(out[0], [1, 2, 3])
    with pytest.raises(_core.CodecError):
        _core.png_unfilter(b"\x00" * 8, 2, 3, 1, np.empty(5, np.uint8))
    with pytest.raises(_core.CodecError):
        _core.png_unfilter(b"\x00" * 8, 2, 3, 0, out)
    with pytest.raises(TypeError):
        _core.png_unfilter(b"\x00" * 8, 2, 3, 1, b"read-only")


@pytest.mark.parametrize("one_shot", [True, False])
def test_both_inflate_paths(monkeypatch, one_shot):
    """Small data inflates in one call; data that could inflate past the limit in steps."""
    from multiclass_rle._integrations import png as _png

    if not one_shot:
        monkeypatch.setattr(_png, "_ONE_SHOT_LIMIT", 0)
        monkeypatch.setattr(_png, "_DEFLATE_MAX_RATIO", 10**9)
    arr = label_map(np.random.default_rng(5), 40, 50, 9, np.uint8)
    np.testing.assert_array_equal(read_label_png(make_png(arr, types=(4, 2, 1))), arr)
    for case, (data, words) in corrupt_cases().items():
        with pytest.raises(PNGError) as info:
            read_label_png(data)
        assert words in str(info.value), case
    # a "bomb": 2x2 pixels whose data inflates to 10 MB
    head = make_png(np.zeros((2, 2), np.uint8))[:8 + 25]
    bomb = head + chunk(b"IDAT", zlib.compress(bytes(10_000_000), 9)) + chunk(b"IEND", b"")
    with pytest.raises(PNGError, match="more image data than 2x2 needs"):
        read_label_png(bomb)


# ---- the runs path: ids straight to runs (read_png_id_runs, kernel png_id_runs) ----


def assert_runs_equal(runs, ids: np.ndarray) -> None:
    want = mcr.encode_runs(ids)
    assert runs.shape == ids.shape and runs.values.dtype == ids.dtype
    np.testing.assert_array_equal(runs.values, want.values)
    np.testing.assert_array_equal(runs.counts, want.counts)


def rgb_of(ids: np.ndarray, alpha: np.ndarray | None = None) -> np.ndarray:
    planes = [(ids >> s & 255).astype(np.uint8) for s in (0, 8, 16)]
    return np.dstack(planes + ([alpha] if alpha is not None else []))


@pytest.mark.parametrize("types", [(0,), (1,), (2,), (3,), (4,), (0, 1, 2, 3, 4), (4, 2, 1)])
@pytest.mark.parametrize("channels", [3, 4])
def test_id_runs_every_filter_type_and_width(types, channels):
    rng = np.random.default_rng(channels * 100 + sum(types))
    for h, w in [(1, 1), (1, 9), (5, 1), (3, 7), (3, 8), (4, 9), (9, 17), (7, 23), (24, 50),
                 (11, 101)]:
        for ids in (label_map(rng, h, w, 1 << 24, np.uint32),
                    label_map(rng, h, w, 3, np.uint32),
                    rng.integers(0, 1 << 24, (h, w)).astype(np.uint32)):
            alpha = rng.integers(0, 256, (h, w), dtype=np.uint8) if channels == 4 else None
            png = make_png(rgb_of(ids, alpha), types=types, idat_parts=2)
            runs = read_png_id_runs(png)
            assert_runs_equal(runs, ids)
            assert_runs_equal(runs, read_label_png(png, rgb_ids=True))


def test_id_runs_asks_for_more_room():
    """Noise changes id at every pixel: more runs than the first guess, a second pass."""
    rng = np.random.default_rng(8)
    ids = rng.integers(0, 1 << 24, (300, 200)).astype(np.uint32)
    assert_runs_equal(read_png_id_runs(make_png(rgb_of(ids), types=(0,))), ids)
    values = np.empty(10, np.uint32)
    counts = np.empty(10, np.uint64)
    raw = filter_rows(rgb_of(ids[:4, :5]).reshape(4, -1), 3, [1])
    with pytest.raises(_core.CodecError) as info:
        _core.png_id_runs(raw, 4, 5, 3, values, counts)
    assert info.value.args[0] == 42 and info.value.args[3] == 20
    values, counts = np.empty(20, np.uint32), np.empty(20, np.uint64)
    n = _core.png_id_runs(raw, 4, 5, 3, values, counts)
    assert n == mcr.encode_runs(ids[:4, :5]).values.size


def test_id_runs_kernel_checks_its_arguments():
    values, counts = np.empty(8, np.uint32), np.empty(8, np.uint64)
    with pytest.raises(_core.CodecError) as info:
        _core.png_id_runs(b"\x00" * 13, 2, 2, 3, values, counts)
    assert info.value.args[0] == 41 and info.value.args[3] == 13
    with pytest.raises(ValueError):
        _core.png_id_runs(b"\x00" * 14, 2, 2, 2, values, counts)
    with pytest.raises(ValueError):   # misaligned
        _core.png_id_runs(b"\x00" * 14, 2, 2, 3, values.view(np.uint8)[1:5], counts)
    with pytest.raises(TypeError):
        _core.png_id_runs(b"\x00" * 14, 2, 2, 3, b"read-only", counts)
    assert _core.png_id_runs(b"\x00" * 14, 2, 2, 3, values, counts) == 1
    assert counts[0] == 4 and values[0] == 0


def test_id_runs_leaves_other_pngs():
    arr = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert read_png_id_runs(make_png(arr)) is None                  # greyscale: values
    assert read_png_id_runs(make_png(rgb_of(arr.astype(np.uint32)), interlace=1)) is None


def test_load_png_id_runs_falls_back(tmp_path):
    ids = label_map(np.random.default_rng(4), 12, 13, 1 << 24, np.uint32)
    fast = tmp_path / "fast.png"
    fast.write_bytes(make_png(rgb_of(ids), types=(4, 1)))
    assert_runs_equal(load_png_id_runs(str(fast)), ids)
    pillow = tmp_path / "pillow.png"   # Pillow's own filters and compression
    PIL.fromarray(rgb_of(ids)).save(pillow)
    assert_runs_equal(load_png_id_runs(str(pillow)), ids)
    grey = tmp_path / "grey.png"
    grey.write_bytes(make_png(np.arange(12, dtype=np.uint8).reshape(3, 4)))
    assert_runs_equal(load_png_id_runs(str(grey)), np.arange(12, dtype=np.uint8).reshape(3, 4))
    bad = tmp_path / "bad.png"
    bad.write_bytes(b"GIF89a")
    with pytest.raises(PNGError, match="no PNG signature"):
        load_png_id_runs(str(bad))


def rgb_corrupt_cases() -> dict[str, tuple[bytes, str]]:
    ids = label_map(np.random.default_rng(6), 20, 30, 1 << 24, np.uint32)
    good = make_png(rgb_of(ids))
    idat_at = good.index(b"IDAT") - 4
    head = good[:8 + 25]
    bad_crc = bytearray(good)
    bad_crc[idat_at + 8 + 3] ^= 0xFF
    raw = bytearray(filter_rows(rgb_of(ids).reshape(20, -1), 3, [2]))
    raw[7 * 91] = 9   # row 7's filter type
    short = zlib.compress(filter_rows(rgb_of(ids[:-1]).reshape(19, -1), 3, [1]))
    return {
        "CRC": (bytes(bad_crc), "CRC mismatch in chunk b'IDAT'"),
        "filter": (head + chunk(b"IDAT", zlib.compress(bytes(raw))) + chunk(b"IEND", b""),
                   "row 7 has filter type 9"),
        "short data": (head + chunk(b"IDAT", short) + chunk(b"IEND", b""), "30x20 needs 1820"),
        "truncated": (good[:idat_at + 20], "truncated"),
        "zlib": (head + chunk(b"IDAT", b"\x78\x9c\xff\xff") + chunk(b"IEND", b""), "corrupt"),
    }


@pytest.mark.parametrize("case", sorted(rgb_corrupt_cases()))
def test_id_runs_corrupt_pngs_raise_named_errors(case):
    data, words = rgb_corrupt_cases()[case]
    with pytest.raises(PNGError) as info:
        read_png_id_runs(data)
    assert words in str(info.value)
    with pytest.raises(PNGError) as info2:   # the same message as the array reader's
        read_label_png(data, rgb_ids=True)
    assert str(info2.value) == str(info.value)


def test_id_runs_real_panoptic_pngs(data_dir):
    pngs = sorted((data_dir / "coco_panoptic_sample" / "orig").rglob("*.png"))
    assert pngs
    for path in pngs:
        data = path.read_bytes()
        assert_runs_equal(read_png_id_runs(data), panopticapi_ids(pillow_array(data)))
