"""Shared test configuration: hypothesis profiles, a pure-numpy reference codec, real data.

pytest runs with ``--import-mode=importlib``, so test modules cannot import
this file; the helpers below reach them as (session-scoped) fixtures, which
hypothesis accepts inside ``@given`` tests.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, settings

# ---------------------------------------------------------------------------
# hypothesis profiles: HYPOTHESIS_PROFILE=ci|dev|default

_COMMON = dict(deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile("default", max_examples=200, **_COMMON)
settings.register_profile("ci", max_examples=500, **_COMMON)
settings.register_profile("dev", max_examples=50, **_COMMON)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "default"))

# ---------------------------------------------------------------------------
# reference codec (pure numpy / pure Python, independent of the C core)

#: Every label dtype the library accepts.
LABEL_DTYPES = tuple(np.dtype(n) for n in (
    "bool", "int8", "int16", "int32", "int64", "uint8", "uint16", "uint32", "uint64"))


def reference_runs(a) -> tuple[np.ndarray, np.ndarray]:
    """Runs of ``a`` in Fortran order: (values in a's dtype, uint64 counts)."""
    a = np.asarray(a)
    f = a.ravel(order="F")
    if f.size == 0:
        return f[:0].copy(), np.zeros(0, dtype=np.uint64)
    bounds = np.flatnonzero(f[1:] != f[:-1]) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [f.size]))
    return f[starts].copy(), (ends - starts).astype(np.uint64)


def reference_decode(values, counts, shape) -> np.ndarray:
    """Inverse of :func:`reference_runs` (C-ordered result)."""
    values = np.asarray(values)
    counts = np.asarray(counts, dtype=np.int64)
    flat = np.repeat(values, counts)
    return np.ascontiguousarray(flat.reshape(tuple(shape), order="F"))


def _wrap_i64(x: int) -> int:
    return ((x + 2**63) % 2**64) - 2**63


def reference_string_encode(numbers, delta_from: int) -> str:
    """COCO's rleToString on 64-bit numbers (pycocotools' maskApi.c, in Python).

    Numbers from index ``delta_from`` on are stored as the difference to the
    number two places back (COCO uses 3 for counts); every number is written
    in 5-bit groups, low first, 0x20 = more groups follow, 0x10 of the last
    group = sign, each group + 48.
    """
    nums = [_wrap_i64(int(x)) for x in numbers]
    out = []
    for i, x in enumerate(nums):
        if i >= delta_from:
            x = _wrap_i64(x - nums[i - 2])
        more = True
        while more:
            c = x & 0x1F
            x >>= 5
            more = (x != -1) if (c & 0x10) else (x != 0)
            if more:
                c |= 0x20
            out.append(chr(c + 48))
    return "".join(out)


def reference_string_decode(s: str, delta_from: int) -> list[int]:
    """Inverse of :func:`reference_string_encode` (COCO's rleFrString), signed 64-bit."""
    nums: list[int] = []
    p = 0
    while p < len(s):
        x, k, more = 0, 0, True
        while more:
            c = ord(s[p]) - 48
            x |= (c & 0x1F) << (5 * k)
            more = bool(c & 0x20)
            p += 1
            k += 1
            if not more and (c & 0x10):
                x |= -1 << (5 * k)
        if len(nums) >= delta_from:
            x += nums[-2]
        nums.append(_wrap_i64(x))
    return nums


def smallest_dtype(values) -> np.dtype:
    """The smallest dtype holding every value: unsigned when none is negative (uint8 for none)."""
    vals = [int(v) for v in values]
    lo, hi = (min(vals), max(vals)) if vals else (0, 0)
    names = ("uint8", "uint16", "uint32", "uint64") if lo >= 0 else (
        "int8", "int16", "int32", "int64")
    for name in names:
        info = np.iinfo(name)
        if info.min <= lo and hi <= info.max:
            return np.dtype(name)
    raise ValueError(f"no dtype holds {lo}..{hi}")


class Reference:
    """Namespace handed to tests by the ``ref`` fixture."""

    LABEL_DTYPES = LABEL_DTYPES
    runs = staticmethod(reference_runs)
    decode = staticmethod(reference_decode)
    string_encode = staticmethod(reference_string_encode)
    string_decode = staticmethod(reference_string_decode)
    smallest_dtype = staticmethod(smallest_dtype)


@pytest.fixture(scope="session")
def ref() -> type[Reference]:
    return Reference


# ---------------------------------------------------------------------------
# real data beside the checkout: ../shared/data

DATA_DIR = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    """The shared real-data folder; skips the test when it is absent."""
    if not (DATA_DIR / "INDEX.json").is_file():
        pytest.skip(f"real data folder {DATA_DIR} is absent")
    return DATA_DIR


@pytest.fixture(scope="session")
def data_index(data_dir: Path) -> list[dict]:
    return json.loads((data_dir / "INDEX.json").read_text())
