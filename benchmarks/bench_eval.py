#!/usr/bin/env python
"""Benchmark dataset-scale evaluation against hotcoco, panopticapi, torchmetrics and numpy.

Usage::

    python benchmarks/bench_eval.py [--quick] [--markdown] [--data DIR] [--panopticapi DIR]

Every figure is the time per image pair, best of several passes over the
same pairs, with the methods of a table run interleaved in one process, on
real maps from ``../shared/data``:

- **semantic**: CamVid validation frames (12 classes) upscaled to 480x640 and
  1024x2048 (nearest neighbour); each frame's prediction is the frame three
  steps later (a realistic error along every boundary). Ours: a
  ``SemanticEvaluator`` fed compact dicts (the goal: >= 5x hotcoco), Runs and
  numpy arrays; hotcoco's ``SemanticEval`` fed arrays; torchmetrics'
  ``MulticlassJaccardIndex`` fed tensors; a numpy ``bincount`` confusion
  matrix.
- **panoptic**: the COCO panoptic sample (2 images, ~260k pixels each) with
  predictions shifted by a few pixels, some segments dropped or relabelled.
  Ours: a ``PanopticEvaluator`` fed compact dicts of the id maps with their
  ``segments_info`` (the goal: >= 2x hotcoco from its RLEs and >= 20x
  panopticapi); hotcoco's ``PanopticEval`` from COCO-style datasets of
  per-segment RLEs (its RLE path); panopticapi's ``pq_compute`` core on PNG
  folders (it has no other input; PANOPTICAPI_PATH or --panopticapi names a
  checkout of cocodataset/panopticapi); panopticapi's algorithm on numpy
  arrays (np.unique of the combined ids); torchmetrics' ``PanopticQuality``.
- **end to end**: ``mcrle eval gt.json pred.json`` on a COCO panoptic PNG
  folder (PNG reading included), as a command, against hotcoco's PNG path
  (``PanopticEval`` on the same folders) in a fresh process too, with one
  core / thread each and with two.

One core: hotcoco runs with RAYON_NUM_THREADS=1 and torch with
``set_num_threads(1)`` (set before they load). Each table checks that the
tools agree on the result before it times them.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import importlib
import io
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any, Callable

os.environ.setdefault("RAYON_NUM_THREADS", "1")   # hotcoco on one core, unless asked

import numpy as np  # noqa: E402

import multiclass_rle as mcr  # noqa: E402

PEERS: dict[str, str] = {}


def _try(label: str, modname: str) -> Any:
    try:
        mod = importlib.import_module(modname)
    except Exception as exc:
        PEERS[label] = f"not installed ({type(exc).__name__})"
        return None
    try:
        from importlib.metadata import version

        PEERS[label] = version(label)
    except Exception:
        PEERS[label] = getattr(mod, "__version__", "?")
    return mod


hotcoco = _try("hotcoco", "hotcoco")
torch = _try("torch", "torch")
tm_cls = _try("torchmetrics", "torchmetrics.classification") if torch else None
tm_det = importlib.import_module("torchmetrics.detection") if tm_cls else None
PIL_Image = _try("Pillow", "PIL.Image")
if torch is not None:
    torch.set_num_threads(1)


def best_per_item(fns: dict[str, Callable[[], Any]], n_items: int, passes: int,
                  budget: float = 20.0) -> dict[str, float]:
    """Seconds per item of each function (one pass = all items), interleaved, best of passes."""
    best = {k: float("inf") for k in fns}
    spent = {k: 0.0 for k in fns}
    for _ in range(passes):
        for name, fn in fns.items():
            if spent[name] > budget:
                continue
            t = time.perf_counter()
            fn()
            dt = time.perf_counter() - t
            spent[name] += dt
            best[name] = min(best[name], dt / n_items)
    return best


def resize(a: np.ndarray, h: int, w: int) -> np.ndarray:
    r = (np.arange(h) * a.shape[0]) // h
    c = (np.arange(w) * a.shape[1]) // w
    return np.ascontiguousarray(a[r][:, c])


# ---------------------------------------------------------------------------
# semantic


def bincount_confusion(pairs: list[tuple[np.ndarray, np.ndarray]], n: int) -> np.ndarray:
    cm = np.zeros(n * n, dtype=np.int64)
    for t, p in pairs:
        cm += np.bincount(t.ravel().astype(np.intp) * n + p.ravel(), minlength=n * n)
    return cm.reshape(n, n)


def semantic_table(data: Path, quick: bool) -> list[list[str]]:
    labels = np.load(data / "camvid" / "camvid_valannot_101x360x480_uint8.npz")["labels"]
    rows = []
    for h, w, n in ((480, 640, 10 if quick else 30), (1024, 2048, 3 if quick else 10)):
        pairs = [(resize(labels[i], h, w), resize(labels[i + 3], h, w)) for i in range(n)]
        dicts = [(mcr.encode(t), mcr.encode(p)) for t, p in pairs]
        runs = [(mcr.encode_runs(t), mcr.encode_runs(p)) for t, p in pairs]

        def ours(items: list[Any]) -> Callable[[], Any]:
            def run() -> Any:
                ev = mcr.SemanticEvaluator(12)
                for t, p in items:
                    ev.update(t, p)
                return ev.compute()
            return run

        fns: dict[str, Callable[[], Any]] = {"ours, compact dicts": ours(dicts),
                                              "ours, Runs": ours(runs),
                                              "ours, numpy arrays": ours(pairs)}
        if hotcoco is not None:
            def hc() -> Any:
                # metrics at the end, as ours (compute) and torchmetrics (compute) do
                ev = hotcoco.semantic.SemanticEval(12, ignore_index=255)
                for t, p in pairs:
                    ev.update(t, p)
                return ev.results()
            fns["hotcoco SemanticEval, arrays"] = hc
        if tm_cls is not None:
            tensors = [(torch.from_numpy(t.astype(np.int64)), torch.from_numpy(p.astype(np.int64)))
                       for t, p in pairs]

            def tmj() -> Any:
                m = tm_cls.MulticlassJaccardIndex(num_classes=12, average="macro")
                for t, p in tensors:
                    m.update(p[None], t[None])
                return m.compute()
            fns["torchmetrics MulticlassJaccardIndex"] = tmj
        fns["numpy bincount"] = lambda: bincount_confusion(pairs, 12)
        # the tools agree before they are timed
        res = ours(dicts)()
        assert np.array_equal(res.confusion_matrix, bincount_confusion(pairs, 12))
        if hotcoco is not None:
            assert abs(fns["hotcoco SemanticEval, arrays"]()["mIoU"] - res.miou) < 1e-12
        times = best_per_item(fns, n, 3 if quick else 7)
        ref = times["ours, compact dicts"]
        for name, t in times.items():
            rows.append([f"{h}x{w}", name, f"{t * 1e3:.3f}", f"{t / ref:.1f}x"])
    return rows


# ---------------------------------------------------------------------------
# panoptic


def coco_sample(data: Path) -> tuple[list[dict[str, Any]], list[tuple[int, np.ndarray, list]]]:
    base = data / "coco_panoptic_sample"
    gt = json.loads((base / "orig" / "sample_data" / "panoptic_examples.json").read_text())
    cats = json.loads((base / "orig" / "panoptic_coco_categories.json").read_text())
    images = []
    for ann in gt["annotations"]:
        ids = np.load(base / f"panoptic_examples__{ann['image_id']:012d}_uint32.npy")
        images.append((ann["image_id"], ids, ann["segments_info"]))
    return cats, images


def perturbed_pairs(images: list[tuple[int, np.ndarray, list]], n: int, cats: list[dict]
                    ) -> list[tuple[np.ndarray, list, np.ndarray, list]]:
    rng = np.random.default_rng(15)
    cat_ids = [c["id"] for c in cats]
    out = []
    for k in range(n):
        _, ids, segs = images[k % len(images)]
        pred = np.roll(ids, (int(rng.integers(-4, 5)), int(rng.integers(-4, 5))), axis=(0, 1))
        for s in rng.choice([s["id"] for s in segs], size=2, replace=False):
            pred[pred == s] = 0                             # dropped
        psegs = []
        for s in segs:
            if (pred == s["id"]).any():
                cat = s["category_id"] if rng.random() > 0.1 else int(rng.choice(cat_ids))
                psegs.append({"id": s["id"], "category_id": cat})
        out.append((ids, segs, pred.astype(np.uint32), psegs))
    return out


def numpy_pq(pairs: list[tuple[np.ndarray, list, np.ndarray, list]], cats: list[dict]) -> dict:
    """panopticapi's per-image algorithm on arrays: np.unique of gt * 2^32 + pred, then its rules."""
    stats = {c["id"]: [0.0, 0, 0, 0] for c in cats}
    for gt, gsegs, pred, psegs in pairs:
        gt_info = {s["id"]: s for s in gsegs}
        ids, counts = np.unique(pred, return_counts=True)
        area = dict(zip(ids.tolist(), counts.tolist()))
        pred_info = {s["id"]: dict(s, area=area[s["id"]]) for s in psegs}
        keys, inter_c = np.unique(gt.astype(np.uint64) * np.uint64(2**32) + pred,
                                  return_counts=True)
        inter = {(k >> 32, k & 0xFFFFFFFF): c for k, c in zip(keys.tolist(), inter_c.tolist())}
        gm, pm = set(), set()
        for (g, p), x in inter.items():
            if g not in gt_info or p not in pred_info:
                continue
            gs, ps = gt_info[g], pred_info[p]
            if gs["iscrowd"] == 1 or gs["category_id"] != ps["category_id"]:
                continue
            u = ps["area"] + gs["area"] - x - inter.get((0, p), 0)
            if x / u > 0.5:
                stats[gs["category_id"]][0] += x / u
                stats[gs["category_id"]][1] += 1
                gm.add(g)
                pm.add(p)
        crowd = {}
        for g, gs in gt_info.items():
            if g in gm:
                continue
            if gs["iscrowd"] == 1:
                crowd[gs["category_id"]] = g
                continue
            stats[gs["category_id"]][3] += 1
        for p, ps in pred_info.items():
            if p in pm:
                continue
            ign = inter.get((0, p), 0) + (inter.get((crowd[ps["category_id"]], p), 0)
                                          if ps["category_id"] in crowd else 0)
            if ign / ps["area"] <= 0.5:
                stats[ps["category_id"]][2] += 1
    return stats


def coco_rle_datasets(pairs: list, cats: list[dict]) -> tuple[Any, Any]:
    """hotcoco's RLE input: detection-style datasets, one pycocotools RLE per segment."""
    images, anns, res = [], [], []
    for k, (gt, gsegs, pred, psegs) in enumerate(pairs):
        images.append({"id": k, "height": int(gt.shape[0]), "width": int(gt.shape[1]),
                       "file_name": f"{k}.png"})
        g_rles, p_rles = mcr.to_coco(mcr.encode(gt)), mcr.to_coco(mcr.encode(pred))

        def rle(r: dict) -> dict:
            c = r["counts"]
            return {"size": list(r["size"]), "counts": c.decode() if isinstance(c, bytes) else c}
        for s in gsegs:
            anns.append({"id": len(anns) + 1, "image_id": k, "category_id": s["category_id"],
                         "iscrowd": s["iscrowd"], "area": s["area"], "bbox": s["bbox"],
                         "segmentation": rle(g_rles[s["id"]])})
        for s in psegs:
            res.append({"image_id": k, "category_id": s["category_id"], "score": 1.0,
                        "segmentation": rle(p_rles[s["id"]])})
    gt_ds = hotcoco.COCO({"images": images, "annotations": anns, "categories": cats})
    return gt_ds, gt_ds.load_res(res)


def write_coco_folders(folder: Path, pairs: list, cats: list[dict]) -> None:
    for side, idx_map, idx_segs in (("gt", 0, 1), ("pred", 2, 3)):
        png_dir = folder / side
        png_dir.mkdir(parents=True, exist_ok=True)
        anns, images = [], []
        for k, pair in enumerate(pairs):
            ids = pair[idx_map]
            rgb = np.stack([ids % 256, ids // 256 % 256, ids // 65536], -1).astype(np.uint8)
            PIL_Image.fromarray(rgb).save(png_dir / f"{k:06d}.png")
            anns.append({"image_id": k, "file_name": f"{k:06d}.png",
                         "segments_info": pair[idx_segs]})
            images.append({"id": k, "file_name": f"{k:06d}.jpg", "height": int(ids.shape[0]),
                           "width": int(ids.shape[1])})
        (folder / f"{side}.json").write_text(json.dumps({"images": images, "annotations": anns,
                                                         "categories": cats}))


def load_panopticapi(path: str | None) -> Any:
    path = path or os.environ.get("PANOPTICAPI_PATH")
    if not path:
        PEERS["panopticapi"] = "not given (PANOPTICAPI_PATH or --panopticapi)"
        return None
    sys.path.insert(0, path)
    try:
        mod = importlib.import_module("panopticapi.evaluation")
        PEERS["panopticapi"] = f"checkout at {path}"
        return mod
    except Exception as exc:
        PEERS["panopticapi"] = f"not importable ({type(exc).__name__}: {exc})"
        return None


def panoptic_table(data: Path, quick: bool, panopticapi: Any) -> list[list[str]]:
    cats, images = coco_sample(data)
    n = 10 if quick else 20
    pairs = perturbed_pairs(images, n, cats)
    dicts = [(mcr.encode(g), gs, mcr.encode(p), ps) for g, gs, p, ps in pairs]

    def ours(items: list) -> Callable[[], Any]:
        def run() -> Any:
            ev = mcr.PanopticEvaluator(cats)
            for g, gs, p, ps in items:
                ev.update(g, p, gs, ps)
            return ev.compute()
        return run

    fns: dict[str, Callable[[], Any]] = {"ours, compact dicts": ours(dicts),
                                          "ours, numpy arrays": ours(pairs)}
    want = ours(dicts)()
    stats = numpy_pq(pairs, cats)
    assert [stats[c["id"]][1] for c in cats] == want.tp.tolist()
    fns["numpy (panopticapi's algorithm on arrays)"] = lambda: numpy_pq(pairs, cats)
    tmp = tempfile.TemporaryDirectory()
    if hotcoco is not None:
        gt_ds, dt_ds = coco_rle_datasets(pairs, cats)

        def hc() -> Any:
            ev = hotcoco.panoptic.PanopticEval(gt_ds, dt_ds)
            with contextlib.redirect_stdout(io.StringIO()):
                ev.evaluate()
            return ev
        assert abs(hc().results()["All"]["pq"] - want.group("All")["pq"]) < 1e-12
        fns["hotcoco PanopticEval, its RLEs"] = hc
    if panopticapi is not None and PIL_Image is not None:
        folder = Path(tmp.name)
        write_coco_folders(folder, pairs, cats)
        gt_anns = json.loads((folder / "gt.json").read_text())["annotations"]
        pred_anns = json.loads((folder / "pred.json").read_text())["annotations"]
        categories = {c["id"]: c for c in cats}

        def api() -> Any:
            with contextlib.redirect_stdout(io.StringIO()):
                return panopticapi.pq_compute_single_core(
                    0, list(zip(gt_anns, pred_anns)), str(folder / "gt"), str(folder / "pred"),
                    categories)
        got = api().pq_average(categories, isthing=None)[0]["pq"]
        assert abs(got - want.group("All")["pq"]) < 1e-12
        fns["panopticapi pq_compute (PNG folders)"] = api
    times = best_per_item(fns, n, 3 if quick else 7)
    if tm_det is not None:
        things = {c["id"] for c in cats if c["isthing"]}
        stuffs = {c["id"] for c in cats if not c["isthing"]}

        def as_pairs(ids: np.ndarray, segs: list) -> Any:
            cat = np.zeros(ids.shape, np.int64)      # (category, instance) per pixel
            for seg in segs:
                cat[ids == seg["id"]] = seg["category_id"]
            return torch.from_numpy(np.stack([cat, np.where(cat > 0, ids, 0)], -1))
        few = pairs[:2]
        tens = [(as_pairs(g, gs), as_pairs(p, ps)) for g, gs, p, ps in few]

        def tmp_pq() -> Any:
            m = tm_det.PanopticQuality(things=things, stuffs=stuffs, allow_unknown_preds_category=True)
            for g, p in tens:
                m.update(p[None], g[None])
            return m.compute()
        with contextlib.suppress(Exception):
            times.update(best_per_item({"torchmetrics PanopticQuality (2 pairs)": tmp_pq}, 2, 1))
    tmp.cleanup()
    ref = times["ours, compact dicts"]
    return [["COCO sample", name, f"{t * 1e3:.3f}", f"{t / ref:.1f}x"] for name, t in times.items()]


# ---------------------------------------------------------------------------
# end to end: the command on a COCO panoptic PNG folder


HOTCOCO_SCRIPT = """
import contextlib, io, sys
from hotcoco import panoptic
d = sys.argv[1]
ev = panoptic.PanopticEval(d + '/gt.json', d + '/pred.json', gt_folder=d + '/gt',
                           pred_folder=d + '/pred')
with contextlib.redirect_stdout(io.StringIO()):
    ev.evaluate()
print(repr(ev.results()['All']['pq']))
"""


def end_to_end_table(data: Path, quick: bool) -> list[list[str]]:
    if hotcoco is None or PIL_Image is None:
        return []
    cats, images = coco_sample(data)
    n = 40 if quick else 100
    pairs = perturbed_pairs(images, n, cats)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        write_coco_folders(folder, pairs, cats)
        for cores in (1, 2):
            env = dict(os.environ, RAYON_NUM_THREADS=str(cores))
            ours = [sys.executable, "-m", "multiclass_rle", "eval", str(folder / "gt.json"),
                    str(folder / "pred.json"), "-q", "--json", "-j", str(cores)]
            theirs = [sys.executable, "-c", HOTCOCO_SCRIPT, str(folder)]
            res_ours = json.loads(subprocess.run(ours, check=True, capture_output=True,
                                                 text=True, env=env).stdout)
            res_theirs = float(subprocess.run(theirs, check=True, capture_output=True, text=True,
                                              env=env).stdout)
            assert abs(res_ours["result"]["summary"]["All"]["pq"] - res_theirs) < 1e-12
            fns = {f"mcrle eval -j {cores}": lambda: subprocess.run(ours, check=True, env=env,
                                                                    capture_output=True),
                   f"hotcoco PNG path, {cores} thread{'s' if cores > 1 else ''}":
                       lambda: subprocess.run(theirs, check=True, env=env, capture_output=True)}
            times = best_per_item(fns, n, 3 if quick else 5, budget=60)
            ref = times[f"mcrle eval -j {cores}"]
            for name, t in times.items():
                rows.append([f"{n} PNG pairs, {cores} core{'s' if cores > 1 else ''}", name,
                             f"{t * 1e3:.3f}", f"{t / ref:.1f}x"])
    return rows


# ---------------------------------------------------------------------------


def emit(title: str, rows: list[list[str]], markdown: bool) -> None:
    head = ["maps", "method", "ms per pair", "vs ours"]
    print(f"\n{title}\n")
    if markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "|".join([":--", ":--", "--:", "--:"]) + "|")
        for r in rows:
            print("| " + " | ".join(r) + " |")
    else:
        widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(head)]
        print("  ".join(h.ljust(w) for h, w in zip(head, widths)))
        for r in rows:
            print("  ".join(c.ljust(w) for c, w in zip(r, widths)))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true", help="fewer pairs and passes")
    ap.add_argument("--markdown", action="store_true", help="Markdown tables")
    ap.add_argument("--data", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    ap.add_argument("--panopticapi", help="a checkout of cocodataset/panopticapi")
    ap.add_argument("--only", choices=("semantic", "panoptic", "end-to-end"))
    args = ap.parse_args(argv)
    data = Path(args.data)
    if not (data / "INDEX.json").is_file():
        print(f"real data folder {data} is absent", file=sys.stderr)
        return 2
    panopticapi = load_panopticapi(args.panopticapi)
    print(f"# bench_eval {datetime.datetime.now(datetime.timezone.utc):%Y-%m-%d %H:%M} UTC, "
          f"{platform.platform()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
          f"numpy {np.__version__}, multiclass_rle {mcr.__version__}")
    print("# peers: " + ", ".join(f"{k} {v}" for k, v in PEERS.items()))
    vs = "'vs ours': the row's time / ours from compact dicts (above 1: ours is faster)"
    if args.only in (None, "semantic"):
        emit(f"Semantic, per pair, one core ({vs})", semantic_table(data, args.quick),
             args.markdown)
    if args.only in (None, "panoptic"):
        emit(f"Panoptic, per pair, one core ({vs})", panoptic_table(data, args.quick, panopticapi),
             args.markdown)
    if args.only in (None, "end-to-end"):
        emit("End to end on a COCO panoptic PNG folder, per pair, each a fresh process "
             "('vs ours': / mcrle eval with as many cores)", end_to_end_table(data, args.quick),
             args.markdown)
    return 0


if __name__ == "__main__":
    sys.exit(main())
