"""Arrow / Parquet datasets of label maps, and statistics without decoding (extra ``arrow``)."""

from __future__ import annotations

import doctest
import io
from pathlib import Path

import numpy as np
import pytest

pa = pytest.importorskip("pyarrow")
pq = pytest.importorskip("pyarrow.parquet")

import multiclass_rle as mcr  # noqa: E402
from multiclass_rle._integrations import arrow as _arrow  # noqa: E402

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def _maps():
    rng = np.random.default_rng(3)
    maps = {
        "u8": rng.integers(0, 4, (20, 30)).astype(np.uint8),
        "i16": (rng.integers(0, 3, (5, 6, 7)) - 1).astype(np.int16),
        "bool": rng.integers(0, 2, (9,)).astype(bool),
        "u32": np.full((3, 4), 70000, np.uint32),
        "empty": np.zeros((0, 5), np.uint8),
        "u64big": np.array([[2**64 - 1, 0], [1, 2**63]], np.uint64),
        "i64": np.array([[-(2**63), 2**63 - 1]], np.int64),
    }
    return maps


def _expected_area(maps):
    total = {}
    for m in maps:
        for label, n in mcr.area(mcr.encode(m)).items():
            total[label] = total.get(label, 0) + n
    return dict(sorted(total.items()))


def test_write_read_roundtrip(tmp_path):
    maps = _maps()
    path = tmp_path / "maps.parquet"
    assert _arrow.write_parquet(path, maps, row_group_size=3) == len(maps)
    assert pq.ParquetFile(path).num_row_groups == 3
    got = list(_arrow.iter_parquet(path))
    assert [n for n, _ in got] == list(maps)
    for name, arr in got:
        assert arr.dtype == maps[name].dtype and np.array_equal(arr, maps[name])
    table = _arrow.read_parquet(path)
    assert table.column_names == ["name", "rle", "shape", "dtype", "labels", "areas", "meta"]
    assert table.column("meta").null_count == len(maps)  # no metadata given: nulls
    assert table.column("shape").to_pylist()[1] == [5, 6, 7]
    assert table.column("dtype").to_pylist()[1] == "int16"
    # labels/areas are area() of each map; null where a label exceeds int64
    row = table.slice(0, 1).to_pylist()[0]
    assert dict(zip(row["labels"], row["areas"])) == mcr.area(mcr.encode(maps["u8"]))
    assert table.column("labels")[5].as_py() is None
    # the rle column needs no Parquet compression: it is entropy-coded already
    meta = pq.ParquetFile(path).metadata.row_group(0)
    assert meta.column(1).compression == "UNCOMPRESSED"


def test_input_forms(tmp_path):
    a, b = np.eye(3, dtype=np.uint8), np.zeros((2, 2), np.int32)
    t1 = _arrow.maps_table([a, b])
    assert t1.column("name").to_pylist() == ["0", "1"]
    t2 = _arrow.maps_table([a, b], names=["x", "y"])
    assert t2.column("name").to_pylist() == ["x", "y"]
    t3 = _arrow.maps_table([("p", a), ("q", b)])
    assert t3.column("name").to_pylist() == ["p", "q"]
    assert [n for n, _ in _arrow.iter_parquet(t3)] == ["p", "q"]
    with pytest.raises(mcr.RLEValueError):
        _arrow.maps_table([a, b], names=["x"])
    with pytest.raises(mcr.RLEValueError):
        _arrow.maps_table([a], names=["x", "y"])
    with pytest.raises(mcr.RLETypeError):
        _arrow.maps_table(np.zeros((3, 4, 4), np.uint8))
    with pytest.raises(mcr.RLETypeError):
        _arrow.maps_table([np.zeros((2, 2), np.float32)])
    # file-like destination and source
    buf = io.BytesIO()
    _arrow.write_parquet(buf, {"a": a})
    buf.seek(0)
    (name, back), = list(_arrow.iter_parquet(buf))
    assert name == "a" and np.array_equal(back, a)
    # decoding to another dtype
    (_, wide), = list(_arrow.iter_parquet(t3.slice(0, 1), dtype=np.int64))
    assert wide.dtype == np.int64


def test_statistics_without_decoding(tmp_path, monkeypatch):
    maps = _maps()
    path = tmp_path / "maps.parquet"
    _arrow.write_parquet(path, maps, row_group_size=2)
    expected = _expected_area(maps.values())
    # only the u64big row (null labels) may read its payload
    seen = []
    real = _arrow.payload_area
    monkeypatch.setattr(_arrow, "payload_area", lambda buf: seen.append(1) or real(buf))
    assert _arrow.parquet_area(path) == expected
    assert len(seen) == 1
    seen.clear()
    assert _arrow.table_area(_arrow.read_parquet(path)) == expected
    assert len(seen) == 1
    # per row group, as parallel tasks do, adds up to the whole
    total = {}
    for g in range(pq.ParquetFile(path).num_row_groups):
        for label, n in _arrow.parquet_area(path, row_groups=[g]).items():
            total[label] = total.get(label, 0) + n
    assert dict(sorted(total.items())) == expected
    # a folder of files (a partitioned dataset)
    folder = tmp_path / "ds"
    folder.mkdir()
    items = list(maps.items())
    _arrow.write_parquet(folder / "part-0.parquet", dict(items[:3]))
    _arrow.write_parquet(folder / "part-1.parquet", dict(items[3:]))
    assert _arrow.parquet_area(folder) == expected
    assert sorted(n for n, _ in _arrow.iter_parquet(folder)) == sorted(maps)


def test_metadata_round_trips_with_the_maps(tmp_path):
    maps = _maps()
    metas = {"u8": {"affine": [[1.0, 0.0], [0.0, 2.5]], "segments_info": [{"id": 3}]},
             "i16": {"name": "caf\u00e9 \u2603", "nested": {"a": [None, True, 1]}}}
    items = [mcr.LabelMap(name, arr, metas.get(name, {})) for name, arr in maps.items()]
    datasets = {"coco": {"categories": [{"id": 1, "name": "person", "isthing": 1}]}}
    path = tmp_path / "meta.parquet"
    assert _arrow.write_parquet(path, items, datasets=datasets, row_group_size=2) == len(maps)
    got = list(_arrow.iter_parquet(path, meta=True))
    assert [g[0] for g in got] == list(maps)
    for name, arr, meta in got:
        assert np.array_equal(arr, maps[name]) and arr.dtype == maps[name].dtype
        assert meta == metas.get(name, {})
    assert _arrow.parquet_datasets(path) == datasets
    # triples are accepted too, and the default iteration still yields pairs
    _arrow.write_parquet(path, [("x", maps["u8"], {"k": 1})])
    assert [(n, m) for n, _, m in _arrow.iter_parquet(path, meta=True)] == [("x", {"k": 1})]
    assert [len(t) for t in _arrow.iter_parquet(path)] == [2]
    assert _arrow.parquet_datasets(path) == {}
    # a folder and an in-memory table give the same metadata
    assert [m for *_, m in _arrow.iter_parquet(tmp_path, meta=True)] == [{"k": 1}]
    table = _arrow.read_parquet(path)
    assert [m for *_, m in _arrow.iter_parquet(table, meta=True)] == [{"k": 1}]


def test_files_without_a_meta_column_read_with_empty_metadata(tmp_path):
    maps = _maps()
    path = tmp_path / "old.parquet"
    pq.write_table(_arrow.maps_table(maps).drop(["meta"]), path)
    got = list(_arrow.iter_parquet(path, meta=True))
    assert [(n, m) for n, _, m in got] == [(n, {}) for n in maps]


@pytest.mark.parametrize("meta, words", [({"x": float("nan")}, "not JSON"),
                                         ({"x": object()}, "not JSON"),
                                         ([1, 2], "must be a dict")])
def test_metadata_that_is_not_a_json_object_is_refused_naming_the_map(tmp_path, meta, words):
    with pytest.raises((ValueError, TypeError)) as info:
        _arrow.write_parquet(tmp_path / "bad.parquet", [("m7", np.zeros((2, 2), np.uint8), meta)])
    assert "'m7'" in str(info.value) and words in str(info.value)


def test_statistics_of_files_without_the_stats_columns(tmp_path):
    maps = _maps()
    table = _arrow.maps_table(maps).select(["name", "rle", "shape", "dtype"])
    path = tmp_path / "plain.parquet"
    pq.write_table(table, path)
    expected = _expected_area(maps.values())
    assert _arrow.parquet_area(path) == expected
    assert _arrow.table_area(table) == expected


def test_dask_stats_recipe_over_row_groups(tmp_path):
    dask = pytest.importorskip("dask")
    maps = _maps()
    path = str(tmp_path / "maps.parquet")
    _arrow.write_parquet(path, maps, row_group_size=2)

    def add(dicts):
        total = {}
        for d in dicts:
            for label, n in d.items():
                total[label] = total.get(label, 0) + n
        return dict(sorted(total.items()))

    parts = [dask.delayed(_arrow.parquet_area)(path, row_groups=[g])
             for g in range(pq.ParquetFile(path).num_row_groups)]
    result = dask.delayed(add)(parts).compute(scheduler="threads")
    assert result == _expected_area(maps.values())


def test_camvid_dataset(tmp_path):
    f = DATA / "camvid" / "camvid_valannot_101x360x480_uint8.npz"
    if not f.is_file():
        pytest.skip("real data absent")
    z = np.load(f)
    stack, names = z["labels"], [str(n) for n in z["names"]]
    path = tmp_path / "camvid.parquet"
    _arrow.write_parquet(path, iter(stack), names=names, row_group_size=32)
    assert path.stat().st_size < stack.nbytes / 20
    for (name, m), want_name, want in zip(_arrow.iter_parquet(path), names, stack):
        assert name == want_name and np.array_equal(m, want)
    counts = np.bincount(stack.ravel(), minlength=12)
    assert _arrow.parquet_area(path) == {i: int(c) for i, c in enumerate(counts) if c}


def test_doctests(monkeypatch):
    for name in ("write_parquet", "iter_parquet"):   # exported lazily by the package top
        if not hasattr(mcr, name):
            monkeypatch.setattr(mcr, name, getattr(_arrow, name), raising=False)
    result = doctest.testmod(_arrow, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted and not result.failed
