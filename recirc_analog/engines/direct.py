"""The direct engine: evaluates the circuit data model exactly, without ngspice (issue 10).

It reads the same :class:`~recirc_analog.schematic.elements.Circuit` objects the
netlist writers print (never the text) and returns the same
:class:`~recirc_analog.engines.readings.Readings`, through the same
:class:`~recirc_analog.schematic.node_map.NodeMap` and the same
:func:`~recirc_analog.engines.readings.read_readings` as the ngspice engines,
so the controller and the lock-step reference do not change (ARCHITECTURE.md §6).

How a dc-form circuit is evaluated. Every node voltage is an array over the
minibatch (one value per sweep point). A node is either *driven* (a voltage
source, an input table of the swept selector, or a cell output) or *sensed*
(a column or row line held by a transimpedance stage). Voltages are computed on
demand from the element driving the node:

- a crossbar tile is a linear network between its row and column ports; the
  current it pushes into a sensed line is ``sum_q G[p, q] (V_q - V_p)`` over
  the driven ports ``q`` on the other side (one matrix product per tile side
  for the whole minibatch). With wire resistance (the tile's ``r_row``,
  ``r_col``, ``r_driver``, ``r_sense``) every sensed line on the tile must sit
  at an exact virtual ground; read from the column side with every column at
  0 V (the forward read), the tile's transfer matrix comes from
  :func:`~recirc_analog.engines.crossbar_solver.effective_conductances`;
  read from the row side with every row at 0 V (the bidirectional crossbar's
  backward read), it is the same matrix transposed (reciprocity); with driven
  and sensed lines on the read side (the backward read's driven bias row in a
  tile with sensed rows), from
  :func:`~recirc_analog.engines.crossbar_solver.port_transfer` of that split
  (:func:`wired_read`); each computed once per conductance set and cached;
- every hand-written cell has one closed form in :data:`CELL_MODELS`,
  written from its SPICE text in ``cell_library/*.lib`` (ideal virtual grounds
  and current mirrors, the op-amp TIA's finite gain, offset and swing solved
  with the column's total conductance, the activations, the mixer and the
  subtractor); input tables are ngspice's ``pwl`` (linear, extrapolated).

Speed (issue 10): a dc-form circuit is compiled once into a plan of array steps
(:class:`_Plan`: sources, input tables, cell groups, tile sides, in dependency order over one
node store) that every later circuit of the same structure replays with its own conductances
and inputs; the co-simulation controller keeps its structure by rebinding one circuit
(:func:`~recirc_analog.schematic.builder.rebind_circuit`) instead of rebuilding it. The plan
does the evaluator's arithmetic in the evaluator's order, so its readings are the evaluator's
bit for bit; what it cannot order is left to the evaluator.

The tran form. Everything but the sample-and-holds is algebraic, so the circuit is
evaluated at one time point per backward-Euler step (``clock.steps_per_phase`` per
phase; ngspice runs ``method=gear maxord=1`` at the same fixed step), all samples of
one phase and step at once, with the clocks and the sample counter as constants and
the hold capacitors' voltages given; each hold (switch ``r_on`` / ``r_off`` by its
clock, capacitor, leakage to ground, buffer gain) then follows the exact
backward-Euler recursion ``C (v - v_prev) / h = g_switch (v_in - v) - g_leak v``.
Holds feed the circuit that feeds them (held output into the mixers, ping-pong
banks), so the two steps alternate until the hold voltages stop changing (to 1e-15
relative; the loop gain per pass is ``h / (r_off C)`` or one phase of the
ping-pong chain). This is ngspice's discrete result except where ngspice's own time
steps are not one per phase: its start-up steps (the lead-in and the first sample's
phase 0) and its last, partial step at the stop time (the last sample's read). There
the two differ by the hold's documented tracking and droop error
(:func:`hold_bound`); every other sample agrees to ngspice's tolerance.

What it refuses (:class:`SimulationError` naming the element or cell, never
an approximation): any element kind or cell without an entry here (a transistor-level
cell, a memristor with a state equation), resistors other than a hold's leakage,
op-amp (non-zero) virtual grounds on a tile with wire resistance, and sensed lines
coupled to each other through a tile.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from itertools import repeat
from operator import attrgetter, is_
from typing import Callable

import numpy as np

from ..errors import ConfigError, SimulationError
from .readings import Readings, checked_readings, read_readings
from .readout import ABSCISSA, node_vector

WIRE_FIELDS = ("r_row", "r_col", "r_driver", "r_sense")
"""Wire-resistance attributes (ohm) a crossbar tile may carry; absent means 0."""

GROUND = "0"

ADVICE = "use --engine batch"


@dataclass(frozen=True)
class CellModel:
    """The closed form of one hand-written cell.

    ``outputs``: ports whose voltage the cell sets; ``evaluate(ev, ports, params)``
    returns {port: volts (batch,)} for all of them (``ports``: port -> node).
    ``sensed``: ports that are lines held by the cell (transimpedance inputs); the
    crossbar current into them is ``ev.line_current(node)``. ``virtual_ground``:
    True if those lines sit at exactly 0 V (so their voltage is known before the
    current is).
    """

    ports: tuple[str, ...]
    outputs: tuple[str, ...]
    evaluate: Callable
    sensed: tuple[str, ...] = ()
    virtual_ground: bool = True


def _activation(name: str) -> Callable[[np.ndarray, float], np.ndarray]:
    """out = vu * f(s / vu) as the cell library writes it (neuron.lib)."""
    if name == "linear":
        return lambda s, vu: s
    if name == "tanh":
        return lambda s, vu: vu * np.tanh(s / vu)
    if name == "logistic":
        return lambda s, vu: vu * 0.5 * (1.0 + np.tanh(0.5 * s / vu))
    if name == "relu":
        return lambda s, vu: np.maximum(s, 0.0)
    raise ConfigError(f"unknown activation {name!r}")


def _tia_ideal(ev, p, q):
    current, _ = ev.line_current(p["col"])
    return {"col": ev.zeros, "t": -q["rf"] * current}


def _tia_pair(ev, p, q):
    plus, _ = ev.line_current(p["cp"])
    minus, _ = ev.line_current(p["cn"])
    return {"cp": ev.zeros, "cn": ev.zeros, "s": q["rf"] * (plus - minus)}


def _tia_ref(ev, p, q):
    current, _ = ev.line_current(p["c"])
    return {"c": ev.zeros, "s": q["rf"] * current + ev.v(p["tr"])}


def _tia_opamp(ev, p, q):
    """Feedback resistor rf from t to col, op-amp out = clip(gain (vos - v(col)), +-vsat).

    Column KCL with the tiles' short-circuit current I and total conductance G:
    ``I - G v_c + (t - v_c) / rf = 0``. Unclipped, ``v_c = vos - t / gain`` gives
    ``t = ((1 + rf G) vos - rf I) / (1 + (1 + rf G) / gain)``; the loop is monotone, so
    the clipped solution is this value clipped to +-vsat, and ``v_c = (rf I + t) / (1 + rf G)``.
    """
    current, conductance = ev.line_current(p["col"])
    rf, gain, vos, vsat = q["rf"], q["gain"], q["vos"], q["vsat"]
    loop = 1.0 + rf * conductance
    t = np.clip((loop * vos - rf * current) / (1.0 + loop / gain), -vsat, vsat)
    return {"t": t, "col": (rf * current + t) / loop}


def _act1(name):
    f = _activation(name)
    return lambda ev, p, q: {"out": f(ev.v(p["s"]), q["vu"])}


def _act(name):
    f = _activation(name)
    return lambda ev, p, q: {"out": f(ev.v(p["tn"]) - ev.v(p["tp"]), q["vu"])}


def _mixer(ev, p, q):
    fresh = ev.v(p["fresh"])
    return {"out": fresh + q["lam"] * ev.v(p["en"]) * (ev.v(p["held"]) - fresh)}


def _subtract(ev, p, q):
    return {"out": ev.v(p["a"]) - ev.v(p["b"])}


CELL_MODELS: dict[str, CellModel] = {
    "tia_ideal": CellModel(("col", "t"), ("col", "t"), _tia_ideal, sensed=("col",)),
    "tia_pair": CellModel(("cp", "cn", "s"), ("cp", "cn", "s"), _tia_pair, sensed=("cp", "cn")),
    "tia_ref": CellModel(("c", "tr", "s"), ("c", "s"), _tia_ref, sensed=("c",)),
    "tia_opamp": CellModel(("col", "t"), ("col", "t"), _tia_opamp, sensed=("col",), virtual_ground=False),
    "mixer": CellModel(("held", "fresh", "en", "out"), ("out",), _mixer),
    "subtract": CellModel(("a", "b", "out"), ("out",), _subtract),
    **{f"act1_{f}": CellModel(("s", "out"), ("out",), _act1(f)) for f in ("linear", "tanh", "logistic", "relu")},
    **{f"act_{f}": CellModel(("tp", "tn", "out"), ("out",), _act(f)) for f in ("linear", "tanh", "logistic", "relu")},
}
"""Cell name -> closed form (defaults of the .lib files where a parameter is not passed are below)."""

CELL_DEFAULTS = {
    "tia_ideal": {"rf": 1e4}, "tia_pair": {"rf": 1e4}, "tia_ref": {"rf": 1e4},
    "tia_opamp": {"rf": 1e4, "gain": 1e6, "vos": 0.0, "vsat": 5.0},
    "mixer": {"lam": 0.5},
    **{f"act1_{f}": {"vu": 0.2} for f in ("linear", "tanh", "logistic", "relu")},
    **{f"act_{f}": {"vu": 0.2} for f in ("linear", "tanh", "logistic", "relu")},
}
"""Parameter defaults of each cell's ``.subckt`` line (used when an instance does not pass one)."""


def table(control: np.ndarray, xs, ys) -> np.ndarray:
    """ngspice's ``pwl(v(control), x0,y0, x1,y1, ...)``: linear between the points and linearly
    extrapolated by the first / last segment outside them (measured: ngspice 39 extrapolates)."""
    xs, ys = np.asarray(xs, dtype=float), np.asarray(ys, dtype=float)
    values = np.interp(control, xs, ys)
    if len(xs) >= 2:
        below, above = control < xs[0], control > xs[-1]
        if np.any(below):
            values = np.where(below, ys[0] + (control - xs[0]) * (ys[1] - ys[0]) / (xs[1] - xs[0]), values)
        if np.any(above):
            values = np.where(above, ys[-1] + (control - xs[-1]) * (ys[-1] - ys[-2]) / (xs[-1] - xs[-2]), values)
    return values


def refuse_cell(cell: str, where: str) -> SimulationError:
    return SimulationError(f"the direct engine cannot evaluate cell {cell!r} exactly ({where}); {ADVICE}")


def tile_wires(tile) -> dict[str, float]:
    """The tile's wire resistances (ohm), 0 where the tile has no such field."""
    return {name: float(getattr(tile, name, 0.0) or 0.0) for name in WIRE_FIELDS}


def tile_matrix(tile) -> np.ndarray:
    """Device conductances (S) of a tile as (rows, ports on the column side): plus, minus, reference."""
    g = tile.conductances
    parts = [np.asarray(g.plus, dtype=float).T]
    if tile.minus_columns is not None:
        parts.append(np.asarray(g.minus, dtype=float).T)
    if tile.reference_column is not None:
        parts.append(np.asarray(g.reference, dtype=float).reshape(-1, 1))
    return np.concatenate(parts, axis=1)


def dc_sweep(circuit) -> tuple[int, np.ndarray]:
    """(batch, selector values (batch,)) of a dc-form circuit's sweep; refuses other analyses."""
    from ..schematic.elements import DcSweep

    if not isinstance(circuit.analysis, DcSweep):
        raise SimulationError(
            f"the direct engine cannot evaluate a {type(circuit.analysis).__name__} analysis; {ADVICE}")
    batch = circuit.node_map.batch
    sweep = circuit.analysis
    points = int(round((sweep.stop - sweep.start) / sweep.step)) + 1 if sweep.step else 1
    if points != batch:
        raise SimulationError(f"the dc sweep has {points} points for a batch of {batch}")
    return batch, sweep.start + sweep.step * np.arange(points)


def wired_read(name: str, side: str, rows, columns, sensed) -> tuple[str, tuple[str, ...], np.ndarray | None]:
    """How side ``side`` ("row" / "column") of the wired tile instance ``name`` is read exactly.

    ``sensed``: node -> True for an ideal virtual ground (exactly 0 V), False for an op-amp line.
    Returns (mode, the nodes whose voltages it needs, the sensed mask over rows + columns or None):

    - "column": every column at 0 V: column currents ``V_rows @ M`` (:func:`effective_conductances`);
    - "row": every row at 0 V (the read from the column side): row currents ``V_columns @ M^T``
      (reciprocity of the resistive network: the same transfer matrix);
    - "split": some lines of ``side`` are driven (the bidirectional crossbar's backward read with its
      driven bias row): the currents of the sensed ports through
      :func:`~recirc_analog.engines.crossbar_solver.port_transfer` of the exact split.

    Raises SimulationError for an op-amp line on the tile (not at 0 V: its voltage depends on the
    tile's currents through the wires; not implemented).
    """
    ports = tuple(rows) + tuple(columns)
    for node in ports:
        if sensed.get(node) is False:
            raise SimulationError(
                f"the direct engine cannot evaluate tile instance {name} with wire resistance exactly: its line "
                f"{node!r} is held by an op-amp TIA (finite gain, not at 0 V), not implemented with wires; {ADVICE}")
    here, other = (rows, columns) if side == "row" else (columns, rows)
    if all(sensed.get(node) is True for node in here):
        return side, tuple(other), None
    mask = np.array([sensed.get(node) is True for node in ports])
    return "split", tuple(node for node, held in zip(ports, mask) if not held), mask


def wired_currents(mode: str, side: str, drive: np.ndarray, transfer: np.ndarray, split, mask, n_rows: int):
    """Short-circuit currents (batch, ports of ``side``) of a wired read (:func:`wired_read`):
    ``drive`` (batch, its nodes) in volts, ``transfer`` the tile's :func:`effective_conductances`,
    ``split`` its :func:`port_transfer` for ``mask`` (mode "split" only). Ports of ``side`` that are
    driven carry NaN (their currents are never read: no cell senses them)."""
    if mode == "column":
        return drive @ transfer
    if mode == "row":
        return drive @ transfer.T
    sensed_currents = drive @ split
    full = np.full((drive.shape[0], len(mask)), np.nan)
    full[:, mask] = sensed_currents
    return full[:, :n_rows] if side == "row" else full[:, n_rows:]


class _TileCache:
    """Transfer matrices of tiles by content, so a tile is factorised once per conductance update."""

    def __init__(self, limit: int = 512):
        self.limit, self.store = limit, {}

    def get(self, tile) -> tuple[np.ndarray, np.ndarray, bool]:
        """(device matrix, transfer matrix to the column side, wired?) of ``tile``."""
        matrix = tile_matrix(tile)
        wires = tile_wires(tile)
        if not any(wires.values()):
            return matrix, matrix, False
        key = (tile.name, matrix.shape, hashlib.sha1(matrix.tobytes()).hexdigest(), tuple(wires.values()))
        if key not in self.store:
            from .crossbar_solver import effective_conductances

            if len(self.store) >= self.limit:
                self.store.clear()
            self.store[key] = effective_conductances(matrix, wires["r_row"], wires["r_col"],
                                                     wires["r_driver"], wires["r_sense"])
        return matrix, self.store[key], True

    def split(self, tile, mask: np.ndarray) -> np.ndarray:
        """:func:`~recirc_analog.engines.crossbar_solver.port_transfer` of ``tile`` for the sensed ``mask``."""
        matrix = tile_matrix(tile)
        wires = tile_wires(tile)
        key = ("split", tile.name, matrix.shape, hashlib.sha1(matrix.tobytes()).hexdigest(), tuple(wires.values()),
               mask.tobytes())
        if key not in self.store:
            from .crossbar_solver import port_transfer

            if len(self.store) >= self.limit:
                self.store.clear()
            self.store[key] = port_transfer(matrix, wires["r_row"], wires["r_col"], wires["r_driver"],
                                            wires["r_sense"], mask)
        return self.store[key]


class _GroupBusy(Exception):
    """A group of instances needs one of its own outputs (evaluated one by one instead)."""

    def __init__(self, key):
        super().__init__(key)
        self.key = key


class _Stacked:
    """The evaluator as one group's cell functions see it: each port name stands for that port's
    node in every member, stacked to shape (members, batch)."""

    def __init__(self, ev, members):
        self.ev, self.members = ev, members
        self.zeros = np.zeros((len(members), ev.batch))

    def v(self, port: str) -> np.ndarray:
        return np.stack([self.ev.v(ports[port]) for ports in self.members])

    def line_current(self, port: str):
        pairs = [self.ev.line_current(ports[port]) for ports in self.members]
        return np.stack([current for current, _ in pairs]), np.array([g for _, g in pairs])[:, None]


class _Evaluator:
    """Node voltages of one dc-form circuit, computed on demand (module docstring)."""

    def __init__(self, circuit, tiles: _TileCache, batch: int | None = None, preset=None, skip=()):
        """``preset``: node -> volts (batch,) known beforehand (tran form: clocks, the sample
        counter, hold capacitors and their buffers); ``skip``: names of elements whose nodes are
        all preset. Without them the circuit must be a dc sweep (its selector swept over the batch)."""
        from ..schematic.elements import Instance, TableSource, VoltageSource

        if preset is None:
            self.batch, self.sweep = dc_sweep(circuit)
            source = circuit.analysis.source
        else:
            self.batch, self.sweep, source = batch, None, None
        self.zeros = np.zeros(self.batch)
        self.tile_of = {tile.name: tile for tile in circuit.crossbars}
        self.tiles = tiles
        self.values = {GROUND: self.zeros, **(preset or {})}
        self.driver = {}          # node -> (callable computing it)
        self.sensed = {}          # node -> virtual ground (bool)
        self.attached = defaultdict(list)   # sensed-candidate node -> [(instance, side, index)]
        self.instances = {}       # instance name -> (tile, row nodes, column nodes)
        self.side_cache = {}
        self.pending = set()
        self.groups, self.group_results, self.busy, self.singles = {}, {}, set(), set()
        for block_index, block in enumerate(circuit.blocks):
            for element in block.elements:
                if element.name in skip:
                    continue
                if isinstance(element, VoltageSource):
                    if element.neg != GROUND:
                        raise SimulationError(f"the direct engine cannot evaluate floating source {element.name}; "
                                              f"{ADVICE}")
                    value = self.sweep if element.name == source else np.full(self.batch, element.volts)
                    self._drive(element.pos, lambda value=value: value, element.name)
                elif isinstance(element, TableSource):
                    self._drive(element.pos, lambda e=element: table(self.v(e.control), e.xs, e.ys),
                                element.name)
                elif isinstance(element, Instance) and element.cell in self.tile_of:
                    self._attach(element)
                elif isinstance(element, Instance):
                    self._cell(element, block_index)
                else:
                    raise SimulationError(f"the direct engine cannot evaluate element {element.name} of kind "
                                          f"{getattr(element, 'kind', type(element).__name__)!r} exactly; {ADVICE}")

    def _drive(self, node: str, compute, name: str) -> None:
        if node == GROUND or node in self.driver or node in self.values:
            raise SimulationError(f"the direct engine: node {node!r} is driven twice (by {name}); {ADVICE}")
        self.driver[node] = compute

    def _attach(self, instance) -> None:
        tile = self.tile_of[instance.cell]
        rows, columns = instance.nodes[:len(tile.rows)], instance.nodes[len(tile.rows):]
        self.instances[instance.name] = (tile, rows, columns)
        for side, nodes in (("row", rows), ("column", columns)):
            for index, node in enumerate(nodes):
                self.attached[node].append((instance.name, side, index))

    def _cell(self, instance, block_index: int) -> None:
        model = CELL_MODELS.get(instance.cell)
        if model is None:
            raise refuse_cell(instance.cell, f"instance {instance.name}")
        if len(instance.nodes) != len(model.ports):
            raise SimulationError(f"instance {instance.name} of {instance.cell} has {len(instance.nodes)} nodes, "
                                  f"the direct engine's model {len(model.ports)}")
        ports = dict(zip(model.ports, instance.nodes))
        params = {**CELL_DEFAULTS.get(instance.cell, {}), **dict(instance.params)}
        # Instances of one cell with the same parameters in one block are evaluated together
        # (one array operation for all of them; see _evaluate_group).
        key = (block_index, instance.cell, tuple(sorted(params.items())))
        members = self.groups.setdefault(key, [])
        members.append(ports)
        member = len(members) - 1
        for port in model.outputs:
            node = ports[port]
            if port in model.sensed:
                self.sensed[node] = model.virtual_ground
                if model.virtual_ground:
                    self._drive(node, lambda: self.zeros, instance.name)
                    continue
            self._drive(node, lambda key=key, member=member, port=port: self._output(key, member, port),
                        instance.name)

    def _output(self, key, member: int, port: str) -> np.ndarray:
        """Output ``port`` of instance ``member`` of the group ``key``."""
        model, params = CELL_MODELS[key[1]], dict(key[2])
        if key not in self.singles:
            try:
                return self._evaluate_group(key, model, params)[port][member]
            except _GroupBusy as busy:
                if busy.key != key:
                    raise
                self.singles.add(key)  # a member depends on another member: evaluate one by one
        return model.evaluate(self, self.groups[key][member], params)[port]

    def _evaluate_group(self, key, model, params) -> dict:
        """Outputs (port -> array (members, batch)) of every instance of the group ``key`` at once."""
        done = self.group_results.get(key)
        if done is not None:
            return done
        if key in self.busy:
            raise _GroupBusy(key)
        self.busy.add(key)
        try:
            members = self.groups[key]
            stacked = _Stacked(self, members)
            results = model.evaluate(stacked, {port: port for port in model.ports}, params)
            results = {port: np.broadcast_to(value, (len(members), self.batch)) for port, value in results.items()}
        finally:
            self.busy.discard(key)
        self.group_results[key] = results
        return results

    def v(self, node: str) -> np.ndarray:
        """Voltage of ``node`` over the minibatch, shape (batch,)."""
        value = self.values.get(node)
        if value is not None:
            return value
        compute = self.driver.get(node)
        if compute is None:
            raise SimulationError(f"the direct engine: node {node!r} is neither driven nor held by a cell it "
                                  f"knows; {ADVICE}")
        if node in self.pending:
            raise SimulationError(f"the direct engine cannot evaluate node {node!r} exactly: it depends on itself "
                                  f"through the circuit (coupled sensed lines); {ADVICE}")
        self.pending.add(node)
        try:
            value = compute()
        finally:
            self.pending.discard(node)
        if not (isinstance(value, np.ndarray) and value.shape == (self.batch,)):
            value = np.broadcast_to(np.asarray(value, dtype=float), (self.batch,))
        self.values[node] = value
        return value

    def line_current(self, node: str) -> tuple[np.ndarray, float]:
        """(short-circuit current into the sensed line ``node`` from every tile on it, shape (batch,);
        total device conductance on it (S)). The line's own voltage v adds ``-conductance * v``."""
        current, conductance = np.zeros(self.batch), 0.0
        for name, side, index in self.attached.get(node, ()):
            currents, totals = self._side(name, side)
            current = current + currents[:, index]
            conductance += totals[index]
        return current, conductance

    def _side(self, name: str, side: str):
        """(short-circuit currents into every port of ``side`` of tile instance ``name``, shape
        (batch, ports); their total device conductances)."""
        key = (name, side)
        if key in self.side_cache:
            return self.side_cache[key]
        tile, rows, columns = self.instances[name]
        matrix, transfer, wired = self.tiles.get(tile)
        other = columns if side == "row" else rows
        for node in other:
            if node in self.sensed and not self.sensed[node]:
                raise SimulationError(
                    f"the direct engine cannot evaluate tile instance {name} exactly: its {side} lines and "
                    f"the op-amp line {node!r} on the other side are coupled through the devices; {ADVICE}")
        if wired:
            mode, needed, mask = wired_read(name, side, rows, columns, self.sensed)
            drive = np.stack([self.v(node) for node in needed], axis=1)
            split = self.tiles.split(tile, mask) if mode == "split" else None
            currents = wired_currents(mode, side, drive, transfer, split, mask, len(rows))
            result = (currents, matrix.sum(axis=1) if side == "row" else matrix.sum(axis=0))
            self.side_cache[key] = result
            return result
        drive = np.stack([self.v(node) for node in other], axis=1)
        if side == "row":
            result = (drive @ matrix.T, matrix.sum(axis=1))
        else:
            result = (drive @ transfer, matrix.sum(axis=0))
        self.side_cache[key] = result
        return result


def tables(control: np.ndarray, xs, ys: np.ndarray) -> np.ndarray:
    """:func:`table` of many tables sharing one control and one abscissa at once: ``ys`` (tables,
    points) -> (tables, batch), value for value what ``np.interp`` and :func:`table` give (same
    branch per point: exact hits, interior points, the two extrapolations)."""
    xs = np.asarray(xs, dtype=float)
    n = len(xs)
    j = np.searchsorted(xs, control, side="right") - 1          # xs[j] <= c < xs[j + 1]
    exact = (j >= 0) & (j < n) & (xs[np.clip(j, 0, n - 1)] == control)
    inner = (j >= 0) & (j < n - 1) & ~exact
    out = np.empty((ys.shape[0], len(control)))
    hit = np.flatnonzero(exact | (j == n - 1))
    out[:, hit] = ys[:, np.clip(j[hit], 0, n - 1)]
    at = np.flatnonzero(inner)
    if len(at):
        k = j[at]
        slope = (ys[:, k + 1] - ys[:, k]) / (xs[k + 1] - xs[k])
        out[:, at] = slope * (control[at] - xs[k]) + ys[:, k]
    below, above = np.flatnonzero(j < 0), np.flatnonzero(control > xs[-1])
    if n >= 2:
        if len(below):
            out[:, below] = ys[:, :1] + (control[below] - xs[0]) * (ys[:, 1:2] - ys[:, :1]) / (xs[1] - xs[0])
        if len(above):
            out[:, above] = ys[:, -1:] + (control[above] - xs[-1]) * (ys[:, -1:] - ys[:, -2:-1]) / (xs[-1] - xs[-2])
    else:
        out[:, below] = ys[:, :1]
        out[:, above] = ys[:, -1:]
    return out


def _same_blocks(ours, theirs) -> bool:
    """Whether two circuits' blocks are the same objects except for blocks of input tables."""
    from ..schematic.elements import TableSource

    def tables(block):
        return bool(block.elements) and all(isinstance(e, TableSource) for e in block.elements)

    return len(ours) == len(theirs) and all(
        a is b or (tables(a) and tables(b) and len(a.elements) == len(b.elements)) for a, b in zip(ours, theirs))


_TABLE_SIGNATURE = attrgetter("name", "pos", "control")
"""What a rebound block of input tables must keep for a compiled plan to replay it."""
_TABLE_XS, _TABLE_YS = attrgetter("xs"), attrgetter("ys")


def _as_block(rows: np.ndarray) -> np.ndarray | slice:
    """``rows`` (store row indices) as a slice when they are evenly spaced and ascending (indexing the
    store with it reads or writes the same rows without gathering them; a neuron's cells interleave
    their outputs, so many read-outs are every second row), else unchanged."""
    if len(rows) == 0:
        return rows
    step = int(rows[1] - rows[0]) if len(rows) > 1 else 1
    if step >= 1 and np.array_equal(rows, rows[0] + step * np.arange(len(rows))):
        return slice(int(rows[0]), int(rows[0]) + step * (len(rows) - 1) + 1, step)
    return rows


class _NotCompiled(Exception):
    """The circuit is left to :class:`_Evaluator` (see :class:`_Plan`)."""


class _Gathered:
    """One group's cell functions' view of a compiled plan's node store: each port name stands
    for that port's nodes in every member, shape (members, batch) (as :class:`_Stacked`)."""

    def __init__(self, store, ports, lines, zeros):
        self.store, self.ports, self.lines, self.zeros = store, ports, lines, zeros

    def v(self, port: str) -> np.ndarray:
        block = self.store[self.ports[port]]
        # C-contiguous as a gathered copy is: the cell functions' ufuncs take the same loops
        return block if block.flags.c_contiguous else np.ascontiguousarray(block)

    def line_current(self, port: str):
        return self.lines[port]


class _Plan:
    """A dc-form circuit compiled once into array steps, replayed on each new set of conductances
    and inputs (issue 10: the co-simulation reuses one circuit structure for every minibatch).

    Compiling walks the same elements as :class:`_Evaluator` and orders, from the nodes read, the
    steps they need: constant sources, input tables (all tables of one control and abscissa at
    once), cell groups (one block's instances of one cell with equal parameters, as the evaluator
    groups them) and, inside a group that senses lines, the tile sides that feed them. A run
    then fills one node store ``(nodes, batch)`` step by step with the evaluator's arithmetic
    (same operations in the same order: the readings are the evaluator's to the last bit; the
    tests hold them to it). A plan is keyed by the circuit's structure, i.e. the identity of its
    blocks (the controller rebinds its circuit: every block but the input tables is kept, see
    :func:`~recirc_analog.schematic.builder.rebind_circuit`), the names of the input tables and
    the tiles' names and shapes; the conductances, inputs and sweep are read from the circuit of
    each run. Whatever compiling cannot order (a group reading its own outputs, a node nothing
    drives, a tile side the evaluator would refuse) leaves the circuit to the evaluator, which
    then evaluates it or raises its own error.
    """

    def __init__(self, circuit, nodes):
        from ..schematic.elements import DcSweep, Instance, TableSource, VoltageSource

        if not isinstance(circuit.analysis, DcSweep):
            raise _NotCompiled
        self.nodes = tuple(nodes)
        self.blocks = circuit.blocks
        self.tile_names = tuple(tile.name for tile in circuit.crossbars)
        tile_of = {tile.name: tile for tile in circuit.crossbars}
        self.table_blocks = {}                   # block index -> [(name, pos, control), ...]
        producer = {}                            # node -> step key
        steps = {}                               # step key -> (kind, data)
        attached = defaultdict(list)
        instances = {}
        sensed = {}
        groups = {}

        def drive(node, key):
            if node == GROUND or node in producer:
                raise _NotCompiled
            producer[node] = key

        for b, block in enumerate(circuit.blocks):
            if block.elements and all(isinstance(e, TableSource) for e in block.elements):
                self.table_blocks[b] = list(map(_TABLE_SIGNATURE, block.elements))
            for i, element in enumerate(block.elements):
                if isinstance(element, VoltageSource):
                    if element.neg != GROUND:
                        raise _NotCompiled
                    key = ("source", element.pos)
                    steps[key] = ("source", (element.pos, element.name == circuit.analysis.source,
                                             element.volts))
                    drive(element.pos, key)
                elif isinstance(element, TableSource):
                    key = ("tables", b, element.control)
                    steps.setdefault(key, ("tables", []))[1].append((i, element.pos))
                    drive(element.pos, key)
                elif isinstance(element, Instance) and element.cell in tile_of:
                    tile = tile_of[element.cell]
                    rows, columns = element.nodes[:len(tile.rows)], element.nodes[len(tile.rows):]
                    instances[element.name] = (tile.name, rows, columns)
                    for side, side_nodes in (("row", rows), ("column", columns)):
                        for index, node in enumerate(side_nodes):
                            attached[node].append((element.name, side, index))
                elif isinstance(element, Instance):
                    model = CELL_MODELS.get(element.cell)
                    if model is None or len(element.nodes) != len(model.ports):
                        raise _NotCompiled
                    ports = dict(zip(model.ports, element.nodes))
                    params = {**CELL_DEFAULTS.get(element.cell, {}), **dict(element.params)}
                    key = ("group", b, element.cell, tuple(sorted(params.items())))
                    members = groups.setdefault(key, [])
                    members.append(ports)
                    steps[key] = ("group", members)
                    for port in model.outputs:
                        node = ports[port]
                        if port in model.sensed:
                            sensed[node] = model.virtual_ground
                            if model.virtual_ground:
                                drive(node, ("zero",))
                                continue
                        drive(node, key)
                else:
                    raise _NotCompiled
        steps[("zero",)] = ("zero", None)
        self.reads = {}                          # (instance, side) -> wired_read(...) of wired tiles

        def side_needs(name, side):
            tile, rows, columns = instances[name]
            other = columns if side == "row" else rows
            if any(node in sensed and not sensed[node] for node in other):
                raise _NotCompiled              # coupled op-amp lines: the evaluator refuses
            if any(tile_wires(tile_of[tile]).values()):
                try:
                    mode, needed, mask = wired_read(name, side, rows, columns, sensed)
                except SimulationError:
                    raise _NotCompiled from None    # not exact with wires: the evaluator refuses
                self.reads[(name, side)] = (mode, tuple(needed), mask)
                return needed
            return other

        def needs(key):
            kind, data = steps[key]
            if kind == "tables":
                return {key[2]}
            if kind != "group":
                return set()
            model = CELL_MODELS[key[2]]
            found = set()
            for ports in data:
                for port in model.ports:
                    if port in model.sensed:
                        for name, side, _ in attached.get(ports[port], ()):
                            found.update(side_needs(name, side))
                    elif port not in model.outputs:
                        found.add(ports[port])
            return found

        # Depth-first order of the steps the read nodes need; a cycle leaves the circuit to the evaluator.
        order, state = [], {}
        for node in self.nodes:
            stack = [(node, False)]
            while stack:
                item, leaving = stack.pop()
                if item == GROUND:
                    continue
                key = producer.get(item) if not isinstance(item, tuple) else item
                if key is None:
                    raise _NotCompiled
                if leaving:
                    state[key] = "done"
                    order.append(key)
                    continue
                if state.get(key) == "done":
                    continue
                if state.get(key) == "open":
                    raise _NotCompiled
                state[key] = "open"
                stack.append((key, True))
                stack.extend((dependency, False) for dependency in needs(key))
        self.order = order
        self.steps = steps
        self.index = {GROUND: 0}
        for node in [GROUND, *producer]:
            self.index.setdefault(node, len(self.index))
        self.instances = instances
        self.attached = attached
        self.wired = {name: bool(any(tile_wires(tile).values())) for name, tile in tile_of.items()}
        self.shapes = {name: tile_matrix(tile).shape for name, tile in tile_of.items()}
        self.compiled = [self._compile(key) for key in order]
        self._rows = {}                          # id(tuple of nodes) -> (that tuple, store rows)

    def _compile(self, key):
        kind, data = self.steps[key]
        idx = self.index
        if kind == "zero":
            return ("zero", None)
        if kind == "source":
            node, swept, volts = data
            return ("source", (idx[node], swept, volts))
        if kind == "tables":
            positions = [i for i, _ in data]
            whole = positions == list(range(len(self.blocks[key[1]].elements)))   # the whole block, in order
            rows = _as_block(np.array([idx[pos] for _, pos in data], dtype=np.intp))
            return ("tables", (key[1], idx[key[2]], None if whole else tuple(positions), rows))
        model = CELL_MODELS[key[2]]
        members = data
        ports = {port: _as_block(np.array([idx[m[port]] for m in members], dtype=np.intp)) for port in model.ports
                 if port not in model.sensed and port not in model.outputs}
        lines = {}
        for port in model.sensed:
            entries = [self.attached.get(m[port], []) for m in members]
            sides = tuple(sorted({(name, side) for entry in entries for name, side, _ in entry}))
            position = {s: k for k, s in enumerate(sides)}
            offsets, total = {}, 0
            for s in sides:
                tile, rows, columns = self.instances[s[0]]
                offsets[s] = total
                total += len(rows) if s[1] == "row" else len(columns)
            width = max((len(entry) for entry in entries), default=0)
            flat = np.full((len(members), width), total)          # ``total``: the zero column
            for k, entry in enumerate(entries):
                for slot, (name, side, index) in enumerate(entry):
                    flat[k, slot] = offsets[(name, side)] + index
            lines[port] = (sides, flat, position)
        outputs = {port: _as_block(np.array([idx[m[port]] for m in members], dtype=np.intp)) for port in model.outputs
                   if not (port in model.sensed and model.virtual_ground)}
        params = dict(key[3])
        return ("group", (model, params, ports, lines, outputs, len(members)))

    def rows(self, nodes: tuple[str, ...]) -> np.ndarray | slice:
        """The store rows of ``nodes`` (:func:`_as_block`; ``nodes`` is a tuple the plan or the node map
        holds: remembered by identity, so each run reads its rows without looking every name up again)."""
        found = self._rows.get(id(nodes))
        if found is None or found[0] is not nodes:
            found = (nodes, _as_block(np.array([self.index[node] for node in nodes], dtype=np.intp)))
            if len(self._rows) >= 4096:
                self._rows.clear()
            self._rows[id(nodes)] = found
        return found[1]

    def matches(self, circuit, nodes) -> bool:
        """Same structure as the compiled circuit (see the class docstring)."""
        blocks = circuit.blocks
        if tuple(nodes) != self.nodes or len(blocks) != len(self.blocks):
            return False
        for b, (ours, theirs) in enumerate(zip(self.blocks, blocks)):
            if ours is theirs:
                continue
            signature = self.table_blocks.get(b)
            if signature is None or list(map(_TABLE_SIGNATURE, theirs.elements)) != signature:
                return False
        if tuple(tile.name for tile in circuit.crossbars) != self.tile_names:
            return False
        return all(bool(any(tile_wires(tile).values())) == self.wired[tile.name] for tile in circuit.crossbars)

    def run(self, circuit, tiles: _TileCache, batch: int, sweep: np.ndarray) -> np.ndarray:
        """The node store (nodes, batch) of ``circuit`` (which :meth:`matches` this plan)."""
        store = np.zeros((len(self.index), batch))      # virtual grounds and ground stay 0 V
        tile_of = {tile.name: tile for tile in circuit.crossbars}
        matrices, sides, joined = {}, {}, {}

        def side(name, which):
            found = sides.get((name, which))
            if found is None:
                tile, rows, columns = self.instances[name]
                if tile not in matrices:
                    matrices[tile] = tiles.get(tile_of[tile])
                    if matrices[tile][0].shape != self.shapes[tile]:
                        raise _NotCompiled
                matrix, transfer, wired = matrices[tile]
                if wired:
                    mode, needed, mask = self.reads[(name, which)]
                    drive = np.ascontiguousarray(store[self.rows(needed)].T)
                    split = tiles.split(tile_of[tile], mask) if mode == "split" else None
                    found = (wired_currents(mode, which, drive, transfer, split, mask, len(rows)),
                             matrix.sum(axis=1) if which == "row" else matrix.sum(axis=0))
                    sides[(name, which)] = found
                    return found
                other = columns if which == "row" else rows
                drive = np.ascontiguousarray(store[self.rows(other)].T)
                if which == "row":
                    found = (drive @ matrix.T, matrix.sum(axis=1))
                else:
                    found = (drive @ transfer, matrix.sum(axis=0))
                sides[(name, which)] = found
            return found

        for kind, data in self.compiled:
            if kind == "zero":
                continue
            if kind == "source":
                row, swept, volts = data
                store[row] = sweep if swept else volts
            elif kind == "tables":
                b, control, elements, rows = data
                block = circuit.blocks[b].elements
                members = block if elements is None else [block[i] for i in elements]
                xs = members[0].xs
                # (map and attrgetter: no Python-level loop over a minibatch's 784 input tables)
                if not all(map(is_, map(_TABLE_XS, members), repeat(xs))) and not all(
                        np.array_equal(e.xs, xs) for e in members):             # input_tables: one array
                    raise _NotCompiled
                at, values = store[control], list(map(_TABLE_YS, members))
                shape = (len(values), len(xs))                 # every table has len(xs) values (TableSource)
                if len(at) == len(xs) and np.array_equal(at, xs) and bool(np.all(xs[1:] > xs[:-1])):
                    # every sample on its own abscissa (the dc sweep of input_tables): :func:`tables` gives
                    # the values themselves (its exact-hit branch), joined here straight into the store
                    if isinstance(rows, slice) and rows.step == 1:      # rows in one piece of memory
                        np.concatenate(values, out=store[rows].reshape(-1))
                    else:
                        store[rows] = np.concatenate(values).reshape(shape)
                else:
                    store[rows] = tables(at, xs, np.concatenate(values).reshape(shape))
            else:
                model, params, ports, lines, outputs, members = data
                gathered = {}
                for port, (names, flat, _) in lines.items():
                    if names not in joined:          # a pair's plus and minus lines read the same sides
                        parts = [side(name, which) for name, which in names]
                        joined[names] = (np.concatenate([c for c, _ in parts] + [np.zeros((batch, 1))], axis=1),
                                         np.concatenate([t for _, t in parts] + [np.zeros(1)]))
                    currents, totals = joined[names]
                    current = np.zeros((members, batch))
                    conductance = np.zeros(members)
                    for slot in range(flat.shape[1]):
                        current = current + currents[:, flat[:, slot]].T
                        conductance = conductance + totals[flat[:, slot]]
                    gathered[port] = (current, conductance[:, None])
                view = _Gathered(store, ports, gathered, np.zeros((members, batch)))
                results = model.evaluate(view, {port: port for port in model.ports}, params)
                for port, rows in outputs.items():
                    store[rows] = results[port]
        return store


@dataclass(frozen=True)
class _Hold:
    """One sample_hold instance of the tran form and its leakage."""

    name: str
    signal: str
    clock: str
    cap: str
    out: str
    c: float
    r_on: float
    r_off: float
    gain: float
    g_leak: float


def _tran_vectors(circuit, tiles: _TileCache, nodes) -> dict[str, np.ndarray]:
    """ngspice-style vectors (``time`` and ``v(<node>)``) of a tran-form circuit, one time point per
    backward-Euler step (module docstring of :func:`DirectEngine.vectors`)."""
    from ..schematic.elements import Instance, PhaseClock, Resistor, SampleCounter, Transient

    analysis, node_map = circuit.analysis, circuit.node_map
    if not isinstance(analysis, Transient):
        raise SimulationError(f"the direct engine cannot evaluate a {type(analysis).__name__} analysis; {ADVICE}")
    slot, lead_in, phases, batch = node_map.slot, node_map.lead_in, node_map.cycles + 1, node_map.batch
    steps = int(round(slot / analysis.max_step))
    if steps < 1 or abs(steps * analysis.max_step - slot) > 1e-9 * slot:
        raise SimulationError(f"the direct engine needs a whole number of time steps per phase, got phase {slot:g} s "
                              f"and step {analysis.max_step:g} s; {ADVICE}")
    h = slot / steps
    clocks, counters, holds, leaks, skip = {}, [], [], {}, set()
    for block in circuit.blocks:
        for e in block.elements:
            if isinstance(e, PhaseClock):
                if (e.slot, e.phases, e.lead_in) != (slot, phases, lead_in):
                    raise SimulationError(f"the direct engine: clock {e.name} does not follow the node map's phases")
                clocks[e.pos], skip = e, skip | {e.name}
            elif isinstance(e, SampleCounter):
                counters.append(e)
                skip.add(e.name)
            elif isinstance(e, Instance) and e.cell == "sample_hold":
                q = {"c": 1e-12, "ron": 100.0, "roff": 1e12, "gain": 1.0, **dict(e.params)}
                holds.append(_Hold(e.name, *e.nodes, q["c"], q["ron"], q["roff"], q["gain"], 0.0))
                skip.add(e.name)
            elif isinstance(e, Resistor):
                leaks[e.a if e.b == GROUND else e.b] = (e, e.a if e.b == GROUND else None)
                skip.add(e.name)
    caps = {hold.cap: k for k, hold in enumerate(holds)}
    for node, (element, grounded) in leaks.items():
        if grounded is None or node not in caps:
            raise SimulationError(f"the direct engine cannot evaluate resistor {element.name} exactly (only a "
                                  f"hold capacitor's leakage to ground is modelled); {ADVICE}")
        k = caps[node]
        holds[k] = _Hold(*[getattr(holds[k], f) for f in ("name", "signal", "clock", "cap", "out", "c", "r_on",
                                                          "r_off", "gain")], 1.0 / element.ohms)
    for hold in holds:
        if hold.clock not in clocks:
            raise SimulationError(f"the direct engine: hold {hold.name} is clocked by {hold.clock!r}, not a phase "
                                  f"clock; {ADVICE}")
    slots = lead_in + batch * phases
    sample = np.floor((np.arange(slots) - lead_in) / phases)
    phase = (np.arange(slots) - lead_in) % phases
    points = slots * steps
    slot_of = np.repeat(np.arange(slots), steps)
    groups = [(k, j, np.flatnonzero(phase == k) * steps + j) for k in range(phases) for j in range(steps)]

    def clock_value(e, k):
        return e.amplitude if k in e.active else 0.0

    # Backward Euler on each hold: C (v - v_prev) / h = g_switch (v_in - v) - g_leak v.
    c_h = np.array([hold.c / h for hold in holds])
    g_leak = np.array([hold.g_leak for hold in holds])
    gain = np.array([hold.gain for hold in holds])
    g_switch = np.array([[1.0 / hold.r_on if clock_value(clocks[hold.clock], k) > 0.5 else 1.0 / hold.r_off
                          for k in range(phases)] for hold in holds]).reshape(len(holds), phases)
    held = np.zeros((len(holds), points))
    inputs = np.zeros((len(holds), points))
    limit = 10 + 3 * phases
    for _ in range(limit):
        evaluators = []
        for k, _, at in groups:
            preset = {node: np.full(len(at), clock_value(e, k)) for node, e in clocks.items()}
            preset.update({counter.pos: sample[slot_of[at]] for counter in counters})
            for index, hold in enumerate(holds):
                preset[hold.cap] = held[index, at]
                preset[hold.out] = hold.gain * held[index, at]
            ev = _Evaluator(circuit, tiles, len(at), preset, skip)
            for index, hold in enumerate(holds):
                inputs[index, at] = ev.v(hold.signal)
            evaluators.append((at, ev))
        previous, v = held.copy(), np.zeros(len(holds))
        for t in range(points):
            g = g_switch[:, phase[slot_of[t]]]
            v = (c_h * v + g * inputs[:, t]) / (c_h + g + g_leak)
            held[:, t] = v
        scale = max(float(np.max(np.abs(held), initial=0.0)), 1e-12)
        if np.max(np.abs(held - previous), initial=0.0) <= 1e-15 * scale:
            break
    else:
        raise SimulationError(f"the direct engine: the tran form's holds did not settle in {limit} passes; {ADVICE}")
    vectors = {"time": (slot_of - 0.5 + (np.tile(np.arange(steps), slots) + 0.5) / steps) * slot}
    hold_out = {hold.out: index for index, hold in enumerate(holds)}
    for node in nodes:
        values = np.empty(points)
        if node in hold_out:
            values[:] = gain[hold_out[node]] * held[hold_out[node]]
        else:
            for at, ev in evaluators:
                values[at] = ev.v(node)
        vectors[node_vector(node)] = values
    return vectors


TRAN_AUDIT_FACTOR = 4.0
"""The tran form's audit tolerance is this many :func:`hold_bound`: a hold's first-sample jump from
its lead-in value (up to twice the activity scale) tracked over ngspice's start-up steps (down to
about half a phase) instead of one full step."""


def audit_tolerance(circuit) -> float:
    """Largest audit deviation (:func:`audit_deviation`) allowed between the direct engine and
    ngspice on ``circuit``: 1e-6 for the dc form, ``TRAN_AUDIT_FACTOR * hold_bound`` for the tran form."""
    return 1e-6 if circuit.node_map.form == "dc" else max(TRAN_AUDIT_FACTOR * hold_bound(circuit), 1e-6)


def hold_bound(circuit) -> float:
    """Relative accuracy of a tran-form circuit's held voltages against the dc form: the documented
    tracking error of one hold step (``r_on c / step``) plus the droop over the m holding phases
    (``m step (1 / r_off + 1 / r_leak) / c``); 0 for a circuit without holds."""
    from ..schematic.elements import Instance, Resistor, Transient

    if not isinstance(circuit.analysis, Transient):
        return 0.0
    step, m = circuit.analysis.max_step, circuit.node_map.cycles
    leaks = {e.a: e.ohms for b in circuit.blocks for e in b.elements if isinstance(e, Resistor)}
    worst = 0.0
    for block in circuit.blocks:
        for e in block.elements:
            if isinstance(e, Instance) and e.cell == "sample_hold":
                q = {"c": 1e-12, "ron": 100.0, "roff": 1e12, **dict(e.params)}
                leak = 1.0 / leaks[e.nodes[2]] if e.nodes[2] in leaks else 0.0
                worst = max(worst, q["ron"] * q["c"] / step + m * step * (1.0 / q["roff"] + leak) / q["c"])
    return worst


class DirectEngine:
    """Evaluates dc- and tran-form circuits in closed form (module docstring); no ngspice.

    ``readings(circuit, cycles, label)`` is the interface the controller uses
    (the ngspice engines have the same method); :meth:`run` of netlist text is
    refused: this engine never reads text. It keeps the compiled plans of the last
    :attr:`plan_limit` dc-form structures and the tiles' transfer matrices by content, so a
    co-simulation pays the compile once per batch size and a factorisation once per update.
    """

    name = "direct"
    version = "none (direct engine)"

    plan_limit = 4
    """Compiled plans kept (:class:`_Plan`; one per circuit structure in use, e.g. training and test)."""

    def __init__(self):
        self._tiles = _TileCache()
        self._plans = []          # [(plan or None, structure it was tried on)], newest last

    def __enter__(self) -> DirectEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._tiles.store.clear()
        self._plans.clear()

    def run(self, netlist: str, *, label: str):
        raise ConfigError("the direct engine evaluates circuit objects, not netlist text: call "
                          "readings(circuit, cycles, label)")

    def vectors(self, circuit, nodes=None) -> dict[str, np.ndarray]:
        """ngspice-style vectors (``v(<node>)`` and the abscissa) of ``nodes`` (default: the saved ones).

        dc form: one point per sweep point (sample). tran form: one point per backward-Euler step
        (``clock.steps_per_phase`` per phase, placed inside the phase), as ngspice's fixed step
        takes them once its start-up steps are over (module docstring).
        """
        nodes = circuit.saves if nodes is None else nodes
        if any(getattr(e, "kind", None) == "noise_source" for block in circuit.blocks for e in block.elements):
            raise SimulationError(f"the direct engine cannot compute transient noise (--noise): it has no "
                                  f"closed form for random sources in time; {ADVICE}")
        if circuit.node_map.form == "tran":
            return _tran_vectors(circuit, self._tiles, nodes)
        planned = self._planned(circuit, nodes)
        if planned is not None:
            plan, store, sweep = planned
            vectors = {ABSCISSA["dc"]: sweep}
            for node in nodes:
                vectors[node_vector(node)] = store[plan.index[node]]   # rows of a fresh store: no copy
            return vectors
        evaluator = _Evaluator(circuit, self._tiles)
        vectors = {ABSCISSA["dc"]: evaluator.sweep}
        for node in nodes:
            vectors[node_vector(node)] = np.array(evaluator.v(node))
        return vectors

    def _planned(self, circuit, nodes):
        """(plan, node store (nodes, batch), sweep) of a dc-form circuit through its compiled plan,
        or None if the circuit is left to the evaluator."""
        batch, sweep = dc_sweep(circuit)
        plan = self._plan(circuit, nodes)
        if plan is None:
            return None
        try:
            return plan, plan.run(circuit, self._tiles, batch, sweep), sweep
        except _NotCompiled:
            self._plans = [entry for entry in self._plans if entry[0] is not plan]
            return None

    def _plan(self, circuit, nodes):
        """The compiled plan of ``circuit``'s structure (compiled now if new), or None if the
        circuit is left to the evaluator."""
        for plan, blocks in self._plans:
            if plan is None:
                if _same_blocks(blocks, circuit.blocks):
                    return None
            elif plan.matches(circuit, nodes):
                return plan
        try:
            plan = _Plan(circuit, nodes)
        except _NotCompiled:
            plan = None
        self._plans = self._plans[-(self.plan_limit - 1):] + [(plan, circuit.blocks)]
        return plan

    def readings(self, circuit, cycles: tuple[int, int], label: str):
        """The :class:`CircuitRun` of ``circuit`` (readings read through its node map)."""
        from .circuit_run import CircuitRun

        start = time.process_time()
        try:
            planned = self._planned(circuit, circuit.saves) if circuit.node_map.form == "dc" else None
            try:
                readings = None if planned is None else _store_readings(*planned[:2], circuit.node_map, cycles,
                                                                        label)
            except KeyError:                     # a read node the plan does not hold: the general path says which
                readings = None
            if readings is None:
                readings: Readings = read_readings(self.vectors(circuit), circuit.node_map, cycles, label)
        except FloatingPointError as error:
            raise SimulationError(f"batch {label!r}: {error}") from None
        return CircuitRun(readings, time.process_time() - start, None, None, 0.0)


def _store_readings(plan, store, node_map, cycles: tuple[int, int], label: str) -> Readings:
    """:func:`read_readings` of a dc-form node store, without the per-node vectors: the activity of
    a node is its store row (one sweep point per sample) over its layer's volts per unit
    (:meth:`NodeMap.scale`), in the same C order."""
    def read(nodes, h):
        block = store[plan.rows(nodes)]
        return np.divide(block.T, node_map.scale(h), out=np.empty(block.shape[::-1]))   # C order

    n, m = cycles
    layers = range(len(node_map.sizes))
    held = tuple(read(node_map.held(h), h) for h in layers)
    early = held if n == 0 else tuple(read(node_map.activity(h, n), h) for h in layers)
    return checked_readings(held, early, tuple(read(node_map.activity(h, m), h) for h in layers), label)


def audit_deviation(direct: Readings, reference: Readings) -> float:
    """Largest relative difference of any read voltage between two readings of one circuit.

    Readings are activities (volts / v_unit); the difference of each value is taken relative
    to ``max(|reference|, 1)``, i.e. relative to the voltage itself above one activity unit
    (v_unit) and to v_unit below it, where ngspice's own error (its Newton loop stops at
    ``reltol * |v| + vntol``) no longer shrinks with the voltage.
    """
    worst = 0.0
    for field in ("held", "early", "late"):
        for ours, theirs in zip(getattr(direct, field), getattr(reference, field)):
            if not (np.all(np.isfinite(ours)) and np.all(np.isfinite(theirs))):
                return float("inf")
            scale = np.maximum(np.abs(theirs), 1.0)
            worst = max(worst, float(np.max(np.abs(ours - theirs) / scale, initial=0.0)))
    return worst
