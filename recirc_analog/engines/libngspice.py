"""A small ctypes binding of ngspice's shared library (``sharedspice.h``).

Only what the shared-library engine needs: ``ngSpice_Init`` with printf /
status / exit / init-data callbacks, ``ngSpice_Circ`` (load netlist lines),
``ngSpice_Command`` (``run``, ``rusage``, ``remcirc``, ``destroy``) and ``ngSpice_AllVecs`` /
``ngGet_Vec_Info`` to copy vectors
into NumPy.

libngspice keeps global state: one library, one current circuit, per
process. :func:`shared_library` therefore returns a single process-wide
:class:`NgspiceLibrary`, and the engine that uses it registers as its owner.
If ngspice calls its exit callback (a ``quit`` in a ``.control`` section,
or a fatal error) the callback returns to ngspice without exiting Python
and the library is marked unusable: ngspice is detached and a further
``ngSpice_Circ`` would segfault (measured on 39), so every later call
raises :class:`SimulationError` instead.

Init files: ``ngSpice_Init`` reads ``.spiceinit`` from the current directory
(measured on 39; the ngspice program also falls back to ``$HOME/.spiceinit``)
and runs its commands, ``shell`` included. The library is therefore loaded
and initialised with the current directory and ``HOME`` both pointing at an
empty private directory, then both are restored (the system ``spinit`` is
still read).
"""

from __future__ import annotations

import contextlib
import ctypes as C
import os
import tempfile
import weakref

import numpy as np

from ..errors import SimulationError, UsageError
from .locate import find_libngspice, parse_version

# sim.h: enum simvar_types
_SV_VOLTAGE = 3
_SV_CURRENT = 4
_BRANCH_SUFFIX = "#branch"


class _VectorInfo(C.Structure):
    _fields_ = [("v_name", C.c_char_p), ("v_type", C.c_int), ("v_flags", C.c_short),
                ("v_realdata", C.POINTER(C.c_double)), ("v_compdata", C.POINTER(C.c_double)),
                ("v_length", C.c_int)]


class _PlotInfo(C.Structure):
    _fields_ = [("name", C.c_char_p), ("title", C.c_char_p), ("date", C.c_char_p),
                ("type", C.c_char_p), ("veccount", C.c_int), ("vecs", C.c_void_p)]


_SendChar = C.CFUNCTYPE(C.c_int, C.c_char_p, C.c_int, C.c_void_p)
_SendStat = C.CFUNCTYPE(C.c_int, C.c_char_p, C.c_int, C.c_void_p)
_ControlledExit = C.CFUNCTYPE(C.c_int, C.c_int, C.c_bool, C.c_bool, C.c_int, C.c_void_p)
_SendInitData = C.CFUNCTYPE(C.c_int, C.POINTER(_PlotInfo), C.c_int, C.c_void_p)


class NgspiceLibrary:
    """The process-wide libngspice handle. Get it with :func:`shared_library`.

    Console output arrives through the printf callback as ``stdout ...`` /
    ``stderr ...`` strings and is collected in :attr:`stdout` /
    :attr:`stderr` until :meth:`take_output`.
    """

    def __init__(self, path: str):
        self.path = path
        self.stdout: list[str] = []
        self.stderr: list[str] = []
        # (type name such as "dc1", plot name, title) of each plot ngspice creates.
        self.new_plots: list[tuple[str, str, str]] = []
        self.exit_status: int | None = None
        self._owner: weakref.ref | None = None
        # ctypes callbacks must stay referenced as long as ngspice may call them.
        self._callbacks = (_SendChar(self._on_print), _SendStat(self._on_status),
                           _ControlledExit(self._on_exit), _SendInitData(self._on_init_data))
        printer, status, on_exit, init_data = self._callbacks
        with _away_from_init_files():
            self._lib = C.CDLL(path)
            self._declare()
            self._lib.ngSpice_Init(printer, status, on_exit, None, init_data, None, None)
        self.version = parse_version("\n".join(self.stdout), source=path)
        self.take_output()

    def _declare(self) -> None:
        lib = self._lib
        lib.ngSpice_Init.argtypes = [_SendChar, _SendStat, _ControlledExit, C.c_void_p,
                                     _SendInitData, C.c_void_p, C.c_void_p]
        lib.ngSpice_Command.argtypes = [C.c_char_p]
        lib.ngSpice_Circ.argtypes = [C.POINTER(C.c_char_p)]
        lib.ngSpice_AllVecs.argtypes = [C.c_char_p]
        lib.ngSpice_AllVecs.restype = C.POINTER(C.c_char_p)
        lib.ngGet_Vec_Info.argtypes = [C.c_char_p]
        lib.ngGet_Vec_Info.restype = C.POINTER(_VectorInfo)

    # -- callbacks (called by ngspice, in the calling thread) -----------------
    def _on_print(self, text: bytes, ident: int, user: int) -> int:
        stream, _, message = text.decode("utf-8", "replace").partition(" ")
        (self.stderr if stream == "stderr" else self.stdout).append(message)
        return 0

    def _on_status(self, text: bytes, ident: int, user: int) -> int:
        return 0

    def _on_exit(self, status: int, unload: bool, quit_requested: bool, ident: int, user: int) -> int:
        self.exit_status = status
        return 0

    def _on_init_data(self, info, ident: int, user: int) -> int:
        plot = info.contents
        self.new_plots.append(tuple(
            (value or b"").decode("utf-8", "replace") for value in (plot.type, plot.name, plot.title)))
        return 0

    # -- ownership --------------------------------------------------------------
    def acquire(self, owner: object) -> None:
        """Register ``owner`` as the one user of the library in this process.

        The owner is held weakly: an engine dropped without ``close()`` does
        not lock the library for the rest of the process.
        """
        current = None if self._owner is None else self._owner()
        if current is not None and current is not owner:
            raise UsageError(
                "a SharedEngine is already open in this process (ngspice's shared library "
                "holds one circuit per process): close it first, or use the batch engine "
                "or one process per shared engine")
        self._owner = weakref.ref(owner)

    def release(self, owner: object) -> None:
        """Unregister ``owner`` (no-op if it is not the owner)."""
        if self._owner is not None and self._owner() is owner:
            self._owner = None

    # -- calls ------------------------------------------------------------------
    def check_alive(self) -> None:
        """Raise SimulationError if ngspice asked to exit earlier in this process."""
        if self.exit_status is not None:
            raise SimulationError(
                f"ngspice's shared library asked to exit (status {self.exit_status}) and is "
                "detached; it cannot be used again in this process: use the batch engine "
                "or a new process")

    def command(self, text: str) -> None:
        """Run one ngspice command; output goes to :attr:`stdout` / :attr:`stderr`."""
        self.check_alive()
        self._lib.ngSpice_Command(text.encode())
        self.check_alive()

    def commands(self, texts: list[bytes]) -> list[int]:
        """Run pre-encoded commands; return the indices of those that printed to stderr."""
        self.check_alive()
        run = self._lib.ngSpice_Command
        stderr = self.stderr
        failed = []
        for k, text in enumerate(texts):
            before = len(stderr)
            run(text)
            if len(stderr) != before:
                failed.append(k)
        self.check_alive()
        return failed

    def load_lines(self, lines: list[str]) -> None:
        """Send netlist lines (the last one ``.end``) to ``ngSpice_Circ``."""
        self.check_alive()
        array = (C.c_char_p * (len(lines) + 1))(*[line.encode() for line in lines], None)
        self._lib.ngSpice_Circ(array)
        self.check_alive()

    def take_output(self) -> tuple[list[str], list[str]]:
        """Return and clear the collected (stdout lines, stderr lines)."""
        out, err = self.stdout[:], self.stderr[:]
        self.stdout.clear()
        self.stderr.clear()
        return out, err

    def read_plot(self, plot: str) -> dict[str, np.ndarray]:
        """Copy every vector of ``plot`` (a type name such as ``"dc1"``) into NumPy.

        Names follow ngspice's raw-file convention (see ``result``):
        voltages ``v(node)``, currents ``i(vname)`` (``vname#branch``).
        """
        self.check_alive()
        names = self._lib.ngSpice_AllVecs(plot.encode())
        vectors = {}
        k = 0
        while names and names[k]:
            raw_name = names[k]
            k += 1
            info = self._lib.ngGet_Vec_Info(plot.encode() + b"." + raw_name)
            if not info:
                continue
            vec = info.contents
            vectors[_raw_file_name(raw_name.decode(), vec.v_type)] = _copy_values(vec)
        return dict(reversed(vectors.items()))


def _copy_values(vec: _VectorInfo) -> np.ndarray:
    """Copy a vector's data out of ngspice's memory (float64 or complex128)."""
    n = vec.v_length
    if n == 0:
        return np.empty(0)
    if vec.v_realdata:
        return np.ctypeslib.as_array(vec.v_realdata, shape=(n,)).copy()
    pairs = np.ctypeslib.as_array(vec.v_compdata, shape=(n, 2))
    return pairs.copy().view(np.complex128).reshape(n)


def _raw_file_name(name: str, vector_type: int) -> str:
    """ngspice's in-memory vector name -> the name its raw files use."""
    name = name.lower()
    if vector_type == _SV_VOLTAGE and not name.startswith("v("):
        return f"v({name})"
    if vector_type == _SV_CURRENT and not name.startswith("i("):
        return f"i({name.removesuffix(_BRANCH_SUFFIX)})"
    return name


@contextlib.contextmanager
def _away_from_init_files():
    """Current directory and ``HOME`` in an empty private directory (no ``.spiceinit``), then back."""
    cwd, home = os.getcwd(), os.environ.get("HOME")
    with tempfile.TemporaryDirectory(prefix="recirc-ngspice-init-") as empty:
        os.chdir(empty)
        os.environ["HOME"] = empty
        try:
            yield
        finally:
            os.chdir(cwd)
            if home is None:
                os.environ.pop("HOME", None)
            else:
                os.environ["HOME"] = home


_LIBRARY: NgspiceLibrary | None = None


def shared_library(path: str | None = None) -> NgspiceLibrary:
    """The process-wide :class:`NgspiceLibrary`, loaded and initialised on first use.

    Raises :class:`SetupError` if libngspice cannot be loaded, and
    :class:`UsageError` if a different ``path`` is asked for after another
    library was loaded in this process.
    """
    global _LIBRARY
    if _LIBRARY is None:
        _LIBRARY = NgspiceLibrary(find_libngspice(path))
    elif path is not None and path != _LIBRARY.path:
        raise UsageError(
            f"libngspice {_LIBRARY.path!r} is already loaded in this process; "
            f"cannot also load {path!r}")
    return _LIBRARY
