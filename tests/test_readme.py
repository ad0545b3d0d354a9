"""The README's Python examples run and say what they print."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README.read_text(), re.S)


def test_readme_examples_run_and_comments_hold():
    blocks = _blocks()
    assert len(blocks) >= 4
    ns: dict = {}
    # block 0 is the format example; the tour, bytes form and operations follow
    code = "\n".join(blocks[1:4]).replace("true_rle", "rle").replace("pred_rle", "rle")
    exec(compile(code, str(README), "exec"), ns)  # noqa: S102
    mcr, labels = ns["mcr"], ns["labels"]
    assert ns["rle"] == {"size": [4, 5], "values": "03001M00", "counts": "132O1O04",
                         "dtype": "uint8"}
    assert ns["d"] == {"size": (4, 5), "values": (0, 3, 0, 3, 1, 0, 1, 0),
                       "counts": (1, 3, 2, 2, 3, 1, 3, 5)}
    assert np.array_equal(ns["back"], labels) and ns["back_f"].flags.f_contiguous
    assert np.array_equal(ns["out"], labels) and ns["out"].dtype == np.int32
    assert np.array_equal(mcr.decode(ns["blob"]), labels) and len(ns["maps"]) == 2
    assert mcr.labels(ns["rle"]).tolist() == [0, 1, 3]
    assert mcr.area(ns["rle"]) == {0: 9, 1: 6, 3: 5}
    assert mcr.bbox(ns["rle"])[1] == ((0, 3), (2, 4))
    assert ns["crop"].tolist() == [[0, 1, 1], [0, 1, 1]]
    assert np.array_equal(mcr.decode(ns["rle2"]), labels)


def test_readme_names_the_two_setup_commands():
    text = README.read_text()
    assert "python -m pip install . && python -m multiclass_rle demo" in text
    assert 'python -m pip install ".[test]" && python -m pytest' in text


def test_readme_format_example_is_what_the_writer_gives():
    import multiclass_rle as mcr

    ns: dict = {}
    exec(compile(_blocks()[0], str(README), "exec"), ns)  # noqa: S102
    assert mcr.array_to_multi_class_rle(ns["array"]) == ns["rle"]
    assert mcr.decode(ns["rle"]).tolist() == ns["array"]


def test_readme_says_which_wheels_exist():
    text = " ".join(README.read_text().split())
    for platform in ("manylinux", "musllinux", "macOS", "Windows", "3.10"):
        assert platform in text, platform
    assert "C compiler" in text
