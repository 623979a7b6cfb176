"""The memristor compact models of circuits/memristors/, run in ngspice through their testbenches.

Oracles: the model's equations written from the papers in NumPy
(:mod:`recirc_analog.devices.compact.models`) and their ODE integrated with SciPy
(:func:`integrate_state`), independent of the netlist text; the closed-form facts
of a memristor (the loop is pinched at v = 0) and of the thresholds (zero rate below them).
"""

import re

import numpy as np
import pytest
from memristor_benches import p_default, pulse_waveform, read_conductances, read_states, read_times, run_bench

from recirc_analog.devices.compact.models import COMPACT_MODELS, integrate_state

MODELS = tuple(COMPACT_MODELS)


@pytest.fixture
def bench(tmp_path, circuits_dir, ngspice):
    """``run(model, kind, **overrides)``: the model's testbench with some .params replaced; (vectors, params)."""
    return lambda model, kind, **overrides: run_bench(ngspice, circuits_dir, tmp_path, model, kind, **overrides)


@pytest.mark.parametrize("name", MODELS)
def test_hysteresis_loop_is_pinched_and_open(bench, name):
    v, p = bench(name, "hysteresis")
    model = COMPACT_MODELS[name]()
    volts, current, x = v["v(a)"], -v["i(vs)"], v["v(x1.x)"]
    # the current is the model's i(v, x) at the simulated state (the netlist implements the paper's I-V)
    np.testing.assert_allclose(current, model.current(volts, x), rtol=1e-6, atol=1e-12 * np.abs(current).max())
    # pinched: at every zero crossing of v the current is 0 (interpolated between time points)
    crossings = np.flatnonzero(np.sign(volts[:-1]) * np.sign(volts[1:]) < 0)
    assert len(crossings) >= 3
    for k in crossings:
        s = volts[k] / (volts[k] - volts[k + 1])
        i0 = current[k] + s * (current[k + 1] - current[k])
        assert abs(i0) < 1e-3 * np.abs(current).max()           # linear interpolation of a smooth i(t)
        g_max = max(abs(model.current(volts[k], 0.0)), abs(model.current(volts[k], 1.0)))
        assert abs(current[k]) <= g_max * 1.000001                  # |i| <= |i(v, most conductive x)|
    # open: the state really moves, so the same voltage gives two currents (a loop, not a line)
    assert x.max() - x.min() > 0.2
    # the area enclosed by the positive lobes (oint i dv; 0 for any memoryless i(v)), relative to the box
    positive = volts[1:] > 0
    area = abs(np.sum(0.5 * (current[1:] + current[:-1]) * np.diff(volts) * positive))
    assert area > 0.05 * np.abs(current).max() * np.abs(volts).max()


@pytest.mark.parametrize("name", MODELS)
def test_state_change_per_pulse_matches_the_ode(bench, name):
    v, p = bench(name, "pulses", nup=20, ndown=20)
    model = COMPACT_MODELS[name]()
    states = read_states(v, p)
    oracle = integrate_state(model, *pulse_waveform(p), p["x0"])
    reference = np.interp(read_times(p), pulse_waveform(p)[0], oracle)
    steps, expected = np.diff(np.r_[p["x0"], states]), np.diff(np.r_[p["x0"], reference])
    assert np.all(np.abs(expected) > 1e-3)                      # every pulse moves the device
    np.testing.assert_allclose(steps, expected, rtol=2e-3)
    np.testing.assert_allclose(states, reference, atol=2e-4)
    # the read current is the model's at the state reached (the pulse response as a read sees it)
    g = read_conductances(v, p)
    np.testing.assert_allclose(g, model.read_conductance(states, p["vread"]), rtol=1e-5)


@pytest.mark.parametrize("name, amplitudes, widths", [
    ("vteam", (-0.21, -0.25, 0.3, 1.0), (0.5e-9, 2e-9)),
    ("yakopcic", (0.3, 0.8, -0.3, -0.8), (5e-6, 2e-5)),
])
def test_step_against_amplitude_and_width_matches_the_ode(bench, name, amplitudes, widths):
    """One pulse of each amplitude and width, from the middle of the range, against the ODE."""
    model = COMPACT_MODELS[name]()
    for amplitude in amplitudes:
        for width in widths:
            tr = width / 10
            v, p = bench(name, "pulses", x0=0.5, vup=amplitude, nup=1, ndown=0, tw=width, tr=tr,
                         per=5 * (width + 2 * tr), steps=2000)     # fine steps resolve the threshold kink
            step = read_states(v, p)[0] - 0.5
            expected = integrate_state(model, *pulse_waveform(p), 0.5)[-1] - 0.5
            assert np.sign(step) == np.sign(expected) == np.sign(amplitude)    # positive v raises x in both
            assert step == pytest.approx(expected, rel=2e-3), (amplitude, width)


@pytest.mark.parametrize("name", MODELS)
def test_subthreshold_reads_leave_the_state_unchanged(bench, name):
    """Long reads (a fifth of the time) at 95 % of either threshold, both signs: the state moves < 1e-9."""
    model = COMPACT_MODELS[name]()
    low, high = model.thresholds
    for vread in (0.95 * high, 0.95 * low):
        v, p = bench(name, "pulses", x0=0.5, vup=0.0, vdown=0.0, vread=vread, nup=10, ndown=10,
                     tw=0.2 * p_default(name, "per"), steps=20)
        assert np.abs(v["v(x1.x)"] - 0.5).max() < 1e-9
        assert np.abs(v["i(vs)"]).max() > 0.9 * abs(model.current(vread, 0.5))   # the reads did happen


@pytest.mark.parametrize("name, up, down, width", [
    ("vteam", -1.0, 1.5, 2e-7),
    ("yakopcic", 1.5, -1.5, 5e-3),
])
def test_state_stays_within_its_bounds_under_long_pulses(bench, name, up, down, width):
    v, p = bench(name, "pulses", x0=0.5, vup=up, vdown=down, tw=width, per=5 * width, tr=width / 100,
                 nup=3, ndown=3)
    x = v["v(x1.x)"]
    assert x.min() >= -1e-6 and x.max() <= 1 + 1e-6
    first, second = read_states(v, p)[[2, 5]]
    high, low = (first, second) if up > 0 else (second, first)     # positive v raises x in both models
    assert high > 0.95 and low < 0.05                            # the pulses did drive it to the bounds


def test_package_copies_are_the_circuits_files(circuits_dir):
    from importlib import resources

    for name, cls in COMPACT_MODELS.items():
        packaged = resources.files("recirc_analog.cell_library").joinpath(cls.library).read_text()
        assert packaged == (circuits_dir / "memristors" / f"{name}.lib").read_text()


@pytest.mark.parametrize("name", MODELS)
def test_record_defaults_are_the_subcircuit_defaults(circuits_dir, name):
    """The record's parameters and the .subckt line's defaults are the same published numbers."""
    from recirc_analog.devices.compact.models import spice_parameters

    text = (circuits_dir / "memristors" / f"{name}.lib").read_text()
    header = re.search(r"^\.subckt .*?(?=^[^+])", text, re.M | re.S).group(0).replace("\n+", " ")
    defaults = {k: float(v) for k, v in re.findall(r"(\w+)=([-+0-9.eE]+)", header)}
    assert dict(spice_parameters(COMPACT_MODELS[name]())) == {k: v for k, v in defaults.items() if k != "x0"}


@pytest.mark.parametrize("field, value, message", [
    ("r_off", 10.0, r"r_off must be in \(50.0, inf\), got 10.0"),
    ("v_on", 0.1, r"v_on must be in \[-10.0, 0.0\), got 0.1"),
    ("p_window", 2.5, r"p_window must be an integer in \[1, 50\], got 2.5"),
])
def test_bad_parameters_are_one_line_errors(field, value, message):
    from recirc_analog.errors import ConfigError

    with pytest.raises(ConfigError, match=message):
        COMPACT_MODELS["vteam"](**{field: value})
