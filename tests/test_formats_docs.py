"""The Python examples of docs/formats.md run as they are, in order, in one folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("nibabel")
pytest.importorskip("PIL")

DOC = Path(__file__).resolve().parents[1] / "docs" / "formats.md"


def test_formats_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    blocks = re.findall(r"^```python\n(.*?)^```", DOC.read_text(), re.S | re.M)
    assert len(blocks) == 4  # one per family
    for i, code in enumerate(blocks):
        exec(compile(code, f"{DOC.name}[block {i}]", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "[[1, 3, 0], [1, 3, 1], [1, 0, 1], [0, 0, 0]]" in out
    assert "[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0]] {'1': 'car'}" in out
