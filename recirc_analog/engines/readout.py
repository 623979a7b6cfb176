"""Reading a circuit's activities out of ngspice's vectors, through the circuit's NodeMap.

ngspice names a node voltage ``v(<node>)`` and the abscissa ``v(v-sweep)``
(``.dc`` sweep: one point per sample) or ``time`` (``.tran``: the accepted
time points). A dc-form activity is read at its sample's sweep point; a
tran-form activity at the last time point of its phase
(:meth:`NodeMap.phase_bounds`). Activities are node voltages divided by
their layer's volts per unit (:meth:`NodeMap.scale`, ``v_unit`` unless the
voltage budget scaled layer 0; dimensionless).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from ..errors import SimulationError
from ..schematic.node_map import NodeMap

#: The abscissa vector of each netlist form, as ngspice names it.
ABSCISSA = {"dc": "v(v-sweep)", "tran": "time"}


def node_vector(node: str) -> str:
    """ngspice's vector name of the voltage of ``node``."""
    return f"v({node})"


def rows(node_map: NodeMap, abscissa: np.ndarray) -> np.ndarray:
    """Index into the vectors of sample b at cycle k, shape (batch, m + 1).

    ``abscissa``: the run's sweep values (dc, shape (batch,)) or accepted time
    points (tran, s, ascending). Raises SimulationError when the sweep has the
    wrong length or a tran phase holds no time point.
    """
    if node_map.form == "dc":
        if len(abscissa) != node_map.batch:
            raise SimulationError(f"expected {node_map.batch} sweep points, got {len(abscissa)}")
        return np.repeat(np.arange(node_map.batch)[:, None], node_map.cycles + 1, axis=1)
    starts, ends = node_map.phase_bounds()
    last = np.searchsorted(abscissa, ends, side="left") - 1
    if np.any(last < 0) or np.any(abscissa[np.maximum(last, 0)] <= starts):
        raise SimulationError("a phase of the tran run holds no time point; lower the maximum step")
    return last


def _read(vectors: Mapping[str, np.ndarray], node_map: NodeMap, nodes, at: np.ndarray, h: int) -> np.ndarray:
    return np.stack([vectors[node_vector(node)][at] for node in nodes], axis=1) / node_map.scale(h)


def read_activity(vectors: Mapping[str, np.ndarray], node_map: NodeMap, h: int, k: int) -> np.ndarray:
    """O^h(k) from ngspice's ``vectors`` (name -> array), shape (batch, N_h).

    Raises KeyError naming the vector when it was not saved.
    """
    at = rows(node_map, vectors[ABSCISSA[node_map.form]])[:, k]
    return _read(vectors, node_map, node_map.activity(h, k), at, h)


def read_held(vectors: Mapping[str, np.ndarray], node_map: NodeMap, h: int, k: int | None = None) -> np.ndarray:
    """The held O^h(0) as seen during cycle k (default m), shape (batch, N_h)."""
    k = node_map.cycles if k is None else k
    at = rows(node_map, vectors[ABSCISSA[node_map.form]])
    return _read(vectors, node_map, node_map.held(h), at[:, 0 if node_map.form == "dc" else k], h)
