"""Connectivity checks on a Circuit before anything is written.

:func:`circuit_graph` builds a networkx ``MultiGraph`` whose nodes are circuit
nodes and whose edges are element branches, each with ``kind`` ``source``
(ideal voltage source), ``resistor`` or ``capacitor``. A crossbar instance
contributes one hub node (every row is joined to every column by a device of
finite resistance, so a star is equivalent for connectivity). Behavioural
sources drive their output node against ground; the nodes they only read are
listed in the graph attribute ``sensed``. Each element declares its own branches
and sensed nodes (:mod:`recirc_analog.schematic.elements`), so a new element kind
needs no change here.

:func:`validate` raises NetlistError naming the node or element when a name is
illegal, a node is floating (touched by a single terminal and not driven), a
node has no DC path to ground, or ideal voltage sources form a loop.
"""

import networkx as nx

from recirc_analog.errors import NetlistError
from recirc_analog.schematic.cells import CELLS
from recirc_analog.schematic.elements import ELEMENT_KINDS, GROUND, Circuit
from recirc_analog.schematic.names import check_name, check_number


def _all_elements(circuit: Circuit):
    for block in circuit.blocks:
        yield from block.elements


def available_cells(circuit: Circuit) -> dict:
    """Every cell an instance in ``circuit`` may use: the hand-written cells and the crossbar tiles."""
    return {**CELLS, **{crossbar.name: crossbar.cell for crossbar in circuit.crossbars}}


def circuit_graph(circuit: Circuit) -> nx.MultiGraph:
    """The connectivity graph of ``circuit`` (see the module docstring): an edge per
    :class:`~recirc_analog.schematic.elements.Branch` each element declares."""
    graph = nx.MultiGraph(sensed=set())
    graph.add_node(GROUND)
    cells = available_cells(circuit)
    for e in _all_elements(circuit):
        for branch in e.branches(cells):
            graph.add_edge(branch.a, branch.b, kind=branch.kind, element=e.name)
        graph.graph["sensed"].update((node, e.name) for node in e.sensed(cells))
    return graph


def _check_kinds(circuit: Circuit) -> None:
    for e in _all_elements(circuit):
        if ELEMENT_KINDS.get(getattr(type(e), "kind", None)) is not type(e):
            raise NetlistError(f"element {getattr(e, 'name', e)!r} is of unregistered kind {type(e).__name__}: "
                               f"register its class with register_element (registered: {', '.join(ELEMENT_KINDS)})")


def _check_names(circuit: Circuit) -> None:
    names = set()
    for e in _all_elements(circuit):
        check_name(e.name, "element name")
        if e.name.lower() in names:
            raise NetlistError(f"element name {e.name} is used twice")
        names.add(e.name.lower())
    for crossbar in circuit.crossbars:
        check_name(crossbar.name, "subcircuit name")
        for port in crossbar.ports:
            check_name(port, "port name")
        for array in (crossbar.conductances.plus, crossbar.conductances.minus, crossbar.conductances.reference):
            if array is not None and not (array > 0).all():
                raise NetlistError(f"crossbar {crossbar.name} has a conductance <= 0 or NaN")
    for node in circuit.saves:
        check_name(node, "saved node")


def _check_parameters(circuit: Circuit) -> None:
    for e in _all_elements(circuit):
        for key in e.keywords():
            check_name(key, f"parameter name of {e.name}")
        for label, value in e.parameters():
            check_number(value, label)


def validate(circuit: Circuit) -> nx.MultiGraph:
    """Run every check; return the graph. Raises NetlistError naming the culprit."""
    _check_kinds(circuit)
    _check_names(circuit)
    _check_parameters(circuit)
    graph = circuit_graph(circuit)
    for node in graph.nodes:
        if node != GROUND and not node.endswith(".mesh"):
            check_name(node, "node name")
    driven = {n for a, b, kind in graph.edges(data="kind") if kind == "source" for n in (a, b)}
    for node, element in sorted(graph.graph["sensed"]):
        if node not in graph:
            raise NetlistError(f"node {node} is read by {element} but connected to nothing (floating)")
    for node in sorted(graph.nodes):
        if node != GROUND and graph.degree(node) < 2 and node not in driven:
            raise NetlistError(f"node {node} is floating: only one terminal ({_elements(graph, node)}) touches it")
    dc = nx.Graph((a, b) for a, b, kind in graph.edges(data="kind") if kind != "capacitor")
    dc.add_nodes_from(graph.nodes)
    grounded = nx.node_connected_component(dc, GROUND)
    for node in sorted(set(graph.nodes) - grounded):
        raise NetlistError(f"node {node} has no DC path to ground (via {_elements(graph, node)})")
    _check_source_loops(graph)
    for node in circuit.saves:
        if node not in graph:
            raise NetlistError(f"saved node {node} does not exist in the circuit")
    return graph


def _elements(graph, node) -> str:
    return ", ".join(sorted({d["element"] for _, _, d in graph.edges(node, data=True)}))


def _check_source_loops(graph) -> None:
    """Ideal voltage sources (including ammeters) must not form a loop."""
    forest = nx.utils.UnionFind()
    for a, b, data in graph.edges(data=True):
        if data["kind"] != "source":
            continue
        if a == b or forest[a] == forest[b]:
            raise NetlistError(f"voltage sources form a loop through node {a} (closed by {data['element']})")
        forest.union(a, b)
