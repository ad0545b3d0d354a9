"""Public surface: exports, version, exceptions, Runs, as_runs, doctests, the demo command."""

from __future__ import annotations

import doctest
import importlib
import importlib.metadata
import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr

EXPECTED_ALL = {
    "array_to_multi_class_rle", "multi_class_rle_to_array", "encode", "decode", "decode_batch",
    "encode_runs",
    "as_runs", "Runs", "get_max_elements", "set_max_elements", "RLEError", "RLEValueError",
    "RLETypeError", "MalformedRLEError", "LimitExceededError", "__version__",
    "labels", "area", "bbox", "confusion_matrix", "iou", "miou", "remap", "decode_window",
    "binary_mask", "to_coco", "from_coco", "coco_annotations_to_label_maps",
    "encode_bytes", "decode_bytes", "bytes_info", "split_bytes", "iter_bytes", "BytesInfo",
    "SemanticEvaluator", "SemanticResult", "PanopticEvaluator", "PanopticResult",
    "VolumeEvaluator", "VolumeResult", "volume_metrics",
}


def test_all_exports():
    assert set(mcr.__all__) == EXPECTED_ALL
    assert len(mcr.__all__) == len(set(mcr.__all__))
    namespace: dict = {}
    exec("from multiclass_rle import *", namespace)  # noqa: S102
    for name in mcr.__all__:
        assert getattr(mcr, name) is not None
        assert name in namespace or name == "__version__"
    for name in EXPECTED_ALL - {"__version__"}:
        assert callable(getattr(mcr, name))


def test_version_matches_metadata():
    assert mcr.__version__ == importlib.metadata.version("multiclass-rle")
    parts = mcr.__version__.split(".")
    assert len(parts) >= 2 and all(p.isdigit() for p in parts[:2])


def test_version_has_one_source():
    """meson.build's project() version is the package's, the command's and the changelog's."""
    out = subprocess.run([sys.executable, "-m", "multiclass_rle", "--version"], check=True,
                         capture_output=True, text=True).stdout
    assert out.split()[-1] == mcr.__version__
    root = Path(__file__).resolve().parents[1]
    if not (root / "meson.build").is_file():
        pytest.skip("not run from a source checkout")
    meson = re.search(r"^project\((.*?)^\)", (root / "meson.build").read_text(), re.S | re.M)
    assert meson and re.search(r"version: '([^']+)'", meson.group(1)).group(1) == mcr.__version__
    assert 'dynamic = ["version"]' in (root / "pyproject.toml").read_text()
    assert not re.search(r"^version\s*=", (root / "pyproject.toml").read_text(), re.M)
    # the newest release in CHANGELOG.md is this version, with the formats it reads and writes
    changelog = (root / "CHANGELOG.md").read_text()
    releases = re.findall(r"^## (\d+\.\d+\.\d+)", changelog, re.M)
    assert releases and releases[0] == mcr.__version__
    newest = changelog.split(f"## {releases[0]}", 1)[1].split("\n## ", 1)[0]
    assert "| form | reads | writes |" in newest and "bytes form" in newest


def test_exception_hierarchy():
    assert issubclass(mcr.RLEError, Exception)
    assert issubclass(mcr.RLEValueError, mcr.RLEError) and issubclass(mcr.RLEValueError, ValueError)
    assert issubclass(mcr.RLETypeError, mcr.RLEError) and issubclass(mcr.RLETypeError, TypeError)
    assert issubclass(mcr.MalformedRLEError, mcr.RLEValueError)
    assert issubclass(mcr.LimitExceededError, mcr.RLEValueError)
    assert not issubclass(mcr.RLETypeError, ValueError)
    assert not issubclass(mcr.RLEValueError, TypeError)
    assert not issubclass(mcr.LimitExceededError, mcr.MalformedRLEError)
    # callers that know nothing of this library can catch ValueError / TypeError
    with pytest.raises(ValueError):
        mcr.decode({"size": [2], "values": [0], "counts": [3]})
    with pytest.raises(TypeError):
        mcr.encode(np.zeros(2, np.float64))


def _runs(a, dtype=np.uint8):
    return mcr.encode_runs(np.array(a, dtype=dtype))


def test_runs_equality():
    a = [[0, 0, 1], [2, 2, 1]]
    r = _runs(a)
    assert r == _runs(a)
    assert not (r != _runs(a))
    assert r != _runs(a, np.uint16)                 # dtype differs
    assert r != _runs([[0, 0, 1], [2, 2, 2]])        # values/counts differ
    assert r != mcr.encode_runs(np.array(a, np.uint8).reshape(3, 2))  # shape differs
    assert r != mcr.encode_runs(np.array([0, 2, 0, 2, 1, 1], np.uint8))  # same runs, other shape
    assert (r == "runs") is False
    assert r.__eq__(object()) is NotImplemented
    with pytest.raises(TypeError):
        hash(r)


def test_runs_len_size_dtype_repr():
    r = _runs([[0, 0, 1], [2, 2, 1]], np.int16)
    # Fortran order: 0,2 | 0,2 | 1,1 -> runs 0,2,0,2,1
    assert r.values.tolist() == [0, 2, 0, 2, 1]
    assert r.counts.tolist() == [1, 1, 1, 1, 2]
    assert len(r) == 5
    assert r.size == 6
    assert r.shape == (2, 3)
    assert r.dtype == np.int16
    assert repr(r) == "Runs(shape=(2, 3), dtype=int16, n_runs=5)"
    empty = mcr.encode_runs(np.zeros((0, 4), np.uint8))
    assert len(empty) == 0 and empty.size == 0
    assert repr(empty) == "Runs(shape=(0, 4), dtype=uint8, n_runs=0)"


def test_runs_is_frozen():
    r = _runs([1, 1, 2])
    with pytest.raises(AttributeError):
        r.shape = (3, 1)  # type: ignore[misc]


def test_runs_methods():
    a = np.array([[0, 0, 1], [2, 2, 1]], np.uint8)
    r = mcr.encode_runs(a)
    assert r.to_dict() == mcr.encode(a)
    assert np.array_equal(r.to_array(), a) and r.to_array().flags.c_contiguous
    assert r.to_array(order="F").flags.f_contiguous
    assert r.to_array(dtype=np.int64).dtype == np.int64
    out = np.zeros((2, 3), np.uint8)
    assert r.to_array(out=out) is out and np.array_equal(out, a)


_A = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]], np.uint8)


@pytest.mark.parametrize("form", ["runs", "compact", "compact_json", "legacy", "legacy_json",
                                  "numpy_arrays", "compact_bytes"])
def test_as_runs_each_form(form):
    expected = mcr.encode_runs(_A)
    if form == "runs":
        rle = expected
    elif form == "compact":
        rle = mcr.encode(_A)
    elif form == "compact_json":
        rle = json.loads(json.dumps(mcr.encode(_A)))
    elif form == "compact_bytes":
        rle = {k: v.encode() if isinstance(v, str) and k != "dtype" else v
               for k, v in mcr.encode(_A).items()}
    elif form == "legacy":
        rle = mcr.array_to_multi_class_rle(_A)
    elif form == "legacy_json":
        rle = json.loads(json.dumps(mcr.array_to_multi_class_rle(_A)))
    else:
        rle = {"size": np.array(_A.shape), "values": expected.values.copy(),
               "counts": expected.counts.copy()}
    runs = mcr.as_runs(rle)
    assert isinstance(runs, mcr.Runs)
    assert runs == expected
    if form == "runs":
        assert runs is expected
    assert np.array_equal(mcr.decode(runs), _A)
    assert mcr.as_runs(rle, dtype=np.int32).dtype == np.int32
    assert np.array_equal(mcr.as_runs(rle, dtype=np.int32).values, expected.values)


def test_as_runs_coco_form():
    runs = mcr.as_runs({"size": [2, 3], "counts": [0, 2, 3, 1]})
    assert runs.shape == (2, 3)
    assert runs.dtype == np.uint8
    assert runs.values.tolist() == [1, 0, 1]      # the zero-length run is dropped
    assert runs.counts.tolist() == [2, 3, 1]
    runs = mcr.as_runs({"size": [4, 5], "counts": "132O1O04"})
    assert runs.values.tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    assert runs.counts.tolist() == [1, 3, 2, 2, 3, 1, 3, 5]


def test_as_runs_validates_counts_only_when_decoding():
    runs = mcr.as_runs({"size": [4], "values": [1], "counts": [3]})
    assert len(runs) == 1
    with pytest.raises(mcr.MalformedRLEError, match=r"\b3\b.*\b4\b"):
        mcr.decode(runs)


@pytest.mark.parametrize("module", ["multiclass_rle._codec.api", "multiclass_rle.multiclass_rle",
                                    "multiclass_rle._codec.limits", "multiclass_rle"])
def test_doctests(module):
    mod = importlib.import_module(module)
    finder = doctest.DocTestFinder()
    assert finder.find(mod), f"{module} has no doctests"
    result = doctest.testmod(mod, verbose=False, report=True,
                             optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0, f"{result.failed} doctest failures in {module} (see stdout)"
    assert mcr.get_max_elements() == 2**31  # the _limits doctest restores the limit


def test_demo_command():
    proc = subprocess.run([sys.executable, "-m", "multiclass_rle", "demo"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert "all round trips exact" in proc.stdout
    assert "MISMATCH" not in proc.stdout


def test_cli_without_command_fails():
    proc = subprocess.run([sys.executable, "-m", "multiclass_rle"],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode != 0
    assert "demo" in proc.stderr
