"""What the controller reads from a simulation: per layer, the held cycle-0 voltage and the phase-m voltage.

These readings are the *only* input of the local update (docs/ARCHITECTURE.md §4): the
controller never looks at the NumPy reference's numbers.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import SimulationError
from ..schematic.node_map import NodeMap
from .readout import read_activity, read_held


@dataclass(frozen=True)
class Readings:
    """Activities (dimensionless: node voltage / v_unit) of one simulated minibatch.

    ``held[h]``, h = 0..L, shape (batch, N_h): O^h(0) as stored by the
    sample-and-hold (layer 0: the data; layer L: the cycle-0 output).
    ``early[h]``: O^h(n) for the cycle pair (n, m) (equal to ``held`` when n = 0).
    ``late[h]``: O^h(m), read at the end of the last recirculation phase
    (layer 0: the vector recirculated into the input layer).
    """

    held: tuple[np.ndarray, ...]
    early: tuple[np.ndarray, ...]
    late: tuple[np.ndarray, ...]
    relaxed: bool = False
    """True if a simulation behind these readings converged only with loosened
    tolerances (``SimulationResult.relaxed``): the activities are then only as
    accurate as those tolerances."""

    @property
    def batch(self) -> int:
        """Number of samples."""
        return self.held[0].shape[0]

    @property
    def output(self) -> np.ndarray:
        """O^L(0), the cycle-0 reconstruction, shape (batch, N0)."""
        return self.held[-1]

    @staticmethod
    def concatenate(parts: list["Readings"]) -> "Readings":
        """Readings of consecutive sub-batches joined into one (the sample order is kept)."""
        join = lambda field: tuple(np.concatenate(layers, axis=0)   # noqa: E731
                                   for layers in zip(*(getattr(p, field) for p in parts)))
        return Readings(join("held"), join("early"), join("late"), any(p.relaxed for p in parts))


def read_readings(vectors, node_map: NodeMap, cycles: tuple[int, int], label: str,
                  relaxed: bool = False) -> Readings:
    """Readings from a simulation's ``vectors`` (name -> array) through its ``node_map``.

    ``relaxed``: the simulation's ``SimulationResult.relaxed``, carried into the readings.
    """
    n, m = cycles
    layers = range(len(node_map.sizes))
    try:
        held = tuple(read_held(vectors, node_map, h) for h in layers)
        early = held if n == 0 else tuple(read_activity(vectors, node_map, h, n) for h in layers)
        late = tuple(read_activity(vectors, node_map, h, m) for h in layers)
    except KeyError as missing:
        raise SimulationError(f"batch {label!r}: ngspice did not save vector {missing}") from None
    return checked_readings(held, early, late, label, relaxed)


def checked_readings(held, early, late, label: str, relaxed: bool = False) -> Readings:
    """:class:`Readings` of these activities (tuples over layers of (batch, N_h)); SimulationError
    naming the batch, the reading and the layer if a held or late activity is NaN/inf."""
    for name, group in (("held", held), ("late", late)):
        for h, values in enumerate(group):
            if not np.all(np.isfinite(values)):
                raise SimulationError(f"batch {label!r}: ngspice returned NaN/inf in the {name} activity of layer {h}")
    return Readings(held, early, late, relaxed)
