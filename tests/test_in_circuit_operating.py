"""The in-circuit write's operating point (issue 13, the 16-4-16 fix) and the 49-10-49 MNIST 7x7 data.

Why 16-4-16 did not learn in-circuit: the write's gain per direction is Yakopcic's window at each device's
own state, and at the old reference state (the balance point 0.446, where the up and down windows are
equal) their ratio changes by a factor e^10 per unit of state, so the states a learning network spreads
over are written with a systematic up / down bias (studies/in-circuit/REPORT.md). The default ``x_ref`` is
now 0.6, where the falling window is flat, with w_scale 40 (the same weights span half the states).

Oracles: the compact model's own rate (``Yakopcic.rate``, finite differences); ngspice's realised change
against the rule's pre x post-difference from the held voltages; the NumPy forward pass on the weights;
the IDX files through ``load_dataset``.
"""

import numpy as np
import pytest

from recirc_analog.cosim.in_circuit import correlation, nominal_rate, online_run, realised_gain, reconstruct, step
from recirc_analog.devices.compact.models import Yakopcic
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.errors import ConfigError
from recirc_analog.jobs.in_circuit import InCircuitConfig, make_samples
from recirc_analog.schematic.in_circuit import InCircuitNetwork, WriteScheme, balance_state, operating_state

DATA = np.array([0.0, 0.3, 1.0, 0.0, 0.7, 0.5, 0.9, 0.1])


def _log_ratio_slope(model, x, h=1e-6):
    """d/dx ln(up rate / down rate) just above both thresholds, from the model's own rate function."""
    def log_ratio(x):
        return np.log(model.rate(model.v_p + 0.01, x) / -model.rate(-(model.v_n + 0.01), x))
    return (log_ratio(x + h) - log_ratio(x - h)) / (2 * h)


def test_default_operating_state_is_where_the_up_down_gain_ratio_varies_least():
    model = Yakopcic()
    x_op, x_bal = operating_state(model), balance_state(model)
    assert x_op == pytest.approx(0.6) and x_bal == pytest.approx(0.4464, abs=1e-4)
    assert InCircuitNetwork(states1=np.full((4, 8), 0.6), states2=np.full((8, 4), 0.6)).x_ref == x_op
    slope_op, slope_bal = abs(_log_ratio_slope(model, x_op)), abs(_log_ratio_slope(model, x_bal))
    assert slope_op == pytest.approx(1 + 1 / 0.4, rel=1e-4)              # alpha_p + 1 / (1 - x): 3.5
    assert slope_bal == pytest.approx(10.0, abs=0.1)
    # the falling window is exactly flat within 0.1 below x_op, so only the up gain varies there
    xs = np.linspace(x_op - 0.099, x_op + 0.1, 9)
    np.testing.assert_allclose(model.rate(-0.2, xs), model.rate(-0.2, x_op), rtol=1e-12)


def _network(x_ref, w_scale, gain, tw, seed, weight_std=1.0):
    rng = np.random.default_rng(seed)
    sd = weight_std / w_scale
    return InCircuitNetwork(states1=np.clip(x_ref + sd * rng.standard_normal((4, 8)), 0, 1),
                            states2=np.clip(x_ref + sd * rng.standard_normal((8, 4)), 0, 1), x_ref=x_ref,
                            w_scale=w_scale, scheme=WriteScheme(gain=gain, tw=tw, steps=200, read_steps=5))


def test_operating_point_writes_spread_weights_in_proportion_where_the_balance_point_does_not():
    # the same weight spread (std 1, the study's initial one) and learning rate at both operating points
    balance = balance_state(Yakopcic())
    with BatchEngine() as engine:
        for seed in range(3):
            new = _network(operating_state(Yakopcic()), 40.0, 0.25, 2.73e-4, seed)
            old = _network(balance, 20.0, 0.5, 4e-4, seed)
            assert nominal_rate(new) * 40 == pytest.approx(nominal_rate(old) * 20, rel=0.01)
            r_new, r_old = step(engine, new, DATA), step(engine, old, DATA)
            assert correlation(r_new.intended, r_new.realised) >= 0.995
            assert correlation(r_old.intended, r_old.realised) < 0.99
            for intended, realised in zip(r_new.intended, r_new.realised):
                assert 0.93 <= realised_gain(intended, realised, nominal_rate(new)) <= 1.07


def test_realised_gain_is_the_slope_on_the_nominal_change():
    rng = np.random.default_rng(0)
    intended = rng.standard_normal((4, 8))
    assert realised_gain(intended, 0.8 * 0.05 * intended, 0.05) == pytest.approx(0.8)
    assert np.isnan(realised_gain(np.zeros((2, 2)), np.ones((2, 2)), 0.05))


def test_reconstruction_is_the_numpy_forward_pass_and_writes_nothing():
    net = _network(0.6, 40.0, 0.25, 2.73e-4, seed=4, weight_std=2.0)
    samples = np.array([DATA, DATA[::-1]])
    with BatchEngine() as engine:
        out = reconstruct(engine, net, samples)
    a1, a2 = net.weights()
    expected = 1 / (1 + np.exp(-(1 / (1 + np.exp(-samples @ a1.T))) @ a2.T))
    np.testing.assert_allclose(out, expected, rtol=1e-4)


def test_mnist_7x7_samples_are_reproducible_pixels_and_a_wrong_width_is_refused(data_dir):
    config = InCircuitConfig(sizes=(49, 10, 49), samples=5, dataset="mnist", data_dir=str(data_dir),
                             downsample=4, reconstructions=3)
    train, test = make_samples(config, np.random.default_rng(0))
    again, _ = make_samples(config, np.random.default_rng(0))
    assert train.shape == (5, 49) and test.shape == (3, 49)
    np.testing.assert_array_equal(train, again)
    assert train.min() >= 0 and train.max() <= 1 and train.max() > 0.5
    with pytest.raises(ConfigError, match="sizes must start with the data's dimension 49 .* got N0 = 16"):
        make_samples(InCircuitConfig(sizes=(16, 4, 16), dataset="mnist", data_dir=str(data_dir), downsample=4),
                     np.random.default_rng(0))


@pytest.mark.slow
def test_16_4_16_learns_in_circuit_as_far_as_the_reference():
    # the study's 16-4-16 Lowrank run (60 samples): before the fix the in-circuit loss rose (1.235 -> 1.278)
    # while the reference fell to 0.842
    config = InCircuitConfig(sizes=(16, 4, 16), samples=60, tw=2.73e-4, reconstructions=0)
    rng = np.random.default_rng(0)
    samples, _ = make_samples(config, rng)
    net = InCircuitNetwork(states1=np.clip(0.6 + rng.standard_normal((4, 16)) / 40, 0, 1),
                           states2=np.clip(0.6 + rng.standard_normal((16, 4)) / 40, 0, 1),
                           scheme=WriteScheme(tw=2.73e-4, steps=200, read_steps=5))
    with BatchEngine() as engine:
        ours, _ = online_run(engine, net, samples, "in-circuit")
    reference, _ = online_run(None, net, samples, "reference")
    first, last = (np.mean([r["loss"] for r in ours[s]]) for s in (slice(0, 12), slice(-12, None)))
    ref_last = np.mean([r["loss"] for r in reference[-12:]])
    assert last < 0.8 * first
    assert last < 1.1 * ref_last
