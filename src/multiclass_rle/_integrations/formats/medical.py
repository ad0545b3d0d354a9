"""Medical and neuroimaging label volumes: NIfTI-1/2 (``.nii``, ``.nii.gz``) and FreeSurfer MGH/MGZ.

Read and written through nibabel (the extra ``medical``), imported on first
use. A volume's affine (voxel -> world), voxel sizes and header are part of
the data: a label volume that comes back without them is useless in
ITK-SNAP, 3D Slicer or FreeSurfer. So each map's ``meta`` keeps

==================  ===========================================================
``format``          ``"nifti"`` or ``"mgz"``
``header``          the header's bytes, base64 (NIfTI-1: 348, NIfTI-2: 540,
                    MGH: 110 with the scan-parameter footer); written back
                    as they were
``nifti_version``   1 or 2 (NIfTI only)
``extensions``      NIfTI header extensions ``[{"code", "content": base64}]``
``affine``          the 4x4 voxel -> world matrix nibabel gives (readable copy)
``voxel_sizes``     the voxel sizes (``header.get_zooms()``)
``dtype``           the data type stored in the file (``"<u1"``, ``">i4"``,
                    ``"<f4"``...); written back in this type
==================  ===========================================================

The array keeps the file's axis order (x, y, z, ...: nibabel's) and its
Fortran memory layout, which the RLE's run order follows, so nothing is
copied to encode it. Voxel values stored as floats are accepted when every
one is an integer (FSL writes label maps as float32) and become the smallest
integer dtype holding them; any other value is an error naming the voxel.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np

from ._base import FormatError, LabelMap, Plan, Task, Writer, b64, check_options, jsonable, \
    label_array, need, unb64

__all__ = ["NIFTI", "MGZ"]

_EXTRA = "medical"


def _nib() -> Any:
    return need("nibabel", _EXTRA, "reading and writing NIfTI/MGZ volumes")


def _strip(name: str) -> str:
    low = name.lower()
    for suffix in (".nii.gz", ".nii", ".mgz", ".mgh"):
        if low.endswith(suffix):
            return name[: -len(suffix)]
    return name


class _Volume:
    """NIfTI or MGH/MGZ: one volume per file."""

    name = ""
    suffixes: tuple[str, ...] = ()
    options: tuple[str, ...] = ()

    def sniff(self, path: str, head: bytes) -> bool:
        return path.lower().endswith(self.suffixes)

    def plan(self, path: str, options: dict[str, Any], name: str | None = None) -> Plan:
        check_options(options, self.options, self.name)
        size = os.path.getsize(path) if os.path.exists(path) else 0
        return Plan({}, [Task(self.name, path, name or os.path.basename(path), None, size)])

    def _load(self, path: str) -> Any:
        nib = _nib()
        try:
            return nib.load(path)
        except FileNotFoundError:
            raise FormatError(path, "no such file") from None
        except Exception as exc:  # nibabel raises many kinds for broken files
            raise FormatError(path, f"not a readable {self.name} file "
                                    f"({type(exc).__name__}: {exc})") from None

    def _array(self, img: Any, path: str) -> np.ndarray:
        try:
            data = np.asanyarray(img.dataobj)
        except Exception as exc:
            raise FormatError(path, f"cannot read the voxel data ({type(exc).__name__}: "
                                    f"{exc})") from None
        return label_array(data, path, "voxel values")

    def _common_meta(self, img: Any) -> dict[str, Any]:
        hdr = img.header
        return {"format": self.name, "header": b64(hdr.binaryblock),
                "affine": jsonable(np.asarray(img.affine, dtype=float)),
                "voxel_sizes": [float(z) for z in hdr.get_zooms()],
                "dtype": hdr.get_data_dtype().str}

    def read(self, task: Task, options: dict[str, Any]) -> list[LabelMap | FormatError]:
        try:
            img = self._load(task.path)
            meta = self._meta(img, task.path)
            return [LabelMap(task.name, self._array(img, task.path), meta)]
        except FormatError as exc:
            return [exc]

    def _meta(self, img: Any, path: str) -> dict[str, Any]:
        raise NotImplementedError

    def writer(self, options: dict[str, Any]) -> Writer:
        check_options(options, (), self.name)
        return _VolumeWriter(self)


class _Nifti(_Volume):
    name = "nifti"
    suffixes = (".nii", ".nii.gz")

    def sniff(self, path: str, head: bytes) -> bool:
        if super().sniff(path, head):
            return True
        # uncompressed NIfTI-1 / NIfTI-2 by magic (bytes 344 / 4 of the header)
        return head[344:348] in (b"n+1\x00", b"ni1\x00") or head[4:8] in (b"n+2\x00", b"ni2\x00")

    def _meta(self, img: Any, path: str) -> dict[str, Any]:
        nib = _nib()
        if not isinstance(img, (nib.Nifti1Image, nib.Nifti2Image)):
            raise FormatError(path, f"not a NIfTI file (nibabel reads it as "
                                    f"{type(img).__name__})")
        hdr = img.header
        meta = self._common_meta(img)
        space, time = hdr.get_xyzt_units()
        meta.update({
            "nifti_version": 2 if isinstance(img, nib.Nifti2Image) else 1,
            "extensions": [{"code": int(e.get_code()), "content": b64(e.get_content())}
                           for e in hdr.extensions],
            "units": [space, time],
            "sform_code": int(hdr["sform_code"]), "qform_code": int(hdr["qform_code"]),
            "description": bytes(hdr["descrip"]).split(b"\x00")[0].decode("latin-1"),
        })
        return meta

    suffix = ".nii.gz"

    def image(self, item: LabelMap) -> Any:
        nib = _nib()
        meta = item.meta
        arr = _writable(item)
        if meta.get("format") == "nifti" and "header" in meta:
            version = meta.get("nifti_version", 1)
            header_cls = nib.Nifti2Header if version == 2 else nib.Nifti1Header
            image_cls = nib.Nifti2Image if version == 2 else nib.Nifti1Image
            hdr = header_cls(binaryblock=unb64(meta["header"], f"{item.name}: meta.header"))
            _check_shape(item, tuple(int(d) for d in hdr.get_data_shape()))
            for ext in meta.get("extensions", []):
                hdr.extensions.append(nib.nifti1.Nifti1Extension(
                    int(ext["code"]), unb64(ext["content"], f"{item.name}: an extension")))
            # the header's own sform/qform are kept: no affine is passed
            return image_cls(arr.astype(hdr.get_data_dtype(), copy=False), None, hdr)
        img = nib.Nifti1Image(arr, _affine(item))
        if meta.get("dtype"):
            img.header.set_data_dtype(np.dtype(meta["dtype"]))
        return img


class _Mgz(_Volume):
    name = "mgz"
    suffixes = (".mgz", ".mgh")
    suffix = ".mgz"

    def _meta(self, img: Any, path: str) -> dict[str, Any]:
        nib = _nib()
        if not isinstance(img, nib.MGHImage):
            raise FormatError(path, f"not an MGH/MGZ file (nibabel reads it as "
                                    f"{type(img).__name__})")
        return self._common_meta(img)

    def image(self, item: LabelMap) -> Any:
        nib = _nib()
        meta = item.meta
        arr = _writable(item)
        if arr.ndim > 4:
            raise FormatError(item.name, f"a {arr.ndim}-D map does not fit MGH (at most 4-D)")
        if meta.get("format") == "mgz" and "header" in meta:
            hdr = nib.freesurfer.mghformat.MGHHeader(unb64(meta["header"], f"{item.name}: meta.header"))
            _check_shape(item, tuple(int(d) for d in hdr.get_data_shape()))
            return nib.MGHImage(arr.astype(hdr.get_data_dtype(), copy=False), hdr.get_affine(),
                                hdr)
        # MGH holds uint8, int16, int32 and float32
        dtype = next((t for t in (np.uint8, np.int16, np.int32)
                      if _fits(arr, np.dtype(t))), None)
        if dtype is None:
            raise FormatError(item.name, f"labels {int(arr.min())}..{int(arr.max())} do not "
                                         f"fit MGH's int32")
        return nib.MGHImage(arr.astype(dtype), _affine(item))


def _fits(arr: np.ndarray, dtype: np.dtype) -> bool:
    if arr.size == 0:
        return True
    info = np.iinfo(dtype)
    return info.min <= int(arr.min()) and int(arr.max()) <= info.max


def _writable(item: LabelMap) -> np.ndarray:
    arr = np.asarray(item.array)
    if arr.dtype == np.bool_:
        arr = arr.view(np.uint8)
    if arr.ndim < 1 or arr.ndim > 7:
        raise FormatError(item.name, f"a {arr.ndim}-D map does not fit NIfTI (1 to 7 axes)")
    return np.asfortranarray(arr)


def _affine(item: LabelMap) -> np.ndarray:
    affine = item.meta.get("affine")
    if affine is None:
        return np.eye(4)
    out = np.asarray(affine, dtype=float)
    if out.shape != (4, 4):
        raise FormatError(item.name, f"meta.affine has shape {out.shape}, not (4, 4)")
    return out


def _check_shape(item: LabelMap, header_shape: tuple[int, ...]) -> None:
    if tuple(item.array.shape) != header_shape:
        raise FormatError(item.name, f"the map is {'x'.join(map(str, item.array.shape))} but its "
                                     f"header says {'x'.join(map(str, header_shape))}")


class _VolumeWriter(Writer):
    def __init__(self, fmt: _Nifti | _Mgz) -> None:
        self.fmt = fmt
        self.suffix = fmt.suffix

    def write(self, item: LabelMap, target: str) -> int:
        from ._files import atomic_write

        img = self.fmt.image(item)
        # nibabel picks gzip from the name: write under a temporary name with the
        # same ending, then rename (no half-written volume is ever left)
        return atomic_write(target, lambda tmp: img.to_filename(tmp), keep_suffix=True)


NIFTI = _Nifti()
MGZ = _Mgz()
