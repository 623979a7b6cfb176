"""Recirculation cycles against the paper's tables written out by hand (L = 2 and L = 3)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import (
    MAX_REFERENCE_CYCLES,
    MODE_NAMES,
    Recirculation,
    cycle_pair,
    run_cycles,
)

LAM = 0.3


@pytest.fixture
def net():
    """A*[6, 4, 6] with tanh hidden and logistic output units and non-zero biases."""
    rng = np.random.default_rng(7)
    net = CircularAutoencoder.random([6, 4, 6], ("tanh", "logistic"), seed=7)
    net.biases = [rng.normal(scale=0.5, size=b.shape) for b in net.biases]
    return net


@pytest.fixture
def data():
    return np.random.default_rng(8).uniform(size=(5, 6))


def _by_hand(net, data, mode):
    """Cycle 1 of Tables 1-4 / the RWCC text / Section 5 for L = 2: [O^0(1), O^1(1), O^2(1)]."""
    (a1, a2), (b1, b2) = net.weights, net.biases

    def f1(s):
        return np.tanh(s)

    def f2(s):
        return 1 / (1 + np.exp(-s))

    def g1(v):
        return f1(v @ a1.T + b1)

    def g2(v):
        return f2(g1(v) @ a2.T + b2)

    out0 = g2(data)
    mixed = LAM * data + (1 - LAM) * out0
    if mode == "pr":
        return [out0, g1(out0), g2(out0)]
    if mode == "ccr":
        return [mixed, LAM * g1(data) + (1 - LAM) * g1(out0), LAM * out0 + (1 - LAM) * g2(out0)]
    if mode == "rcc":
        return [mixed, g1(mixed), g2(mixed)]
    if mode == "ccrcc":
        return [mixed, LAM * g1(data) + (1 - LAM) * g1(mixed), LAM * out0 + (1 - LAM) * g2(mixed)]
    if mode == "rwcc":
        hidden = LAM * g1(data) + (1 - LAM) * g1(mixed)
        return [mixed, hidden, LAM * out0 + (1 - LAM) * f2(hidden @ a2.T + b2)]
    error = data - out0
    hidden = f1(error @ a1.T)
    return [error, hidden, f2(hidden @ a2.T)]


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_cycle_one_matches_the_tables(net, data, mode):
    cycles = run_cycles(net, data, Recirculation(mode, LAM))
    assert len(cycles) == 2
    for got, expected in zip(cycles[0], net.forward(data)):
        assert_allclose(got, expected, rtol=1e-14)
    for got, expected in zip(cycles[1], _by_hand(net, data, mode)):
        assert_allclose(got, expected, rtol=1e-12, atol=1e-15)


def test_ccr_differences_are_pr_differences_times_one_minus_lambda(net, data):
    """Eq. 26: O^h(0) - O^h_CCR(1) = (1 - lam) (O^h(0) - O^h_PR(1)), every layer, any activations."""
    pr = run_cycles(net, data, Recirculation("pr"))
    ccr = run_cycles(net, data, Recirculation("ccr", LAM))
    for h in range(3):
        assert_allclose(ccr[0][h] - ccr[1][h], (1 - LAM) * (pr[0][h] - pr[1][h]), rtol=1e-10, atol=1e-15)


def test_error_mode_sends_no_signal_when_the_reconstruction_is_perfect():
    """With f(0) = 0 and no bias in cycle 1, zero error gives zero activity everywhere (Section 4.1)."""
    net = CircularAutoencoder.random([4, 3, 4], ("tanh", "linear"), seed=1)
    data = np.tile(np.random.default_rng(2).normal(size=(1, 4)), (2, 1))
    net.biases = [np.full(3, 0.7), np.zeros(4)]
    net.biases[1] = (data - net.forward(data)[-1])[0]     # now O^2(0) = I exactly
    cycles = run_cycles(net, data, Recirculation("error"))
    assert_allclose(cycles[0][2], data, rtol=1e-12)
    for layer in cycles[1]:
        assert_allclose(layer, 0, atol=1e-12)


def test_plain_recirculation_over_several_cycles_feeds_each_output_back(net, data):
    cycles = run_cycles(net, data, Recirculation("pr", cycles=(1, 4)))
    assert len(cycles) == 5
    for k in range(1, 5):
        assert_allclose(cycles[k][0], cycles[k - 1][2], rtol=1e-14)
        for got, expected in zip(cycles[k], net.forward(cycles[k - 1][2])):
            assert_allclose(got, expected, rtol=1e-14)


def test_mixed_modes_over_several_cycles_mix_with_the_data_each_time(net, data):
    cycles = run_cycles(net, data, Recirculation("rcc", LAM, cycles=(0, 3)))
    for k in range(1, 4):
        expected_input = LAM * data + (1 - LAM) * cycles[k - 1][2]
        assert_allclose(cycles[k][0], expected_input, rtol=1e-14)
        assert_allclose(cycles[k][2], net.forward(expected_input)[2], rtol=1e-14)


def test_three_layer_ccrcc_mixes_every_layer_with_its_cycle_zero_activity():
    net = CircularAutoencoder.random([5, 4, 3, 5], ("relu", "tanh", "linear"), seed=4)
    x = np.random.default_rng(0).uniform(size=(4, 5))
    cycles = run_cycles(net, x, Recirculation("ccrcc", LAM))
    fresh = net.forward(LAM * x + (1 - LAM) * net.forward(x)[3])
    for h in (1, 2, 3):
        assert_allclose(cycles[1][h], LAM * cycles[0][h] + (1 - LAM) * fresh[h], rtol=1e-12)


@pytest.mark.parametrize("kwargs, message", [
    (dict(lam=1.5), r"lam must be in \[0, 1\], got 1.5"),
    (dict(lam=-0.1), r"lam must be in \[0, 1\], got -0.1"),
    (dict(lam=float("nan")), r"lam must be in \[0, 1\]"),
    (dict(mode="hebb"), "mode must be one of pr, ccr, rcc, ccrcc, rwcc, error, got 'hebb'"),
    (dict(cycles=(1, 1)), r"cycles must be two integers \(n, m\) with 0 <= n < m, got \(1, 1\)"),
    (dict(cycles=(2, 1)), "0 <= n < m"),
    (dict(cycles=(-1, 1)), "0 <= n < m"),
    (dict(cycles=(0, 1.5)), "two integers"),
    (dict(cycles=3), "two integers"),
    (dict(mode="error", cycles=(0, 2)), r"cycles must be \(0, 1\) in error mode"),
    (dict(top_layer="eq51"), "top_layer must be one of gradient, eq48, got 'eq51'"),
])
def test_bad_recirculation_settings_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        Recirculation(**kwargs)


# --- Issue 9 item 3: cycles are bounded, and the rule keeps only cycles n and m ---------------

@pytest.mark.parametrize("mode", ["pr", "ccr", "rcc", "ccrcc", "rwcc"])
@pytest.mark.parametrize("pair", [(0, 1), (1, 4), (2, 3), (0, 5)])
def test_cycle_pair_equals_cycles_n_and_m_of_the_full_list(net, data, mode, pair):
    recirculation = Recirculation(mode, LAM, cycles=pair)
    everything = run_cycles(net, data, recirculation)
    cycle_n, cycle_m = cycle_pair(net, data, recirculation)
    for got, expected in zip(cycle_n + cycle_m, everything[pair[0]] + everything[pair[1]]):
        assert_allclose(got, expected, rtol=0, atol=0)


def test_cycle_pair_memory_does_not_grow_with_m(net, data, monkeypatch):
    """The rule must not hold all m + 1 cycles: count the cycles' output arrays alive at once
    (cycle n, the two latest and one shared with cycle n's input: a handful, not m = 20)."""
    import weakref

    from recirc_analog.reference import recirculation as module

    alive, peak = [], [0]
    original = module._next_cycle

    def tracking(*args):
        layers = original(*args)
        alive.append(weakref.ref(layers[-1]))       # arrays die by reference counting
        peak[0] = max(peak[0], sum(ref() is not None for ref in alive))
        return layers

    monkeypatch.setattr(module, "_next_cycle", tracking)
    recirculation = Recirculation("pr", cycles=(2, 20))
    cycle_pair(net, data, recirculation)
    assert len(alive) == 20 and peak[0] <= 5
    from recirc_analog.reference.rules import RecirculationRule

    alive.clear()
    RecirculationRule(recirculation).directions(net, data)
    assert len(alive) == 20 and peak[0] <= 5


def test_reference_cycles_are_bounded_with_a_message_naming_the_limit():
    Recirculation("pr", cycles=(0, MAX_REFERENCE_CYCLES))
    with pytest.raises(ConfigError, match=rf"cycles m must be in \[1, {MAX_REFERENCE_CYCLES}\], got 10000000"):
        Recirculation("pr", cycles=(0, 10_000_000))
