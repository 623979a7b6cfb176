"""Learning in the bidirectional architecture: a shared device receives the sum of its two
local updates. Oracles: finite differences of the tied loss (the chain rule), the explicit
sum of the two rules' updates, and the co-simulation against the tied NumPy reference."""

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.cosim.crossbar_state import CrossbarState
from recirc_analog.cosim.lockstep import CosimConfig, LockStep
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines import get_engine
from recirc_analog.errors import ConfigError
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import RecirculationRule, get_rule
from recirc_analog.reference.tied import TiedRule, check_tied, tie_weights, tied_update
from recirc_analog.reference.training import TrainConfig, Trainer
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.builder import get_conductances
from recirc_analog.schematic.mapping import ConductanceMapping
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, ideal_sample_hold


def tied_net(sizes=(6, 4, 6), activations=("tanh", "linear"), seed=0):
    net = CircularAutoencoder.random(sizes, activations, seed=seed)
    net.biases = [np.random.default_rng(seed + 1).normal(0, 0.3, b.shape) for b in net.biases]
    return tie_weights(net)


@pytest.mark.parametrize("activations", [("tanh", "linear"), ("logistic", "logistic")])
def test_tied_update_of_the_gradient_is_the_gradient_of_the_shared_weights(activations):
    """A loss of A^1 = W, A^2 = W^T: -dL/dW by central differences equals tied_update(BP)."""
    net = tied_net(activations=activations)
    x = np.random.default_rng(2).uniform(0, 1, size=(5, 6))
    loss = loss_for(net)

    def value(shared):
        probe = net.copy()
        probe.weights = [shared, shared.T]
        return loss.value(x, probe.forward(x)[-1])

    shared, step = net.weights[0], 1e-6
    numeric = np.zeros_like(shared)
    for index in np.ndindex(shared.shape):
        up, down = shared.copy(), shared.copy()
        up[index] += step
        down[index] -= step
        numeric[index] = -(value(up) - value(down)) / (2 * step)
    summed = tied_update(get_rule("bp").directions(net, x))
    np.testing.assert_allclose(summed.weights[0], numeric, rtol=1e-6, atol=1e-9)
    np.testing.assert_array_equal(summed.weights[1], summed.weights[0].T)


def test_tied_rule_adds_each_layers_scaled_update_and_keeps_the_net_tied():
    net = tied_net()
    rates = (0.02, 0.005)
    rule = RecirculationRule(Recirculation("ccr", 0.4))
    trainer = Trainer(net, TiedRule(rule, rates), TrainConfig(layer_lrs=rates, track_angles=False))
    data = np.random.default_rng(3).uniform(0, 1, size=(4, 8, 6))
    for x in data:
        before = net.copy()
        own = rule.directions(before, x)
        trainer.step(x)
        expected = rates[0] * own.weights[0] + rates[1] * own.weights[1].T
        np.testing.assert_allclose(net.weights[0] - before.weights[0], expected, rtol=1e-12, atol=1e-15)
        for h in (0, 1):
            np.testing.assert_allclose(net.biases[h] - before.biases[h], rates[h] * own.biases[h],
                                       rtol=1e-12, atol=1e-15)
        check_tied(net, tolerance=1e-15)


def test_tied_rule_and_helpers_refuse_bad_input():
    with pytest.raises(ConfigError, match="tied weights need A\\^2 = \\(A\\^1\\)\\^T"):
        Trainer(CircularAutoencoder.random((6, 4, 6), ("tanh", "linear"), seed=0), TiedRule(RecirculationRule()))
    with pytest.raises(ConfigError, match="rates must be two learning rates > 0"):
        TiedRule(RecirculationRule(), rates=(0.1, 0.0))
    with pytest.raises(ConfigError, match="L = 2"):
        tie_weights(CircularAutoencoder.random((6, 4, 3, 4, 6), ("tanh",) * 4, seed=0))
    with pytest.raises(ConfigError, match="L = 2 layers, got 3"):
        tied_update(Update((np.zeros((2, 2)),) * 3, (np.zeros(2),) * 3))


def _state(net, device=DeviceConfig(), mapping="differential"):
    spec = CircuitSpec(architecture="bidirectional", crossbar=CrossbarConfig(mapping=mapping, r_f=2e4))
    return CrossbarState(get_conductances(net, spec), ConductanceMapping(spec.crossbar, 2e4), device, seed=5,
                         architecture="bidirectional")


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_shared_device_receives_the_sum_of_its_two_local_updates(mapping):
    net = tied_net()
    state = _state(net, mapping=mapping)
    rng = np.random.default_rng(6)
    update = Update((rng.normal(0, 0.01, (4, 6)), rng.normal(0, 0.01, (6, 4))),
                    (rng.normal(0, 0.01, 4), rng.normal(0, 0.01, 6)))
    (w1, w2), (b1, b2) = state.weights()
    state.apply(update)
    (v1, v2), (c1, c2) = state.weights()
    np.testing.assert_allclose(v1 - w1, update.weights[0] + update.weights[1].T, rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(c1 - b1, update.biases[0], rtol=1e-9, atol=1e-15)
    np.testing.assert_allclose(c2 - b2, update.biases[1], rtol=1e-9, atol=1e-15)
    np.testing.assert_array_equal(v2, v1.T)


def test_bidirectional_state_restores_exactly_from_its_saved_arrays():
    noisy = DeviceConfig(write_noise=0.1, stuck_fraction=0.1)
    net = tied_net()
    state = _state(net, noisy)
    rng = np.random.default_rng(7)
    step = Update((rng.normal(0, 0.01, (4, 6)), rng.normal(0, 0.01, (6, 4))), (np.ones(4) * 1e-3, np.ones(6) * 1e-3))
    state.apply(step)
    copy = _state(net, noisy)
    copy.set_state(state.get_state())
    state.apply(step)
    copy.apply(step)
    for a, b in zip(state.all_conductances(), copy.all_conductances()):
        np.testing.assert_array_equal(a.plus, b.plus)
        np.testing.assert_array_equal(a.minus, b.minus)


def test_state_refuses_devices_that_are_not_shared():
    net = tied_net()
    spec = CircuitSpec(architecture="bidirectional", crossbar=CrossbarConfig(r_f=2e4))
    initial = get_conductances(net, spec)
    initial[1].minus[1, 2] *= 1.5
    with pytest.raises(ConfigError, match="minus devices transposed"):
        CrossbarState(initial, ConductanceMapping(spec.crossbar, 2e4), DeviceConfig(), architecture="bidirectional")
    with pytest.raises(ConfigError, match="architecture must be one of conjoined, bidirectional, got 'sideways'"):
        CrossbarState(initial, ConductanceMapping(spec.crossbar, 2e4), DeviceConfig(), architecture="sideways")


def run_lockstep(form, mode, lr_decay, batches=20):
    sizes = (16, 6, 16)
    config = CosimConfig(sizes=sizes, activations=("tanh", "linear"), batch_size=10, lr=0.02, lr_decay=lr_decay,
                         seed=1)
    spec = CircuitSpec(recirculation=Recirculation(mode, 0.5), form=form, architecture="bidirectional",
                       sample_hold=ideal_sample_hold())
    data = load_dataset("lowrank", seed=1, dim=sizes[0])
    engine = get_engine("batch")
    try:
        lockstep = LockStep.create(config, spec, DeviceConfig(), engine, data.train_mean)
        untied = Trainer(lockstep.controller.network(), RecirculationRule(spec.recirculation),
                         TrainConfig(layer_lrs=tuple(config.rates()), track_angles=False))
        rows = []
        for k, x in zip(range(batches), data.train_batches(10, np.random.default_rng(0))):
            rows.append(lockstep.step(x / 4.0, label=f"batch {k}"))
            untied.step(x / 4.0)
            weights, _ = lockstep.controller.weights()
            np.testing.assert_array_equal(weights[1], weights[0].T)       # the same devices
    finally:
        engine.close()
    return lockstep, rows, untied.net


@pytest.mark.parametrize("form, mode, lr_decay", [("dc", "pr", 1.0), ("tran", "ccrcc", 0.5)])
def test_cosim_tracks_the_tied_reference_for_20_updates(form, mode, lr_decay):
    lockstep, rows, untied = run_lockstep(form, mode, lr_decay)
    worst = max(r["weight_rel_diff_max"] for r in rows)
    assert worst <= 1e-5, f"largest relative weight difference {worst:.3g}"
    losses = [r["cosim_loss"] for r in rows]
    assert np.mean(losses[-5:]) < 0.9 * np.mean(losses[:5])
    # The tolerance discriminates: untied (conjoined) learning from the same start departs by far more.
    circuit = lockstep.controller.weights()[0][0]
    assert np.linalg.norm(untied.weights[0] - circuit) > 1e-2 * np.linalg.norm(circuit)


def test_cosim_command_trains_a_bidirectional_circuit(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["cosim", "--architecture", "bidirectional", "--sizes", "16,6,16", "--act", "tanh,linear",
                 "--batches", "3", "--batch-size", "8", "--test-samples", "4", "--out", str(out), "--quiet"])
    assert code == 0
    net = CircularAutoencoder.load(out / "weights_cosim.npz")
    np.testing.assert_array_equal(net.weights[1], net.weights[0].T)
    capsys.readouterr()
    code = main(["cosim", "--architecture", "bidirectional", "--sizes", "16,6,4,6,16", "--act", "tanh",
                 "--batches", "1", "--out", str(tmp_path / "deep"), "--quiet"])
    assert code == 2
    assert "architecture 'bidirectional' needs L = 2" in capsys.readouterr().err
