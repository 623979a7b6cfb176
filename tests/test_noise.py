"""Seeded thermal noise (tran form): the simulated variances against kT/C and 4kTRB, noise off
changes nothing, the same seed gives the same circuit, the direct engine refuses it."""

import numpy as np
import pytest

from recirc_analog.engines.direct import DirectEngine
from recirc_analog.errors import ConfigError, SimulationError
from recirc_analog.netlist_writers import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Block, Circuit, Instance, PhaseClock, Resistor, Transient
from recirc_analog.schematic.graph import validate
from recirc_analog.schematic.node_map import NodeMap
from recirc_analog.schematic.noise import BOLTZMANN, NoiseModel, NoiseSource
from recirc_analog.schematic.spec import CircuitSpec

STEP = 1e-6
WINDOWS = 4000
"""Samples per testbench: the variance estimate's relative standard error is sqrt(2 / N) = 2.2 %."""
TOLERANCE = 5 * np.sqrt(2 / (WINDOWS / 2))
"""Five standard errors of a variance estimated from the WINDOWS / 2 samples the tests read."""


def _model(temperature=300.0, seed=1) -> NoiseModel:
    return NoiseModel(temperature, STEP, -0.5 * STEP, WINDOWS, np.random.default_rng(seed))


def _testbench(elements, saves) -> Circuit:
    node_map = NodeMap(form="tran", sizes=(1, 1, 1), cycles=1, batch=1, v_unit=1.0, device_prefixes={},
                       activity_nodes={}, held_nodes={}, copies=(), tile_shape=(1, 1))
    circuit = Circuit(title="noise testbench", description=(), cells=("sample_hold",), crossbars=(),
                      blocks=(Block("testbench", tuple(elements)),),
                      analysis=Transient(STEP, (WINDOWS - 1) * STEP, STEP), reltol=1e-6, vntol=1e-12,
                      saves=saves, node_map=node_map)
    validate(circuit)
    return circuit


def _steady(vectors, node):
    """(times, values) of ``node`` after ngspice's start-up steps (from the third window on)."""
    keep = vectors["time"] > 2.5 * STEP
    return vectors["time"][keep], vectors[f"v({node})"][keep]


def test_device_thermal_noise_on_a_resistor_is_4kTRB(ngspice, tmp_path):
    """A resistor R with its own thermal current: v = R i, variance 4 k T R B with B = 1 / (2 step)."""
    r, temperature = 1e6, 300.0
    model = _model(temperature)
    source = model.source("Bnz_a", "0", "a", "current", model.thermal_sigma(1 / r))
    vectors = ngspice.simulate(get_writer().get_netlist(_testbench([Resistor("R1", "a", "0", r), source], ("a",))),
                               tmp_path)
    _, v = _steady(vectors, "a")
    expected = 4 * BOLTZMANN * temperature * r / (2 * STEP)
    assert len(v) > WINDOWS - 10
    assert abs(np.var(v) / expected - 1) < TOLERANCE
    assert abs(np.mean(v)) < 5 * np.sqrt(expected / len(v))


def test_hold_capacitor_keeps_kT_over_C(ngspice, tmp_path):
    """A sample_hold tracking 0 V through its kT/C source: the held values (hold phases) have variance k T / C."""
    c, temperature = 1e-13, 350.0
    model = _model(temperature, seed=2)
    clock = PhaseClock("Bclk", "clk", STEP, 2, 0, (0,))
    source = model.source("Bnz_cap", "nz", "0", "voltage", model.ktc_sigma(c))
    hold = Instance("Xh", "sample_hold", ("nz", "clk", "cap", "out"), (("c", c), ("ron", 100.0), ("roff", 1e16)))
    vectors = ngspice.simulate(get_writer().get_netlist(_testbench([clock, source, hold], ("cap", "clk"))),
                               tmp_path)
    t, v = _steady(vectors, "cap")
    slot = np.floor(t / STEP + 0.5).astype(int)
    held = v[slot % 2 == 1]                                     # phase 1 of every pair: holding
    expected = BOLTZMANN * temperature / c
    assert abs(np.var(held) / expected - 1) < TOLERANCE
    # each held value is the noise sample of the tracking window just before it (to the solver's
    # tolerances and the one-step tracking error r_on c / step = 1e-5)
    samples = np.asarray(source.values)
    np.testing.assert_allclose(held, samples[slot[slot % 2 == 1] - 1], rtol=0, atol=1e-3 * np.sqrt(expected))


def _tiny():
    net = CircularAutoencoder.random((4, 2, 4), ("tanh", "linear"), seed=5)
    x = np.random.default_rng(1).uniform(0, 1, (3, 4))
    return net, x


def test_noise_off_adds_nothing_and_same_seed_same_circuit():
    net, x = _tiny()
    writer = get_writer()
    quiet = writer.get_netlist(build_circuit(net, CircuitSpec(form="tran"), x))
    assert "Bnz" not in quiet and "pwl(time" not in quiet
    noisy = writer.get_netlist(build_circuit(net, CircuitSpec(form="tran", noise=True, noise_seed=3), x))
    again = writer.get_netlist(build_circuit(net, CircuitSpec(form="tran", noise=True, noise_seed=3), x))
    other = writer.get_netlist(build_circuit(net, CircuitSpec(form="tran", noise=True, noise_seed=4), x))
    assert noisy == again and noisy != other
    # one kT/C source per hold (4 + 2 + 4) and one 4kTG source per column line (2 x (2 + 4))
    assert noisy.count("\nBnz_hc") == 10 and noisy.count("\nBnz_c") == 12


def test_noise_sources_have_the_closed_form_amplitudes():
    net, x = _tiny()
    spec = CircuitSpec(form="tran", noise=True, temperature=400.0)
    circuit = build_circuit(net, spec, x)
    sources = {e.name: e for b in circuit.blocks for e in b.elements if isinstance(e, NoiseSource)}
    n = len(sources["Bnz_hc1_0"].values)
    assert n >= circuit.analysis.stop / circuit.analysis.max_step
    # a source's sample spread against its closed form; the window covers every phase
    kt = BOLTZMANN * 400.0
    assert abs(np.std(sources["Bnz_hc1_0"].values) / np.sqrt(kt / 1e-12) - 1) < 5 / np.sqrt(2 * n)
    from recirc_analog.schematic.builder import get_conductances

    g = get_conductances(net, spec)[0].plus[1].sum()
    bandwidth = 0.5 / circuit.analysis.max_step
    assert abs(np.std(sources["Bnz_cp1_1"].values) / np.sqrt(4 * kt * g * bandwidth) - 1) < 5 / np.sqrt(2 * n)


def test_noisy_circuit_runs_in_ngspice_and_stays_near_the_quiet_one(run_circuit, tmp_path):
    from recirc_analog.engines.readout import read_activity

    net, x = _tiny()
    (tmp_path / "a").mkdir(), (tmp_path / "b").mkdir()
    node_map, quiet = run_circuit(net, CircuitSpec(form="tran"), x, tmp_path / "a")
    _, noisy = run_circuit(net, CircuitSpec(form="tran", noise=True), x, tmp_path / "b")
    for h in range(3):
        difference = read_activity(noisy, node_map, h, 1) - read_activity(quiet, node_map, h, 1)
        assert 0 < np.abs(difference).max() < 0.05              # kT/C of 1 pF: 64 uV = 3e-4 of an activity


def test_noise_needs_the_tran_form_and_is_validated():
    with pytest.raises(ConfigError, match="noise needs form tran"):
        CircuitSpec(noise=True)
    with pytest.raises(ConfigError, match=r"temperature \(K\) must be in \(0, 1000\.0\], got -3"):
        CircuitSpec(form="tran", noise=True, temperature=-3)
    with pytest.raises(ConfigError, match="noise_seed must be an integer >= 0, got -1"):
        CircuitSpec(form="tran", noise=True, noise_seed=-1)


def test_direct_engine_refuses_noise():
    net, x = _tiny()
    circuit = build_circuit(net, CircuitSpec(form="tran", noise=True), x)
    with pytest.raises(SimulationError, match=r"cannot compute transient noise \(--noise\)"):
        DirectEngine().readings(circuit, (0, 1), "batch 0")


def _cosim(out, seed):
    import csv

    from recirc_analog.cli import main

    argv = ["cosim", "--sizes", "8,3,8", "--act", "tanh,linear", "--form", "tran", "--noise", "--temperature", "350",
            "--batches", "2", "--batch-size", "4", "--test-samples", "4", "--seed", str(seed), "--lr", "0.01",
            "--out", str(out), "--quiet"]
    assert main(argv) == 0
    with open(out / "metrics.csv") as handle:
        return list(csv.DictReader(handle))


def test_cosim_with_noise_records_the_learning_signal_against_the_noise(tmp_path):
    rows = _cosim(tmp_path / "a", seed=1)
    again = _cosim(tmp_path / "b", seed=1)
    assert [r["cosim_loss"] for r in rows] == [r["cosim_loss"] for r in again]      # same seed, same run
    held = np.sqrt(BOLTZMANN * 350.0 / 1e-12)
    for row in rows:
        for h in range(3):
            assert float(row[f"signal_rms_L{h}"]) > 0
        # layer 0: two kT/C readings, at most 0.2 V per unit (less when the budget scaled layer 0)
        assert float(row["noise_rms_L0"]) >= np.sqrt(2) * held / 0.2 * (1 - 1e-12)
        # the hidden layer runs at v_unit = 0.2 V: at least its hold's kT/C
        assert float(row["noise_rms_L1"]) >= held / 0.2 * (1 - 1e-12)
