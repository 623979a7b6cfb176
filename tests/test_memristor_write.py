"""The write-phase prototype (circuits/memristors/tb_write_2x2.cir): a V/2 scheme on a 2x2 crossbar
of Yakopcic devices, row pulse width = held pre-synaptic activity, column height and sign =
post-synaptic difference.

Oracles: each device's voltage built here from the scheme's definition (README.md, "The write
phase") and integrated with the model's ODE; the rule's sign; zero change where the rule's
change is zero (half-selected devices stay below threshold).
"""

import numpy as np
import pytest
from memristor_benches import run_bench

from recirc_analog.devices.compact.models import Yakopcic, integrate_state


def _write(ngspice, circuits_dir, folder, **overrides):
    v, p = run_bench(ngspice, circuits_dir, folder, "write", "2x2", library="yakopcic.lib", **overrides)
    dx = np.array([[v[f"v(xd{i}{j}.x)"][-1] - p["x0"] for j in range(2)] for i in range(2)])
    return dx, p


def _device_waveform(p, i, j):
    """Row j minus column i of the scheme, piecewise constant, as (times, volts) with 1 ps edges."""
    pre, d = p[f"pre{j}"], p[f"d{i}"]
    tb = p["ta"] + p["tw"] + 1e-5
    column = {"A": -(p["bp"] + p["a"] * p["vunit"] * d) if d > 0 else 0.0,
              "B": (p["bn"] + p["a"] * p["vunit"] * -d) if d < 0 else 0.0}
    pieces = []                                             # (start, end, volts)
    for start, sign, phase in ((p["ta"], 1.0, "A"), (tb, -1.0, "B")):
        on = start + p["tw"] * max(pre, 0.0)
        pieces += [(start, on, sign * p["vh"] - column[phase]), (on, start + p["tw"], -column[phase])]
    points, last = [(0.0, 0.0)], 0.0
    for start, end, value in (piece for piece in pieces if piece[1] > piece[0]):
        if start > last:                                    # back to 0 V between pieces
            points += [(last + 1e-12, 0.0), (start, 0.0)] if points[-1][1] else [(start, 0.0)]
        points += [(start + 1e-12, value), (end, value)]
        last = end
    points += [(last + 1e-12, 0.0), (last + 1e-5, 0.0)]
    return tuple(np.array(column) for column in zip(*points))


def test_every_device_follows_its_ode_and_the_rules_sign(ngspice, circuits_dir, tmp_path):
    dx, p = _write(ngspice, circuits_dir, tmp_path, pre0=1.0, pre1=0.5, d0=0.5, d1=-1.0)
    model = Yakopcic()
    for i in range(2):
        for j in range(2):
            expected = integrate_state(model, *_device_waveform(p, i, j), p["x0"])[-1] - p["x0"]
            assert dx[i, j] == pytest.approx(expected, rel=1e-4), (i, j)
            assert np.sign(dx[i, j]) == np.sign(p[f"pre{j}"] * p[f"d{i}"])


def test_half_selected_devices_do_not_change(ngspice, circuits_dir, tmp_path):
    """Row 0 has pre = 0 (its devices see only the columns, the full d = 1 on column 0); column 1
    has d = 0 (its devices see only the rows, row 1 at pre = 0.75)."""
    dx, _ = _write(ngspice, circuits_dir, tmp_path, pre0=0.0, pre1=0.75, d0=1.0, d1=0.0)
    assert abs(dx[0, 0]) < 1e-9 and abs(dx[1, 0]) < 1e-9 and abs(dx[1, 1]) < 1e-9
    assert dx[0, 1] > 1e-3                                   # the selected device did move


def test_change_is_proportional_to_pre_times_difference_within_a_direction(ngspice, circuits_dir, tmp_path):
    """At one state, dx / (pre * d) is one gain per direction (within 2 %) over pre 0.25..1, |d| 0.25..1."""
    ratios = {1: [], -1: []}
    for pre0, pre1, d0, d1 in ((0.25, 1.0, 0.25, -0.5), (0.5, 0.75, 1.0, -1.0), (1.0, 0.5, 0.5, -0.25)):
        dx, p = _write(ngspice, circuits_dir, tmp_path, pre0=pre0, pre1=pre1, d0=d0, d1=d1)
        for i in range(2):
            for j in range(2):
                rule = p[f"pre{j}"] * p[f"d{i}"]
                ratios[int(np.sign(rule))].append(dx[i, j] / rule)
    for sign, values in ratios.items():
        assert np.ptp(values) < 0.02 * np.mean(values), (sign, values)
