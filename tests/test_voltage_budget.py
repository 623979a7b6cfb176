"""The voltage budget: layer 0 scaled into the read range (the function unchanged, checked by
ngspice against the reference), and the row / op-amp swing checks against closed forms."""

import numpy as np
import pytest

from recirc_analog.data.lowrank import LowrankDataset
from recirc_analog.engines.readout import read_activity, read_held
from recirc_analog.netlist_writers import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation, run_cycles
from recirc_analog.schematic.builder import build_circuit, get_conductances, get_r_f
from recirc_analog.schematic.elements import Instance, TableSource, VoltageSource
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig, ideal_sample_hold
from recirc_analog.schematic.voltage_budget import (
    MAX_SHIFT,
    SWING_MARGIN,
    BudgetError,
    input_scale,
    layer_scales,
    plan,
    stage_peaks,
)


def _lowrank(dim=16, batch=3):
    """A Lowrank batch (rows at 2-3 V at v_unit 0.2) and a 16-4-16 tanh/linear network."""
    x = LowrankDataset(dim=dim, rank=4, seed=1, n_test=batch).test
    net = CircularAutoencoder.random((dim, 4, dim), ("tanh", "linear"), seed=3)
    return net, x


def _elements(circuit):
    return [e for block in circuit.blocks for e in block.elements]


def test_input_scale_is_the_largest_fitting_power_of_two():
    assert input_scale(1.0, 0.2, 0.2) == 1.0
    assert input_scale(1.5, 0.2, 0.2) == 0.5
    assert input_scale(2.0, 0.2, 0.2) == 0.5
    assert input_scale(2.0000001, 0.2, 0.2) == 0.25
    assert input_scale(26.0, 0.2, 0.2) == 2.0 ** -5           # 5.2 V -> 0.1625 V
    assert input_scale(1e9, 0.2, 0.2) == 2.0 ** -MAX_SHIFT              # no more: the row check reports it
    assert layer_scales(0.2, (0.25, 1.0)) == (0.05, 0.2, 0.05)


def test_lowrank_rows_are_scaled_into_the_budget_and_gains_compensate():
    net, x = _lowrank()
    circuit = build_circuit(net, CircuitSpec(), x)
    tables = [e for e in _elements(circuit) if isinstance(e, TableSource)]
    largest = max(abs(v) for t in tables for v in t.ys)
    assert 0.1 < largest <= 0.2                                 # a power of two: within a factor 2 of the budget
    scale = circuit.node_map.scales[0] / 0.2
    np.testing.assert_allclose(largest, 0.2 * scale * np.abs(x).max(), rtol=1e-15)
    assert circuit.node_map.scales == (0.2 * scale, 0.2, 0.2 * scale)
    bias = {e.pos: e.volts for e in _elements(circuit) if isinstance(e, VoltageSource)}
    assert bias["vs1"] == 0.2 * scale and bias["vb"] == 0.2 and "vs2" not in bias
    r_f = {e.name: dict(e.params)["rf"] for e in _elements(circuit) if isinstance(e, Instance)
           and e.cell == "tia_pair"}
    unscaled = build_circuit(net, CircuitSpec(read_voltage=None), x)
    r_f0 = {e.name: dict(e.params)["rf"] for e in _elements(unscaled) if isinstance(e, Instance)
            and e.cell == "tia_pair"}
    assert r_f["Xts1_c0_0"] == r_f0["Xts1_c0_0"] / scale and r_f["Xts2_c0_0"] == r_f0["Xts2_c0_0"] * scale
    assert any("voltage budget" in line for line in circuit.description)


def test_data_inside_the_budget_gives_the_same_netlist_as_no_budget():
    net = CircularAutoencoder.random((8, 3, 8), ("tanh", "logistic"), seed=2)
    x = np.random.default_rng(0).uniform(0, 1, (4, 8))           # MNIST-like: 0.2 V at most
    for form in ("dc", "tran"):
        text = get_writer().get_netlist(build_circuit(net, CircuitSpec(form=form), x))
        assert text == get_writer().get_netlist(build_circuit(net, CircuitSpec(form=form, read_voltage=None), x))


@pytest.mark.parametrize("form,mode", [("dc", "pr"), ("dc", "ccrcc"), ("dc", "error"), ("tran", "pr"),
                                       ("tran", "rcc")])
def test_scaled_circuit_matches_the_reference(run_circuit, form, mode, tmp_path):
    """ngspice on the scaled circuit against the reference's cycles: the same function."""
    net, x = _lowrank()
    recirculation = Recirculation(mode, lam=0.3)
    spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold())
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    assert node_map.scales[0] < 0.2
    expected = run_cycles(net, x, recirculation)
    for k, layers in enumerate(expected):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, rtol=1e-6, atol=1e-6,
                                       err_msg=f"O^{h}({k})")
    for h, value in enumerate(expected[0]):
        np.testing.assert_allclose(read_held(vectors, node_map, h), value, rtol=1e-6, atol=1e-6)
    # the simulated rows are inside the budget (tran form: from the first sample on; in the lead-in
    # ngspice's pwl extrapolates the data table below sample 0, see voltage_budget's docstring)
    start = 0 if form == "dc" else np.searchsorted(vectors["time"], node_map.phase_bounds()[0][0, 0])
    volts = np.max([np.abs(vectors[f"v({n})"][start:]).max() for n in node_map.activity(0, 0)])
    assert volts <= spec.read_voltage


def test_opamp_scaled_circuit_matches_the_reference(run_circuit, tmp_path):
    net, x = _lowrank()
    spec = CircuitSpec(neuron=NeuronConfig(kind="opamp", gain=1e9))
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    expected = net.forward(x)
    for h in range(3):
        np.testing.assert_allclose(read_activity(vectors, node_map, h, 0), expected[h], rtol=1e-5, atol=1e-5)


def _linear(first):
    """2-1-2 linear network: hidden = first * (x0 + x1), output = (hidden, hidden / 2)."""
    return CircularAutoencoder((2, 1, 2), ("linear", "linear"), [np.array([[first, first]]), np.array([[1.0], [0.5]])],
                               [np.zeros(1), np.zeros(2)])


def test_a_hidden_layer_over_the_budget_is_scaled_too(run_circuit, tmp_path):
    """Hidden activity 2 (0.4 V at v_unit) at cycle 0, 3 at cycle 1: layer 1 runs at v_unit / 4; so do
    layers 0 and 2, whose cycle-1 activity (the recirculated output) reaches 3 too."""
    net, x = _linear(1.0), np.array([[1.0, 1.0]])
    spec = CircuitSpec(sample_hold=ideal_sample_hold())
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    assert node_map.scales == (0.2 / 4, 0.2 / 4, 0.2 / 4)
    for k, layers in enumerate(run_cycles(net, x, spec.recirculation)):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, rtol=1e-6, atol=1e-6)


def test_a_row_beyond_the_smallest_scale_names_the_node_value_and_budget():
    """Output 1e4 (2 kV at v_unit), recirculated into layer 1 at cycle 1 (dc form: read from node o2_c0_0),
    needs more than MAX_SHIFT halvings: 2000 V / 1024."""
    net = _linear(5e3)
    with pytest.raises(BudgetError, match=r"row 0 of layer 1's crossbar \(node o2_c0_0\) reaches 1\.953 V at sample 0, "
                                          r"cycle 1, outside the read budget \+-0\.2 V \(read_voltage\) even at the "
                                          r"smallest scale, v_unit / 1024"):
        build_circuit(net, CircuitSpec(), np.array([[1.0, 1.0]]))


def test_bias_row_beyond_the_smallest_scale():
    net = CircularAutoencoder.random((2, 1, 2), ("tanh", "tanh"), seed=0)
    with pytest.raises(BudgetError, match=r"bias row of layer 1's crossbar \(node vs1\) is at 0\.0001953 V, outside "
                                          r"the read budget \+-0\.0001 V"):
        build_circuit(net, CircuitSpec(read_voltage=1e-4), np.zeros((1, 2)))


def test_opamp_stages_are_planned_inside_their_swing(ngspice, tmp_path):
    """One column: output -r_f' * (G_w V + G_b V_b). At v_unit it would pass the macromodel's 0.5 V swing; the
    plan halves the layer's scale until the closed form is within 80 % of it, ngspice's stage node shows that
    voltage, and the circuit still computes the reference's function."""
    w = np.array([[1.0]])
    net = CircularAutoencoder((1, 1, 1), ("linear", "linear"), [w, w], [np.zeros(1), np.zeros(1)])
    x = np.array([[1.0]])
    crossbar = CrossbarConfig(r_f=1e7)
    spec = CircuitSpec(neuron=NeuronConfig(kind="opamp", swing=0.5, gain=1e9), crossbar=crossbar)
    g = get_conductances(net, spec)[0]
    unplanned = 1e7 * (g.plus[0, 0] + g.plus[0, 1]) * 0.2          # plus column of layer 1: data and bias at 0.2 V
    assert unplanned > 0.5
    circuit = build_circuit(net, spec, x)
    shift = circuit.node_map.scales[1] / 0.2
    assert unplanned * shift <= (1 - SWING_MARGIN) * 0.5 < unplanned * shift * 2   # the largest fitting power of 2
    text = get_writer().get_netlist(circuit)
    stages = [f"t{side}{h}_c0_0" for h in (1, 2) for side in "pn"]
    text = text.replace("\n.save ", "\n.save " + " ".join(f"v({n})" for n in stages) + " ", 1)
    vectors = ngspice.simulate(text, tmp_path)
    np.testing.assert_allclose(vectors["v(tp1_c0_0)"], -unplanned * shift, rtol=1e-6)
    assert max(np.abs(vectors[f"v({n})"]).max() for n in stages) <= (1 - SWING_MARGIN) * 0.5 * (1 + 1e-6)
    for h, value in enumerate(net.forward(x)):
        np.testing.assert_allclose(read_activity(vectors, circuit.node_map, h, 0), value, rtol=1e-6, atol=1e-9)


def test_stage_peaks_against_the_closed_form():
    """stage_peaks: the largest |r_f' I| over columns, samples and cycles, with its place."""
    net, x = _lowrank()
    spec = CircuitSpec()
    conductances = get_conductances(net, spec)
    r_f = spec.crossbar.r_f if spec.crossbar.r_f is not None else get_r_f(net, spec)
    budget = plan(net, x, spec)
    peaks = stage_peaks(budget, conductances, r_f)
    for h in (1, 2):
        g = conductances[h - 1]
        largest = 0.0
        for read in budget.inputs[h]:
            rows = np.hstack([read.values, np.full((len(x), 1), float(read.bias))]) * budget.scales[h - 1]
            for matrix in (g.plus, g.minus):
                currents = rows @ matrix.T
                largest = max(largest, float(np.abs(currents).max()) * r_f * budget.scales[h] / budget.scales[h - 1])
        assert peaks[h][0] == pytest.approx(largest, rel=1e-12)


def test_bidirectional_takes_one_scale_and_matches_the_reference(run_circuit, tmp_path):
    net = CircularAutoencoder.random((4, 2, 4), ("tanh", "linear"), seed=0)
    net.weights[1] = net.weights[0].T.copy()
    x = np.random.default_rng(0).uniform(-3, 3, (2, 4))
    spec = CircuitSpec(architecture="bidirectional")
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    assert len(set(node_map.scales)) == 1 and node_map.scales[0] < 0.2
    for k, layers in enumerate(run_cycles(net, x, spec.recirculation)):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, rtol=1e-6, atol=1e-6)


def test_read_voltage_is_validated():
    with pytest.raises(Exception, match=r"read_voltage \(V\) must be in \(0, 10\.0\], got -1"):
        CircuitSpec(read_voltage=-1)


def test_command_line_reports_a_violation_in_one_line(tmp_path, capsys):
    from recirc_analog.cli import main

    weights = tmp_path / "weights.npz"
    _linear(5e3).save(weights)
    out = tmp_path / "n.cir"
    assert main(["netlist", "--weights", str(weights), "--batch", "1", "-o", str(out)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "voltage budget: row 0 of layer 1's crossbar (node o2_c0_0)" in err[0]
    assert "+-0.2 V" in err[0] and not out.exists()
    assert main(["netlist", "--weights", str(weights), "--batch", "1", "--no-budget", "-o", str(out)]) == 0
    assert main(["netlist", "--sizes", "4,2,4", "--noise", "-o", str(out)]) == 2
    assert capsys.readouterr().err.strip().endswith("noise needs form tran (the dc form has no time for noise to "
                                                    "act in), got form 'dc'")
    assert main(["netlist", "--sizes", "4,2,4", "--read-voltage", "0", "-o", str(out)]) == 2
    assert "--read-voltage" in capsys.readouterr().err
