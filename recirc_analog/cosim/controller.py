"""The co-simulation controller: one ngspice analysis per minibatch, then local updates.

Per minibatch the controller (1) writes the netlist of the present
conductances with the batch as inputs, (2) has ngspice run phase 0 and the
recirculation phases for every sample in one analysis, (3) reads each
layer's held cycle-0 voltage and its phase-m voltage, (4) computes every
device's update from those readings only, and (5) programs it through the
device model. A minibatch may be split across processes (``workers``): the
update is a mean over samples, so the result does not change.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..devices import DeviceConfig
from ..engines.circuit_run import ngspice_readings
from ..engines.direct import audit_deviation
from ..engines.readings import Readings
from ..errors import ConfigError, DivergenceError, SimulationError
from ..netlist_writers.api import get_writer
from ..reference.losses import loss_for
from ..reference.network import CircularAutoencoder
from ..schematic.builder import build_circuit, get_conductances, rebind_circuit
from ..schematic.mapping import ConductanceMapping
from ..schematic.spec import CircuitSpec
from .crossbar_state import CrossbarState
from .local_rule import LocalRule, check_rule, rule_for


@dataclass(frozen=True)
class StepRecord:
    """What one co-simulated minibatch did."""

    loss: float
    """Per-sample loss of the circuit's cycle-0 reconstruction (before the update)."""
    readings: Readings
    """The voltages (as activities) the update was computed from."""
    ngspice_seconds: float
    """The engine's own analysis time (ngspice's, or the direct evaluation's), summed over the batch's
    processes (CPU s)."""
    netlist_seconds: float
    """Time spent building and writing the netlist text (s)."""
    clipped: int
    """Devices whose target left [g_min, g_max]."""


class CosimController:
    """Trains a circuit with local updates inside ngspice.

    Parameters
    ----------
    net : CircularAutoencoder
        Sizes and activations, and the initial weights (mapped to conductances;
        tied, A^2 = (A^1)^T, for the bidirectional architecture).
    spec : CircuitSpec
        The circuit; ``spec.crossbar.r_f`` must be set (the mapping stays fixed).
        ``spec.architecture`` decides which devices a local update reaches (see
        :class:`CrossbarState`).
    device : DeviceConfig
        Device record of every programmable conductance; its models are built inside
        ``spec.crossbar``'s conductance window (the only copy of it).
    engine : Engine
        An engine (``recirc_analog.engines.get_engine``): ngspice, or the direct evaluator.
    rates : array of shape (L,)
        Learning rate of each layer 1..L.
    workers : int
        Processes a minibatch is split across (batch engine only).
    seed : int
        Seed of the device model's random streams.
    rule : LocalRule, optional
        Computes the update from the readings (:mod:`.local_rule`); default the
        recirculation rule of ``spec.recirculation``. Its readings must be the
        ones the circuit takes (the cycle pair of ``spec.recirculation``).

    Attributes
    ----------
    audit_engine : Engine or None
        An ngspice engine that re-simulates a batch when ``audit_next`` is set (the direct
        engine's audit, issue 10); ``last_audit_deviation`` then holds the largest relative
        difference of any read voltage, else None.
    accept_relaxed : bool
        Use a batch that ngspice solved only with loosened tolerances (the last
        rung of the convergence ladder); False (default) refuses it with a
        SimulationError. Either way ``last_relaxed`` says whether the last
        simulated batch was such a one.
    """

    accept_relaxed = False
    last_relaxed = False
    audit_engine = None
    audit_next = False
    last_audit_deviation = None

    def __init__(self, net: CircularAutoencoder, spec: CircuitSpec, device: DeviceConfig, engine, rates,
                 workers: int = 1, seed: int = 0, rule: LocalRule | None = None):
        if spec.crossbar.r_f is None:
            raise ConfigError("spec.crossbar.r_f must be set for co-simulation (the mapping must stay fixed)")
        if workers > 1 and not hasattr(engine, "run_many"):
            raise ConfigError(f"workers > 1 needs the batch engine, got the {engine.name} engine")
        self.template = net.copy()
        self.spec = spec
        self.engine = engine
        self.rates = np.asarray(rates, dtype=float)
        self.workers = workers
        self.rule = check_rule(rule_for(spec.recirculation) if rule is None else rule, spec.recirculation)
        self.mapping = ConductanceMapping(spec.crossbar, spec.crossbar.r_f)
        self.state = CrossbarState(get_conductances(net, spec), self.mapping, device, seed, spec.architecture)
        self.loss = loss_for(net)
        self.writer = get_writer("ngspice")
        self._last_netlist, self._last_circuit = None, None
        self.last_conductances = None   # the conductances the last circuit() read (layers 1..L)
        self.last_reading = None        # (conductances, voltage plan or None) of the last simulated batch
        self._built = {}          # batch size -> the last circuit of that size (rebound, not rebuilt)

    def batch_seconds(self, batch: int) -> float:
        """Device time (s) one minibatch of ``batch`` samples takes: ``batch * (1 + m)`` phases of
        the phase clock (``spec.clock.phase``), as in the tran form; the devices are programmed at
        its end."""
        return batch * (1 + self.spec.cycles) * self.spec.clock.phase

    def weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The circuit's effective ([A^h], [b^h]) from its held conductances, read for monitoring
        (no read noise, no random draws: comparing, evaluating or saving never changes the run)."""
        return self.state.monitor_weights()

    def network(self) -> CircularAutoencoder:
        """The circuit's effective weights as a reference network (for evaluation and saving)."""
        weights, biases = self.weights()
        return CircularAutoencoder(self.template.sizes, self.template.activations, weights, biases)

    def circuit(self, x: np.ndarray):
        """The circuit (schematic ``Circuit``) of the present conductances with inputs ``x`` (batch, N0).

        The first circuit of each batch size is built and validated (``build_circuit``); later
        ones rebind it to the present conductances and inputs (``rebind_circuit``: the same
        structure, element for element what a fresh build gives, without the graph checks).
        """
        conductances = self.state.all_conductances()
        self.last_conductances = conductances
        built = self._built.get(len(x))
        if built is None:
            built = build_circuit(self.template, self.spec, x, conductances=conductances)
            if len(self._built) >= 4:
                self._built.clear()
        else:
            built = rebind_circuit(built, self.template, self.spec, x, conductances)
        self._built[len(x)] = built
        return built

    def netlist(self, x: np.ndarray):
        """(netlist text, node map) of the present conductances with inputs ``x`` (batch, N0)."""
        circuit = self.circuit(x)
        return self.writer.get_netlist(circuit), circuit.node_map

    @property
    def last_circuit(self):
        """The last simulated circuit (the first part's, when split across workers)."""
        return self._last_circuit

    @property
    def last_netlist(self) -> str:
        """The ngspice text of the last simulated circuit (written now if the engine wrote none)."""
        if self._last_netlist is None and self._last_circuit is not None:
            self._last_netlist = self.writer.get_netlist(self._last_circuit)
        return self._last_netlist or ""

    def simulate(self, x: np.ndarray, label: str) -> tuple[Readings, float, float]:
        """(readings, engine seconds, netlist seconds) of the batch ``x`` (batch, N0).

        The engine simulates the circuit objects (``engine.readings``); with ``workers`` > 1
        the batch is split and the ngspice texts run in parallel processes. If
        ``audit_next`` is set (and ``audit_engine`` given), the same circuits are also run on
        the audit engine and ``last_audit_deviation`` holds the largest relative difference of
        any read voltage (:func:`recirc_analog.engines.direct.audit_deviation`); else it is None.
        """
        start = time.perf_counter()
        parts = np.array_split(x, min(self.workers, len(x)))
        circuits = [self.circuit(parts[0])]
        first_read = self.last_conductances
        circuits += [self.circuit(part) for part in parts[1:]]
        # what this batch was read with, for metrics of the same reading (cosim/learning_signal.py): the
        # first part's conductances, and the circuit's own voltage plan when the batch is one circuit
        self.last_reading = (first_read, circuits[0].budget if len(circuits) == 1 else None)
        build_seconds = time.perf_counter() - start
        labels = [label if len(circuits) == 1 else f"{label} part {k + 1}/{len(circuits)}"
                  for k in range(len(circuits))]
        cycles = self.spec.recirculation.cycles
        if len(circuits) == 1:
            runs = [self.engine.readings(circuits[0], cycles, label)]
        else:
            runs = ngspice_readings(self.engine, circuits, cycles, labels, self.workers)
        relaxed = [(lab, run.relaxed_attempt) for run, lab in zip(runs, labels) if run.relaxed_attempt]
        if relaxed and not self.accept_relaxed:
            raise SimulationError(f"batch {relaxed[0][0]!r}: ngspice converged only with {relaxed[0][1]!r} "
                                  "(looser than the netlist's tolerances); refused: pass --accept-relaxed to use it")
        self.last_relaxed = bool(relaxed)
        self._last_circuit, self._last_netlist = circuits[0], runs[0].netlist
        # one run: its readings as they are (joining one part would only copy every array)
        readings = runs[0].readings if len(runs) == 1 else Readings.concatenate([run.readings for run in runs])
        self.last_audit_deviation = None
        if self.audit_next and self.audit_engine is not None:
            self.audit_next = False
            audit = ngspice_readings(self.audit_engine, circuits, cycles, [f"{lab} (audit)" for lab in labels],
                                     self.workers)
            self.last_audit_deviation = audit_deviation(readings, Readings.concatenate([a.readings for a in audit]))
        seconds = sum(run.seconds for run in runs)
        return readings, seconds, build_seconds + sum(run.netlist_seconds for run in runs)

    def step(self, x: np.ndarray, label: str) -> StepRecord:
        """Co-simulate one minibatch ``x`` (batch, N0) and program its local update."""
        readings, ngspice, netlist_seconds = self.simulate(x, label)
        loss = self.loss.value(readings.held[0], readings.output)
        if not np.isfinite(loss):
            raise DivergenceError(f"batch {label!r}: the circuit's loss is {loss}; conductances left unchanged")
        self.state.advance(self.batch_seconds(len(x)))
        self.state.apply(self.rule.directions(readings).scaled(self.rates))
        return StepRecord(loss, readings, ngspice, netlist_seconds, self.state.clipped)
