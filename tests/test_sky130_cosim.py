"""A sky130 circuit against the reference on the circuit's own measured activation (issue 12), and a short
sky130 co-simulation that learns. Both run the real ngspice on the PDK's models."""

import numpy as np
import pytest

from recirc_analog.cosim.lockstep import CosimConfig, LockStep
from recirc_analog.cosim.measured_activation import MeasuredNetwork, measured_reference, periphery_energy
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles
from recirc_analog.schematic.builder import build_circuit, get_conductances, get_r_f
from recirc_analog.schematic.spec import CircuitSpec, NeuronConfig

SPEC = CircuitSpec(neuron=NeuronConfig(kind="sky130"), v_unit=0.1)

AGREEMENT_VOLTS = 8e-3
"""Largest |circuit - measured reference| of any cycle-0 activity (V) in the 8-2-8 forward pass (cycle 1:
1.5 times this). Measured at tt, 27 degC: 4.8 mV hidden and 4.1 mV output at cycle 0, 9.9 mV hidden at
cycle 1, against 12.5 mV for the ideal tanh, of activities up to 96 mV. The measured curve takes out the
pair's gain (0.92 V/V at 0), swing (+-0.155 V) and offset; what remains is the op-amps' virtual-ground
offset (about 0.6 mV) acting on the crossbar's conductances, which the current-driven measurement does
not see, and the spread of the gates' common mode."""


def _setup():
    net = CircularAutoencoder.random((8, 2, 8), ("tanh", "linear"), seed=0)
    x = np.random.default_rng(1).uniform(-1, 1, (3, 8))
    return net, x


def test_forward_pass_agrees_with_the_reference_on_the_measured_activation():
    net, x = _setup()
    circuit = build_circuit(net, SPEC, x)
    engine = BatchEngine()
    readings = engine.readings(circuit, (0, 1), "sky130 forward").readings
    scales = circuit.node_map.scales or (SPEC.v_unit,) * 3
    measured, records = measured_reference(net, SPEC, get_conductances(net, SPEC), get_r_f(net, SPEC), scales,
                                           x.mean(axis=0, keepdims=True), engine)
    assert isinstance(measured, MeasuredNetwork) and [r["cell"] for r in records] == ["sky130_dp_neuron_diff",
                                                                                        "sky130_diff_amp"]
    assert 0.85 < records[0]["gain_at_0"] < 0.97 and 0.99 < records[1]["gain_at_0"] < 1.01   # DATASHEET.md: 0.92
    reference = run_cycles(measured, x, SPEC.recirculation)
    ideal = run_cycles(net, x, SPEC.recirculation)
    for h in range(3):
        volts = scales[h]
        np.testing.assert_allclose(readings.held[h] * volts, reference[0][h] * volts, rtol=0, atol=AGREEMENT_VOLTS)
        np.testing.assert_allclose(readings.late[h] * volts, reference[1][h] * volts, rtol=0,
                                   atol=1.5 * AGREEMENT_VOLTS)   # cycle 1 carries cycle 0's error through the loop
    # the measured curve is the reason it agrees: the ideal tanh misses the hidden layer by far more
    ours, theirs = (np.abs(readings.held[1] - r[0][1]).max() for r in (reference, ideal))
    assert ours < 0.6 * theirs
    # energy: the static powers against circuits/DATASHEET.md's supply currents at tt, 27 degC (op-amp 131.4 uA,
    # neuron 172.3 uA, hold = its buffer), on 1.8 V; then the closed form of periphery_energy
    op_amp, neuron = 131.4e-6, 172.3e-6
    assert records[0]["stage_power_W"] == pytest.approx(1.8 * (2 * op_amp + neuron), rel=0.02)
    assert records[1]["stage_power_W"] == pytest.approx(1.8 * 3 * op_amp, rel=0.02)   # two TIAs and a diff amp
    assert records[0]["hold_power_W"] == pytest.approx(1.8 * op_amp, rel=0.02)
    energy = periphery_energy((8, 2, 8), records, SPEC)
    power = 2 * records[0]["stage_power_W"] + 8 * records[1]["stage_power_W"] + 18 * records[0]["hold_power_W"]
    assert energy["energy_per_sample_J"] == pytest.approx(power * 2 * SPEC.clock.phase, rel=1e-12)


@pytest.mark.slow
def test_a_short_sky130_cosimulation_learns():
    """Six local updates on one fixed minibatch of Lowrank: the sky130 circuit's loss on it falls by more than
    20 % (the ideal circuit: 1.87 -> 0.89), and the circuit stays near its lock-step reference. At
    v_unit = 0.05 V every TIA output stays inside the +-0.7 V swing (checked by the builder at each step)."""
    dataset = load_dataset("lowrank", None, seed=0, dim=8)
    x = dataset.test[8:12]                               # |x| <= 1.73 (test[:4] holds a 5.0: beyond the TIA swing)
    config = CosimConfig(sizes=(8, 2, 8), activations=("tanh", "linear"), data="lowrank", batch_size=4, lr=0.1)
    lockstep = LockStep.create(config, CircuitSpec(neuron=NeuronConfig(kind="sky130"), v_unit=0.05), DeviceConfig(),
                               BatchEngine(), dataset.train_mean)
    assert isinstance(lockstep.reference.net, MeasuredNetwork) and len(lockstep.activations) == 2
    rows = [lockstep.step(x, f"batch {k}") for k in range(6)]
    losses = [r["cosim_loss"] for r in rows]
    assert losses[-1] < 0.8 * losses[0], losses
    assert rows[-1]["weight_rel_diff_max"] < 0.1
