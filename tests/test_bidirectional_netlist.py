"""The bidirectional architecture (Appendix A): one crossbar read forwards by layer 1 and
backwards by layer 2, simulated in ngspice against the tied NumPy reference."""

import re

import numpy as np
import pytest

from recirc_analog.engines.readout import read_activity, read_held
from recirc_analog.errors import ConfigError
from recirc_analog.netlist_writers.api import get_writer
from recirc_analog.netlist_writers.examples import EXAMPLES
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation, run_cycles
from recirc_analog.reference.tied import tie_weights
from recirc_analog.schematic.builder import build_circuit, get_conductances, get_r_f
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, ideal_sample_hold

SIZES, ACTIVATIONS = (8, 5, 8), ("tanh", "logistic")


def tied_network(sizes=SIZES, activations=ACTIVATIONS, seed=21):
    """A Glorot network with tied weights (A^2 := (A^1)^T) and N(0, 0.3) biases, and its random stream."""
    rng = np.random.default_rng(seed)
    net = CircularAutoencoder.random(sizes, activations, seed=seed)
    net.biases = [rng.normal(0, 0.3, b.shape) for b in net.biases]
    return tie_weights(net), rng


def spec_for(mode="pr", form="dc", mapping="differential", tiles=(256, 128)):
    return CircuitSpec(recirculation=Recirculation(mode, lam=0.3), form=form, architecture="bidirectional",
                       sample_hold=ideal_sample_hold(),
                       crossbar=CrossbarConfig(mapping=mapping, tile_rows=tiles[0], tile_neurons=tiles[1]))


def assert_cycles_match(node_map, vectors, expected):
    for k, layers in enumerate(expected):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, rtol=1e-6, atol=1e-6,
                                       err_msg=f"O^{h}({k})")
    for h, value in enumerate(expected[0]):
        np.testing.assert_allclose(read_held(vectors, node_map, h), value, rtol=1e-6, atol=1e-6,
                                   err_msg=f"held O^{h}(0)")


@pytest.mark.parametrize("form", ["dc", "tran"])
@pytest.mark.parametrize("mode", ["pr", "ccrcc", "error"])
def test_forward_pass_and_recirculation_match_tied_reference(run_circuit, mode, form, tmp_path):
    net, rng = tied_network()
    x = rng.uniform(0, 1, size=(3, SIZES[0]))
    spec = spec_for(mode, form)
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    assert_cycles_match(node_map, vectors, run_cycles(net, x, spec.recirculation))


@pytest.mark.parametrize("form", ["dc", "tran"])
def test_shared_reference_mapping_and_tiny_tiles_match_reference(run_circuit, form, tmp_path):
    """Reference column (forward) and reference row (backward), tiles of 3 rows x 2 neurons."""
    net, rng = tied_network((7, 5, 7), ("relu", "tanh"), seed=22)
    x = rng.uniform(-1, 1, size=(2, 7))
    spec = spec_for("rwcc", form, "shared_reference", tiles=(3, 2))
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    assert_cycles_match(node_map, vectors, run_cycles(net, x, spec.recirculation))


def _subcircuit_devices(text: str) -> dict:
    """subcircuit name -> {device name: line} of every crossbar subcircuit in ``text``."""
    members, current = {}, None
    for line in text.lower().splitlines():
        if line.startswith(".subckt xbar"):
            current = line.split()[1]
            members[current] = {}
        elif line.startswith(".ends"):
            current = None
        elif current and line.startswith("r"):
            members[current][line.split()[0]] = line
    return members


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_layer_2_names_layer_1_devices_and_there_is_one_crossbar(mapping):
    net, rng = tied_network((7, 5, 7), ("tanh", "tanh"), seed=23)
    circuit = build_circuit(net, spec_for("pr", "dc", mapping, tiles=(3, 2)), rng.uniform(0, 1, size=(2, 7)))
    text = get_writer().get_netlist(circuit)
    members = _subcircuit_devices(text)
    assert all(name.startswith("xbar1") for name in members)       # no crossbar of layer 2's own
    devices = sum(len(m) for m in members.values())
    n0, n1 = 7, 5
    weights_and_biases = n1 * (n0 + 1) + n0
    if mapping == "differential":
        assert devices == 2 * weights_and_biases
    else:                                                              # + reference column and row
        assert devices == weights_and_biases + (n0 + 1) + (n1 + 1)
    instances = {line.split()[0]: line.split()[-1] for line in text.lower().splitlines()
                 if line.startswith("xxbar")}
    node_map = circuit.node_map
    assert node_map.copies == ("_c0", "_c0_t", "_c1", "_c1_t")
    kinds = ["plus", "minus"] if mapping == "differential" else ["plus", "reference"]
    for kind in kinds:
        first, second = node_map.device_sites(1, kind), node_map.device_sites(2, kind)
        if kind != "reference":
            np.testing.assert_array_equal(second[:, :, :n1], first[:, :, :n0].transpose(0, 2, 1))
        for name in np.concatenate([first.ravel(), second.ravel()]):
            instance, element = name.split(".")
            assert element in members[instances["x" + instance]], name


def test_changing_one_shared_device_changes_both_layers(ngspice, tmp_path):
    """Raise one device of pair (i, j) in the netlist text: A^1_ij and A^2_ji both move by
    r_f * dG, as the reference of the correspondingly changed tied network says."""
    net, rng = tied_network((6, 4, 6), ("tanh", "linear"), seed=24)
    x = rng.uniform(0, 1, size=(3, 6))
    spec = spec_for("pr", "dc")
    circuit = build_circuit(net, spec, x)
    text = get_writer().get_netlist(circuit)
    i, j, dg = 2, 3, 20e-6
    pattern = re.compile(rf"^(Rp_{i}_{j} \S+ \S+) (\S+)$", re.MULTILINE)
    (line,) = pattern.findall(text)
    text = pattern.sub(f"{line[0]} {1.0 / (1.0 / float(line[1]) + dg)!r}", text)
    r_f = get_r_f(net, spec)
    changed = net.copy()
    changed.weights[0][i, j] += r_f * dg
    changed.weights[1][j, i] += r_f * dg
    vectors = ngspice.simulate(text, tmp_path)
    expected = run_cycles(changed, x, spec.recirculation)
    for k in (0, 1):
        for h in (1, 2):
            np.testing.assert_allclose(read_activity(vectors, circuit.node_map, h, k), expected[k][h], atol=1e-7)
    assert np.abs(expected[0][2] - net.forward(x)[2]).max() > 1e-3   # the change is visible


def test_committed_bidirectional_example_computes_tied_reference(ngspice, tmp_path, netlists_dir):
    name = next(n for n, (_, _, _, spec) in EXAMPLES.items() if spec.architecture == "bidirectional")
    sizes, activations, batch, spec = EXAMPLES[name]
    target = tmp_path / f"{name}.cir"
    target.write_text((netlists_dir / target.name).read_text())
    vectors = ngspice.run_file(target)
    net = tie_weights(CircularAutoencoder.random(sizes, activations, seed=0))
    x = np.random.default_rng(1).uniform(0, 1, size=(batch, sizes[0]))
    node_map = build_circuit(net, spec, x).node_map
    expected = run_cycles(net, x, spec.recirculation)
    for k, layers in enumerate(expected):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, atol=1e-6, err_msg=f"O^{h}({k})")


def test_untied_network_is_refused(random_network):
    net, rng = random_network(SIZES, ACTIVATIONS, seed=25)
    x = rng.uniform(0, 1, size=(2, SIZES[0]))
    with pytest.raises(ConfigError, match=r"architecture 'bidirectional'.*A\^2 = \(A\^1\)\^T.*tie_weights"):
        build_circuit(net, spec_for(), x)
    almost = tie_weights(net)
    almost.weights[1][0, 0] += 1e-3
    with pytest.raises(ConfigError, match=r"max\|A\^2 - A\^1\^T\| = 0\.001"):
        build_circuit(almost, spec_for(), x)


def test_more_than_one_hidden_layer_is_refused():
    net = CircularAutoencoder.random((8, 4, 3, 4, 8), ("tanh",) * 4, seed=0)
    with pytest.raises(ConfigError, match=r"needs L = 2 .*got sizes 8-4-3-4-8 \(L = 4\)"):
        build_circuit(net, spec_for(), np.zeros((1, 8)))


def test_conductances_that_are_not_shared_are_refused():
    net, rng = tied_network()
    x = rng.uniform(0, 1, size=(2, SIZES[0]))
    conductances = get_conductances(net, spec_for())
    spec = CircuitSpec(architecture="bidirectional", crossbar=CrossbarConfig(r_f=get_r_f(net, spec_for())))
    build_circuit(net, spec, x, conductances=conductances)             # shared: accepted
    conductances[1].plus[0, 0] *= 1.01
    with pytest.raises(ConfigError, match="layer 2 must be layer 1's plus devices transposed"):
        build_circuit(net, spec, x, conductances=conductances)
