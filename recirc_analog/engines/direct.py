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
  ``r_col``, ``r_driver``, ``r_sense``, once the schematic has them) the
  rows must be driven and every column held at an exact virtual ground; the
  tile's transfer matrix then comes from
  :func:`~recirc_analog.engines.crossbar_solver.effective_conductances`,
  computed once per conductance set and cached;
- every hand-written cell has one closed form in :data:`CELL_MODELS`,
  written from its SPICE text in ``cell_library/*.lib`` (ideal virtual grounds
  and current mirrors, the op-amp TIA's finite gain, offset and swing solved
  with the column's total conductance, the activations, the mixer and the
  subtractor).

What it refuses (:class:`SimulationError` naming the element or cell, never
an approximation): the tran form (clocks, switches, hold capacitors),
any element kind or cell without an entry here, op-amp (non-zero) virtual
grounds together with wire resistance, a tile read with wire resistance from
its column side, and sensed lines coupled to each other through a tile.
"""

from __future__ import annotations

import hashlib
import time
from collections import defaultdict
from dataclasses import dataclass
from typing import Callable

import numpy as np

from ..errors import ConfigError, SimulationError
from .readings import Readings, read_readings
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


class _Evaluator:
    """Node voltages of one dc-form circuit, computed on demand (module docstring)."""

    def __init__(self, circuit, tiles: _TileCache):
        from ..schematic.elements import (DcSweep, Instance, TableSource, VoltageSource)

        if not isinstance(circuit.analysis, DcSweep):
            raise SimulationError(
                f"the direct engine evaluates the dc form only; this circuit's analysis is "
                f"{type(circuit.analysis).__name__} (the tran form's clocks, switches and hold capacitors are "
                f"not implemented); {ADVICE}")
        self.batch = circuit.node_map.batch
        sweep = circuit.analysis
        points = int(round((sweep.stop - sweep.start) / sweep.step)) + 1 if sweep.step else 1
        self.sweep = sweep.start + sweep.step * np.arange(points)
        if points != self.batch:
            raise SimulationError(f"the dc sweep has {points} points for a batch of {self.batch}")
        self.zeros = np.zeros(self.batch)
        self.tile_of = {tile.name: tile for tile in circuit.crossbars}
        self.tiles = tiles
        self.values = {GROUND: self.zeros}
        self.driver = {}          # node -> (callable computing it)
        self.sensed = {}          # node -> virtual ground (bool)
        self.attached = defaultdict(list)   # sensed-candidate node -> [(instance, side, index)]
        self.instances = {}       # instance name -> (tile, row nodes, column nodes)
        self.side_cache = {}
        self.pending = set()
        for block in circuit.blocks:
            for element in block.elements:
                if isinstance(element, VoltageSource):
                    if element.neg != GROUND:
                        raise SimulationError(f"the direct engine cannot evaluate floating source {element.name}; "
                                              f"{ADVICE}")
                    value = self.sweep if element.name == sweep.source else np.full(self.batch, element.volts)
                    self._drive(element.pos, lambda value=value: value, element.name)
                elif isinstance(element, TableSource):
                    self._drive(element.pos, lambda e=element: np.interp(self.v(e.control), e.xs, e.ys),
                                element.name)
                elif isinstance(element, Instance) and element.cell in self.tile_of:
                    self._attach(element)
                elif isinstance(element, Instance):
                    self._cell(element)
                else:
                    raise SimulationError(f"the direct engine cannot evaluate element {element.name} of kind "
                                          f"{getattr(element, 'kind', type(element).__name__)!r} exactly; {ADVICE}")

    def _drive(self, node: str, compute, name: str) -> None:
        if node == GROUND or node in self.driver:
            raise SimulationError(f"the direct engine: node {node!r} is driven twice (by {name}); {ADVICE}")
        self.driver[node] = compute

    def _attach(self, instance) -> None:
        tile = self.tile_of[instance.cell]
        rows, columns = instance.nodes[:len(tile.rows)], instance.nodes[len(tile.rows):]
        self.instances[instance.name] = (tile, rows, columns)
        for side, nodes in (("row", rows), ("column", columns)):
            for index, node in enumerate(nodes):
                self.attached[node].append((instance.name, side, index))

    def _cell(self, instance) -> None:
        model = CELL_MODELS.get(instance.cell)
        if model is None:
            raise refuse_cell(instance.cell, f"instance {instance.name}")
        if len(instance.nodes) != len(model.ports):
            raise SimulationError(f"instance {instance.name} of {instance.cell} has {len(instance.nodes)} nodes, "
                                  f"the direct engine's model {len(model.ports)}")
        ports = dict(zip(model.ports, instance.nodes))
        params = {**CELL_DEFAULTS.get(instance.cell, {}), **dict(instance.params)}
        memo = {}

        def output(port, ports=ports, params=params, memo=memo, model=model):
            if not memo:
                memo.update(model.evaluate(self, ports, params))
            return memo[port]

        for port in model.outputs:
            node = ports[port]
            if port in model.sensed:
                self.sensed[node] = model.virtual_ground
                if model.virtual_ground:
                    self._drive(node, lambda: self.zeros, instance.name)
                    continue
            self._drive(node, lambda port=port: output(port), instance.name)

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
        value = compute()
        if not (isinstance(value, np.ndarray) and value.shape == (self.batch,)):
            value = np.broadcast_to(np.asarray(value, dtype=float), (self.batch,))
        self.pending.discard(node)
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
            here = rows if side == "row" else columns
            if side == "row" or not all(self.sensed.get(node) is True for node in here):
                raise SimulationError(
                    f"the direct engine cannot evaluate tile instance {name} with wire resistance exactly: it "
                    f"needs driven rows and every column at an ideal virtual ground (op-amp TIAs or a read from "
                    f"the column side are not implemented); {ADVICE}")
        drive = np.stack([self.v(node) for node in other], axis=1)
        if side == "row":
            result = (drive @ matrix.T, matrix.sum(axis=1))
        else:
            result = (drive @ transfer, matrix.sum(axis=0))
        self.side_cache[key] = result
        return result


class DirectEngine:
    """Evaluates dc-form circuits in closed form (module docstring); no ngspice.

    ``readings(circuit, cycles, label)`` is the interface the controller uses
    (the ngspice engines have the same method); :meth:`run` of netlist text is
    refused: this engine never reads text.
    """

    name = "direct"
    version = "none (direct engine)"

    def __init__(self):
        self._tiles = _TileCache()

    def __enter__(self) -> DirectEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        self._tiles.store.clear()

    def run(self, netlist: str, *, label: str):
        raise ConfigError("the direct engine evaluates circuit objects, not netlist text: call "
                          "readings(circuit, cycles, label)")

    def vectors(self, circuit, nodes=None) -> dict[str, np.ndarray]:
        """ngspice-style vectors (``v(<node>)`` and the sweep abscissa) of ``nodes`` (default: the saved ones)."""
        evaluator = _Evaluator(circuit, self._tiles)
        vectors = {ABSCISSA["dc"]: evaluator.sweep}
        for node in (circuit.saves if nodes is None else nodes):
            vectors[node_vector(node)] = np.array(evaluator.v(node))
        return vectors

    def readings(self, circuit, cycles: tuple[int, int], label: str):
        """The :class:`CircuitRun` of ``circuit`` (readings read through its node map)."""
        from .circuit_run import CircuitRun

        start = time.process_time()
        try:
            vectors = self.vectors(circuit)
        except FloatingPointError as error:
            raise SimulationError(f"batch {label!r}: {error}") from None
        readings: Readings = read_readings(vectors, circuit.node_map, cycles, label)
        return CircuitRun(readings, time.process_time() - start, None, None, 0.0)


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
