"""Operations on label maps that work on the runs, without decoding the map.

Every function takes any form :func:`multiclass_rle.as_runs` accepts (a
:class:`Runs`, a compact, original or packed dict, a pycocotools binary RLE,
the bytes form), works for any number of dimensions and costs time
proportional to the number of runs (plus the number of labels, or of window
columns, where the answer needs it). The work is vectorised numpy on the
``values`` and ``counts`` arrays, or one pass of a C kernel over them; no
Python code runs per run and no full-size array is made.

One module per family: :mod:`.summary` (labels, area, bbox), :mod:`.compare`
(confusion matrix, IoU), :mod:`.relabel` (remap), :mod:`.window` (window decode, binary
masks), :mod:`.coco` (COCO interop), :mod:`.evaluate` (dataset-scale semantic,
panoptic and volume metrics); :mod:`._common` holds what they share.
This layer sits on the codec (``multiclass_rle._codec``) and nothing above it.
"""

from __future__ import annotations

from .coco import coco_annotations_to_label_maps, from_coco, to_coco
from .compare import confusion_matrix, iou, miou
from .evaluate import (
    PanopticEvaluator,
    PanopticResult,
    SemanticEvaluator,
    SemanticResult,
    VolumeEvaluator,
    VolumeResult,
    volume_metrics,
)
from .relabel import remap
from .summary import area, bbox, labels
from .window import binary_mask, decode_window

__all__ = [
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
]
