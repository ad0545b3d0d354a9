"""COCO interop: one multiclass RLE <-> one COCO binary RLE per label.

:func:`to_coco` and :func:`from_coco` work on the runs (no mask is decoded)
and need nothing but numpy. :func:`coco_annotations_to_label_maps` needs
pycocotools only to rasterise polygon segmentations (the ``coco`` extra).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from typing import Any, Literal

import numpy as np

from .._codec import jsontext
from .._codec.dtypes import dtype_from_argument, smallest_dtype, value_range
from .._codec.errors import MalformedRLEError, RLEError, RLETypeError, RLEValueError
from .._codec.forms import coco_binary
from .._codec.runs import Runs
from ._common import as_int, checked, checked_ends, group_order, label_list, merge_equal

__all__ = ["to_coco", "from_coco", "coco_annotations_to_label_maps"]

_U64 = np.dtype(np.uint64)
_OVERLAP_RULES = ("last", "first", "error")


# ---------------------------------------------------------------------------
# multiclass -> COCO


def to_coco(rle: Any, *, labels: Any = None) -> dict[int, dict[str, Any]]:
    """One COCO RLE per label of a 2D label map, built from the runs.

    Parameters
    ----------
    rle : Runs or dict
        A 2D label map, any form :func:`as_runs` accepts.
    labels : sequence of int, optional
        Labels to export, in this order. Default: every label present, in
        increasing order. A listed label absent from the map gets an empty
        mask (``counts`` of the whole size), as pycocotools would give.

    Returns
    -------
    dict
        ``{label: {'size': [h, w], 'counts': str}}``. Each ``counts`` is
        byte for byte what ``pycocotools.mask.encode`` gives for
        ``np.asfortranarray((a == label).astype(np.uint8))``, decoded to str.

    Notes
    -----
    A label's binary runs are its own runs and the gaps between them (the
    runs of every other label, merged); the runs are grouped by label with
    one stable sort, so every mask together costs O(runs log runs), plus one
    string per label. Like COCO, the counts start with the run of 0s,
    possibly of length 0, and have no trailing empty run.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> a = np.array([[0, 3, 3], [0, 0, 3]], dtype=np.uint8)
    >>> mcr.to_coco(mcr.encode(a))
    {0: {'size': [2, 3], 'counts': '021O1'}, 3: {'size': [2, 3], 'counts': '2111'}}
    >>> mcr.area(mcr.to_coco(mcr.encode(a))[3])
    {0: 3, 1: 3}
    """
    runs = checked(rle)
    if len(runs.shape) != 2:
        raise RLEValueError(f"COCO RLEs are 2D; this map has size {list(runs.shape)}")
    size = [int(runs.shape[0]), int(runs.shape[1])]
    n_pixels = runs.size
    values, counts = merge_equal(runs.values, runs.counts)
    ends = np.cumsum(counts, dtype=_U64)
    uniq, order, first = group_order(values)
    n_runs, n_groups = values.shape[0], uniq.shape[0]
    run_end = ends[order]
    run_len = counts[order]
    prev_end = np.empty_like(run_end)
    if n_runs:
        prev_end[1:] = run_end[:-1]
        prev_end[first] = 0  # a label's first gap starts at pixel 0
    # Interleave [gap, run] per run with one extra slot per label for the
    # trailing gap: run j of group g sits at 2j + g, its tail after the group.
    group_of_run = np.repeat(np.arange(n_groups), np.diff(np.append(first, n_runs)))
    slot = 2 * np.arange(n_runs) + group_of_run
    buf = np.empty(2 * n_runs + n_groups, dtype=_U64)
    buf[slot] = run_end - run_len - prev_end
    buf[slot + 1] = run_len
    group_stop = np.append(first[1:], n_runs)
    tail_slot = 2 * group_stop + np.arange(n_groups)
    last_end = run_end[group_stop - 1] if n_groups else run_end[:0]
    buf[tail_slot] = _U64.type(n_pixels) - last_end
    has_tail = (buf[tail_slot] > 0).tolist() if n_groups else []
    start_slot = (2 * first + np.arange(n_groups)).tolist()
    tail_list = tail_slot.tolist()
    by_label = {}
    for g, lab in enumerate(uniq.tolist()):
        piece = buf[start_slot[g]:tail_list[g] + (1 if has_tail[g] else 0)]
        by_label[int(lab)] = piece
    if labels is None:
        wanted = list(by_label)
    else:
        wanted = label_list(labels)
    empty = np.array([n_pixels], dtype=_U64)
    result = {}
    for lab in wanted:
        piece = by_label.get(lab, empty)
        result[lab] = coco_binary.write(size, piece)
    return result


# ---------------------------------------------------------------------------
# COCO -> multiclass


def _foreground(mask: Any, what: str) -> tuple[tuple[int, ...], np.ndarray, np.ndarray]:
    """Shape and the (start, end) positions of the 1-runs of a binary RLE."""
    try:
        runs, ends = checked_ends(mask)
    except RLEError as exc:
        raise type(exc)(f"{what}: {exc}") from None
    values = runs.values
    if values.size and values.dtype.kind != "b":
        lo, hi = int(values.min()), int(values.max())
        if lo < 0 or hi > 1:
            raise RLEValueError(f"{what} is not a binary mask: it holds values {lo}..{hi}")
    fg = values.astype(bool)
    return runs.shape, ends[fg] - runs.counts[fg], ends[fg]


def _paint(shape: tuple[int, ...], item_labels: list[int],
           intervals: list[tuple[np.ndarray, np.ndarray]], *, overlap: str, background: int,
           dtype: np.dtype | None, names: list[str]) -> Runs:
    """One label map from masks given as 1-intervals, in priority order.

    Every pixel gets the label of the last (``'last'``) or first
    (``'first'``) mask covering it, or ``background``. Cost: the masks' runs
    are cut at the union of all run ends; each piece is then given its owner
    (O(total runs * overlap depth), vectorised).
    """
    all_labels = item_labels + [background]
    if dtype is None:
        dtype = smallest_dtype(min(all_labels), max(all_labels))
    lo, hi = value_range(dtype)
    bad = [x for x in all_labels if not lo <= x <= hi]
    if bad:
        raise RLEValueError(f"label {bad[0]} does not fit dtype {dtype} ({lo}..{hi}); "
                            f"pass a wider dtype=")
    n_pixels = int(np.prod(shape, dtype=object))
    if n_pixels == 0:
        return Runs(tuple(shape), np.zeros(0, dtype=dtype), np.zeros(0, dtype=_U64))
    lengths = [s.shape[0] for s, _ in intervals]
    starts = np.concatenate([s for s, _ in intervals] + [np.zeros(0, _U64)]).astype(_U64)
    stops = np.concatenate([e for _, e in intervals] + [np.zeros(0, _U64)]).astype(_U64)
    item = np.repeat(np.arange(len(intervals), dtype=np.int64), lengths)
    # the pieces: between consecutive distinct positions of all starts and stops
    edges = np.concatenate((starts, stops, np.array([0, n_pixels], dtype=_U64)))
    perm = np.argsort(edges, kind="stable")
    sorted_edges = edges[perm]
    new_edge = np.empty(edges.shape[0], dtype=bool)
    new_edge[0] = True
    np.not_equal(sorted_edges[1:], sorted_edges[:-1], out=new_edge[1:])
    bounds = sorted_edges[new_edge]
    n_pieces = bounds.shape[0] - 1
    rank = np.empty(edges.shape[0], dtype=np.intp)  # index of each edge in bounds
    rank[perm] = np.cumsum(new_edge) - 1
    n_int = starts.shape[0]
    first_piece = rank[:n_int]
    # every (piece, interval) pair with the piece inside the interval (ragged arange)
    n_inside = rank[n_int:2 * n_int] - first_piece
    pair_end = np.cumsum(n_inside)
    n_pairs = int(pair_end[-1]) if pair_end.shape[0] else 0
    pair_piece = np.arange(n_pairs, dtype=np.intp)
    pair_piece += np.repeat(first_piece - (pair_end - n_inside), n_inside)
    pair_item = np.repeat(item, n_inside)
    cover = np.bincount(pair_piece, minlength=n_pieces)
    owner = np.full(n_pieces, -1, dtype=np.int64)
    if n_pairs and int(cover.max()) > 1:
        label_code = np.unique(np.array(item_labels, dtype=dtype), return_inverse=True)[1]
        pair_code = label_code.reshape(-1)[pair_item]
        lo_code = np.full(n_pieces, np.iinfo(np.int64).max, dtype=np.int64)
        hi_code = np.full(n_pieces, -1, dtype=np.int64)
        np.minimum.at(lo_code, pair_piece, pair_code)
        np.maximum.at(hi_code, pair_piece, pair_code)
        clash = (cover > 1) & (lo_code != hi_code)
        if overlap == "error" and clash.any():
            piece_len = np.diff(bounds)
            k = int(np.argmax(clash))
            owners = np.unique(pair_item[pair_piece == k]).tolist()
            who = ", ".join(names[i] for i in owners)
            pos = np.unravel_index(int(bounds[k]), shape, order="F")
            raise RLEValueError(
                f"masks overlap with different labels on {int(piece_len[clash].sum())} pixels; "
                f"the first, at index {tuple(int(x) for x in pos)}, is covered by {who}; "
                f"pass overlap='last' or 'first' to choose")
        if overlap == "first":
            owner[:] = np.iinfo(np.int64).max
            np.minimum.at(owner, pair_piece, pair_item)
            owner[cover == 0] = -1
        else:
            np.maximum.at(owner, pair_piece, pair_item)
    else:
        owner[pair_piece] = pair_item
    table = np.array(all_labels, dtype=dtype)  # owner -1 picks the background
    values, counts = merge_equal(table[owner], np.diff(bounds))
    return Runs(tuple(shape), values, counts)


def _check_overlap(overlap: Any) -> str:
    if overlap not in _OVERLAP_RULES:
        raise RLEValueError(f"overlap must be one of {', '.join(map(repr, _OVERLAP_RULES))}, "
                            f"got {overlap!r}")
    return overlap


def from_coco(rles: Any, *, overlap: Literal["last", "first", "error"] = "last",
              background: int = 0, dtype: Any = None) -> Runs:
    """One multiclass label map from one COCO binary RLE per label.

    Parameters
    ----------
    rles : dict or iterable of pairs
        ``{label: coco_rle}`` (or ``(label, coco_rle)`` pairs, which may
        repeat a label), each a pycocotools RLE with ``'size': [h, w]`` and
        ``'counts'`` compressed (str or bytes) or uncompressed (list of
        ints), or any binary RLE :func:`as_runs` accepts.
    overlap : {'last', 'first', 'error'}
        Pixels covered by masks of different labels take the label of the
        last mask in ``rles`` order (``'last'``, the default: masks are
        painted in order), of the first one (``'first'``), or raise
        (``'error'``). Overlaps of masks with the same label are never an error.
    background : int
        Label of pixels no mask covers.
    dtype : dtype, optional
        dtype of the result; default: the smallest holding every label and
        ``background``.

    Returns
    -------
    Runs

    Raises
    ------
    RLEValueError
        Masks of different sizes (both sizes and their labels are named), an
        empty ``rles``, a non-binary mask, or an overlap with ``'error'``.

    Examples
    --------
    >>> import numpy as np, multiclass_rle as mcr
    >>> coco = {0: {'size': [2, 3], 'counts': '021O1'}, 3: {'size': [2, 3], 'counts': '2111'}}
    >>> mcr.decode(mcr.from_coco(coco))
    array([[0, 3, 3],
           [0, 0, 3]], dtype=uint8)
    >>> masks = [(1, {'size': [1, 4], 'counts': [0, 3, 1]}),
    ...          (2, {'size': [1, 4], 'counts': [2, 2]})]
    >>> mcr.decode(mcr.from_coco(masks)), mcr.decode(mcr.from_coco(masks, overlap='first'))
    (array([[1, 1, 2, 2]], dtype=uint8), array([[1, 1, 1, 2]], dtype=uint8))
    """
    overlap = _check_overlap(overlap)
    target = None if dtype is None else dtype_from_argument(dtype)
    background = as_int(background, "background")
    if isinstance(rles, Mapping):
        if "counts" in rles:
            raise RLETypeError("rles looks like a single RLE; pass {label: rle} instead")
        pairs: Iterable[Any] = rles.items()
    elif isinstance(rles, (str, bytes)) or not isinstance(rles, Iterable):
        raise RLETypeError(f"rles must be a dict {{label: coco_rle}} or (label, rle) pairs, got "
                           f"{type(rles).__name__}")
    else:
        pairs = rles
    shape: tuple[int, ...] | None = None
    first_label = None
    item_labels, intervals, names = [], [], []
    for pair in pairs:
        try:
            if isinstance(pair, (Mapping, str, bytes)):
                raise TypeError
            label, mask = pair
        except (TypeError, ValueError):
            raise RLETypeError(f"rles must hold (label, rle) pairs, got {pair!r:.80}") from None
        lab = as_int(label, "a label of rles")
        what = f"the mask of label {lab}"
        mask_shape, s, e = _foreground(mask, what)
        if shape is None:
            shape, first_label = mask_shape, lab
        elif mask_shape != shape:
            raise RLEValueError(f"{what} has size {list(mask_shape)}, but the mask of label "
                                f"{first_label} has size {list(shape)}; all must be the same")
        item_labels.append(lab)
        intervals.append((s, e))
        names.append(f"label {lab}")
    if shape is None:
        raise RLEValueError("rles is empty; from_coco needs at least one mask to know the size")
    return _paint(shape, item_labels, intervals, overlap=overlap, background=background,
                  dtype=target, names=names)


# ---------------------------------------------------------------------------
# COCO annotation files


def _pycocotools_mask() -> Any:
    try:
        from pycocotools import mask
    except ImportError as exc:
        raise ImportError(
            "rasterising COCO polygon segmentations needs pycocotools; install it with "
            "pip install 'multiclass-rle[coco]' (or pip install pycocotools)") from exc
    return mask


def _annotation_mask(ann: Mapping[str, Any], h: int, w: int,
                     what: str) -> tuple[np.ndarray, np.ndarray] | None:
    """1-intervals of an annotation's segmentation; None when it has none."""
    segm = ann.get("segmentation")
    if segm is None or (isinstance(segm, list) and not segm):
        return None
    if isinstance(segm, list):  # polygons: [[x0, y0, x1, y1, ...], ...]
        mask_utils = _pycocotools_mask()
        polygons = [p for p in segm if len(p) >= 6]  # pycocotools needs 3 points
        if not polygons:
            return None
        rle = mask_utils.merge(mask_utils.frPyObjects(polygons, h, w))
    elif isinstance(segm, Mapping):
        rle = segm
        size = segm.get("size")
        if isinstance(size, (list, tuple)) and len(size) == 2 and all(
                isinstance(x, int) for x in size) and list(size) != [h, w]:
            raise RLEValueError(f"{what} has an RLE of size {list(size)}, but its image is "
                                f"{[h, w]} (height, width)")
    else:
        raise MalformedRLEError(f"{what} has a segmentation of type {type(segm).__name__}; "
                                f"expected polygons (a list) or an RLE (a dict)")
    shape, s, e = _foreground(rle, what)
    if shape != (h, w):
        raise RLEValueError(f"{what} has an RLE of size {list(shape)}, but its image is "
                            f"{[h, w]} (height, width)")
    return s, e


def coco_annotations_to_label_maps(
        coco: Any, *, kind: Literal["semantic", "instance", "both"] = "semantic",
        overlap: Literal["last", "first", "error"] = "last",
        background: int = 0) -> dict[Any, Any]:
    """One label map per image from a COCO instances annotation file.

    Parameters
    ----------
    coco : dict or path
        The loaded JSON of a COCO annotation file (``images`` with ``id``,
        ``height``, ``width``; ``annotations`` with ``image_id``,
        ``category_id``, ``segmentation``), or the path of such a file.
        Segmentations may be polygons (rasterised with pycocotools, the
        optional extra ``multiclass-rle[coco]``), compressed RLEs or
        uncompressed RLEs (these two need only numpy). Annotations without a
        segmentation are skipped; crowd annotations are used like the others.
    kind : {'semantic', 'instance', 'both'}
        ``'semantic'``: pixel = ``category_id``. ``'instance'``: pixel = the
        annotation's number within its image, 1 for the image's first
        annotation in file order, 2 for the second, ... (so instance ``k`` is
        ``[a for a in coco['annotations'] if a['image_id'] == image_id][k - 1]``).
    overlap : {'last', 'first', 'error'}
        Pixels of several annotations take the label of the last one in file
        order (default), the first one, or raise; see :func:`from_coco`.
    background : int
        Label of pixels no annotation covers.

    Returns
    -------
    dict
        ``{image_id: Runs}`` for every image in ``coco['images']`` (images
        without annotations are all background); for ``kind='both'``,
        ``{image_id: {'semantic': Runs, 'instance': Runs}}``. The dtype is
        the smallest holding every label of the file (uint8 for COCO's
        categories; uint8, uint16 or uint32 for instances, by the largest
        number of annotations in one image).

    Raises
    ------
    ImportError
        A polygon segmentation and no pycocotools (the message names the extra).

    Examples
    --------
    >>> import multiclass_rle as mcr
    >>> coco = {'images': [{'id': 7, 'height': 2, 'width': 3}],
    ...         'annotations': [
    ...             {'image_id': 7, 'category_id': 5,
    ...              'segmentation': {'size': [2, 3], 'counts': [0, 2, 4]}},
    ...             {'image_id': 7, 'category_id': 5,
    ...              'segmentation': {'size': [2, 3], 'counts': '42'}}]}
    >>> maps = mcr.coco_annotations_to_label_maps(coco, kind='both')
    >>> mcr.decode(maps[7]['semantic'])
    array([[5, 0, 5],
           [5, 0, 5]], dtype=uint8)
    >>> mcr.decode(maps[7]['instance'])
    array([[1, 0, 2],
           [1, 0, 2]], dtype=uint8)
    """
    if kind not in ("semantic", "instance", "both"):
        raise RLEValueError(f"kind must be 'semantic', 'instance' or 'both', got {kind!r}")
    overlap = _check_overlap(overlap)
    background = as_int(background, "background")
    if isinstance(coco, (str, os.PathLike)):
        with open(coco, encoding="utf-8") as f:
            coco = jsontext.load(f)
    if not isinstance(coco, Mapping):
        raise RLETypeError(f"coco must be a dict or the path of a JSON file, got "
                           f"{type(coco).__name__}")
    for key in ("images", "annotations"):
        if key not in coco:
            raise MalformedRLEError(f"the COCO dict has no {key!r} key")
    sizes: dict[Any, tuple[int, int]] = {}
    for img in coco["images"]:
        if not isinstance(img, Mapping):
            raise MalformedRLEError(f"an entry of 'images' is a {type(img).__name__}, not a dict")
        try:
            h, w = as_int(img["height"], "height"), as_int(img["width"], "width")
        except KeyError as exc:
            raise MalformedRLEError(f"image {img.get('id', img)!r:.80} has no {exc} key") from None
        if h < 0 or w < 0:
            raise MalformedRLEError(f"image {img.get('id')!r:.80} has height {h} and width {w}; "
                                    f"sizes cannot be negative")
        sizes[img["id"]] = (h, w)
    per_image: dict[Any, list[Mapping[str, Any]]] = {image_id: [] for image_id in sizes}
    for ann in coco["annotations"]:
        image_id = ann.get("image_id")
        if image_id not in per_image:
            raise MalformedRLEError(f"annotation {ann.get('id')!r} refers to image_id "
                                    f"{image_id!r}, which is not in 'images'")
        per_image[image_id].append(ann)
    categories = [as_int(a.get("category_id"), f"category_id of annotation {a.get('id')!r}")
                  for a in coco["annotations"]] if kind != "instance" else []
    most = max((len(v) for v in per_image.values()), default=0)
    sem_dtype = smallest_dtype(min(categories + [background]), max(categories + [background]))
    inst_dtype = smallest_dtype(min(0, background), max(most, background))

    result: dict[Any, Any] = {}
    for image_id, anns in per_image.items():
        h, w = sizes[image_id]
        cats, numbers, intervals, names = [], [], [], []
        for number, ann in enumerate(anns, start=1):
            what = f"annotation {ann.get('id')!r} (image {image_id!r})"
            got = _annotation_mask(ann, h, w, what)
            if got is None:
                continue
            intervals.append(got)
            numbers.append(number)
            names.append(what)
            if kind != "instance":
                cats.append(as_int(ann.get("category_id"), f"category_id of {what}"))
        maps = {}
        if kind != "instance":
            maps["semantic"] = _paint((h, w), cats, intervals, overlap=overlap,
                                      background=background, dtype=sem_dtype, names=names)
        if kind != "semantic":
            maps["instance"] = _paint((h, w), numbers, intervals, overlap=overlap,
                                      background=background, dtype=inst_dtype, names=names)
        result[image_id] = maps if kind == "both" else maps[kind]
    return result
