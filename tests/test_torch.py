"""PyTorch integration: to_tensor, to_tensor_batch, RLEMaskDataset (extra ``torch``).

The GPU code path (runs sent to the device, expanded there) is exercised on
CPU tensors by calling it with device='cpu'; on a machine with CUDA the same
tests also run on the GPU.
"""

from __future__ import annotations

import doctest
import json
import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

import multiclass_rle as mcr  # noqa: E402
from multiclass_rle._integrations import torch as _torch  # noqa: E402

DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")
TORCH_OF = {"bool": torch.bool, "uint8": torch.uint8, "int8": torch.int8,
            "int16": torch.int16, "int32": torch.int32, "int64": torch.int64,
            "uint16": torch.uint16, "uint32": torch.uint32, "uint64": torch.uint64}
CUDA = torch.cuda.is_available()
#: Python >= 3.12 warns when a process with threads forks (DataLoader workers)
FORK_WARNING = "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _map(dtype: str, shape=(7, 5, 3), seed=0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dt)
    pool = np.array([info.min, info.max, 0, 1, 3], dtype=dt)
    a = pool[rng.integers(0, pool.size, shape)]
    a[: shape[0] // 2] = pool[1]   # some long runs
    return a


def _as_np(t: torch.Tensor) -> np.ndarray:
    return t.cpu().numpy()


# ---------------------------------------------------------------------------
# to_tensor


@pytest.mark.parametrize("dtype", DTYPES)
def test_to_tensor_roundtrip_every_dtype(dtype):
    a = _map(dtype)
    for rle in (mcr.encode(a), mcr.encode_runs(a), mcr.array_to_multi_class_rle(a)):
        t = mcr_to_tensor(rle)
        if isinstance(rle, dict) and "dtype" not in rle:   # the original form: smallest dtype
            t = mcr_to_tensor(rle, dtype=TORCH_OF[dtype])
        assert t.dtype == TORCH_OF[dtype] and t.device.type == "cpu"
        assert t.is_contiguous() and tuple(t.shape) == a.shape
        assert np.array_equal(_as_np(t), a)


def mcr_to_tensor(*args, **kwargs):
    return _torch.to_tensor(*args, **kwargs)


def test_to_tensor_shares_the_decoded_memory(monkeypatch):
    seen = []
    real = _torch.decode

    def spy(*args, **kwargs):
        arr = real(*args, **kwargs)
        seen.append(arr)
        return arr

    monkeypatch.setattr(_torch, "decode", spy)
    a = _map("uint8", (64, 48))
    t = _torch.to_tensor(mcr.encode(a))
    assert len(seen) == 1 and t.data_ptr() == seen[0].ctypes.data   # no copy


def test_to_tensor_dtype_argument():
    a = _map("uint8", (6, 4))
    rle = mcr.encode(a)
    for dt in (torch.int64, np.int32, "int16", torch.uint8):
        t = _torch.to_tensor(rle, dtype=dt)
        assert np.array_equal(_as_np(t), a.astype(np.int64))
    assert _torch.to_tensor(rle, dtype=torch.int64).dtype == torch.int64
    with pytest.raises(mcr.RLETypeError):
        _torch.to_tensor(rle, dtype=torch.float32)
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor(rle, dtype=torch.bool)         # values up to 255


def test_to_tensor_into_out_without_allocating():
    a = _map("int16", (9, 11))
    rle = mcr.encode(a)
    out = torch.full((9, 11), -7, dtype=torch.int16)
    ptr = out.data_ptr()
    assert _torch.to_tensor(rle, out=out) is out and out.data_ptr() == ptr
    assert np.array_equal(out.numpy(), a)
    # a strided view (transposed storage) works too
    base = torch.zeros((11, 9), dtype=torch.int32)
    view = base.t()
    _torch.to_tensor(rle, out=view)
    assert np.array_equal(base.numpy().T, a)
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor(rle, out=torch.empty((9, 10), dtype=torch.int16))
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor(rle, out=out, dtype=torch.int64)
    with pytest.raises(mcr.RLETypeError):
        _torch.to_tensor(rle, out=np.empty((9, 11), np.int16))
    grad = torch.zeros((9, 11), dtype=torch.float32, requires_grad=True)
    with pytest.raises(mcr.RLETypeError):
        _torch.to_tensor(rle, out=grad)


def test_to_tensor_bytes_form():
    a = _map("uint32", (13, 17))
    payload = mcr.encode_bytes(a) if hasattr(mcr, "encode_bytes") else None
    if payload is None:
        from multiclass_rle._integrations.payload import to_payload
        payload = to_payload(a)
    assert np.array_equal(_torch.to_tensor(payload).numpy(), a)
    assert np.array_equal(_torch.to_tensor(payload, dtype=torch.int64).numpy(), a)
    out = torch.empty((13, 17), dtype=torch.int64)
    _torch.to_tensor(payload, out=out)
    assert np.array_equal(out.numpy(), a)
    # the device path of a payload: its runs
    t = _torch._to_device(_torch._runs(payload, None), "cpu", None)
    assert np.array_equal(t.numpy(), a)


def test_to_tensor_malformed_is_refused():
    bad = {"size": [2, 2], "values": [0, 1], "counts": [1, 2]}
    with pytest.raises(mcr.MalformedRLEError):
        _torch.to_tensor(bad)
    with pytest.raises(mcr.MalformedRLEError):
        _torch._to_device(_torch._runs(bad, None), "cpu", None)
    zero = {"size": [2, 2], "values": [0, 1, 0], "counts": [2, 0, 2]}
    with pytest.raises(mcr.MalformedRLEError):
        _torch._runs(zero, None)


# ---------------------------------------------------------------------------
# the GPU code path, forced onto CPU tensors


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(17,), (6, 9), (4, 5, 3), (2, 3, 4, 5), (0, 4), (1, 1)])
def test_device_path_on_cpu_every_dtype_and_ndim(dtype, shape):
    a = _map(dtype, shape, seed=len(shape))
    runs = _torch._runs(mcr.encode(a), None)
    t = _torch._to_device(runs, "cpu", None)
    assert t.dtype == TORCH_OF[dtype] and t.is_contiguous() and tuple(t.shape) == shape
    assert np.array_equal(t.numpy(), a)
    # into a strided out
    if a.ndim >= 2 and a.size:
        base = torch.zeros(shape[::-1], dtype=TORCH_OF[dtype])
        view = base.permute(*reversed(range(a.ndim)))
        _torch._to_device(runs, "cpu", view)
        assert np.array_equal(base.numpy().transpose(), a)


def test_device_path_casts_to_requested_dtype():
    a = _map("int8", (5, 6))
    runs = _torch._runs(mcr.encode(a), np.dtype(np.int64))
    t = _torch._to_device(runs, "cpu", None)
    assert t.dtype == torch.int64 and np.array_equal(t.numpy(), a)
    with pytest.raises(mcr.RLEValueError):
        _torch._runs(mcr.encode(a), np.dtype(np.uint8))   # negative values


@pytest.mark.parametrize("dtype", ["uint8", "uint16", "int32", "uint64", "bool"])
def test_batch_device_path_on_cpu(dtype):
    maps = [_map(dtype, (6, 7, 3), seed=s) for s in range(5)]
    out = torch.empty((5, 6, 7, 3), dtype=TORCH_OF[dtype])
    _torch._batch_to_device([mcr.encode(m) for m in maps], out, np.dtype(dtype))
    assert np.array_equal(out.numpy(), np.stack(maps))


# ---------------------------------------------------------------------------
# to_tensor_batch


def test_to_tensor_batch_cpu():
    maps = [_map("uint8", (10, 12), seed=s) for s in range(6)]
    rles = [mcr.encode(m) for m in maps]
    t = _torch.to_tensor_batch(rles)
    assert t.shape == (6, 10, 12) and t.dtype == torch.uint8
    assert np.array_equal(t.numpy(), np.stack(maps))
    out = torch.zeros((6, 10, 12), dtype=torch.int64)
    ptr = out.data_ptr()
    assert _torch.to_tensor_batch(rles, out=out) is out and out.data_ptr() == ptr
    assert np.array_equal(out.numpy(), np.stack(maps))
    # mixed dtypes: one that holds them all
    mixed = [mcr.encode(maps[0]), mcr.encode(maps[1].astype(np.int16) - 3)]
    assert _torch.to_tensor_batch(mixed).dtype == torch.int16
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor_batch([mcr.encode(maps[0]), mcr.encode(maps[0][:5])])
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor_batch(rles, out=torch.empty((5, 10, 12), dtype=torch.uint8))
    with pytest.raises(mcr.RLEValueError):
        _torch.to_tensor_batch([])
    assert _torch.to_tensor_batch([], out=torch.empty((0, 3), dtype=torch.uint8)).shape == (0, 3)


# ---------------------------------------------------------------------------
# a real GPU, where there is one


@pytest.mark.skipif(not CUDA, reason="no CUDA device")
@pytest.mark.parametrize("dtype", DTYPES)
def test_cuda(dtype):
    a = _map(dtype, (33, 21, 5))
    rle = mcr.encode(a)
    t = _torch.to_tensor(rle, device="cuda")
    assert t.device.type == "cuda" and t.is_contiguous()
    assert np.array_equal(t.cpu().numpy(), a)
    out = torch.empty((33, 21, 5), dtype=TORCH_OF[dtype], device="cuda")
    assert _torch.to_tensor(rle, out=out) is out
    assert np.array_equal(out.cpu().numpy(), a)
    batch = _torch.to_tensor_batch([rle, rle], device="cuda")
    assert np.array_equal(batch.cpu().numpy(), np.stack([a, a]))


# ---------------------------------------------------------------------------
# RLEMaskDataset


@pytest.fixture
def jsonl(tmp_path):
    maps = [_map("uint8", (24, 32), seed=s) for s in range(10)]
    path = tmp_path / "masks.jsonl"
    with open(path, "w") as f:
        for i, m in enumerate(maps):
            f.write(json.dumps({"path": f"m{i:02d}.png", "rle": mcr.encode(m)}) + "\n")
        f.write("\n")  # a blank line is skipped
    return path, maps


def test_dataset_from_jsonl(jsonl):
    path, maps = jsonl
    ds = _torch.RLEMaskDataset(path)
    assert len(ds) == 10 and ds.names[3] == "m03.png"
    for i in (0, 5, -1):
        assert np.array_equal(ds[i].numpy(), maps[i])
    assert ds.rle(2) == mcr.encode(maps[2])
    with pytest.raises(IndexError):
        ds[10]
    ds64 = _torch.RLEMaskDataset(str(path), dtype=torch.int64, transform=lambda t: t + 1)
    assert ds64[1].dtype == torch.int64
    assert np.array_equal(ds64[1].numpy(), maps[1].astype(np.int64) + 1)
    # picklable after use (the open file is not pickled)
    clone = pickle.loads(pickle.dumps(ds))
    assert np.array_equal(clone[4].numpy(), maps[4]) and clone.names == ds.names


def test_dataset_batches_and_raw_items(jsonl):
    path, maps = jsonl
    ds = _torch.RLEMaskDataset(path)
    batch = ds[[3, 1, 4]]
    assert batch.shape == (3, 24, 32) and batch.dtype == torch.uint8
    assert np.array_equal(batch.numpy(), np.stack([maps[3], maps[1], maps[4]]))
    assert np.array_equal(ds[np.arange(2)].numpy(), np.stack(maps[:2]))
    wide = _torch.RLEMaskDataset(path, dtype=torch.int32, transform=lambda t: t * 2)
    assert np.array_equal(wide[[0, 9]].numpy(), np.stack([maps[0], maps[9]]).astype(np.int32) * 2)
    with pytest.raises(IndexError):
        ds[[]]
    raw = _torch.RLEMaskDataset(path, decode=False)
    assert raw[2] == mcr.encode(maps[2]) and raw[[0, 1]] == [mcr.encode(m) for m in maps[:2]]


@pytest.mark.filterwarnings(FORK_WARNING)
def test_dataloader_batched_and_decode_in_main(jsonl):
    path, maps = jsonl
    ds = _torch.RLEMaskDataset(path)
    sampler = torch.utils.data.BatchSampler(torch.utils.data.SequentialSampler(ds), 4, False)
    loader = torch.utils.data.DataLoader(ds, batch_size=None, sampler=sampler, num_workers=2,
                                         multiprocessing_context="fork")
    assert np.array_equal(torch.cat(list(loader)).numpy(), np.stack(maps))
    raw = _torch.RLEMaskDataset(path, decode=False)
    loader = torch.utils.data.DataLoader(raw, batch_size=4, num_workers=2, collate_fn=list,
                                         multiprocessing_context="fork")
    buf = torch.empty((4, 24, 32), dtype=torch.uint8)
    got = [_torch.to_tensor_batch(rles, out=buf[:len(rles)]).clone() for rles in loader]
    assert np.array_equal(torch.cat(got).numpy(), np.stack(maps))


def test_dataset_from_bytes_and_dicts():
    maps = [_map("int32", (8, 9), seed=s) for s in range(4)]
    from multiclass_rle._integrations.payload import to_payload
    ds = _torch.RLEMaskDataset([to_payload(m) for m in maps])
    assert len(ds) == 4 and ds.names is None
    assert np.array_equal(ds[2].numpy(), maps[2])
    ds2 = _torch.RLEMaskDataset([mcr.encode(m) for m in maps])
    assert np.array_equal(pickle.loads(pickle.dumps(ds2))[3].numpy(), maps[3])
    with pytest.raises(mcr.RLETypeError):
        _torch.RLEMaskDataset(to_payload(maps[0]))


def test_dataset_bad_file(tmp_path):
    p = tmp_path / "bad.jsonl"
    p.write_text('{"path": "a"}\n')
    with pytest.raises(mcr.RLEValueError):
        _torch.RLEMaskDataset(p)
    p.write_text("not json\n")
    with pytest.raises(mcr.RLEValueError):
        _torch.RLEMaskDataset(p)


@pytest.mark.filterwarnings("ignore:.*pin_memory.*:UserWarning")
@pytest.mark.filterwarnings(FORK_WARNING)
@pytest.mark.parametrize("context", ["fork", "spawn"])
def test_dataloader_workers_and_pin_memory(jsonl, context):
    path, maps = jsonl
    ds = _torch.RLEMaskDataset(path)
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=2, pin_memory=True,
                                         multiprocessing_context=context)
    batches = list(loader)
    got = torch.cat(batches).numpy()
    assert got.shape == (10, 24, 32) and np.array_equal(got, np.stack(maps))


def test_cli_output_feeds_the_dataset(tmp_path):
    """`mcrle encode` writes the JSON Lines the dataset reads."""
    maps = {f"m{i}.npy": _map("uint16", (12, 10), seed=i) for i in range(3)}
    for name, m in maps.items():
        np.save(tmp_path / name, m)
    out = tmp_path / "masks.jsonl"
    subprocess.run([sys.executable, "-m", "multiclass_rle", "encode", str(tmp_path), "-o",
                    str(out), "-q"], check=True)
    ds = _torch.RLEMaskDataset(out)
    assert sorted(ds.names) == sorted(maps)
    for i, name in enumerate(ds.names):
        assert np.array_equal(ds[i].numpy(), maps[name])


@pytest.mark.skipif(not (DATA / "camvid").is_dir(), reason="real data absent")
def test_camvid_batch_equals_the_stack():
    stack = np.load(DATA / "camvid" / "camvid_valannot_101x360x480_uint8.npz")["labels"][:16]
    rles = [mcr.encode(m) for m in stack]
    assert np.array_equal(_torch.to_tensor_batch(rles).numpy(), stack)
    out = torch.empty((16, 360, 480), dtype=torch.int64)
    _torch._batch_to_device(rles, out, np.dtype(np.int64))
    assert np.array_equal(out.numpy(), stack)


def test_doctests(monkeypatch):
    for name in _torch.__all__:   # the package top exports them lazily
        if not hasattr(mcr, name):
            monkeypatch.setattr(mcr, name, getattr(_torch, name), raising=False)
    result = doctest.testmod(_torch, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
