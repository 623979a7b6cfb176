"""Which nodes hold which activity: the interface between a generated circuit and its reader.

Node names (also documented in ``netlists/README.md``):

``in_<j>``
    data input j (volts ``v_unit * x_j``), a table of the sample index.
``o<h>_c<k>_<i>`` (dc form) / ``o<h>_<i>`` (tran form)
    activity of neuron i of layer h at cycle k (O^h(k) * v_unit). In the dc form
    of ``pr`` the recirculated layer 0 is the previous cycle's output node,
    O^0(k) = ``o<L>_c<k-1>_<i>``; in the tran form layer 0 is ``o0_<i>``.
``hd<h>_<i>`` (tran form)
    buffered sample-and-hold output: O^h(0) * v_unit held through the later phases.
``f<h>..``, ``cp/cn/c<h>..``, ``s<h>..``, ``tp/tn/tr<h>..``
    fresh (unmixed) activity, column lines, pre-activations v_unit * S (ideal
    neurons) and transimpedance outputs (not saved).
``r2..``, ``d2..``, ``bp/bn<h>..`` (bidirectional architecture)
    layer 2's output (row) lines, the negated drive of each column pair and the
    bias-line drives of a read (see :mod:`recirc_analog.schematic.bidirectional`).

The dc form sweeps the selector ``sel`` over the samples (one row per sample);
the tran form runs ``1 + m`` phases per sample after ``lead_in`` idle phases and
is read at the last time point of each phase (:meth:`NodeMap.phase_bounds`).
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import UsageError


def bias_column_tile_name(row_tile: int) -> str:
    """Subcircuit name of one row tile of the bidirectional crossbar's bias column (layer 2's biases)."""
    return f"xbar1_bias_{row_tile}"


def reference_row_tile_name(column_tile: int) -> str:
    """Subcircuit name of one column tile of the bidirectional crossbar's reference row
    (shared_reference mapping: the reference of the backward read)."""
    return f"xbar1_ref_{column_tile}"


@dataclass(frozen=True)
class NodeMap:
    """Which node carries which activity, where each device sits, and when each phase runs.

    Pure circuit knowledge: how a simulator names and stores its results is the
    engines' business (:mod:`recirc_analog.engines.readout` reads ngspice's
    vectors through this map).
    """

    form: str
    sizes: tuple[int, ...]
    cycles: int
    """m: cycles 0..m are simulated."""
    batch: int
    v_unit: float
    activity_nodes: dict
    """(h, k) -> tuple of N_h node names carrying O^h(k)."""
    held_nodes: dict
    """h -> tuple of N_h node names carrying the held O^h(0)."""
    copies: tuple[str, ...]
    """Instance-name suffix of each copy of the crossbars (dc form: one per cycle; bidirectional:
    one per read, ``_t`` marking the backward read)."""
    device_prefixes: dict
    """device kind (``plus``, ``minus``, ``reference``) -> element name prefix."""
    tile_shape: tuple[int, int]
    """(rows, neurons) per crossbar tile."""
    slot: float | None = None
    """Phase length (s) of the tran form; None for dc."""
    lead_in: int = 0
    """Idle phases before the first sample (tran form)."""
    architecture: str = "conjoined"
    """``conjoined`` (a crossbar per layer) or ``bidirectional`` (layer 2 reads layer 1's crossbar)."""
    scales: tuple[float, ...] | None = None
    """Volts per unit activity of layers 0..L (the voltage budget may run layer 0 below
    ``v_unit``, :mod:`recirc_analog.schematic.voltage_budget`); None: all ``v_unit``."""

    def scale(self, h: int) -> float:
        """Volts per unit activity of layer h's nodes (V)."""
        return self.v_unit if self.scales is None else self.scales[h]

    def activity(self, h: int, k: int) -> tuple[str, ...]:
        """Node names of O^h(k), h = 0..L, k = 0..m."""
        return self.activity_nodes[(h, k)]

    def held(self, h: int) -> tuple[str, ...]:
        """Node names of the held cycle-0 activity O^h(0)."""
        return self.held_nodes[h]

    def saved_nodes(self) -> tuple[str, ...]:
        """Every node the netlist saves, sorted."""
        names = {n for nodes in self.activity_nodes.values() for n in nodes}
        names.update(n for nodes in self.held_nodes.values() for n in nodes)
        return tuple(sorted(names))

    def phase_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(start, end) time (s) of the phase of sample b at cycle k, each of shape (batch, m + 1).

        Tran form only: phase p (counted from the first sample) spans
        ``[(lead_in + p - 0.5) * slot, (lead_in + p + 0.5) * slot)``.
        """
        if self.form != "tran":
            raise UsageError(f"phase_bounds: only the tran form has phases in time, got form {self.form!r}")
        phases = self.cycles + 1
        centres = (self.lead_in + np.arange(self.batch * phases)) * self.slot
        shape = (self.batch, phases)
        return (centres - 0.5 * self.slot).reshape(shape), (centres + 0.5 * self.slot).reshape(shape)

    def device_sites(self, h: int, device: str = "plus") -> np.ndarray:
        """Where layer h's devices of one kind sit: ``"<tile instance>.<element>"`` (lower case).

        The tile instance is the tile's subcircuit name followed by the copy's
        suffix (see ``copies``); the element is the device's name inside the tile.
        Shape (copies, N_h, N_{h-1} + 1) for ``plus``/``minus`` (column N_{h-1} is
        the bias row), (copies, N_{h-1} + 1) for ``reference``. The dc form holds
        one copy per cycle, all with the same values. In the bidirectional
        architecture layer 2's weight (j, i) is layer 1's device (i, j): the two
        layers name the same devices.
        """
        prefix = self.device_prefixes[device].lower()
        n_out, n_in = self.sizes[h], self.sizes[h - 1] + 1
        if self.architecture == "bidirectional" and h == 2:
            sites = self._backward_sites(prefix, device)
        elif device == "reference":
            sites = [(f"xbar{h}_{j // self.tile_shape[0]}_0", f"{prefix}_{j}") for j in range(n_in)]
        else:
            rows, neurons = self.tile_shape
            sites = [(f"xbar{h}_{j // rows}_{i // neurons}", f"{prefix}_{i}_{j}")
                     for i in range(n_out) for j in range(n_in)]
        names = np.array([[f"{tile}{copy}.{element}" for tile, element in sites] for copy in self.copies])
        return names.reshape((len(self.copies),) + ((n_in,) if device == "reference" else (n_out, n_in)))

    def _backward_sites(self, prefix: str, device: str) -> list[tuple[str, str]]:
        """(tile, device) of layer 2's weights in the bidirectional crossbar, row-major."""
        rows, neurons = self.tile_shape
        n0, n1 = self.sizes[0], self.sizes[1]
        if device == "reference":
            return [(reference_row_tile_name(i // neurons), f"r_{i}_{n0 + 1}") for i in range(n1 + 1)]
        return [(f"xbar1_{j // rows}_{i // neurons}", f"{prefix}_{i}_{j}") if i < n1
                else (bias_column_tile_name(j // rows), f"{prefix}_{n1}_{j}")
                for j in range(n0) for i in range(n1 + 1)]
