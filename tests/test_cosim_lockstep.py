"""Co-simulation in ngspice against the lock-step NumPy reference.

Oracles: with ideal devices and the exact neuron, the circuit's local
updates must reproduce the reference's weights (the reference is exact); a
leaky hold capacitor must make them differ (the held voltage drives learning).
"""

import numpy as np
import pytest

from recirc_analog.cosim.local_rule import RecirculationLocalRule
from recirc_analog.cosim.lockstep import CosimConfig, LockStep
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines import get_engine
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import RecirculationRule
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, SampleHoldConfig, ideal_sample_hold


def run_lockstep(form, batches, mode="pr", hold=None, sizes=(64, 16, 64), acts=("tanh", "linear"),
                 batch_size=10, lr=0.01, mapping="differential"):
    config = CosimConfig(sizes=sizes, activations=acts, batch_size=batch_size, lr=lr, seed=1)
    spec = CircuitSpec(recirculation=Recirculation(mode, 0.5), form=form,
                       sample_hold=hold or ideal_sample_hold(), crossbar=CrossbarConfig(mapping=mapping))
    data = load_dataset("lowrank", seed=1, dim=sizes[0])
    engine = get_engine("batch")
    lockstep = LockStep.create(config, spec, DeviceConfig(), engine, data.train_mean)
    rows = []
    for k, x in zip(range(batches), data.train_batches(batch_size, np.random.default_rng(0))):
        rows.append(lockstep.step(x / 4.0, label=f"batch {k}"))
    return lockstep, rows


@pytest.mark.parametrize("form, mapping", [("dc", "differential"), ("tran", "differential"),
                                           ("dc", "shared_reference")])
def test_ideal_circuit_tracks_reference_for_50_updates(form, mapping):
    lockstep, rows = run_lockstep(form, 50, mapping=mapping)
    worst = max(max(r[f"weight_rel_diff_A{h}"] for h in (1, 2)) for r in rows)
    assert worst <= 1e-5, f"largest relative weight difference {worst:.3g}"
    # Learning happened: the circuit's loss fell.
    losses = [r["cosim_loss"] for r in rows]
    assert np.mean(losses[-10:]) < 0.9 * np.mean(losses[:10])
    assert rows[-1]["cosim_loss"] == pytest.approx(rows[-1]["reference_loss"], rel=1e-4)


@pytest.mark.parametrize("form, mode, cycles", [
    ("dc", "pr", (0, 1)), ("dc", "ccr", (0, 1)), ("dc", "rcc", (0, 1)), ("dc", "ccrcc", (0, 1)),
    ("dc", "rwcc", (0, 1)), ("dc", "error", (0, 1)), ("dc", "pr", (0, 3)), ("dc", "pr", (1, 2)),
    ("tran", "ccr", (0, 1)), ("tran", "error", (0, 1)), ("tran", "rwcc", (0, 2)),
])
def test_local_update_from_readings_equals_reference_rule(form, mode, cycles):
    """One batch: the update computed from ngspice voltages equals the reference rule's update."""
    config = CosimConfig(sizes=(12, 5, 12), activations=("tanh", "tanh"), lr=0.01, seed=3)
    recirculation = Recirculation(mode, 0.3, cycles)
    spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold())
    data = load_dataset("lowrank", seed=2, dim=12)
    engine = get_engine("batch")
    lockstep = LockStep.create(config, spec, DeviceConfig(), engine, data.train_mean)
    x = data.test[:7] / 4.0
    net = lockstep.controller.network()
    readings, _, _ = lockstep.controller.simulate(x, "one batch")
    rates = lockstep.controller.rates
    assert lockstep.controller.rule == RecirculationLocalRule(recirculation)       # the default rule
    from_circuit = lockstep.controller.rule.directions(readings).scaled(rates)
    expected = RecirculationRule(recirculation).directions(net, x).scaled(rates)
    for got, want in zip(from_circuit.weights + from_circuit.biases, expected.weights + expected.biases):
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-7 * np.abs(want).max())


def test_leaky_hold_capacitor_makes_circuit_depart_from_reference():
    leaky = SampleHoldConfig(c_hold=1e-12, r_on=1e-3, r_off=1e16, r_leak=2e6)  # tau = 2 us, phase 1 us
    _, rows = run_lockstep("tran", 5, hold=leaky)
    assert rows[-1]["weight_rel_diff_max"] > 1e-3
    _, ideal_rows = run_lockstep("tran", 5)
    assert ideal_rows[-1]["weight_rel_diff_max"] < 1e-6
