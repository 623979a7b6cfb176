"""Every co-simulation records the learning signal against the closed-form noise floor and the column
stages' peaks (cosim/learning_signal.py), also in the dc form without injected noise: checked against the
reference's own cycles (the ideal circuit computes them to ngspice's tolerance) and against the closed forms."""

import csv

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.data import load_dataset
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles
from recirc_analog.schematic.mapping import ConductanceMapping, choose_r_f
from recirc_analog.schematic.noise import BOLTZMANN
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig


def test_dc_cosim_records_signal_noise_floor_and_stage_peaks_of_its_first_minibatch(tmp_path):
    out = tmp_path / "run"
    assert main(["cosim", "--sizes", "8,3,8", "--act", "tanh,linear", "--batches", "2", "--batch-size", "2",
                 "--test-samples", "2", "--seed", "4", "--lr", "0.01", "--headroom", "2", "--out", str(out),
                 "--quiet"]) == 0
    with open(out / "metrics.csv") as handle:
        first = next(csv.DictReader(handle))
    # the first minibatch, on the initial weights, as run_cosim draws and maps them
    data = load_dataset("lowrank", None, seed=4, dim=8)
    x = next(data.train_batches(2, np.random.default_rng([4, 0])))
    net = CircularAutoencoder.random((8, 3, 8), ("tanh", "linear"), seed=4, data_mean=data.train_mean)
    cycles = run_cycles(net, x, CircuitSpec().recirculation)
    for h in range(3):
        expected = np.sqrt(np.mean((cycles[0][h] - cycles[1][h]) ** 2))
        assert float(first[f"signal_rms_L{h}"]) == pytest.approx(expected, rel=1e-5)
    # the floor: layer 0 is two kT/C readings of the 1 pF holds at 300 K, at 0.2 V per unit (Lowrank 8-d
    # fits the read budget unscaled only if its largest value is <= 1; else a power-of-two smaller scale)
    held = np.sqrt(BOLTZMANN * 300.0 / 1e-12)
    ratio = float(first["noise_rms_L0"]) / (np.sqrt(2) * held / 0.2)
    assert ratio >= 1 - 1e-9 and np.log2(ratio) == pytest.approx(round(np.log2(ratio)), abs=1e-9)
    # stage peaks: the closed form r_f' |G x~| of layer 1's cycle-0 read of the data, at most the recorded peak
    r_f = choose_r_f(net.weights, net.biases, CrossbarConfig(headroom=2.0))
    g = ConductanceMapping(CrossbarConfig(headroom=2.0), r_f).to_conductances(net.weights[0], net.biases[0])
    rows = np.hstack([x, np.ones((2, 1))])
    data_read = r_f * 0.2 * np.abs(np.concatenate([rows @ g.plus.T, rows @ g.minus.T], axis=1)).max()
    assert data_read <= float(first["stage_peak_V_L1"]) * (1 + 1e-9)
    assert float(first["stage_peak_V_L1"]) > 0 and float(first["stage_peak_V_L2"]) > 0
