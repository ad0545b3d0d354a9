"""The ``mcrle`` command line, driven as a real subprocess (``python -m multiclass_rle``).

Real label PNGs come from ../shared/data (CamVid, labelme palette PNGs,
ADE20K, stardist TIFFs); those tests skip when the folder is absent. Corrupt
inputs are made here. Decoding with Pillow is the reference for PNG content.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr

DATA = Path(__file__).resolve().parents[2] / "shared" / "data"
ROOT = Path(__file__).resolve().parents[1]

Image = pytest.importorskip("PIL.Image")


def run(*args: str | Path, cwd: Path, timeout: float = 120,
        pre: str | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command; ``pre`` is Python run first (e.g. to hide Pillow)."""
    argv = [str(a) for a in args]
    if pre is None:
        cmd = [sys.executable, "-m", "multiclass_rle", *argv]
    else:
        cmd = [sys.executable, "-c",
               f"{pre}\nimport sys\nfrom multiclass_rle.cli import main\n"
               f"sys.exit(main(sys.argv[1:], prog='mcrle'))", *argv]
    return subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def pillow_labels(path: Path) -> np.ndarray:
    with Image.open(path) as im:
        return np.asarray(im)


def no_temp_files(folder: Path) -> bool:
    return not [p for p in folder.rglob("*.tmp")]


def need_data(*parts: str) -> Path:
    path = DATA.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"real data {path} is absent")
    return path


@pytest.fixture(scope="module")
def camvid(tmp_path_factory) -> Path:
    """12 real CamVid label PNGs in two sub-folders (8-bit greyscale, labels 0..11)."""
    src = need_data("camvid", "orig", "CamVid")
    dst = tmp_path_factory.mktemp("camvid")
    for sub, n in (("testannot", 8), ("valannot", 4)):
        (dst / sub).mkdir()
        for f in sorted((src / sub).glob("*.png"))[:n]:
            shutil.copy(f, dst / sub / f.name)
    return dst


@pytest.fixture(scope="module")
def camvid_jsonl(camvid, tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("enc") / "camvid.jsonl"
    proc = run("encode", camvid, "-o", out, "-j", "2", "--verify", "--format", "jsonl",
               cwd=out.parent)
    assert proc.returncode == 0, proc.stderr
    return out


# ---------------------------------------------------------------------------
# command line surface


def test_help_on_every_subcommand(tmp_path):
    top = run("--help", cwd=tmp_path)
    assert top.returncode == 0
    for sub in ("encode", "decode", "info", "show", "bench", "demo"):
        assert sub in top.stdout
        proc = run(sub, "--help", cwd=tmp_path)
        assert proc.returncode == 0, proc.stderr
        assert "usage:" in proc.stdout and sub in proc.stdout


@pytest.mark.parametrize("argv", [
    [],
    ["nosuchcommand"],
    ["encode"],  # no input, no -o
    ["encode", "x.png"],  # no -o
    ["encode", "x.png", "-o", "y.jsonl", "--bogus"],
    ["encode", "x.png", "-o", "y.jsonl", "-j", "-1"],
    ["decode", "in.jsonl", "-o", "d", "--format", "gif"],
])
def test_usage_errors_exit_2(tmp_path, argv):
    (tmp_path / "x.png").write_bytes(b"")
    proc = run(*argv, cwd=tmp_path)
    assert proc.returncode == 2, (proc.stdout, proc.stderr)
    assert "error" in proc.stderr or "usage" in proc.stderr
    assert not (tmp_path / "y.jsonl").exists()


def test_console_script_declared():
    text = (ROOT / "pyproject.toml").read_text()
    assert 'mcrle = "multiclass_rle.cli:main"' in text
    assert 'image = ["Pillow>=9"' in text   # and libdeflate (deflate), optional too


# ---------------------------------------------------------------------------
# encode / decode on real PNGs


def test_encode_camvid_records(camvid, camvid_jsonl):
    recs = records(camvid_jsonl)
    pngs = sorted(p.relative_to(camvid).as_posix() for p in camvid.rglob("*.png"))
    assert [r["path"] for r in recs] == pngs  # relative, '/'-separated, sorted
    for r in recs:
        assert set(r["rle"]) == {"size", "values", "counts", "dtype"}
        got = mcr.decode(r["rle"])
        want = pillow_labels(camvid / r["path"])
        assert got.dtype == want.dtype == np.uint8
        assert np.array_equal(got, want)


def test_packed_json_lines(camvid, camvid_jsonl, tmp_path):
    out = tmp_path / "p.jsonl"
    proc = run("encode", camvid, "-o", out, "--format", "jsonl-packed", "--verify", "-j", "2",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    recs = records(out)
    assert [r["path"] for r in recs] == [r["path"] for r in records(camvid_jsonl)]
    for r in recs:
        assert set(r["rle"]) == {"size", "dtype", "packed"}
        assert np.array_equal(mcr.decode(r["rle"]), pillow_labels(camvid / r["path"]))
    assert out.stat().st_size * 2 < camvid_jsonl.stat().st_size
    back = tmp_path / "back"
    proc = run("decode", out, "-o", back, "--format", "npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for r in recs:
        npy = back / Path(r["path"]).with_suffix(".npy")
        assert np.array_equal(np.load(npy), pillow_labels(camvid / r["path"]))


def test_jobs_give_identical_output(camvid, camvid_jsonl, tmp_path):
    out1 = tmp_path / "j1.jsonl"
    proc = run("encode", camvid, "-o", out1, "-j", "1", "--format", "jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert out1.read_bytes() == camvid_jsonl.read_bytes()


def test_summary_line(camvid, tmp_path):
    proc = run("encode", camvid, "-o", tmp_path / "o.jsonl", cwd=tmp_path)
    assert proc.returncode == 0
    summary = proc.stderr.strip().splitlines()[-1]
    assert "encoded 12 maps from 12 files" in summary
    for word in (" in -> ", " out ", "ratio", " s"):
        assert word in summary
    assert "\r" not in proc.stderr  # no progress bar when stderr is not a terminal


@pytest.mark.parametrize("fmt", ["png", "npy"])
def test_decode_round_trip_is_bit_exact(camvid, camvid_jsonl, tmp_path, fmt):
    out = tmp_path / "restored"
    proc = run("decode", camvid_jsonl, "-o", out, "--format", fmt, "-j", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for png in camvid.rglob("*.png"):
        rel = png.relative_to(camvid).with_suffix("." + fmt)
        back = pillow_labels(out / rel) if fmt == "png" else np.load(out / rel)
        want = pillow_labels(png)
        assert back.dtype == want.dtype and back.shape == want.shape
        assert np.array_equal(back, want)
    assert no_temp_files(out)


def test_decode_refuses_existing_files_without_force(camvid_jsonl, tmp_path):
    out = tmp_path / "d"
    assert run("decode", camvid_jsonl, "-o", out, cwd=tmp_path).returncode == 0
    victim = next(out.rglob("*.png"))
    victim.write_bytes(b"mine")
    proc = run("decode", camvid_jsonl, "-o", out, cwd=tmp_path)
    assert proc.returncode == 2
    assert "--force" in proc.stderr and "exist" in proc.stderr
    assert victim.read_bytes() == b"mine"
    proc = run("decode", camvid_jsonl, "-o", out, "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert victim.read_bytes()[:4] == b"\x89PNG"


def test_labelme_palette_indices_are_the_labels(tmp_path):
    src = need_data("labelme", "orig", "examples")
    out = tmp_path / "labelme.jsonl"
    proc = run("encode", src, "-o", out, "--verify", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    recs = records(out)
    assert len(recs) == 15
    for r in recs:
        with Image.open(src / r["path"]) as im:
            assert im.mode == "P"
            want = np.asarray(im)  # indices, not colours
        got = mcr.decode(r["rle"])
        assert got.dtype == np.uint8 and got.ndim == 2
        assert np.array_equal(got, want)
        assert set(np.unique(got).tolist()) <= set(range(21)) | {255}


def test_ade20k_colour_png_fails_and_others_go_on(tmp_path):
    src = need_data("ade20k_sceneparsing", "orig")
    out = tmp_path / "ade.jsonl"
    proc = run("encode", f"{src}/**/*.png", "-o", out, cwd=tmp_path)
    assert proc.returncode == 1
    raw = "ADE_train_00000970_raw.png"
    assert raw in proc.stderr and "colour or multi-channel image" in proc.stderr
    names = [r["path"] for r in records(out)]
    assert len(names) == 4 and not any(raw in n for n in names)
    assert names == sorted(names) and names[0].startswith("convertFromADE/")
    for r in records(out):
        assert np.array_equal(mcr.decode(r["rle"]), pillow_labels(src / r["path"]))


def test_tiff_uint16_instance_masks(tmp_path):
    src = need_data("stardist_dsb2018", "orig")
    out = tmp_path / "tif.jsonl"
    proc = run("encode", src, "-o", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    recs = records(out)
    assert {r["path"] for r in recs} == {"stardist/data/images/mask2d.tif",
                                         "tests/data/mask2d.tif"}
    for r in recs:
        got = mcr.decode(r["rle"])
        assert got.dtype == np.uint16
        assert np.array_equal(got, pillow_labels(src / r["path"]))
    # uint16 decodes back to 16-bit PNG, bit-exact
    proc = run("decode", out, "-o", tmp_path / "png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    back = pillow_labels(tmp_path / "png" / "tests" / "data" / "mask2d.png")
    assert back.dtype == np.uint16
    assert np.array_equal(back, pillow_labels(src / "tests" / "data" / "mask2d.tif"))


# ---------------------------------------------------------------------------
# made-up inputs: dtypes, npz, corrupt files


def test_sixteen_bit_bool_and_multipage_tiff(tmp_path):
    rng = np.random.default_rng(0)
    maps = {
        "u16.png": rng.integers(0, 3000, (20, 30)).astype(np.uint16),
        "bool.png": rng.random((17, 9)) > 0.5,
        "grey.tif": rng.integers(0, 5, (8, 6)).astype(np.uint8),
    }
    src = tmp_path / "src"
    src.mkdir()
    for name, a in maps.items():
        Image.fromarray(a).save(src / name)
    pages = [Image.fromarray(np.full((5, 4), i, np.uint8)) for i in range(3)]
    pages[0].save(src / "stack.tiff", save_all=True, append_images=pages[1:])
    out = tmp_path / "o.jsonl"
    proc = run("encode", src, "-o", out, "--verify", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    got = {r["path"]: mcr.decode(r["rle"]) for r in records(out)}
    for name, a in maps.items():
        assert got[name].dtype == a.dtype and np.array_equal(got[name], a)
    assert got["stack.tiff"].shape == (3, 5, 4)
    assert np.array_equal(got["stack.tiff"][:, 0, 0], [0, 1, 2])
    # back to PNG (2-D ones) with the same dtype
    proc = run("decode", out, "-o", tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 1  # the 3-D stack does not fit PNG
    assert "stack.tiff" in proc.stderr and "--format npy" in proc.stderr
    for name, a in maps.items():
        back = pillow_labels(tmp_path / "d" / (Path(name).stem + ".png"))
        assert back.dtype == a.dtype and np.array_equal(back, a)


def test_npz_members_and_npy_dtypes(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    a32 = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    vol = np.zeros((3, 4, 5), np.uint8)
    vol[1, 2, 3] = 9
    np.save(src / "signed.npy", a32)
    np.savez(src / "pack.npz", vol=vol, big=np.array([[2**40, 0]], np.uint64),
             names=np.array(["a", "b"]))
    out = tmp_path / "o.jsonl"
    proc = run("encode", src, "-o", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr  # the text member is skipped, not an error
    assert [r["path"] for r in records(out)] == ["pack.npz::vol", "pack.npz::big", "signed.npy"]
    proc = run("decode", out, "-o", tmp_path / "png", cwd=tmp_path)
    assert proc.returncode == 1
    for what in ("signed.npy", "pack.npz::big", "pack.npz::vol"):
        assert what in proc.stderr
    assert proc.stderr.count("use --format npy") == 3
    proc = run("decode", out, "-o", tmp_path / "npy", "--format", "npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for rel, want in (("signed.npy", a32), ("pack/vol.npy", vol), ("pack/big.npy", None)):
        back = np.load(tmp_path / "npy" / rel)
        if want is not None:
            assert back.dtype == want.dtype and np.array_equal(back, want)
    assert np.load(tmp_path / "npy" / "pack" / "big.npy")[0, 0] == 2**40


@pytest.fixture()
def corrupt(tmp_path, camvid) -> Path:
    folder = tmp_path / "in"
    folder.mkdir()
    good = next(camvid.rglob("*.png"))
    shutil.copy(good, folder / "a_good.png")
    (folder / "b_truncated.png").write_bytes(good.read_bytes()[:2000])
    (folder / "c_text.png").write_text("this is not a PNG\n")
    np.save(folder / "d_float.npy", np.zeros((4, 4), np.float32))
    np.save(folder / "e_good.npy", np.ones((2, 3), np.int16))
    return folder


def test_corrupt_inputs_are_named_and_the_rest_go_on(corrupt, tmp_path):
    out = tmp_path / "o.jsonl"
    proc = run("encode", corrupt, "-o", out, "-j", "2", cwd=tmp_path)
    assert proc.returncode == 1
    err = proc.stderr
    assert "b_truncated.png" in err and "truncated" in err
    assert "c_text.png" in err and "not an image" in err
    assert "d_float.npy" in err and "float" in err
    assert "a_good.png" not in err
    assert [r["path"] for r in records(out)] == ["a_good.png", "e_good.npy"]
    assert "(3 failed)" in err
    assert no_temp_files(tmp_path)


def test_fail_fast_leaves_no_output(corrupt, tmp_path):
    out = tmp_path / "o.jsonl"
    for jobs in ("1", "2"):
        proc = run("encode", corrupt, "-o", out, "--fail-fast", "-j", jobs, cwd=tmp_path)
        assert proc.returncode == 1
        assert "b_truncated.png" in proc.stderr and "c_text.png" not in proc.stderr
        assert not out.exists()
        assert no_temp_files(tmp_path)


def test_missing_inputs_and_empty_globs(tmp_path, corrupt):
    out = tmp_path / "o.jsonl"
    proc = run("encode", tmp_path / "nope.png", f"{corrupt}/*.tif", f"{corrupt}/e_*.npy",
               "-o", out, cwd=tmp_path)
    assert proc.returncode == 1
    assert "nope.png: no such file" in proc.stderr
    assert "*.tif: no files match" in proc.stderr
    assert [r["path"] for r in records(out)] == ["e_good.npy"]
    proc = run("encode", tmp_path / "nope.png", "-o", tmp_path / "p.jsonl", cwd=tmp_path)
    assert proc.returncode == 1 and not (tmp_path / "p.jsonl").exists()


def test_refuses_to_overwrite_without_force(corrupt, tmp_path):
    out = tmp_path / "o.jsonl"
    out.write_text("precious\n")
    proc = run("encode", corrupt / "e_good.npy", "-o", out, cwd=tmp_path)
    assert proc.returncode == 2
    assert str(out) in proc.stderr and "--force" in proc.stderr
    assert out.read_text() == "precious\n"
    proc = run("encode", corrupt / "e_good.npy", "-o", out, "--force", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert records(out)[0]["path"] == "e_good.npy"
    assert oct(out.stat().st_mode & 0o777) != "0o600"  # not the temporary file's mode


def test_output_to_stdout(corrupt, tmp_path):
    proc = run("encode", corrupt / "e_good.npy", "-o", "-", cwd=tmp_path)
    assert proc.returncode == 0
    rec = json.loads(proc.stdout)
    assert rec["path"] == "e_good.npy"
    assert np.array_equal(mcr.decode(rec["rle"]), np.ones((2, 3), np.int16))


def test_duplicate_names_need_root(tmp_path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        np.save(tmp_path / sub / "m.npy", np.zeros(3, np.uint8))
    proc = run("encode", "a/m.npy", "b/m.npy", "-o", "o.jsonl", cwd=tmp_path)
    assert proc.returncode == 2 and "--root" in proc.stderr
    proc = run("encode", "a/m.npy", "b/m.npy", "--root", ".", "-o", "o.jsonl", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert [r["path"] for r in records(tmp_path / "o.jsonl")] == ["a/m.npy", "b/m.npy"]


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs a named pipe")
@pytest.mark.parametrize("jobs", ["1", "2"])
def test_ctrl_c_leaves_no_partial_output(tmp_path, jobs):
    """A named pipe blocks the reader mid-run; SIGINT must remove the temporary file."""
    src = tmp_path / "src"
    src.mkdir()
    for i in range(3):
        np.save(src / f"a{i}.npy", np.full((4, 4), i, np.uint8))
    os.mkfifo(src / "z.npy")
    out = tmp_path / "o.jsonl"
    # A shell starts a background job with SIGINT ignored, and Python then
    # leaves it ignored (as a user who runs mcrle that way asks); the test is
    # of Ctrl-C in a terminal, so the child gets the default disposition.
    proc = subprocess.Popen([sys.executable, "-m", "multiclass_rle", "encode", str(src), "-o",
                             str(out), "-j", jobs], cwd=tmp_path, stderr=subprocess.PIPE,
                            text=True, start_new_session=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    err = ""
    try:
        deadline = time.monotonic() + 30
        while not list(tmp_path.glob(".o.jsonl.*.tmp")):
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, "no temporary output appeared"
            time.sleep(0.05)
        time.sleep(0.3)  # the blocked read is reached
        os.killpg(proc.pid, signal.SIGINT)  # like Ctrl-C: the whole process group
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
    assert proc.returncode == 130, err
    assert "interrupted" in err
    assert not out.exists()
    assert no_temp_files(tmp_path)


def test_pillow_missing_gives_install_hint(tmp_path, corrupt):
    hide = "import sys; sys.modules['PIL'] = None"
    out = tmp_path / "o.jsonl"
    rgb = tmp_path / "rgb.png"
    Image.fromarray(np.zeros((4, 5, 3), np.uint8)).save(rgb)
    tif = tmp_path / "m.tif"
    Image.fromarray(np.zeros((4, 5), np.uint16)).save(tif)
    for path in (rgb, tif):
        proc = run("encode", path, "-o", out, cwd=tmp_path, pre=hide)
        assert proc.returncode == 1
        assert 'pip install "multiclass-rle[image]"' in proc.stderr
        assert path.name in proc.stderr and "Traceback" not in proc.stderr
        assert not out.exists()
    # label PNGs (greyscale, palette) and npy need no Pillow
    proc = run("encode", corrupt / "a_good.png", corrupt / "e_good.npy", "-o", out,
               cwd=tmp_path, pre=hide)
    assert proc.returncode == 0, proc.stderr
    assert np.array_equal(mcr.decode(records(out)[0]["rle"]),
                          pillow_labels(corrupt / "a_good.png"))


def test_decode_rejects_bad_records_and_unsafe_paths(tmp_path):
    good = {"path": "ok.png", "rle": mcr.encode(np.zeros((2, 2), np.uint8))}
    lines = [json.dumps(good), "not json",
             json.dumps({"path": "../escape.png", "rle": good["rle"]}),
             json.dumps({"path": "/abs.png", "rle": good["rle"]}),
             json.dumps({"path": "bad.png", "rle": {"size": [2, 2], "counts": "9"}})]
    src = tmp_path / "in.jsonl"
    src.write_text("\n".join(lines) + "\n")
    proc = run("decode", src, "-o", tmp_path / "d", cwd=tmp_path)
    assert proc.returncode == 1
    assert "in.jsonl:2" in proc.stderr and "not a JSON line" in proc.stderr
    assert "in.jsonl:3" in proc.stderr and "unsafe" in proc.stderr
    assert "in.jsonl:4" in proc.stderr
    assert "in.jsonl:5" in proc.stderr and "counts" in proc.stderr
    assert (tmp_path / "d" / "ok.png").exists()
    assert not (tmp_path / "escape.png").exists()
    assert sorted(p.name for p in (tmp_path / "d").iterdir()) == ["ok.png"]


# ---------------------------------------------------------------------------
# info, show, bench, demo


def test_info_json(camvid, camvid_jsonl, tmp_path):
    proc = run("info", camvid_jsonl, "--json", "-j", "2", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    info = json.loads(proc.stdout)
    pngs = sorted(camvid.rglob("*.png"))
    arrays = [pillow_labels(p) for p in pngs]
    assert info["maps"] == len(pngs) == 12
    assert info["shapes"] == {"360x480": 12}
    assert info["dtypes"] == {"uint8": 12}
    assert info["raw_bytes"] == 12 * 360 * 480
    assert info["file_bytes"] == info["rle_bytes"] == camvid_jsonl.stat().st_size
    assert info["png_maps"] == 12 and info["png_bytes"] > 0
    assert info["ratio_vs_png"] == pytest.approx(info["png_bytes"] / info["rle_bytes"])
    stacked = np.stack(arrays)
    labels, counts = np.unique(stacked, return_counts=True)
    assert [d["label"] for d in info["labels"]] == labels.tolist()
    assert [d["pixels"] for d in info["labels"]] == counts.tolist()
    assert sum(d["fraction"] for d in info["labels"]) == pytest.approx(1.0)
    for d in info["labels"]:
        assert d["maps"] == sum(bool((a == d["label"]).any()) for a in arrays)
    assert info["failed"] == 0 and info["errors"] == []


def test_info_text_and_names(camvid_jsonl, tmp_path):
    names = tmp_path / "names.txt"
    names.write_text("\n".join(["Sky", "Building", "Pole", "Road"]) + "\n")
    proc = run("info", camvid_jsonl, "--names", names, "--maps", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for word in ("maps     12", "360x480", "uint8", "raw", "as PNG", "Road"):
        assert word in proc.stdout
    assert proc.stdout.count("\nmap ") == 12


def test_show_preview_with_legend_and_blend(camvid, camvid_jsonl, tmp_path):
    name = records(camvid_jsonl)[3]["path"]
    out = tmp_path / "preview.png"
    proc = run("show", camvid_jsonl, name, "-o", out, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(out) as im:
        assert im.mode == "RGB" and im.width > 480 and im.height >= 360  # map + legend
        pic = np.asarray(im)
    labels = pillow_labels(camvid / name)
    # the fixed palette: label 0 is black, and equal labels have equal colours
    ys, xs = np.nonzero(labels == labels[0, 0])
    assert len({tuple(pic[y, x]) for y, x in zip(ys[:50], xs[:50])}) == 1
    # a unique end of the name is enough; --image blends over a same-size picture
    photo = tmp_path / "photo.png"
    Image.fromarray(np.full((360, 480, 3), 200, np.uint8)).save(photo)
    proc = run("show", camvid_jsonl, Path(name).name, "-o", tmp_path / "blend.png",
               "--image", photo, "--alpha", "0.5", "--no-legend", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    with Image.open(tmp_path / "blend.png") as im:
        assert im.size == (480, 360)
    # existing output, wrong-size image, unknown name
    assert run("show", camvid_jsonl, "-o", out, cwd=tmp_path).returncode == 2
    small = tmp_path / "small.png"
    Image.fromarray(np.zeros((10, 10, 3), np.uint8)).save(small)
    proc = run("show", camvid_jsonl, "-o", tmp_path / "x.png", "--image", small, cwd=tmp_path)
    assert proc.returncode == 1 and "small.png" in proc.stderr
    proc = run("show", camvid_jsonl, "nosuchmap.png", "-o", tmp_path / "y.png", cwd=tmp_path)
    assert proc.returncode == 1 and "no map named" in proc.stderr
    assert not (tmp_path / "x.png").exists() and not (tmp_path / "y.png").exists()


def test_show_label_file_directly(tmp_path):
    vol = np.zeros((5, 12, 10), np.uint16)
    vol[2, 3:6, 4:8] = 700
    np.save(tmp_path / "vol.npy", vol)
    proc = run("show", tmp_path / "vol.npy", "-o", tmp_path / "v.png", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert "slice 2" in proc.stderr
    assert (tmp_path / "v.png").read_bytes()[:4] == b"\x89PNG"


def test_bench(camvid, tmp_path):
    proc = run("bench", camvid, "--limit", "3", "--repeat", "1", "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    res = json.loads(proc.stdout)
    assert res["maps"] == 3
    rows = {r["method"]: r for r in res["methods"]}
    assert rows["mcrle (JSON)"]["exact"] and rows["mcrle (JSON)"]["bytes"] > 0
    assert rows["PNG (Pillow)"]["exact"]
    if "pycocotools" in rows and rows["pycocotools"]["maps"]:
        assert rows["pycocotools"]["exact"]
    proc = run("bench", camvid, "--limit", "2", "--repeat", "1", cwd=tmp_path)
    assert proc.returncode == 0 and "mcrle (JSON)" in proc.stdout and "PNG" in proc.stdout


def test_demo_prints_all_exact(tmp_path):
    proc = run("demo", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip().splitlines()[-1] == "all round trips exact"
    assert "$ mcrle encode" in proc.stdout
    assert list(tmp_path.iterdir()) == []  # works in a temporary folder


def test_json_line_matches_json_dumps(camvid):
    from multiclass_rle.cli._records import json_line

    for png in sorted(camvid.rglob("*.png"))[:4]:
        rle = mcr.encode(pillow_labels(png))
        assert json_line("d/é \"x\".png", rle) == json.dumps(
            {"path": "d/é \"x\".png", "rle": rle}, separators=(",", ":")) + "\n"


# ---------------------------------------------------------------------------
# the binary pack (--format bytes)


def test_bytes_pack_round_trip_info_and_index(camvid, tmp_path):
    pack = tmp_path / "camvid.mcrlpack"
    proc = run("encode", camvid, "-o", pack, "--format", "bytes", "-j", "2", "--verify",
               cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    data = pack.read_bytes()
    assert data.startswith(b"MCRLPACK") and data.endswith(b"MCRLIDX1")
    pngs = sorted(camvid.rglob("*.png"))
    assert len(data) < sum(p.stat().st_size for p in pngs)   # smaller than the PNGs
    # the index lets one map be read alone: seek to it, decode it
    at = int.from_bytes(data[-16:-8], "little")
    index = json.loads(data[at:-16])
    assert [e["path"] for e in index] == sorted(e["path"] for e in index)
    first = index[0]
    one = mcr.decode(data[first["offset"]:first["offset"] + first["length"]])
    assert np.array_equal(one, pillow_labels(camvid / first["path"]))
    # decode and info read the pack like JSON Lines
    out = tmp_path / "restored"
    proc = run("decode", pack, "-o", out, "--format", "npy", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    for png in pngs:
        back = np.load(out / png.relative_to(camvid).with_suffix(".npy"))
        assert np.array_equal(back, pillow_labels(png))
    proc = run("info", pack, "--json", cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["maps"] == len(pngs)


def test_truncated_pack_is_a_clear_error(camvid, tmp_path):
    pack = tmp_path / "p.mcrlpack"
    assert run("encode", camvid, "-o", pack, "--format", "bytes", cwd=tmp_path).returncode == 0
    pack.write_bytes(pack.read_bytes()[:-5])
    proc = run("info", pack, cwd=tmp_path)
    assert proc.returncode != 0
    assert "p.mcrlpack" in proc.stderr and "index" in proc.stderr


def test_pool_keeps_a_bounded_number_of_chunks_in_flight(monkeypatch):
    import operator

    from multiclass_rle.cli import _pool

    drawn = []
    chunks = _pool._chunks

    def spy(*args):
        for chunk in chunks(*args):
            drawn.append(len(chunk))
            yield chunk

    monkeypatch.setattr(_pool, "_chunks", spy)
    tasks = list(range(3000))
    with _pool.Pool(2) as pool:
        it = pool.run(operator.neg, tasks)
        first = next(it)
        assert len(drawn) == _pool.IN_FLIGHT * 2  # not every chunk of 3000 tasks
        rest = list(it)
    assert [first, *rest] == [-t for t in tasks]  # in order, none lost
    assert sum(drawn) == len(tasks) and len(drawn) > 3 * _pool.IN_FLIGHT * 2
