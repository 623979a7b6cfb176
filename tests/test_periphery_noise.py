"""The sky130 cells' own noise (ngspice ``.noise``, ``recirc_analog.pdk.noise``): the band
integration against closed forms, ngspice's density of a resistor against 4kTR*B and of an RC
against kT/C, and the cells' figures against physical lower bounds and ngspice's own integral."""

import subprocess

import numpy as np
import pytest

from recirc_analog.cosim.periphery_noise import periphery_noise
from recirc_analog.engines.rawfile import read_raw
from recirc_analog.errors import ConfigError
from recirc_analog.jobs import characterise
from recirc_analog.pdk import testbenches
from recirc_analog.pdk.noise import NOISE_F_HIGH, NOISE_F_LOW, band_power, band_rms, noise_card, noise_rms
from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.noise import (
    BOLTZMANN,
    FLOOR_PARTS,
    PeripheryNoise,
    noise_floor,
    noise_floor_parts,
)
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig

T_NGSPICE = 300.15
"""ngspice's default temperature, 27 degC, in K."""


def _noise_plots(ngspice, text: str, folder) -> dict:
    """Run ``text`` in ``folder``; plots by the first word of their name (``noise``, ``integrated``)."""
    (folder / "n.cir").write_text(text)
    done = subprocess.run([ngspice.executable, "-b", "-n", "-r", "n.raw", "n.cir"], cwd=folder, capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0 and (folder / "n.raw").exists(), done.stderr[-300:]
    return {p.plot_name.split()[0].lower(): p.vectors for p in read_raw(folder / "n.raw")}


def test_band_power_is_exact_for_power_laws():
    f = np.logspace(0, 9, 46)                         # 5 points per decade: coarse on purpose
    assert band_power(f, np.full(f.size, 2.0)) == pytest.approx(4.0 * (f[-1] - f[0]), rel=1e-12)
    assert band_power(f, 1 / np.sqrt(f)) == pytest.approx(np.log(f[-1] / f[0]), rel=1e-12)
    assert band_power(f, 1 / f) == pytest.approx(1 / f[0] - 1 / f[-1], rel=1e-12)
    # limits inside a segment, white: exactly the band's width
    assert band_power(f, np.ones(f.size), 3.3, 7.7e5) == pytest.approx(7.7e5 - 3.3, rel=1e-12)
    assert band_rms(f, np.full(f.size, 3.0), 10, 1010) == pytest.approx(3.0 * np.sqrt(1000), rel=1e-12)


def test_band_power_refuses_bad_input():
    f = np.logspace(0, 3, 4)
    with pytest.raises(ConfigError, match="f_high"):
        band_power(f, np.ones(4), 1.0, 1e4)
    with pytest.raises(ConfigError, match="increasing"):
        band_power(f[::-1], np.ones(4))
    with pytest.raises(ConfigError, match="f_high"):
        noise_card("out", "I1", 1e3, 1e2)


def test_resistor_noise_integrates_to_4kTRB(ngspice, tmp_path):
    """A resistor fed by a (noiseless) current source: ngspice's output density integrates to
    4 k T R (f_high - f_low) on any band, independent of the points per decade."""
    r = 1e3
    text = f"* resistor\nI1 0 out dc 0 ac 1\nR1 out 0 {r:g}\n{noise_card('out', 'I1', 10, 1e9, 7)}\n.end\n"
    spectrum = _noise_plots(ngspice, text, tmp_path)["noise"]
    f, d = spectrum["frequency"], spectrum["onoise_spectrum"]
    for lo, hi in ((10, 1e9), (1e3, 5e5), (123.0, 4.56e7)):
        assert band_power(f, d, lo, hi) == pytest.approx(4 * BOLTZMANN * T_NGSPICE * r * (hi - lo), rel=1e-6)


def test_resistor_written_noiseless_adds_nothing(ngspice, tmp_path):
    """``noisy=0`` (how the co-simulation keeps the crossbar's 4kTG out of the periphery's part)."""
    text = (f"* two resistors, one noiseless\nI1 0 out dc 0 ac 1\nR1 out 0 1k\nR2 out 0 1k noisy=0\n"
            f"{noise_card('out', 'I1', 1e3, 1e6, 5)}\n.end\n")
    spectrum = _noise_plots(ngspice, text, tmp_path)["noise"]
    expected = np.sqrt(4 * BOLTZMANN * T_NGSPICE / 1e3) * 500.0     # R1's current through R1 || R2
    assert np.allclose(spectrum["onoise_spectrum"], expected, rtol=1e-6)


def test_rc_noise_integrates_to_kT_over_C(ngspice, tmp_path):
    """R parallel C: S(f) = 4kTR / (1 + (2 pi f R C)^2), whose integral over [f1, f2] is
    2kT / (pi C) (atan(2 pi f2 R C) - atan(2 pi f1 R C)) -> kT / C, whatever R."""
    for r in (1e3, 1e6):
        c = 1e-12
        text = f"* rc\nI1 0 out dc 0 ac 1\nR1 out 0 {r:g}\nC1 out 0 {c:g}\n{noise_card('out', 'I1', 1, 1e12)}\n.end\n"
        spectrum = _noise_plots(ngspice, text, tmp_path)["noise"]
        f, d = spectrum["frequency"], spectrum["onoise_spectrum"]
        tau = 2 * np.pi * r * c
        closed = 2 * BOLTZMANN * T_NGSPICE / (np.pi * c) * (np.arctan(tau * 1e12) - np.arctan(tau))
        assert band_power(f, d) == pytest.approx(closed, rel=2e-3)
        assert band_power(f, d) == pytest.approx(BOLTZMANN * T_NGSPICE / c, rel=2e-3)


@pytest.fixture(scope="module")
def noise_plots():
    """Each analogue cell's testbench at tt, 27 degC with only its operating point and its
    ``.noise`` analysis (the other analyses dropped: a few seconds of CPU for the three)."""
    plots = {}
    for cell in ("opamp", "neuron", "sample_hold"):
        lines = testbenches.testbench(cell, "tt", 27.0, True).splitlines()
        text = "\n".join(line for line in lines if not line.startswith((".ac ", ".dc ", ".tran "))) + "\n"
        plots[cell] = characterise.run_testbench(text, cell, "tt")
    return plots


def test_cell_noise_agrees_with_ngspice_integral_and_physical_bounds(noise_plots):
    kt = BOLTZMANN * T_NGSPICE
    for cell, plots in noise_plots.items():
        ours = noise_rms(plots)
        assert ours == pytest.approx(float(np.real(plots["integrated"]["v(onoise_total)"][0])), rel=2e-3), cell
    # the TIA's rf (10 kohm) alone puts 4kT rf on the output at low frequency (noise gain 1):
    # the whole stage cannot be quieter than that in the 1 kHz - 100 kHz decade band
    spectrum = noise_plots["opamp"]["noise"]
    in_band = band_power(spectrum["frequency"], spectrum["onoise_spectrum"], 1e4, 1e5)
    assert in_band >= 4 * kt * testbenches.TIA_RF * 9e4
    # the tracking sample-and-hold: at least the kT/C of its 1 pF hold capacitor
    assert noise_rms(noise_plots["sample_hold"]) >= np.sqrt(kt / 1e-12)
    # the band is the documented one
    assert noise_plots["neuron"]["noise"]["frequency"][0] == pytest.approx(NOISE_F_LOW)
    assert noise_plots["neuron"]["noise"]["frequency"][-1] == pytest.approx(NOISE_F_HIGH)


def _conductances(g: float, n_out: int, n_in: int) -> Conductances:
    return Conductances(np.full((n_out, n_in + 1), g), np.full((n_out, n_in + 1), g), None)


def test_floor_is_the_power_sum_of_named_parts():
    spec = CircuitSpec(form="tran", noise=True)
    g = [_conductances(20e-6, 4, 16), _conductances(20e-6, 16, 4)]
    scales = [0.2, 0.1, 0.2]
    quiet = noise_floor_parts(spec, g, 10e3, scales)
    assert set(quiet) == set(FLOOR_PARTS) and np.all(quiet["periphery"] == 0)
    assert np.allclose(noise_floor(spec, g, 10e3, scales), np.sqrt(quiet["ktc"] ** 2 + quiet["devices"] ** 2))
    periphery = PeripheryNoise(held=3e-4, live=(1e-3, 2e-3), band=(1e3, 1e9))
    parts = noise_floor_parts(spec, g, 10e3, scales, periphery)
    assert np.allclose(parts["periphery"], [np.sqrt(2) * 3e-4 / 0.2, np.hypot(3e-4, 1e-3) / 0.1,
                                            np.hypot(3e-4, 2e-3) / 0.2])
    floor = noise_floor(spec, g, 10e3, scales, periphery)
    assert np.allclose(floor ** 2, noise_floor(spec, g, 10e3, scales) ** 2 + parts["periphery"] ** 2)
    with pytest.raises(ConfigError, match="one live value per layer"):
        noise_floor(spec, g, 10e3, scales, PeripheryNoise(3e-4, (1e-3,), (1e3, 1e9)))


def test_periphery_noise_of_a_sky130_run(noise_plots):
    """The co-simulation's chains in ngspice: more column conductance, more noise gain (1 + rf G);
    the hold buffer alone is the tracking sample-and-hold (same bias, shifted by 0.9 V) without
    its switch's noise on the hold capacitor, which is at most kT/C."""
    spec = CircuitSpec(form="tran", noise=True, neuron=NeuronConfig(kind="sky130"))
    small = periphery_noise(spec, [_conductances(1e-6, 4, 16), _conductances(1e-6, 16, 4)], 10e3,
                            [0.2, 0.2, 0.2], ("tanh", "linear"))
    large = periphery_noise(spec, [_conductances(50e-6, 4, 16), _conductances(1e-6, 16, 4)], 10e3,
                            [0.2, 0.2, 0.2], ("tanh", "linear"))
    assert large.live[0] > 1.3 * small.live[0] and large.live[1] == small.live[1] and large.held == small.held
    assert all(v > 0 for v in small.live) and small.band == (NOISE_F_LOW, NOISE_F_HIGH)
    tracking = noise_rms(noise_plots["sample_hold"])
    switch_part = tracking ** 2 - small.held ** 2
    assert 0 < switch_part <= 1.05 * BOLTZMANN * T_NGSPICE / 1e-12


def test_learning_signal_floor_adds_the_periphery_only_for_sky130(random_network):
    """``noise_row`` (the metrics' hook): sky130 runs get the periphery part at the run's r_f and
    conductances; other peripheries keep the kT/C + 4kTG floor."""
    from types import SimpleNamespace

    from recirc_analog.cosim.learning_signal import noise_row
    from recirc_analog.schematic.voltage_budget import plan

    net, rng = random_network((16, 4, 16), ("tanh", "linear"), 3)
    x = rng.uniform(-1, 1, (2, 16))
    g = [_conductances(20e-6, 4, 16), _conductances(20e-6, 16, 4)]
    rows = {}
    for kind in ("ideal", "sky130"):
        spec = CircuitSpec(form="tran", noise=True, neuron=NeuronConfig(kind=kind), crossbar=CrossbarConfig(r_f=10e3))
        controller = SimpleNamespace(spec=spec, network=lambda: net, last_reading=(g, None))
        rows[kind] = np.array([noise_row(controller, x)[f"noise_rms_L{h}"] for h in range(3)])
        scales = plan(net, x, spec).scales
    assert np.allclose(rows["ideal"], noise_floor(spec, g, spec.crossbar.r_f, scales))
    expected = noise_floor(spec, g, spec.crossbar.r_f, scales,
                           periphery_noise(spec, g, spec.crossbar.r_f, scales, ("tanh", "linear")))
    assert np.allclose(rows["sky130"], expected) and np.all(rows["sky130"] > rows["ideal"])
