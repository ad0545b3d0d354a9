"""``python -m multiclass_rle``: the ``mcrle`` command line (see :mod:`multiclass_rle.cli`)."""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main())
