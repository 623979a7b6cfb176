"""Reader for IDX files (the MNIST / Fashion-MNIST format), raw or gzip-compressed.

An IDX file is a 4-byte magic number ``0x00 0x00 <type code> <ndim>``,
``ndim`` big-endian uint32 dimension sizes, then the array in C order with
big-endian elements. The reader checks every part of that layout and,
when it knows the file, the MD5 of the decompressed content; every problem
becomes a one-line :class:`~recirc_analog.errors.DataError` that names the
file and what is wrong.
"""

from __future__ import annotations

import gzip
import hashlib
import math
import zlib
from pathlib import Path

import numpy as np

from recirc_analog.errors import DataError
from recirc_analog.limits import MAX_ARRAY_BYTES

PUBLISHED_MD5: dict[tuple[str, str], str] = {
    # MD5 of the *decompressed* content of the original distributions, as
    # listed in ../shared/data/MD5SUMS.uncompressed (they equal the checksums
    # published by the MNIST and Fashion-MNIST authors). Key: (data set,
    # file name without ".gz").
    ("fashion", "t10k-images-idx3-ubyte"): "8181f5470baa50b63fa0f6fddb340f0a",
    ("fashion", "t10k-labels-idx1-ubyte"): "15d484375f8d13e6eb1aabb0c3f46965",
    ("fashion", "train-images-idx3-ubyte"): "f4a8712d7a061bf5bd6d2ca38dc4d50a",
    ("fashion", "train-labels-idx1-ubyte"): "9018921c3c673c538a1fc5bad174d6f9",
    ("mnist", "t10k-images-idx3-ubyte"): "2646ac647ad5339dbf082846283269ea",
    ("mnist", "t10k-labels-idx1-ubyte"): "27ae3e4e09519cfbb04c329615203637",
    ("mnist", "train-images-idx3-ubyte"): "6bbc9ace898e44ae57da46a324031adb",
    ("mnist", "train-labels-idx1-ubyte"): "a25bea736e30d166cdddb491f175f624",
}
"""Published MD5 of each known IDX file's decompressed content."""

_PUBLISHED_SHAPES = {"train-images-idx3-ubyte": (60000, 28, 28), "t10k-images-idx3-ubyte": (10000, 28, 28),
                     "train-labels-idx1-ubyte": (60000,), "t10k-labels-idx1-ubyte": (10000,)}

PUBLISHED_SIZES: dict[tuple[str, str], int] = {
    (dataset, name): 4 + 4 * len(shape) + int(np.prod(shape))
    for dataset, name in PUBLISHED_MD5 for shape in [_PUBLISHED_SHAPES[name]]
}
"""Size in bytes of each known IDX file's decompressed content (uint8 data after the header)."""

IDX_TYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
"""IDX type code -> element type (big-endian, as stored)."""


def get_published_md5(dataset: str, path: str | Path) -> str | None:
    """Return the published MD5 of ``path`` as a file of ``dataset``, or None.

    ``dataset`` is "mnist" or "fashion"; the file name may end in ".gz" (the
    checksum is of the decompressed content either way). Unknown names give
    None: such files are read without a checksum check.
    """
    name = Path(path).name
    if name.endswith(".gz"):
        name = name[: -len(".gz")]
    return PUBLISHED_MD5.get((dataset, name))


def get_published_size(dataset: str, path: str | Path) -> int | None:
    """The decompressed size in bytes of ``path`` as a known file of ``dataset``, or None."""
    name = Path(path).name
    return PUBLISHED_SIZES.get((dataset, name.removesuffix(".gz")))


def read_idx(path: str | Path, *, expected_md5: str | None = None,
             expected_size: int | None = None) -> np.ndarray:
    """Read one IDX file into a native-endian array with the header's shape.

    ``path`` ending in ".gz" is decompressed as it is read, in chunks: the
    header is parsed first, a header claiming more than
    :data:`~recirc_analog.limits.MAX_ARRAY_BYTES` is refused at once, and
    reading stops one chunk past the size the header claims, so a gzip bomb
    never inflates beyond that. ``expected_md5`` (hex) is compared with the
    MD5 of the decompressed content after the layout checks, so a truncated
    file is reported as truncated rather than as a checksum mismatch. Raises
    DataError for a missing or unreadable file, corrupt gzip data, a bad
    magic number, a size that disagrees with the header, or a checksum
    mismatch. ``expected_size`` (bytes of decompressed content, for a known
    file) is compared with the size the header claims before the data is read.
    """
    path = Path(path)
    try:
        with _open(path) as stream:
            return _read_stream(path, stream, expected_md5, expected_size)
    except FileNotFoundError:
        raise DataError(f"{path}: file not found") from None
    except (EOFError, zlib.error, gzip.BadGzipFile) as error:
        raise DataError(f"{path.name}: corrupt gzip data: {error}") from None
    except OSError as error:
        if path.suffix == ".gz" and error.strerror is None:
            raise DataError(f"{path.name}: corrupt gzip data: {error}") from None
        raise DataError(f"{path}: cannot read: {error.strerror or error}") from None


_CHUNK = 1 << 20
"""Bytes read (decompressed) at a time."""


def _open(path: Path):
    """A binary stream of the file's content, decompressed when the name ends in ".gz"."""
    return gzip.open(path, "rb") if path.suffix == ".gz" else open(path, "rb")


def _read_exactly(stream, n: int) -> bytes:
    """Up to ``n`` bytes from ``stream`` (fewer only at its end), read in chunks."""
    parts, left = [], n
    while left > 0:
        part = stream.read(min(left, _CHUNK))
        if not part:
            break
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def _read_stream(path: Path, stream, expected_md5: str | None, expected_size: int | None) -> np.ndarray:
    """Parse and check the content of ``stream``, reading at most one chunk past what the header claims."""
    content = _read_exactly(stream, _CHUNK)
    dtype, shape = _parse_header(path.name, content)
    header_bytes = 4 + 4 * len(shape)
    expected_bytes = math.prod(shape) * dtype.itemsize
    dims = "x".join(str(n) for n in shape) or "scalar"
    if expected_bytes > MAX_ARRAY_BYTES:
        raise DataError(
            f"{path.name}: header says {dims} = {expected_bytes} bytes, more than the limit "
            f"{MAX_ARRAY_BYTES} (recirc_analog.limits.MAX_ARRAY_BYTES)")
    needed = header_bytes + expected_bytes
    if expected_size is not None and needed != expected_size:
        raise DataError(f"{path.name}: header says {dims} = {needed} bytes with the header, "
                        f"but the published file has {expected_size}")
    if len(content) < needed:
        content += _read_exactly(stream, needed - len(content))
    if len(content) < needed:
        raise DataError(f"{path.name}: truncated: header says {dims} = {expected_bytes} bytes, "
                        f"file has {len(content) - header_bytes}")
    after = stream.read(_CHUNK)
    extra = len(content) - needed + len(after)
    if extra:
        more = "more than " if after and stream.read(1) else ""
        raise DataError(
            f"{path.name}: trailing bytes: header says {dims} = {expected_bytes} bytes, "
            f"file has {more}{expected_bytes + extra}")
    if expected_md5 is not None:
        actual_md5 = hashlib.md5(content, usedforsecurity=False).hexdigest()
        if actual_md5 != expected_md5.lower():
            raise DataError(
                f"{path.name}: checksum mismatch: MD5 of the decompressed content is "
                f"{actual_md5}, published value is {expected_md5}")
    array = np.frombuffer(content, dtype=dtype, offset=header_bytes).reshape(shape)
    return array.astype(dtype.newbyteorder("="), copy=False)


def _parse_header(name: str, content: bytes) -> tuple[np.dtype, tuple[int, ...]]:
    """Element type and shape from the magic number and dimension sizes."""
    if len(content) < 4:
        raise DataError(f"{name}: truncated: {len(content)} bytes, shorter than the 4-byte magic number")
    zero0, zero1, type_code, ndim = content[:4]
    if zero0 != 0 or zero1 != 0 or type_code not in IDX_TYPES or ndim == 0:
        raise DataError(
            f"{name}: bad magic number 0x{content[:4].hex()}: expected 0x0000 then a type code "
            f"in ({', '.join(f'0x{c:02x}' for c in IDX_TYPES)}) and ndim >= 1; not an IDX file")
    header_bytes = 4 + 4 * ndim
    if len(content) < header_bytes:
        raise DataError(
            f"{name}: truncated: header of {ndim} dimensions needs {header_bytes} bytes, "
            f"file has {len(content)}")
    shape = tuple(int(n) for n in np.frombuffer(content, dtype=">u4", count=ndim, offset=4))
    return IDX_TYPES[type_code], shape
