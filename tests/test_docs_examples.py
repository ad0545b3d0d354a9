"""Every example of the documentation runs, as written (the pages the docs site is built from).

The pages' fenced blocks, by their language:

- ``python``: ``>>>`` examples run as doctests, the other blocks run in order
  in one namespace per page (after that page's SETUP, which gives names a
  fragment assumes, such as ``pairs``). README.md's and docs/integrations.md's
  Python blocks have their own tests (test_readme.py, test_integrations_docs.py),
  and so have docs/formats/'s (test_formats_docs.py);
  docs/operations.md's doctests run in test_ops.py as well.
- ``console``: each ``$ COMMAND`` runs with bash in a temporary folder that
  holds ``labels/``, a small tree of label PNGs named like the CamVid files the
  pages were written with, ``names.txt``, and small inputs of the names the
  format examples use (volumes, a COCO panoptic file, a Kaggle CSV); the status must be 0, or the
  number a following ``$ echo $?`` shows. The printed figures are the pages'
  measurements on the real data and are not compared.
- ``sh``: the ``mcrle`` lines run like console commands; every other line
  (installing packages, fuzzing campaigns, measurements that need a data set
  not in the repository) is listed in NOT_RUN with the reason.
- ``json``: parses.

A page that gains a block of a kind not handled here fails test_every_block_is_handled.
"""

from __future__ import annotations

import doctest
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr

ROOT = Path(__file__).resolve().parents[1]
PAGES = ("README.md", "docs/format.md", "docs/operations.md", "docs/cli.md",
         "docs/integrations.md", "docs/security.md", "docs/architecture.md", "CHANGELOG.md",
         "docs/formats/index.md", "docs/formats/medical.md", "docs/formats/panoptic.md",
         "docs/formats/csv.md", "docs/formats/annotation-tools.md", "docs/evaluation.md")
BLOCK = re.compile(r"^```([a-z]*)( notest)?\n(.*?)^```", re.S | re.M)

#: Names a page's Python fragments take as given.
SETUP = {
    "docs/format.md": (
        "import numpy as np, multiclass_rle\n"
        "array = np.array([[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]],"
        " dtype=np.uint8)\n"),
    "docs/operations.md": (
        "import numpy as np, multiclass_rle as mcr\n"
        "truth = np.array([[0, 1, 1, 255], [2, 2, 18, 255]], dtype=np.uint8)\n"
        "pairs = [(mcr.encode(truth), mcr.encode(np.where(truth == 255, 0, truth)))]\n"
        "a, label = truth, 1\n"
        "from pycocotools import mask as mask_util\n"),
}

#: sh lines that are not run, and why.
NOT_RUN = {
    "python -m pip install . && python -m multiclass_rle demo":
        "the README's set-up: .ci/run installs as it says; test_api_surface runs the demo",
    'python -m pip install ".[test]" && python -m pytest': "the README's test command: .ci/run",
    'python -m pip install "multiclass-rle[': "installs the package with an extra",
    "python - <<'PY'": "measures Pillow on the CamVid data set, not in the repository",
    "mcrle encode CamVid/ -o camvid.jsonl -j 2 --force": "needs the CamVid data set",
    "apt-get install clang": "installs a package",
    "csrc/fuzz/": "fuzzing campaigns (csrc/fuzz/replay.sh runs in .ci/run)",
    "RUNS=10000000 csrc/fuzz/run.sh": "a fuzzing campaign",
    "MERGE=1 csrc/fuzz/run.sh": "a fuzzing campaign",
    "python3 csrc/fuzz/make_seeds.py": "rewrites the fuzz seeds in the checkout",
}

_PYTHON_ELSEWHERE = {"README.md", "docs/integrations.md", "docs/formats/medical.md",
                     "docs/formats/panoptic.md", "docs/formats/csv.md",
                     "docs/formats/annotation-tools.md",   # test_formats_docs.py
                     "docs/evaluation.md"}   # test_evaluation_docs.py


def _page(rel: str) -> str:
    path = ROOT / rel
    if not path.is_file():
        pytest.skip(f"{rel} is not in this checkout (the sdist leaves docs/ out)")
    return path.read_text(encoding="utf-8")


def _blocks(rel: str) -> list[tuple[str, bool, str]]:
    return [(m.group(1), bool(m.group(2)), m.group(3)) for m in BLOCK.finditer(_page(rel))]


@pytest.mark.parametrize("rel", PAGES)
def test_every_block_is_handled(rel):
    for lang, notest, code in _blocks(rel):
        assert lang in ("", "python", "console", "sh", "json"), f"{rel}: a {lang} block"
        if lang == "sh":
            for line in _sh_lines(code):
                assert line.startswith("mcrle ") or _not_run(line), f"{rel}: {line!r}"


def _not_run(line: str) -> str | None:
    return next((why for start, why in NOT_RUN.items() if line.startswith(start)), None)


def _sh_lines(code: str) -> list[str]:
    """The commands of an sh block (a heredoc counts as one, by its first line)."""
    lines, heredoc = [], None
    for raw in code.splitlines():
        line = raw.split("  #", 1)[0].rstrip()
        if heredoc:
            heredoc = None if line == heredoc else heredoc
            continue
        if not line:
            continue
        m = re.search(r"<<'?(\w+)'?$", line)
        heredoc = m.group(1) if m else None
        lines.append(line)
    return lines


# ---------------------------------------------------------------------------
# python


@pytest.mark.parametrize("rel", [p for p in PAGES if p not in _PYTHON_ELSEWHERE])
def test_python_examples(rel, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)   # whatever an example writes stays out of the checkout
    blocks = [(notest, code) for lang, notest, code in _blocks(rel) if lang == "python"]
    if not blocks:
        return
    if rel == "docs/operations.md":
        pytest.importorskip("pycocotools")
    ns: dict = {"__name__": "__main__"}
    exec(compile(SETUP.get(rel, ""), f"{rel}[setup]", "exec"), ns)  # noqa: S102
    parser, runner = doctest.DocTestParser(), doctest.DocTestRunner(
        optionflags=doctest.NORMALIZE_WHITESPACE | doctest.ELLIPSIS)
    for i, (notest, code) in enumerate(blocks):
        name = f"{rel}[block {i}]"
        if ">>>" in code:
            test = parser.get_doctest(code, ns, name, rel, 0)
            runner.run(test, clear_globs=False)
        elif notest:
            compile(code, name, "exec")
        else:
            exec(compile(code, name, "exec"), ns)  # noqa: S102
    assert runner.failures == 0, f"{runner.failures} doctest failures in {rel}"
    if rel == "docs/format.md":   # the page's examples are the README map's forms
        assert np.array_equal(ns["array"], mcr.decode(ns["data"]))


def test_format_page_dicts_are_what_the_writers_give():
    blocks = [code for lang, _, code in _blocks("docs/format.md") if lang == "python"]
    readme = [[0, 0, 1, 1, 0], [3, 0, 1, 1, 0], [3, 3, 1, 1, 0], [3, 3, 0, 0, 0]]
    assert eval(blocks[0]) == mcr.array_to_multi_class_rle(readme)  # noqa: S307
    assert eval(blocks[1]) == mcr.encode(np.array(readme, np.uint8))  # noqa: S307


# ---------------------------------------------------------------------------
# json, console and sh


@pytest.mark.parametrize("rel", PAGES)
def test_json_examples_parse(rel):
    for lang, _, code in _blocks(rel):
        if lang == "json":
            for line in code.splitlines():
                assert isinstance(json.loads(line), dict)


@pytest.fixture(scope="module")
def session_dir(tmp_path_factory):
    if sys.platform == "win32" or shutil.which("bash") is None:
        pytest.skip("the pages' sessions are bash sessions on a POSIX system")
    """A folder like the one the pages' sessions ran in: labels/ of CamVid-named PNGs, names.txt."""
    image = pytest.importorskip("PIL.Image")
    from multiclass_rle.cli._demo import load_samples

    street = np.ascontiguousarray(load_samples()["street"])
    d = tmp_path_factory.mktemp("session")
    names = {"testannot": ["0001TP_008550", "0001TP_008580", "Seq05VD_f00000"],
             "valannot": ["0016E5_07959", "0016E5_07961"]}
    k = 0
    for sub, stems in names.items():
        (d / "labels" / sub).mkdir(parents=True)
        for stem in stems:
            image.fromarray(np.roll(street, 7 * k, axis=1)).save(d / "labels" / sub / f"{stem}.png")
            k += 1
    (d / "names.txt").write_text("\n".join(f"class{i}" for i in range(256)) + "\n")
    shutil.copytree(d / "labels", d / "predictions")   # what `mcrle eval` compares against
    _format_inputs(d, street)
    return d


def _format_inputs(d: Path, street: np.ndarray) -> None:
    """The README's other session: volumes, a COCO panoptic file, a Kaggle CSV (needs nibabel)."""
    try:
        import nibabel
    except ImportError:
        return
    vol = np.stack([np.roll(street[:64, :48], k, axis=0) for k in range(5)]).astype(np.int32)
    nibabel.save(nibabel.MGHImage(vol, np.eye(4)), d / "aparc+aseg.mgz")
    (d / "brain").mkdir()
    for k in range(2):
        nibabel.save(nibabel.Nifti1Image(vol.astype(np.uint8) + k, np.eye(4)),
                     d / "brain" / f"sub{k}.nii.gz")
    from PIL import Image

    (d / "annotations" / "panoptic_val2017").mkdir(parents=True)
    ids = np.zeros((4, 6), np.uint32)
    ids[:, 3:] = 2 + 256 * 3
    Image.fromarray(mcr.id_to_rgb(ids)).save(d / "annotations" / "panoptic_val2017" / "1.png")
    doc = {"images": [{"id": 1, "file_name": "1.jpg", "width": 6, "height": 4}],
           "annotations": [{"image_id": 1, "file_name": "1.png",
                            "segments_info": [{"id": 770, "category_id": 7, "iscrowd": 0}]}],
           "categories": [{"id": 7, "name": "car", "isthing": 1}]}
    (d / "annotations" / "panoptic_val2017.json").write_text(json.dumps(doc))
    (d / "train.csv").write_text("ImageId,ClassId,EncodedPixels\n"
                                 "a.jpg,1,1 30 1000 20\na.jpg,3,5000 200\nb.jpg,2,7 7\n")


def _run_session(d: Path, commands: list[tuple[str, int]], rel: str) -> None:
    env = dict(os.environ)
    env["PATH"] = os.pathsep.join([str(Path(sys.executable).parent), env.get("PATH", "")])
    for command, status in commands:
        if command.startswith("mcrle bench"):
            command += " --repeat 1 --budget 0.2"   # sizes and speeds, measured briefly
        done = subprocess.run(["bash", "-c", command], cwd=d, env=env, capture_output=True,
                              text=True, timeout=300)
        assert done.returncode == status, (
            f"{rel}: `{command}` exited {done.returncode}, the page shows {status}\n{done.stderr}")


def _console_commands(code: str) -> list[tuple[str, int]]:
    commands: list[tuple[str, int]] = []
    lines = code.splitlines()
    for i, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        command = line[2:].split("  #", 1)[0].strip()
        if command == "echo $?":
            commands[-1] = (commands[-1][0], int(lines[i + 1]))
            continue
        commands.append((command, 0))
    return commands


@pytest.mark.parametrize("rel", ["README.md", "docs/cli.md"])
def test_console_sessions_run(rel, session_dir, tmp_path):
    blocks = [code for lang, _, code in _blocks(rel) if lang == "console"]
    assert blocks, f"{rel} has no console session"
    for code in blocks:
        if ".mgz" in code and not (session_dir / "aparc+aseg.mgz").is_file():
            continue   # the volumes need nibabel (the medical extra)
        d = tmp_path / "session"
        shutil.copytree(session_dir, d)
        _run_session(d, _console_commands(code), rel)
        shutil.rmtree(d)


@pytest.mark.parametrize("rel", PAGES)
def test_sh_commands_run(rel, session_dir, tmp_path):
    commands = [(line, 0) for lang, _, code in _blocks(rel) if lang == "sh"
                for line in _sh_lines(code) if not _not_run(line)]
    if not commands:
        return
    d = tmp_path / "session"
    shutil.copytree(session_dir, d)
    _run_session(d, commands, rel)


def test_api_reference_lists_every_public_name():
    """docs/api.rst documents every name the package exports, lazy ones included."""
    text = _page("docs/api.rst")
    documented = set(re.findall(r"^\.\. auto(?:function|class|exception):: (\w+)", text, re.M))
    public = (set(mcr.__all__) | set(mcr._LAZY)) - {"__version__"}
    assert not public - documented, sorted(public - documented)
    assert not documented - public, sorted(documented - public)
