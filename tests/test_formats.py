"""Label maps where they live: every format's reader, its writer where there is one, the
metadata through every record form, and the errors that name file and record."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr
from multiclass_rle._integrations.formats import FormatError
from multiclass_rle._integrations.formats.tools import decode_brush, encode_brush

NIIVUE = Path("niivue_volumes_dev/orig/packages/niivue/demos/images")
PANOPTIC = Path("coco_panoptic_sample/orig/sample_data")


def mcrle(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "multiclass_rle", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


# --- NIfTI / MGZ -------------------------------------------------------------------------

nib = pytest.importorskip("nibabel")


def test_nifti_round_trip_keeps_header_affine_and_dtype(tmp_path):
    rng = np.random.default_rng(0)
    labels = rng.integers(0, 5, (6, 7, 5)).astype(np.int16)
    affine = np.array([[0.5, 0, 0, -10], [0, 0.7, 0, 3], [0, 0, 2.5, 1], [0, 0, 0, 1]])
    for version, cls, suffix in ((1, nib.Nifti1Image, ".nii.gz"), (2, nib.Nifti2Image, ".nii")):
        src = tmp_path / f"seg{version}{suffix}"
        img = cls(labels, affine)
        img.header.set_xyzt_units("mm", "sec")
        img.header["descrip"] = b"test labels"
        img.to_filename(src)
        [m] = mcr.read_labels(src)
        assert m.meta["nifti_version"] == version and m.meta["dtype"] == "<i2"
        np.testing.assert_array_equal(m.array, labels)
        assert m.array.flags.f_contiguous  # nibabel's layout, the RLE's run order
        np.testing.assert_allclose(m.meta["voxel_sizes"], [0.5, 0.7, 2.5], rtol=1e-6)
        assert m.meta["units"] == ["mm", "sec"]
        out = tmp_path / f"out{version}"
        assert mcr.write_labels([m], out, format="nifti") == 1
        back = nib.load(out / f"seg{version}.nii.gz")
        assert back.header.binaryblock == nib.load(src).header.binaryblock
        np.testing.assert_array_equal(back.affine, nib.load(src).affine)
        assert back.get_data_dtype() == np.int16
        np.testing.assert_array_equal(np.asanyarray(back.dataobj), labels)


def test_float_nifti_with_integer_values_reads_and_writes_back_as_float(tmp_path):
    src = tmp_path / "fsl.nii.gz"
    nib.Nifti1Image(np.arange(24, dtype=np.float32).reshape(2, 3, 4), np.eye(4)).to_filename(src)
    [m] = mcr.read_labels(src)
    assert m.array.dtype == np.uint8 and m.meta["dtype"] == "<f4"
    mcr.write_labels([m], tmp_path / "o", format="nifti")
    back = nib.load(tmp_path / "o" / "fsl.nii.gz")
    assert back.get_data_dtype() == np.float32
    np.testing.assert_array_equal(back.get_fdata(), np.arange(24).reshape(2, 3, 4))


def test_nifti_with_non_integer_labels_is_refused_naming_the_voxel(tmp_path):
    data = np.zeros((3, 3, 3), np.float32)
    data[1, 2, 0] = 2.5
    src = tmp_path / "prob.nii"
    nib.Nifti1Image(data, np.eye(4)).to_filename(src)
    with pytest.raises(FormatError, match=r"prob.nii: non-integer voxel values: 2.5 at voxel "
                                          r"\(1, 2, 0\) \(1 such voxels\)"):
        list(mcr.read_labels(src))
    proc = mcrle("encode", src, tmp_path / "ok.nii.gz", "-o", tmp_path / "o.mcrlpack")
    assert proc.returncode == 1 and "non-integer voxel values" in proc.stderr


@pytest.mark.parametrize("name, fmt", [("aal.nii.gz", "nifti"), ("lesion.nii.gz", "nifti"),
                                       ("aparc.a2009s+aseg.mgz", "mgz")])
def test_real_volumes_round_trip_through_every_record_form(data_dir, tmp_path, name, fmt):
    src = data_dir / NIIVUE / name
    if not src.is_file():
        pytest.skip(f"{src} is absent")
    orig = nib.load(src)
    forms = [("jsonl", "v.jsonl"), ("jsonl-packed", "v.jsonl"), ("bytes", "v.pack")]
    if _have("pyarrow"):
        forms.append(("parquet", "v.parquet"))
    for form, out in forms:
        rec = tmp_path / form / out
        rec.parent.mkdir()
        assert mcrle("encode", src, "-o", rec, "--format", form).returncode == 0
        proc = mcrle("decode", rec, "-o", tmp_path / form / "back", "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        back = nib.load(tmp_path / form / "back" / name)
        assert back.header.binaryblock == orig.header.binaryblock
        np.testing.assert_array_equal(back.affine, orig.affine)
        assert back.get_data_dtype() == orig.get_data_dtype()
        np.testing.assert_array_equal(np.asanyarray(back.dataobj), np.asanyarray(orig.dataobj))


# --- COCO panoptic, Cityscapes -------------------------------------------------------------

def _have(module):
    try:
        __import__(module)
    except ImportError:
        return False
    return True


@pytest.mark.parametrize("out", ["p.mcrlpack", "p.jsonl", "p.parquet"])
def test_coco_panoptic_round_trip_is_exact(data_dir, tmp_path, out):
    pytest.importorskip("PIL")
    if out.endswith(".parquet"):
        pytest.importorskip("pyarrow")
    src = data_dir / PANOPTIC / "panoptic_examples.json"
    maps = list(mcr.read_labels(src))
    assert [m.name for m in maps] == ["panoptic_examples/000000142238.png",
                                      "panoptic_examples/000000439180.png"]
    assert maps[0].array.dtype == np.uint32 and "categories" in maps[0].dataset
    assert {s["id"] for s in maps[0].meta["segments_info"]} == set(
        mcr.labels(mcr.encode(maps[0].array)).tolist()) - {0}
    rec = tmp_path / out
    assert mcrle("encode", src, "-o", rec, "-j", "2").returncode == 0
    proc = mcrle("decode", rec, "-o", tmp_path / "back", "--format", "coco-panoptic")
    assert proc.returncode == 0, proc.stderr
    assert json.loads((tmp_path / "back" / "panoptic_examples.json").read_text()) == \
        json.loads(src.read_text())
    for m in maps:
        got = mcr.rgb_to_id(np.asarray(__import__("PIL.Image").Image.open(tmp_path / "back" /
                                                                          m.name)))
        np.testing.assert_array_equal(got, m.array)


def test_panoptic_json_listing_many_images_first_is_told_by_its_png_folder(tmp_path):
    doc = {"images": [{"id": i, "file_name": f"{i:012d}.jpg", "width": 2, "height": 2}
                      for i in range(400)], "annotations": [], "categories": []}
    path = tmp_path / "panoptic_val2017.json"
    path.write_text(json.dumps(doc))
    from multiclass_rle._integrations.formats import detect

    assert len(json.dumps(doc["images"])) > 4096 and detect(str(path)) is None
    (tmp_path / "panoptic_val2017").mkdir()
    assert detect(str(path)) == "coco-panoptic"


def test_panoptic_id_missing_from_segments_info_fails_that_image_only(data_dir, tmp_path):
    src = data_dir / PANOPTIC / "panoptic_examples.json"
    doc = json.loads(src.read_text())
    dropped = doc["annotations"][0]["segments_info"].pop(2)["id"]
    (tmp_path / "panoptic_examples.json").write_text(json.dumps(doc))
    (tmp_path / "panoptic_examples").symlink_to(src.parent / "panoptic_examples")
    proc = mcrle("encode", tmp_path / "panoptic_examples.json", "-o", tmp_path / "o.jsonl")
    assert proc.returncode == 1
    assert f"segment id {dropped} (RGB" in proc.stderr and "000000142238.png" in proc.stderr
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 1  # the other image
    assert mcrle("encode", tmp_path / "panoptic_examples.json", "-o", tmp_path / "f.jsonl",
                 "--fail-fast").returncode == 1
    assert not (tmp_path / "f.jsonl").exists()


def test_cityscapes_ids_and_labels_table(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    ids = np.array([[7, 7, 26], [24, 0, 33]], np.uint8)
    frame = tmp_path / "aachen" / "aachen_000000_000019_gtFine_labelIds.png"
    frame.parent.mkdir()
    pil.fromarray(ids).save(frame)
    pil.fromarray(np.zeros((2, 3, 3), np.uint8)).save(str(frame).replace("labelIds", "color"))
    [m] = mcr.read_labels(tmp_path, format="cityscapes", ids="trainIds")
    assert m.array.tolist() == [[0, 0, 13], [11, 255, 18]]
    assert m.meta["city"] == "aachen" and m.meta["converted_from"] == "labelIds"
    names = {row["id"]: row["name"] for row in m.dataset["labels"]}
    assert names[26] == "car" and len(m.dataset["labels"]) == 35
    proc = mcrle("encode", tmp_path, "--from", "cityscapes", "-o", tmp_path / "c.jsonl")
    assert proc.returncode == 0, proc.stderr  # the colour PNG is not read
    rec = json.loads((tmp_path / "c.jsonl").read_text().splitlines()[0])
    assert rec["meta"]["ids"] == "labelIds" and "cityscapes" in rec["datasets"]


# --- Kaggle CSV ---------------------------------------------------------------------------

def test_kaggle_csv_round_trip_classes_and_order(tmp_path):
    text = ("ImageId,ClassId,EncodedPixels\n"
            "a.jpg,1,1 3 10 2\n"
            "a.jpg,3,5 2\n"
            "b.jpg,2,\n")
    src = tmp_path / "train.csv"
    src.write_text(text)
    maps = list(mcr.read_labels(src, shape=(4, 3)))
    assert [m.name for m in maps] == ["a.jpg", "b.jpg"]
    assert maps[0].array.tolist() == [[1, 3, 0], [1, 3, 1], [1, 0, 1], [0, 0, 0]]
    assert not maps[1].array.any()
    for form in ("jsonl", "bytes"):
        rec = tmp_path / f"k.{form}"
        assert mcrle("encode", src, "--shape", "4x3", "-o", rec, "--format", form
                     ).returncode == 0
        assert mcrle("decode", rec, "-o", tmp_path / f"back-{form}.csv",
                     "--format", "kaggle-csv").returncode == 0
        assert (tmp_path / f"back-{form}.csv").read_text() == text
    c = next(mcr.read_labels(src, shape=(4, 3), order="C"))  # row by row
    assert c.array[0].tolist() == [1, 1, 1]


def test_kaggle_shape_from_columns_and_instances(tmp_path):
    src = tmp_path / "cells.csv"
    src.write_text("id,annotation,width,height\nx,1 2,3,2\nx,4 2,3,2\n")
    [m] = mcr.read_labels(src)
    assert m.array.tolist() == [[1, 0, 2], [1, 2, 0]]
    assert [r["label"] for r in m.meta["rows"]] == [1, 2]


@pytest.mark.parametrize("pairs, words", [
    ("1 3 2 2", "pairs 1 and 2 overlap: pixels 1..3 and 2..3"),
    ("10 4", "pair 1 (start 10, length 4) runs to pixel 13, past the image's 12 pixels"),
    ("1 2 3", "3 numbers"),
    ("0 2", "pair 1 starts at pixel 0"),
    ("4 0", "pair 1 (start 4) has length 0"),
])
def test_kaggle_bad_rows_name_file_row_and_image(tmp_path, pairs, words):
    src = tmp_path / "bad.csv"
    src.write_text(f"ImageId,EncodedPixels\nok.jpg,1 1\nbad.jpg,{pairs}\n")
    proc = mcrle("encode", src, "--shape", "4x3", "-o", tmp_path / "o.jsonl")
    assert proc.returncode == 1
    assert f"bad.csv:3 (ImageId 'bad.jpg'): {words}" in proc.stderr, proc.stderr
    assert len((tmp_path / "o.jsonl").read_text().splitlines()) == 1


def test_kaggle_csv_of_many_rows_streams_with_jobs(tmp_path):
    rng = np.random.default_rng(1)
    lines = ["ImageId,EncodedPixels"]
    for i in range(10_000):
        s = int(rng.integers(1, 50))
        lines.append(f"img{i:05d},{s} {int(rng.integers(1, 40))} {s + 60} 3")
    (tmp_path / "big.csv").write_text("\n".join(lines) + "\n")
    proc = mcrle("encode", tmp_path / "big.csv", "--shape", "16x16", "-o", tmp_path / "b.pack",
                 "-j", "2")
    assert proc.returncode == 0, proc.stderr
    assert "encoded 10000 maps from 1 file" in proc.stderr
    assert mcrle("decode", tmp_path / "b.pack", "-o", tmp_path / "back.csv", "--format",
                 "kaggle-csv").returncode == 0
    assert (tmp_path / "back.csv").read_text() == (tmp_path / "big.csv").read_text()


# --- annotation tools ------------------------------------------------------------------------

#: label-studio-converter's own test vector (tests/test_brush.py): values -> its rle
LS_VALUES = [1, 1, 1, 1, 2, 3, 5, 6, 7, 8, 4, 4, 4, 4, 4, 4, 4, 4]
LS_RLE = [0, 0, 0, 18, 57, 27, 252, 96, 32, 1, 0, 6, 0, 40, 0, 192, 3, 128, 17, 56, 32]


def test_label_studio_brush_decoder_on_the_converter_example():
    assert decode_brush(LS_RLE).tolist() == LS_VALUES
    with pytest.raises(FormatError, match="truncated"):
        decode_brush(LS_RLE[:12])


def test_label_studio_brush_against_label_studio_converter():
    brush = pytest.importorskip("label_studio_converter.brush")
    rng = np.random.default_rng(2)
    for _ in range(5):
        mask = (rng.random((20, 30)) < 0.3).astype(np.uint8) * 255
        rgba = np.repeat(mask.ravel(), 4)
        theirs = brush.encode_rle(rgba)
        assert encode_brush(rgba) == list(theirs)
        np.testing.assert_array_equal(decode_brush(theirs), brush.decode_rle(theirs))


def _ls_export(tmp_path, masks):
    results = []
    for k, (name, mask) in enumerate(masks):
        results.append({"id": f"r{k}", "type": "brushlabels", "from_name": "tag",
                        "to_name": "image", "original_width": mask.shape[1],
                        "original_height": mask.shape[0],
                        "value": {"format": "rle", "brushlabels": [name],
                                  "rle": encode_brush(np.repeat(mask.ravel() * 255, 4))}})
    doc = [{"id": 7, "data": {"image": "/data/upload/1/street.jpg"},
            "annotations": [{"id": 3, "result": results}]}]
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    return path


def test_label_studio_export_to_label_map(tmp_path):
    car = np.zeros((4, 5), np.uint8)
    car[1:3, 1:4] = 1
    road = np.zeros((4, 5), np.uint8)
    road[2:, :] = 1
    path = _ls_export(tmp_path, [("road", road), ("car", car)])
    [m] = mcr.read_labels(path)
    assert m.name == "street.jpg" and m.dataset["classes"] == {"1": "car", "2": "road"}
    assert m.array.tolist() == [[0, 0, 0, 0, 0], [0, 1, 1, 1, 0], [2, 1, 1, 1, 2],
                                [2, 2, 2, 2, 2]]
    assert m.meta["task_id"] == 7 and "rle" not in m.meta["results"][0]["value"]
    [inst] = mcr.read_labels(path, instances=True)
    assert inst.array[2].tolist() == [1, 2, 2, 2, 1]


CVAT_DOC_RLE = "3, 5, 7, 7, 5, 9, 3, 11, 2, 11, 2, 12, 1, 12, 1, 26, 1, 12, 1, 12, 2, 11, 3, 9, 5, 7, 7, 5, 3"


def _cvat(tmp_path, body, size=(1200, 1600)):
    path = tmp_path / "annotations.xml"
    path.write_text(f"""<?xml version="1.0" encoding="utf-8"?>
<annotations><version>1.1</version><meta><task><labels>
<label><name>car</name></label><label><name>plate</name></label></labels></task></meta>
<image id="0" name="filename000.jpg" width="{size[1]}" height="{size[0]}">{body}</image>
</annotations>""")
    return path


def test_cvat_mask_of_the_format_documentation(tmp_path):
    path = _cvat(tmp_path, f'<mask label="car" source="manual" occluded="0" rle="{CVAT_DOC_RLE}" '
                           f'left="707" top="888" width="13" height="15" z_order="0"></mask>')
    [m] = mcr.read_labels(path)
    box = m.array[888:903, 707:720]
    assert box.sum() == 195 - sum(int(x) for x in CVAT_DOC_RLE.split(",")[0::2])
    assert m.array.sum() == box.sum() and box[0, :3].tolist() == [0, 0, 0]
    assert box[7].tolist() == [1] * 13  # the widest row: 26 = the end of row 6 and row 7
    assert m.meta["objects"][0]["label"] == "car" and m.dataset["classes"]["1"] == "car"


def test_cvat_polygons_z_order_and_bad_boxes(tmp_path):
    pytest.importorskip("pycocotools")
    body = ('<polygon label="plate" points="0,0;4,0;4,4;0,4" z_order="2"></polygon>'
            '<mask label="car" rle="0, 36" left="0" top="0" width="6" height="6" z_order="1">'
            '</mask>')
    [m] = mcr.read_labels(_cvat(tmp_path, body, (6, 6)))
    assert m.array[1, 1] == 2 and m.array[5, 5] == 1  # the plate is drawn over the car
    bad = _cvat(tmp_path, '<mask label="car" rle="0, 36" left="2" top="0" width="6" '
                          'height="6"></mask>', (6, 6))
    with pytest.raises(FormatError, match=r"mask 1 \(label 'car'\): its box x 2..7, y 0..5 "
                                          r"\(6x6\) leaves the 6x6 image"):
        list(mcr.read_labels(bad))


def test_sa1b_overlap_rules(tmp_path):
    from pycocotools import mask as mask_utils

    big = np.zeros((4, 4), np.uint8, order="F")
    big[:, :3] = 1
    small = np.zeros((4, 4), np.uint8, order="F")
    small[1:3, 1:3] = 1
    anns = [{"id": 10 + k, "segmentation": {**mask_utils.encode(np.asfortranarray(m)),
                                            "counts": mask_utils.encode(
                                                np.asfortranarray(m))["counts"].decode()},
             "predicted_iou": 0.9, "bbox": [0, 0, 1, 1]} for k, m in enumerate((big, small))]
    path = tmp_path / "sa_1.json"
    path.write_text(json.dumps({"image": {"image_id": 1, "width": 4, "height": 4,
                                          "file_name": "sa_1.jpg"}, "annotations": anns}))
    [m] = mcr.read_labels(path)
    assert m.array[1, 1] == 2 and m.array[0, 0] == 1 and m.array[0, 3] == 0
    assert m.meta["annotations"][1] == {"label": 2, "id": 11, "predicted_iou": 0.9,
                                        "bbox": [0, 0, 1, 1]}
    [first] = mcr.read_labels(path, overlap="first")
    assert first.array[1, 1] == 1
    with pytest.raises(FormatError, match="masks overlap"):
        list(mcr.read_labels(path, overlap="error"))


# --- command line: auto, default forms, info ------------------------------------------------

def test_auto_says_when_it_cannot_tell(tmp_path):
    (tmp_path / "x.json").write_text('{"hello": 1}')
    proc = mcrle("encode", tmp_path / "x.json", "-o", tmp_path / "o.jsonl")
    assert proc.returncode == 1 and "cannot tell its format" in proc.stderr
    assert "--from" in proc.stderr


def test_default_output_is_the_smallest_form_for_the_name(tmp_path):
    labels = np.kron(np.arange(12, dtype=np.uint8).reshape(3, 4), np.ones((20, 20), np.uint8))
    np.save(tmp_path / "m.npy", labels)
    assert mcrle("encode", tmp_path / "m.npy", "-o", tmp_path / "a.jsonl").returncode == 0
    rec = json.loads((tmp_path / "a.jsonl").read_text())
    assert set(rec["rle"]) == {"size", "dtype", "packed"}
    assert mcrle("encode", tmp_path / "m.npy", "-o", tmp_path / "a.mcrlpack").returncode == 0
    assert (tmp_path / "a.mcrlpack").read_bytes().startswith(b"MCRLPACK")
    info = json.loads(mcrle("info", tmp_path / "a.jsonl", "--json").stdout)
    assert info["format"] == "jsonl-packed"
    assert set(info["forms"]) == {"jsonl", "jsonl-packed", "bytes"}
    assert info["forms"]["jsonl-packed"] == (tmp_path / "a.jsonl").stat().st_size
    text = mcrle("info", tmp_path / "a.jsonl").stdout
    assert "forms    " in text and "(this file's form)" in text


def test_parquet_output_keeps_metadata_and_reads_back_in_decode_and_info(tmp_path):
    pytest.importorskip("pyarrow")
    csv = tmp_path / "train.csv"
    csv.write_text("ImageId,EncodedPixels,ClassId\na.jpg,1 3 10 2,2\nb.jpg,5 2,1\n")
    out = tmp_path / "m.parquet"
    proc = mcrle("encode", csv, "--from", "kaggle-csv", "--shape", "4,3", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert out.read_bytes()[:4] == b"PAR1"
    maps = {n: (a, m) for n, a, m in mcr.iter_parquet(out, meta=True)}
    assert set(maps) == {"a.jpg", "b.jpg"} and maps["a.jpg"][1]["dataset"] == "train.csv"
    assert mcr.parquet_datasets(out)["train.csv"]["format"] == "kaggle-csv"
    info = json.loads(mcrle("info", out, "--json").stdout)
    assert info["format"] == "parquet" and info["maps"] == 2
    proc = mcrle("decode", out, "-o", tmp_path / "back.csv", "--format", "kaggle-csv")
    assert proc.returncode == 0, proc.stderr
    assert (tmp_path / "back.csv").read_text() == csv.read_text()


def test_parquet_output_without_pyarrow_is_a_clear_error(tmp_path):
    np.save(tmp_path / "m.npy", np.zeros((2, 2), np.uint8))
    code = ("import sys; sys.modules['pyarrow'] = None\n"
            "from multiclass_rle.cli import main\n"
            f"sys.exit(main(['encode', {str(tmp_path / 'm.npy')!r}, '-o', "
            f"{str(tmp_path / 'm.parquet')!r}]))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert proc.returncode != 0
    assert "pyarrow" in proc.stderr and "multiclass-rle[arrow]" in proc.stderr
    assert not (tmp_path / "m.parquet").exists()


# --- round trips source -> mcrle file -> source, for the formats written back ----------------

def _record_forms():
    forms = [("bytes", "r.mcrlpack"), ("jsonl", "r.jsonl")]
    if _have("pyarrow"):
        forms.append(("parquet", "r.parquet"))
    return forms


def _cli_round_trip(tmp_path, src, fmt, out, *options, read=None):
    """``src`` -> ``mcrle encode`` (each record form) -> ``mcrle decode --format fmt`` ->
    read_labels: (the source's maps, the maps read back) per form."""
    read = dict(read or {})
    orig = list(mcr.read_labels(src, format=fmt, **read))
    for form, name in _record_forms():
        rec = tmp_path / form / name
        rec.parent.mkdir()
        proc = mcrle("encode", src, "--from", fmt, *options, "-o", rec, "--format", form)
        assert proc.returncode == 0, proc.stderr
        dest = tmp_path / form / out
        proc = mcrle("decode", rec, "-o", dest, "--format", fmt)
        assert proc.returncode == 0, proc.stderr
        back_src = dest if dest.is_file() else dest / src.name
        yield form, orig, list(mcr.read_labels(back_src, format=fmt, **read))


def _same(orig, back, form, ignore_dataset=("file",)):
    assert [m.name for m in back] == [m.name for m in orig], form
    for a, b in zip(orig, back):
        assert a.array.dtype == b.array.dtype and np.array_equal(a.array, b.array), (form, a.name)
        assert a.meta == b.meta, (form, a.name)
        drop = lambda d: {k: v for k, v in d.items() if k not in ignore_dataset}  # noqa: E731
        assert drop(a.dataset) == drop(b.dataset), form


def test_label_studio_round_trip_keeps_maps_tasks_and_results(tmp_path):
    car = np.zeros((4, 5), np.uint8)
    car[1:3, 1:4] = 1
    road = np.zeros((4, 5), np.uint8)
    road[2:, :] = 1
    src = _ls_export(tmp_path, [("road", road), ("car", car)])  # overlapping brushes
    doc = json.loads(src.read_text())
    doc[0]["created_at"] = "2024-05-01T10:00:00Z"
    doc[0]["annotations"][0]["lead_time"] = 12.5
    doc[0]["annotations"][0]["result"].append(
        {"id": "w", "type": "choices", "from_name": "weather", "to_name": "image",
         "value": {"choices": ["rain"]}})
    doc[0]["annotations"].append({"id": 4, "result": doc[0]["annotations"][0]["result"][1:2]})
    doc.append({"id": 8, "data": {"image": "s3://bucket/b.png"}, "annotations": [
        {"id": 5, "result": [dict(doc[0]["annotations"][0]["result"][0], id="q")]}]})
    src.write_text(json.dumps(doc))
    for form, orig, back in _cli_round_trip(tmp_path, src, "label-studio", "ls.json"):
        assert len(orig) == 3 and orig[0].meta["annotation"] == {"lead_time": 12.5}
        _same(orig, back, form)
    for inst, back in ((False, "ls.json"), (True, "inst.json")):
        maps = list(mcr.read_labels(src, instances=inst))
        assert mcr.write_labels(maps, tmp_path / back, format="label-studio") == 3
        _same(maps, list(mcr.read_labels(tmp_path / back, instances=inst)), inst)
    written = json.loads((tmp_path / "ls.json").read_text())
    assert written[0]["created_at"] == "2024-05-01T10:00:00Z"
    assert [len(t["annotations"]) for t in written] == [2, 1]
    brush = pytest.importorskip("label_studio_converter.brush")
    region = written[0]["annotations"][0]["result"][0]  # "road", under "car" where they meet
    rgba = brush.decode_rle(region["value"]["rle"])
    expected = (road.astype(bool) & ~car.astype(bool)).astype(np.uint8) * 255
    np.testing.assert_array_equal(rgba[3::4].reshape(4, 5), expected)


def test_cvat_round_trip_keeps_masks_polygons_other_shapes_and_meta(tmp_path):
    pytest.importorskip("pycocotools")
    body = (f'<mask label="car" source="manual" occluded="0" rle="{CVAT_DOC_RLE}" left="7" '
            f'top="8" width="13" height="15" z_order="0"><attribute name="colour">red'
            f'</attribute></mask>'
            '<polygon label="plate" source="manual" occluded="0" points="5,5;15,5;15,15;5,15" '
            'z_order="1"></polygon>'
            '<box label="car" occluded="0" xtl="1" ytl="2" xbr="3" ybr="4" z_order="0"></box>')
    src = _cvat(tmp_path, body, (30, 40))
    for form, orig, back in _cli_round_trip(tmp_path, src, "cvat", "annotations.xml"):
        assert orig[0].array[15, 18] == 1 and orig[0].array[10, 10] == 2  # plate over car
        assert "<box" in orig[0].meta["other_shapes"][0]
        assert orig[0].dataset["meta_xml"].startswith("<meta>")
        _same(orig, back, form)
    for inst in (False, True):
        maps = list(mcr.read_labels(src, instances=inst))
        mcr.write_labels(maps, tmp_path / f"w{inst}.xml", format="cvat")
        _same(maps, list(mcr.read_labels(tmp_path / f"w{inst}.xml", instances=inst)), inst)


def test_sa1b_round_trip_and_pycocotools_reads_the_written_masks(tmp_path):
    from pycocotools import mask as mask_utils

    big = np.zeros((6, 5), np.uint8, order="F")
    big[:, :4] = 1
    small = np.zeros((6, 5), np.uint8, order="F")
    small[1:3, 1:3] = 1
    anns = [{"id": 10 + k, "area": int(m.sum()), "bbox": [0, 0, 4, 6], "predicted_iou": 0.9,
             "point_coords": [[1.5, 2.0]], "crop_box": [0, 0, 5, 6],
             "segmentation": {"size": [6, 5], "counts": mask_utils.encode(m)["counts"].decode()}}
            for k, m in enumerate((big, small))]
    src = tmp_path / "sa_7.json"
    src.write_text(json.dumps({"image": {"image_id": 7, "width": 5, "height": 6,
                                         "file_name": "sa_7.jpg"}, "annotations": anns}))
    for form, orig, back in _cli_round_trip(tmp_path, src, "sa1b", "out"):
        _same(orig, back, form)
    written = json.loads((tmp_path / "bytes" / "out" / "sa_7.json").read_text())
    # each mask is the visible part of the source's, byte for byte as pycocotools encodes it
    for a, m in zip(written["annotations"], (big & ~small, small)):
        ref = mask_utils.encode(np.asfortranarray(m))
        assert a["segmentation"] == {"size": [6, 5], "counts": ref["counts"].decode()}


def test_cityscapes_round_trip_through_png(tmp_path):
    pil = pytest.importorskip("PIL.Image")
    ids = np.array([[7, 7, 26], [24, 0, 33]], np.uint8)
    frame = tmp_path / "src" / "aachen" / "aachen_000000_000019_gtFine_labelIds.png"
    frame.parent.mkdir(parents=True)
    pil.fromarray(ids).save(frame)
    rec = tmp_path / "c.mcrlpack"
    assert mcrle("encode", tmp_path / "src", "--from", "cityscapes", "-o", rec).returncode == 0
    assert mcrle("decode", rec, "-o", tmp_path / "back", "--format", "png").returncode == 0
    back = tmp_path / "back" / "aachen" / frame.name
    np.testing.assert_array_equal(np.asarray(pil.open(back)), ids)
    [a] = mcr.read_labels(tmp_path / "src", format="cityscapes")
    [b] = mcr.read_labels(tmp_path / "back", format="cityscapes")
    assert np.array_equal(a.array, b.array) and a.meta == b.meta and a.dataset == b.dataset


@pytest.mark.parametrize("fmt, dest", [("label-studio", "x.json"), ("cvat", "x.xml"),
                                       ("sa1b", "out")])
def test_maps_from_elsewhere_are_written_in_the_tool_formats(tmp_path, fmt, dest):
    arr = np.array([[0, 1, 1, 3], [2, 2, 0, 3], [2, 0, 0, 3]], np.uint8)
    np.save(tmp_path / "m.npy", arr)
    rec = tmp_path / "m.jsonl"
    assert mcrle("encode", tmp_path / "m.npy", "-o", rec).returncode == 0
    proc = mcrle("decode", rec, "-o", tmp_path / dest, "--format", fmt)
    assert proc.returncode == 0, proc.stderr
    path = tmp_path / dest
    [m] = mcr.read_labels(path / "m.json" if path.is_dir() else path, format=fmt)
    np.testing.assert_array_equal(m.array, arr)  # labels 1..3 keep their numbers


def test_cvat_xml_with_a_dtd_is_refused(tmp_path):
    import pyexpat

    lol = "".join(f'<!ENTITY l{i} "{f"&l{i - 1};" * 10}">' for i in range(1, 10))
    path = tmp_path / "bomb.xml"
    path.write_text(f'<?xml version="1.0"?>\n<!-- a comment -->\n<!DOCTYPE annotations '
                    f'[<!ENTITY l0 "lol">{lol}]>\n<annotations><version>1.1</version>'
                    f'<image id="0" name="a" width="2" height="2">&l9;</image></annotations>')
    with pytest.raises(FormatError, match=r"bomb.xml: has a DTD \(<!DOCTYPE"):
        list(mcr.read_labels(path, format="cvat"))
    proc = mcrle("encode", path, "--from", "cvat", "-o", tmp_path / "o.jsonl")
    assert proc.returncode == 1 and "has a DTD" in proc.stderr
    assert pyexpat.EXPAT_VERSION  # the parser of the rest (see docs/security.md)
