"""One dc-form circuit cut into one circuit per recirculation cycle.

The dc form (:mod:`.dc_form`) unrolls cycles 0..m into copies of the crossbars
in one netlist. The same minibatch can be computed as m + 1 analyses instead:
cycle k's circuit holds only cycle k's blocks, and every node it reads from an
earlier cycle (the previous output ``o<L>_c<k-1>_<i>``, the cycle-0 activities
a mixer blends in) becomes a table source over the same selector, whose points
are that node's voltages read back from the earlier analysis. One copy of the
crossbars fits the processor cache where m + 1 copies do not, so each Newton
iteration is about 3x cheaper (benchmarks/RESULTS.md, "ngspice per cycle").

Why this is exact: a node carried between cycles is, in the unrolled circuit, the
output of an ideal voltage source (a behavioural activation, mixer or subtractor
to ground), so whatever later cycles connect to it cannot change its voltage;
replacing that source by a table of its own solved voltages leaves every later
node's equations unchanged. :func:`plan_cycles` checks that every carried node is
an activity of the node map and declared held by a voltage source, and refuses a
circuit where it is not (a node driven through a resistance would be loaded
differently). The values are written with
``repr`` (every bit of the double), so the only difference from the unrolled
netlist is ngspice's own Newton tolerance (reltol ``* |v|`` + vntol) entering
once more per cycle.

The tran form is not split: its hold capacitors carry charge in time from one
phase to the next, and its phases follow one another inside one transient, so
cutting it into analyses is not exact. Nor is anything written here for a chip
designer: the exported netlist stays the complete unrolled circuit.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

import numpy as np

from recirc_analog.errors import UsageError
from recirc_analog.schematic.elements import GROUND, Block, Circuit, DcSweep, Instance, TableSource
from recirc_analog.schematic.graph import available_cells


@dataclass(frozen=True)
class CyclePlan:
    """What one cycle's own circuit holds."""

    cycle: int
    """k: this circuit computes cycle k (0..m)."""
    blocks: tuple[Block, ...]
    """The shared blocks, cut to the elements this cycle uses, then cycle k's blocks."""
    carried: tuple[str, ...]
    """Nodes of earlier cycles this cycle reads (their voltages, V, come from earlier analyses)."""
    saves: tuple[str, ...]
    """The unrolled circuit's saved nodes, and the nodes later cycles carry, that this cycle
    computes first (each such node is in exactly one cycle's ``saves``)."""


def _nodes(element, cells) -> set[str]:
    """Every node ``element`` connects to or reads (not ground, not a crossbar's internal hub)."""
    if isinstance(element, Instance):
        nodes = set(element.nodes)
    else:
        nodes = {n for branch in element.branches(cells) for n in (branch.a, branch.b)}
    return (nodes | set(element.sensed(cells))) - {GROUND}


def _sourced(element, cells) -> set[str]:
    """Nodes ``element`` holds with an ideal voltage source to ground."""
    return {branch.a if branch.b == GROUND else branch.b for branch in element.branches(cells)
            if branch.kind == "source" and GROUND in (branch.a, branch.b)}


def plan_cycles(circuit: Circuit) -> tuple[CyclePlan, ...]:
    """Cut the dc-form ``circuit`` into cycles 0..m (see the module docstring).

    Raises UsageError for a tran-form circuit or one whose blocks carry no cycle,
    and when a node passed between cycles is not held by an ideal voltage source
    (then only the unrolled circuit is exact).
    """
    if not isinstance(circuit.analysis, DcSweep):
        raise UsageError("only a dc-form circuit can be simulated one cycle per analysis; "
                         "the tran form's hold capacitors carry state in time (use the unrolled circuit)")
    m = circuit.node_map.cycles
    cells = available_cells(circuit)
    shared = [b for b in circuit.blocks if b.cycle is None]
    per_cycle = [[b for b in circuit.blocks if b.cycle == k] for k in range(m + 1)]
    if any(not blocks for blocks in per_cycle) or any(b.cycle is not None and not 0 <= b.cycle <= m
                                                      for b in circuit.blocks):
        raise UsageError(f"the circuit's blocks must each name one cycle 0..{m} or none (dc form)")
    # activities are outputs of activation, mixer or subtractor cells: behavioural sources to ground (a cell's
    # declared "source" alone is not enough: tia_pair declares its current-mirror output one for the graph checks)
    activities = {n for nodes in circuit.node_map.activity_nodes.values() for n in nodes}
    produced, sourced, cuts = {}, set(), []
    shared_nodes = {n for b in shared for e in b.elements for n in _nodes(e, cells)}
    for k, blocks in enumerate(per_cycle):
        elements = [e for b in blocks for e in b.elements]
        used = set().union(*(_nodes(e, cells) for e in elements))
        carried = sorted(n for n in used if n in produced)
        unsafe = [n for n in carried if n not in sourced or n not in activities]
        if unsafe:
            raise UsageError(f"cycle {k} reads node {unsafe[0]!r} of cycle {produced[unsafe[0]]}, which is not an "
                             "activity an ideal voltage source holds: one analysis per cycle would not be exact "
                             "(use the unrolled circuit)")
        kept = _shared_elements(shared, used - set(carried), circuit.analysis.source, cells)
        shared_k = tuple(Block(b.comment, tuple(e for e in b.elements if e.name in kept)) for b in shared)
        own = used - set(carried) - shared_nodes
        for e in elements:
            sourced.update(_sourced(e, cells))
        produced.update((n, k) for n in own)
        reach = used | {n for b in shared_k for e in b.elements for n in _nodes(e, cells)}
        cuts.append((tuple(b for b in shared_k if b.elements) + tuple(blocks), tuple(carried), reach))
    # every saved node, and every node a later cycle carries, is saved by the first cycle computing it
    wanted = tuple(circuit.saves) + tuple(sorted({n for _, carried, _ in cuts for n in carried}
                                                 - set(circuit.saves)))
    plans, saved = [], set()
    for k, (blocks, carried, reach) in enumerate(cuts):
        saves = tuple(n for n in wanted if n in reach and n not in carried and n not in saved)
        saved.update(saves)
        plans.append(CyclePlan(k, blocks, carried, saves))
    missing = sorted(set(circuit.saves) - saved)
    if missing:
        raise UsageError(f"saved node {missing[0]!r} belongs to no cycle of the circuit")
    return tuple(plans)


def _shared_elements(shared, used: set[str], sweep_source: str, cells) -> set[str]:
    """Names of the shared elements a cycle needs: the swept source and every element
    holding a node the cycle uses, and (again) whatever those read (the selector)."""
    elements = [e for b in shared for e in b.elements]
    kept = {e.name for e in elements if e.name == sweep_source}
    need = set(used)
    while True:
        more = {e.name for e in elements if e.name not in kept and _nodes(e, cells) & need}
        if not more:
            return kept
        kept |= more
        need |= {n for e in elements if e.name in more for n in _nodes(e, cells)}


def carried_block(plan: CyclePlan, volts: Mapping[str, np.ndarray], control: str) -> Block | None:
    """Table sources ``Bk_<node>`` holding each carried node of ``plan`` at its read-back
    voltages: ``volts[node]`` of shape (batch,) in V, point b at ``v(control) = b``."""
    if not plan.carried:
        return None
    batch = len(volts[plan.carried[0]])
    xs = tuple(float(b) for b in range(max(batch, 2)))
    sources = []
    for node in plan.carried:
        values = np.asarray(volts[node], dtype=float)
        if values.shape != (batch,):
            raise UsageError(f"carried voltages of node {node!r} must have shape ({batch},), got {values.shape}")
        ys = values if batch > 1 else np.repeat(values, 2)
        sources.append(TableSource(f"Bk_{node}", node, control, xs, tuple(float(v) for v in ys)))
    return Block(f"cycle {plan.cycle}: earlier cycles' activities, read back from their analyses",
                 tuple(sources), cycle=plan.cycle)


def cycle_circuit(circuit: Circuit, plan: CyclePlan, volts: Mapping[str, np.ndarray]) -> Circuit:
    """The circuit of ``plan``'s cycle alone; ``volts`` (node -> (batch,) V) holds every carried node.

    Same title, tolerances, analysis and node map as ``circuit``; it saves ``plan.saves``.
    """
    control = _selector_node(circuit)
    carried = carried_block(plan, volts, control)
    blocks = plan.blocks if carried is None else plan.blocks[:1] + (carried,) + plan.blocks[1:]
    description = circuit.description + (
        f"cycle {plan.cycle} of 0..{circuit.node_map.cycles} alone (one analysis per cycle); "
        f"{len(plan.carried)} nodes of earlier cycles as tables of their simulated voltages",)
    return replace(circuit, description=description, blocks=blocks, saves=plan.saves)


def _selector_node(circuit: Circuit) -> str:
    """The node the dc sweep's source drives (the tables' control)."""
    source = circuit.analysis.source
    for block in circuit.blocks:
        for e in block.elements:
            if e.name == source:
                return e.pos
    raise UsageError(f"the swept source {source!r} is not in the circuit")
