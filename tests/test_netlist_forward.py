"""Forward pass (cycle 0) in ngspice against the NumPy reference, both forms."""

import numpy as np
import pytest

from recirc_analog.engines.readout import read_activity
from recirc_analog.netlist_writers.api import generate_netlist, get_writer
from recirc_analog.schematic.builder import build_circuit, get_mapping
from recirc_analog.schematic.crossbar import opamp_gain_error
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig, ideal_sample_hold


@pytest.mark.parametrize("form", ["dc", "tran"])
@pytest.mark.parametrize("sizes, activations", [
    ((64, 16, 64), ("tanh", "tanh")),
    ((12, 8, 4, 8, 12), ("relu", "logistic", "linear", "tanh")),
])
def test_forward_pass_matches_reference(random_network, run_circuit, form, sizes, activations, tmp_path):
    net, rng = random_network(sizes, activations, seed=3)
    x = rng.uniform(-1, 1, size=(4, sizes[0]))
    spec = CircuitSpec(form=form, sample_hold=ideal_sample_hold())
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    for h, expected in enumerate(net.forward(x)):
        got = read_activity(vectors, node_map, h, 0)
        np.testing.assert_allclose(got, expected, rtol=1e-6, atol=1e-6 * np.abs(expected).max(),
                                   err_msg=f"layer {h}")


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_opamp_neuron_within_the_documented_bound(random_network, run_circuit, mapping, tmp_path):
    net, rng = random_network((16, 6, 16), ("tanh", "linear"), seed=5)
    x = rng.uniform(-1, 1, size=(3, 16))
    gain = 1e4
    spec = CircuitSpec(neuron=NeuronConfig(kind="opamp", gain=gain), crossbar=CrossbarConfig(mapping=mapping))
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    exact = net.forward(x)[1]
    got = read_activity(vectors, node_map, 1, 0)
    # Bound of opamp_gain_error for layer 1 (its input, the data, is exact).
    mapping_ = get_mapping(net, spec)
    cond = mapping_.to_conductances(net.weights[0], net.biases[0])
    volts = spec.v_unit * np.concatenate([np.abs(x), np.ones((3, 1))], axis=1)
    minus = cond.minus if cond.minus is not None else np.broadcast_to(cond.reference, cond.plus.shape)
    t_plus, t_minus = mapping_.r_f * volts @ cond.plus.T, mapping_.r_f * volts @ minus.T
    g_col = max(cond.plus.sum(axis=1).max(), minus.sum(axis=1).max())
    bound = opamp_gain_error(g_col, mapping_.r_f, gain) * (t_plus + t_minus) / spec.v_unit
    error = np.abs(got - exact)
    assert np.all(error <= bound)
    assert error.max() > 1e-3 * bound.max()      # the finite gain is visible, the bound is not vacuous


def test_netlist_is_deterministic(random_network):
    net, rng = random_network((8, 4, 8), ("tanh", "tanh"), seed=1)
    x = rng.uniform(-1, 1, size=(2, 8))
    for form in ("dc", "tran"):
        spec = CircuitSpec(form=form)
        assert generate_netlist(net, spec, x) == generate_netlist(net.copy(), spec, x.copy())


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_tiled_crossbars_and_device_sites(random_network, ngspice, mapping, tmp_path):
    """Tiny tiles (3 rows x 2 neurons) compute the same cycles; every device site the
    node map gives exists in the netlist, in the tile instance it names."""
    net, rng = random_network((7, 5, 7), ("tanh", "relu"), seed=8)
    x = rng.uniform(-1, 1, size=(2, 7))
    spec = CircuitSpec(crossbar=CrossbarConfig(mapping=mapping, tile_rows=3, tile_neurons=2))
    circuit = build_circuit(net, spec, x)
    text = get_writer().get_netlist(circuit)
    vectors = ngspice.simulate(text, tmp_path)
    for h, expected in enumerate(net.forward(x)):
        np.testing.assert_allclose(read_activity(vectors, circuit.node_map, h, 0), expected, atol=1e-7)
    members = {}                                       # instance -> element names of its subcircuit
    subckt = None
    for line in text.lower().splitlines():
        if line.startswith(".subckt xbar"):
            subckt = line.split()[1]
            members[subckt] = set()
        elif line.startswith(".ends"):
            subckt = None
        elif subckt and line.startswith("r"):
            members[subckt].add(line.split()[0])
    instances = {line.split()[0]: line.split()[-1] for line in text.lower().splitlines() if line.startswith("xxbar")}
    kinds = ["plus", "minus"] if mapping == "differential" else ["plus", "reference"]
    for h in (1, 2):
        for kind in kinds:
            names = circuit.node_map.device_sites(h, kind)
            assert names.shape[0] == 2                 # dc form: cycles 0 and 1
            for name in names.ravel():
                instance, element = name.split(".")
                assert element in members[instances["x" + instance]], name
