"""The hardware-aware reference (``train --device``): weights held as device conductances.

Oracles: with the ideal device it is the plain reference to rounding; a noisy device is
reproducible from the seed; and it programs the same requests as the co-simulation with
the exact direct engine, so the conductances after a few batches are the co-simulation's
bit for bit.
"""

import dataclasses
import json

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.cosim.hardware_aware import HardwareAwareTrainer, default_batch_seconds
from recirc_analog.cosim.lockstep import CosimConfig, LockStep
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig, device_from_json, device_to_json, load_device, pcm
from recirc_analog.engines import get_engine
from recirc_analog.jobs import RuleSpec, TrainJob, from_record, run_train
from recirc_analog.jobs.records import to_record
from recirc_analog.reference import Recirculation, TrainConfig
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.rules import RecirculationRule
from recirc_analog.schematic import CircuitSpec, CrossbarConfig


def _job(rule: str, device=None, seed: int = 1, epochs: int = 3, **extra) -> TrainJob:
    return TrainJob((16, 4, 16), ("tanh", "linear"), RuleSpec(rule, Recirculation("pr")),
                    TrainConfig(epochs=epochs, batch_size=20, lr=0.01, seed=seed), "lowrank",
                    max_train=200, init_seed=seed, device=device, **extra)


def _relative(a, b) -> float:
    return float(np.linalg.norm(a - b) / np.linalg.norm(b))


@pytest.mark.parametrize("rule", ["rec", "bp"])
def test_the_ideal_device_is_the_plain_reference_to_rounding(rule):
    plain, plain_history = run_train(_job(rule), show_progress=False)
    ideal, ideal_history = run_train(_job(rule, DeviceConfig()), show_progress=False)
    for w, v in zip(ideal.weights + ideal.biases, plain.weights + plain.biases):
        assert _relative(w, v) < 1e-9
    for a, b in zip(ideal_history, plain_history):
        assert a.test_loss == pytest.approx(b.test_loss, rel=1e-9)
    assert plain_history[-1].test_loss < 0.8 * plain_history[0].test_loss   # it did learn


def test_a_noisy_device_is_reproducible_from_the_seed_and_differs_from_ideal():
    device = load_device("reram-hfo2")
    first, _ = run_train(_job("rec", device, epochs=1), show_progress=False)
    again, _ = run_train(_job("rec", device, epochs=1), show_progress=False)
    other, _ = run_train(_job("rec", device, seed=2, epochs=1), show_progress=False)
    ideal, _ = run_train(_job("rec", DeviceConfig(), epochs=1), show_progress=False)
    for w, v in zip(first.weights + first.biases, again.weights + again.biases):
        np.testing.assert_array_equal(w, v)
    assert _relative(first.weights[0], ideal.weights[0]) > 1e-3
    seed_two, _ = run_train(_job("rec", DeviceConfig(), seed=2, epochs=1), show_progress=False)
    assert _relative(other.weights[0], seed_two.weights[0]) > 1e-3
    assert not np.array_equal(first.weights[0], other.weights[0])


def test_max_norm_caps_the_targets_the_devices_are_asked_for():
    plain, _ = run_train(dataclasses.replace(_job("bp"), train=TrainConfig(epochs=2, batch_size=20, lr=0.05,
                                                                             max_norm=0.5, seed=1)),
                         show_progress=False)
    ideal, _ = run_train(dataclasses.replace(_job("bp", DeviceConfig()),
                                             train=TrainConfig(epochs=2, batch_size=20, lr=0.05, max_norm=0.5,
                                                               seed=1)), show_progress=False)
    assert _relative(ideal.weights[0], plain.weights[0]) < 1e-9
    assert np.linalg.norm(ideal.weights[0], axis=1).max() <= 0.5 * (1 + 1e-9)


def _conductances_after(device, batches: int = 5):
    """(co-simulation's, hardware-aware reference's) conductances after ``batches`` batches of the
    same run: direct engine, dc form, ideal neurons, rec pr."""
    config = CosimConfig(sizes=(16, 4, 16), activations=("tanh", "linear"), batch_size=20, lr=0.01,
                         engine="direct", seed=3)
    spec = CircuitSpec()
    data = load_dataset("lowrank", None, seed=config.seed, dim=16)
    lockstep = LockStep.create(config, spec, device, get_engine("direct"), data.train_mean)
    net = CircularAutoencoder.random(config.sizes, config.activations, seed=config.seed, data_mean=data.train_mean)
    trainer = HardwareAwareTrainer(net, RecirculationRule(spec.recirculation),
                                   TrainConfig(batch_size=20, layer_lrs=tuple(config.rates()), seed=config.seed,
                                               track_angles=False),
                                   device=device, device_seed=config.seed,
                                   crossbar=CrossbarConfig(headroom=config.headroom))
    assert trainer.mapping.r_f == lockstep.controller.mapping.r_f
    initial = [c.plus.copy() for c in trainer.state.all_conductances()]
    for k, x in enumerate(data.train_batches(20, np.random.default_rng(0))):
        if k == batches:
            break
        lockstep.step(x, f"batch {k + 1}")
        trainer.step(x)
    assert trainer.state.t == lockstep.controller.state.t == 5 * default_batch_seconds(20)
    moved = max(float(np.abs(c.plus - g).max()) for c, g in zip(trainer.state.all_conductances(), initial))
    assert moved > 1e-6                                          # the devices were programmed
    return lockstep.controller.state.all_conductances(), trainer.state.all_conductances()


@pytest.mark.parametrize("device", [load_device("reram-hfo2"), dataclasses.replace(pcm(), read_noise=0.0)],
                         ids=["reram-hfo2", "pcm-without-read-noise"])
def test_the_cosimulation_and_the_hardware_aware_reference_program_the_same_conductances(device):
    cosim, hardware_aware = _conductances_after(device)
    for a, b in zip(cosim, hardware_aware):
        np.testing.assert_array_equal(a.plus, b.plus)
        np.testing.assert_array_equal(a.minus, b.minus)


def test_read_noise_draws_depend_on_how_often_the_devices_are_read():
    """Why pcm (with read noise) is not bit-identical: every training read draws from the device's
    read stream, and the co-simulation reads each array twice per batch (the circuit, and
    LockStep's comparison through ``controller.weights()``) against the trainer's one. Programming
    decisions no longer read (``peek``); once LockStep compares with ``state.monitor_weights()``
    (the integrator's one-line change) the comparison stops drawing too."""
    cosim, hardware_aware = _conductances_after(pcm())
    assert not np.array_equal(cosim[0].plus, hardware_aware[0].plus)


def test_train_summary_records_the_device_and_parses_back(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["train", "--sizes", "16,4,16", "--act", "tanh,linear", "--epochs", "1", "--batch-size", "20",
                 "--max-train", "100", "--device", "pcm", "--headroom", "3", "--batch-seconds", "0.5",
                 "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["device"]["kind"] == "PulsedDevice"
    job = from_record(TrainJob, summary["config"])
    assert job.device == pcm() and job.headroom == 3.0 and job.batch_seconds == 0.5
    assert summary["device_seconds"] == pytest.approx(5 * 0.5)
    assert json.loads(json.dumps(to_record(job))) == summary["config"]


def test_a_device_file_is_accepted(tmp_path):
    path = tmp_path / "device.json"
    path.write_text(json.dumps(device_to_json(DeviceConfig(levels=32))))
    out = tmp_path / "run"
    assert main(["train", "--sizes", "16,4,16", "--epochs", "1", "--batch-size", "20", "--max-train", "40",
                 "--device", str(path), "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert device_from_json(summary["config"]["device"]) == DeviceConfig(levels=32)


@pytest.mark.parametrize("argv, message", [
    (["train", "--device", "nonsense"], "--device must be a preset"),
    (["train", "--headroom", "3"], "need --device"),
    (["cosim", "--device", "pcm", "--levels", "8", "--out", "x"], "--device and --levels exclude each other"),
])
def test_bad_device_options_are_one_line_usage_errors(argv, message, tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main([*argv, "--quiet"]) == 2
    error = capsys.readouterr().err
    assert message in error and error.count("\n") == 1


def test_cosim_device_preset_is_recorded_kind_tagged(tmp_path):
    out = tmp_path / "run"
    assert main(["cosim", "--sizes", "12,4,12", "--batches", "2", "--batch-size", "6", "--engine", "direct",
                 "--device", "reram-hfo2", "--test-samples", "5", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["device"]["kind"] == "PulsedDevice"
    assert device_from_json(summary["device"]) == load_device("reram-hfo2")
    assert from_record(type(load_device("reram-hfo2")), summary["device"]) == load_device("reram-hfo2")


def test_train_without_angles_trains_the_same_and_records_none(tmp_path):
    """``--angles no`` skips the backprop comparison only: same losses and weights as with angles."""
    runs = {}
    for angles in ("yes", "no"):
        out = tmp_path / angles
        assert main(["train", "--sizes", "16,4,16", "--act", "tanh,linear", "--epochs", "2", "--batch-size", "20",
                     "--max-train", "100", "--rule", "rec", "--device", "reram-hfo2", "--angles", angles,
                     "--out", str(out), "--quiet"]) == 0
        runs[angles] = (np.load(out / "weights.npz"), (out / "metrics.csv").read_text().splitlines())
    (with_w, with_rows), (without_w, without_rows) = runs["yes"], runs["no"]
    for key in with_w.files:
        np.testing.assert_array_equal(with_w[key], without_w[key])
    header = with_rows[0].split(",")
    angle = header.index("angle_A1")
    for a, b in zip(with_rows[1:], without_rows[1:]):
        assert a.split(",")[1:3] == b.split(",")[1:3]                 # train and test loss
    assert with_rows[-1].split(",")[angle] not in ("", "nan")
    assert without_rows[-1].split(",")[angle] in ("", "nan")


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_read_back_weights_are_contiguous_and_the_conductance_difference_bit_for_bit(mapping):
    """``to_weights`` computes W and b apart (so W is contiguous for the network's products): the
    same numbers as ``r_f (G+ - G-)`` (or ``G - G_ref``) of the whole array, sliced."""
    net = CircularAutoencoder.random((12, 5, 12), ("tanh", "logistic"), seed=3)
    crossbar = CrossbarConfig(headroom=2.0, mapping=mapping)
    trainer = HardwareAwareTrainer(net, RecirculationRule(Recirculation("pr")), TrainConfig(lr=0.05),
                                   device=pcm(), crossbar=crossbar)
    for c in trainer.state.all_conductances():                # one read (fresh read noise each time)
        w, b = trainer.mapping.to_weights(c)
        other = c.minus if c.minus is not None else c.reference[None, :]
        whole = trainer.mapping.r_f * (c.plus - other)
        assert w.flags.c_contiguous and w.shape == (whole.shape[0], whole.shape[1] - 1)
        np.testing.assert_array_equal(w, whole[:, :-1])
        np.testing.assert_array_equal(b, whole[:, -1])
