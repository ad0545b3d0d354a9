"""The integrations cost nothing to those who do not use them.

``import multiclass_rle`` must import numpy only: not torch, zarr, numcodecs,
pyarrow or dask (checked in a fresh interpreter, through ``sys.modules``).
"""

from __future__ import annotations

import json
import subprocess
import sys

HEAVY = ("torch", "zarr", "numcodecs", "pyarrow", "dask", "distributed", "PIL")


def test_import_multiclass_rle_imports_no_integration():
    code = (
        "import sys, json, multiclass_rle\n"
        "import numpy as np\n"
        "multiclass_rle.decode(multiclass_rle.encode(np.zeros((2, 2), np.uint8)))\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True,
                         text=True).stdout
    assert json.loads(out.strip().splitlines()[-1]) == []
