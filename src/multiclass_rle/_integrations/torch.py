"""PyTorch integration (extra ``torch``): RLEs to tensors, on the CPU or a GPU.

Imported only when one of its names is used (``import multiclass_rle`` does
not import torch).

* :func:`to_tensor` decodes one RLE into a tensor. On the CPU the C decoder
  writes into memory that the tensor shares (``torch.from_numpy``) or straight
  into ``out``'s memory: no copy. On a CUDA device only the runs travel (one
  value and one count per run); they are expanded there with
  ``torch.repeat_interleave`` and put in C order by one transpose.
* :func:`to_tensor_batch` decodes many RLEs of one shape into one (N, ...)
  tensor (one expansion kernel for the whole batch on a GPU).
* :class:`RLEMaskDataset` is a map-style ``Dataset`` over a JSON Lines file of
  ``{"path", "rle"}`` records (``mcrle encode`` writes them) or a list of RLEs
  (bytes form, dicts); it is picklable and cheap to send to DataLoader
  workers (a file path and line offsets), and decodes in ``__getitem__``.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any, Callable

import numpy as np

try:
    import torch
    from torch.utils.data import Dataset
except ImportError as exc:  # pragma: no cover - exercised only without torch
    raise ImportError(
        "multiclass_rle's PyTorch integration needs torch: "
        "pip install 'multiclass-rle[torch]'") from exc

from .._codec import jsontext
from .._codec.api import as_runs, decode, decode_batch
from .._codec.dtypes import dtype_from_argument
from .._codec.errors import RLETypeError, RLEValueError
from .._codec.output import overlaps_itself
from .._codec.runs import Runs
from .._ops._common import checked

__all__ = ["to_tensor", "to_tensor_batch", "RLEMaskDataset"]

_NP_OF_TORCH = {
    torch.bool: np.dtype(np.bool_),
    torch.uint8: np.dtype(np.uint8),
    torch.int8: np.dtype(np.int8),
    torch.int16: np.dtype(np.int16),
    torch.int32: np.dtype(np.int32),
    torch.int64: np.dtype(np.int64),
}
for _name in ("uint16", "uint32", "uint64"):   # torch >= 2.3
    if hasattr(torch, _name):
        _NP_OF_TORCH[getattr(torch, _name)] = np.dtype(_name)
_TORCH_OF_NP = {v: k for k, v in _NP_OF_TORCH.items()}
#: Signed dtype of each item size: what the GPU expansion runs on (torch
#: implements few operations for uint16/32/64; a same-size view is free).
_CARRIER = {1: np.dtype(np.int8), 2: np.dtype(np.int16), 4: np.dtype(np.int32),
            8: np.dtype(np.int64)}
_BYTES_LIKE = (bytes, bytearray, memoryview)


def _np_dtype(dtype: Any) -> np.dtype | None:
    """numpy dtype of a torch dtype or any numpy spelling; None stays None."""
    if dtype is None:
        return None
    if isinstance(dtype, torch.dtype):
        try:
            return _NP_OF_TORCH[dtype]
        except KeyError:
            raise RLETypeError(f"dtype={dtype} is not an integer or bool dtype") from None
    return dtype_from_argument(dtype)


def _torch_dtype(dtype: np.dtype) -> torch.dtype:
    try:
        return _TORCH_OF_NP[np.dtype(dtype).newbyteorder("=")]
    except KeyError:
        raise RLETypeError(f"torch has no dtype for {dtype}") from None


def _decode_np(rle: Any, *, out: np.ndarray | None = None, dtype: Any = None,
               threads: int | None = None) -> np.ndarray:
    """:func:`decode`, plus payloads (bytes form) for bytes-like input (C order)."""
    if isinstance(rle, _BYTES_LIKE):
        from .payload import from_payload
        return from_payload(rle, out=out, dtype=dtype, threads=threads)
    return decode(rle, out=out, dtype=dtype, threads=threads)


def _runs(rle: Any, dtype: np.dtype | None) -> Runs:
    """Checked runs (counts positive and summing to the size) in ``dtype``."""
    if isinstance(rle, _BYTES_LIKE):
        from .payload import payload_runs
        rle = payload_runs(rle)
    return checked(as_runs(rle, dtype=dtype))


def _expand_runs(values: np.ndarray, counts: np.ndarray, lead: tuple[int, ...],
                 shape: tuple[int, ...], dtype: np.dtype, device: Any) -> torch.Tensor:
    """Expand concatenated runs on ``device``: a view of shape ``lead + shape``.

    ``values``/``counts`` are the runs of ``prod(lead)`` maps of ``shape``, one
    after the other, each in Fortran order. Only the runs are copied to the
    device; the returned view is Fortran-ordered within each map (callers
    make it contiguous or copy it into ``out``).
    """
    carrier = _CARRIER[dtype.itemsize]
    size = int(np.prod(lead + shape, dtype=np.int64))
    v = torch.from_numpy(np.ascontiguousarray(values, dtype=dtype).view(carrier))
    c = torch.from_numpy(np.ascontiguousarray(counts).view(np.int64))
    v, c = v.to(device), c.to(device)   # the runs: a few kB for a 2D map
    # output_size: no device-to-host sync to learn the length (counts were checked)
    flat = torch.repeat_interleave(v, c, output_size=size)
    flat = flat.view(_torch_dtype(dtype))
    nd, nl = len(shape), len(lead)
    rev = flat.reshape(lead + shape[::-1])
    return rev.permute(*range(nl), *(nl + nd - 1 - i for i in range(nd)))


def _to_device(runs: Runs, device: Any, out: torch.Tensor | None) -> torch.Tensor:
    """The GPU path of :func:`to_tensor` (it runs on any device, CPU included)."""
    view = _expand_runs(runs.values, runs.counts, (), runs.shape, runs.dtype, device)
    if out is None:
        return view.contiguous()
    out.copy_(view)
    return out


def _device(device: Any) -> torch.device:
    """``torch.device(device)``, checked: a device that exists here and holds memory.

    torch's own errors for an unknown or unavailable device (RuntimeError,
    AssertionError "Torch not compiled with CUDA enabled", ...) become
    RLEValueError, and the ``meta`` device, which holds no data, is refused.
    """
    try:
        dev = device if isinstance(device, torch.device) else torch.device(device)
    except (RuntimeError, TypeError, ValueError) as exc:
        raise RLEValueError(f"device={device!r} is not a torch device: {exc}") from None
    if dev.type == "meta":
        raise RLEValueError(f"device={device!r} holds no memory (torch's meta device): a map "
                            f"cannot be decoded onto it")
    if dev.type != "cpu":
        try:
            torch.empty(0, dtype=torch.uint8, device=dev)
        except (AssertionError, RuntimeError, ValueError) as exc:
            raise RLEValueError(f"device={device!r} cannot be used here: {exc}") from None
    return dev


def _check_out(out: Any, dtype: np.dtype | None, device: Any) -> np.dtype:
    if not isinstance(out, torch.Tensor):
        raise RLETypeError(f"out must be a torch.Tensor, got {type(out).__name__}")
    out_np = _np_dtype(out.dtype)
    if dtype is not None and out_np != dtype:
        raise RLEValueError(f"out has dtype {out.dtype}, but dtype={dtype} was requested")
    if out.layout != torch.strided:
        raise RLEValueError(f"out has layout {out.layout}; decode into a dense (strided) tensor")
    if out.is_meta:
        raise RLEValueError("out is on torch's meta device, which holds no memory: a map "
                            "cannot be decoded into it")
    if device is not None and _device(device) != out.device:
        want = _device(device)
        if not (want.type == out.device.type and want.index is None):
            raise RLEValueError(f"out is on {out.device}, but device={device} was requested")
    if overlaps_itself(tuple(out.shape), tuple(st * out.element_size() for st in out.stride()),
                       out.element_size()):
        raise RLEValueError(
            f"out has elements that share memory (shape {tuple(out.shape)}, strides "
            f"{tuple(out.stride())}, as an expanded tensor has): a decode into it would keep "
            f"only the value written last; pass a tensor with its own memory for every element")
    return out_np


def to_tensor(rle: Any, *, dtype: Any = None, device: Any = None,
              out: torch.Tensor | None = None, threads: int | None = None) -> torch.Tensor:
    """Decode an RLE into a :class:`torch.Tensor` (C order), without an extra copy.

    Parameters
    ----------
    rle : dict, Runs or bytes
        Any form :func:`multiclass_rle.decode` accepts, or a payload in the
        bytes form.
    dtype : torch.dtype or numpy dtype, optional
        Integer or bool dtype of the result (default: ``out``'s, else the
        RLE's). A value the dtype cannot hold is an error.
    device : torch.device or str, optional
        Where the tensor lives (default: ``out``'s device, else the CPU). On
        the CPU the map is decoded by the C decoder into memory the tensor
        shares; on any other device the runs are copied there and expanded
        there (``torch.repeat_interleave``).
    out : torch.Tensor, optional
        Tensor of the map's shape to decode into (any strides); returned.
    threads : int, optional
        On the CPU, most threads to decode a large map with, as for
        :func:`multiclass_rle.decode` (default: the cores of the process's
        CPU affinity; small maps use one).

    Returns
    -------
    torch.Tensor

    Examples
    --------
    >>> import numpy as np, torch, multiclass_rle as mcr
    >>> rle = mcr.encode(np.array([[0, 0, 1], [2, 2, 1]], dtype=np.uint8))
    >>> mcr.to_tensor(rle, dtype=torch.int64)
    tensor([[0, 0, 1],
            [2, 2, 1]])
    """
    target = _np_dtype(dtype)
    if out is not None:
        out_np = _check_out(out, target, device)
        if out.device.type == "cpu":
            _decode_np(rle, out=out.detach().numpy(), threads=threads)
            return out
        return _to_device(_runs(rle, out_np), out.device, out)
    dev = None if device is None else _device(device)
    if dev is None or dev.type == "cpu":
        return torch.from_numpy(_decode_np(rle, dtype=target, threads=threads))
    if isinstance(rle, _BYTES_LIKE):
        # the bytes form has no runs to send: decode here, copy the map once
        return torch.from_numpy(_decode_np(rle, dtype=target, threads=threads)).to(dev)
    return _to_device(_runs(rle, target), dev, None)


def _shape_dtype(rle: Any) -> tuple[tuple[int, ...], np.dtype | None]:
    """Shape and stored dtype of an RLE, cheaply where the form says them."""
    if isinstance(rle, Runs):
        return rle.shape, rle.dtype
    if isinstance(rle, _BYTES_LIKE):
        from .payload import payload_info
        return payload_info(rle)
    if isinstance(rle, dict) and "size" in rle and isinstance(rle.get("dtype"), str):
        try:
            return tuple(int(d) for d in rle["size"]), dtype_from_argument(rle["dtype"])
        except (TypeError, ValueError):
            pass
    runs = as_runs(rle)
    return runs.shape, runs.dtype


def to_tensor_batch(rles: Sequence[Any], *, out: torch.Tensor | None = None,
                    dtype: Any = None, device: Any = None,
                    threads: int | None = None) -> torch.Tensor:
    """Decode RLEs of one shape into one (N, ...) tensor.

    Parameters
    ----------
    rles : sequence
        N RLEs (any forms :func:`to_tensor` accepts), all of the same shape.
    out : torch.Tensor, optional
        Preallocated tensor of shape (N, ...) to fill, on any device; each
        map is decoded straight into its slice (CPU) or all runs are
        expanded in one kernel (other devices). Returned.
    dtype : torch.dtype or numpy dtype, optional
        Default: ``out``'s, else one dtype that holds every map's dtype.
    device : torch.device or str, optional
        Device of the new tensor when ``out`` is not given (default CPU).
    threads : int, optional
        On the CPU, the maps are spread over up to this many threads
        (default: the cores of the process's CPU affinity; 1: the calling
        thread alone). The result is the same for any number.

    Examples
    --------
    >>> import numpy as np, torch, multiclass_rle as mcr
    >>> rles = [mcr.encode(np.full((2, 3), i, np.uint8)) for i in range(4)]
    >>> mcr.to_tensor_batch(rles).shape
    torch.Size([4, 2, 3])
    """
    rles = list(rles)
    target = _np_dtype(dtype)
    if out is not None:
        target = _check_out(out, target, device)
        if out.shape[:1] != (len(rles),):
            raise RLEValueError(f"out has shape {tuple(out.shape)}, "
                                f"{len(rles)} RLEs need a first axis of {len(rles)}")
    elif not rles:
        raise RLEValueError("to_tensor_batch needs at least one RLE (or an empty out)")
    else:
        shapes_dtypes = [_shape_dtype(r) for r in rles]
        shape = shapes_dtypes[0][0]
        for i, (s, _) in enumerate(shapes_dtypes):
            if s != shape:
                raise RLEValueError(f"RLE {i} has size {s}, RLE 0 has {shape}; "
                                    f"a batch needs one shape")
        if target is None:
            target = np.result_type(*(d for _, d in shapes_dtypes))
        dev = torch.device("cpu") if device is None else _device(device)
        out = torch.empty((len(rles),) + shape, dtype=_torch_dtype(target), device=dev)
    if out.device.type == "cpu":
        arr = out.detach().numpy()
        if rles and not any(isinstance(r, _BYTES_LIKE) and bytes(r[:4]) != b"MCRL"
                            for r in rles):
            decode_batch(rles, arr, threads=threads)   # the maps on threads, one C call
        else:   # interim JSON payloads
            for i, rle in enumerate(rles):
                _decode_np(rle, out=arr[i], threads=threads)
        return out
    return _batch_to_device(rles, out, target)


def _batch_to_device(rles: list[Any], out: torch.Tensor, target: np.dtype) -> torch.Tensor:
    """The GPU path of :func:`to_tensor_batch`: all runs expanded by one kernel.

    Runs on any device (the tests force it through on the CPU).
    """
    shape = tuple(out.shape[1:])
    all_runs = [_runs(r, target) for r in rles]
    for i, runs in enumerate(all_runs):
        if runs.shape != shape:
            raise RLEValueError(f"RLE {i} has size {runs.shape}, out needs {shape}")
    if not all_runs:
        return out
    values = np.concatenate([r.values for r in all_runs])
    counts = np.concatenate([r.counts for r in all_runs])
    out.copy_(_expand_runs(values, counts, (len(all_runs),), shape, target, out.device))
    return out


def _new_batch_tensor(shape: tuple[int, ...], dtype: torch.dtype) -> torch.Tensor:
    """An uninitialised CPU tensor; in shared memory inside a DataLoader worker."""
    if torch.utils.data.get_worker_info() is None:
        return torch.empty(shape, dtype=dtype)
    numel = int(np.prod(shape, dtype=np.int64))
    elem = torch.empty(0, dtype=dtype)
    try:   # what torch's default collate does for its batches
        storage = elem._typed_storage()._new_shared(numel, device=elem.device)
        return elem.new(storage).resize_(*shape)
    except (AttributeError, TypeError, RuntimeError):  # pragma: no cover - other torch
        return torch.empty(shape, dtype=dtype).share_memory_()


class RLEMaskDataset(Dataset):
    """Label maps stored as RLEs, decoded to tensors in ``__getitem__``.

    Parameters
    ----------
    source : str, os.PathLike or sequence
        A JSON Lines file of ``{"path": NAME, "rle": <compact dict>}`` records
        (what ``mcrle encode`` writes), or a sequence of RLEs: payloads in the
        bytes form, compact dicts, :class:`Runs`.
    dtype : torch.dtype or numpy dtype, optional
        dtype of the returned tensors (default: each RLE's own).
    transform : callable, optional
        Applied to each decoded tensor (to the batch tensor for a list index).
    decode : bool
        False: items are the stored RLEs, not decoded (use ``collate_fn=list``
        and decode the batch with :func:`to_tensor_batch` in the training
        process, e.g. on the GPU, or into a reused pinned buffer: only the
        compact RLEs travel between processes).
    threads : int, optional
        Threads a batch (a list index) is spread over: default all the
        cores of the process's CPU affinity in the main process, and one in
        a DataLoader worker (the workers share the cores already).

    Notes
    -----
    The object is small to pickle (for a file: its path and the byte offsets
    of its lines), so ``DataLoader(num_workers > 0)`` sends it to each worker
    cheaply; each worker opens the file once and reads one line per item.
    Tensors come from the C decoder without copies and work with
    ``pin_memory=True``.

    Indexing with a list of indices returns the items stacked in one (N, ...)
    tensor (they must have one shape), decoded straight into it (into shared
    memory in a DataLoader worker). With ``DataLoader(ds, batch_size=None,
    sampler=BatchSampler(...))`` each worker so builds whole batches with no
    collate copy (docs/integrations.md).

    Attributes
    ----------
    names : list of str or None
        The records' ``path`` fields (file source), else None.
    """

    def __init__(self, source: Any, *, dtype: Any = None,
                 transform: Callable[[torch.Tensor], Any] | None = None,
                 decode: bool = True, threads: int | None = None) -> None:
        self.dtype = _np_dtype(dtype)
        self.threads = threads
        self.transform = transform
        self.decode = bool(decode)
        self._fd: int | None = None
        self._fd_pid: int | None = None
        if isinstance(source, (str, os.PathLike)):
            self.path: str | None = os.fspath(source)
            self.items: list[Any] | None = None
            self._index_lines()
        else:
            if isinstance(source, (bytes, bytearray, memoryview, dict)):
                raise RLETypeError("source must be a file path or a sequence of RLEs, "
                                   f"got one {type(source).__name__}")
            self.path = None
            self.items = list(source)
            self.names = None
            self.offsets = self.lengths = None

    def _index_lines(self) -> None:
        with open(self.path, "rb") as f:  # type: ignore[arg-type]
            data = f.read()
        buf = np.frombuffer(data, dtype=np.uint8)
        ends = np.flatnonzero(buf == ord("\n"))
        if buf.size and (not ends.size or ends[-1] != buf.size - 1):
            ends = np.append(ends, buf.size)
        starts = np.concatenate(([0], ends[:-1] + 1)).astype(np.int64)
        lengths = (ends - starts).astype(np.int64)
        keep, names = [], []
        for i, (s, n) in enumerate(zip(starts.tolist(), lengths.tolist())):
            line = data[s:s + n]
            if not line.strip():
                continue
            try:
                rec = jsontext.loads(line)
            except ValueError as exc:
                raise RLEValueError(f"{self.path}:{i + 1}: not JSON: {exc}") from None
            if not isinstance(rec, dict) or "rle" not in rec:
                raise RLEValueError(f'{self.path}:{i + 1}: a record needs an "rle" key')
            keep.append(i)
            names.append(str(rec.get("path", i)))
        self.offsets = starts[keep]
        self.lengths = lengths[keep]
        self.names = names

    def __len__(self) -> int:
        return len(self.items) if self.items is not None else int(self.offsets.shape[0])

    def _read_line(self, i: int) -> bytes:
        pid = os.getpid()
        if self._fd is None or self._fd_pid != pid:   # first use in this process
            self._fd = os.open(self.path, os.O_RDONLY | getattr(os, "O_BINARY", 0))
            self._fd_pid = pid
        offset, length = int(self.offsets[i]), int(self.lengths[i])
        if hasattr(os, "pread"):
            return os.pread(self._fd, length, offset)
        os.lseek(self._fd, offset, os.SEEK_SET)   # pragma: no cover - Windows
        return os.read(self._fd, length)          # pragma: no cover

    def rle(self, index: int) -> Any:
        """The stored RLE of item ``index`` (not decoded)."""
        n = len(self)
        i = index + n if index < 0 else index
        if not 0 <= i < n:
            raise IndexError(f"index {index} out of range for {n} items")
        if self.items is not None:
            return self.items[i]
        return jsontext.loads(self._read_line(i))["rle"]

    def __getitem__(self, index: Any) -> Any:
        if isinstance(index, (list, tuple, range, np.ndarray, torch.Tensor)):
            indices = [int(i) for i in index]
            if not self.decode:
                return [self.rle(i) for i in indices]
            return self._batch(indices)
        if not self.decode:
            return self.rle(index)
        t = to_tensor(self.rle(index), dtype=self.dtype)
        return t if self.transform is None else self.transform(t)

    def _batch(self, indices: list[int]) -> Any:
        """Items ``indices`` (all of one shape) decoded into one (N, ...) tensor.

        In a DataLoader worker the tensor is allocated in shared memory, as the
        default collate does, so the maps go from the decoder to the main
        process without being copied.
        """
        rles = [self.rle(i) for i in indices]
        if not rles:
            raise IndexError("an empty list of indices")
        shape, stored = _shape_dtype(rles[0])
        dtype = self.dtype if self.dtype is not None else np.result_type(
            stored, *(_shape_dtype(r)[1] for r in rles[1:]))
        out = _new_batch_tensor((len(rles),) + tuple(shape), _torch_dtype(dtype))
        threads = getattr(self, "threads", None)   # None in datasets pickled before it existed
        if threads is None and torch.utils.data.get_worker_info() is not None:
            threads = 1   # DataLoader workers share the cores already
        t = to_tensor_batch(rles, out=out, threads=threads)
        return t if self.transform is None else self.transform(t)

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_fd"] = state["_fd_pid"] = None   # each process opens its own
        return state

    def __del__(self) -> None:
        fd = self.__dict__.get("_fd")
        if fd is not None and self.__dict__.get("_fd_pid") == os.getpid():
            try:
                os.close(fd)
            except OSError:  # pragma: no cover
                pass

    def __repr__(self) -> str:
        src = repr(self.path) if self.path is not None else f"<{len(self)} RLEs>"
        return f"RLEMaskDataset({src}, n={len(self)})"
