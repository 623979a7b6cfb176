"""How the in-circuit write (issue 13) drives and reads one compact memristor model: a small record per
model, so that :class:`~recirc_analog.schematic.in_circuit.InCircuitNetwork` and its writer ask the
record instead of testing the model's type.

The write is the V/2 scheme of ``circuits/memristors/README.md``: in sub-phase A (weight up) a device
with a pre-synaptic pulse and a positive post-synaptic difference ``u`` (V, held early minus held late)
sees ``polarity * (theta_up + overdrive_up(u))``, in sub-phase B (weight down) ``-polarity * (theta_down
+ overdrive_down(|u|))``, for a time ``tw * pre``. ``polarity`` is the sign of the voltage that raises the
read conductance (the model's ``up_polarity``); ``theta_*`` are the magnitudes of the thresholds crossed.
A record says, per direction, which column height (the overdrive as a function of ``u``) makes the state
speed proportional to ``u`` at the reference state ``x_ref``, and how the crossbar reads a state as a
weight.

- :class:`YakopcicWrite`: both rates are ``A (e^v - e^theta)``, linear in the overdrive just above
  threshold (2.5 % curvature at 50 mV); the column gains are linear, the up gain scaled by the down / up
  slope at ``x_ref``. The read ``a1 x sinh(b v)`` is linear in the state: weight ``w_scale (x - x_ref)``.
- :class:`VteamWrite`: the rates are power laws ``K (v / v_th - 1)^alpha f(x)`` (alpha_on = 3, alpha_off
  = 1 for MemTorch's set), so the column height is pre-distorted, ``overdrive = C u^(1 / alpha)``, making
  the state speed ``K f(x_ref) (C / theta)^alpha u`` linear in ``u``. The cube root is written as a
  ``pwl`` table (geometric knots, ratio :data:`PWL_RATIO`; a B-source ``pow`` of 1/3 has an infinite
  derivative at 0 that ngspice's Newton step would meet). The read ``v / (R_on + (R_off - R_on) x)`` is
  ohmic but its conductance is not linear in ``x``: weight ``w_scale (G(x) - G(x_ref)) / |G'(x_ref)|``,
  exact (no linearisation), read the same way by the circuit, the controller and the reference.

What is ideal: the column drivers are behavioural sources of the held voltages (a comparator, an
amplifier, for VTEAM's on direction a cube-root shaper); each device's change is the compact model's own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..devices.compact.models import Vteam, Yakopcic
from ..errors import ConfigError

DIRECTIONS = ("up", "down")
"""The two write sub-phases: A raises the weight (read conductance), B lowers it."""

OPERATING_MARGIN = 0.1
"""How far above the falling window's knee ``1 - x_n`` Yakopcic's default ``x_ref`` sits (unitless state)."""

PWL_RATIO = 1.1
"""Ratio of consecutive knots of a pre-distortion table (interpolating ``u^(1/3)`` between knots a factor
1.1 apart is within 3e-4 of it, so the rate within 1e-3)."""

PWL_DECADES = 7
"""The table's knots span ``u_max * 10^-7 .. 2 u_max``; below, the overdrive falls linearly to 0."""


def window_up(model: Yakopcic, x):
    """Yakopcic's window f(x) for rising states (unitless)."""
    w_p = (model.x_p - x) / (1.0 - model.x_p) + 1.0
    return np.where(x >= model.x_p, np.exp(-model.alpha_p * (x - model.x_p)) * w_p, 1.0)


def window_down(model: Yakopcic, x):
    """Yakopcic's window f(x) for falling states (unitless)."""
    w_n = x / (1.0 - model.x_n)
    return np.where(x <= 1.0 - model.x_n, np.exp(model.alpha_n * (x + model.x_n - 1.0)) * w_n, 1.0)


@dataclass(frozen=True)
class YakopcicWrite:
    """The write and read of :class:`~recirc_analog.devices.compact.models.Yakopcic` devices."""

    model: Yakopcic
    """The compact model's parameters."""

    defaults = {"v_unit": 0.1, "v_half": 0.08, "gain": 0.25, "tw": 1e-4, "w_scale": 40.0, "job_tw": 2.7e-4}
    """Network and scheme defaults (V, V, V/V, s, unitless; ``job_tw`` (s) the run's, ``cosim --update
    in-circuit``'s, which changes a weight by 1.26 per unit of pre x post-difference at ``x_ref``): the
    16-4-16 operating point of studies/in-circuit/REPORT.md."""

    @property
    def polarity(self) -> int:
        """Sign of the device voltage (and of the state change) that raises the weight."""
        return self.model.up_polarity

    @property
    def thresholds(self) -> tuple[float, float]:
        """(up, down) threshold magnitudes crossed by the two sub-phases (V)."""
        return self.model.v_p, self.model.v_n

    @property
    def exponents(self) -> tuple[float, float]:
        """(up, down) exponent of the rate in the overdrive that the column driver undoes (1: linear)."""
        return 1.0, 1.0

    def operating_state(self) -> float:
        """The default ``x_ref``: ``1 - x_n + OPERATING_MARGIN`` (0.6 for the Oblea fit), capped at 0.9, where
        the falling window is flat (``schematic.in_circuit.operating_state`` says why)."""
        return float(min(1.0 - self.model.x_n + OPERATING_MARGIN, 0.9))

    def reference_slope(self, x_ref: float) -> float:
        """State speed per volt of down overdrive at ``x_ref`` (1/(s V)): ``A_n e^{V_n} f_down(x_ref)``."""
        m = self.model
        return m.a_n * np.exp(m.v_n) * float(window_down(m, x_ref))

    def column_gains(self, x_ref: float, gain: float) -> tuple[float, float]:
        """(up, down) column gains (V/V): ``gain`` down, scaled by the down / up slope at ``x_ref`` up."""
        m = self.model
        down = m.a_n * np.exp(m.v_n) * float(window_down(m, x_ref))
        up = m.a_p * np.exp(m.v_p) * float(window_up(m, x_ref))
        return gain * down / up, gain

    def weight(self, states, x_ref: float):
        """Weight per unit of ``w_scale`` of devices at ``states`` against the reference at ``x_ref``."""
        return states - x_ref

    def states_of(self, weight, x_ref: float):
        """The states whose :meth:`weight` is ``weight`` (unclipped)."""
        return weight + x_ref

    def program(self, states, change, x_ref: float):
        """The states after an exact weight change of ``change`` (per unit of ``w_scale``): ``states + change``."""
        return states + change

    def unit_conductance(self, x_ref: float) -> float:
        """Read conductance per unit of state (S): the small-signal ``a1 b``."""
        return self.model.a1 * self.model.b


@dataclass(frozen=True)
class VteamWrite:
    """The write and read of :class:`~recirc_analog.devices.compact.models.Vteam` devices."""

    model: Vteam
    """The compact model's parameters."""

    defaults = {"v_unit": 0.015, "v_half": 0.01, "gain": 1e-3, "tw": 1e-4, "w_scale": 100.0, "job_tw": 1e-4}
    """Network and scheme defaults (V, V, V/V, s, unitless). ``v_unit`` and ``v_half`` below the off
    threshold 0.02 V; ``gain`` 1e-3 V/V with ``tw`` 1e-4 s and ``w_scale`` 100 changes a weight by 1.25 per
    unit of pre x post-difference at ``x_ref`` (MemTorch's VTEAM moves 1.7e5 state units per second and volt
    of off overdrive: its overdrives are microvolts to a millivolt)."""

    @property
    def polarity(self) -> int:
        """Sign of the device voltage that raises the weight (-1: VTEAM's x = 0 is R_on)."""
        return self.model.up_polarity

    @property
    def thresholds(self) -> tuple[float, float]:
        """(up, down) threshold magnitudes (V): |v_on| (towards R_on), v_off."""
        return -self.model.v_on, self.model.v_off

    @property
    def exponents(self) -> tuple[float, float]:
        """(up, down) rate exponents: (alpha_on, alpha_off)."""
        return float(self.model.alpha_on), float(self.model.alpha_off)

    def operating_state(self) -> float:
        """The default ``x_ref``, 0.7: the Biolek windows are within 1e-3 of 1 there (3e-3 at 0.74), and the
        read's relative slope ``d ln|G'| / dx = -2 (R_off - R_on) / R(x)`` is -2.7 (-3.6 at 0.5)."""
        return 0.7

    def _speeds(self, x_ref: float) -> tuple[float, float]:
        """(up, down) rate at one unit of ``(v / v_th - 1)^alpha`` and ``x_ref`` (1/s)."""
        m = self.model
        up = -m.k_on / m.d * (1.0 - (1.0 - x_ref) ** (2 * m.p_window))
        down = m.k_off / m.d * (1.0 - x_ref ** (2 * m.p_window))
        return up, down

    def reference_slope(self, x_ref: float) -> float:
        """State speed per volt of down overdrive if the off rate were linear (1/(s V)):
        ``k_off / (D v_off) f_off(x_ref)``."""
        return self._speeds(x_ref)[1] / self.model.v_off

    def column_gains(self, x_ref: float, gain: float) -> tuple[float, float]:
        """(up, down) coefficients C of ``overdrive = C u^(1 / alpha)`` (V / V^(1/alpha)) such that both
        directions move a device at ``x_ref`` by ``reference_slope * gain * u`` per second."""
        target = self.reference_slope(x_ref) * gain
        return tuple(theta * (target / speed) ** (1.0 / alpha)
                     for theta, speed, alpha in zip(self.thresholds, self._speeds(x_ref), self.exponents))

    def conductance(self, states):
        """Read conductance (S) of devices at ``states``: ``1 / (R_on + (R_off - R_on) x)``."""
        m = self.model
        return 1.0 / (m.r_on + (m.r_off - m.r_on) * np.asarray(states, dtype=float))

    def unit_conductance(self, x_ref: float) -> float:
        """|dG/dx| at ``x_ref`` (S): ``(R_off - R_on) / R(x_ref)^2``."""
        m = self.model
        return (m.r_off - m.r_on) * float(self.conductance(x_ref)) ** 2

    def weight(self, states, x_ref: float):
        """``(G(x) - G(x_ref)) / |G'(x_ref)|``: about ``x_ref - x`` near ``x_ref`` (positive for x below it)."""
        return (self.conductance(states) - self.conductance(x_ref)) / self.unit_conductance(x_ref)

    def states_of(self, weight, x_ref: float):
        """The states whose :meth:`weight` is ``weight`` (1 where no state reads that low, unclipped above)."""
        m = self.model
        g = float(self.conductance(x_ref)) + np.asarray(weight, dtype=float) * self.unit_conductance(x_ref)
        with np.errstate(divide="ignore"):
            return np.where(g > 0, (1.0 / np.where(g > 0, g, 1.0) - m.r_on) / (m.r_off - m.r_on), 1.0)

    def program(self, states, change, x_ref: float):
        """The states after an exact weight change of ``change`` (per unit of ``w_scale``), unclipped."""
        return self.states_of(self.weight(states, x_ref) + change, x_ref)


WRITE_LAWS = {"yakopcic": YakopcicWrite, "vteam": VteamWrite}
"""Compact model name (``model.cell``) -> its write-law record."""


def write_law(model):
    """The write-law record of ``model`` (a compact model of ``devices.compact.models``)."""
    cell = getattr(model, "cell", None)
    law = WRITE_LAWS.get(cell) if isinstance(cell, str) else None
    if law is None:
        raise ConfigError(f"memristor must be one of {', '.join(WRITE_LAWS)} for the in-circuit write, "
                          f"got {getattr(model, 'cell', type(model).__name__)!r}")
    return law(model)


def overdrive(law, direction: str, u, x_ref: float, gain: float):
    """The column overdrive (V) of ``direction`` for post-synaptic differences of magnitude ``u`` (V)."""
    k = DIRECTIONS.index(direction)
    coefficient, alpha = law.column_gains(x_ref, gain)[k], law.exponents[k]
    return coefficient * np.abs(np.asarray(u, dtype=float)) ** (1.0 / alpha)


def shaper_knots(alpha: float, u_max: float) -> tuple[np.ndarray, np.ndarray]:
    """(u, u^(1/alpha)) at the knots of the pre-distortion table, odd in u (V, V^(1/alpha))."""
    count = int(np.ceil((PWL_DECADES * np.log(10) + np.log(2)) / np.log(PWL_RATIO)))
    u = 2.0 * u_max * PWL_RATIO ** -np.arange(count, -1, -1, dtype=float)
    u = np.concatenate([-u[::-1], [0.0], u])
    return u, np.sign(u) * np.abs(u) ** (1.0 / alpha)
