"""``mcrle eval GT PRED``: every kind of source, pairing, the three tasks, -j, and the
reports of missing, extra and failing pairs. The numbers are the evaluators' own
(tested against the references in test_evaluate_*.py) on the same maps."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr
from multiclass_rle.cli import main

Image = pytest.importorskip("PIL.Image")


def run(capsys, *args) -> tuple[int, str, str]:
    rc = main([str(a) for a in args], prog="mcrle")
    out, err = capsys.readouterr()
    return rc, out, err


def semantic_maps(n=6, shape=(30, 40), seed=0):
    rng = np.random.default_rng(seed)
    gts, preds = [], []
    for _ in range(n):
        g = np.repeat(rng.integers(0, 5, (shape[0], 4)), shape[1] // 4, axis=1).astype(np.uint8)
        g[rng.random(shape) < 0.05] = 255
        p = np.where(rng.random(shape) < 0.2, rng.integers(0, 5, shape), g).astype(np.uint8)
        p[p == 255] = 0
        gts.append(g)
        preds.append(p)
    return gts, preds


def write_pngs(folder: Path, maps, names):
    for m, name in zip(maps, names):
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(m).save(folder / name)


def expected_semantic(gts, preds, **kw):
    ev = mcr.SemanticEvaluator(**kw)
    for g, p in zip(gts, preds):
        ev.update(g, p)
    return ev.compute().to_dict()


@pytest.mark.parametrize("pred_form", ["folder-npy", "jsonl", "jsonl-packed", "bytes"])
def test_semantic_folder_against_every_record_form(tmp_path, capsys, pred_form):
    gts, preds = semantic_maps()
    names = [f"img{i}.png" for i in range(len(gts))]
    write_pngs(tmp_path / "gt", gts, names)
    pred_dir = tmp_path / "pred"
    pred_dir.mkdir()
    for p, name in zip(preds, names):      # predictions as .npy: matched without the extension
        np.save(pred_dir / name.replace(".png", ".npy"), p)
    pred = pred_dir
    if pred_form != "folder-npy":
        pred = tmp_path / ("pred.mcrlpack" if pred_form == "bytes" else "pred.jsonl")
        rc, _, _ = run(capsys, "encode", pred_dir, "-o", pred, "--format", pred_form, "-q")
        assert rc == 0
    rc, out, err = run(capsys, "eval", tmp_path / "gt", pred, "--num-classes", 5,
                       "--ignore-index", 255, "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["task"] == "semantic" and got["pairs"] == len(gts)
    assert got["missing"] == [] and got["extra"] == [] and got["failed"] == []
    assert got["result"] == expected_semantic(gts, preds, num_classes=5, ignore_index=255)


def test_table_with_names_and_parallel_jobs(tmp_path, capsys):
    gts, preds = semantic_maps(n=40, seed=3)
    names = [f"a/{i:03d}.png" for i in range(len(gts))]
    write_pngs(tmp_path / "gt", gts, names)
    write_pngs(tmp_path / "pred", preds, names)
    (tmp_path / "names.txt").write_text("road\nsky\ncar\ntree\nperson\n")
    rc, out1, _ = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--ignore-index", 255,
                      "--names", tmp_path / "names.txt", "--json")
    rc2, out2, _ = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--ignore-index", 255,
                       "--names", tmp_path / "names.txt", "--json", "-j", 2)
    assert rc == rc2 == 0
    assert json.loads(out1) == json.loads(out2)
    rc, table, err = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--ignore-index",
                         255, "--names", tmp_path / "names.txt")
    assert rc == 0 and "person" in table and "mIoU" in table
    assert "semantic: evaluated 40 pairs" in err


def test_missing_extra_and_failing_pairs(tmp_path, capsys):
    gts, preds = semantic_maps(n=4)
    write_pngs(tmp_path / "gt", gts, ["a.png", "b.png", "c.png", "d.png"])
    write_pngs(tmp_path / "pred", preds[:2] + [preds[2][:, :20]],
               ["a.png", "b.png", "c.png"])
    write_pngs(tmp_path / "pred", [preds[3]], ["zzz.png"])
    rc, out, err = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--num-classes", 5,
                       "--ignore-index", 255, "--json")
    assert rc == 1
    got = json.loads(out)
    assert got["missing"] == ["d.png"] and got["extra"] == ["zzz.png"]
    assert got["pairs"] == 2 and got["failed"][0]["name"] == "c.png"
    assert "true has size [30, 40] but pred has size [30, 20]" in got["failed"][0]["reason"]
    assert "d.png: no prediction for this ground truth" in err
    assert "zzz.png: prediction without a ground truth" in err
    assert got["result"] == expected_semantic(gts[:2], preds[:2], num_classes=5,
                                              ignore_index=255)
    # --allow-missing: only the failed pair makes the status 1
    write_pngs(tmp_path / "pred", [preds[2]], ["c.png"])
    rc, _, _ = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--num-classes", 5,
                   "--ignore-index", 255, "--allow-missing", "-q")
    assert rc == 0


def test_unknown_true_label_is_named(tmp_path, capsys):
    gts, preds = semantic_maps(n=2)
    write_pngs(tmp_path / "gt", gts, ["a.png", "b.png"])
    write_pngs(tmp_path / "pred", preds, ["a.png", "b.png"])
    rc, _, err = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--num-classes", 5)
    assert rc == 1
    assert "a.png: true map has label 255" in err and "pass ignore_index=255" in err


def test_volume_auto_detected(tmp_path, capsys):
    rng = np.random.default_rng(1)
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    ev = mcr.VolumeEvaluator()
    for i in range(3):
        t = rng.integers(0, 4, (6, 7, 8)).astype(np.uint8)
        p = np.where(rng.random(t.shape) < 0.2, 0, t).astype(np.uint8)
        np.save(tmp_path / "gt" / f"case{i}.npy", t)
        np.save(tmp_path / "pred" / f"case{i}.npy", p)
        ev.update(t, p, name=f"case{i}.npy")
    rc, out, _ = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--json")
    assert rc == 0
    got = json.loads(out)
    assert got["task"] == "volume" and got["result"] == ev.compute().to_dict()
    rc, out, _ = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--empty-score", "1",
                     "--background", "none")
    assert rc == 0 and "mean Dice" in out


def test_parquet_sources(tmp_path, capsys):
    pytest.importorskip("pyarrow")
    gts, preds = semantic_maps(n=3)
    names = ["x.png", "y.png", "z.png"]
    mcr.write_parquet(tmp_path / "gt.parquet", dict(zip(names, gts)))
    mcr.write_parquet(tmp_path / "pred.parquet", dict(zip(names, preds)))
    rc, out, err = run(capsys, "eval", tmp_path / "gt.parquet", tmp_path / "pred.parquet",
                       "--num-classes", 5, "--ignore-index", 255, "--json")
    assert rc == 0, err
    assert json.loads(out)["result"] == expected_semantic(gts, preds, num_classes=5,
                                                          ignore_index=255)


# ---------------------------------------------------------------------------
# panoptic


@pytest.mark.parametrize("inflate", ["libdeflate", "zlib"])
def test_rgb_png_reader_with_and_without_libdeflate(tmp_path, monkeypatch, inflate):
    """The optional libdeflate path reads the same ids and refuses the same broken files."""
    from multiclass_rle._integrations import png

    if inflate == "libdeflate":
        pytest.importorskip("deflate")
        monkeypatch.setattr(png, "_LIBDEFLATE", None)
    else:
        monkeypatch.setattr(png, "_LIBDEFLATE", False)
    ids = (np.arange(37 * 53, dtype=np.uint32).reshape(37, 53) * 7919) % (1 << 24)
    ids[5:20, 3:40] = 123456
    Image.fromarray(rgb(ids)).save(tmp_path / "a.png")
    data = (tmp_path / "a.png").read_bytes()
    assert np.array_equal(png.read_label_png(data, rgb_ids=True), ids)
    assert png._LIBDEFLATE is not None   # looked up once
    # image data that inflates to too little or is not deflate at all (CRCs valid):
    # zlib's path names the problem either way
    import struct
    import zlib

    at = data.index(b"IDAT") - 4
    (length,) = struct.unpack(">I", data[at:at + 4])
    raw = zlib.decompress(data[at + 8:at + 8 + length])
    for body, message in ((zlib.compress(raw[:-7]), "truncated image data"),
                          (zlib.compress(raw + b"\0" * 9), "more image data"),
                          (b"\x78\x9c" + b"\xff" * 40, "corrupt image data")):
        chunk = struct.pack(">I", len(body)) + b"IDAT" + body + \
            struct.pack(">I", zlib.crc32(b"IDAT" + body))
        bad = data[:at] + chunk + data[at + 12 + length:]
        with pytest.raises(png.PNGError, match=message):
            png.read_label_png(bad, rgb_ids=True)


CATS = [{"id": 1, "name": "person", "isthing": 1}, {"id": 2, "name": "car", "isthing": 1},
        {"id": 3, "name": "sky", "isthing": 0}]


def rgb(ids):
    return np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)


def coco_set(folder: Path, name: str, maps, segments, cats=CATS):
    png_dir = folder / name
    png_dir.mkdir(parents=True)
    anns = []
    for i, (m, segs) in enumerate(zip(maps, segments)):
        Image.fromarray(rgb(m)).save(png_dir / f"{i:04d}.png")
        anns.append({"image_id": 100 + i, "file_name": f"{i:04d}.png", "segments_info": segs})
    path = folder / f"{name}.json"
    path.write_text(json.dumps({"annotations": anns, "categories": cats}))
    return path


def panoptic_maps(n=8, seed=0):
    rng = np.random.default_rng(seed)
    gts, gsegs, preds, psegs = [], [], [], []
    for _ in range(n):
        g = np.zeros((24, 30), np.uint32)
        g[:10] = 3 * 1000                       # sky
        g[12:20, 2:10] = 70000                  # a person
        g[12:20, 14:26] = 70001                 # a car
        g[20:, :] = 0
        shift = int(rng.integers(-3, 4))
        p = np.roll(g, shift, axis=1)
        gts.append(g)
        preds.append(p)
        gsegs.append([{"id": 3000, "category_id": 3, "iscrowd": 0, "area": int((g == 3000).sum())},
                      {"id": 70000, "category_id": 1, "iscrowd": 0, "area": 64},
                      {"id": 70001, "category_id": 2, "iscrowd": 0, "area": 96}])
        psegs.append([{"id": int(s), "category_id": {3000: 3, 70000: 1, 70001: 2}[int(s)]}
                      for s in np.unique(p) if s])
    return gts, gsegs, preds, psegs


def test_coco_panoptic_folders(tmp_path, capsys):
    gts, gsegs, preds, psegs = panoptic_maps()
    gt_json = coco_set(tmp_path, "gt", gts, gsegs)
    pred_json = coco_set(tmp_path, "pred", preds, psegs)
    ev = mcr.PanopticEvaluator(CATS)
    for g, gs, p, ps in zip(gts, gsegs, preds, psegs):
        ev.update(g, p, gs, ps)
    want = ev.compute().to_dict()
    for jobs in ("1", "2"):
        rc, out, err = run(capsys, "eval", gt_json, pred_json, "--json", "-j", jobs)
        assert rc == 0, err
        got = json.loads(out)
        assert got["task"] == "panoptic" and got["pairs"] == 8
        assert got["result"] == want
    rc, table, _ = run(capsys, "eval", gt_json, pred_json)
    assert "Things" in table and "person" in table


@pytest.mark.parametrize("gt_form,pred_form", [("jsonl", "coco"), ("bytes", "jsonl-packed")])
def test_panoptic_from_record_files(tmp_path, capsys, gt_form, pred_form):
    """COCO panoptic sets encoded with mcrle encode --from coco-panoptic keep segments_info
    and categories: evaluated from the RLEs, matched by image id."""
    gts, gsegs, preds, psegs = panoptic_maps()
    gt_json = coco_set(tmp_path, "gt", gts, gsegs)
    pred_json = coco_set(tmp_path, "pred", preds, psegs)
    rc, want, _ = run(capsys, "eval", gt_json, pred_json, "--json")
    assert rc == 0
    gt_src = tmp_path / ("gt.mcrlpack" if gt_form == "bytes" else "gt.jsonl")
    rc, _, err = run(capsys, "encode", "--from", "coco-panoptic", gt_json, "-o", gt_src,
                     "--format", gt_form, "-q")
    assert rc == 0, err
    pred_src = pred_json
    if pred_form != "coco":
        pred_src = tmp_path / "pred.jsonl"
        rc, _, err = run(capsys, "encode", "--from", "coco-panoptic", pred_json, "-o", pred_src,
                         "--format", pred_form, "-q")
        assert rc == 0, err
    rc, out, err = run(capsys, "eval", gt_src, pred_src, "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["task"] == "panoptic" and got["pairs"] == 8
    assert got["result"] == json.loads(want)["result"]


def test_coco_panoptic_errors_name_the_image(tmp_path, capsys):
    gts, gsegs, preds, psegs = panoptic_maps(n=3)
    psegs[1] = [dict(s, category_id=99) if s["id"] == 70001 else s for s in psegs[1]]
    psegs[2] = [s for s in psegs[2] if s["id"] != 3000]
    gt_json = coco_set(tmp_path, "gt", gts, gsegs)
    pred_json = coco_set(tmp_path, "pred", preds, psegs)
    rc, _, err = run(capsys, "eval", gt_json, pred_json)
    assert rc == 1
    assert "101: image 101: pred segment 70001 has unknown category_id 99" in err
    assert "image 102: pred segment ids [3000] are in the map but not in segments_info" in err
    assert "evaluated 1 pair, 2 failed" in err


def test_label_divisor_maps(tmp_path, capsys):
    gts, _, preds, _ = panoptic_maps(n=3)
    (tmp_path / "gt").mkdir()
    (tmp_path / "pred").mkdir()
    ev = mcr.PanopticEvaluator(CATS, label_divisor=1000)
    for i, (g, p) in enumerate(zip(gts, preds)):
        g = np.where(g >= 70000, g - 70000 + 1001 + 1000 * (g - 70000), g).astype(np.int32)
        p = np.where(p >= 70000, p - 70000 + 1001 + 1000 * (p - 70000), p).astype(np.int32)
        np.save(tmp_path / "gt" / f"{i}.npy", g)
        np.save(tmp_path / "pred" / f"{i}.npy", p)
        ev.update(g, p, image_id=f"{i}.npy")
    (tmp_path / "cats.json").write_text(json.dumps(CATS))
    rc, out, err = run(capsys, "eval", tmp_path / "gt", tmp_path / "pred", "--label-divisor",
                       1000, "--categories", tmp_path / "cats.json", "--json")
    assert rc == 0, err
    got = json.loads(out)
    assert got["task"] == "panoptic" and got["result"] == ev.compute().to_dict()


def test_usage_errors(tmp_path, capsys):
    gts, gsegs, preds, psegs = panoptic_maps(n=1)
    gt_json = coco_set(tmp_path, "gt", gts, gsegs)
    (tmp_path / "p").mkdir()
    np.save(tmp_path / "p" / "0000.npy", preds[0])
    rc, _, err = run(capsys, "eval", gt_json, tmp_path / "p")
    assert rc == 2 and "needs panoptic predictions" in err
    rc, _, err = run(capsys, "eval", tmp_path / "p", tmp_path / "p", "--task", "panoptic")
    assert rc == 2 and "needs categories" in err
    rc, _, err = run(capsys, "eval", tmp_path / "nowhere", tmp_path / "p")
    assert rc == 2 and "no such file or folder" in err
    rc, _, err = run(capsys, "eval", tmp_path / "p", tmp_path / "p", "--labels", "1,x")
    assert rc == 2 and "--labels must be integers" in err
