"""Writers: one label map -> one file (PNG through Pillow, npy)."""

from __future__ import annotations

from typing import Any

import numpy as np

from ._readers import pillow


def png_fits(arr: np.ndarray) -> str | None:
    """None when PNG holds this map exactly, else the reason it cannot."""
    if arr.ndim != 2:
        return f"a {arr.ndim}-D map of shape {arr.shape} does not fit PNG (2-D only)"
    if arr.dtype.name not in ("uint8", "uint16", "bool"):
        return (f"dtype {arr.dtype} does not fit PNG (PNG holds uint8, uint16 and bool "
                f"label maps)")
    return None


def save_png(arr: np.ndarray, f: Any) -> None:
    Image = pillow()
    Image.fromarray(np.ascontiguousarray(arr)).save(f, format="PNG")
