"""In-circuit write with bias rows and tanh activations (issue 13) on 8-4-8 Yakopcic crossbars: ngspice
computes the reads, the holds and the write (four sub-phases for tanh: rows with a negative held
pre-synaptic value pulse with the opposite polarity, the columns swap their up / down roles); these tests
check what the devices did and what the drivers put across them.

Oracles: the rule's change pre x post-difference computed here from the held voltages ngspice reports (the
bias devices' pre is 1); the compact model's ODE (``Yakopcic.rate``, integrated with SciPy) under the voltage
the scheme puts across each device for ``tw * |pre|``; the row and column voltages ngspice computed (every
device's voltage at every time point: below threshold unless both its row and its column are on); the
reference package's ``RecirculationRule`` (PR, cycles (0, 1), with biases) and its forward pass.
"""

import csv
import json

import numpy as np
import pytest
from scipy.integrate import solve_ivp

from recirc_analog.cosim.in_circuit import (
    biased_reference_step,
    correlation,
    nominal_rate,
    online_run,
    realised_gain,
    step,
)
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.errors import ConfigError
from recirc_analog.netlist_writers.in_circuit import write_in_circuit
from recirc_analog.schematic.in_circuit import InCircuitNetwork, WriteScheme, default_v_unit

DATA = np.array([0.0, -0.3, 1.0, 0.0, -0.7, 0.5, -0.9, 0.1])    # zeros and negative pre-synaptic values
X_REF = 0.6


def _network(activation="tanh", biases=True, spread=0.02, seed=0, **kw):
    rng = np.random.default_rng(seed)

    def states(*shape):
        return np.clip(X_REF + spread * rng.standard_normal(shape), 0, 1)

    extra = dict(bias_states1=states(4), bias_states2=states(8)) if biases else {}
    kw.setdefault("scheme", WriteScheme(steps=200, read_steps=5))
    kw.setdefault("v_unit", default_v_unit(activation))
    return InCircuitNetwork(states1=states(4, 8), states2=states(8, 4), activation=activation, **extra, **kw)


def _data(activation):
    return DATA if activation == "tanh" else np.abs(DATA)


@pytest.fixture(scope="module", params=[("tanh", True), ("tanh", False), ("logistic", True)],
                ids=["tanh-biases", "tanh", "logistic-biases"])
def written(request):
    activation, biases = request.param
    net = _network(activation, biases, seed=1)     # a seed whose sample needs all four sub-phases
    with BatchEngine() as engine:
        return net, step(engine, net, _data(activation), label=f"test 8-4-8 {request.node.name}")


def _pre_post(net, r):
    """Per crossbar (pre with the bias row's 1 appended when there is one, post-difference), activities."""
    h = r.held
    pres = (h["data"], h["h1"])
    if net.biases:
        pres = tuple(np.append(p, 1.0) for p in pres)
    return zip(pres, (h["h1"] - h["l1"], h["data"] - h["out"]))


def test_realised_change_correlates_with_pre_times_post_difference(written):
    net, r = written
    for intended, realised in zip(r.intended, r.realised):
        assert correlation([intended], [realised]) >= 0.99
        assert 0.9 <= realised_gain(intended, realised, nominal_rate(net)) <= 1.1
    assert correlation(r.intended, r.realised) >= 0.99


def test_intended_change_is_pre_times_post_difference_with_the_bias_column(written):
    net, r = written
    for intended, (pre, post) in zip(r.intended, _pre_post(net, r)):
        np.testing.assert_allclose(intended, np.outer(post, pre), atol=1e-15)
    if net.signed:
        np.testing.assert_allclose(r.held["data"], DATA, atol=1e-6)


def test_device_with_zero_pre_synaptic_activity_does_not_change(written):
    _, r = written
    zero_rows = DATA == 0
    assert np.abs(r.realised[0][:, :8][:, zero_rows]).max() < 1e-9
    assert np.abs(r.realised[0][:, :8][:, ~zero_rows]).min() > 1e-7           # every other device moved


def test_sign_of_every_change_matches_the_rule_including_negative_pre(written):
    net, r = written
    for intended, realised in zip(r.intended, r.realised):
        moved = np.abs(intended) > 1e-6
        assert np.all(np.sign(realised[moved]) == np.sign(intended[moved]))
    if net.signed:      # devices with a negative pre-synaptic value moved both ways (sub-phases C and D)
        negative = np.concatenate([realised[:, pre < 0].ravel()
                                   for realised, (pre, _) in zip(r.realised, _pre_post(net, r))])
        assert negative.max() > 1e-5 and negative.min() < -1e-5


def _ode_change(net, x0, pre, d):
    """The model's ODE under the scheme for tw * |pre|: threshold + gain * v_unit * |d| in the direction of
    sign(pre d) (sub-phases A / B for pre > 0, C / D for pre < 0)."""
    m, s = net.model, net.scheme
    if pre == 0 or d == 0:
        return 0.0
    v = (m.v_p + net.gain_up * net.v_unit * abs(d)) if pre * d > 0 else -(m.v_n + s.gain * net.v_unit * abs(d))
    sol = solve_ivp(lambda t, x: m.rate(v, x), (0.0, s.tw * abs(pre)), [x0], rtol=1e-10, atol=1e-13)
    return float(sol.y[0, -1] - x0)


def test_each_device_and_each_bias_device_follows_the_compact_model_ode(written):
    net, r = written
    crossbars = [net.states1, net.states2]
    if net.biases:
        crossbars = [np.column_stack([net.states1, net.bias_states1]),
                     np.column_stack([net.states2, net.bias_states2])]
    for states, realised, (pre, post) in zip(crossbars, r.realised, _pre_post(net, r)):
        scale = np.abs(realised).max()
        for (i, j), dx in np.ndenumerate(realised):
            assert dx == pytest.approx(_ode_change(net, states[i, j], pre[j], post[i]), abs=5e-3 * scale)


@pytest.mark.parametrize("written", [("tanh", True), ("logistic", True)], indirect=True,
                         ids=["tanh-biases", "logistic-biases"])
def test_bias_devices_follow_pre_one(written):
    net, r = written
    rate = nominal_rate(net)
    for realised, (_, post) in zip(r.realised, _pre_post(net, r)):
        bias = realised[:, -1]
        assert correlation([post], [bias]) >= 0.99
        assert np.all(np.sign(bias) == np.sign(post))
        assert np.dot(post, bias) / np.dot(post, post) == pytest.approx(rate, rel=0.1)


def test_reference_columns_stay_put(written):
    net, r = written
    assert r.reference_drift < 1e-9 and r.reference_moved == 0


def test_no_device_sees_a_supra_threshold_voltage_unless_its_row_and_column_are_both_on():
    # ngspice's own row and column voltages through all four sub-phases: every device of crossbar 1 and 2
    # (bias rows included) at every time point
    net = _network(spread=0.05)
    text = write_in_circuit(net, DATA)
    rows = {1: [f"r1_{j}" for j in range(8)] + ["r1_b"], 2: [f"r2_{i}" for i in range(4)] + ["r2_b"]}
    cols = {1: [f"d1_{i}" for i in range(4)], 2: [f"d2_{k}" for k in range(8)]}
    extra = " ".join(f"v({n})" for names in (*rows.values(), *cols.values()) for n in names)
    text = text.replace(".save ", f".save {extra} ", 1)
    with BatchEngine() as engine:
        result = engine.run(text, label="test signed write voltages")
    time = result.get("time")
    t = net.times
    writing = time > t["ta"]
    low, high = net.model.thresholds
    selected_seen = 0
    for layer in (1, 2):
        v_row = np.array([result.get(f"v({n})") for n in rows[layer]])[:, writing]
        v_col = np.array([result.get(f"v({n})") for n in cols[layer]])[:, writing]
        device = v_row[None, :, :] - v_col[:, None, :]
        both_on = (np.abs(v_row[None, :, :]) > 1e-9) & (np.abs(v_col[:, None, :]) > 1e-9)
        half = device[~both_on]
        assert half.max() < high - 0.02 and half.min() > low + 0.02      # >= 20 mV below either threshold
        on = device[both_on]
        assert np.all((on >= high - 1e-9) | (on <= low + 1e-9))          # selected: at or beyond threshold
        selected_seen += on.size
    assert selected_seen > 0
    for key in ("tc", "td"):        # the two extra sub-phases exist and follow A and B
        assert t[key] > t["tb"] + net.scheme.tw


@pytest.mark.parametrize("activation", ["tanh", "logistic"])
def test_reference_step_is_the_reference_packages_pr_rule_with_biases(activation):
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.reference.recirculation import Recirculation
    from recirc_analog.reference.rules import RecirculationRule

    rng = np.random.default_rng(3)
    weights = (rng.standard_normal((4, 8)), rng.standard_normal((8, 4)))
    biases = (rng.standard_normal(4), rng.standard_normal(8))
    x = _data(activation)
    (a1, a2), (b1, b2), loss = biased_reference_step(weights, biases, x, 0.1, activation)
    net = CircularAutoencoder((8, 4, 8), (activation, activation), list(weights), list(biases))
    update = RecirculationRule(Recirculation("pr", cycles=(0, 1))).directions(net, x[None, :])
    for new, old, direction in zip((a1, a2, b1, b2), (*weights, *biases), (*update.weights, *update.biases)):
        np.testing.assert_allclose(new, old + 0.1 * direction, rtol=1e-12, atol=1e-12)
    assert loss == pytest.approx(np.sum((x - net.forward(x[None, :])[-1][0]) ** 2), rel=1e-12)


def test_reference_run_without_bias_rows_learns_no_biases():
    # tanh without bias rows: the reference's weights follow the PR rule of a network whose biases stay 0
    net = _network(biases=False, spread=0.05, seed=7)
    samples = np.tanh(np.random.default_rng(8).standard_normal((4, 8)))
    _, final = online_run(None, net, samples, "reference")
    a1, a2 = net.weights()
    rate = nominal_rate(net) * net.w_scale
    for x in samples:
        h1 = np.tanh(a1 @ x)
        out = np.tanh(a2 @ h1)
        a1, a2 = a1 + rate * np.outer(h1 - np.tanh(a1 @ out), x), a2 + rate * np.outer(x - out, h1)
    np.testing.assert_allclose(final.states1, np.clip(a1 / net.w_scale + net.x_ref, 0, 1), atol=1e-12)
    np.testing.assert_allclose(final.states2, np.clip(a2 / net.w_scale + net.x_ref, 0, 1), atol=1e-12)
    assert not final.biases


def test_controller_run_with_biases_and_tanh_tracks_the_reference():
    net = _network(spread=0.05, seed=5)
    rng = np.random.default_rng(6)
    samples = np.tanh(rng.standard_normal((3, 8)))
    with BatchEngine() as engine:
        controller, _ = online_run(engine, net, samples, "controller")
    reference, _ = online_run(None, net, samples, "reference")
    for c, ref in zip(controller, reference):
        assert c["loss"] == pytest.approx(ref["loss"], rel=1e-4)
    a1, a2 = net.weights()
    b1, b2 = net.bias_weights()
    assert np.abs(b1).max() > 0.1                        # the biases are not zero, so the read includes them
    out = np.tanh(a2 @ np.tanh(a1 @ samples[0] + b1) + b2)
    assert controller[0]["loss"] == pytest.approx(np.sum((samples[0] - out) ** 2), rel=1e-4)


def test_what_the_signed_write_cannot_do_safely_is_refused_with_one_line():
    with pytest.raises(ConfigError, match=r"gain \* v_unit \* 2 \(tanh"):
        _network(v_unit=0.1)
    with pytest.raises(ConfigError, match="bias_states1 and bias_states2 must be given together"):
        InCircuitNetwork(states1=np.full((4, 8), 0.6), states2=np.full((8, 4), 0.6), bias_states1=np.full(4, 0.6))
    with pytest.raises(ConfigError, match=r"bias_states2 must have shape \(8,\), got \(4,\)"):
        InCircuitNetwork(states1=np.full((4, 8), 0.6), states2=np.full((8, 4), 0.6), bias_states1=np.full(4, 0.6),
                         bias_states2=np.full(4, 0.6))
    with pytest.raises(ConfigError, match="activation must be one of logistic, tanh, got 'relu'"):
        _network(activation="relu", v_unit=0.1)
    with BatchEngine() as engine:
        with pytest.raises(ConfigError, match=r"data must be 8 activities in \[0, 1\]"):
            step(engine, _network("logistic"), DATA)
        with pytest.raises(ConfigError, match=r"data must be 8 activities in \[-1, 1\]"):
            step(engine, _network(), DATA * 2)



def test_vteam_with_tanh_or_biases_is_refused_with_one_line(capsys):
    from recirc_analog.cli import main
    from recirc_analog.devices.compact.models import Vteam

    with pytest.raises(ConfigError, match="tanh and biases are built for the yakopcic memristor only, got 'vteam'"):
        InCircuitNetwork(states1=np.full((4, 8), 0.7), states2=np.full((8, 4), 0.7), model=Vteam(),
                         bias_states1=np.full(4, 0.7), bias_states2=np.full(8, 0.7))
    for extra in (["--act", "tanh"], ["--biases"]):
        code = main(["cosim", "--update", "in-circuit", "--memristor", "vteam", "--batches", "2", *extra,
                     "--out", "unused-vteam-refusal"])
        err = capsys.readouterr().err.strip().splitlines()
        assert code == 2 and len(err) == 1 and "yakopcic memristor only" in err[0], (code, err)

@pytest.mark.slow
def test_short_in_circuit_run_with_tanh_and_biases_lowers_the_loss():
    rng = np.random.default_rng(1)
    basis = rng.standard_normal((2, 8))
    samples = np.tanh(rng.standard_normal((40, 2)) @ basis / 1.5)
    net = _network(spread=0.03, seed=2, scheme=WriteScheme(tw=5e-5, steps=200, read_steps=5))
    with BatchEngine() as engine:
        rows, _ = online_run(engine, net, samples, "in-circuit")
    first, last = np.mean([x["loss"] for x in rows[:8]]), np.mean([x["loss"] for x in rows[-8:]])
    assert last < 0.8 * first
    assert all(x["disturbed"] == 0 for x in rows)    # (wrong_sign counts pulses shorter than one time step too)


def test_cli_tanh_with_biases_writes_its_table_and_files(tmp_path, capsys):
    from recirc_analog.cli import main

    out = tmp_path / "run"
    assert main(["cosim", "--update", "in-circuit", "--act", "tanh", "--biases", "--batches", "2",
                 "--out", str(out), "--quiet"]) == 0
    text = capsys.readouterr().out
    assert "half-selected devices disturbed: 0 of" in text
    summary = json.loads((out / "summary.json").read_text())
    assert summary["activation"] == "tanh" and summary["biases"] is True and summary["v_unit"] == 0.05
    rows = list(csv.DictReader((out / "metrics.csv").read_text().splitlines()))
    losses = {row["run"]: float(row["loss"]) for row in rows if row["sample"] == "0"}
    assert losses["controller"] == pytest.approx(losses["reference"], rel=1e-4)
    assert losses["in-circuit"] == pytest.approx(losses["reference"], rel=1e-4)
    with np.load(out / "states.npz") as states:
        assert states["initial_bias1"].shape == (4,) and states["in_circuit_bias2"].shape == (8,)
