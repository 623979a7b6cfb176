"""One run per output folder: an advisory lock, a refusal to clobber a resumable run, a temp area.

:func:`run_folder` prepares ``--out`` for a job and holds it for the job's
lifetime:

- the folder is created (its parents too); a path that is a file, or below
  one, or that the OS refuses, is an :class:`~recirc_analog.errors.OutputError`
  naming the path;
- ``.lock`` inside it is locked with ``fcntl.flock`` (exclusive, non-blocking).
  A second run on the same folder stops at once with a one-line message. The
  OS releases the lock when the holder exits, however it exits (SIGKILL too),
  so a stale lock file never blocks a later run;
- a new run (not ``--resume``) into a folder that holds a resumable
  ``checkpoint.npz`` of an unfinished run (stopped, interrupted, diverged) is refused unless
  ``overwrite`` is set: the message says
  to pass ``--overwrite`` or ``--resume``. A new run removes the outputs of the
  earlier run it replaces (the names in ``outputs``) before writing anything,
  so a failed run never leaves one run's summary beside another's metrics;
- ``.tmp/`` inside it is where the job's ngspice runs put their temporary
  folders. It is emptied when the lock is taken (leftovers of a SIGKILLed
  process) and removed when the job ends.
"""

from __future__ import annotations

import errno
import os
import shutil
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from ..errors import OutputError, RecircError

LOCK_NAME = ".lock"
TMP_NAME = ".tmp"


@dataclass(frozen=True)
class RunFolder:
    """An output folder held by this process."""

    path: Path
    tmp: Path
    """Per-run parent of temporary folders (emptied at start, removed at the end)."""


def describe_os_error(error: OSError, path=None) -> str:
    """One line for an OSError on an output: the file it names (else ``path``, repr) and the OS's reason."""
    where = error.filename or path or "the output folder"
    reason = error.strerror or str(error)
    if error.errno == errno.EFBIG or error.errno == errno.ENOSPC:
        reason = f"{reason} (disk full or file size limit)"
    return f"cannot write {str(where)!r}: {reason}"


@contextmanager
def run_folder(out, *, resume: bool = False, overwrite: bool = False, checkpoint: str | None = None,
               outputs: Iterable[str] = (), finished=None) -> Iterator[RunFolder]:
    """Create and lock ``out`` for one run; see the module docstring.

    ``checkpoint``: the file name of a resumable checkpoint in the folder
    (None: the job has none); ``finished(path) -> bool`` says whether the run
    in the folder completed (its checkpoint is then no longer protected; None:
    never). ``outputs``: file names the job writes, removed
    before a new run starts. OSErrors inside the block (and while preparing)
    become :class:`OutputError` naming the file.
    """
    import fcntl

    path = Path(out)
    try:
        if path.exists() and not path.is_dir():
            raise OutputError(f"output folder {str(path)!r} is a file, not a folder")
        path.mkdir(parents=True, exist_ok=True)
        handle = open(path / LOCK_NAME, "a+")
    except OSError as error:
        raise OutputError(describe_os_error(error, error.filename or path)) from None
    try:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError as error:
        owner = _read_owner(handle)
        handle.close()
        if isinstance(error, BlockingIOError):
            raise OutputError(f"output folder {str(path)!r} is in use by another run{owner}; "
                              "wait for it to finish or choose another --out") from None
        raise OutputError(describe_os_error(error, path / LOCK_NAME)) from None
    # From here on the folder is ours: its .tmp/ may be cleaned, and is cleaned at the end.
    try:
        handle.seek(0)
        handle.truncate()
        handle.write(f"{os.getpid()}\n")
        handle.flush()
        tmp = path / TMP_NAME
        shutil.rmtree(tmp, ignore_errors=True)
        if (not resume and checkpoint is not None and (path / checkpoint).exists() and not overwrite
                and not (finished is not None and finished(path))):
            raise OutputError(f"output folder {str(path)!r} holds a resumable run ({checkpoint}); pass --resume "
                              "to continue it or --overwrite to replace it")
        if not resume:
            for name in [*outputs, *([checkpoint] if checkpoint else [])]:
                (path / name).unlink(missing_ok=True)
        tmp.mkdir()
        yield RunFolder(path, tmp)
    except RecircError:
        raise
    except OSError as error:
        raise OutputError(describe_os_error(error, error.filename or f"{path}{os.sep}")) from None
    finally:
        shutil.rmtree(path / TMP_NAME, ignore_errors=True)
        handle.close()  # releases the lock


def _read_owner(handle) -> str:
    try:
        handle.seek(0)
        pid = handle.read().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""
