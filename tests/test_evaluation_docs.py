"""The Python examples of docs/evaluation.md run as they are, in order, in one folder."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

pytest.importorskip("torch")

DOC = Path(__file__).resolve().parents[1] / "docs" / "evaluation.md"
BLOCK = re.compile(r"^```python\n(.*?)^```", re.S | re.M)


def test_doc_has_the_examples():
    blocks = BLOCK.findall(DOC.read_text())
    assert len(blocks) >= 5
    text = "\n".join(blocks)
    assert "update_batch" in text and '"eval"' in text and "PanopticEvaluator" in text


def test_doc_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    for i, code in enumerate(BLOCK.findall(DOC.read_text())):
        exec(compile(code, f"{DOC.name}[block {i}]", "exec"), {"__name__": "__main__"})
    out = capsys.readouterr().out
    assert "mIoU" in out and "mean Dice" in out


def test_readme_evaluation_tour_runs(capsys):
    readme = DOC.parents[1] / "README.md"
    blocks = BLOCK.findall(readme.read_text())
    tour = next(b for b in blocks if "SemanticEvaluator" in b)
    setup = next(b for b in blocks if "labels = np.array" in b)
    ns: dict = {}
    exec(compile(setup.split("# The main API")[0] + "rle = mcr.encode(labels)\n" + tour,
                 "README.md", "exec"), ns)
    out = capsys.readouterr().out.splitlines()
    assert out[0] == "1.0"
    assert "'pq': 1.0" in out[1] and "'n': 1" in out[1]
    assert ns["ev"].n_images == 1
