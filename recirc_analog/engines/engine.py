"""One interface over both ways of running ngspice.

``get_engine("batch")`` gives a :class:`BatchEngine` (one ``ngspice -b``
process per run: crash-isolated, parallel by processes, pays process start
and netlist parse every run); ``get_engine("shared")`` a
:class:`SharedEngine` (libngspice in this process: the circuit stays loaded
and conductances change with ``alter``; one per process); ``get_engine("direct")`` a :class:`DirectEngine`
(no ngspice: the circuit objects evaluated exactly, issue 10).
The ngspice engines return the
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

ENGINE_KINDS = ("batch", "shared", "direct")
"""Engine names: the ngspice batch subprocess, libngspice in process, the direct (exact) evaluator."""


@runtime_checkable
class Engine(Protocol):
    """What the rest of the package needs from an ngspice engine."""

    name: str
    """One of :data:`ENGINE_KINDS`."""
    version: str
    """ngspice version, e.g. ``"39"``."""

    def run(self, netlist: str, *, label: str) -> SimulationResult:
        """Simulate the netlist's analysis; ``label`` names the batch in errors (ngspice engines)."""
        ...

    def readings(self, circuit, cycles: tuple[int, int], label: str):
        """Simulate a schematic ``Circuit``; its readings of the cycle pair ``cycles`` (a CircuitRun)."""
        ...

    def close(self) -> None:
        """Release what the engine holds (processes, the shared library)."""
        ...


def get_engine(kind: str = "batch", **options) -> Engine:
    """Create an engine: ``kind`` is one of :data:`ENGINE_KINDS`.

    ``options`` go to the engine's constructor (see :class:`BatchEngine`,
    :class:`SharedEngine`). Raises :class:`SetupError` if ngspice (or
    libngspice) is missing.
    """
    if kind == "batch":
        return BatchEngine(**options)
    if kind == "shared":
        return SharedEngine(**options)
    if kind == "direct":
        from .direct import DirectEngine

        return DirectEngine(**options)
    raise ConfigError(f"engine must be one of {ENGINE_KINDS}, got {kind!r}")
