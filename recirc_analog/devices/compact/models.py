"""Published memristor compact models as frozen parameter records, with their equations in NumPy.

Each record is the data of one model: its parameters (SI units, one docstring each,
citing the publication), the ngspice subcircuit that implements it
(``circuits/memristors/<cell>.lib``, shipped as ``cell_library/memristors/``), and the
same equations in NumPy: the state rate ``dx/dt(v, x)`` (1/s), the current ``i(v, x)``
(A) and the read conductance. The NumPy equations are written from the papers, not from
the netlist, so :func:`integrate_state` (the ODE integrated with SciPy) is an
independent oracle for what ngspice computes.

Conventions: the state ``x`` is unitless in [0, 1]; ``v`` is ``v(p) - v(n)`` (V).
``up_polarity`` is the sign of the voltage that raises the read conductance (VTEAM's
``x = 0`` is R_on, so negative voltages raise it; Yakopcic's ``x = 1`` is the
high-conductance end). Both models have hard thresholds: between ``thresholds[0]`` and
``thresholds[1]`` the rate is exactly 0 (no smoothing, so no sub-threshold drift at all).
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import ClassVar

import numpy as np

from ...errors import ConfigError, check_range


@dataclass(frozen=True)
class Vteam:
    """VTEAM (Kvatinsky, Ramadan, Friedman & Kolodny, IEEE TCAS-II 62(8), 786, 2015) with the
    linear ``R(x)`` of the paper and the Biolek window (Biolek et al., Radioengineering 18(2),
    210, 2009). Defaults: the VTEAM parameter set distributed with MemTorch (Lammie et al.,
    Neurocomputing 485, 124, 2022). ``x = (w - w_on) / D``: 0 is R_on, 1 is R_off."""

    r_on: float = 50.0
    """Resistance at x = 0, the on state (ohm, > 0)."""
    r_off: float = 1000.0
    """Resistance at x = 1, the off state (ohm, > r_on)."""
    d: float = 3e-9
    """Range of the physical state w_off - w_on (m, > 0); the rates k are in m/s."""
    k_off: float = 5e-4
    """Rate towards R_off at v = 2 v_off (m/s, > 0)."""
    k_on: float = -10.0
    """Rate towards R_on at v = 2 v_on (m/s, < 0)."""
    alpha_off: float = 1.0
    """Exponent of the off rate's voltage dependence (unitless, >= 1)."""
    alpha_on: float = 3.0
    """Exponent of the on rate's voltage dependence (unitless, >= 1)."""
    v_off: float = 0.02
    """Off threshold: no change for v <= v_off (V, > 0)."""
    v_on: float = -0.2
    """On threshold: no change for v >= v_on (V, < 0)."""
    p_window: int = 10
    """Exponent p of the Biolek window 1 - x^(2p) / 1 - (1 - x)^(2p) (integer, 1..50)."""

    cell: ClassVar[str] = "vteam"
    library: ClassVar[str] = "memristors/vteam.lib"
    up_polarity: ClassVar[int] = -1
    spice_names: ClassVar[dict] = {"r_on": "ron", "r_off": "roff", "d": "d", "k_off": "koff", "k_on": "kon",
                                   "alpha_off": "aoff", "alpha_on": "aon", "v_off": "voff", "v_on": "von",
                                   "p_window": "pwin"}

    def __post_init__(self):
        check_range("r_on", self.r_on, 0.0, None, low_open=True)
        check_range("r_off", self.r_off, self.r_on, None, low_open=True)
        check_range("d", self.d, 0.0, None, low_open=True)
        check_range("k_off", self.k_off, 0.0, None, low_open=True)
        check_range("k_on", self.k_on, None, 0.0, high_open=True)
        check_range("alpha_off", self.alpha_off, 1.0, 20.0)
        check_range("alpha_on", self.alpha_on, 1.0, 20.0)
        check_range("v_off", self.v_off, 0.0, 10.0, low_open=True)
        check_range("v_on", self.v_on, -10.0, 0.0, high_open=True)
        _check_integer("p_window", self.p_window, 1, 50)

    @property
    def thresholds(self) -> tuple[float, float]:
        """(low, high) (V): the state does not move for low <= v <= high."""
        return self.v_on, self.v_off

    def rate(self, v, x):
        """dx/dt (1/s) at voltage ``v`` (V) and state ``x`` (broadcast arrays)."""
        v, x = np.asarray(v, dtype=float), np.asarray(x, dtype=float)
        off = self.k_off / self.d * np.maximum(v / self.v_off - 1.0, 0.0) ** self.alpha_off
        on = self.k_on / self.d * np.maximum(v / self.v_on - 1.0, 0.0) ** self.alpha_on
        return off * (1.0 - x ** (2 * self.p_window)) + on * (1.0 - (1.0 - x) ** (2 * self.p_window))

    def current(self, v, x):
        """Device current (A) at ``v`` (V) and state ``x``."""
        return np.asarray(v, dtype=float) / (self.r_on + (self.r_off - self.r_on) * np.asarray(x, dtype=float))

    def read_conductance(self, x, v_read: float = 0.01):
        """Conductance i / v (S) seen by a read at ``v_read`` (V; ohmic, so independent of it)."""
        return self.current(v_read, x) / v_read


@dataclass(frozen=True)
class Yakopcic:
    """The Yakopcic model (Yakopcic, Taha, Subramanyam, Pino & Rogers, IEEE EDL 32(10), 1436,
    2011; IEEE TCAD 32(8), 1201, 2013), eta = 1. Defaults: the 2011 paper's fit to the
    Ag-chalcogenide device of Oblea et al. (IJCNN 2010). ``x = 1`` is the high-conductance end."""

    a1: float = 0.17
    """Current scale for v >= 0 (A, > 0)."""
    a2: float = 0.17
    """Current scale for v < 0 (A, > 0)."""
    b: float = 0.05
    """Curvature of the sinh current (1/V, > 0)."""
    v_p: float = 0.16
    """Positive threshold: no change for v <= v_p (V, > 0)."""
    v_n: float = 0.15
    """Negative threshold: no change for v >= -v_n (V, > 0)."""
    a_p: float = 4000.0
    """Rate magnitude above v_p (1/s, > 0)."""
    a_n: float = 4000.0
    """Rate magnitude below -v_n (1/s, > 0)."""
    x_p: float = 0.3
    """State above which a rising state slows down (unitless, [0, 1))."""
    x_n: float = 0.5
    """A falling state slows down below 1 - x_n (unitless, [0, 1))."""
    alpha_p: float = 1.0
    """Decay rate of the rising motion above x_p (unitless, >= 0)."""
    alpha_n: float = 5.0
    """Decay rate of the falling motion below 1 - x_n (unitless, >= 0)."""

    cell: ClassVar[str] = "yakopcic"
    library: ClassVar[str] = "memristors/yakopcic.lib"
    up_polarity: ClassVar[int] = 1
    spice_names: ClassVar[dict] = {"a1": "a1", "a2": "a2", "b": "b", "v_p": "vp", "v_n": "vn", "a_p": "ap",
                                   "a_n": "an", "x_p": "xp", "x_n": "xn", "alpha_p": "alphap",
                                   "alpha_n": "alphan"}

    def __post_init__(self):
        for name in ("a1", "a2", "b", "a_p", "a_n"):
            check_range(name, getattr(self, name), 0.0, None, low_open=True)
        check_range("v_p", self.v_p, 0.0, 10.0, low_open=True)
        check_range("v_n", self.v_n, 0.0, 10.0, low_open=True)
        check_range("x_p", self.x_p, 0.0, 1.0, high_open=True)
        check_range("x_n", self.x_n, 0.0, 1.0, high_open=True)
        check_range("alpha_p", self.alpha_p, 0.0, 50.0)
        check_range("alpha_n", self.alpha_n, 0.0, 50.0)

    @property
    def thresholds(self) -> tuple[float, float]:
        """(low, high) (V): the state does not move for low <= v <= high."""
        return -self.v_n, self.v_p

    def rate(self, v, x):
        """dx/dt (1/s) at voltage ``v`` (V) and state ``x`` (broadcast arrays)."""
        v, x = np.asarray(v, dtype=float), np.asarray(x, dtype=float)
        g_up = self.a_p * np.maximum(np.exp(v) - np.exp(self.v_p), 0.0)
        g_down = self.a_n * np.maximum(np.exp(-v) - np.exp(self.v_n), 0.0)
        w_p = (self.x_p - x) / (1.0 - self.x_p) + 1.0
        w_n = x / (1.0 - self.x_n)
        f_up = np.where(x >= self.x_p, np.exp(-self.alpha_p * (x - self.x_p)) * w_p, 1.0)
        f_down = np.where(x <= 1.0 - self.x_n, np.exp(self.alpha_n * (x + self.x_n - 1.0)) * w_n, 1.0)
        return g_up * f_up - g_down * f_down

    def current(self, v, x):
        """Device current (A) at ``v`` (V) and state ``x``."""
        v, x = np.asarray(v, dtype=float), np.asarray(x, dtype=float)
        return np.where(v >= 0, self.a1, self.a2) * x * np.sinh(self.b * v)

    def read_conductance(self, x, v_read: float = 0.1):
        """Conductance i / v (S) seen by a read at ``v_read`` (V; the sinh makes it depend on v_read)."""
        return self.current(v_read, x) / v_read


COMPACT_MODELS = {"vteam": Vteam, "yakopcic": Yakopcic}
"""Model name (its subcircuit's name) -> record class."""


def _check_integer(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= high:
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}")


def spice_parameters(model) -> tuple[tuple[str, float], ...]:
    """(subcircuit parameter name, value) of every field of ``model``, in field order."""
    if not isinstance(model, tuple(COMPACT_MODELS.values())):
        raise ConfigError(f"model must be one of {', '.join(c.__name__ for c in COMPACT_MODELS.values())}, "
                          f"got {type(model).__name__}")
    return tuple((model.spice_names[f.name], float(getattr(model, f.name))) for f in fields(model))


def integrate_state(model, times, volts, x0: float, rtol: float = 1e-10, atol: float = 1e-13) -> np.ndarray:
    """The state at every time of the piecewise-linear waveform ``(times, volts)`` (s, V), from ``x0``.

    Integrates ``dx/dt = model.rate(v(t), x)`` with SciPy's LSODA segment by segment
    (restarting at every corner of the waveform, so no step straddles a kink).
    ``times`` must be increasing; returns an array of the same length as ``times``.
    """
    from scipy.integrate import solve_ivp

    times, volts = np.asarray(times, dtype=float), np.asarray(volts, dtype=float)
    if times.ndim != 1 or times.shape != volts.shape or times.size < 2 or np.any(np.diff(times) <= 0):
        raise ConfigError(f"times must be increasing and match volts, got shapes {times.shape} / {volts.shape}")
    states = [float(x0)]
    for t0, t1, v0, v1 in zip(times[:-1], times[1:], volts[:-1], volts[1:]):
        def rhs(t, x, t0=t0, t1=t1, v0=v0, v1=v1):
            return model.rate(v0 + (v1 - v0) * (t - t0) / (t1 - t0), x)

        if max(abs(v0), abs(v1)) == 0.0 or all(model.thresholds[0] <= v <= model.thresholds[1] for v in (v0, v1)):
            states.append(states[-1])           # below threshold the rate is exactly 0
            continue
        solution = solve_ivp(rhs, (t0, t1), [states[-1]], method="LSODA", rtol=rtol, atol=atol)
        if not solution.success:
            raise ConfigError(f"the state ODE failed between {t0!r} and {t1!r} s: {solution.message}")
        states.append(float(solution.y[0, -1]))
    return np.array(states)
