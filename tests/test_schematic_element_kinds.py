"""A new element kind is one class plus one writer method: it flows through the checks,
the writer and ngspice without touching the existing code."""

from dataclasses import dataclass

import numpy as np
import pytest

from recirc_analog.errors import NetlistError
from recirc_analog.netlist_writers.ngspice import NgspiceWriter
from recirc_analog.netlist_writers.writer import number
from recirc_analog.schematic.elements import (
    ELEMENT_KINDS,
    Block,
    Branch,
    Circuit,
    DcSweep,
    ElementBase,
    Resistor,
    VoltageSource,
    register_element,
)
from recirc_analog.schematic.graph import circuit_graph, validate
from recirc_analog.schematic.names import check_name
from recirc_analog.schematic.node_map import NodeMap


@dataclass(frozen=True)
class WireSegment(ElementBase):
    """A piece of metal line: ``length`` (m) of ``ohms_per_meter`` (ohm/m) between ``a`` and ``b``."""

    name: str
    a: str
    b: str
    length: float
    ohms_per_meter: float

    kind = "test_wire_segment"

    def branches(self, cells):
        return (Branch(self.a, self.b, "resistor"),)

    def parameters(self):
        return ((f"length of {self.name}", self.length), (f"ohms_per_meter of {self.name}", self.ohms_per_meter))


class WireWriter(NgspiceWriter):
    """The ngspice writer plus the one method the new kind needs."""

    element_formatters = {**NgspiceWriter.element_formatters, "test_wire_segment": "format_wire_segment"}

    def format_wire_segment(self, e: WireSegment) -> str:
        return f"{check_name(e.name)} {check_name(e.a)} {check_name(e.b)} {number(e.length * e.ohms_per_meter)}"


@pytest.fixture(scope="module", autouse=True)
def registered():
    register_element(WireSegment)
    yield
    del ELEMENT_KINDS[WireSegment.kind]


def _divider(*elements) -> Circuit:
    """V1 = 1 V at ``a``; the extra elements; R2 = 1 kohm from ``b`` to ground."""
    blocks = (Block("divider", (VoltageSource("V1", "a", "0", 0.0),) + elements + (Resistor("R2", "b", "0", 1e3),)),)
    return Circuit(title="wire segment divider", description=(), cells=(), crossbars=(), blocks=blocks,
                   analysis=DcSweep("V1", 0.0, 2.0, 1.0), reltol=1e-9, vntol=1e-12, saves=("b",),
                   node_map=NodeMap(form="dc", sizes=(1, 1, 1), cycles=1, batch=1, v_unit=1.0,
                                    device_prefixes={}, activity_nodes={}, held_nodes={}, copies=(),
                                    tile_shape=(1, 1)))


def test_new_kind_flows_through_checks_writer_and_ngspice(ngspice, tmp_path):
    wire = WireSegment("Rw1", "a", "b", length=2e-3, ohms_per_meter=1.5e6)   # 3 kohm
    circuit = _divider(wire)
    graph = validate(circuit)
    assert sorted((a, b, d["kind"]) for a, b, d in graph.edges(data=True) if d["element"] == "Rw1") in (
        [("a", "b", "resistor")], [("b", "a", "resistor")])
    text = WireWriter().get_netlist(circuit)
    assert "Rw1 a b 3000.0\n" in text
    vectors = ngspice.simulate(text, tmp_path)
    sweep = vectors["v(v-sweep)"]
    np.testing.assert_allclose(sweep, [0.0, 1.0, 2.0])
    np.testing.assert_allclose(vectors["v(b)"], sweep * 1e3 / (1e3 + 3e3), rtol=1e-9, atol=1e-12)   # divider


def test_new_kind_takes_part_in_the_graph_checks():
    dangling = WireSegment("Rw2", "b", "stub", 1e-3, 1e6)
    with pytest.raises(NetlistError, match="node stub is floating"):
        validate(_divider(WireSegment("Rw1", "a", "b", 1e-3, 1e6), dangling))
    with pytest.raises(NetlistError, match="length of Rw1 must be finite"):
        validate(_divider(WireSegment("Rw1", "a", "b", float("inf"), 1e6)))


def test_unregistered_kind_and_missing_formatter_are_clear_errors():
    @dataclass(frozen=True)
    class Stray(ElementBase):
        name: str
        kind = "test_stray"

        def branches(self, cells):
            return ()

    with pytest.raises(NetlistError, match="unregistered kind Stray"):
        validate(_divider(Resistor("R1", "a", "b", 1e3), Stray("Z1")))
    with pytest.raises(NetlistError, match="no formatter for element kind 'test_wire_segment'"):
        NgspiceWriter().format_element(WireSegment("Rw1", "a", "b", 1e-3, 1e6))
    with pytest.raises(NetlistError, match="already registered"):
        register_element(type("Other", (Resistor,), {}))


def test_graph_has_one_edge_per_declared_branch():
    circuit = _divider(WireSegment("Rw1", "a", "b", 1e-3, 1e6))
    graph = circuit_graph(circuit)
    edges = sorted((min(a, b), max(a, b), d["kind"], d["element"]) for a, b, d in graph.edges(data=True))
    assert edges == [("0", "a", "source", "V1"), ("0", "b", "resistor", "R2"), ("a", "b", "resistor", "Rw1")]
