"""Graph checks and injection safety: bad circuits and hostile text never reach ngspice."""

import dataclasses

import numpy as np
import pytest

from recirc_analog.errors import ConfigError, NetlistError
from recirc_analog.netlist_writers.api import generate_netlist
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Block, Capacitor, Instance, Resistor, VoltageSource
from recirc_analog.schematic.graph import validate
from recirc_analog.schematic.spec import CircuitSpec


@pytest.fixture
def small():
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "tanh"), seed=2)
    x = np.random.default_rng(2).uniform(-1, 1, size=(2, 6))
    return net, x


def _with_block(circuit, *elements):
    return dataclasses.replace(circuit, blocks=circuit.blocks + (Block("extra", tuple(elements)),))


def _edges(graph, kind=None):
    return sorted((min(a, b), max(a, b), d["kind"], d["element"]) for a, b, d in graph.edges(data=True)
                  if kind in (None, d["kind"]))


def test_graph_of_a_small_known_circuit():
    """A 2-1-2 network, pr, cycles 0 and 1, dc form: every edge and sensed node written out by hand."""
    net = CircularAutoencoder.random((2, 1, 2), ("tanh", "tanh"), seed=2)
    graph = validate(build_circuit(net, CircuitSpec(), np.zeros((2, 2))))
    sizes, inputs = (2, 1, 2), {(1, 0): ["in_0", "in_1"], (1, 1): ["o2_c0_0", "o2_c0_1"],
                                (2, 0): ["o1_c0_0"], (2, 1): ["o1_c1_0"]}
    sources = [("0", "sel", "source", "Vsel"), ("0", "vb", "source", "Vvb"),
               ("0", "in_0", "source", "Bin_0"), ("0", "in_1", "source", "Bin_1")]
    sensed = {("sel", "Bin_0"), ("sel", "Bin_1")}
    for k in (0, 1):
        for h in (1, 2):
            hub = f"Xxbar{h}_0_0_c{k}.mesh"
            ports = inputs[(h, k)] + ["vb"] + [f"c{pm}{h}_c{k}_{i}" for pm in "pn" for i in range(sizes[h])]
            assert set(graph.neighbors(hub)) == set(ports)   # the hub joins every port of the tile, nothing else
            assert all(d["kind"] == "resistor" for _, _, d in graph.edges(hub, data=True))
            for i in range(sizes[h]):
                stage, act = f"Xts{h}_c{k}_{i}", f"Xao{h}_c{k}_{i}"
                sources += [("0", f"cp{h}_c{k}_{i}", "source", stage), ("0", f"cn{h}_c{k}_{i}", "source", stage),
                            ("0", f"s{h}_c{k}_{i}", "source", stage), ("0", f"o{h}_c{k}_{i}", "source", act)]
                sensed.add((f"s{h}_c{k}_{i}", act))
    assert _edges(graph, "source") == sorted(sources)
    assert len(_edges(graph, "resistor")) == 2 * (5 + 6) and not _edges(graph, "capacitor")
    assert graph.graph["sensed"] == sensed


def test_graph_of_the_sample_and_hold(small):
    """Tran form: each hold capacitor node has its switch (a resistive path from the tracked
    activity) and its capacitor to ground, and the buffer drives the held node."""
    net, x = small
    graph = validate(build_circuit(net, CircuitSpec(form="tran"), x))
    for h, size in enumerate(net.sizes):
        for i in range(size):
            cap, element = f"hc{h}_{i}", f"Xh{h}_{i}"
            assert [e for e in _edges(graph) if e[3] == element] == sorted(
                [("0", cap, "capacitor", element), (cap, f"o{h}_{i}", "resistor", element),
                 ("0", f"hd{h}_{i}", "source", element)])
            assert [e for e in _edges(graph) if cap in e[:2]] == sorted(   # nothing else touches the capacitor
                [("0", cap, "capacitor", element), (cap, f"o{h}_{i}", "resistor", element)])
            assert ("ph0", element) in graph.graph["sensed"]


def test_floating_node_is_rejected_by_name(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    with pytest.raises(NetlistError, match="node dangling is floating"):
        validate(_with_block(circuit, Resistor("Rx", "o1_c0_0", "dangling", 1e3)))


def test_node_without_dc_path_is_rejected(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    bad = _with_block(circuit, Capacitor("C1", "o1_c0_0", "island", 1e-12), Capacitor("C2", "island", "0", 1e-12))
    with pytest.raises(NetlistError, match="node island has no DC path to ground"):
        validate(bad)


def test_voltage_source_loop_is_rejected(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    with pytest.raises(NetlistError, match="voltage sources form a loop"):
        validate(_with_block(circuit, VoltageSource("Vloop", "vb", "0", 0.1)))


def test_sensed_node_must_exist(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    bad = _with_block(circuit, Instance("Xm", "mixer", ("nowhere", "vb", "one_", "out_"), (("lam", 0.5),)),
                      Resistor("Rload", "out_", "0", 1e3), Resistor("Rload2", "one_", "0", 1e3))
    with pytest.raises(NetlistError, match="node nowhere is read by Xm"):
        validate(bad)


@pytest.mark.parametrize("name", ["R1\n.control", "a b", "x.y", "R$", "", "n{1}"])
def test_illegal_names_are_rejected(small, name):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    with pytest.raises(NetlistError, match="illegal"):
        validate(_with_block(circuit, Resistor("Rok", "o1_c0_0", "0", 1e3), Resistor(name, "o1_c0_0", "0", 1e3)))


def test_injected_title_cannot_start_a_control_section(ngspice, small, tmp_path):
    title = "net\n.control\nshell touch INJECTED\n.endc\n* $ {x} \\ .include /etc/passwd"
    text = generate_netlist(small[0], CircuitSpec(title=title), small[1])
    lines = text.splitlines()
    assert not any(line.lower().startswith((".control", ".include", "shell", ".endc")) for line in lines)
    assert lines[0][0].isalnum() and "$" not in lines[0] and "{" not in lines[0]
    ngspice.simulate(text, tmp_path)
    assert not (tmp_path / "INJECTED").exists()


def test_parameter_values_must_be_finite_numbers(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    bad = _with_block(circuit, Instance("Xm2", "mixer", ("vb", "vb_", "one", "m_"), (("lam", float("nan")),)),
                      Resistor("Rv", "vb_", "0", 1e3))
    with pytest.raises(NetlistError, match="parameter lam of Xm2 must be finite"):
        validate(bad)


def test_bad_inputs_are_config_errors(small):
    net, x = small
    with pytest.raises(ConfigError, match=r"x must have shape \(batch, 6\)"):
        build_circuit(net, CircuitSpec(), x[:, :5])
    with pytest.raises(ConfigError, match="contains NaN"):
        build_circuit(net, CircuitSpec(), np.full((1, 6), np.nan))
    with pytest.raises(ConfigError, match="inputs must be an array of numbers"):
        build_circuit(net, CircuitSpec(), [["a"] * 6])


def test_xyce_dialect_changes_only_syntax(small):
    ngspice = generate_netlist(small[0], CircuitSpec(form="tran"), small[1])
    xyce = generate_netlist(small[0], CircuitSpec(form="tran"), small[1], dialect="xyce")
    assert "V={table(v(smp), 0.0," in xyce and "V = pwl(v(smp), 0.0," in ngspice
    assert " PARAMS: rf=" in xyce and ".print tran format=raw v(hd0_0)" in xyce
    strip = [line for line in ngspice.splitlines() if line.startswith(("R", "Xxbar"))]
    assert strip and all(line in xyce.splitlines() for line in strip)   # devices and tiles identical


def test_parameter_names_are_checked(small):
    circuit = build_circuit(small[0], CircuitSpec(), small[1])
    bad = _with_block(circuit, Instance("Xm2", "mixer", ("vb", "vb_", "one", "m_"), (("lam\n.control", 0.5),)),
                      Resistor("Rv", "vb_", "0", 1e3))
    with pytest.raises(NetlistError, match="illegal parameter name of Xm2"):
        validate(bad)
