"""Arrow / Parquet integration (extra ``arrow``): datasets of label maps as tables.

One row per map:

==========  ==================  ==============================================
``name``    string              the map's name (file name, image id)
``rle``     binary              the map in the bytes form (:mod:`.payload`)
``shape``   list<int64>         its shape
``dtype``   string              its numpy dtype name
``labels``  list<int64>         the labels present, increasing
``areas``   list<int64>         pixels (voxels) of each of ``labels``
``meta``    string (nullable)   what the source carried beside the map, as JSON
==========  ==================  ==============================================

``meta`` keeps a map's metadata (NIfTI affine and header, COCO
``segments_info``, image ids: :class:`multiclass_rle.LabelMap`'s ``meta``);
what a source carries for all its maps (``LabelMap.dataset``: categories, a
labels table) is stored once, as JSON in the schema's metadata under
``multiclass_rle_datasets`` (:func:`parquet_datasets`). Files written before
the ``meta`` column existed read as maps without metadata.

Any Arrow engine reads such a file (pyarrow, Polars, DuckDB, Spark, Hugging
Face ``datasets``); decoding a row needs only this package. ``shape`` and
``dtype`` are repeated outside the payload so that queries can filter on them
without it. ``labels``/``areas`` are :func:`multiclass_rle.area` of the map,
computed from its runs when it is written, so dataset statistics (class
pixel frequencies) are a column aggregation in any engine, with no decoding
(:func:`parquet_area`, :func:`table_area`). They are null for a uint64 map
holding a label >= 2**63 (no int64 holds it); the statistics functions then
read that row's payload.

Imported only when used; ``import multiclass_rle`` does not import pyarrow.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import numpy as np

try:
    import pyarrow as pa
    import pyarrow.compute as pc
    import pyarrow.parquet as pq
except ImportError as exc:  # pragma: no cover - exercised only without pyarrow
    raise ImportError("multiclass_rle's Arrow/Parquet integration needs pyarrow: "
                      "pip install 'multiclass-rle[arrow]'") from exc

from .._codec import jsontext
from .._codec.dtypes import dtype_name
from .._codec.errors import RLETypeError, RLEValueError
from .._codec.runs import encode_runs
from .._ops.summary import area
from .payload import from_payload, payload_area, to_payload

__all__ = ["SCHEMA", "maps_table", "write_parquet", "iter_parquet", "read_parquet",
           "table_area", "parquet_area", "parquet_datasets"]

#: Arrow schema of a table of maps.
SCHEMA = pa.schema([
    pa.field("name", pa.string(), nullable=False),
    pa.field("rle", pa.binary(), nullable=False),
    pa.field("shape", pa.list_(pa.int64()), nullable=False),
    pa.field("dtype", pa.string(), nullable=False),
    pa.field("labels", pa.list_(pa.int64())),
    pa.field("areas", pa.list_(pa.int64())),
    pa.field("meta", pa.string()),
], metadata={b"multiclass_rle": b'{"rle": "bytes form (docs/format.md section 4)"}'})

#: Parquet compression per column: the payloads are entropy-coded already.
_COMPRESSION = {"name": "zstd", "rle": "none", "shape": "zstd", "dtype": "zstd",
                "labels": "zstd", "areas": "zstd", "meta": "zstd"}
_INT64_MAX = 2**63 - 1
#: Schema metadata key of the sources' dataset-level metadata (JSON).
DATASETS_KEY = b"multiclass_rle_datasets"


def _named(maps: Any, names: Iterable[str] | None) -> Iterator[tuple[str, Any, Any]]:
    """(name, array, meta) triples from the accepted ``maps`` forms."""
    if isinstance(maps, np.ndarray):
        raise RLETypeError("maps must be an iterable of label maps (or name -> map), not one "
                           "array; for a stack, pass list(stack) or iter(stack)")
    if isinstance(maps, Mapping):
        if names is not None:
            raise RLEValueError("names cannot be given with a mapping of name -> map")
        yield from ((str(k), v, None) for k, v in maps.items())
        return
    if names is None:
        for i, item in enumerate(maps):
            if hasattr(item, "array") and hasattr(item, "name"):  # a LabelMap
                yield str(item.name), item.array, getattr(item, "meta", None)
            elif isinstance(item, tuple) and len(item) in (2, 3) and isinstance(item[0], str):
                yield item[0], item[1], item[2] if len(item) == 3 else None
            else:
                yield str(i), item, None
        return
    names_it, maps_it = iter(names), iter(maps)
    for item in maps_it:
        try:
            name = next(names_it)
        except StopIteration:
            raise RLEValueError("fewer names than maps") from None
        yield str(name), item, None
    if next(names_it, None) is not None:
        raise RLEValueError("more names than maps")


def map_row(name: str, array: Any, meta: Mapping[str, Any] | None = None) -> tuple[Any, ...]:
    """One table row of a map: (name, payload, shape, dtype, labels, areas, meta JSON).

    Small and picklable: ``mcrle encode`` makes rows in worker processes and
    :func:`rows_batch` puts them together.
    """
    arr = np.asarray(array)
    counts = area(encode_runs(arr))
    if counts and max(counts) > _INT64_MAX:
        labels, areas = None, None
    else:
        labels, areas = list(counts), list(counts.values())
    if meta is not None and not isinstance(meta, Mapping):
        raise RLETypeError(f"the metadata of map {name!r} must be a dict, got "
                           f"{type(meta).__name__}")
    try:
        text = json.dumps(dict(meta), separators=(",", ":"), allow_nan=False) if meta else None
    except (TypeError, ValueError) as exc:
        raise RLEValueError(f"the metadata of map {name!r} is not JSON ({exc})") from None
    return (name, to_payload(arr), [int(d) for d in arr.shape], dtype_name(arr.dtype), labels, areas,
            text)


def rows_batch(rows: list[tuple[Any, ...]]) -> pa.RecordBatch:
    """A record batch (:data:`SCHEMA`) of :func:`map_row` rows."""
    columns = list(zip(*rows)) if rows else [()] * len(SCHEMA)
    return pa.RecordBatch.from_arrays(
        [pa.array(list(col), field.type) for col, field in zip(columns, SCHEMA)],
        schema=SCHEMA)


def _batches(maps: Any, names: Iterable[str] | None, size: int) -> Iterator[pa.RecordBatch]:
    rows: list[tuple[Any, ...]] = []
    for name, array, meta in _named(maps, names):
        rows.append(map_row(name, array, meta))
        if len(rows) == size:
            yield rows_batch(rows)
            rows = []
    if rows:
        yield rows_batch(rows)


def schema_with(datasets: Mapping[str, Any] | None) -> pa.Schema:
    """:data:`SCHEMA`, with the sources' dataset metadata in its metadata when given."""
    if not datasets:
        return SCHEMA
    try:
        text = json.dumps(dict(datasets), separators=(",", ":"), allow_nan=False)
    except (TypeError, ValueError) as exc:
        raise RLEValueError(f"datasets is not JSON ({exc})") from None
    return SCHEMA.with_metadata({**(SCHEMA.metadata or {}), DATASETS_KEY: text.encode()})


def maps_table(maps: Any, *, names: Iterable[str] | None = None) -> pa.Table:
    """An Arrow table (:data:`SCHEMA`) of label maps, each encoded in the bytes form.

    Parameters
    ----------
    maps : iterable or mapping
        Label maps (integer or bool arrays, any shapes and dtypes), or
        ``(name, map)`` pairs, or a mapping ``name -> map``.
    names : iterable of str, optional
        One name per map (default: the pairs' names, else ``"0"``, ``"1"``...).
    """
    return pa.Table.from_batches(list(_batches(maps, names, 1024)), schema=SCHEMA)


def write_parquet(where: Any, maps: Any, *, names: Iterable[str] | None = None,
                  datasets: Mapping[str, Any] | None = None, row_group_size: int = 1024,
                  **parquet_options: Any) -> int:
    """Write label maps to a Parquet file, streaming (one row group at a time).

    Parameters
    ----------
    where : str, os.PathLike or file-like
        Destination file.
    maps, names
        As for :func:`maps_table`; a :class:`multiclass_rle.LabelMap` or a
        ``(name, map, meta)`` triple also stores the map's ``meta`` (a JSON
        dict) in the ``meta`` column.
    datasets : dict, optional
        Metadata of the sources (``{source: LabelMap.dataset}``), stored once
        in the schema's metadata; read back with :func:`parquet_datasets`.
    row_group_size : int
        Maps per row group: the unit of parallel reading (Dask, Spark).
    **parquet_options
        Passed to :class:`pyarrow.parquet.ParquetWriter` (``compression``
        defaults to none for the ``rle`` column and zstd for the others).

    Returns
    -------
    int
        Number of maps written.

    Examples
    --------
    >>> import numpy as np, tempfile, os, multiclass_rle as mcr
    >>> d = tempfile.mkdtemp(); path = os.path.join(d, "maps.parquet")
    >>> mcr.write_parquet(path, {"a": np.eye(3, dtype=np.uint8), "b": np.zeros((2, 5), np.int32)})
    2
    >>> [(name, m.shape) for name, m in mcr.iter_parquet(path)]
    [('a', (3, 3)), ('b', (2, 5))]

    Metadata travels with the maps:

    >>> m = mcr.LabelMap("ct.nii.gz", np.ones((2, 2, 2), np.uint8), {"zooms": [1.0, 1.0, 2.5]})
    >>> mcr.write_parquet(path, [m], datasets={"ct": {"classes": {"1": "liver"}}})
    1
    >>> [(name, meta) for name, _, meta in mcr.iter_parquet(path, meta=True)]
    [('ct.nii.gz', {'zooms': [1.0, 1.0, 2.5]})]
    >>> mcr.parquet_datasets(path)
    {'ct': {'classes': {'1': 'liver'}}}
    """
    if row_group_size < 1:
        raise RLEValueError(f"row_group_size must be positive, got {row_group_size}")
    options = {"compression": _COMPRESSION, **parquet_options}
    n = 0
    with pq.ParquetWriter(where, schema_with(datasets), **options) as writer:
        for batch in _batches(maps, names, row_group_size):
            writer.write_batch(batch, row_group_size=row_group_size)
            n += batch.num_rows
    return n


def read_parquet(source: Any, **options: Any) -> pa.Table:
    """The table of maps in a Parquet file or folder (``pyarrow.parquet.read_table``)."""
    return pq.read_table(source, **options)


def _source_batches(source: Any, columns: list[str], batch_size: int) -> Iterator[Any]:
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        yield from (source.to_batches(batch_size) if isinstance(source, pa.Table) else [source])
    elif isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        import pyarrow.dataset as ds
        yield from ds.dataset(source, format="parquet").to_batches(
            columns=columns, batch_size=batch_size)
    else:
        yield from pq.ParquetFile(source).iter_batches(batch_size=batch_size, columns=columns)


def iter_parquet(source: Any, *, dtype: Any = None, batch_size: int = 256,
                 meta: bool = False) -> Iterator[tuple[Any, ...]]:
    """Yield ``(name, label map)`` for each row, decoding one map at a time.

    ``source``: a Parquet file (path or file-like), a folder of Parquet files,
    or an Arrow table / record batch with ``name`` and ``rle`` columns.
    ``meta=True`` yields ``(name, label map, meta)``, ``meta`` the row's
    metadata dict (``{}`` when it has none, or the file has no ``meta``
    column).
    """
    columns = ["name", "rle"]
    if meta and _has_meta(source):
        columns.append("meta")
    for batch in _source_batches(source, columns, batch_size):
        names = batch.column("name").to_pylist()
        metas = batch.column("meta").to_pylist() if "meta" in columns else [None] * len(names)
        for name, buf, text in zip(names, batch.column("rle"), metas):
            arr = from_payload(buf.as_buffer(), dtype=dtype)
            if meta:
                yield name, arr, _meta_dict(text, name)
            else:
                yield name, arr


def _has_meta(source: Any) -> bool:
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        return "meta" in source.schema.names
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        import pyarrow.dataset as ds
        return "meta" in ds.dataset(source, format="parquet").schema.names
    names = pq.read_schema(source).names
    if hasattr(source, "seek"):
        source.seek(0)
    return "meta" in names


def _meta_dict(text: str | None, name: str) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = jsontext.loads(text)
    except ValueError as exc:
        raise RLEValueError(f"row {name!r}: its meta is not JSON ({exc})") from None
    if not isinstance(value, dict):
        raise RLEValueError(f"row {name!r}: its meta is not a JSON object")
    return value


def parquet_datasets(source: Any) -> dict[str, Any]:
    """The sources' dataset metadata stored by :func:`write_parquet` (``{}`` if none)."""
    if isinstance(source, (pa.Table, pa.RecordBatch)):
        metadata = source.schema.metadata or {}
    else:
        metadata = pq.read_schema(source).metadata or {}
    text = metadata.get(DATASETS_KEY)
    if not text:
        return {}
    try:
        value = jsontext.loads(text)
    except ValueError as exc:
        raise RLEValueError(f"corrupt dataset metadata in the Parquet schema ({exc})") from None
    return value if isinstance(value, dict) else {}


def _add(total: dict[int, int], counts: Any) -> None:
    for label, count in counts:
        total[label] = total.get(label, 0) + count


def _add_batch(total: dict[int, int], batch: Any, rle: Any = None) -> None:
    """Add the areas of a table/batch; ``rle()`` gives its ``rle`` column when needed."""
    names = batch.schema.names
    if "labels" in names and "areas" in names:
        labels, areas = batch.column("labels"), batch.column("areas")
        if isinstance(labels, pa.ChunkedArray):
            labels, areas = labels.combine_chunks(), areas.combine_chunks()
        valid = pc.and_(labels.is_valid(), areas.is_valid())
        flat_l = pc.list_flatten(labels.filter(valid)).to_numpy(zero_copy_only=False)
        flat_a = pc.list_flatten(areas.filter(valid)).to_numpy(zero_copy_only=False)
        if flat_l.shape != flat_a.shape:
            raise RLEValueError("the labels and areas columns do not match")
        if flat_l.size:
            uniq, inverse = np.unique(flat_l, return_inverse=True)
            sums = np.zeros(uniq.shape[0], dtype=np.int64)
            np.add.at(sums, inverse, flat_a)
            _add(total, zip(uniq.tolist(), sums.tolist()))
        missing = np.flatnonzero(~valid.to_numpy(zero_copy_only=False))
        if not missing.size:
            return
    else:
        missing = None
    column = batch.column("rle") if "rle" in names or rle is None else rle()
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks()
    if missing is not None:
        column = column.take(pa.array(missing))
    for buf in column:
        if buf.is_valid:
            _add(total, payload_area(buf.as_buffer()).items())


def table_area(table: Any) -> dict[int, int]:
    """``{label: pixel count}`` summed over every map of an Arrow table or batch.

    Uses the ``labels``/``areas`` columns (no decoding); rows without them are
    counted from their payload with :func:`multiclass_rle.area`.
    """
    total: dict[int, int] = {}
    _add_batch(total, table)
    return dict(sorted(total.items()))


def parquet_area(source: Any, *, row_groups: Iterable[int] | None = None) -> dict[int, int]:
    """``{label: pixel count}`` over a Parquet file or folder (or some row groups).

    Reads the ``labels`` and ``areas`` columns only; a row's payload is read
    only where they are null (or absent, for files written by other tools).
    For statistics in parallel, call it per row group (or per file) in Dask
    tasks or Spark partitions and add the dicts (docs/integrations.md).
    """
    if isinstance(source, (str, os.PathLike)) and os.path.isdir(source):
        if row_groups is not None:
            raise RLEValueError("row_groups needs a single Parquet file, not a folder")
        import pyarrow.dataset as ds
        total: dict[int, int] = {}
        for path in sorted(ds.dataset(source, format="parquet").files):
            _add(total, parquet_area(path).items())
        return dict(sorted(total.items()))
    pf = pq.ParquetFile(source)
    names = pf.schema_arrow.names
    stats = [c for c in ("labels", "areas") if c in names]
    groups = range(pf.num_row_groups) if row_groups is None else row_groups
    total = {}
    for g in groups:
        batch = pf.read_row_group(g, columns=stats if len(stats) == 2 else ["rle"])
        _add_batch(total, batch, rle=lambda g=g: pf.read_row_group(g, columns=["rle"])
                   .column("rle"))
    return dict(sorted(total.items()))
