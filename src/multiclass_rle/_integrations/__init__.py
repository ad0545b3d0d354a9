"""Integrations: the library where its users' tools are.

* :mod:`.torch`: tensors, batches and a ``Dataset`` (extra ``torch``);
* :mod:`.zarr`: the zarr v3 and numcodecs codecs (extra ``zarr``), found by
  zarr through the entry points ``zarr.codecs`` / ``numcodecs.codecs``;
* :mod:`.arrow`: Parquet tables of maps (extra ``arrow``);
* :mod:`.png`: the label-PNG reader (numpy and zlib only);
* :mod:`.payload`: one map as one ``bytes`` payload, shared by the above.

Each module is imported only when used, and imports its extra itself, so
that ``import multiclass_rle`` needs numpy alone. This layer sits on the
operations and the codec, and nothing here imports the command line.
"""
