"""multiclass_rle: one run-length encoding for a whole segmentation label map.

COCO's RLE stores one binary mask; this format adds a ``values`` key so that
one RLE holds a whole label map (class ids, instance ids, any integer dtype,
any number of dimensions). Runs follow COCO's Fortran order.

>>> import numpy as np, multiclass_rle as mcr
>>> labels = np.array([[0, 0, 1], [2, 2, 1]], dtype=np.uint8)
>>> rle = mcr.encode(labels)          # compact, JSON-safe dict
>>> bool((mcr.decode(rle) == labels).all())
True

The package is built in layers (docs/architecture.md): the codec
(``_codec``: runs, forms, the C binding), the operations on runs (``_ops``),
the integrations (``_integrations``: torch, zarr, arrow, file formats) and
the ``mcrle`` command (:mod:`multiclass_rle.cli`). Importing the package
loads the codec only; the other layers load on first use of their names.
"""

from ._codec import (
    BytesInfo,
    LimitExceededError,
    MalformedRLEError,
    RLEError,
    RLETypeError,
    RLEValueError,
    Runs,
    as_runs,
    bytes_info,
    decode,
    decode_batch,
    decode_bytes,
    encode,
    encode_bytes,
    encode_runs,
    get_max_elements,
    iter_bytes,
    set_max_elements,
    split_bytes,
)
from ._codec._core import VERSION as __version__
from .multiclass_rle import array_to_multi_class_rle, multi_class_rle_to_array

__all__ = [
    "array_to_multi_class_rle",
    "multi_class_rle_to_array",
    "encode",
    "decode",
    "decode_batch",
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
    "SemanticEvaluator",
    "SemanticResult",
    "PanopticEvaluator",
    "PanopticResult",
    "VolumeEvaluator",
    "VolumeResult",
    "volume_metrics",
    "get_max_elements",
    "set_max_elements",
    "RLEError",
    "RLEValueError",
    "RLETypeError",
    "MalformedRLEError",
    "LimitExceededError",
    "__version__",
]

# Names of the layers above the codec, imported on first use: the operations
# need numpy alone but are not needed to load a map; the integrations need
# their extras ("torch", "arrow"), so `import multiclass_rle` needs numpy
# alone. zarr and numcodecs find their codecs through entry points and need
# no names here. The integrations are not in __all__: a star import must not
# require the extras.
_LAZY = {
    "labels": "_ops",
    "area": "_ops",
    "bbox": "_ops",
    "confusion_matrix": "_ops",
    "iou": "_ops",
    "miou": "_ops",
    "remap": "_ops",
    "decode_window": "_ops",
    "binary_mask": "_ops",
    "to_coco": "_ops",
    "from_coco": "_ops",
    "coco_annotations_to_label_maps": "_ops",
    "SemanticEvaluator": "_ops",
    "SemanticResult": "_ops",
    "PanopticEvaluator": "_ops",
    "PanopticResult": "_ops",
    "VolumeEvaluator": "_ops",
    "VolumeResult": "_ops",
    "volume_metrics": "_ops",
    "to_tensor": "_integrations.torch",
    "to_tensor_batch": "_integrations.torch",
    "RLEMaskDataset": "_integrations.torch",
    "write_parquet": "_integrations.arrow",
    "read_parquet": "_integrations.arrow",
    "iter_parquet": "_integrations.arrow",
    "maps_table": "_integrations.arrow",
    "table_area": "_integrations.arrow",
    "parquet_area": "_integrations.arrow",
    "parquet_datasets": "_integrations.arrow",
    "rgb_to_id": "_integrations.png",
    "read_labels": "_integrations.formats",
    "write_labels": "_integrations.formats",
    "LabelMap": "_integrations.formats",
    "id_to_rgb": "_integrations.png",
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
