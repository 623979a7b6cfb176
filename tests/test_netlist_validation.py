"""Graph checks and injection safety: bad circuits and hostile text never reach ngspice."""

import dataclasses

import numpy as np
import pytest

from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.spec import CircuitSpec
from recirc_analog.schematic.graph import validate
from recirc_analog.schematic.elements import Block, Capacitor, Instance, Resistor, VoltageSource
from recirc_analog.errors import ConfigError, NetlistError
from recirc_analog.netlist_writers.api import generate_netlist
from recirc_analog.reference.network import CircularAutoencoder
from test_netlist_sim import simulate


@pytest.fixture
def small():
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "tanh"), seed=2)
    x = np.random.default_rng(2).uniform(-1, 1, size=(2, 6))
    return net, x


def _with_block(circuit, *elements):
    return dataclasses.replace(circuit, blocks=circuit.blocks + (Block("extra", tuple(elements)),))


def test_valid_circuit_passes(small):
    graph = validate(build_circuit(small[0], CircuitSpec(), small[1]))
    assert graph.number_of_nodes() > 0


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


def test_injected_title_cannot_start_a_control_section(small, tmp_path):
    title = "net\n.control\nshell touch INJECTED\n.endc\n* $ {x} \\ .include /etc/passwd"
    text = generate_netlist(small[0], CircuitSpec(title=title), small[1])
    lines = text.splitlines()
    assert not any(line.lower().startswith((".control", ".include", "shell", ".endc")) for line in lines)
    assert lines[0][0].isalnum() and "$" not in lines[0] and "{" not in lines[0]
    simulate(text, tmp_path)
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
