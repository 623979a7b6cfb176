"""The vectors of one ngspice analysis, as returned by every engine.

Both engines (batch subprocess and shared library) and the raw-file reader
produce the same :class:`SimulationResult`, with the same vector names, so
callers never care which engine ran.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import SimulationError

#: How many vector names an error message lists before "... (N in all)".
_NAMES_IN_MESSAGES = 8


@dataclass(frozen=True)
class SimulationResult:
    """Vectors of one analysis (one ngspice "plot").

    Vector names are lower case and spelled as in ngspice's raw files:
    ``v(node)`` for node voltages (V), ``i(vname)`` for currents through
    voltage sources and other branch currents (A), and the sweep or time
    vector under ngspice's own name (``v(v-sweep)``, ``time``,
    ``frequency``). Every vector has shape ``(num_points,)``: one value per
    sweep point or accepted time point, float64 (complex128 for AC plots).
    """

    vectors: dict[str, np.ndarray]
    """Name -> values, shape ``(num_points,)``, in SI units (V, A, s, Hz)."""
    plot_name: str
    """ngspice's name of the analysis, e.g. ``"DC transfer characteristic"``."""
    title: str = ""
    """First line of the netlist."""
    label: str = ""
    """The batch label the caller gave the engine (used in error messages)."""
    attempts: tuple[str, ...] = ()
    """Convergence attempts made, in order; the last one produced this result
    (``("as written",)`` when no fallback was needed; see ``convergence``)."""
    relaxed: bool = False
    """True if the attempt that produced this result loosened the netlist's
    tolerances (``FallbackStep.relaxes_tolerances``): the values are then only
    as accurate as those tolerances. Callers must not use it silently."""
    analysis_seconds: float | None = None
    """ngspice's own analysis time for this run (CPU s, 1 ms resolution), or
    None when ngspice did not report it."""
    log: tuple[str, ...] = field(default=(), repr=False)
    """ngspice's console output for this run (stderr lines), for diagnosis."""

    @property
    def names(self) -> tuple[str, ...]:
        """All vector names, in ngspice's order."""
        return tuple(self.vectors)

    @property
    def num_points(self) -> int:
        """Number of sweep / time points (0 for an empty plot)."""
        return len(next(iter(self.vectors.values()))) if self.vectors else 0

    def get(self, name: str) -> np.ndarray:
        """Return the vector ``name`` (case-insensitive), shape ``(num_points,)``.

        Raises :class:`SimulationError` naming the plot and a few available
        vectors when there is no such vector (e.g. it was not ``.save``-d).
        """
        key = name.strip().lower()
        if key in self.vectors:
            return self.vectors[key]
        shown = ", ".join(self.names[:_NAMES_IN_MESSAGES])
        more = f", ... ({len(self.vectors)} in all)" if len(self.vectors) > _NAMES_IN_MESSAGES else ""
        where = f"batch {self.label!r}: " if self.label else ""
        raise SimulationError(
            f"{where}no vector {name!r} in ngspice plot {self.plot_name!r}; "
            f"available: {shown or 'none'}{more}")
