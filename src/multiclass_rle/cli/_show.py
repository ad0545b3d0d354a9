"""``mcrle show``: a colour preview of one label map, with a legend."""

from __future__ import annotations

import argparse
import os
from io import BytesIO
from typing import Any

import numpy as np

from .._codec.runs import encode_runs
from .._ops.summary import area
from ._console import Console, InputError, UsageError, human_bytes
from ._files import AtomicFile
from ._inputs import SUFFIX_KINDS, kind_of
from ._readers import pillow, read_maps
from ._records import format_of_file

#: Fixed colours of labels 0..21 (black, then Trubetskoy's 20 distinct colours,
#: then white); other labels get a colour hashed from their value, so a label
#: has the same colour in every preview.
PALETTE = np.array([
    (0, 0, 0), (230, 25, 75), (60, 180, 75), (255, 225, 25), (0, 130, 200),
    (245, 130, 48), (145, 30, 180), (70, 240, 240), (240, 50, 230), (210, 245, 60),
    (250, 190, 212), (0, 128, 128), (220, 190, 255), (170, 110, 40), (255, 250, 200),
    (128, 0, 0), (170, 255, 195), (128, 128, 0), (255, 215, 180), (0, 0, 128),
    (128, 128, 128), (255, 255, 255),
], dtype=np.uint8)

_M64 = (1 << 64) - 1


def _hash_colour(label: int) -> tuple[int, int, int]:
    x = (label * 0x9E3779B97F4A7C15 + 0x632BE59BD9B4E019) & _M64  # splitmix64
    x = ((x ^ (x >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    x = ((x ^ (x >> 27)) * 0x94D049BB133111EB) & _M64
    x ^= x >> 31
    h = (x & 0xFFFF) / 65536.0
    s = 0.55 + 0.4 * ((x >> 16) & 0xFF) / 255.0
    v = 0.65 + 0.35 * ((x >> 24) & 0xFF) / 255.0
    i = int(h * 6) % 6
    f = h * 6 - int(h * 6)
    p, q, t = v * (1 - s), v * (1 - f * s), v * (1 - (1 - f) * s)
    r, g, b = [(v, t, p), (q, v, p), (p, v, t), (p, q, v), (t, p, v), (v, p, q)][i]
    return int(r * 255 + 0.5), int(g * 255 + 0.5), int(b * 255 + 0.5)


def label_colours(labels: np.ndarray) -> np.ndarray:
    """(k, 3) uint8 colours of the given labels."""
    out = np.empty((len(labels), 3), dtype=np.uint8)
    for i, lab in enumerate(labels.tolist()):
        lab = int(lab)
        out[i] = PALETTE[lab] if 0 <= lab < len(PALETTE) else _hash_colour(lab)
    return out


def _font(size: int) -> Any:
    from PIL import ImageFont

    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1: a fixed bitmap font
        return ImageFont.load_default()


#: Longest side of a preview: a larger map is shown at every k-th pixel (its
#: legend still counts every pixel), so that a 20000x20000 map needs a few
#: hundred MB, not the 16 bytes per pixel of colouring it whole.
MAX_PREVIEW_SIDE = 2048


def preview_step(shape: tuple[int, ...], max_side: int = MAX_PREVIEW_SIDE) -> int:
    """Every how many pixels a map of this (2D) shape is sampled for its preview."""
    return max(1, -(-max(shape) // max_side))


def render(arr: np.ndarray, *, names: dict[int, str], image: Any = None, alpha: float = 0.5,
           legend: bool = True, max_legend: int = 40,
           max_side: int = MAX_PREVIEW_SIDE) -> Any:
    """An RGB PIL image: the map in colour (over ``image`` if given) and a legend.

    Maps with a side longer than ``max_side`` are sampled at every k-th
    pixel (nearest neighbour) for the picture; the legend's shares are of
    every pixel, counted from the map's runs.
    """
    Image = pillow()
    from PIL import ImageDraw

    counts = area(encode_runs(arr))   # every pixel, in O(runs) memory
    labels = np.array(list(counts), dtype=arr.dtype)
    pixels = np.array(list(counts.values()), dtype=np.int64)
    step = preview_step(arr.shape, max_side)
    view = arr[::step, ::step]
    present, inverse = np.unique(view, return_inverse=True)
    rgb = label_colours(present)[inverse.reshape(view.shape)]
    if image is not None:
        if step > 1:
            image = image.resize((view.shape[1], view.shape[0]), Image.NEAREST)
        base = np.asarray(image.convert("RGB"), dtype=np.float32)
        rgb = (alpha * rgb + (1 - alpha) * base + 0.5).astype(np.uint8)
    h, w = view.shape
    scale = max(1, 256 // max(h, 1)) if h < 256 else 1
    pic = Image.fromarray(np.ascontiguousarray(rgb), "RGB")
    if scale > 1:
        pic = pic.resize((w * scale, h * scale), Image.NEAREST)
    if not legend:
        return pic
    font = _font(13)
    row = 18
    total = int(pixels.sum())
    order = np.argsort(-pixels, kind="stable")[:max_legend]
    order = np.sort(order)  # by label value
    entries = [(int(labels[i]), int(pixels[i])) for i in order]
    more = len(labels) - len(entries)
    lines = [f"{lab}{' ' + names[lab] if lab in names else ''}  {100 * px / total:.1f}%"
             for lab, px in entries]
    if more:
        lines.append(f"+ {more} more labels")
    draw0 = ImageDraw.Draw(pic)
    text_w = max((draw0.textlength(t, font=font) for t in lines), default=0)
    panel_w = int(text_w) + 40
    panel_h = row * len(lines) + 16
    canvas = Image.new("RGB", (pic.width + panel_w, max(pic.height, panel_h)), (255, 255, 255))
    canvas.paste(pic, (0, 0))
    draw = ImageDraw.Draw(canvas)
    x0 = pic.width + 8
    for i, text in enumerate(lines):
        y = 8 + i * row
        if i < len(entries):
            lab = entries[i][0]
            c = tuple(int(v) for v in label_colours(np.array([lab]))[0])
            draw.rectangle([x0, y + 1, x0 + 14, y + 15], fill=c, outline=(0, 0, 0))
        draw.text((x0 + 22, y), text, fill=(0, 0, 0), font=font)
    return canvas


def _pick_record(path: str, name: str | None, con: Console) -> tuple[str, np.ndarray]:
    fmt = format_of_file(path)
    candidates: list[tuple[str, Any]] = []
    for rec in fmt.records(path):
        if rec.error is not None:
            continue
        if name is None:
            return rec.name or "", fmt.to_array(rec.rle)
        if rec.name == name:
            return rec.name, fmt.to_array(rec.rle)
        if rec.name is not None and (rec.name.endswith("/" + name)
                                     or os.path.splitext(rec.name)[0] == name):
            candidates.append((rec.name, rec.rle))
    if len(candidates) == 1:
        return candidates[0][0], fmt.to_array(candidates[0][1])
    if not candidates:
        raise InputError(f"no map named {name!r} (names are the \"path\" of each record; "
                         f"mcrle info --maps lists them)")
    listed = ", ".join(c[0] for c in candidates[:4])
    raise UsageError(f"{name!r} matches {len(candidates)} maps ({listed}, ...); give the full path")


def _pick_file(path: str, name: str | None) -> tuple[str, np.ndarray]:
    found = []
    for member, arr in read_maps(path, kind_of(path)):
        if name is None or member == name:
            if isinstance(arr, InputError):
                raise arr
            return (path if member is None else f"{path}::{member}"), arr
        found.append(member)
    raise InputError(f"no member {name!r} (members: {', '.join(map(str, found))})")


def cmd_show(args: argparse.Namespace, con: Console) -> int:
    Image = pillow()
    from ._readers import load_names

    names = load_names(args.names)
    if not 0.0 <= args.alpha <= 1.0:
        raise UsageError(f"--alpha must be between 0 and 1, got {args.alpha}")
    sink = AtomicFile(args.output, force=args.force)
    with sink:
        try:
            if os.path.splitext(args.input)[1].lower() in SUFFIX_KINDS:
                name, arr = _pick_file(args.input, args.name)
            else:
                name, arr = _pick_record(args.input, args.name, con)
        except InputError as exc:
            con.error(args.input, str(exc))
            return 1
        if arr.ndim == 1:
            arr = arr[None, :]
        elif arr.ndim > 2:
            k = arr.shape[0] // 2 if args.slice is None else args.slice
            if not 0 <= k < arr.shape[0]:
                raise UsageError(f"--slice {k} is outside 0..{arr.shape[0] - 1}")
            con.note(f"{name} has shape {arr.shape}; showing slice {k} of the first axis "
                     f"(--slice K picks another)")
            arr = arr[k]
            while arr.ndim > 2:
                arr = arr[arr.shape[0] // 2]
        image = None
        if args.image is not None:
            try:
                image = Image.open(args.image)
                image.load()
            except (OSError, SyntaxError, ValueError) as exc:
                con.error(args.image, f"cannot read the image ({exc})")
                return 1
            if image.size != (arr.shape[1], arr.shape[0]):
                con.error(args.image, f"is {image.size[0]}x{image.size[1]} (width x height), "
                                      f"the map is {arr.shape[1]}x{arr.shape[0]}")
                return 1
        step = preview_step(arr.shape)
        if step > 1:
            con.note(f"{name} is {arr.shape[0]}x{arr.shape[1]}; the preview shows every "
                     f"{step}th pixel ({-(-arr.shape[0] // step)}x{-(-arr.shape[1] // step)}); "
                     f"the legend counts them all")
        try:
            pic = render(arr, names=names, image=image, alpha=args.alpha,
                         legend=not args.no_legend)
            buf = BytesIO()
            pic.save(buf, format="PNG")
        except MemoryError:
            con.error(args.input, f"not enough memory for a preview of the {arr.shape[0]}x"
                                  f"{arr.shape[1]} {arr.dtype} map (it takes "
                                  f"{human_bytes(arr.nbytes)} itself)")
            return 1
        sink.stream.write(buf.getvalue())
        sink.commit()
    con.note(f"wrote {args.output}: {name}, {arr.shape[0]}x{arr.shape[1]}, "
             f"{len(area(encode_runs(arr)))} labels")
    return 0
