"""Atomic writers for run outputs: metrics CSV, JSON summaries, npz arrays.

A run can be interrupted at any moment (Ctrl-C, a killed job, a full disk).
Every whole-file write therefore goes to a temporary file in the target's
directory and replaces the target with ``os.replace`` only once complete,
so a reader sees either the old file or the new one, never half of one.
The metrics CSV is the one file that grows: it is (re)created atomically
and then appended to, one flushed line per row, so a crash loses at most
the row being written.
"""

from __future__ import annotations

import csv
import json
import math
import os
import tempfile
import zipfile
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import IO

import numpy as np

from recirc_analog.errors import ConfigError, DataError
from recirc_analog.limits import MAX_ARRAY_BYTES


@contextmanager
def atomic_open(path: str | os.PathLike, mode: str = "w") -> Iterator[IO]:
    """Open a temporary file beside ``path``; on success it replaces ``path``.

    ``mode`` is "w" (text, UTF-8, "\\n" newlines) or "wb". If the block
    raises, the temporary file is removed, ``path`` is left as it was and
    the exception propagates.
    """
    if mode not in ("w", "wb"):
        raise ConfigError(f"mode must be 'w' or 'wb', got {mode!r}")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, temp_name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        os.chmod(temp_name, _permissions_for(target))
        text = {"encoding": "utf-8", "newline": ""} if mode == "w" else {}
        with open(fd, mode, **text) as handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temp_name, target)
    except BaseException:
        Path(temp_name).unlink(missing_ok=True)
        raise


def _permissions_for(target: Path) -> int:
    """Mode bits for a replacement of ``target``: its own, or the umask default for a new file."""
    if target.exists():
        return target.stat().st_mode & 0o777
    umask = os.umask(0o022)
    os.umask(umask)
    return 0o666 & ~umask


def write_json_atomic(path: str | os.PathLike, obj) -> Path:
    """Write ``obj`` as indented JSON atomically; returns the path.

    NumPy scalars become Python numbers / bools, arrays become nested lists,
    paths become strings. Non-finite floats are written as NaN / Infinity
    (read back by Python's json module). An object JSON cannot represent
    raises TypeError and leaves any existing file untouched.
    """
    with atomic_open(path, "w") as handle:
        json.dump(obj, handle, indent=2, default=_to_json)
        handle.write("\n")
    return Path(path)


def _to_json(value):
    """JSON-representable stand-in for the NumPy and path values json does not know."""
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, os.PathLike):
        return os.fspath(value)
    raise TypeError(f"cannot write {type(value).__name__} to JSON: {value!r:.60}")


def _check_npy_header(handle: IO[bytes], size: int, what: str, path, key: str) -> None:
    """Refuse a .npy stream whose header claims more than MAX_ARRAY_BYTES, before loading it.

    ``handle`` is at the start of the stream, ``size`` its length in bytes.
    A stream that is not .npy (NumPy would return its raw bytes) is refused
    when ``size`` is beyond the limit. Raises DataError naming ``what``,
    ``path`` and ``key``.
    """
    from numpy.lib import format as npy

    where = f"{what} {os.fspath(path)!r}" + (f" array {key!r}" if key else "")
    start = handle.read(len(npy.MAGIC_PREFIX))
    if start != npy.MAGIC_PREFIX:
        if size > MAX_ARRAY_BYTES:
            raise DataError(f"{where}: {size} bytes, more than the limit {MAX_ARRAY_BYTES} "
                            f"(recirc_analog.limits.MAX_ARRAY_BYTES)")
        return
    try:
        version = tuple(handle.read(2))
        if version == (1, 0):
            shape, _, dtype = npy.read_array_header_1_0(handle)
        elif version == (2, 0):
            shape, _, dtype = npy.read_array_header_2_0(handle)
        else:
            raise ValueError(f"unsupported .npy format version {version}")
    except (ValueError, EOFError, OSError, SyntaxError) as error:
        raise DataError(f"{where} has an unreadable .npy header: {' '.join(str(error).split())}") from None
    claimed = math.prod(shape) * dtype.itemsize
    if claimed > MAX_ARRAY_BYTES:
        raise DataError(f"{where}: header claims shape {shape} of {dtype} = {claimed} bytes, more than "
                        f"the limit {MAX_ARRAY_BYTES} (recirc_analog.limits.MAX_ARRAY_BYTES)")


def load_npy(path: str | os.PathLike, what: str) -> np.ndarray:
    """The array of the .npy file ``path`` (no pickles), its header checked first.

    A header claiming more than :data:`~recirc_analog.limits.MAX_ARRAY_BYTES`,
    a missing or an unreadable file raise DataError naming ``what`` and the path.
    """
    try:
        with open(path, "rb") as handle:
            _check_npy_header(handle, os.fstat(handle.fileno()).st_size, what, path, "")
        return np.load(path, allow_pickle=False)
    except FileNotFoundError:
        raise DataError(f"{what} {os.fspath(path)!r} does not exist") from None
    except (OSError, ValueError, EOFError) as error:
        raise DataError(f"{what} {os.fspath(path)!r} is not a readable .npy file: "
                        f"{' '.join(str(error).split())}") from None


def load_npz(path: str | os.PathLike, what: str) -> dict[str, np.ndarray]:
    """All arrays of the npz file ``path`` (no pickles), read eagerly.

    Every member's header is read first: one claiming more than
    :data:`~recirc_analog.limits.MAX_ARRAY_BYTES` is refused before anything is
    allocated. A missing file raises FileNotFoundError (callers decide what
    that means); an unreadable or oversized one raises DataError naming
    ``what`` and the path.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            for info in archive.infolist():
                with archive.open(info) as member:
                    _check_npy_header(member, info.file_size, what, path, info.filename.removesuffix(".npy"))
        with np.load(path, allow_pickle=False) as data:
            return {key: data[key] for key in data.files}
    except FileNotFoundError:
        raise
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as error:
        raise DataError(f"{what} {os.fspath(path)!r} is not a readable .npz file: "
                        f"{' '.join(str(error).split())}") from None


def save_npz_atomic(path: str | os.PathLike, **arrays) -> Path:
    """Write ``arrays`` (name -> array-like) to an npz file atomically; returns the path.

    Every value must convert to a numeric, bool or string array, so the file
    loads with ``allow_pickle=False``; anything else raises ConfigError
    naming the key, before the existing file is touched. Pass a path ending
    in ".npz" (NumPy would otherwise not add the suffix here).
    """
    converted = {}
    for key, value in arrays.items():
        try:
            array = np.asarray(value)
        except ValueError as error:
            raise ConfigError(f"{key} cannot be saved as an array: {error}") from None
        if array.dtype.hasobject:
            raise ConfigError(f"{key} must be numeric, bool or str to be saved without pickle, "
                              f"got {type(value).__name__} of dtype object")
        converted[key] = array
    with atomic_open(path, "wb") as handle:
        np.savez(handle, **converted)
    return Path(path)


class MetricsWriter:
    """A CSV file of metrics rows with fixed ``columns``, written as it grows.

    ``keep_rows`` None starts a new file holding only the header (an existing
    file is replaced). ``keep_rows`` n resumes a run: the existing file must
    have the same header and at least n rows; it is rewritten atomically
    with its first n rows (rows written after the checkpoint being resumed
    are dropped) and later rows are appended. Each :meth:`write_row` is
    flushed at once. Floats are written with full precision (``repr``).
    Use as a context manager or call :meth:`close`.
    """

    def __init__(self, path: str | os.PathLike, columns: Sequence[str], *,
                 keep_rows: int | None = None):
        self.path = Path(path)
        self.columns = list(columns)
        self.keep_rows = keep_rows
        if not self.columns or len(set(self.columns)) != len(self.columns):
            raise ConfigError(f"columns must be non-empty and unique, got {self.columns!r}")
        kept = [] if keep_rows is None else self._read_kept_rows(keep_rows)
        with atomic_open(self.path, "w") as handle:
            csv.writer(handle, lineterminator="\n").writerows([self.columns, *kept])
        self._file = open(self.path, "a", encoding="utf-8", newline="")
        self._csv = csv.writer(self._file, lineterminator="\n")

    def _read_kept_rows(self, keep_rows: int) -> list[list[str]]:
        """The first ``keep_rows`` data rows of the existing file, checked against the header."""
        if isinstance(keep_rows, bool) or not isinstance(keep_rows, int) or keep_rows < 0:
            raise ConfigError(f"keep_rows must be an integer >= 0 or None, got {keep_rows!r}")
        if not self.path.exists():
            if keep_rows == 0:
                return []
            raise DataError(f"cannot resume {self.path}: file not found, expected {keep_rows} rows")
        with open(self.path, encoding="utf-8", newline="") as handle:
            rows = list(csv.reader(handle))
        if not rows or rows[0] != self.columns:
            found = rows[0] if rows else "an empty file"
            raise DataError(f"cannot resume {self.path}: header is {found}, expected {self.columns}")
        if len(rows) - 1 < keep_rows:
            raise DataError(f"cannot resume {self.path}: it has {len(rows) - 1} rows, "
                            f"expected at least {keep_rows}")
        return rows[1:keep_rows + 1]

    def write_row(self, row: Mapping[str, object]) -> None:
        """Append one row (column -> value; missing columns stay empty) and flush it."""
        unknown = set(row) - set(self.columns)
        if unknown:
            raise ConfigError(f"row has columns {sorted(unknown)} not in the file's columns "
                              f"{self.columns}")
        self._csv.writerow([format_csv_value(row.get(column)) for column in self.columns])
        self._file.flush()

    def close(self) -> None:
        """Close the file; further writes raise ValueError."""
        self._file.close()

    def __enter__(self) -> MetricsWriter:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()


def format_csv_value(value) -> str:
    """Text for one CSV cell: None -> "", floats with round-trip precision."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    return str(value)
