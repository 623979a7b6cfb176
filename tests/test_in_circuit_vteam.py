"""In-circuit write of VTEAM crossbars (issue 13): the column drivers pre-distort the on direction's height
by a cube root (VTEAM's on rate goes as the overdrive cubed) and the polarity is reversed (x = 0 is R_on);
the weights are read through the non-linear conductance ``1 / (R_on + (R_off - R_on) x)``.

Oracles: the compact model's own rate (``Vteam.rate``; integrated with SciPy under the voltage the scheme
puts across each device) and read (``Vteam.read_conductance``); the rule's pre x post-difference from the
held voltages ngspice reports; zero change where the pre-synaptic activity is zero and on the reference
columns (always half-selected); the NumPy forward pass on the weights for the loss.
"""

import csv

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from recirc_analog.cosim import in_circuit as ic
from recirc_analog.devices.compact.models import Vteam
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.schematic.in_circuit import InCircuitNetwork, WriteScheme
from recirc_analog.schematic.write_laws import VteamWrite, overdrive, shaper_knots

DATA = np.array([0.0, 0.3, 1.0, 0.0, 0.7, 0.5, 0.9, 0.1])    # two pre-synaptic zeros on crossbar 1


def _network(weight_std=1.0, seed=0, **kw):
    rng = np.random.default_rng(seed)
    base = InCircuitNetwork(states1=np.full((4, 8), 0.5), states2=np.full((8, 4), 0.5), model=Vteam(), **kw)
    sd = weight_std / base.w_scale
    return InCircuitNetwork(states1=np.clip(base.x_ref + sd * rng.standard_normal((4, 8)), 0, 1),
                            states2=np.clip(base.x_ref + sd * rng.standard_normal((8, 4)), 0, 1), model=Vteam(), **kw)


def test_column_heights_make_both_rates_linear_in_the_post_difference():
    model = Vteam()
    law, x_ref, gain = VteamWrite(model), 0.7, 1e-3
    target = law.reference_slope(x_ref) * gain
    assert law.reference_slope(x_ref) == pytest.approx(5e-4 / 3e-9 / 0.02 * (1 - 0.7 ** 20), rel=1e-12)
    u = np.array([1e-5, 1e-4, 1e-3, 0.015])
    up = -(0.2 + overdrive(law, "up", u, x_ref, gain))           # towards R_on: the weight rises, x falls
    down = 0.02 + overdrive(law, "down", u, x_ref, gain)
    np.testing.assert_allclose(-model.rate(up, x_ref), target * u, rtol=1e-9)
    np.testing.assert_allclose(model.rate(down, x_ref), target * u, rtol=1e-9)
    assert law.exponents == (3.0, 1.0) and law.polarity == -1


def test_shaper_table_is_within_3e_4_of_the_cube_root():
    knots, values = shaper_knots(3.0, 0.015)
    assert np.all(np.diff(knots) > 0) and knots[0] == -0.03 and knots[-1] == 0.03
    u = np.geomspace(0.015e-6, 0.015, 2001)
    np.testing.assert_allclose(np.interp(u, knots, values), np.cbrt(u), rtol=3e-4)
    np.testing.assert_allclose(np.interp(-u, knots, values), -np.cbrt(u), rtol=3e-4)


def test_weights_are_the_read_conductance_differences_and_the_controller_writes_them_exactly():
    model = Vteam()
    net = _network(weight_std=3.0, seed=5)
    g_ref = model.read_conductance(net.x_ref)
    slope = (model.read_conductance(net.x_ref - 1e-6) - model.read_conductance(net.x_ref + 1e-6)) / 2e-6
    a1, a2 = net.weights()
    np.testing.assert_allclose(a1, net.w_scale * (model.read_conductance(net.states1) - g_ref) / slope, rtol=1e-6)
    np.testing.assert_allclose(a2, net.w_scale * (model.read_conductance(net.states2) - g_ref) / slope, rtol=1e-6)
    assert np.all(np.sign(a1) == np.sign(net.x_ref - net.states1))          # below x_ref: more conductance
    np.testing.assert_allclose(net.law.states_of(a1 / net.w_scale, net.x_ref), net.states1, atol=1e-12)
    change = (np.full((4, 8), 0.01), np.full((8, 4), -0.02))
    after = ic.program_states(net, change).weights()
    np.testing.assert_allclose(after[0] - a1, net.w_scale * 0.01, atol=1e-9)
    np.testing.assert_allclose(after[1] - a2, net.w_scale * -0.02, atol=1e-9)


@pytest.fixture(scope="module")
def written():
    net = _network()
    with BatchEngine() as engine:
        return net, ic.step(engine, net, DATA, label="test 8-4-8 vteam write")


def test_realised_change_correlates_with_pre_times_post_difference(written):
    net, r = written
    for intended, realised in zip(r.intended, r.realised):
        assert ic.correlation([intended], [realised]) >= 0.99
        assert ic.realised_gain(intended, realised, ic.nominal_rate(net)) == pytest.approx(1.0, abs=0.02)
    assert ic.correlation(r.intended, r.realised) >= 0.99


def test_device_with_zero_pre_synaptic_activity_and_half_selected_devices_do_not_change(written):
    _, r = written
    zero_rows = DATA == 0
    assert np.abs(r.realised[0][:, zero_rows]).max() < 1e-9
    assert np.abs(r.realised[0][:, ~zero_rows]).max() > 1e-4            # the others did move
    assert r.reference_drift < 1e-9 and r.reference_moved == 0          # the reference columns: rows only
    moved, idle = ic.disturbed(r.intended, r.realised)
    assert moved == 0 and idle >= 8


def test_sign_of_every_change_matches_the_rule_and_the_state_moves_the_other_way(written):
    net, r = written
    for intended, realised in zip(r.intended, r.realised):
        moved = np.abs(intended) > 1e-6
        assert np.all(np.sign(realised[moved]) == np.sign(intended[moved]))
    end = r.net.states1 - net.states1                                   # x itself falls where the weight rises
    assert np.all(np.sign(end[np.abs(r.intended[0]) > 1e-6]) == -np.sign(r.intended[0][np.abs(r.intended[0]) > 1e-6]))


def test_each_device_follows_the_compact_model_ode(written):
    net, r = written
    m, s, law, h = net.model, net.scheme, net.law, r.held
    pres, posts = (h["data"], h["h1"]), (h["h1"] - h["l1"], h["data"] - h["out"])   # crossbar 1, crossbar 2
    for states, realised, pre, post in zip((net.states1, net.states2), r.realised, pres, posts):
        scale = np.abs(realised).max()
        for (i, j), dx in np.ndenumerate(realised):
            if pre[j] <= 0 or post[i] == 0:
                assert abs(dx) < 1e-9
                continue
            direction = "up" if post[i] > 0 else "down"
            od = float(overdrive(law, direction, net.v_unit * post[i], net.x_ref, s.gain))
            v = -(0.2 + od) if post[i] > 0 else 0.02 + od
            sol = solve_ivp(lambda t, x, v=v: m.rate(v, x), (0.0, s.tw * pre[j]), [states[i, j]],
                            rtol=1e-10, atol=1e-13)
            assert dx == pytest.approx(-(sol.y[0, -1] - states[i, j]), abs=5e-3 * scale)


def test_loss_is_the_numpy_networks_on_the_conductance_weights(written):
    net, r = written
    a1, a2 = net.weights()
    out = 1 / (1 + np.exp(-a2 @ (1 / (1 + np.exp(-a1 @ DATA)))))
    assert r.loss == pytest.approx(np.sum((DATA - out) ** 2), rel=1e-4)


@pytest.mark.slow
def test_short_in_circuit_vteam_run_lowers_the_loss():
    rng = np.random.default_rng(2)
    basis = rng.uniform(0, 1, (2, 8))
    samples = np.clip(rng.uniform(0, 1, (30, 2)) @ basis / 1.2, 0, 1)
    net = _network(seed=2, scheme=WriteScheme(v_half=0.01, gain=1e-3, tw=1e-4, steps=200, read_steps=5))
    with BatchEngine() as engine:
        rows, _ = ic.online_run(engine, net, samples, "in-circuit")
    reference, _ = ic.online_run(None, net, samples, "reference")      # 0.401 -> 0.128
    first, last = np.mean([x["loss"] for x in rows[:6]]), np.mean([x["loss"] for x in rows[-6:]])
    assert last < 0.5 * first
    assert last < 1.2 * np.mean([x["loss"] for x in reference[-6:]])
    assert all(x["disturbed"] == 0 and x["wrong_sign"] == 0 for x in rows)


def test_controller_run_reads_and_writes_the_references_weights():
    net = _network(weight_std=2.0, seed=3, scheme=WriteScheme(v_half=0.01, gain=1e-3, tw=1e-4, steps=200,
                                                               read_steps=5))
    samples = np.array([DATA, DATA[::-1], np.full(8, 0.5)])
    with BatchEngine() as engine:
        controller, _ = ic.online_run(engine, net, samples, "controller")
    reference, _ = ic.online_run(None, net, samples, "reference")
    for ours, theirs in zip(controller, reference):
        assert ours["loss"] == pytest.approx(theirs["loss"], rel=1e-5)
    assert reference[0]["loss"] != pytest.approx(reference[2]["loss"], rel=1e-3)     # the weights did change


@pytest.mark.slow
def test_cli_in_circuit_vteam_run_reads_the_reference_weights(tmp_path, capsys):
    from recirc_analog.cli import main

    out = tmp_path / "run"
    assert main(["cosim", "--update", "in-circuit", "--memristor", "vteam", "--batches", "2", "--out", str(out),
                 "--quiet"]) == 0
    assert "half-selected devices disturbed: 0 of" in capsys.readouterr().out
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    losses = {row["run"]: float(row["loss"]) for row in rows if row["sample"] == "0"}
    assert losses["controller"] == pytest.approx(losses["reference"], rel=1e-5)
    assert losses["in-circuit"] == pytest.approx(losses["reference"], rel=1e-5)
    second = {row["run"]: float(row["loss"]) for row in rows if row["sample"] == "1"}
    assert second["controller"] == pytest.approx(second["reference"], rel=1e-5)  # the same weight change
