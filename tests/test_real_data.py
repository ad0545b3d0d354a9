"""Round trips of the real label maps in ../shared/data (listed in INDEX.json).

Skipped as a whole when the folder is absent (it is not part of the checkout).
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"
if not (DATA_DIR / "INDEX.json").is_file():
    pytest.skip(f"real data folder {DATA_DIR} is absent", allow_module_level=True)

INDEX = json.loads((DATA_DIR / "INDEX.json").read_text())

#: CamVid stacks hold hundreds of frames: the reference codec runs on these few.
CAMVID_REFERENCE_FRAMES = 5


def _entry_id(entry: dict) -> str:
    name = entry["file"].split("/")[-1]
    return name if entry["key"] in (None, "labels") else f"{name}:{entry['key'][-40:]}"


@functools.lru_cache(maxsize=2)
def _load_npz(file: str) -> dict[str, np.ndarray]:
    with np.load(DATA_DIR / file, allow_pickle=False) as npz:
        return {k: npz[k] for k in npz.files}


def _load(entry: dict) -> np.ndarray:
    if entry["key"] is None:
        return np.load(DATA_DIR / entry["file"], allow_pickle=False)
    return _load_npz(entry["file"])[entry["key"]]


def _is_camvid(entry: dict) -> bool:
    return entry["file"].startswith("camvid/")


def _assert_same(got: np.ndarray, a: np.ndarray) -> None:
    assert got.shape == a.shape
    assert got.dtype == a.dtype
    assert np.array_equal(got, a)


@pytest.mark.parametrize("entry", INDEX, ids=_entry_id)
def test_real_map_roundtrip(entry, ref):
    a = _load(entry)
    # the data is what the index says
    assert list(a.shape) == entry["shape"]
    assert a.dtype == np.dtype(entry["dtype"])
    assert a.flags.f_contiguous if entry["order"] == "F" else a.flags.c_contiguous
    before = a.copy(order="K")

    runs = mcr.encode_runs(a)
    assert runs.shape == a.shape and runs.dtype == a.dtype
    assert int(runs.counts.sum()) == a.size
    labels = np.unique(runs.values)
    assert len(labels) == entry["n_labels"]
    assert int(labels[0]) == entry["min"] and int(labels[-1]) == entry["max"]

    rle = mcr.encode(a)
    assert rle == runs.to_dict()
    text = json.dumps(rle)
    assert len(text) < a.nbytes  # real maps compress
    parsed = json.loads(text)
    back_c = mcr.decode(parsed)
    assert back_c.flags.c_contiguous
    _assert_same(back_c, a)
    back_f = mcr.decode(parsed, order="F")
    assert back_f.flags.f_contiguous
    _assert_same(back_f, a)
    del back_c, back_f

    # the reference codec: all of a map, or the first frames of a CamVid stack
    parts = [a[i] for i in range(CAMVID_REFERENCE_FRAMES)] if _is_camvid(entry) else [a]
    for part in parts:
        values, counts = ref.runs(part)
        part_runs = mcr.encode_runs(part)
        assert np.array_equal(part_runs.values, values)
        assert np.array_equal(part_runs.counts, counts)
    assert np.array_equal(a, before), "the input array was modified"


@pytest.mark.parametrize("entry", [e for e in INDEX if _is_camvid(e)], ids=_entry_id)
def test_camvid_frames_one_by_one(entry):
    """The usual job: one compact JSON RLE per 2D frame, decoded into a reused buffer."""
    stack = _load(entry)
    out = np.empty(stack.shape[1:], dtype=stack.dtype)
    out_f = np.empty(stack.shape[1:], dtype=stack.dtype, order="F")
    for i in range(stack.shape[0]):
        frame = stack[i]
        rle = json.loads(json.dumps(mcr.encode(frame)))
        assert mcr.decode(rle, out=out) is out
        assert np.array_equal(out, frame), f"frame {i}"
        if i % 50 == 0:
            mcr.decode(rle, out=out_f)
            assert np.array_equal(out_f, frame), f"frame {i} (F order)"


@pytest.mark.parametrize("entry", [e for e in INDEX if len(e["shape"]) == 3
                                   and not _is_camvid(e)], ids=_entry_id)
def test_real_volume_views(entry, ref):
    """Volumes through non-contiguous views: a transpose and a strided, reversed crop."""
    a = _load(entry)
    for view in (a.T, a[::-2, 1::3, ::2]):
        rle = json.loads(json.dumps(mcr.encode(view)))
        _assert_same(mcr.decode(rle), view)
        values, counts = ref.runs(view)
        runs = mcr.encode_runs(view)
        assert np.array_equal(runs.values, values) and np.array_equal(runs.counts, counts)


def test_real_binary_masks_match_pycocotools():
    """Per-class binary masks of real maps: counts strings are pycocotools'."""
    mask_api = pytest.importorskip("pycocotools.mask")
    entry = next(e for e in INDEX if e["file"].endswith("ADE_val_00000001_uint8.npy"))
    a = _load(entry)
    for label in np.unique(a)[:6]:
        m = (a == label).astype(np.uint8)
        if m[0, 0] != 0:
            m = 1 - m
        coco = mask_api.encode(np.asfortranarray(m))
        assert mcr.encode(m)["counts"] == coco["counts"].decode()
