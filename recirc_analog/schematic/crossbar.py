"""One layer's crossbar as a generated subcircuit, and the neurons that read it.

The crossbar of layer h (``N_in`` inputs, ``N_out`` neurons) is a grid of tiles
``xbar<h>_<r>_<c>`` (CrossbarConfig.tile_rows x tile_neurons). Their ports are
row lines ``r_<j>`` (inputs) and ``r_b`` (bias row, driven by ``v_unit``), then
``cp_<i>``, ``cn_<i>`` (differential: plus / minus column of neuron i) or
``c_<i>`` and ``cref`` (shared reference column). The devices are resistors
``Rp_<i>_<j>`` / ``Rn_<i>_<j>`` (pair of weight A^h_ij; j = N_in is the bias
row) or ``R_<i>_<j>`` and ``Rref_<j>``. With ideal neurons, neuron i's columns
feed one stage (``tia_pair``, or ``tia_ref`` against the reference column's
``tia_ideal``) whose output ``s<h>.._<i>`` is the pre-activation v_unit * S, read
by an ``act1_<f>`` cell; with op-amp neurons every column ends in a ``tia_opamp``
and an ``act_<f>`` cell reads the difference of the two outputs (the choice is
made by :mod:`recirc_analog.schematic.periphery`).
"""

from dataclasses import dataclass
from typing import Mapping

from recirc_analog.schematic.elements import Crossbar, Instance
from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.spec import WIRE_FIELDS


def wire_resistances(config) -> dict[str, float]:
    """The wire resistances (ohm) of a CrossbarConfig by field name, for :class:`Crossbar` tiles."""
    return {name: float(getattr(config, name)) for name in WIRE_FIELDS}


def tile_name(h: int, row_tile: int, column_tile: int) -> str:
    """Subcircuit name of one tile of layer h's crossbar."""
    return f"xbar{h}_{row_tile}_{column_tile}"


def _slice(array, rows: slice, columns: slice):
    return None if array is None else array[columns, rows]


def crossbar_tiles(h: int, conductances: Conductances, tile_rows: int, tile_neurons: int,
                   wires: Mapping[str, float] | None = None) -> tuple[Crossbar, ...]:
    """The tiles of layer h's crossbar for ``conductances`` (S) of shape (N_out, N_in + 1).

    Tile (r, c) holds rows ``r * tile_rows ..`` and neurons ``c * tile_neurons ..``;
    the column ports of a neuron in all row tiles join at its virtual-ground node
    (their currents add). ``wires`` gives the tiles' wire resistances by field name
    (:func:`wire_resistances` of a CrossbarConfig; default none): every tile has its
    own row drivers and column sense resistors (``netlists/README.md``, "Wire resistance").
    """
    wires = dict(wires or {})
    n_out, n_rows = conductances.plus.shape
    row_names = [f"r_{j}" for j in range(n_rows - 1)] + ["r_b"]
    differential = conductances.minus is not None
    kind = "differential pairs" if differential else "shared reference column"
    tiles = []
    for r, row_start in enumerate(range(0, n_rows, tile_rows)):
        rows = slice(row_start, min(row_start + tile_rows, n_rows))
        for c, column_start in enumerate(range(0, n_out, tile_neurons)):
            columns = slice(column_start, min(column_start + tile_neurons, n_out))
            neurons = range(columns.start, columns.stop)
            reference = conductances.reference[rows] if (not differential and c == 0) else None
            tile = Conductances(conductances.plus[columns, rows], _slice(conductances.minus, rows, columns)
                                if differential else None, reference)
            comment = (f"layer {h} crossbar tile ({r}, {c}): rows {rows.start}..{rows.stop - 1} x neurons "
                       f"{columns.start}..{columns.stop - 1}, {kind} (row {n_rows - 1} is the bias)")
            tiles.append(Crossbar(
                tile_name(h, r, c), comment, tuple(row_names[rows]),
                tuple(f"cp_{i}" if differential else f"c_{i}" for i in neurons),
                tuple(f"cn_{i}" for i in neurons) if differential else None,
                "cref" if reference is not None else None, tile, rows.start, columns.start, **wires))
    return tuple(tiles)


@dataclass(frozen=True)
class LayerNodes:
    """Node names of one read of a crossbar (one layer at one cycle)."""

    tag: str
    """Suffix after the layer number: ``_c<k>`` in the dc form, empty in the tran form."""
    h: int

    def node(self, base: str, i: int | None = None) -> str:
        """``<base><h><tag>`` or ``<base><h><tag>_<i>``."""
        stem = f"{base}{self.h}{self.tag}"
        return stem if i is None else f"{stem}_{i}"


def crossbar_read(nodes: LayerNodes, tiles, inputs, bias: str, outputs, activation: str, periphery) -> list:
    """Elements of one crossbar read: the tile instances, then ``periphery``'s neurons
    (:mod:`recirc_analog.schematic.periphery`) reading the columns.

    ``tiles`` are layer h's :func:`crossbar_tiles`, ``inputs`` the N_in row nodes,
    ``bias`` the bias-row node, ``outputs`` the N_out activity nodes the activations drive.
    """
    n_out = len(outputs)
    differential = tiles[0].minus_columns is not None
    plus = [nodes.node("cp" if differential else "c", i) for i in range(n_out)]
    minus = [nodes.node("cn", i) for i in range(n_out)] if differential else [nodes.node("cr")]
    port_nodes = dict(zip([f"r_{j}" for j in range(len(inputs))] + ["r_b"], list(inputs) + [bias]))
    port_nodes.update(zip([f"cp_{i}" if differential else f"c_{i}" for i in range(n_out)], plus))
    if differential:
        port_nodes.update(zip([f"cn_{i}" for i in range(n_out)], minus))
    else:
        port_nodes["cref"] = minus[0]
    elements = [Instance(f"X{tile.name}{nodes.tag}", tile.name, tuple(port_nodes[port] for port in tile.ports))
                for tile in tiles]
    return elements + periphery.neurons(nodes, plus, minus, differential, outputs, activation)


def opamp_gain_error(column_conductance, r_f: float, gain: float):
    """Relative error of an op-amp TIA's output: ``(1 + r_f * G) / (gain + 1 + r_f * G)``.

    ``column_conductance`` G (S) is the total conductance on the column; the
    output is ``-r_f * sum_j G_j V_j * gain / (gain + 1 + r_f * G)`` instead of
    ``-r_f * sum_j G_j V_j`` (zero offset, no clipping). The pre-activation of a
    neuron with columns of outputs t+ and t- is then off by at most
    ``error * (|t+| + |t-|) / v_unit``; activations have slope <= 1.
    """
    loop = r_f * column_conductance
    return (1.0 + loop) / (gain + 1.0 + loop)
