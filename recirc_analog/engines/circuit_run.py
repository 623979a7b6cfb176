"""Simulating circuit objects: the one path from a ``Circuit`` to its ``Readings``.

Every engine has ``readings(circuit, cycles, label) -> CircuitRun``: the ngspice
engines write the text with the ngspice writer, run it and read the vectors
through the circuit's NodeMap (:func:`ngspice_readings`, also used for a
minibatch split across processes); the direct engine evaluates the circuit
itself (:mod:`.direct`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from .readings import Readings, read_readings


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
    """Write ``circuits`` as ngspice text, run them on ``engine`` (in parallel with ``run_many``
    when there are several and ``workers`` > 1) and read their readings."""
    from ..netlist_writers.api import get_writer

    writer = get_writer("ngspice")
    start = time.perf_counter()
    texts = [writer.get_netlist(circuit) for circuit in circuits]
    netlist_seconds = (time.perf_counter() - start) / max(len(texts), 1)
    if len(texts) == 1:
        results = [engine.run(texts[0], label=labels[0])]
    else:
        results = engine.run_many(texts, labels=list(labels), workers=workers)
    runs = []
    for circuit, text, result, label in zip(circuits, texts, results, labels):
        readings = read_readings(result.vectors, circuit.node_map, cycles, label, result.relaxed)
        runs.append(CircuitRun(readings, result.analysis_seconds or 0.0, text,
                               result.attempts[-1] if result.relaxed else None, netlist_seconds))
    return runs
