"""Activations, the circular autoencoder's forward pass, initialisation and weights.npz I/O."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from recirc_analog.errors import ConfigError, DataError
from recirc_analog.reference.activations import ACTIVATION_NAMES, get_activation
from recirc_analog.reference.network import CircularAutoencoder


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_activation_derivative_matches_finite_differences(name, rng):
    f = get_activation(name)
    s = rng.uniform(-3, 3, size=200)
    s = s[np.abs(s) > 1e-3]                      # keep away from the relu kink
    step = 1e-6
    numeric = (f(s + step) - f(s - step)) / (2 * step)
    assert_allclose(f.derivative(s), numeric, rtol=1e-6, atol=1e-9)


def test_activation_values_follow_their_definitions(rng):
    s = rng.uniform(-40, 40, size=500)
    # The tanh form is exact to machine precision on the activity scale [0, 1]
    # (absolute error), not relative to outputs far below it.
    assert_allclose(get_activation("logistic")(s), 1 / (1 + np.exp(-s)), rtol=1e-12, atol=3e-16)
    assert_allclose(get_activation("tanh")(s), np.tanh(s))
    assert_array_equal(get_activation("relu")(s), np.where(s > 0, s, 0.0))
    assert_array_equal(get_activation("linear")(s), s)


@pytest.mark.parametrize("name", ACTIVATION_NAMES)
def test_preimage_inverts_the_activation_inside_its_range(name):
    y = np.array([0.01, 0.3, 0.5, 0.9])
    f = get_activation(name)
    assert_allclose(f(f.preimage(y)), y, rtol=1e-12)


def test_unknown_activation_names_the_allowed_ones():
    with pytest.raises(ConfigError, match="activation must be one of linear, tanh, logistic, relu, got 'sigmoid'"):
        get_activation("sigmoid")


def test_forward_computes_each_layer_from_the_one_below(rng):
    net = CircularAutoencoder.random([5, 4, 3, 5], ("tanh", "relu", "logistic"), seed=3)
    net.biases = [rng.normal(size=b.shape) for b in net.biases]
    x = rng.uniform(size=(7, 5))
    a1, a2, a3 = net.weights
    b1, b2, b3 = net.biases
    o1 = np.tanh(x @ a1.T + b1)
    o2 = np.maximum(o1 @ a2.T + b2, 0)
    o3 = 1 / (1 + np.exp(-(o2 @ a3.T + b3)))
    outputs, preactivations = net.forward_with_preactivations(x)
    for got, expected in zip(outputs, [x, o1, o2, o3]):
        assert_allclose(got, expected, rtol=1e-12)
    assert_allclose(preactivations[1], o1 @ a2.T + b2, rtol=1e-12)
    assert [o.shape for o in net.forward(x)] == [(7, 5), (7, 4), (7, 3), (7, 5)]


def test_glorot_initialisation_bounds_and_reproducibility():
    net = CircularAutoencoder.random([100, 20, 100], ("linear", "linear"), seed=5)
    for w in net.weights:
        limit = np.sqrt(6 / sum(w.shape))
        assert np.abs(w).max() <= limit
        assert np.abs(w).max() > 0.95 * limit        # the whole interval is used
        assert abs(w.var() - limit ** 2 / 3) < 0.1 * limit ** 2 / 3
    again = CircularAutoencoder.random([100, 20, 100], ("linear", "linear"), seed=5)
    other = CircularAutoencoder.random([100, 20, 100], ("linear", "linear"), seed=6)
    assert_array_equal(net.weights[0], again.weights[0])
    assert not np.array_equal(net.weights[0], other.weights[0])
    assert all(not b.any() for b in net.biases)


@pytest.mark.parametrize("output", ["linear", "logistic", "tanh"])
def test_output_bias_makes_zero_hidden_activity_give_the_data_mean(output, rng):
    mean = rng.uniform(0.05, 0.9, size=6)
    net = CircularAutoencoder.random([6, 3, 6], ("relu", output), seed=0, data_mean=mean)
    assert_allclose(net.layer(2, np.zeros((1, 3)))[0], mean, rtol=1e-12)


def test_logistic_output_bias_clips_a_zero_mean():
    net = CircularAutoencoder.random([3, 2, 3], ("tanh", "logistic"), seed=0, data_mean=np.zeros(3))
    assert_allclose(net.biases[-1], np.log(1e-3 / (1 - 1e-3)))


@pytest.mark.parametrize("sizes, message", [
    ([5, 3, 4], "start and end with the same width"),
    ([5, 5], "at least 3 layer widths"),
    ([5, 0, 5], "positive integers"),
    ([5, -2, 5], "positive integers"),
    ([5, 2.5, 5], "positive integers"),
    (7, "sequence of layer widths"),
])
def test_bad_sizes_are_rejected(sizes, message):
    with pytest.raises(ConfigError, match=message):
        CircularAutoencoder(sizes, ("tanh", "tanh"))


@pytest.mark.parametrize("activations, message", [
    (("tanh",), "must have length 2"),
    (("tanh", "tanh", "tanh"), "must have length 2"),
    ("tanh", "sequence of 2 names"),
    (("tanh", "softmax"), "activation must be one of"),
])
def test_bad_activation_lists_are_rejected(activations, message):
    with pytest.raises(ConfigError, match=message):
        CircularAutoencoder([4, 2, 4], activations)


def test_bad_weights_and_inputs_are_rejected():
    with pytest.raises(ConfigError, match=r"weights\[1\] \(layer 2\) must have shape \(4, 2\), got \(2, 4\)"):
        CircularAutoencoder([4, 2, 4], ("tanh", "tanh"), weights=[np.ones((2, 4)), np.ones((2, 4))])
    with pytest.raises(ConfigError, match="NaN or inf"):
        CircularAutoencoder([4, 2, 4], ("tanh", "tanh"), biases=[np.full(2, np.nan), np.zeros(4)])
    net = CircularAutoencoder([4, 2, 4], ("tanh", "tanh"))
    with pytest.raises(ConfigError, match=r"x must have shape \(batch, 4\) with batch >= 1, got \(4,\)"):
        net.forward(np.ones(4))
    with pytest.raises(ConfigError, match="x contains NaN"):
        net.forward(np.full((2, 4), np.inf))
    with pytest.raises(ConfigError, match="seed must be an int"):
        net.initialise("seven")


def test_copy_is_independent(rng):
    net = CircularAutoencoder.random([4, 3, 4], ("tanh", "linear"), seed=0)
    twin = net.copy()
    twin.weights[0] += 1.0
    twin.biases[0] += 1.0
    assert not np.allclose(twin.weights[0], net.weights[0])
    assert not np.allclose(twin.biases[0], net.biases[0])


def test_save_load_round_trip_uses_the_contract_keys(tmp_path, rng):
    net = CircularAutoencoder.random([6, 4, 3, 6], ("tanh", "relu", "logistic"), seed=2)
    net.biases = [rng.normal(size=b.shape) for b in net.biases]
    path = tmp_path / "weights.npz"
    net.save(path)
    with np.load(path) as data:
        assert sorted(data.files) == ["A1", "A2", "A3", "activations", "b1", "b2", "b3", "sizes"]
        assert data["A2"].shape == (3, 4) and data["A2"].dtype == np.float64
        assert data["sizes"].tolist() == [6, 4, 3, 6]
        assert data["activations"].tolist() == ["tanh", "relu", "logistic"]
    loaded = CircularAutoencoder.load(path)
    assert loaded.sizes == net.sizes and loaded.activations == net.activations
    x = rng.uniform(size=(3, 6))
    assert_array_equal(loaded.forward(x)[-1], net.forward(x)[-1])


def _write_npz(path, **arrays):
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    return path


def test_load_reports_bad_files_as_data_errors(tmp_path):
    good = dict(A1=np.ones((2, 3)), A2=np.ones((3, 2)), b1=np.zeros(2), b2=np.zeros(3),
                sizes=np.array([3, 2, 3]), activations=np.array(["tanh", "linear"]))
    with pytest.raises(DataError, match="does not exist"):
        CircularAutoencoder.load(tmp_path / "missing.npz")
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(DataError, match="not a readable .npz"):
        CircularAutoencoder.load(tmp_path / "junk.npz")
    no_a2 = {k: v for k, v in good.items() if k != "A2"}
    with pytest.raises(DataError, match="lacks arrays A2"):
        CircularAutoencoder.load(_write_npz(tmp_path / "no_a2.npz", **no_a2))
    no_sizes = {k: v for k, v in good.items() if k != "sizes"}
    with pytest.raises(DataError, match="no 'sizes' array"):
        CircularAutoencoder.load(_write_npz(tmp_path / "no_sizes.npz", **no_sizes))
    with pytest.raises(DataError, match="inconsistent.*must have shape"):
        CircularAutoencoder.load(_write_npz(tmp_path / "shape.npz", **{**good, "A1": np.ones((3, 3))}))
    with pytest.raises(DataError, match="inconsistent.*activation must be one of"):
        CircularAutoencoder.load(_write_npz(tmp_path / "act.npz", **{**good, "activations": np.array(["tanh", "x"])}))
    CircularAutoencoder.load(_write_npz(tmp_path / "good.npz", **good))
