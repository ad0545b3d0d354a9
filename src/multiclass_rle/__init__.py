"""multiclass_rle: one run-length encoding for a whole segmentation label map.

COCO's RLE stores one binary mask; this format adds a ``values`` key so that
one RLE holds a whole label map (class ids, instance ids, any integer dtype,
any number of dimensions). Runs follow COCO's Fortran order.

>>> import numpy as np, multiclass_rle as mcr
>>> labels = np.array([[0, 0, 1], [2, 2, 1]], dtype=np.uint8)
>>> rle = mcr.encode(labels)          # compact, JSON-safe dict
>>> bool((mcr.decode(rle) == labels).all())
True
"""

from ._api import Runs, as_runs, decode, encode, encode_runs
from ._bytesform import (
    BytesInfo,
    bytes_info,
    decode_bytes,
    encode_bytes,
    iter_bytes,
    split_bytes,
)
from ._coco import coco_annotations_to_label_maps, from_coco, to_coco
from ._errors import (
    LimitExceededError,
    MalformedRLEError,
    RLEError,
    RLETypeError,
    RLEValueError,
)
from ._legacy import array_to_multi_class_rle, multi_class_rle_to_array
from ._limits import get_max_elements, set_max_elements
from ._ops import (
    area,
    bbox,
    binary_mask,
    confusion_matrix,
    decode_window,
    iou,
    labels,
    miou,
    remap,
)

__version__ = "0.2.0"

__all__ = [
    "array_to_multi_class_rle",
    "multi_class_rle_to_array",
    "encode",
    "decode",
    "encode_runs",
    "as_runs",
    "Runs",
    "encode_bytes",
    "decode_bytes",
    "bytes_info",
    "split_bytes",
    "iter_bytes",
    "BytesInfo",
    "labels",
    "area",
    "bbox",
    "confusion_matrix",
    "iou",
    "miou",
    "remap",
    "decode_window",
    "binary_mask",
    "to_coco",
    "from_coco",
    "coco_annotations_to_label_maps",
    "get_max_elements",
    "set_max_elements",
    "RLEError",
    "RLEValueError",
    "RLETypeError",
    "MalformedRLEError",
    "LimitExceededError",
    "__version__",
]

# Integrations, imported on first use (extras "torch" and "arrow"), so that
# `import multiclass_rle` needs numpy alone; zarr and numcodecs find their
# codecs through entry points and need no names here. Not in __all__: a star
# import must not require the extras.
_LAZY = {
    "to_tensor": "_torch",
    "to_tensor_batch": "_torch",
    "RLEMaskDataset": "_torch",
    "write_parquet": "_arrow",
    "read_parquet": "_arrow",
    "iter_parquet": "_arrow",
    "maps_table": "_arrow",
    "table_area": "_arrow",
    "parquet_area": "_arrow",
}


def __getattr__(name: str) -> object:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY))
