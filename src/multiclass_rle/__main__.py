"""Command line: `python -m multiclass_rle demo`."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m multiclass_rle",
                                     description="multiclass run-length encoding of label maps")
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("demo", help="round-trip the sample maps shipped with the package, "
                                "printing sizes and speeds")
    args = parser.parse_args(argv)
    if args.command == "demo":
        from ._demo import run_demo

        return 0 if run_demo() else 1
    return 2  # pragma: no cover - argparse rejects unknown commands


if __name__ == "__main__":
    sys.exit(main())
