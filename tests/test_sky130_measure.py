"""The characterisation's waveform measurements against closed forms (no ngspice)."""

import numpy as np
import pytest

from recirc_analog.pdk import measure as m


def test_settling_time_of_a_first_order_step_is_tau_ln_step_over_tolerance():
    tau, t0, step, tol = 20e-9, 100e-9, 0.2, 0.2e-3
    t = np.linspace(0, 1e-6, 200001)
    y = 0.9 + step * np.where(t > t0, 1 - np.exp(-(t - t0) / tau), 0.0)
    assert m.settling_time(t, y, t0, 0.9 + step, tol) == pytest.approx(tau * np.log(step / tol), rel=1e-4)
    assert m.settling_time(t, y, t0, 0.9 + step + 1.0, tol) == np.inf      # never reaches a wrong final value
    assert m.settling_time(t, np.full_like(t, 1.0), t0, 1.0, tol) == 0.0


def test_unity_gain_and_phase_margin_of_a_two_pole_amplifier():
    a0, p1, p2 = 1e4, 1e3, 3e7
    f = np.logspace(0, 10, 2001)
    h = a0 / ((1 + 1j * f / p1) * (1 + 1j * f / p2))
    ugf, pm = m.unity_gain(f, h)
    assert abs(h[np.argmin(np.abs(f - ugf))]) == pytest.approx(1.0, rel=2e-2)
    exact = f[np.argmin(np.abs(np.abs(h) - 1))]
    assert ugf == pytest.approx(exact, rel=1e-2)
    expected_pm = 180 - np.degrees(np.arctan(ugf / p1) + np.arctan(ugf / p2))
    assert pm == pytest.approx(expected_pm, abs=0.2)
    assert np.isnan(m.unity_gain(f, 0.5 * np.ones_like(h))[0])


def test_bandwidth_of_a_single_pole_is_the_pole():
    f = np.logspace(0, 9, 1801)
    assert m.bandwidth_3db(f, 3.0 / (1 + 1j * f / 2e6)) == pytest.approx(2e6, rel=1e-3)


def test_crossing_interpolates_a_sine():
    t = np.linspace(0, 1, 1001)
    y = np.sin(2 * np.pi * t)
    assert m.crossing(t, y, 0.0, False) == pytest.approx(0.5, abs=1e-6)
    assert m.crossing(t, y, np.sin(np.pi / 6), True) == pytest.approx(1 / 12, abs=1e-5)
    assert np.isnan(m.crossing(t, y, 2.0, True))


def test_linear_range_of_a_clipped_inverting_stage():
    x = np.linspace(0, 1.8, 361)
    y = np.clip(1.8 - x, 0.2, 1.6)
    low, high = m.linear_range(x, y, -1.0, 0.01)
    assert (low, high) == pytest.approx((0.2, 1.6), abs=1e-9)


def test_slope_and_value_at():
    t = np.linspace(0, 1e-6, 101)
    y = 0.7 - 3.0 * t
    assert m.slope(t, y, 0.2e-6, 0.8e-6) == pytest.approx(-3.0)
    assert m.value_at(t, y, 0.55e-6) == pytest.approx(0.7 - 3.0 * 0.55e-6)
    assert m.slope_at(t, y, 0.5e-6) == pytest.approx(-3.0)
