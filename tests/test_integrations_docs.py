"""The Python examples of docs/integrations.md run as they are.

Blocks fenced as ```python run, in order, each in a fresh namespace with
``__name__ == "__main__"``, in one temporary folder (later examples read the
files earlier ones wrote). Blocks fenced as ```python notest (Hugging Face
``datasets``, Spark) are only compiled.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("torch")
pytest.importorskip("zarr", minversion="3")
pytest.importorskip("numcodecs")
pytest.importorskip("pyarrow")
pytest.importorskip("dask.array")
pytest.importorskip("distributed")

import multiclass_rle as mcr  # noqa: E402

#: Python >= 3.12 warns when a process with threads forks (DataLoader workers)
FORK_WARNING = "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"
DOC = Path(__file__).resolve().parents[1] / "docs" / "integrations.md"
BLOCK = re.compile(r"^```python( notest)?\n(.*?)^```", re.S | re.M)


def _blocks():
    return [(bool(m.group(1)), m.group(2)) for m in BLOCK.finditer(DOC.read_text())]


def test_doc_has_examples():
    blocks = _blocks()
    assert sum(not skip for skip, _ in blocks) >= 7
    assert sum(skip for skip, _ in blocks) == 2


@pytest.mark.filterwarnings("ignore:.*pin_memory.*:UserWarning")
@pytest.mark.filterwarnings(FORK_WARNING)
def test_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for i, (skip, code) in enumerate(_blocks()):
        compiled = compile(code, f"{DOC.name}[block {i}]", "exec")
        if not skip:
            exec(compiled, {"__name__": "__main__"})
    assert (tmp_path / "maps.parquet").is_file() and (tmp_path / "brain_copy.zarr").is_dir()
