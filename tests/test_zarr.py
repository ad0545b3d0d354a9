"""zarr v3 / numcodecs codecs, and Dask reading them on a LocalCluster (extra ``zarr``).

The codecs are found through their entry points: the subprocess tests read
a store in an interpreter that never imports multiclass_rle itself, and the
Dask workers are separate processes.
"""

from __future__ import annotations

import doctest
import subprocess
import sys
from importlib.metadata import entry_points
from pathlib import Path

import numpy as np
import pytest

zarr = pytest.importorskip("zarr", minversion="3")
numcodecs = pytest.importorskip("numcodecs")

import multiclass_rle as mcr  # noqa: E402
from multiclass_rle._integrations import zarr as _zarr  # noqa: E402
from multiclass_rle._integrations.payload import BYTES_FORM, from_payload  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ATLASES = {   # 3D label volumes: file -> memory order
    "digimouse/digimouse_190x496x104_uint8.npz": "C",
    "niivue_volumes_dev/aal_181x217x181_uint8_F.npz": "F",
    "niivue_volumes_dev/lesion_124x160x140_uint8_F.npz": "F",
    "niivue_volumes_dev/aparc.a2009s+aseg_256cube_uint16_F.npz": "F",
}
DTYPES = ("bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64")
SERIALIZER = {"name": "multiclass_rle"}


def _labels(dtype, shape, seed=0):
    rng = np.random.default_rng(seed)
    dt = np.dtype(dtype)
    if dt.kind == "b":
        return rng.integers(0, 2, shape).astype(bool)
    info = np.iinfo(dt)
    pool = np.array([info.min, info.max, 0, 5], dtype=dt)
    a = np.repeat(pool[rng.integers(0, 4, (shape[0],) + shape[1:-1] + (1,))], shape[-1], -1)
    a[rng.random(shape) < 0.05] = pool[0]
    return a


def _atlas(name):
    path = DATA / name
    if not path.is_file():
        pytest.skip(f"real data {path} is absent")
    a = np.load(path)["labels"]
    assert a.ndim == 3
    return a


# ---------------------------------------------------------------------------
# registration


def test_entry_points_registered():
    zc = {e.name: e.value for e in entry_points(group="zarr.codecs")}
    nc = {e.name: e.value for e in entry_points(group="numcodecs.codecs")}
    assert zc.get("multiclass_rle") == "multiclass_rle._integrations.zarr:MulticlassRLECodec"
    assert nc.get("multiclass_rle") == "multiclass_rle._integrations.zarr:MulticlassRLE"
    from zarr.registry import get_codec_class
    assert get_codec_class("multiclass_rle") is _zarr.MulticlassRLECodec
    assert type(numcodecs.get_codec({"id": "multiclass_rle"})) is _zarr.MulticlassRLE


# ---------------------------------------------------------------------------
# zarr v3


@pytest.mark.parametrize("dtype", DTYPES)
def test_v3_roundtrip_every_dtype(dtype):
    a = _labels(dtype, (37, 29, 11))
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=a.shape, chunks=(16, 16, 8),
                          dtype=dtype, serializer=SERIALIZER, compressors=None)
    z[:] = a
    assert np.array_equal(z[:], a)
    assert np.array_equal(z[3:30, 5, 2:9], a[3:30, 5, 2:9])
    # partial update: read-modify-write of the chunks it touches
    b = a.copy()
    b[10:20, 3:25, 4] = b.flat[0]
    z[10:20, 3:25, 4] = b.flat[0]
    assert np.array_equal(z[:], b)


def test_v3_large_chunks_in_threads(monkeypatch):
    """Chunks of 1 MiB and more are coded in zarr's thread pool, smaller ones inline."""
    a = _labels("uint16", (150, 130, 40))
    for limit in (1 << 20, 1):   # the default, then every chunk through a thread
        monkeypatch.setattr(_zarr, "_INLINE_BYTES", limit)
        z = zarr.create_array(zarr.storage.MemoryStore(), shape=a.shape,
                              chunks=(128, 128, 40), dtype="uint16", serializer=SERIALIZER,
                              compressors=None)
        z[:] = a
        assert np.array_equal(z[:], a)


def test_v3_metadata_and_chunks_are_the_bytes_form(tmp_path):
    a = _labels("uint16", (40, 50))
    z = zarr.create_array(tmp_path / "a.zarr", shape=a.shape, chunks=(32, 32), dtype="uint16",
                          serializer=SERIALIZER, compressors=None)
    z[:] = a
    meta = (tmp_path / "a.zarr" / "zarr.json").read_text()
    assert '"name": "multiclass_rle"' in meta
    chunk = (tmp_path / "a.zarr" / "c" / "1" / "0").read_bytes()
    assert chunk[:4] == (b"MCRL" if BYTES_FORM else b"MCRJ")
    # edge chunks are stored at full chunk shape, as zarr requires
    assert np.array_equal(from_payload(chunk)[:8, :], a[32:40, :32])


def test_v3_with_default_compressor_and_fortran_order():
    a = np.asfortranarray(_labels("int32", (30, 20, 10)))
    z = zarr.create_array(zarr.storage.MemoryStore(), shape=a.shape, chunks=(16, 8, 10),
                          dtype="int32", serializer=SERIALIZER, config={"order": "F"})
    z[:] = a
    assert np.array_equal(z[:], a)


def test_v3_refuses_float_arrays():
    with pytest.raises(mcr.RLETypeError):
        zarr.create_array(zarr.storage.MemoryStore(), shape=(4, 4), chunks=(2, 2),
                          dtype="float32", serializer=SERIALIZER)


def test_v3_codec_dict_form():
    codec = _zarr.MulticlassRLECodec.from_dict({"name": "multiclass_rle"})
    assert codec.to_dict() == {"name": "multiclass_rle"}
    assert _zarr.MulticlassRLECodec.from_dict({"name": "multiclass_rle",
                                               "configuration": {}}) == codec
    with pytest.raises(mcr.RLEValueError):
        _zarr.MulticlassRLECodec.from_dict({"name": "multiclass_rle",
                                            "configuration": {"level": 3}})


def test_another_process_reads_by_entry_point(tmp_path):
    a = _labels("uint8", (50, 60, 7))
    z = zarr.create_array(tmp_path / "v.zarr", shape=a.shape, chunks=(16, 16, 7),
                          dtype="uint8", serializer=SERIALIZER, compressors=None)
    z[:] = a
    np.save(tmp_path / "expected.npy", a)
    code = ("import sys, numpy as np, zarr\n"
            f"z = zarr.open_array({str(tmp_path / 'v.zarr')!r}, mode='r')\n"
            f"ok = np.array_equal(z[:], np.load({str(tmp_path / 'expected.npy')!r}))\n"
            "print(ok, 'multiclass_rle._integrations.zarr' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout.split()
    assert out == ["True", "True"]


# ---------------------------------------------------------------------------
# numcodecs / zarr v2


@pytest.mark.parametrize("dtype", ["bool", "uint8", "int16", "uint64"])
def test_numcodecs_roundtrip(dtype):
    codec = numcodecs.get_codec({"id": "multiclass_rle"})
    assert codec.get_config() == {"id": "multiclass_rle"}
    a = _labels(dtype, (9, 14, 5))
    enc = codec.encode(a)
    assert np.array_equal(codec.decode(enc), a)
    out = np.empty_like(a)
    assert codec.decode(enc, out=out) is out and np.array_equal(out, a)
    flat = np.empty(a.size, dtype=a.dtype)   # zarr v2 passes flat buffers too
    codec.decode(np.frombuffer(enc, np.uint8), out=flat)
    assert np.array_equal(flat, a.ravel())
    # a Fortran-ordered array round-trips its memory image
    f = np.asfortranarray(a)
    back = codec.decode(codec.encode(f))
    assert np.array_equal(back.ravel(), f.ravel(order="K"))
    with pytest.raises(mcr.RLEValueError):
        codec.decode(enc, out=np.empty(a.size - 1, a.dtype))
    with pytest.raises(mcr.RLETypeError):
        codec.encode(np.zeros(4, np.float64))


@pytest.mark.parametrize("order", ["C", "F"])
def test_zarr_v2_compressor(tmp_path, order):
    a = _labels("uint16", (33, 21, 9))
    codec = numcodecs.get_codec({"id": "multiclass_rle"})
    z = zarr.create_array(tmp_path / "v2.zarr", shape=a.shape, chunks=(16, 16, 9),
                          dtype="uint16", zarr_format=2, compressors=codec, order=order)
    z[:] = a
    back = zarr.open_array(tmp_path / "v2.zarr", mode="r")
    assert '"id": "multiclass_rle"' in (tmp_path / "v2.zarr" / ".zarray").read_text()
    assert np.array_equal(back[:], a)


# ---------------------------------------------------------------------------
# real 3D atlases: zarr, then Dask on a LocalCluster with worker processes


@pytest.mark.parametrize("name", list(ATLASES))
def test_atlas_roundtrip_through_zarr(tmp_path, name):
    a = _atlas(name)
    if ATLASES[name] == "F":
        assert a.flags.f_contiguous
    z = zarr.create_array(tmp_path / "atlas.zarr", shape=a.shape, chunks=(64, 64, 64),
                          dtype=a.dtype, serializer=SERIALIZER, compressors=None)
    z[:] = a
    back = zarr.open_array(tmp_path / "atlas.zarr", mode="r")
    assert back.dtype == a.dtype and np.array_equal(back[:], a)
    stored = sum(p.stat().st_size for p in (tmp_path / "atlas.zarr").rglob("*") if p.is_file())
    assert stored < a.nbytes / 4   # label volumes compress


@pytest.fixture(scope="module")
def cluster_client():
    pytest.importorskip("dask.array")
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, memory_limit=None)
    client = distributed.Client(cluster)
    try:
        yield client
    finally:
        client.close()
        cluster.close()


def test_dask_distributed_reads_and_writes_atlases(tmp_path, cluster_client):
    import dask.array as da
    pids = set(cluster_client.run(lambda: __import__("os").getpid()).values())
    assert len(pids) == 2 and not pids & {__import__("os").getpid()}   # worker processes
    found = 0
    for i, name in enumerate(ATLASES):
        if not (DATA / name).is_file():
            continue
        found += 1
        a = np.load(DATA / name)["labels"]
        src, dst = str(tmp_path / f"atlas{i}.zarr"), str(tmp_path / f"copy{i}.zarr")
        z = zarr.create_array(src, shape=a.shape, chunks=(64, 64, 64), dtype=a.dtype,
                              serializer=SERIALIZER, compressors=None)
        z[:] = a
        # read on the workers (each task decodes its chunk)...
        d = da.from_zarr(src)
        assert d.dtype == a.dtype and d.chunksize == (64, 64, 64)
        assert np.array_equal(d.compute(), a)
        assert int(d.max().compute()) == int(a.max())
        # ...and write from the workers (each task encodes its chunk; dask chunks are
        # zarr chunks, so no two tasks write one chunk and no lock is needed)
        out = zarr.create_array(dst, shape=a.shape, chunks=(64, 64, 64), dtype=a.dtype,
                                serializer=SERIALIZER, compressors=None)
        da.store(d + 0, out, lock=False, compute=True)
        assert np.array_equal(zarr.open_array(dst, mode="r")[:], a)
    if not found:
        pytest.skip("real data folder is absent")


def test_doctests():
    result = doctest.testmod(_zarr, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
