"""One dc-form circuit cut into one circuit per recirculation cycle, or per layer read.

The dc form (:mod:`.dc_form`) unrolls cycles 0..m into copies of the crossbars
in one netlist. The same minibatch can be computed as m + 1 analyses instead:
cycle k's circuit holds only cycle k's blocks, and every node it reads from an
earlier cycle (the previous output ``o<L>_c<k-1>_<i>``, the cycle-0 activities
a mixer blends in) becomes a table source over the same selector, whose points
are that node's voltages read back from the earlier analysis. One copy of the
crossbars fits the processor cache where m + 1 copies do not, so each Newton
iteration is about 3x cheaper (benchmarks/RESULTS.md, "ngspice per cycle").
Cut finer (``per="layer"``: one analysis per layer read, L (m + 1) in all, a
layer-0 mixer or subtractor going with the read after it), each analysis holds
one crossbar and one activation stage: it converges in 3 Newton iterations per
sample instead of 4 (a cascade of L stages needs L + 2) and its matrix is
smaller again. Where exact and the read has many devices per activation
(:data:`SPLIT_FAN_IN`), it is cut once more, before its activations
(:func:`_split_read`): the read (crossbars and TIAs) is then linear and takes
ngspice's minimum of 2 iterations per sample, and the activations (with the
mixers reading them) follow in a small analysis of their own.

Why this is exact: a node carried between cycles is, in the unrolled circuit, the
output of an ideal voltage source (a behavioural activation, mixer or subtractor
to ground), so whatever later cycles connect to it cannot change its voltage;
replacing that source by a table of its own solved voltages leaves every later
node's equations unchanged. The same holds for a node the later stage only senses
(a pre-activation, read by its activation's behavioural source): nothing there
loads it. :func:`plan_stages` checks that every carried node is either declared
held by a voltage source and an activity of the node map or an activation cell's
output, or touched by no branch of the stage that reads it, and refuses a circuit
where it is not (a node driven through a resistance would be loaded differently).
The values are written with ``repr`` (every bit of the double), so the only difference from the unrolled
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
from recirc_analog.reference.activations import ACTIVATION_NAMES
from recirc_analog.schematic.cells import activation_cell
from recirc_analog.schematic.elements import GROUND, Block, Circuit, DcSweep, Instance, TableSource
from recirc_analog.schematic.graph import available_cells

STAGES = ("cycle", "layer")
"""How finely :func:`plan_stages` cuts: one analysis per recirculation cycle, or per layer read."""

SPLIT_FAN_IN = 100
"""Crossbar devices per activation from which a layer read's activations get an analysis of their
own (:func:`_split_read`). The cut saves one Newton iteration of the read per sample, which costs
in proportion to its devices, and adds an analysis whose cost (tables written and parsed, two
B-sources evaluated per neuron) grows with the activations. Measured at 784-20-784
(benchmarks/RESULTS.md, "ngspice faster"): cutting the 784 x 20 read (1570 devices per activation)
saved 17 % of the minibatch's CPU time against no cut; cutting the 20 x 784 read as well (43 per
activation) gained nothing more (7 % slower than the 784 x 20 cut alone, same run)."""


@dataclass(frozen=True)
class StagePlan:
    """What one stage's own circuit holds (a cycle, or one layer read of a cycle)."""

    stage: int
    """Position of this analysis (0, 1, ...): stages run in this order."""
    cycle: int
    """k: the recirculation cycle this stage computes (all of it, or one layer read)."""
    blocks: tuple[Block, ...]
    """The shared blocks, cut to the elements this stage uses, then the stage's own blocks."""
    carried: tuple[str, ...]
    """Nodes of earlier stages this stage reads (their voltages, V, come from earlier analyses)."""
    saves: tuple[str, ...]
    """The unrolled circuit's saved nodes, and the nodes later stages carry, that this stage
    computes first (each such node is in exactly one stage's ``saves``)."""


def _nodes(element, cells) -> set[str]:
    """Every node ``element`` connects to or reads (not ground, not a crossbar's internal hub)."""
    if isinstance(element, Instance):
        nodes = set(element.nodes)
    else:
        nodes = {n for branch in element.branches(cells) for n in (branch.a, branch.b)}
    return (nodes | set(element.sensed(cells))) - {GROUND}


class _NodeSets:
    """:func:`_nodes` and the branches of each element, computed once per :func:`plan_stages`
    (keyed by ``id``: the elements outlive the call)."""

    def __init__(self, cells):
        self.cells = cells
        self._nodes, self._branches = {}, {}

    def __call__(self, element) -> set[str]:
        found = self._nodes.get(id(element))
        if found is None:
            found = self._nodes[id(element)] = _nodes(element, self.cells)
        return found

    def branches(self, element) -> tuple:
        found = self._branches.get(id(element))
        if found is None:
            found = self._branches[id(element)] = element.branches(self.cells)
        return found

    def touched(self, elements) -> set[str]:
        """Nodes a branch of any of ``elements`` connects (what they load, not only sense)."""
        return {n for e in elements for branch in self.branches(e) for n in (branch.a, branch.b)}


def _sourced(element, nodes_of) -> set[str]:
    """Nodes ``element`` holds with an ideal voltage source to ground."""
    return {branch.a if branch.b == GROUND else branch.b for branch in nodes_of.branches(element)
            if branch.kind == "source" and GROUND in (branch.a, branch.b)}


def _stages(circuit: Circuit, per: str, m: int, activations: set[str], cells, nodes_of) -> list[list[Block]]:
    """The blocks of each stage, in order: by cycle, or by layer read (a block without a crossbar
    read, the layer-0 mixers or subtractors, goes with the read after it; a read's activations
    form a stage of their own when :func:`_split_read` may cut them off)."""
    crossbars = {c.name: sum(a.size for a in (c.conductances.plus, c.conductances.minus, c.conductances.reference)
                             if a is not None) for c in circuit.crossbars}
    stages = []
    for k in range(m + 1):
        blocks = [b for b in circuit.blocks if b.cycle == k]
        if per == "cycle":
            stages.append(blocks)
            continue
        group = []
        for block in blocks:
            if not any(isinstance(e, Instance) and e.cell in crossbars for e in block.elements):
                group.append(block)
                continue
            devices = sum(crossbars[e.cell] for e in block.elements if isinstance(e, Instance) and e.cell in crossbars)
            read, *activated = _split_read(block, activations, cells, nodes_of, devices)
            stages.append(group + [read])
            stages.extend([b] for b in activated)
            group = []
        if group:
            stages.append(group)
    return stages


def _split_read(block: Block, activations: set[str], cells, nodes_of, devices: int) -> list[Block]:
    """A layer read's block as [its crossbars and TIAs, its activations and the mixers reading
    them], or [block] unchanged.

    The cut is made when the two parts share only the activations' inputs (the pre-activation
    nodes) and the activations only sense them (no branch of the second part touches them):
    the next stage then holds them with tables of their read-back voltages, which nothing
    there loads, so the cut is exact. It pays because the read without its activations is
    linear: ngspice's Newton loop then stops after 2 iterations per sample instead of 3 (it
    never accepts the first, and a nonlinear activation needs one more), and the crossbar is
    what each iteration costs; the activations' own analysis must be small against that,
    hence at least :data:`SPLIT_FAN_IN` of the read's ``devices`` per activation.
    """
    acts = {e.name for e in block.elements if isinstance(e, Instance) and e.cell in activations}
    if not acts or devices < SPLIT_FAN_IN * len(acts):
        return [block]
    nodes = {e.name: nodes_of(e) for e in block.elements}
    inputs = {n for e in block.elements if e.name in acts for n in e.nodes[:-1]} - {GROUND}
    # the activations and whatever reads their outputs (the mixers of CCR, RCC, ...), transitively
    after, reach = set(), {e.nodes[-1] for e in block.elements if e.name in acts}
    while True:
        more = {name for name, ns in nodes.items() if name not in after and (name in acts or ns & reach)}
        if not more:
            break
        after |= more
        reach |= set().union(*(nodes[name] for name in more)) - inputs
    tail = tuple(e for e in block.elements if e.name in after)
    rest = tuple(e for e in block.elements if e.name not in after)
    if not rest:
        return [block]
    touched = nodes_of.touched(tail)
    sensed = {n for e in tail if e.name in acts for n in e.sensed(cells)}
    shared = set().union(*(nodes[e.name] for e in rest)) & set().union(*(nodes[e.name] for e in tail))
    if not shared <= inputs or inputs & touched or not inputs <= sensed:
        return [block]
    return [Block(f"{block.comment} (crossbar read and TIAs)", rest, cycle=block.cycle),
            Block(f"{block.comment} (activations)", tail, cycle=block.cycle)]


def plan_stages(circuit: Circuit, per: str = "cycle") -> tuple[StagePlan, ...]:
    """Cut the dc-form ``circuit`` into one stage per cycle 0..m, or per layer read (``per``,
    one of :data:`STAGES`; see the module docstring).

    Raises UsageError for a tran-form circuit or one whose blocks carry no cycle, and
    when a node passed between stages is not one an ideal voltage source holds (then
    only a coarser cut, or the unrolled circuit, is exact).
    """
    if per not in STAGES:
        raise UsageError(f"per must be one of {STAGES}, got {per!r}")
    if not isinstance(circuit.analysis, DcSweep):
        raise UsageError("only a dc-form circuit can be simulated one cycle per analysis; "
                         "the tran form's hold capacitors carry state in time (use the unrolled circuit)")
    m = circuit.node_map.cycles
    cells = available_cells(circuit)
    shared = [b for b in circuit.blocks if b.cycle is None]
    if any(b.cycle is not None and not 0 <= b.cycle <= m for b in circuit.blocks) or any(
            not any(b.cycle == k for b in circuit.blocks) for k in range(m + 1)):
        raise UsageError(f"the circuit's blocks must each name one cycle 0..{m} or none (dc form)")
    # a declared source is not enough: tia_pair / tia_ref declare their output (current mirrors into
    # r_f) one for the graph checks; activities and activation outputs are behavioural sources to ground
    activations = {activation_cell(a, single) for a in ACTIVATION_NAMES for single in (False, True)}
    held = {n for nodes in circuit.node_map.activity_nodes.values() for n in nodes}
    produced, sourced, cuts = {}, set(), []
    nodes_of = _NodeSets(cells)
    shared_nodes = {n for b in shared for e in b.elements for n in nodes_of(e)}
    for stage, blocks in enumerate(_stages(circuit, per, m, activations, cells, nodes_of)):
        elements = [e for b in blocks for e in b.elements]
        used = set().union(*(nodes_of(e) for e in elements))
        carried = sorted(n for n in used if n in produced)
        # exact if an ideal source held the node in the unrolled circuit, or if this stage only senses it
        touched = nodes_of.touched(elements)
        unsafe = [n for n in carried if (n not in sourced or n not in held) and n in touched]
        if unsafe:
            raise UsageError(f"stage {stage} reads node {unsafe[0]!r} of stage {produced[unsafe[0]]}, which is "
                             f"not an activity an ideal voltage source holds: one analysis per {per} would not "
                             "be exact (use a coarser cut or the unrolled circuit)")
        kept = _shared_elements(shared, used - set(carried), circuit.analysis.source, nodes_of)
        shared_k = tuple(Block(b.comment, tuple(e for e in b.elements if e.name in kept)) for b in shared)
        own = used - set(carried) - shared_nodes
        for e in elements:
            sourced.update(_sourced(e, nodes_of))
            if isinstance(e, Instance) and e.cell in activations:
                held.add(e.nodes[-1])
        produced.update((n, stage) for n in own)
        reach = used | {n for b in shared_k for e in b.elements for n in nodes_of(e)}
        cuts.append((blocks[0].cycle, tuple(b for b in shared_k if b.elements) + tuple(blocks), tuple(carried),
                     reach))
    # every saved node, and every node a later stage carries, is saved by the first stage computing it
    wanted = tuple(circuit.saves) + tuple(sorted({n for _, _, carried, _ in cuts for n in carried}
                                                 - set(circuit.saves)))
    plans, saved = [], set()
    for stage, (cycle, blocks, carried, reach) in enumerate(cuts):
        saves = tuple(n for n in wanted if n in reach and n not in carried and n not in saved)
        saved.update(saves)
        plans.append(StagePlan(stage, cycle, blocks, carried, saves))
    missing = sorted(set(circuit.saves) - saved)
    if missing:
        raise UsageError(f"saved node {missing[0]!r} belongs to no stage of the circuit")
    return tuple(plans)


def _shared_elements(shared, used: set[str], sweep_source: str, nodes_of) -> set[str]:
    """Names of the shared elements a cycle needs: the swept source and every element
    holding a node the cycle uses, and (again) whatever those read (the selector)."""
    elements = [e for b in shared for e in b.elements]
    kept = {e.name for e in elements if e.name == sweep_source}
    need = set(used)
    while True:
        more = {e.name for e in elements if e.name not in kept and nodes_of(e) & need}
        if not more:
            return kept
        kept |= more
        need |= {n for e in elements if e.name in more for n in nodes_of(e)}


def carried_block(plan: StagePlan, volts: Mapping[str, np.ndarray], control: str) -> Block | None:
    """Table sources ``Bk_<node>`` holding each carried node of ``plan`` at its read-back
    voltages: ``volts[node]`` of shape (batch,) in V, point b at ``v(control) = b``."""
    if not plan.carried:
        return None
    batch = len(volts[plan.carried[0]])
    xs = tuple(np.arange(max(batch, 2), dtype=float).tolist())
    sources = []
    for node in plan.carried:
        values = np.asarray(volts[node], dtype=float)
        if values.shape != (batch,):
            raise UsageError(f"carried voltages of node {node!r} must have shape ({batch},), got {values.shape}")
        ys = values if batch > 1 else np.repeat(values, 2)
        sources.append(TableSource(f"Bk_{node}", node, control, xs, tuple(ys.tolist())))
    return Block(f"stage {plan.stage} (cycle {plan.cycle}): activities of earlier stages, read back from their "
                 "analyses",
                 tuple(sources), cycle=plan.cycle)


def stage_circuit(circuit: Circuit, plan: StagePlan, volts: Mapping[str, np.ndarray]) -> Circuit:
    """The circuit of ``plan``'s stage alone; ``volts`` (node -> (batch,) V) holds every carried node.

    Same title, tolerances, analysis and node map as ``circuit``; it saves ``plan.saves``.
    """
    control = _selector_node(circuit)
    carried = carried_block(plan, volts, control)
    blocks = plan.blocks if carried is None else plan.blocks[:1] + (carried,) + plan.blocks[1:]
    description = circuit.description + (
        f"stage {plan.stage}: part of cycle {plan.cycle} of 0..{circuit.node_map.cycles} alone (one analysis per "
        f"stage); {len(plan.carried)} nodes of earlier stages as tables of their simulated voltages",)
    # only the crossbars this stage instantiates: ngspice parses every subcircuit definition, used or not
    # (at 784-20-784 the other layer's tiles are half of each stage's text; benchmarks/RESULTS.md)
    instanced = {e.cell for b in plan.blocks for e in b.elements if isinstance(e, Instance)}
    crossbars = tuple(c for c in circuit.crossbars if c.name in instanced)
    return replace(circuit, description=description, blocks=blocks, saves=plan.saves, crossbars=crossbars)


def _selector_node(circuit: Circuit) -> str:
    """The node the dc sweep's source drives (the tables' control)."""
    source = circuit.analysis.source
    for block in circuit.blocks:
        for e in block.elements:
            if e.name == source:
                return e.pos
    raise UsageError(f"the swept source {source!r} is not in the circuit")
