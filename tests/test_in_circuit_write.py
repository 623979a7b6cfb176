"""In-circuit write phase (issue 13) on an 8-4-8 network of Yakopcic crossbars: ngspice computes phase
0, the PR recirculation phase, the holds and a V/2 write whose drivers are behavioural sources of the
held voltages; these tests check what the devices did.

Oracles: the rule's direction pre x post-difference computed here in NumPy from the held voltages
ngspice reports; the compact model's own ODE (``Yakopcic.rate``, integrated with SciPy) under the
voltage the scheme puts across each device; zero change where the pre-synaptic activity is zero and
on the reference columns (always half-selected); the NumPy network's forward pass for the loss.
"""

import csv

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from recirc_analog.cosim.in_circuit import correlation, nominal_rate, online_run, step
from recirc_analog.devices.compact.models import Vteam
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.errors import ConfigError
from recirc_analog.schematic.in_circuit import InCircuitNetwork, WriteScheme

DATA = np.array([0.0, 0.3, 1.0, 0.0, 0.7, 0.5, 0.9, 0.1])    # two pre-synaptic zeros on crossbar 1


def _network(spread=0.02, seed=0, **kw):
    x_ref = InCircuitNetwork(states1=np.full((4, 8), 0.5), states2=np.full((8, 4), 0.5)).x_ref
    rng = np.random.default_rng(seed)
    return InCircuitNetwork(states1=np.clip(x_ref + spread * rng.standard_normal((4, 8)), 0, 1),
                            states2=np.clip(x_ref + spread * rng.standard_normal((8, 4)), 0, 1), **kw)


@pytest.fixture(scope="module")
def written():
    net = _network()
    with BatchEngine() as engine:
        return net, step(engine, net, DATA, label="test 8-4-8 write")


def _ode_change(net, x0, pre, d, up_gain):
    """The model's ODE under the scheme: threshold + gain * v_unit * abs(d) across the device for tw * pre."""
    m, s = net.model, net.scheme
    if pre <= 0 or d == 0:
        return 0.0
    v = (m.v_p + up_gain * net.v_unit * d) if d > 0 else -(m.v_n + s.gain * net.v_unit * -d)
    sol = solve_ivp(lambda t, x: m.rate(v, x), (0.0, s.tw * pre), [x0], rtol=1e-10, atol=1e-13)
    return float(sol.y[0, -1] - x0)


def test_realised_change_correlates_with_pre_times_post_difference(written):
    net, r = written
    for intended, realised in zip(r.intended, r.realised):
        assert correlation([intended], [realised]) >= 0.99
    assert correlation(r.intended, r.realised) >= 0.99


def test_device_with_zero_pre_synaptic_activity_does_not_change(written):
    _, r = written
    zero_rows = DATA == 0
    assert np.abs(r.realised[0][:, zero_rows]).max() < 1e-9
    assert np.abs(r.realised[0][:, ~zero_rows]).max() > 1e-4            # the others did move
    assert r.reference_drift < 1e-9                                     # half-selected reference devices


def test_sign_of_every_change_matches_the_rule(written):
    _, r = written
    for intended, realised in zip(r.intended, r.realised):
        moved = np.abs(intended) > 1e-6
        assert np.all(np.sign(realised[moved]) == np.sign(intended[moved]))


def test_each_device_follows_the_compact_model_ode(written):
    net, r = written
    h = r.held
    crossbars = ((net.states1, r.realised[0], h["data"], h["h1"] - h["l1"]),
                 (net.states2, r.realised[1], h["h1"], h["data"] - h["out"]))
    for states, realised, pre, post in crossbars:
        scale = np.abs(realised).max()
        for (i, j), dx in np.ndenumerate(realised):
            expected = _ode_change(net, states[i, j], pre[j], post[i], net.gain_up)
            assert dx == pytest.approx(expected, abs=5e-3 * scale)


def test_rule_from_held_voltages_is_the_drivers_intended_change(written):
    _, r = written
    h = r.held
    np.testing.assert_allclose(r.intended[0], np.outer(h["h1"] - h["l1"], h["data"]), atol=1e-15)
    np.testing.assert_allclose(r.intended[1], np.outer(h["data"] - h["out"], h["h1"]), atol=1e-15)
    np.testing.assert_allclose(h["data"], DATA, atol=1e-6)      # the holds kept the data (leak 1e-12 S)


def test_loss_is_the_numpy_networks_on_the_same_weights(written):
    net, r = written
    a1, a2 = net.weights()
    out = 1 / (1 + np.exp(-a2 @ (1 / (1 + np.exp(-a1 @ DATA)))))
    assert r.loss == pytest.approx(np.sum((DATA - out) ** 2), rel=1e-4)


def test_nominal_rate_matches_the_realised_gain(written):
    net, r = written
    intended = np.concatenate([np.ravel(v) for v in r.intended])
    realised = np.concatenate([np.ravel(v) for v in r.realised])
    slope = np.dot(intended, realised) / np.dot(intended, intended)
    assert slope == pytest.approx(nominal_rate(net), rel=0.1)


def test_unknown_models_and_unsafe_voltages_are_refused_with_one_line():
    with pytest.raises(ConfigError, match="memristor must be one of yakopcic, vteam .* got 'str'"):
        _network(model="stanford-pku")
    with pytest.raises(ConfigError, match="v_unit must be .*0.02"):       # VTEAM's reads: below its 20 mV
        _network(model=Vteam(), v_unit=0.1)
    with pytest.raises(ConfigError, match="gain \\* v_unit must stay below v_half"):
        _network(scheme=WriteScheme(gain=1.0))
    with pytest.raises(ConfigError, match="states1 must hold states in"):
        InCircuitNetwork(states1=np.full((4, 8), 1.5), states2=np.full((8, 4), 0.5))


@pytest.mark.slow
def test_short_in_circuit_online_run_lowers_the_loss():
    rng = np.random.default_rng(1)
    basis = rng.uniform(0, 1, (2, 8))
    samples = np.clip(rng.uniform(0, 1, (30, 2)) @ basis / 1.2, 0, 1)
    net = _network(spread=0.05, seed=2, scheme=WriteScheme(tw=4e-4, steps=200))
    with BatchEngine() as engine:
        rows, _ = online_run(engine, net, samples, "in-circuit")
        reference, _ = online_run(engine, net, samples, "reference")
    first, last = np.mean([x["loss"] for x in rows[:6]]), np.mean([x["loss"] for x in rows[-6:]])
    # 30 samples at this rate lower the reference's loss by about 16 % (0.663 -> 0.554; 20 %, this test's
    # bar before the operating point moved to x_ref 0.6, is more than the rule itself achieves here)
    assert last < 0.92 * first
    assert abs(last - np.mean([x["loss"] for x in reference[-6:]])) < 0.1 * last
    assert all(x["disturbed"] == 0 for x in rows)


def test_cli_in_circuit_run_writes_its_table_and_files(tmp_path, capsys):
    from recirc_analog.cli import main

    out = tmp_path / "run"
    assert main(["cosim", "--update", "in-circuit", "--batches", "2", "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "half-selected devices disturbed: 0 of" in text and "update correlation" in text
    lines = (out / "metrics.csv").read_text().splitlines()
    assert lines[0].startswith("run,sample,loss") and len(lines) == 1 + 3 * 2
    rows = list(csv.DictReader(lines))
    losses = {row["run"]: float(row["loss"]) for row in rows if row["sample"] == "0"}
    assert losses["controller"] == pytest.approx(losses["reference"], rel=1e-5)   # same first sample, same weights
    assert losses["in-circuit"] == pytest.approx(losses["reference"], rel=1e-5)


@pytest.mark.parametrize("argv, message", [
    (["--update", "in-circuit", "--lr", "0.1"], "--update in-circuit does not support --lr"),
    (["--memristor", "yakopcic", "--write-width", "1e-4"], "--write-width needs --update in-circuit"),
    (["--update", "in-circuit", "--sizes", "8,4,4,8"], "--sizes must be N0,N1,N0"),
    (["--update", "in-circuit", "--act", "tanh,logistic"], "--act must be sigmoid, logistic or tanh"),
    (["--biases"], "--biases needs --update in-circuit"),
])
def test_cli_refuses_what_in_circuit_does_not_support(tmp_path, capsys, argv, message):
    from recirc_analog.cli import main

    assert main(["cosim", *argv, "--out", str(tmp_path / "x")]) == 2
    err = capsys.readouterr().err
    assert message in err and len(err.strip().splitlines()) == 1
