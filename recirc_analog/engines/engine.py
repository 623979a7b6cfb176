"""One interface over both ways of running ngspice.

``get_engine("batch")`` gives a :class:`BatchEngine` (one ``ngspice -b``
process per run: crash-isolated, parallel by processes, pays process start
and netlist parse every run); ``get_engine("shared")`` a
:class:`SharedEngine` (libngspice in this process: the circuit stays loaded
and conductances change with ``alter``; one per process). Both return the
same :class:`SimulationResult` with the same vector names, raise
:class:`SimulationError` naming the batch label and quoting ngspice, and
climb the same convergence ladder.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from ..errors import ConfigError
from .batch import BatchEngine
from .locate import find_libngspice, find_ngspice, ngspice_version
from .result import SimulationResult
from .shared import SharedEngine

__all__ = ["ENGINE_KINDS", "Engine", "find_libngspice", "find_ngspice", "get_engine",
           "ngspice_version"]

ENGINE_KINDS = ("batch", "shared")


@runtime_checkable
class Engine(Protocol):
    """What the rest of the package needs from an ngspice engine."""

    name: str
    """``"batch"`` or ``"shared"``."""
    version: str
    """ngspice version, e.g. ``"39"``."""

    def run(self, netlist: str, *, label: str) -> SimulationResult:
        """Simulate the netlist's analysis; ``label`` names the batch in errors."""
        ...

    def close(self) -> None:
        """Release what the engine holds (processes, the shared library)."""
        ...


def get_engine(kind: str = "batch", **options) -> Engine:
    """Create an engine: ``kind`` is ``"batch"`` or ``"shared"``.

    ``options`` go to the engine's constructor (see :class:`BatchEngine`,
    :class:`SharedEngine`). Raises :class:`SetupError` if ngspice (or
    libngspice) is missing.
    """
    if kind == "batch":
        return BatchEngine(**options)
    if kind == "shared":
        return SharedEngine(**options)
    raise ConfigError(f"engine must be one of {ENGINE_KINDS}, got {kind!r}")
