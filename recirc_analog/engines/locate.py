"""Finding ngspice (executable and shared library) and its version.

A missing ngspice is a :class:`SetupError` that says how to install it; the
test suite runs the real ngspice and never skips when it is absent.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import re
import shutil
import subprocess

from ..errors import SetupError

INSTALL_HINT = ("install it with 'apt-get install ngspice libngspice0 libngspice0-dev' "
                "(or run make setup)")

#: Library names tried, in order, when no path is given.
_LIBRARY_NAMES = ("libngspice.so", "libngspice.so.0")

_VERSION = re.compile(r"ngspice-(\d+(?:\.\d+)*)")

#: Seconds allowed for ``ngspice -v``.
_VERSION_TIMEOUT = 30.0


def find_ngspice(executable: str | None = None) -> str:
    """Return the absolute path of the ngspice executable.

    ``executable`` is a path or a command name looked up on PATH (default
    ``"ngspice"``). Raises :class:`SetupError` if it is not found.
    """
    name = executable or "ngspice"
    found = shutil.which(name)
    if found is None:
        raise SetupError(f"ngspice not found (looked for {name!r}): {INSTALL_HINT}")
    return os.path.abspath(found)


def ngspice_version(executable: str | None = None) -> str:
    """Version of the ngspice executable, parsed from ``ngspice -v`` (e.g. ``"39"``).

    ngspice 39.3 as packaged by Debian reports itself as ``ngspice-39``; the
    banner is the only version source the program offers.
    """
    path = find_ngspice(executable)
    try:
        done = subprocess.run([path, "-v"], capture_output=True, timeout=_VERSION_TIMEOUT,
                              stdin=subprocess.DEVNULL, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise SetupError(f"cannot run {path!r} -v: {exc}") from None
    return parse_version((done.stdout + done.stderr).decode("utf-8", "replace"), source=path)


def parse_version(banner: str, *, source: str = "ngspice") -> str:
    """Extract the version from an ngspice banner (``** ngspice-39 : ...``)."""
    match = _VERSION.search(banner)
    if match is None:
        raise SetupError(f"{source!r} does not look like ngspice: no 'ngspice-<version>' in its banner")
    return match.group(1)


def find_libngspice(path: str | None = None) -> str:
    """Return a name or path of the ngspice shared library that loads.

    ``path`` is tried alone when given; otherwise ``libngspice.so`` (from
    libngspice0-dev), ``libngspice.so.0`` and what ``ctypes.util`` finds.
    Raises :class:`SetupError` if none loads.
    """
    candidates = [path] if path else [*_LIBRARY_NAMES, ctypes.util.find_library("ngspice")]
    errors = []
    for candidate in candidates:
        if not candidate:
            continue
        try:
            ctypes.CDLL(candidate)
        except OSError as exc:
            errors.append(str(exc))
            continue
        return candidate
    detail = f" ({errors[0]})" if errors else ""
    raise SetupError(f"libngspice (the ngspice shared library) not found{detail}: {INSTALL_HINT}")
