"""Simulating circuit objects: the one path from a ``Circuit`` to its ``Readings``.

Every engine has ``readings(circuit, cycles, label) -> CircuitRun``: the ngspice
engines write the text with the ngspice writer, run it and read the vectors
through the circuit's NodeMap (:func:`ngspice_readings`, also used for a
minibatch split across processes); the direct engine evaluates the circuit
itself (:mod:`.direct`).

How the ngspice engines simulate a dc-form circuit is their ``cycle_mode``
(:data:`CYCLE_MODES`): ``unrolled`` runs the circuit as written (all cycles'
copies in one netlist, one analysis); ``per-cycle`` runs one analysis per cycle,
cycle k's inputs being cycle k-1's outputs read back, and ``per-layer`` one
analysis per layer read (:mod:`recirc_analog.schematic.dc_cycles`; both exact);
``auto`` (the default) picks per-layer for large circuits, where it is fastest.
All give the vectors of the unrolled circuit's saved nodes, read through the
same NodeMap. The tran form is always run unrolled.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from ..errors import ConfigError, UsageError
from .readings import Readings, read_readings
from .readout import ABSCISSA, node_vector

CYCLE_MODES = ("auto", "per-layer", "per-cycle", "unrolled")
"""How the ngspice engines simulate a dc-form circuit: one analysis per layer read (then one for
that read's activations, where the cut is exact: :mod:`recirc_analog.schematic.dc_cycles`), per
recirculation cycle, the unrolled netlist as one analysis, or (``auto``, the default) per layer
when one cycle's crossbars hold at least :data:`SPLIT_DEVICES` devices (per cycle if the circuit
cannot be cut per layer exactly, unrolled if not per cycle either)."""

SPLIT_DEVICES = 10_000
"""Devices in one cycle's crossbars from which ``auto`` splits the analysis. Measured
(benchmarks/RESULTS.md, "ngspice per cycle vs unrolled"): at 784-20-784 (64,000 devices) and
196-20-196 (16,000) splitting takes a fraction of the unrolled time, while at 64-16-64 (4,200)
the saved analysis time is less than the extra ngspice start-up of the further analyses."""

_STAGE_OF_MODE = {"per-layer": "layer", "per-cycle": "cycle"}


def check_cycle_mode(cycle_mode: str) -> str:
    """Return ``cycle_mode`` if it is one of :data:`CYCLE_MODES`, else raise ConfigError."""
    if cycle_mode not in CYCLE_MODES:
        raise ConfigError(f"cycle_mode must be one of {CYCLE_MODES}, got {cycle_mode!r}")
    return cycle_mode


@dataclass(frozen=True)
class CircuitRun:
    """What simulating one circuit gave."""

    readings: Readings
    seconds: float
    """The engine's own analysis time (CPU s; ngspice's reported time for the ngspice engines)."""
    netlist: str | None
    """The text simulated (ngspice engines); None when no text was written (direct engine)."""
    relaxed_attempt: str | None
    """The convergence-ladder rung ngspice needed if it was looser than the netlist's tolerances, else None."""
    netlist_seconds: float
    """Time spent writing the text (s)."""


def ngspice_readings(engine, circuits, cycles: tuple[int, int], labels, workers: int = 1) -> list[CircuitRun]:
    """Simulate ``circuits`` on ``engine`` (in parallel with ``run_many`` when there are several
    and ``workers`` > 1) and read their readings.

    dc-form circuits run one analysis per cycle or per layer read when ``engine.cycle_mode``
    says so (:func:`stage_plans`, :func:`staged_vectors`); their ``CircuitRun.netlist`` is then None (no one text was
    simulated; the unrolled text is written on demand from the circuit).
    """
    plans = stage_plans(getattr(engine, "cycle_mode", "unrolled"), circuits)
    if plans is not None:
        outcomes = staged_vectors(engine, circuits, plans, labels, workers)
        texts = [None] * len(circuits)
    else:
        outcomes, texts = _unrolled_vectors(engine, circuits, labels, workers)
    runs = []
    for circuit, text, outcome, label in zip(circuits, texts, outcomes, labels):
        vectors, seconds, relaxed, netlist_seconds = outcome
        readings = read_readings(vectors, circuit.node_map, cycles, label, relaxed is not None)
        runs.append(CircuitRun(readings, seconds, text, relaxed, netlist_seconds))
    return runs


def devices_per_cycle(circuit) -> int:
    """Number of devices (resistors of the weights, biases and reference columns) in one copy of
    ``circuit``'s crossbars."""
    arrays = [getattr(c.conductances, kind) for c in circuit.crossbars for kind in ("plus", "minus", "reference")]
    return sum(a.size for a in arrays if a is not None)


def stage_plans(cycle_mode: str, circuits):
    """How ``circuits`` run under ``cycle_mode`` (:data:`CYCLE_MODES`): one tuple of
    :class:`~recirc_analog.schematic.dc_cycles.StagePlan` per circuit, or None to run them unrolled
    (the tran form, a single cycle, ``unrolled``, or ``auto`` below :data:`SPLIT_DEVICES`).

    ``per-layer`` / ``per-cycle`` raise UsageError for a circuit that cannot be cut so exactly.
    """
    from ..schematic.dc_cycles import plan_stages

    if not all(circuit.node_map.form == "dc" and circuit.node_map.cycles > 0 for circuit in circuits):
        return None
    if cycle_mode in _STAGE_OF_MODE:
        return [plan_stages(circuit, _STAGE_OF_MODE[cycle_mode]) for circuit in circuits]
    if cycle_mode != "auto" or devices_per_cycle(circuits[0]) < SPLIT_DEVICES:
        return None
    for per in ("layer", "cycle"):
        try:
            return [plan_stages(circuit, per) for circuit in circuits]
        except UsageError:
            continue
    return None


def _run(engine, texts, labels, workers):
    if len(texts) == 1:
        return [engine.run(texts[0], label=labels[0])]
    return engine.run_many(texts, labels=list(labels), workers=workers)


def _relaxed(result) -> str | None:
    return result.attempts[-1] if result.relaxed else None


def _unrolled_vectors(engine, circuits, labels, workers):
    """Each circuit as written, one analysis: ((vectors, seconds, relaxed rung, netlist s), ...), texts."""
    from ..netlist_writers.api import get_writer

    writer = get_writer("ngspice")
    start = time.perf_counter()
    texts = [writer.get_netlist(circuit) for circuit in circuits]
    netlist_seconds = (time.perf_counter() - start) / max(len(texts), 1)
    results = _run(engine, texts, labels, workers)
    return [(r.vectors, r.analysis_seconds or 0.0, _relaxed(r), netlist_seconds) for r in results], texts


def staged_vectors(engine, circuits, plans, labels, workers: int = 1):
    """Run dc-form ``circuits`` one analysis per stage of their ``plans`` (:func:`stage_plans`);
    per circuit (vectors, seconds, relaxed, netlist s).

    The vectors are those the unrolled circuit would give for its saved nodes (and the
    sweep), each taken from the analysis of the stage that computes it; seconds and
    netlist seconds are summed over the stages; relaxed is the first looser convergence
    rung any stage needed, else None. Stage s of every circuit runs (in parallel with
    ``run_many`` when there are several) once stage s - 1 of all of them is read.
    """
    from ..netlist_writers.api import get_writer
    from ..schematic.dc_cycles import stage_circuit

    if len({len(p) for p in plans}) != 1:
        raise UsageError("circuits simulated together must have the same stages")
    writer = get_writer("ngspice")
    volts = [{} for _ in circuits]
    vectors = [{} for _ in circuits]
    seconds = [0.0] * len(circuits)
    writing = [0.0] * len(circuits)
    relaxed = [None] * len(circuits)
    for k in range(len(plans[0])):
        texts = []
        for c, circuit in enumerate(circuits):
            start = time.perf_counter()
            texts.append(writer.get_netlist(stage_circuit(circuit, plans[c][k], volts[c])))
            writing[c] += time.perf_counter() - start
        stage_labels = [f"{label} stage {k} (cycle {plans[0][k].cycle})" for label in labels]
        for c, result in enumerate(_run(engine, texts, stage_labels, workers)):
            seconds[c] += result.analysis_seconds or 0.0
            relaxed[c] = relaxed[c] or _relaxed(result)
            abscissa = ABSCISSA["dc"]
            vectors[c].setdefault(abscissa, result.get(abscissa))
            for node in plans[c][k].saves:
                vectors[c][node_vector(node)] = volts[c][node] = result.get(node_vector(node))
    return list(zip(vectors, seconds, relaxed, writing))


def per_cycle_vectors(engine, circuits, labels, workers: int = 1, per: str = "cycle"):
    """:func:`staged_vectors` of ``circuits`` cut per ``cycle`` or per ``layer`` read."""
    from ..schematic.dc_cycles import plan_stages

    plans = [plan_stages(circuit, per) for circuit in circuits]
    return staged_vectors(engine, circuits, plans, labels, workers)
