"""The package's shape: layers that only import downwards, no import circles, a small import.

Read from the installed package's source files (imports inside functions
included), so these hold for what users get, not only for the checkout.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import importlib.machinery
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr

PACKAGE = Path(mcr.__file__).resolve().parent

#: Layers, top to bottom; a module may import its own layer and the ones below.
LAYERS = ("multiclass_rle.cli", "multiclass_rle._integrations", "multiclass_rle._ops",
          "multiclass_rle._codec")


def _modules() -> tuple[dict[str, Path], set[str]]:
    """Python modules by name (with their source), and the compiled ones' names."""
    found = {}
    for path in PACKAGE.rglob("*.py"):
        parts = list(path.relative_to(PACKAGE).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        found[".".join(["multiclass_rle", *parts])] = path
    compiled = set()
    for path in PACKAGE.rglob("*"):
        rel = path.relative_to(PACKAGE).as_posix()
        for suffix in sorted(importlib.machinery.EXTENSION_SUFFIXES, key=len, reverse=True):
            if rel.endswith(suffix):
                compiled.add(".".join(["multiclass_rle", *rel[:-len(suffix)].split("/")]))
                break
    return found, compiled


MODULES, COMPILED = _modules()
KNOWN = set(MODULES) | COMPILED


def _is_package(name: str) -> bool:
    return MODULES[name].name == "__init__.py"


def _imports(name: str) -> set[str]:
    """Package modules ``name`` imports, anywhere in its source (functions included)."""
    tree = ast.parse(MODULES[name].read_text(encoding="utf-8"))
    package = name if _is_package(name) else name.rpartition(".")[0]
    found = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                parent = ".".join(base + ([node.module] if node.module else []))
            else:
                parent = node.module or ""
            # `from pkg import sub` imports the submodule; `from pkg import name` the package
            targets = [f"{parent}.{a.name}" if f"{parent}.{a.name}" in KNOWN
                       else parent for a in node.names]
        else:
            continue
        found.update(t for t in targets if t in MODULES and t != name)
    return found


GRAPH = {name: _imports(name) for name in MODULES}


def _layer(name: str) -> int | None:
    for i, prefix in enumerate(LAYERS):
        if name == prefix or name.startswith(prefix + "."):
            return i
    return None


def test_the_layers_exist():
    for prefix in LAYERS:
        assert prefix in MODULES, f"{prefix} is missing"
    assert "multiclass_rle._codec.forms" in MODULES
    assert COMPILED == {"multiclass_rle._codec._core"}


def test_no_import_circles():
    state: dict[str, int] = {}   # 1 on the current path, 2 done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycle = path[path.index(nxt):] + [nxt]
                raise AssertionError("import circle: " + " -> ".join(cycle))
            if nxt not in state:
                visit(nxt)
        path.pop()
        state[node] = 2

    for name in sorted(GRAPH):
        if name not in state:
            visit(name)


def test_layers_only_import_downwards():
    wrong = []
    for name, targets in GRAPH.items():
        mine = _layer(name)
        if mine is None:
            continue
        for target in targets:
            theirs = _layer(target)
            if theirs is not None and theirs < mine:
                wrong.append(f"{name} imports {target}")
            if theirs is None and target != "multiclass_rle.multiclass_rle" \
                    and not (name.startswith("multiclass_rle.cli") and target == "multiclass_rle"):
                wrong.append(f"{name} imports {target}, which is in no layer")
    assert not wrong, "\n".join(wrong)


def test_private_modules_stay_private():
    public = {"multiclass_rle", "multiclass_rle.cli", "multiclass_rle.multiclass_rle",
              "multiclass_rle.__main__"}
    for name in MODULES:
        if name in public:
            continue
        assert any(part.startswith("_") for part in name.split(".")[1:]), name


def test_every_form_has_the_four_entries():
    from multiclass_rle._codec import forms

    names = set()
    for form in forms.FORMS:
        for entry in ("NAME", "matches", "to_runs", "decode"):
            assert hasattr(form, entry), f"{form} has no {entry}"
        names.add(form.NAME)
    assert {"compact", "original", "coco_binary", "packed", "bytes", "Runs"} <= names


@pytest.mark.parametrize("obj, form", [
    ({"size": [2], "values": "00", "counts": "2"}, "compact"),
    ({"size": [2], "values": [0], "counts": [2]}, "original"),
    ({"size": [1, 2], "counts": [2]}, "coco_binary"),
    ({"size": [1, 2], "counts": "2"}, "coco_binary"),
    ({"packed": "", "values": "0", "counts": "2"}, "packed"),   # refused by packed, not read
    (b"MCRL", "bytes"),
    (memoryview(b"MCRL"), "bytes"),
])
def test_form_of_tells_the_forms_apart(obj, form):
    from multiclass_rle._codec.forms import form_of

    assert form_of(obj).NAME == form


def test_form_of_runs_and_junk():
    from multiclass_rle._codec.forms import form_of

    assert form_of(mcr.encode_runs(np.zeros(3, np.uint8))).NAME == "Runs"
    with pytest.raises(mcr.RLETypeError, match="call encode"):
        form_of(np.zeros(3))
    with pytest.raises(mcr.RLETypeError, match="got int"):
        form_of(3)


def _fresh(code: str) -> list[str]:
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    return json.loads(out.strip().splitlines()[-1])


_NEW_MODULES = ("import sys, json, numpy\nbefore = set(sys.modules)\n{imp}\n"
                "print(json.dumps(sorted(set(sys.modules) - before)))")


def test_import_loads_the_codec_only():
    loaded = _fresh(_NEW_MODULES.format(imp="import multiclass_rle"))
    ours = [m for m in loaded if m.startswith("multiclass_rle")]
    assert all(_layer(m) in (None, 3) for m in ours), ours
    # 20 modules (10 of ours, 10 of the standard library) before the layers were
    # split into packages; the layers above the codec now load on first use
    assert len(loaded) <= 20, loaded


def test_original_import_path_loads_nothing_more():
    """The original project's tests import from ``multiclass_rle.multiclass_rle``."""
    plain = _fresh(_NEW_MODULES.format(imp="import multiclass_rle"))
    original = _fresh(_NEW_MODULES.format(
        imp="from multiclass_rle.multiclass_rle import multi_class_rle_to_array, "
            "array_to_multi_class_rle"))
    assert sorted(original) == sorted(plain)


def test_original_import_path_works_as_documented():
    from multiclass_rle.multiclass_rle import array_to_multi_class_rle, multi_class_rle_to_array

    cases = [
        (np.array([[0, 1, 2], [0, 1, 2]]), {"size": (2, 3), "values": (0, 1, 2),
                                             "counts": (2, 2, 2)}),
        (np.array([[0, 0], [1, 1], [2, 2]]), {"size": (3, 2), "values": (0, 1, 2, 0, 1, 2),
                                              "counts": (1, 1, 1, 1, 1, 1)}),
    ]
    for arr, rle in cases:
        assert array_to_multi_class_rle(arr) == rle
        assert np.all(multi_class_rle_to_array(rle) == arr)
    assert mcr.array_to_multi_class_rle is array_to_multi_class_rle


def test_lazy_names_resolve_to_their_layer():
    for name in ("area", "remap", "to_coco", "decode_window"):
        fn = getattr(mcr, name)
        assert fn.__module__.startswith("multiclass_rle._ops."), (name, fn.__module__)
    assert set(mcr.__all__) <= set(dir(mcr))
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        mcr.nope  # noqa: B018


def _importable(name: str) -> bool:
    try:
        importlib.import_module(name)
    except ImportError:   # an integration whose extra is not installed
        return False
    return True


@pytest.mark.parametrize("name", sorted(n for n in MODULES if n != "multiclass_rle.__main__"))
def test_doctests_of_every_module(name):
    if not _importable(name):
        pytest.skip(f"{name} needs an extra that is not installed")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0, f"{result.failed} doctest failures in {name}"


def test_meson_installs_every_module():
    """A module missing from src/multiclass_rle/meson.build would be left out of wheels."""
    source = Path(__file__).resolve().parents[1] / "src" / "multiclass_rle"
    build = source / "meson.build"
    if not build.is_file():
        pytest.skip("not run from a source checkout")
    text = build.read_text()
    listed = set()
    for path in source.rglob("*.py*"):
        rel = path.relative_to(source).as_posix()
        if "__pycache__" in rel:
            continue
        listed.add(rel)
        assert f"'{rel}'" in text, f"{rel} is not in src/multiclass_rle/meson.build"
    assert "__init__.py" in listed


def test_generated_string_table_matches_its_generator():
    # csrc/string_table.h is checked in; it must be exactly what its script writes
    root = Path(__file__).resolve().parents[1]
    script, table = root / "tools" / "gen_string_table.py", root / "csrc" / "string_table.h"
    if not (script.exists() and table.exists()):
        pytest.skip("not a source checkout (tools/ and csrc/ absent)")
    out = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, check=True)
    assert out.stdout == table.read_text()
