# Type stubs of the private C binding (src/multiclass_rle/_core.c).
from typing import Any

MAX_NDIM: int
ERR_ARG: int
ERR_ZERO_COUNT: int
ERR_COUNTS_SHORT: int
ERR_COUNTS_LONG: int
ERR_BAD_CHAR: int
ERR_TRUNCATED: int
ERR_NUMBER_TOO_LONG: int
ERR_NOSPACE: int
ERR_NOMEM: int

class CodecError(ValueError): ...

def encode(array: Any, /) -> tuple[bytearray, bytearray]: ...
def decode(values: Any, counts: Any, out: Any, /) -> None: ...
def check_counts(counts: Any, size: int, /) -> None: ...
def string_encode(numbers: Any, delta_from: int, /) -> str: ...
def string_decode(s: str | bytes | bytearray | memoryview, delta_from: int, /) -> bytearray: ...
