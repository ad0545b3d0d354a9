"""The Python examples of docs/formats/ run as they are, page after page, in one folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("nibabel")
pytest.importorskip("PIL")

DOCS = Path(__file__).resolve().parents[1] / "docs" / "formats"
PAGES = ("medical.md", "panoptic.md", "csv.md", "annotation-tools.md")  # one per family


def test_every_family_has_a_page_linked_from_the_index():
    index = (DOCS / "index.md").read_text()
    assert sorted(p.name for p in DOCS.glob("*.md")) == sorted(("index.md", *PAGES))
    for page in PAGES:
        assert f"]({page})" in index


def test_formats_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for page in PAGES:
        blocks = re.findall(r"^```python\n(.*?)^```", (DOCS / page).read_text(), re.S | re.M)
        assert len(blocks) == 1, page  # a runnable example per family
        exec(compile(blocks[0], page, "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "[[1, 3, 0], [1, 3, 1], [1, 0, 1], [0, 0, 0]]" in out
    assert "[[0, 0, 0, 0], [0, 1, 1, 0], [0, 1, 1, 0]] {'1': 'car'}" in out
    assert (tmp_path / "again.xml").is_file() and (tmp_path / "restored" / "panoptic_val" / "1.png").is_file()
