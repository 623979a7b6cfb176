"""The bidirectional architecture of Appendix A (L = 2): one crossbar read in both directions.

One physical crossbar of N1 x N0 device pairs stores the shared weights
``W = A^1 = (A^2)^T``: layer 1 reads it forwards, layer 2 backwards, so the
symmetry holds physically. Its lines (shared_reference mapping in brackets):

rows
    ``r_<j>`` (layer-0 neuron j), ``r_b`` (bias row, the biases b^1)
    [``r_ref``: reference row at G_ref, the backward read's reference].
columns
    ``cp_<i>`` / ``cn_<i>`` (hidden neuron i's pair), ``cp_b`` / ``cn_b`` (bias
    column pair, the biases b^2) [``c_<i>``, ``c_b`` and the reference column ``cref``].
devices
    ``Rp_<i>_<j>`` / ``Rn_<i>_<j>``: ``W_ij = A^1_ij = A^2_ji``; ``.._<i>_<N0>``: b^1_i;
    ``.._<N1>_<j>``: b^2_j [``Rref_<j>``; reference row ``R_<i>_<N0+1>``].

The weight block with the bias row is split into layer 1's usual tiles
``xbar1_<r>_<c>``; the bias column is ``xbar1_bias_<r>`` on the same row
lines [the reference row ``xbar1_ref_<c>`` on the same column lines].

Forward read (layer 1): rows driven by layer 0 and ``r_b`` by v_unit, every
column into a TIA, exactly as a conjoined crossbar: ``O^1 = f(A^1 O^0 + b^1)``.
Backward read (layer 2): column pair i driven by ``+v(O^1_i)`` and, through an
inverter (a ``subtract`` cell), ``-v(O^1_i)``; the bias column by ``+-v_unit``;
row line j into one TIA, whose current is ``sum_i (G+_ij - G-_ij) v_i`` plus the
bias column's, so ``O^2 = f(W^T O^1 + b^2)`` through a single-ended activation
(``tn`` tied to ground) [columns driven by ``+v(O^1_i)`` alone; the reference row
sums ``G_ref sum_i v_i`` and plays the minus line]. The lines a read does not
use draw no current from its sensed lines: in the forward read the bias column
is driven (its devices join driven rows only) [and ``r_ref`` is grounded]; in the
backward read the bias row is driven [and ``cref`` is grounded].

Copies. A crossbar cannot be driven from both sides at once: the two reads
happen one after the other (two sub-phases of a cycle). Both netlist forms
instantiate the array once per read with identical device values: the dc form
per cycle k and read (``X<tile>_c<k>`` forward, ``X<tile>_c<k>_t`` backward), the
tran form once per read (``X<tile>``, ``X<tile>_t``), layer 2's read settling in
the same time step as layer 1's (a time-multiplexed read would need a hold
between the sub-phases). The copies are the same physical devices:
:meth:`NodeMap.device_sites` lists every copy (all hold the same values), and its layer-2
names are layer 1's devices. Where a cycle runs without bias (error
recirculation in the dc form) the bias lines are driven by 0-V drivers.

Learning. A shared device receives the sum of its two local updates,
``dA^1_ij + dA^2_ji`` (:func:`recirc_analog.reference.tied.tied_update`); the
co-simulation programs it once with that sum, so ``A^2 = (A^1)^T`` stays exact.
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.tied import check_tied
from recirc_analog.schematic.crossbar import LayerNodes, crossbar_read, crossbar_tiles, wire_resistances
from recirc_analog.schematic.elements import Crossbar, Instance, VoltageSource
from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.node_map import bias_column_tile_name, reference_row_tile_name
from recirc_analog.schematic.periphery import Periphery
from recirc_analog.schematic.spec import CrossbarConfig

BACKWARD = "_t"
"""Instance-name suffix of the backward (transposed) read of a crossbar tile."""


def check_network(net: CircularAutoencoder, tied: bool = True) -> None:
    """ConfigError unless ``net`` has L = 2 and, when ``tied``, ``A^2 = (A^1)^T``."""
    if net.n_layers != 2:
        raise ConfigError(f"architecture 'bidirectional' needs L = 2 (sizes N0, N1, N0), got sizes "
                          f"{'-'.join(map(str, net.sizes))} (L = {net.n_layers})")
    if tied:
        try:
            check_tied(net)
        except ConfigError as error:
            raise ConfigError(f"architecture 'bidirectional' (one crossbar read both ways): {error}") from None


def check_shared(conductances) -> None:
    """ConfigError unless layer 2's weight devices (N0, N1) are layer 1's (N1, N0) transposed
    and, for the shared_reference mapping, every reference device has one value."""
    first, second = conductances
    n1, n0 = first.plus.shape[0], first.plus.shape[1] - 1
    for kind in ("plus", "minus"):
        a, b = getattr(first, kind), getattr(second, kind)
        if a is not None and not np.array_equal(b[:, :n1], a[:, :n0].T):
            raise ConfigError(f"conductances of layer 2 must be layer 1's {kind} devices transposed "
                              f"(architecture 'bidirectional' reads one crossbar both ways)")
    if first.reference is not None:
        shapes = (first.reference.shape, second.reference.shape)
        if shapes != ((n0 + 1,), (n1 + 1,)):
            raise ConfigError(f"reference devices must have shapes ({n0 + 1},) and ({n1 + 1},), got {shapes}")
        references = np.concatenate([first.reference, second.reference])
        if not np.all(references == references[0]):
            raise ConfigError("the reference devices of a bidirectional crossbar must all have one conductance "
                              "(otherwise A^2 would not be (A^1)^T)")


def own_devices(second: Conductances) -> Conductances:
    """Layer 2's own devices, from its conductances (N0, N1 + 1): the bias column (N0, 1)
    [and the reference row]; its weights are layer 1's devices."""
    return Conductances(second.plus[:, -1:], None if second.minus is None else second.minus[:, -1:],
                        second.reference)


def backward_conductances(shared: Conductances, bias_column: Conductances) -> Conductances:
    """Layer 2's conductances (N0, N1 + 1) as the backward read sees them: the shared
    devices (N1, N0 + 1, bias row last) transposed, then the bias column (N0, 1)."""
    n0 = shared.plus.shape[1] - 1

    def join(weights, bias):
        return None if weights is None else np.concatenate([weights[:, :n0].T, bias], axis=1)

    return Conductances(join(shared.plus, bias_column.plus), join(shared.minus, bias_column.minus),
                        bias_column.reference)


def bias_column_tiles(second: Conductances, tile_rows: int, wires=None) -> tuple[Crossbar, ...]:
    """Layer 2's bias devices (column N1 of its conductances, shape (N0, N1 + 1)) as the
    bias column on the shared rows, split into tiles of ``tile_rows`` rows (each an array
    of its own with the wire resistances ``wires``, see :func:`crossbar_tiles`)."""
    wires = dict(wires or {})
    n0, n1 = second.plus.shape[0], second.plus.shape[1] - 1
    differential = second.minus is not None
    tiles = []
    for r, start in enumerate(range(0, n0, tile_rows)):
        rows = slice(start, min(start + tile_rows, n0))
        devices = Conductances(second.plus[rows, n1][None, :],
                               second.minus[rows, n1][None, :] if differential else None, None)
        tiles.append(Crossbar(
            bias_column_tile_name(r), f"bidirectional crossbar: bias column (layer 2 biases) on rows "
                                      f"{rows.start}..{rows.stop - 1}, device index {n1}",
            tuple(f"r_{j}" for j in range(rows.start, rows.stop)), ("cp_b",) if differential else ("c_b",),
            ("cn_b",) if differential else None, None, devices, rows.start, n1, **wires))
    return tuple(tiles)


def reference_row_tiles(second: Conductances, tile_neurons: int, wires=None) -> tuple[Crossbar, ...]:
    """The reference row of the shared_reference mapping (layer 2's ``reference``, shape
    (N1 + 1,), bias column last) across the shared columns, in tiles of ``tile_neurons``
    (each an array of its own with the wire resistances ``wires``)."""
    wires = dict(wires or {})
    n0, n1 = second.plus.shape[0], second.plus.shape[1] - 1
    columns = [f"c_{i}" for i in range(n1)] + ["c_b"]
    tiles = []
    for c, start in enumerate(range(0, n1 + 1, tile_neurons)):
        span = slice(start, min(start + tile_neurons, n1 + 1))
        tiles.append(Crossbar(
            reference_row_tile_name(c), f"bidirectional crossbar: reference row (row {n0 + 1}) on columns "
                                        f"{span.start}..{span.stop - 1} (column {n1} is the bias column)",
            ("r_ref",), tuple(columns[span]), None, None,
            Conductances(second.reference[span][:, None], None, None), n0 + 1, start, **wires))
    return tuple(tiles)


@dataclass(frozen=True)
class BidirectionalReads:
    """Both reads of the one crossbar: layer 1 forwards, layer 2 backwards (module docstring)."""

    shared: tuple[Crossbar, ...]
    """Tiles ``xbar1_<r>_<c>`` of the weights and the bias row (layer 1's conductances)."""
    bias_column: tuple[Crossbar, ...]
    """Tiles ``xbar1_bias_<r>`` of layer 2's biases."""
    reference_row: tuple[Crossbar, ...]
    """Tiles ``xbar1_ref_<c>`` (shared_reference mapping), else empty."""
    activations: tuple[str, ...]
    periphery: Periphery
    """The transimpedance and activation cells of both reads."""

    instance_suffixes = ("", BACKWARD)
    """Suffixes of a tile's instances within one cycle: the forward and the backward read."""

    @property
    def crossbars(self) -> tuple[Crossbar, ...]:
        """Every tile subcircuit of the physical crossbar."""
        return self.shared + self.bias_column + self.reference_row

    @property
    def differential(self) -> bool:
        return self.shared[0].minus_columns is not None

    def read(self, h: int, nodes: LayerNodes, inputs, bias: str, outputs) -> list:
        """Elements computing layer h (1: forward read, 2: backward read) from the ``inputs``
        nodes into the ``outputs`` nodes; ``bias`` is the bias drive node, ``"0"`` for off."""
        drivers, bias_plus, bias_minus = self._bias_drive(nodes, bias)
        if h == 1:
            return drivers + self._forward(nodes, inputs, bias, bias_plus, bias_minus, outputs)
        return drivers + self._backward(nodes, inputs, bias_plus, bias_minus, outputs)

    def _bias_drive(self, nodes: LayerNodes, bias: str):
        """(elements, plus node, minus node or None) driving the bias column of one read."""
        plus, minus = nodes.node("bp"), nodes.node("bn")
        if bias == "0":
            lines = [plus, minus] if self.differential else [plus]
            return [VoltageSource(f"V{line}", line, "0", 0.0) for line in lines], plus, minus
        if not self.differential:
            return [], bias, None
        return [Instance(f"X{minus}", "subtract", ("0", bias, minus))], bias, minus

    def _instances(self, tiles, suffix: str, ports: dict) -> list:
        return [Instance(f"X{tile.name}{suffix}", tile.name, tuple(ports[p] for p in tile.ports)) for tile in tiles]

    def _forward(self, nodes, inputs, bias, bias_plus, bias_minus, outputs) -> list:
        elements = crossbar_read(nodes, self.shared, inputs, bias, outputs, self.activations[0], self.periphery)
        ports = {f"r_{j}": node for j, node in enumerate(inputs)}
        if self.differential:
            ports.update(cp_b=bias_plus, cn_b=bias_minus)
        else:
            ports.update({f"c_{i}": nodes.node("c", i) for i in range(len(outputs))}, c_b=bias_plus, r_ref="0")
        return elements + self._instances(self.bias_column + self.reference_row, nodes.tag, ports)

    def _backward(self, nodes, inputs, bias_plus, bias_minus, outputs) -> list:
        lines = [nodes.node("r", j) for j in range(len(outputs))]
        ports = {f"r_{j}": line for j, line in enumerate(lines)}
        ports["r_b"] = bias_plus
        if self.differential:
            negated = [nodes.node("d", i) for i in range(len(inputs))]
            elements = [Instance(f"X{negated[i]}", "subtract", ("0", inputs[i], negated[i]))
                        for i in range(len(inputs))]
            ports.update({f"cp_{i}": node for i, node in enumerate(inputs)})
            ports.update({f"cn_{i}": node for i, node in enumerate(negated)})
            ports.update(cp_b=bias_plus, cn_b=bias_minus)
            sensed, minus = lines, ["0"] * len(lines)
        else:
            elements = []
            ports.update({f"c_{i}": node for i, node in enumerate(inputs)})
            ports.update(c_b=bias_plus, cref="0", r_ref=nodes.node("rr"))
            sensed = lines + [nodes.node("rr")]
            minus = [nodes.node("tr")] * len(lines)
        elements += self._instances(self.crossbars, nodes.tag + BACKWARD, ports)
        cell, params = self.periphery.column_stage()
        tia_outputs = [nodes.node("tp", j) for j in range(len(lines))] + ([] if self.differential
                                                                          else [nodes.node("tr")])
        elements += [Instance(f"Xt{line}", cell, (line, out), params) for line, out in zip(sensed, tia_outputs)]
        elements += [self.periphery.difference_activation(f"Xa{outputs[j]}", tia_outputs[j], minus[j], outputs[j],
                                                          self.activations[1]) for j in range(len(outputs))]
        return elements


def bidirectional_reads(conductances, config: CrossbarConfig, activations, periphery: Periphery) -> BidirectionalReads:
    """The reads of the one crossbar holding ``conductances`` (per layer, layer 2's weights
    being layer 1's devices transposed, see :func:`check_shared`)."""
    first, second = conductances
    wires = wire_resistances(config)
    reference_row = () if second.reference is None else reference_row_tiles(second, config.tile_neurons, wires)
    return BidirectionalReads(crossbar_tiles(1, first, config.tile_rows, config.tile_neurons, wires),
                              bias_column_tiles(second, config.tile_rows, wires), reference_row,
                              tuple(activations), periphery)
