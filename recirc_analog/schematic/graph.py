"""Connectivity checks on a Circuit before anything is written.

:func:`circuit_graph` builds a networkx ``MultiGraph`` whose nodes are circuit
nodes and whose edges are element branches, each with ``kind`` ``source``
(ideal voltage source), ``resistor`` or ``capacitor``. A crossbar instance
contributes one hub node (every row is joined to every column by a device of
finite resistance, so a star is equivalent for connectivity). Behavioural
sources drive their output node against ground; the nodes they only read are
listed in the graph attribute ``sensed``.

:func:`validate` raises NetlistError naming the node or element when a name is
illegal, a node is floating (touched by a single terminal and not driven), a
node has no DC path to ground, or ideal voltage sources form a loop.
"""

import networkx as nx

from recirc_analog.schematic.cells import CELLS
from recirc_analog.schematic.elements import (Capacitor, Circuit, Instance, PhaseClock, Resistor, SampleCounter,
                                         TableSource, VoltageSource)
from recirc_analog.errors import NetlistError
from recirc_analog.schematic.names import check_name, check_number

GROUND = "0"


def _add_instance(graph: nx.MultiGraph, inst: Instance, crossbars: dict) -> None:
    if len(set(inst.nodes)) != len(inst.nodes):
        raise NetlistError(f"instance {inst.name} connects two of its ports to the same node")
    if inst.cell in crossbars:
        hub = f"{inst.name}.mesh"
        for node in inst.nodes:
            graph.add_edge(node, hub, kind="resistor", element=inst.name)
        return
    cell = CELLS.get(inst.cell)
    if cell is None:
        raise NetlistError(f"instance {inst.name} uses unknown cell {inst.cell!r}")
    if len(inst.nodes) != len(cell.ports):
        raise NetlistError(f"instance {inst.name} of {cell.name} needs {len(cell.ports)} nodes, got {len(inst.nodes)}")
    port = dict(zip(cell.ports, inst.nodes), **{GROUND: GROUND})
    for a, b in cell.sources:
        graph.add_edge(port[a], port[b], kind="source", element=inst.name)
    for a, b in cell.resistors:
        graph.add_edge(port[a], port[b], kind="resistor", element=inst.name)
    for a in cell.capacitors:
        graph.add_edge(port[a], GROUND, kind="capacitor", element=inst.name)
    wired = {p for pair in cell.sources + cell.resistors for p in pair} | set(cell.capacitors)
    graph.graph["sensed"].update((port[p], inst.name) for p in cell.ports if p not in wired)


def circuit_graph(circuit: Circuit) -> nx.MultiGraph:
    """The connectivity graph of ``circuit`` (see the module docstring)."""
    graph = nx.MultiGraph(sensed=set())
    graph.add_node(GROUND)
    crossbars = {c.name: c for c in circuit.crossbars}
    for block in circuit.blocks:
        for e in block.elements:
            if isinstance(e, (Resistor, Capacitor)):
                graph.add_edge(e.a, e.b, kind="resistor" if isinstance(e, Resistor) else "capacitor", element=e.name)
            elif isinstance(e, VoltageSource):
                graph.add_edge(e.pos, e.neg, kind="source", element=e.name)
            elif isinstance(e, (TableSource, PhaseClock, SampleCounter)):
                graph.add_edge(e.pos, GROUND, kind="source", element=e.name)
                if isinstance(e, TableSource):
                    graph.graph["sensed"].add((e.control, e.name))
            else:
                _add_instance(graph, e, crossbars)
    return graph


def _check_names(circuit: Circuit) -> None:
    names = set()
    for block in circuit.blocks:
        for e in block.elements:
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
    for block in circuit.blocks:
        for e in block.elements:
            if isinstance(e, Instance):
                for key, value in e.params:
                    check_name(key, f"parameter name of {e.name}")
                    check_number(value, f"parameter {key} of {e.name}")
            elif isinstance(e, TableSource):
                for value in e.xs + e.ys:
                    check_number(value, f"table value of {e.name}")


def validate(circuit: Circuit) -> nx.MultiGraph:
    """Run every check; return the graph. Raises NetlistError naming the culprit."""
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
