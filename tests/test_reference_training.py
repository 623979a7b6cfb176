"""The reference trainer: rates, norm caps, metrics, divergence, and learning on real data."""

import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from recirc_analog.data import load_dataset
from recirc_analog.errors import ConfigError, DivergenceError
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer, cap_row_norms


class ArrayDataset:
    """Stand-in for recirc_analog.data: shuffled fixed training rows and a test set."""

    def __init__(self, train, test, name="toy"):
        self.train, self.test, self.name = train, test, name
        self.dim = train.shape[1]
        self.n_train = len(train)
        self.train_mean = train.mean(axis=0)

    def train_batches(self, batch_size, rng):
        order = rng.permutation(self.n_train)
        for start in range(0, self.n_train - batch_size + 1, batch_size):
            yield self.train[order[start:start + batch_size]]


@pytest.fixture
def toy():
    rng = np.random.default_rng(0)
    basis = rng.normal(size=(3, 8))
    return ArrayDataset(rng.normal(size=(200, 3)) @ basis, rng.normal(size=(50, 3)) @ basis)


def _linear_net(seed=0, sizes=(8, 3, 8)):
    return CircularAutoencoder.random(list(sizes), ["linear"] * (len(sizes) - 1), seed=seed)


def test_layer_rates_follow_lr_decay_or_the_explicit_list():
    assert_allclose(TrainConfig(lr=0.08, lr_decay=0.5).layer_rates(4), [0.01, 0.02, 0.04, 0.08])
    assert_allclose(TrainConfig(lr=0.1).layer_rates(3), [0.1, 0.1, 0.1])
    assert_allclose(TrainConfig(layer_lrs=(1e-3, 2e-3)).layer_rates(2), [1e-3, 2e-3])
    with pytest.raises(ConfigError, match=r"layer_lrs must have 3 entries \(layers 1..3\), got 2"):
        Trainer(_linear_net(sizes=(8, 4, 3, 8)), get_rule("bp"), TrainConfig(layer_lrs=(1e-3, 2e-3)))


@pytest.mark.parametrize("kwargs, message", [
    (dict(epochs=-1), r"epochs must be in \[0, inf\), got -1"),
    (dict(epochs=1.5), "epochs must be an integer, got 1.5"),
    (dict(batch_size=0), r"batch_size must be in \[1, 10000\], got 0"),
    (dict(lr=-0.1), r"lr must be in \[0, inf\), got -0.1"),
    (dict(lr_decay=0.0), r"lr_decay must be in \(0, inf\), got 0.0"),
    (dict(max_norm=0.0), r"max_norm must be in \(0, inf\), got 0.0"),
    (dict(divergence_bound=-1.0), r"divergence_bound must be in \(0, inf\)"),
    (dict(layer_lrs=(0.1, -0.1)), r"layer_lrs entry must be in \[0, inf\), got -0.1"),
])
def test_bad_train_configs_are_rejected(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        TrainConfig(**kwargs)


def test_trainer_rejects_wrong_objects_and_data_of_the_wrong_width(toy):
    with pytest.raises(ConfigError, match="rule must be a LearningRule"):
        Trainer(_linear_net(), "bp")
    with pytest.raises(ConfigError, match="net must be a CircularAutoencoder"):
        Trainer("net", get_rule("bp"))
    trainer = Trainer(_linear_net(sizes=(5, 3, 5)), get_rule("bp"))
    with pytest.raises(ConfigError, match="data set 'toy' has dim 8, but the network's N0 is 5"):
        trainer.fit(toy)


def test_step_adds_each_layers_rate_times_the_rules_direction(toy):
    net = CircularAutoencoder.random([8, 4, 3, 8], ("tanh", "tanh", "linear"), seed=1)
    start = net.copy()
    x = toy.train[:10]
    expected = get_rule("rec").directions(start, x)
    Trainer(net, get_rule("rec"), TrainConfig(lr=0.4, lr_decay=0.5)).step(x)
    for h, rate in enumerate([0.1, 0.2, 0.4]):
        assert_allclose(net.weights[h], start.weights[h] + rate * expected.weights[h], rtol=1e-12)
        assert_allclose(net.biases[h], start.biases[h] + rate * expected.biases[h], rtol=1e-12)


def test_row_norm_cap_scales_only_long_rows():
    w = np.array([[3.0, 4.0], [0.3, 0.4], [0.0, 0.0]])
    assert_allclose(cap_row_norms(w, 2.0), [[1.2, 1.6], [0.3, 0.4], [0.0, 0.0]])


def test_max_norm_bounds_every_incoming_row_during_training(toy):
    net = _linear_net()
    Trainer(net, get_rule("bp"), TrainConfig(epochs=3, batch_size=20, lr=0.05, max_norm=0.5)).fit(toy)
    for w in net.weights:
        assert np.linalg.norm(w, axis=1).max() <= 0.5 + 1e-12
    assert np.isclose(np.linalg.norm(net.weights[1], axis=1).max(), 0.5)   # the cap was active


def test_history_rows_losses_norms_and_hooks(toy):
    net = _linear_net()
    untrained = net.copy()
    seen, rows = [], []
    trainer = Trainer(net, get_rule("bp"), TrainConfig(epochs=3, batch_size=40, lr=0.01),
                      progress=seen.append, on_epoch=rows.append)
    history = trainer.fit(toy)
    assert [m.epoch for m in history] == [0, 1, 2, 3] and rows == history
    assert seen == [40] * 15
    loss = loss_for(net)
    assert_allclose(history[0].test_loss, loss.value(toy.test, untrained.forward(toy.test)[-1]), rtol=1e-12)
    assert_allclose(history[-1].test_loss, loss.value(toy.test, net.forward(toy.test)[-1]), rtol=1e-12)
    assert_allclose(history[-1].weight_norms, [np.linalg.norm(w) for w in net.weights], rtol=1e-12)
    assert history[-1].test_loss < 0.5 * history[0].test_loss
    assert all(m.angles is None for m in history)


def test_same_seed_same_run_and_a_second_fit_continues(toy):
    def run(seed):
        return Trainer(_linear_net(), get_rule("rec"), TrainConfig(epochs=2, batch_size=20, seed=seed)).fit(toy)

    assert [m.test_loss for m in run(3)] == [m.test_loss for m in run(3)]
    assert [m.test_loss for m in run(3)] != [m.test_loss for m in run(4)]
    trainer = Trainer(_linear_net(), get_rule("bp"), TrainConfig(epochs=1, batch_size=20))
    trainer.fit(toy)
    assert [m.epoch for m in trainer.fit(toy)] == [0, 1, 2]


def test_angles_to_bp_are_measured_per_layer(toy):
    same_as_bp = Trainer(_linear_net(), get_rule("standard"), TrainConfig(epochs=1, batch_size=20)).fit(toy)
    assert_allclose(same_as_bp[1].angles, [0.0, 0.0], atol=1e-5)
    top = Trainer(_linear_net(), get_rule("top"), TrainConfig(epochs=1, batch_size=20)).fit(toy)
    assert np.isnan(top[1].angles[0]) and top[1].angles[1] < 1e-5
    rbp = Trainer(_linear_net(), get_rule("rbp", seed=9), TrainConfig(epochs=1, batch_size=20)).fit(toy)
    assert 1.0 < rbp[1].angles[0] < 179.0


def test_arbp_keeps_feedback_minus_forward_transpose_constant(toy):
    """ARBP with feedback_rate 1: B^h and A^h^T receive the same change, so their difference is fixed."""
    net = CircularAutoencoder.random([8, 5, 4, 8], ("tanh", "tanh", "linear"), seed=2)
    rule = get_rule("arbp", seed=1)
    trainer = Trainer(net, rule, TrainConfig(batch_size=20, lr=0.05))
    initial = [b.copy() for b in rule.feedback_for(net)]
    gap = [b - w.T for b, w in zip(initial, net.weights[1:])]
    for start in range(0, 100, 20):
        trainer.step(toy.train[start:start + 20])
    for b, w, g in zip(rule.feedback_, net.weights[1:], gap):
        assert_allclose(b - w.T, g, atol=1e-12)
    assert np.abs(rule.feedback_[0] - initial[0]).max() > 1e-3      # the feedback did adapt


def test_loss_divergence_restores_the_last_weights_with_an_acceptable_loss(toy):
    net = _linear_net()
    trainer = Trainer(net, get_rule("bp"), TrainConfig(lr=3.0, divergence_bound=1e4))
    batches = [toy.train[start:start + 10] for start in range(0, 200, 10)]
    snapshots = []
    with pytest.raises(DivergenceError, match=r"training diverged \(minibatch loss .*, bound 10000\).*rule 'bp'"):
        for x in batches:
            snapshots.append(net.copy())
            trainer.step(x)
    k = len(snapshots) - 1                        # step k saw a loss above the bound ...
    assert k >= 1
    for restored, good in zip(net.weights + net.biases, snapshots[k - 1].weights + snapshots[k - 1].biases):
        assert_array_equal(restored, good)        # ... so the weights before step k - 1 are back,
    assert trainer.evaluate(batches[k - 1]) <= 1e4  # whose loss had passed the check


def test_overflow_divergence_restores_the_weights_before_the_step(toy):
    net = _linear_net()
    start = net.copy()
    trainer = Trainer(net, get_rule("bp"), TrainConfig(lr=1e308))
    with np.errstate(over="ignore", invalid="ignore"):
        with pytest.raises(DivergenceError, match=r"NaN or inf in the weights.*restored the last good weights"):
            trainer.fit(toy)
    for restored, good in zip(net.weights + net.biases, start.weights + start.biases):
        assert_array_equal(restored, good)


def test_rec_learns_lowrank_to_a_millionth_of_its_initial_error():
    """Fig. 4 left: REC-PR on Lowrank, linear 100-20-100, lr 0.001, rows capped at 2.0."""
    data = load_dataset("lowrank", seed=0)
    net = CircularAutoencoder.random([100, 20, 100], ("linear", "linear"), seed=0, data_mean=data.train_mean)
    history = Trainer(net, get_rule("rec"), TrainConfig(epochs=3, lr=0.001, max_norm=2.0)).fit(data)
    assert history[-1].test_loss < 1e-6 * history[0].test_loss


def _mnist_losses(data_dir, max_train, epochs=3):
    data = load_dataset("mnist", data_dir, max_train=max_train)
    losses = {}
    for name in ("bp", "rec", "top"):
        net = CircularAutoencoder.random([784, 20, 784], ("tanh", "logistic"), seed=0, data_mean=data.train_mean)
        losses[name] = Trainer(net, get_rule(name), TrainConfig(epochs=epochs, lr=0.01)).fit(data)[-1].test_loss
    return losses


def _assert_rec_close_to_bp_and_below_top(losses):
    assert losses["rec"] <= 1.25 * losses["bp"]
    assert losses["rec"] < losses["top"] - 0.5 * (losses["top"] - losses["bp"])


def test_rec_on_mnist_subset_tracks_bp_and_beats_top(data_dir):
    """Fig. 5 left (non-linear): 784-20-784, tanh hidden, logistic output, cross-entropy, 10k images/epoch."""
    _assert_rec_close_to_bp_and_below_top(_mnist_losses(data_dir, max_train=10_000))


@pytest.mark.slow
def test_rec_on_full_mnist_tracks_bp_and_beats_top(data_dir):
    _assert_rec_close_to_bp_and_below_top(_mnist_losses(data_dir, max_train=None))


def test_cross_entropy_from_logits_equals_the_definition():
    """The training loop's fast cross-entropy (from the logits) equals -sum(T log O + (1-T) log(1-O))."""
    from scipy.special import expit

    from recirc_analog.reference.losses import ReconstructionLoss

    rng = np.random.default_rng(5)
    s = rng.normal(0, 4, size=(6, 30))
    t = rng.uniform(size=(6, 30))
    o = expit(s)
    expected = -np.sum(t * np.log(o) + (1 - t) * np.log(1 - o), axis=1)
    loss = ReconstructionLoss("logistic")
    np.testing.assert_allclose(loss.per_sample(t, o, s), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.per_sample(t, o), expected, rtol=1e-12)
    np.testing.assert_allclose(loss.value(t, o, s), np.mean(expected), rtol=1e-12)


def test_cross_entropy_of_a_saturated_output_is_finite():
    """An output that rounds to exactly 1 (logit 40) is clipped, not log(0) = -inf."""
    from recirc_analog.reference.losses import CLIP, ReconstructionLoss

    s = np.array([[40.0, -3.0]])
    o = np.array([[1.0, 1.0 / (1.0 + np.exp(3.0))]])
    t = np.array([[0.0, 1.0]])
    loss = ReconstructionLoss("logistic")
    expected = -np.log1p(-(1.0 - CLIP)) + np.log1p(np.exp(3.0))
    assert loss.value(t, o, s) == pytest.approx(expected, rel=1e-12)
    assert loss.value(t, o) == pytest.approx(expected, rel=1e-12)
