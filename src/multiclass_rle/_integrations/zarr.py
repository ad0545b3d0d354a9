"""zarr v3 and numcodecs codecs (extra ``zarr``): label volumes chunk by chunk.

Both store each chunk as one payload of :mod:`.payload` (the bytes form).
They are registered through entry points (see pyproject.toml), so no import
is needed to use them, in this process or in any Dask worker that has the
package installed:

* zarr v3: ``zarr.create_array(store, ..., serializer={"name": "multiclass_rle"})``
  (entry point group ``zarr.codecs``, class :class:`MulticlassRLECodec`, an
  array-to-bytes codec: it replaces zarr's ``bytes`` serializer; add no
  compressor after it, the payload is already entropy-coded);
* numcodecs / zarr v2: ``numcodecs.get_codec({"id": "multiclass_rle"})``
  (entry point group ``numcodecs.codecs``, class :class:`MulticlassRLE`),
  usable as a zarr v2 ``compressor``.

Imported only when zarr or numcodecs look the codec up, or by an explicit
import; ``import multiclass_rle`` does not import zarr or numcodecs.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from .._codec.errors import RLETypeError, RLEValueError
from .payload import from_payload, payload_info, to_payload

if TYPE_CHECKING:  # pragma: no cover
    from zarr.core.array_spec import ArraySpec
    from zarr.core.buffer import Buffer, NDBuffer

__all__ = ["CODEC_NAME", "MulticlassRLECodec", "MulticlassRLE"]

#: Name of both codecs (zarr v3 ``name``, numcodecs ``id``).
CODEC_NAME = "multiclass_rle"


def _label_dtype(dtype: Any) -> np.dtype:
    dt = np.dtype(dtype)
    if dt.kind not in "biu":
        raise RLETypeError(f"the {CODEC_NAME} codec stores integer or bool label maps, "
                           f"not dtype {dt}")
    return dt.newbyteorder("=") if dt.byteorder not in "=|" else dt


# ---------------------------------------------------------------------------
# zarr v3

#: Chunks smaller than this are coded on zarr's event loop thread: handing one
#: to a worker thread costs more (tens of µs) than coding it (the kernels run at
#: GB/s). Larger chunks go to zarr's thread pool, in parallel (no GIL held).
_INLINE_BYTES = 1 << 20


def _chunk_nbytes(chunk_spec: Any) -> int:
    n = chunk_spec.dtype.to_native_dtype().itemsize
    for d in chunk_spec.shape:
        n *= d
    return n


try:
    from zarr.abc.codec import ArrayBytesCodec
    from zarr.core.common import parse_named_configuration
except ImportError:  # pragma: no cover - zarr is optional
    ArrayBytesCodec = None  # type: ignore[assignment,misc]

if ArrayBytesCodec is not None:

    @dataclass(frozen=True)
    class MulticlassRLECodec(ArrayBytesCodec):  # type: ignore[misc,valid-type]
        """zarr v3 array-to-bytes codec ``multiclass_rle``: each chunk in the bytes form.

        Metadata: ``{"name": "multiclass_rle"}`` (no configuration). Chunks
        of 1 MiB and more are coded in zarr's thread pool, in parallel (the
        C kernels release the GIL); smaller ones inline, which is faster.

        Examples
        --------
        >>> import numpy as np, zarr
        >>> z = zarr.create_array(zarr.storage.MemoryStore(), shape=(64, 64), chunks=(32, 32),
        ...                       dtype="uint8", serializer={"name": "multiclass_rle"})
        >>> z[:] = np.arange(64 * 64).reshape(64, 64) // 1000
        >>> int(z[40, 40])
        2
        """

        is_fixed_size = False

        @classmethod
        def from_dict(cls, data: dict[str, Any]) -> MulticlassRLECodec:
            _, configuration = parse_named_configuration(
                data, CODEC_NAME, require_configuration=False)
            if configuration:
                raise RLEValueError(f"the {CODEC_NAME} codec takes no configuration, "
                                    f"got {configuration!r}")
            return cls()

        def to_dict(self) -> dict[str, Any]:
            return {"name": CODEC_NAME}

        def validate(self, *, shape: tuple[int, ...], dtype: Any, chunk_grid: Any) -> None:
            _label_dtype(dtype.to_native_dtype())

        def _decode_sync(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
            dtype = _label_dtype(chunk_spec.dtype.to_native_dtype())
            out = np.empty(chunk_spec.shape, dtype=dtype, order=chunk_spec.order)
            from_payload(chunk_bytes.as_numpy_array(), out=out)
            return chunk_spec.prototype.nd_buffer.from_numpy_array(out)

        def _encode_sync(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
            payload = to_payload(chunk_array.as_numpy_array())
            return chunk_spec.prototype.buffer.from_bytes(payload)

        async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
            if _chunk_nbytes(chunk_spec) < _INLINE_BYTES:
                return self._decode_sync(chunk_bytes, chunk_spec)
            return await asyncio.to_thread(self._decode_sync, chunk_bytes, chunk_spec)

        async def _encode_single(self, chunk_array: NDBuffer,
                                 chunk_spec: ArraySpec) -> Buffer | None:
            if _chunk_nbytes(chunk_spec) < _INLINE_BYTES:
                return self._encode_sync(chunk_array, chunk_spec)
            return await asyncio.to_thread(self._encode_sync, chunk_array, chunk_spec)

        def compute_encoded_size(self, input_byte_length: int, chunk_spec: ArraySpec) -> int:
            raise NotImplementedError  # variable-size output

else:  # pragma: no cover
    MulticlassRLECodec = None  # type: ignore[assignment,misc]


# ---------------------------------------------------------------------------
# numcodecs (zarr v2 compressor, or standalone)

try:
    from numcodecs.abc import Codec as _NumcodecsCodec
    from numcodecs.compat import ensure_ndarray_like
except ImportError:  # pragma: no cover - numcodecs is optional
    _NumcodecsCodec = None  # type: ignore[assignment,misc]

if _NumcodecsCodec is not None:

    class MulticlassRLE(_NumcodecsCodec):  # type: ignore[misc,valid-type]
        """numcodecs codec ``multiclass_rle`` (id), e.g. a zarr v2 ``compressor``.

        ``encode(array)`` stores the array as it lies in memory: a C-ordered
        array as it is, a Fortran-ordered one as its transpose (anything else
        is first made C-contiguous). ``decode`` returns a C-contiguous array
        whose memory is the encoded array's, as numcodecs requires of a
        compressor (callers reshape); with ``out``, it decodes into ``out``'s
        memory, which must be contiguous and of the map's size.

        Examples
        --------
        >>> import numpy as np, numcodecs
        >>> codec = numcodecs.get_codec({"id": "multiclass_rle"})
        >>> a = np.array([[0, 0, 4], [2, 2, 4]], dtype=np.uint16)
        >>> bool((codec.decode(codec.encode(a)) == a).all())
        True
        """

        codec_id = CODEC_NAME

        def encode(self, buf: Any) -> bytes:
            arr = ensure_ndarray_like(buf)
            if not isinstance(arr, np.ndarray):  # e.g. a GPU array
                arr = np.asarray(arr)
            _label_dtype(arr.dtype)
            if arr.ndim == 0:
                arr = arr.reshape(1)
            if not arr.flags.c_contiguous:
                arr = arr.T if arr.flags.f_contiguous else np.ascontiguousarray(arr)
            return to_payload(arr)

        def decode(self, buf: Any, out: Any = None) -> np.ndarray:
            if isinstance(buf, np.ndarray):
                buf = buf.reshape(-1).view(np.uint8)
            if out is None:
                return from_payload(buf)
            shape, dtype = payload_info(buf)
            dest = ensure_ndarray_like(out)
            if not (dest.flags.c_contiguous or dest.flags.f_contiguous):
                raise RLEValueError("out must be a contiguous buffer")
            flat = dest.reshape(-1, order="A").view(np.uint8)
            need = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
            if flat.nbytes != need:
                raise RLEValueError(f"out holds {flat.nbytes} bytes, the chunk needs {need}")
            from_payload(buf, out=flat.view(dtype).reshape(shape))
            return out

        def __repr__(self) -> str:
            return "MulticlassRLE()"

else:  # pragma: no cover
    MulticlassRLE = None  # type: ignore[assignment,misc]
