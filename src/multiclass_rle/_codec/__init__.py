"""The codec layer: label maps <-> runs <-> every stored form.

Bottom to top:

* ``_core``: the binding to the C kernels (csrc/), buffers in and out, no policy;
* :mod:`.errors`, :mod:`.dtypes`, :mod:`.limits`, :mod:`.output`: the rules every
  path shares (exceptions, label dtypes, the element limit, ``out``/``order``);
* :mod:`.runs`: :class:`Runs`, the in-memory RLE, and the passes array <-> runs;
* :mod:`.forms`: one module per stored form (compact, original, COCO binary,
  packed, bytes) and the registry that recognises them;
* :mod:`.api`: ``encode``, ``decode``, ``decode_batch``, ``as_runs``.

Nothing here imports the operations, the integrations or the command line.
"""

from __future__ import annotations

from .api import as_runs, decode, decode_batch, encode
from .errors import LimitExceededError, MalformedRLEError, RLEError, RLETypeError, RLEValueError
from .forms.bytes import BytesInfo, bytes_info, decode_bytes, encode_bytes, iter_bytes, split_bytes
from .limits import get_max_elements, set_max_elements
from .runs import Runs, encode_runs

__all__ = [
    "encode", "decode", "decode_batch", "as_runs", "Runs", "encode_runs",
    "encode_bytes", "decode_bytes", "bytes_info", "split_bytes", "iter_bytes", "BytesInfo",
    "get_max_elements", "set_max_elements",
    "RLEError", "RLEValueError", "RLETypeError", "MalformedRLEError", "LimitExceededError",
]
