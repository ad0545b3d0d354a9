"""The ``mcrle`` command (also ``python -m multiclass_rle``).

Subcommands: encode, decode, info, show, eval, bench, demo. Exit status: 0 when
everything worked, 1 when some inputs failed (each reported with its path and
the reason; the others go on), 2 for usage errors (bad options, an existing
output without --force), 130 after Ctrl-C. Output files are written under a
temporary name and renamed at the end, so an error or Ctrl-C never leaves a
half-written file. See docs/cli.md.
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
from collections.abc import Sequence
from typing import Any

__all__ = ["main", "build_parser"]

EXAMPLES = """\
examples:
  mcrle encode labels/ -o labels.jsonl -j 4 --verify
  mcrle info labels.jsonl
  mcrle decode labels.jsonl -o restored/ --format png
  mcrle show labels.jsonl 0001TP_006690.png -o preview.png
  mcrle eval labels.jsonl predictions/ --num-classes 12 --ignore-index 255
  mcrle bench labels/
"""


def _jobs(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None


def build_parser(prog: str = "mcrle") -> argparse.ArgumentParser:
    from ._records import FORMATS

    parser = argparse.ArgumentParser(
        prog=prog, formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Run-length encode segmentation label maps (multiclass_rle): convert "
                    "folders of label PNG/TIFF/npy/npz files, check, inspect and preview them.",
        epilog=EXAMPLES + "\nexit status: 0 ok, 1 some inputs failed, 2 usage error")
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p: argparse.ArgumentParser, *, jobs: bool = True, threads: bool = True) -> None:
        if jobs:
            p.add_argument("-j", "--jobs", type=_jobs, default=1, metavar="N",
                           help="worker processes (default 1; 0 = one per CPU core)")
        if jobs and threads:
            p.add_argument("--threads", type=_jobs, default=0, metavar="N",
                           help="threads of one process, the maps spread over them (default 0: "
                                "one per CPU core; 1: none; with -j N > 1, one per process)")
        p.add_argument("-q", "--quiet", action="store_true",
                       help="no progress bar or summary line (errors are still shown)")

    # encode
    p = sub.add_parser(
        "encode", help="encode label-map files into one RLE file",
        description="Encode label maps into one file of RLE records, in sorted name order. "
                    "INPUT may be files, folders (searched recursively for .png, .tif, .tiff, "
                    ".npy, .npz) or glob patterns (quote them; ** matches any depth). "
                    "PNG: 8/16-bit greyscale or palette (the palette indices are the labels). "
                    "TIFF: greyscale or integer pages (several pages are stacked). "
                    ".npz: every integer member is a map, named FILE::MEMBER.",
        formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("-o", "--output", required=True, metavar="OUT",
                   help="output file ('-' writes to stdout)")
    p.add_argument("--format", choices=["auto", *sorted(FORMATS)], default="auto",
                   help="output format: auto (default) = the smallest form for OUT's name: "
                        "jsonl-packed for .jsonl/.ndjson/.json and stdout, bytes otherwise; "
                        "jsonl = JSON Lines of COCO-compatible compact dicts, one "
                        "{\"path\": NAME, \"rle\": {...}} object per map (fastest to "
                        "decode); jsonl-packed = the same with packed dicts (the bytes form "
                        "in base64, 3-4x smaller); bytes = one binary pack of the bytes form "
                        "(smallest), with an index to read any map alone; parquet (also auto "
                        "for .parquet, needs pyarrow) = a Parquet table, one row per map")
    p.add_argument("--from", dest="source", default="auto",
                   choices=["auto", "nifti", "mgz", "coco-panoptic", "cityscapes", "kaggle-csv",
                            "label-studio", "cvat", "sa1b"],
                   help="input format (default auto: label PNG/TIFF/npy/npz/NIfTI/MGZ files "
                        "by their names; a .json/.csv/.xml file by its content)")
    p.add_argument("--shape", metavar="HxW", help="kaggle-csv: the image size")
    p.add_argument("--order", choices=("C", "F"),
                   help="kaggle-csv: pixel numbering, F = top to bottom then left to right "
                        "(default), C = row by row")
    p.add_argument("--overlap", choices=("last", "first", "error"),
                   help="kaggle-csv, label-studio, cvat, sa1b: pixels of several masks take "
                        "the last mask's label (default), the first's, or fail")
    p.add_argument("--ids", choices=("labelIds", "instanceIds", "trainIds"),
                   help="cityscapes: which id maps to read (default labelIds)")
    p.add_argument("--instances", action="store_true",
                   help="label-studio, cvat: number the regions 1, 2, ... instead of class ids")
    p.add_argument("--root", metavar="DIR",
                   help="name maps by their path below DIR (default: below the folder given, "
                        "the fixed part of a glob, or the file name)")
    p.add_argument("--verify", action="store_true",
                   help="decode each map again and check it equals the input")
    p.add_argument("--fail-fast", action="store_true",
                   help="stop at the first failure and write nothing")
    p.add_argument("--force", action="store_true", help="overwrite an existing OUT")
    p.add_argument("--rgb-ids", action="store_true",
                   help="read RGB images as ids R + 256*G + 65536*B (COCO panoptic PNGs); "
                        "otherwise colour images are refused")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    common(p)

    # decode
    p = sub.add_parser(
        "decode", help="write the maps of an RLE file back as PNG or npy files",
        description="Decode every map of IN into DIR, bit-exactly (same values, shape and "
                    "dtype). A map named a/b.png becomes DIR/a/b.png (or .npy); FILE.npz::M "
                    "becomes DIR/FILE/M.png. PNG holds 2-D uint8, uint16 and bool maps; use "
                    "--format npy for other dtypes and for 3-D maps.")
    p.add_argument("input", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="DIR", help="output folder")
    p.add_argument("--format", default="png",
                   choices=("png", "npy", "nifti", "mgz", "coco-panoptic", "kaggle-csv",
                            "label-studio", "cvat", "sa1b"),
                   help="file format of the maps (default png); nifti/mgz write the header and "
                        "affine the source had; coco-panoptic writes PNGs and the JSON; sa1b "
                        "one JSON per map; kaggle-csv, label-studio and cvat write one file "
                        "(DIR/<source file>, or -o FILE.csv / FILE.json / FILE.xml)")
    p.add_argument("--force", action="store_true", help="overwrite existing files in DIR")
    p.add_argument("--fail-fast", action="store_true", help="stop at the first failure")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    common(p)

    # info
    p = sub.add_parser(
        "info", help="what an RLE file holds: maps, shapes, dtypes, labels, sizes",
        description="Summarise IN: number of maps, shapes, dtypes, every label with its pixel "
                    "count, share and number of maps, and sizes against raw arrays and PNG "
                    "(each map re-encoded with Pillow at its default level). Every record is "
                    "decoded, so info also checks the file.")
    p.add_argument("input", metavar="IN")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    p.add_argument("--maps", action="store_true", help="also list every map")
    p.add_argument("--no-png", action="store_true", help="skip the PNG size (faster)")
    p.add_argument("--top", type=int, default=40, metavar="K",
                   help="show the K most frequent labels (default 40; 0 = all; --json has all)")
    p.add_argument("--names", metavar="FILE",
                   help="label names: one per line (line i = label i), 'LABEL NAME' lines, "
                        "or a JSON object")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    common(p)

    # show
    p = sub.add_parser(
        "show", help="colour preview PNG of one map, with a legend",
        description="Draw one map in colour with a legend of its labels (fixed colours: a "
                    "label looks the same in every preview). IN is an RLE file (NAME = the "
                    "record's path, or a unique end of it; default the first map) or a label "
                    "file (.png, .tif, .npy, .npz; NAME = npz member).")
    p.add_argument("input", metavar="IN")
    p.add_argument("name", nargs="?", metavar="NAME")
    p.add_argument("-o", "--output", required=True, metavar="PREVIEW.png")
    p.add_argument("--image", metavar="FILE",
                   help="blend the colours over this image (same width and height)")
    p.add_argument("--alpha", type=float, default=0.5,
                   help="opacity of the colours over --image (default 0.5)")
    p.add_argument("--slice", type=int, metavar="K",
                   help="for 3-D maps: index along the first axis (default the middle)")
    p.add_argument("--names", metavar="FILE", help="label names for the legend (as for info)")
    p.add_argument("--no-legend", action="store_true", help="the coloured map alone")
    p.add_argument("--force", action="store_true", help="overwrite an existing output")
    common(p, jobs=False)

    # eval
    p = sub.add_parser(
        "eval", help="semantic, panoptic or volume metrics of predictions against ground truth",
        description="Evaluate PRED against GT. Each is a folder of label files (PNG, TIFF, "
                    "npy, npz), a file of RLE records (JSON Lines, packed JSON Lines, bytes "
                    "pack), a Parquet file or folder, or a COCO panoptic JSON file beside its PNG "
                    "folder. Pairs are matched by name (with or without the file extension) or, "
                    "for COCO panoptic, by image id. Prints a table per class and the dataset's "
                    "summary (mIoU, PQ, Dice...); docs/evaluation.md gives every rule. Missing "
                    "or extra predictions are listed and make the exit status 1 unless "
                    "--allow-missing; a pair that fails (sizes differ, unknown category) is "
                    "named and left out.")
    p.add_argument("gt", metavar="GT")
    p.add_argument("pred", metavar="PRED")
    p.add_argument("--task", choices=("auto",) + ("semantic", "panoptic", "volume"),
                   default="auto", help="default: panoptic for COCO panoptic inputs or with "
                                        "--label-divisor, volume for 3-D maps, else semantic")
    p.add_argument("--num-classes", type=int, metavar="N",
                   help="semantic: the classes are 0..N-1 (default: every label seen)")
    p.add_argument("--labels", metavar="L,L,...",
                   help="semantic/volume: the classes (label values) to score, in this order")
    p.add_argument("--ignore-index", metavar="L[,L]",
                   help="semantic/volume: true label(s) left out (e.g. 255)")
    p.add_argument("--names", metavar="FILE", help="class names (as for info)")
    p.add_argument("--categories", metavar="FILE",
                   help="panoptic: COCO categories (a JSON list, or a JSON file holding "
                        "'categories'); default the GT JSON's")
    p.add_argument("--label-divisor", type=int, metavar="D",
                   help="panoptic from label maps whose id is category x D + instance")
    p.add_argument("--void-label", type=int, metavar="C",
                   help="panoptic with --label-divisor: the category value meaning void")
    p.add_argument("--background", default="0", metavar="L",
                   help="volume: the label not scored (default 0; 'none' scores all)")
    p.add_argument("--empty-score", default="nan", metavar="X",
                   help="volume: Dice/IoU of a label absent from both maps of a case "
                        "(default nan: left out of the means; 1 for the BraTS rule)")
    p.add_argument("--gt-folder", metavar="DIR",
                   help="COCO panoptic: the GT PNG folder (default: GT without .json)")
    p.add_argument("--pred-folder", metavar="DIR",
                   help="COCO panoptic: the PRED PNG folder (default: PRED without .json)")
    p.add_argument("--allow-missing", action="store_true",
                   help="missing or extra predictions do not make the exit status 1")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    p.add_argument("--no-progress", action="store_true", help="no progress bar")
    common(p, threads=False)   # its pairs go to processes (-j); one map pair is small work

    # bench
    p = sub.add_parser(
        "bench", help="size and speed on your maps vs PNG and pycocotools",
        description="Read the maps (as encode does), then measure in this process the size "
                    "and the encode/decode speed of multiclass_rle's compact JSON, PNG "
                    "(Pillow) and pycocotools (one binary RLE per label), if installed. "
                    "MB/s are of raw map bytes.")
    p.add_argument("inputs", nargs="+", metavar="INPUT")
    p.add_argument("--root", metavar="DIR", help="as for encode")
    p.add_argument("--rgb-ids", action="store_true", help="as for encode")
    p.add_argument("--limit", type=int, default=0, metavar="N",
                   help="use the first N files only")
    p.add_argument("--repeat", type=int, default=3, help="best of this many runs (default 3)")
    p.add_argument("--budget", type=float, default=5.0, metavar="S",
                   help="stop repeating a method after S seconds (default 5)")
    p.add_argument("--json", action="store_true", help="print JSON for machines")
    common(p, jobs=False)

    # demo
    sub.add_parser(
        "demo", help="round-trip the sample maps shipped with the package",
        description="Encode, decode and check the sample label maps shipped in the package, "
                    "printing sizes and speeds, then run encode and decode on them as files. "
                    "Prints 'all round trips exact' on success.")
    return parser


def _version() -> str:
    try:
        from .. import __version__
    except ImportError:  # pragma: no cover
        return "unknown"
    return __version__


def _on_sigterm(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def main(argv: Sequence[str] | None = None, prog: str | None = None) -> int:
    """Run the command line; returns the exit status."""
    if prog is None:
        prog = "mcrle" if os.path.basename(sys.argv[0]) in ("mcrle", "mcrle.exe") else \
            "python -m multiclass_rle"
    parser = build_parser(prog)
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import main_demo

        return main_demo(main)

    from ._console import Console, InputError, UsageError

    quiet = getattr(args, "quiet", False)
    progress = False if getattr(args, "no_progress", False) else None
    con = Console(prog, quiet=quiet, progress=progress)
    try:
        old = signal.signal(signal.SIGTERM, _on_sigterm)
    except ValueError:  # not the main thread
        old = None
    try:
        if args.command == "encode":
            from ._encode import cmd_encode as run
        elif args.command == "decode":
            from ._decode import cmd_decode as run
        elif args.command == "info":
            from ._info import cmd_info as run
        elif args.command == "show":
            from ._show import cmd_show as run
        elif args.command == "eval":
            from ._eval import cmd_eval as run
        else:
            from ._bench import cmd_bench as run
        return run(args, con)
    except UsageError as exc:
        con.finish()
        sys.stderr.write(f"{prog} {args.command}: error: {exc}\n"
                         f"(see {prog} {args.command} --help)\n")
        return 2
    except InputError as exc:
        con.finish()
        con.error(args.command, str(exc))
        return 1
    except KeyboardInterrupt:
        con.finish()
        sys.stderr.write(f"{prog}: interrupted; no partial output was left\n")
        return 130
    except BrokenPipeError:
        # stdout closed early (mcrle info x | head): stop quietly, like other tools
        try:
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 1
    except Exception as exc:
        # a pool's BrokenProcessPool; its module is imported only with -j > 1
        pools = sys.modules.get("concurrent.futures.process")
        if pools is None or not isinstance(exc, pools.BrokenProcessPool):
            raise
        con.finish()
        con.error(args.command, "a worker process died (out of memory?); try fewer -j; "
                                "no partial output was left")
        return 1
    finally:
        if old is not None:
            signal.signal(signal.SIGTERM, old)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
