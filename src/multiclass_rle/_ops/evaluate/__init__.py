"""Evaluation at dataset scale on runs: semantic, panoptic and volume metrics.

Each evaluator adds pairs (ground truth, prediction) one at a time in any
form the library reads, keeps small totals (a confusion matrix; per-category
counts; per-case overlaps), merges with other evaluators (shards, processes)
and computes its metrics at the end. Every pair is compared through one pass
of the C kernel ``pair_sums`` over both run sequences (:mod:`._maps`).

- :mod:`.semantic`: :class:`SemanticEvaluator` (mIoU, Dice, accuracy, ...).
- :mod:`.panoptic`: :class:`PanopticEvaluator` (PQ/SQ/RQ, panopticapi's rules).
- :mod:`.volume`: :class:`VolumeEvaluator`, :func:`volume_metrics` (per-label
  Dice, IoU, volume difference of 3D maps).

The rules and where other tools differ: docs/evaluation.md.
"""

from __future__ import annotations

from .panoptic import PanopticEvaluator, PanopticResult
from .semantic import SemanticEvaluator, SemanticResult
from .volume import VolumeEvaluator, VolumeResult, volume_metrics

__all__ = ["SemanticEvaluator", "SemanticResult", "PanopticEvaluator", "PanopticResult",
           "VolumeEvaluator", "VolumeResult", "volume_metrics"]
