"""Hostile callers: the findings of issue 13's outside attack, one regression test each.

Races (threads writing into inputs) are in test_races.py; this file holds
the single-threaded findings: memory on 1D and few-line maps and on tiny
objects that claim huge maps (4), ``packed`` beside ``values``/``counts``
(5), unsafe ``out=`` (6), deeply nested JSON (7), the command line (8),
exception classes (9) and the numbers in error messages (10).
"""

from __future__ import annotations

import json
import struct
import subprocess
import sys
import threading
import tracemalloc
import zlib
from pathlib import Path

import numpy as np
import pytest

import multiclass_rle as mcr
from multiclass_rle._codec.forms import bytes as bf
from multiclass_rle._codec.output import overlaps_itself

DEEP = "[" * 100_000 + "]" * 100_000


def _varint(v: int) -> bytes:
    out = bytearray()
    while True:
        c, v = v & 0x7F, v >> 7
        out.append(c | (0x80 if v else 0))
        if not v:
            return bytes(out)


def _obj(dtype_code: int, shape, n_values: int, payload: bytes) -> bytes:
    """A bytes-form object with a correct checksum around any payload (format.md 4.1)."""
    head = b"MCRL" + bytes([1, dtype_code, len(shape), 0])
    head += b"".join(_varint(d) for d in shape) + _varint(n_values) + _varint(len(payload))
    return head + struct.pack("<I", zlib.adler32(payload, zlib.adler32(head))) + payload


def _with_checksum(data: bytes | bytearray) -> bytes:
    """data with its checksum recomputed (read from the header's varints: format.md 4.1)."""
    data = bytearray(data)
    pos, fields = 8, data[6] + 2 if len(data) > 6 else 0
    while fields and pos < len(data):
        fields -= not data[pos] & 0x80
        pos += 1
    if fields or pos + 4 > len(data):
        return bytes(data)   # cut inside the header: nothing to fix
    ck = zlib.adler32(bytes(data[pos + 4:]), zlib.adler32(bytes(data[:pos])))
    data[pos:pos + 4] = struct.pack("<I", ck)
    return bytes(data)


def _traced_peak(fn) -> tuple[object, int]:
    """fn() and the peak of memory traced meanwhile (numpy's and the kernels' scratch)."""
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        base = tracemalloc.get_traced_memory()[0]
        result = fn()
        return result, tracemalloc.get_traced_memory()[1] - base
    finally:
        tracemalloc.stop()


# ---------------------------------------------------------------------------
# 4. memory: scratch bounded by a small multiple of the map; hostile claims


def _steps(n: int, dtype=np.uint8) -> np.ndarray:
    a = np.zeros(n, dtype)
    a[n // 7: n // 3] = 5
    a[n // 2:] = 9
    a[::4096] = 3   # many short runs too
    return a


def test_bytes_decode_of_a_1d_map_needs_no_run_lists():
    # the scratch of a 1D map was 16 bytes per element (11.5x the output);
    # now: the output plus a fixed ~110 kB (docs/security.md)
    a = _steps(1 << 22)
    blob = mcr.encode_bytes(a)
    back, peak = _traced_peak(lambda: mcr.decode(blob))
    assert np.array_equal(back, a)
    assert peak <= a.nbytes + (256 << 10), peak
    # a strided output builds its line in scratch: one line more
    out = np.empty(2 * a.size, np.uint8)[::2]
    _, peak = _traced_peak(lambda: mcr.decode(blob, out=out))
    assert np.array_equal(out, a)
    assert peak <= a.nbytes + (256 << 10), peak


@pytest.mark.parametrize("lines", [2, 3, 16])
def test_bytes_decode_scratch_of_few_long_lines(lines):
    # documented bound: 16 bytes per element of a line for each run list
    # (none for the last line, one list for two lines) + ~110 kB
    w = (1 << 22) // lines
    a = np.stack([_steps(w)] * lines)
    a[1::2, w // 5:w // 4] = 7
    blob = mcr.encode_bytes(a)
    back, peak = _traced_peak(lambda: mcr.decode(blob))
    assert np.array_equal(back, a)
    lists = 1 if lines == 2 else 2
    assert peak <= a.nbytes + lists * 8 * w + (256 << 10), (peak, a.nbytes)


def test_bytes_encode_of_a_1d_map():
    # was 5.5x the input (a model line of 4 bytes an element, the line before
    # written out); now the output buffer (at most the raw size) and a little
    a = _steps(1 << 22)
    blob, peak = _traced_peak(lambda: mcr.encode_bytes(a))
    assert np.array_equal(mcr.decode(blob), a)
    assert peak <= 1.2 * a.nbytes + (1 << 20), peak


def test_bytes_encode_record_is_bounded():
    # the first pass records its operations for the second, at most a quarter of
    # the input's bytes (docs/security.md): noise emits several operations per
    # element (unbounded, the record would be 40 bytes an element), so the store
    # fills and the rest is walked again; the output buffer is at most the raw size
    a = np.random.default_rng(2).integers(0, 5, size=(1024, 2048), dtype=np.uint8)
    blob, peak = _traced_peak(lambda: mcr.encode_bytes(a))
    assert np.array_equal(mcr.decode(blob), a)
    # measured 1.85x: the output buffer, the record (0.25x), the result (0.39x)
    # and a little; a record of half the input would make it 2.1x
    assert peak <= 2.0 * a.nbytes + (64 << 10), peak / a.nbytes


def _claim(shape, rans_bytes: bytes) -> bytes:
    """A modelled payload: one value (0), every table absent, then rans_bytes."""
    return _obj(1, shape, 1, b"\x00" + b"\x00" + b"\x00" + rans_bytes)


def test_a_tiny_object_claiming_a_huge_map_is_refused_before_decoding():
    # like the attack's 28-byte object: 65536 lines need two blocks of the
    # coder, 4 bytes each; it holds one (it was decoded into 2 GB for 6 s)
    one_block = struct.pack("<I", 1 << 16)
    hostile = _claim((65536, 32768), one_block)
    assert len(hostile) < 30
    for call in (mcr.decode, mcr.as_runs, mcr.labels):
        with pytest.raises(mcr.MalformedRLEError, match="4 bytes of coded lines, but its "
                                                        "65536 lines need at least 8"):
            call(hostile)
    # refused before a line is written: out keeps what it held
    out = np.full((65536, 16), 7, np.uint8)
    with pytest.raises(mcr.MalformedRLEError, match="need at least 8"):
        mcr.decode(_claim((65536, 16), one_block), out=out)
    assert (out == 7).all()
    # with the second block it is a valid map: all value 0
    assert not mcr.decode(_claim((65536, 16), one_block * 2)).any()


def test_as_runs_of_the_bytes_form_decodes_in_c_order():
    a = np.zeros((300, 2000), np.uint8)
    a[:, 500:1500] = 3
    blob = mcr.encode_bytes(a)
    runs = mcr.as_runs(blob)
    assert runs == mcr.encode_runs(a)


# ---------------------------------------------------------------------------
# 5. 'packed' beside 'values'/'counts' is refused by every entry point

PACKED_CALLS = {
    "decode": mcr.decode,
    "as_runs": mcr.as_runs,
    "area": mcr.area,
    "labels": mcr.labels,
    "bbox": mcr.bbox,
    "remap": lambda r: mcr.remap(r, {0: 1}, default=0),
    "decode_window": lambda r: mcr.decode_window(r, (slice(0, 2),)),
    "binary_mask": lambda r: mcr.binary_mask(r, 1),
    "to_coco": mcr.to_coco,
    "confusion_matrix": lambda r: mcr.confusion_matrix(r, r),
}


@pytest.mark.parametrize("name", list(PACKED_CALLS))
@pytest.mark.parametrize("extra", ["values+counts", "counts", "values", "original lists"])
def test_packed_with_values_or_counts_is_refused(name, extra):
    a = (np.arange(64, dtype=np.uint8).reshape(8, 8) // 9)
    packed = mcr.encode(a, packed=True)
    assert "packed" in packed
    plain = mcr.encode(np.zeros((8, 8), np.uint8))
    rle = dict(packed)
    if extra == "original lists":
        rle.update(values=[0], counts=[64])
    else:
        for key in extra.split("+"):
            rle[key] = plain[key]
    with pytest.raises(mcr.MalformedRLEError, match="either 'packed' or 'values'/'counts'"):
        PACKED_CALLS[name](rle)


# ---------------------------------------------------------------------------
# 6. out= that overlaps the input or itself


def test_out_that_is_a_view_of_the_values_decodes_right():
    v = np.arange(1, 9, dtype=np.uint8)
    want = np.arange(1, 9, dtype=np.uint8).reshape(2, 4).T
    got = mcr.decode({"size": (4, 2), "values": v, "counts": np.ones(8, np.uint64)},
                     out=v.reshape(4, 2))
    assert np.array_equal(got, want)
    runs = mcr.Runs((4, 2), np.arange(1, 9, dtype=np.uint64), np.ones(8, np.uint64))
    got = mcr.decode(runs, out=runs.counts.reshape(4, 2))   # out is the counts
    assert np.array_equal(got, want)


def test_out_that_is_a_view_of_the_bytes_decodes_right():
    a = (np.arange(64, dtype=np.uint8).reshape(8, 8) // 9)
    blob = mcr.encode_bytes(a)
    buf = bytearray(max(len(blob), 64))
    buf[:len(blob)] = blob
    out = np.frombuffer(buf, np.uint8)[:64].reshape(8, 8)
    got = mcr.decode(memoryview(buf)[:len(blob)], out=out)
    assert np.array_equal(got, a)


@pytest.mark.parametrize("make", [
    lambda: np.lib.stride_tricks.as_strided(np.zeros(8, np.uint8), (6, 8), (0, 1)),
    lambda: np.lib.stride_tricks.as_strided(np.zeros(16, np.uint8), (6, 8), (1, 1)),
    lambda: np.lib.stride_tricks.as_strided(np.zeros(60, np.uint16), (6, 8), (4, 6)),
])
def test_out_whose_elements_share_memory_is_refused(make):
    rle = mcr.encode(np.arange(48, dtype=np.uint8).reshape(6, 8) % 5)
    out = make()
    with pytest.raises(mcr.RLEValueError, match="share memory"):
        mcr.decode(rle, out=out)
    with pytest.raises(ValueError):
        mcr.decode(mcr.as_runs(rle), out=out)


def test_overlaps_itself():
    assert not overlaps_itself((6, 8), (8, 1), 1)         # C order
    assert not overlaps_itself((6, 8), (1, 6), 1)         # Fortran order
    assert not overlaps_itself((6, 1), (1, 0), 1)         # a stride 0 on a length-1 axis
    assert not overlaps_itself((0, 8), (0, 0), 1)         # empty
    assert not overlaps_itself((3, 2), (2, 3), 1)         # interleaved: 0 2 4 3 5 7
    assert overlaps_itself((6, 8), (0, 1), 1)             # expanded
    assert overlaps_itself((6, 8), (1, 1), 1)             # diagonal windows
    assert overlaps_itself((4,), (1,), 2)                 # elements wider than the stride
    assert not overlaps_itself((4,), (-2,), 2)            # reversed


# ---------------------------------------------------------------------------
# 7. deeply nested JSON is a bad record, never a RecursionError


def test_deep_json_in_a_jsonl_file_is_one_bad_line(tmp_path):
    good = mcr.encode(np.eye(4, dtype=np.uint8))
    path = tmp_path / "maps.jsonl"
    path.write_text(json.dumps({"path": "a.png", "rle": good}) + "\n" + DEEP + "\n"
                    + json.dumps({"path": "b.png", "rle": good}) + "\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "multiclass_rle", "decode", str(path), "-o",
                           str(out), "--format", "npy"], capture_output=True, text=True)
    assert proc.returncode == 1, proc.stderr
    assert "maps.jsonl:2" in proc.stderr and "nested" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["a.npy", "b.npy"]   # the valid records
    proc = subprocess.run([sys.executable, "-m", "multiclass_rle", "info", str(path)],
                          capture_output=True, text=True)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr and "nested" in proc.stderr


def test_deep_json_in_a_dataset_a_payload_and_a_coco_file(tmp_path):
    path = tmp_path / "maps.jsonl"
    path.write_text(DEEP + "\n")
    torch_mod = pytest.importorskip("torch")
    assert torch_mod
    with pytest.raises(mcr.RLEValueError, match="nested"):
        mcr.RLEMaskDataset(str(path))
    from multiclass_rle._integrations.payload import from_payload
    with pytest.raises(mcr.MalformedRLEError, match="nested"):
        from_payload(b"MCRJ" + DEEP.encode())
    coco = tmp_path / "instances.json"
    coco.write_text(DEEP)
    with pytest.raises(ValueError, match="nested"):
        mcr.coco_annotations_to_label_maps(str(coco))


def test_deep_json_through_the_numcodecs_codec():
    pytest.importorskip("numcodecs")
    from multiclass_rle._integrations.zarr import MulticlassRLE
    with pytest.raises(mcr.MalformedRLEError, match="nested"):
        MulticlassRLE().decode(b"MCRJ" + DEEP.encode())


# ---------------------------------------------------------------------------
# 8. the command line


def _pack(tmp_path: Path, entries_from) -> Path:
    """A .mcrlpack of two maps whose index entries are rewritten by entries_from."""
    a = np.arange(12, dtype=np.uint8).reshape(3, 4) % 3
    blobs = [mcr.encode_bytes(a), mcr.encode_bytes(a.T.copy())]
    body, entries, off = b"MCRLPACK", [], 8
    for i, b in enumerate(blobs):
        entries.append({"path": f"m{i}.png", "offset": off, "length": len(b)})
        body += b
        off += len(b)
    entries = entries_from(entries, off)
    index = entries if isinstance(entries, bytes) else json.dumps(entries).encode()
    path = tmp_path / "p.mcrlpack"
    path.write_bytes(body + index + off.to_bytes(8, "little") + b"MCRLIDX1")
    return path


def _mcrle(*args) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "multiclass_rle", *map(str, args)],
                          capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("offset,length", [(-5, 10), (8, 2**62), (8, -1), (10**6, 5),
                                           ("8", 5), (8, 0)])
def test_pack_index_entries_outside_the_file(tmp_path, offset, length):
    def bad_first(entries, end):
        entries[0].update(offset=offset, length=length)
        return entries
    path = _pack(tmp_path, bad_first)
    for cmd in (("info", path), ("decode", path, "-o", tmp_path / "out", "--format", "npy")):
        proc = _mcrle(*cmd)
        assert proc.returncode == 1, proc.stderr
        assert "Traceback" not in proc.stderr and "p.mcrlpack#0" in proc.stderr
        assert "p.mcrlpack#1" not in proc.stderr   # the other map is fine


def test_pack_index_entry_outside_the_file_in_eval(tmp_path):
    def bad_first(entries, end):
        entries[0].update(offset=-5)
        return entries
    path = _pack(tmp_path, bad_first)
    gt = tmp_path / "gt"
    gt.mkdir()
    for i in range(2):
        np.save(gt / f"m{i}.npy", np.zeros((3, 4), np.uint8))
    proc = _mcrle("eval", gt, path, "--num-classes", 3)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "p.mcrlpack#0" in proc.stderr
    assert "offset -5" in proc.stderr


@pytest.mark.parametrize("index", [b"[" * 100_000, b"{}", b"not json"])
def test_unreadable_pack_exits_1(tmp_path, index):
    path = _pack(tmp_path, lambda entries, end: index)
    proc = _mcrle("info", path)
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stderr and "index" in proc.stderr


def test_palette_png_without_plte_is_refused():
    from multiclass_rle._integrations.png import PNGError, read_label_png

    def chunk(t: bytes, b: bytes) -> bytes:
        return struct.pack(">I", len(b)) + t + b + struct.pack(">I", zlib.crc32(b, zlib.crc32(t)))
    ihdr = struct.pack(">IIBBBBB", 4, 2, 8, 3, 0, 0, 0)
    data = zlib.compress(b"\x00\x01\x02\x03\x04" * 2)
    png = b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", data) + chunk(b"IEND", b"")
    with pytest.raises(PNGError, match="without a PLTE"):
        read_label_png(png)
    with_plte = png[:33] + chunk(b"PLTE", bytes(range(5)) * 3) + png[33:]
    assert read_label_png(with_plte).tolist() == [[1, 2, 3, 4]] * 2


def test_show_of_a_large_map_is_a_downscaled_preview(tmp_path):
    pytest.importorskip("PIL")
    from multiclass_rle.cli import _show
    a = np.zeros((5000, 300), np.uint16)
    a[:, 100:] = 7
    a[4000:, :] = 300
    pic = _show.render(a, names={}, legend=True)
    assert max(pic.size) <= _show.MAX_PREVIEW_SIDE + 400   # map side + legend panel
    np.save(tmp_path / "big.npy", a)
    proc = _mcrle("show", tmp_path / "big.npy", "-o", tmp_path / "p.png")
    assert proc.returncode == 0, proc.stderr
    assert "every 3th pixel" in proc.stderr and "3 labels" in proc.stderr


def test_pool_leaves_no_executor_thread_running_after_an_error():
    # --fail-fast leaves the pool with an exception; an executor still shutting
    # down at interpreter exit raced CPython 3.11's exit handler ("OSError:
    # Bad file descriptor" in about 1 run in 18 of encode -j 2 --fail-fast)
    from multiclass_rle.cli._pool import Pool
    before = set(threading.enumerate())

    class Stop(Exception):
        pass

    with pytest.raises(Stop):
        with Pool(2) as pool:
            for _ in pool.run(abs, list(range(-40, 0))):
                raise Stop
    assert set(threading.enumerate()) <= before


# ---------------------------------------------------------------------------
# 9. exception classes: RLEError and ValueError/TypeError, with readable messages


def test_lone_surrogate_in_a_compact_string():
    rle = {"size": [2, 3], "values": "0\udc801", "counts": "222", "dtype": "uint8"}
    for call in (mcr.decode, mcr.as_runs, mcr.area, lambda r: mcr.decode_window(r, (0, 1)),
                 lambda r: mcr.remap(r, {0: 1}, default=0)):
        with pytest.raises(mcr.MalformedRLEError, match=r"'\\udc80' \(code 56448\) at offset 1"):
            call(rle)
    with pytest.raises(mcr.MalformedRLEError, match="at offset 2"):
        mcr.decode({**rle, "values": "000", "counts": "22\ud800"})


def test_negative_image_size_in_coco_annotations():
    coco = {"images": [{"id": 1, "height": -3, "width": 3}], "annotations": []}
    with pytest.raises(mcr.MalformedRLEError, match="height -3"):
        mcr.coco_annotations_to_label_maps(coco)


def test_window_step_zero():
    rle = mcr.encode(np.zeros((4, 5), np.uint8))
    with pytest.raises(mcr.RLEValueError, match="axis 1 has step 0"):
        mcr.decode_window(rle, (slice(0, 2), slice(0, 4, 0)))


def test_confusion_matrix_of_a_million_labels_is_refused_before_allocating():
    rle = mcr.encode(np.zeros((4, 5), np.uint8))
    for call in (lambda: mcr.confusion_matrix(rle, rle, labels=range(10**6)),
                 lambda: mcr.iou(rle, rle, labels=range(10**6))):
        with pytest.raises(mcr.LimitExceededError, match="1000000 labels"):
            _, peak = _traced_peak(call)
    old = mcr.set_max_elements(100)
    try:
        with pytest.raises(mcr.LimitExceededError):
            mcr.confusion_matrix(rle, rle, labels=range(20))
        assert mcr.confusion_matrix(rle, rle, labels=range(8)).shape == (8, 8)
    finally:
        mcr.set_max_elements(old)


@pytest.mark.parametrize("shape, strides", [((1, 8), (0, 1)), ((6, 1), (1, 0)), ((6, 8), (8, 1)),
                                             ((6, 8), (1, 6))])
def test_out_contiguous_by_its_flags_is_taken_as_it_is(shape, strides):
    # check_out skips the element-by-element overlap test for arrays numpy flags as
    # contiguous; axes of length 1 may have any stride there
    want = (np.arange(np.prod(shape), dtype=np.uint8).reshape(shape) * 7) % 5
    out = np.lib.stride_tricks.as_strided(np.zeros(64, np.uint8), shape, strides)
    assert out.flags.c_contiguous or out.flags.f_contiguous
    assert mcr.decode(mcr.encode(want), out=out) is out
    np.testing.assert_array_equal(out, want)


def test_unusable_torch_devices_and_outputs():
    torch = pytest.importorskip("torch")
    rle = mcr.encode(np.arange(48, dtype=np.uint8).reshape(6, 8) % 5)
    bad = ["bogus", "meta", torch.device("meta")]
    if not torch.cuda.is_available():
        bad.append("cuda")
    for device in bad:
        with pytest.raises(mcr.RLEValueError):
            mcr.to_tensor(rle, device=device)
        with pytest.raises(ValueError):
            mcr.to_tensor_batch([rle], device=device)
    with pytest.raises(mcr.RLEValueError, match="meta"):
        mcr.to_tensor(rle, out=torch.empty(6, 8, dtype=torch.uint8, device="meta"))
    with pytest.raises(mcr.RLEValueError, match="share memory"):
        mcr.to_tensor(rle, out=torch.zeros(8, dtype=torch.uint8).expand(6, 8))
    with pytest.raises(mcr.RLEValueError, match="share memory"):
        mcr.to_tensor_batch([rle, rle], out=torch.zeros(6, 8, dtype=torch.uint8).expand(2, 6, 8))
    with pytest.raises(mcr.RLEValueError, match="layout"):
        mcr.to_tensor(rle, out=torch.zeros(6, 8, dtype=torch.uint8).to_sparse())
    out = torch.zeros(6, 8, dtype=torch.uint8)
    assert mcr.to_tensor(rle, out=out) is out
    assert np.array_equal(out.numpy(), mcr.decode(rle))


# ---------------------------------------------------------------------------
# 10. error messages say what was found


def _payload_error(data: bytes, *patterns: str) -> str:
    with pytest.raises(mcr.MalformedRLEError) as info:
        mcr.decode(data)
    for p in patterns:
        assert p in str(info.value), (p, str(info.value))
    assert "line 0 of" not in str(info.value) and " of 0" not in str(info.value)
    return str(info.value)


def test_payload_errors_name_what_they_found():
    a = np.zeros((32, 32), np.uint8)   # a modelled payload
    a[4:20, 3:30] = 7
    a[10:30, 12:20] = 49
    blob = mcr.encode_bytes(a)
    h = bf.bytes_info(blob).header_bytes
    bad = bytearray(blob)
    bad[h] = 255
    _payload_error(_with_checksum(bad), "mode byte 255 is unknown (0 is modelled, 1 raw)")
    two = np.where(a > 20, 7, 0).astype(np.uint8)   # 2 values: a bool header holds them
    bad = bytearray(mcr.encode_bytes(two))
    bad[5] = 0   # relabelled as bool
    _payload_error(_with_checksum(bad), "entry 1 of its value table", "is 7, outside dtype bool")
    bad = bytearray(mcr.encode_bytes(a))
    bad[5] = 0
    _payload_error(_with_checksum(bad), "n_values is 3, more distinct values than dtype bool has")
    assert bf.bytes_info(blob).payload_bytes > 1 and blob[h] == 0   # modelled
    raw = _obj(1, (4, 5), 3, b"\x01" + bytes(19))
    _payload_error(raw, "a raw payload of 20 bytes, the map needs 21")
    raw_bool = _obj(0, (2, 2), 2, b"\x01\x00\x01\x02\x00")
    _payload_error(raw_bool, "element 2 (C order) of a bool map is 2")
    blob = mcr.encode_bytes(a, version=1)   # _obj writes version 1 headers
    trailing = bytearray(blob) + b"\x00\x00"
    hdr = bf.bytes_info(blob)
    fixed = _obj(1, (32, 32), hdr.n_values, bytes(trailing[h:]))
    _payload_error(fixed, f"its lines end at payload offset {hdr.payload_bytes} of "
                          f"{hdr.payload_bytes + 2} (2 bytes left over)")
    tables = _obj(1, (8, 8), 1, b"\x00\x00\xff\xff")   # a table of k > 9
    _payload_error(tables, "frequency table 0 (FIRST0")


def test_every_error_is_an_rle_error_and_a_value_or_type_error():
    a = np.zeros((32, 32), np.uint8)
    a[4:20, 3:30] = 7
    a[10:30, 12:20] = 49
    blob = mcr.encode_bytes(a)
    for i in range(len(blob)):
        for bit in (0, 4, 7):
            bad = bytearray(blob)
            bad[i] ^= 1 << bit
            for data in (bytes(bad), _with_checksum(bad) if i >= 8 else bytes(bad)):
                try:
                    mcr.decode(data)
                except mcr.RLEError as exc:
                    assert isinstance(exc, (ValueError, TypeError))
                    assert "detected at line" not in str(exc)
