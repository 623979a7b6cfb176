"""The standard autoencoder's learning channels (Appendix B, Table 5)."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.standard_channels import StandardChannels


def _net(output="logistic", seed=0):
    rng = np.random.default_rng(seed + 50)
    net = CircularAutoencoder.random([7, 4, 7], ("tanh", output), seed=seed)
    net.biases = [rng.normal(scale=0.4, size=b.shape) for b in net.biases]
    return net


@pytest.fixture
def x():
    return np.random.default_rng(3).uniform(size=(9, 7))


def _channels(**kwargs):
    return get_rule("standard", channels=StandardChannels(**kwargs))


def _assert_same(got, expected):
    for g, e in zip(got.weights + got.biases, expected.weights + expected.biases):
        assert_allclose(g, e, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize("output", ["logistic", "linear", "tanh"])
def test_bp_row_is_circular_backpropagation(output, x):
    net = _net(output)
    _assert_same(_channels(c2="transpose").directions(net, x), get_rule("bp").directions(net, x))


def test_rbp_row_is_random_backpropagation_through_its_matrix(x):
    net = _net()
    rule = _channels(c2="random")
    update = rule.directions(net, x)
    assert rule.random_matrix_.shape == (4, 7)
    _assert_same(update, get_rule("rbp", feedback=[rule.random_matrix_]).directions(net, x))


def test_error_through_b_is_rbp_with_the_forward_matrix(x):
    net = _net()
    _assert_same(_channels(c2="B").directions(net, x), get_rule("rbp", feedback=[net.weights[0]]).directions(net, x))


@pytest.mark.parametrize("kwargs", [dict(c2="B", signal="output"), dict(c2=None, c3="identity", signal="output")])
def test_mixed_recirculation_rows_are_plain_recirculation(kwargs, x):
    """Rows 7 (C2 = B) and 8 (C3 = Id): the hidden layer sees F(BI + b) - F(BO^2 + b)."""
    net = _net()
    _assert_same(_channels(**kwargs).directions(net, x), get_rule("rec").directions(net, x))


def test_error_recirculation_row_is_circular_error_recirculation(x):
    net = _net()
    expected = get_rule("rec", recirculation=Recirculation("error")).directions(net, x)
    _assert_same(_channels(c2=None, c3="identity").directions(net, x), expected)


@pytest.mark.parametrize("signal, mode", [("output", "pr"), ("error", "error")])
def test_row_three_without_c1_is_the_circular_autoencoder_even_for_unmatched_outputs(signal, mode, x):
    net = _net("tanh")
    rule = _channels(c1=False, c2=None, c3="identity", signal=signal)
    expected = get_rule("rec", recirculation=Recirculation(mode)).directions(net, x)
    _assert_same(rule.directions(net, x), expected)
    assert not np.allclose(rule.directions(net, x).weights[1], get_rule("bp").directions(net, x).weights[1])


def test_error_through_a_random_c3_reaches_the_hidden_layer_as_f_of_b_c_error(x):
    """Row 6 with C3 = C: the hidden layer receives F(B C (I - O^2)) ~ F'(R) B C (I - O^2)."""
    net = _net()
    rule = _channels(c2=None, c3="random")
    update = rule.directions(net, x)
    c = rule.random_matrix_
    assert c.shape == (7, 7)
    error = x - net.forward(x)[-1]
    hidden = np.tanh(error @ c.T @ net.weights[0].T)
    assert_allclose(update.weights[0], hidden.T @ x / len(x), rtol=1e-12)
    assert_allclose(update.weights[1], error.T @ net.forward(x)[1] / len(x), rtol=1e-12)


@pytest.mark.parametrize("kwargs, reason", [
    (dict(c1=False, c2=None), "optimal learning impossible .no deep learning channel; Table 5, row 1"),
    (dict(c1=False, c2="B"), "optimal learning impossible or problematic .without C1 no error"),
    (dict(c1=True, c2=None), r"optimal learning impossible \(A can be trained but not B; Table 5, row 4\)"),
    (dict(c2="random", signal="output"), "needs C2 = B .Table 5, row 7"),
    (dict(c2="transpose", signal="output"), "problematic with a generic matrix C"),
    (dict(c2="transpose", c3="identity"), "C2 and C3 together are excluded"),
    (dict(c1=False, c2=None, c3="random"), "circular autoencoder with two hidden layers"),
    (dict(c2=None, c3="random", signal="output"), r"B \(I - C O\^2\), not the error"),
])
def test_rows_that_cannot_learn_raise_the_papers_reason(kwargs, reason):
    with pytest.raises(ConfigError, match=reason):
        StandardChannels(**kwargs)


@pytest.mark.parametrize("kwargs, message", [
    (dict(c2="A"), "c2 must be one of None, transpose, random, B, got 'A'"),
    (dict(c3="Id"), "c3 must be one of None, identity, random, got 'Id'"),
    (dict(signal="errors"), "signal must be one of error, output"),
    (dict(c1="yes"), "c1 must be True or False"),
])
def test_bad_channel_values_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        StandardChannels(**kwargs)


def test_standard_channels_need_one_hidden_layer(x):
    net = CircularAutoencoder.random([7, 4, 3, 7], ("tanh", "tanh", "logistic"), seed=0)
    with pytest.raises(ConfigError, match=r"need sizes \(N0, N1, N0\), got \(7, 4, 3, 7\)"):
        _channels().directions(net, x)
    with pytest.raises(ConfigError, match="channels must be a StandardChannels"):
        get_rule("standard", channels="bp")
