"""Fitting a compact model's measured pulse response to a pulsed device model (:mod:`..steps`).

The measurement (``studies/memristor-fit/run.py`` runs it in ngspice) is a
:class:`PulseResponse`: the read conductance of one device before and after every
pulse of a train of identical "up" pulses (raising the conductance), then of a train of
"down" pulses. Positions and steps are relative to the compact model's own conductance
range ``[g_lo, g_hi]`` (the read conductance at its two state bounds), the unit the
pulsed models use; a :class:`~..pulsed.PulsedDevice` built on a crossbar's window
reproduces the same relative behaviour there.

:func:`fit_pulse_response` fits every step shape (:data:`SHAPES`) by least squares on
the logarithm of the measured steps (so every pulse's relative error counts alike: the
number of pulses to cross a stretch of the range is the sum of 1 / step over it) and scores each fit by replaying the
measured pulse sequence through the real :class:`~..pulsed_population.PulsedPopulation`
(:func:`replay`): the conductance trace it predicts against the measured one, in units
of the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...errors import ConfigError
from ..programming import OpenLoopPulses
from ..pulsed import PulsedDevice
from ..steps import ConstantStep, ExponentialStep, LinearStep, PowerStep
from ..window import ConductanceWindow


@dataclass(frozen=True)
class PulseResponse:
    """A device's read conductance through an up train then a down train of identical pulses."""

    g_up: np.ndarray
    """Read conductance (S) before the first up pulse, then after each one, shape (n_up + 1,)."""
    g_down: np.ndarray
    """Read conductance (S) before the first down pulse, then after each one, shape (n_down + 1,)."""
    g_lo: float
    """The model's lowest read conductance, at its low-conductance state bound (S, >= 0)."""
    g_hi: float
    """The model's highest read conductance, at its high-conductance state bound (S, > g_lo)."""

    def __post_init__(self):
        if not self.g_hi > self.g_lo >= 0:
            raise ConfigError(f"g_hi must be > g_lo >= 0, got g_lo={self.g_lo!r}, g_hi={self.g_hi!r}")
        for name in ("g_up", "g_down"):
            g = np.asarray(getattr(self, name), dtype=float)
            if g.ndim != 1 or g.size < 2 or not np.all(np.isfinite(g)):
                raise ConfigError(f"{name} must be a finite 1-d array of at least 2 conductances, got shape {g.shape}")

    def position(self, g) -> np.ndarray:
        """Relative position (g - g_lo) / (g_hi - g_lo) (unitless, 0..1 inside the range)."""
        return (np.asarray(g, dtype=float) - self.g_lo) / (self.g_hi - self.g_lo)

    def steps(self):
        """(position before, relative step) of every up pulse, then of every down pulse: four arrays."""
        up, down = self.position(self.g_up), self.position(self.g_down)
        return up[:-1], np.diff(up), down[:-1], np.diff(down)


SHAPES = {
    "constant": (ConstantStep, ()),
    "linear": (LinearStep, ("gamma_up", "gamma_down")),
    "power": (PowerStep, ("gamma_up", "gamma_down")),
    "exponential": (ExponentialStep, ("gamma_up", "gamma_down", "A_up", "A_down")),
}
"""Shape name -> (step class, its fitted shape parameters besides dw_min and up_down). The
exponential shape is fitted with a = 1, b = 0 (its slope and offset are otherwise degenerate
with gamma and A): f_up = 1 - A_up exp(gamma_up c), f_down = 1 - A_down exp(-gamma_down c)."""

_BOUNDS = {"gamma_up": (0.0, 50.0), "gamma_down": (0.0, 50.0), "A_up": (-1e3, 1e3), "A_down": (-1e3, 1e3)}


def _make_step(shape: str, theta) -> object:
    cls, names = SHAPES[shape]
    dw_min, up_down = float(theta[0]), float(theta[1])
    extra = {name: float(value) for name, value in zip(names, theta[2:])}
    if shape == "exponential":
        extra.update(a=1.0, b=0.0)
    # the records bound dw_min to (0, 1] and up_down to (-1, 1): a fit at a bound is clipped inside
    return cls(dw_min=min(max(dw_min, 1e-12), 1.0), up_down=min(max(up_down, -0.999), 0.999), **extra)


def _predicted(step, x_up, x_down):
    gamma_up, gamma_down = step.gammas
    f_up, _ = step.shape(np.clip(x_up, 0.0, 1.0), gamma_up, gamma_down)
    _, f_down = step.shape(np.clip(x_down, 0.0, 1.0), gamma_up, gamma_down)
    return step.dw_min * (1 + step.up_down) * f_up, -step.dw_min * (1 - step.up_down) * f_down


@dataclass(frozen=True)
class FitResult:
    """One shape fitted to a :class:`PulseResponse`, and how well it reproduces it."""

    shape: str
    """Key of :data:`SHAPES`."""
    device: PulsedDevice
    """The fitted device: the step alone (no noise, spread or drift: the compact model is deterministic)."""
    step_rms: float
    """RMS of (fitted - measured) step from every measured position (clipped at the range's bounds, as
    a pulsed device is), over all pulses, relative to the mean |measured step| (unitless)."""
    trace_rms: float
    """RMS of (replayed - measured) conductance over both trains, in units of the range (unitless)."""
    trace_max: float
    """Largest |replayed - measured| conductance over both trains, in units of the range (unitless)."""


def fit_pulse_response(response: PulseResponse, shapes=tuple(SHAPES), refine: bool = True) -> list[FitResult]:
    """Fit each of ``shapes`` to ``response``; the results, best (lowest ``trace_rms``) first.

    Stage 1 fits the logarithm of the steps; with ``refine`` stage 2 starts there and
    minimises the replayed trace's error directly (what a user of the preset sees).
    """
    from scipy.optimize import least_squares

    unknown = [s for s in shapes if s not in SHAPES]
    if unknown or not shapes:
        raise ConfigError(f"shapes must be a non-empty subset of {', '.join(SHAPES)}, got {list(shapes)!r}")
    x_up, d_up, x_down, d_down = response.steps()
    scale_up, scale_down = max(np.mean(np.abs(d_up)), 1e-15), max(np.mean(np.abs(d_down)), 1e-15)
    mean_step = 0.5 * (scale_up + scale_down)
    # steps that moved the device the right way by more than 1e-4 of the largest step (a device
    # sitting at its bound moves by ~0): fitted in log, so every pulse's relative error counts alike
    use_up = d_up > 1e-4 * np.abs(d_up).max()
    use_down = -d_down > 1e-4 * np.abs(d_down).max()
    if not (use_up.any() and use_down.any()):
        raise ConfigError("the pulse response must move the device up in the up train and down in the down train")
    log_up, log_down = np.log(d_up[use_up]), np.log(-d_down[use_down])
    results = []
    for shape in shapes:
        names = SHAPES[shape][1]

        def residuals(theta, shape=shape):
            p_up, p_down = _predicted(_make_step(shape, theta), x_up[use_up], x_down[use_down])
            return np.concatenate([np.log(np.maximum(p_up, 1e-300)) - log_up,
                                   np.log(np.maximum(-p_down, 1e-300)) - log_down])

        lower = [1e-9, -0.999] + [_BOUNDS[n][0] for n in names]
        upper = [1.0, 0.999] + [_BOUNDS[n][1] for n in names]
        best = None
        for start in _starts(shape, mean_step, (scale_up - scale_down) / (scale_up + scale_down)):
            solution = least_squares(residuals, np.clip(start, lower, upper), bounds=(lower, upper), x_scale="jac")
            if best is None or solution.cost < best.cost:
                best = solution
        if refine:
            best = _refine(shape, best.x, response, lower, upper)
        device = PulsedDevice(step=_make_step(shape, best.x), programming=OpenLoopPulses(stochastic=False))
        p_up, p_down = _predicted(device.step, x_up, x_down)
        p_up = np.clip(x_up + p_up, np.minimum(x_up, 0.0), np.maximum(x_up, 1.0)) - x_up    # the bounds' clip
        p_down = np.clip(x_down + p_down, np.minimum(x_down, 0.0), np.maximum(x_down, 1.0)) - x_down
        step_rms = float(np.sqrt(np.mean(np.concatenate([p_up - d_up, p_down - d_down]) ** 2)) / mean_step)
        error = np.concatenate([replay(device, response, "up") - response.position(response.g_up),
                                replay(device, response, "down") - response.position(response.g_down)])
        results.append(FitResult(shape, device, step_rms, float(np.sqrt(np.mean(error ** 2))),
                                 float(np.abs(error).max())))
    return sorted(results, key=lambda r: r.trace_rms)


def _trace(step, start: float, n: int, up: bool) -> np.ndarray:
    """Positions of a deterministic device of ``step`` from ``start`` through ``n`` pulses one way:
    the recursion :class:`PulsedPopulation` applies (clipped to [0, 1] unless already outside)."""
    gamma_up, gamma_down = step.gammas
    size = step.dw_min * (1 + step.up_down) if up else -step.dw_min * (1 - step.up_down)
    x = [start]
    for _ in range(n):
        f_up, f_down = step.shape(np.array(x[-1]), gamma_up, gamma_down)
        now = x[-1]
        x.append(min(max(now + size * float(f_up if up else f_down), min(0.0, now)), max(1.0, now)))
    return np.array(x)


def _refine(shape: str, theta, response: PulseResponse, lower, upper):
    """Least squares on the replayed traces of both trains, from ``theta``."""
    from scipy.optimize import least_squares

    measured_up, measured_down = response.position(response.g_up), response.position(response.g_down)
    start_up, start_down = float(np.clip(measured_up[0], 0, 1)), float(np.clip(measured_down[0], 0, 1))

    def residuals(theta):
        step = _make_step(shape, theta)
        return np.concatenate([_trace(step, start_up, len(measured_up) - 1, True) - measured_up,
                               _trace(step, start_down, len(measured_down) - 1, False) - measured_down])

    return least_squares(residuals, np.clip(theta, lower, upper), bounds=(lower, upper), x_scale="jac",
                         diff_step=1e-4, max_nfev=200)


def _starts(shape: str, dw: float, asymmetry: float):
    """Starting points (dw_min, up_down, shape parameters...) of the least-squares search."""
    base = [dw, asymmetry]
    if shape == "constant":
        return [base]
    if shape in ("linear", "power"):
        return [base + [g, g] for g in (0.0, 1.0, 3.0)]
    return [base + [g, g, a, -a] for g in (1.0, 3.0) for a in (-1.0, 0.5)]


def replay(device: PulsedDevice, response: PulseResponse, direction: str) -> np.ndarray:
    """Relative positions a :class:`PulsedPopulation` of ``device`` goes through when given the
    measured train ``direction`` ("up" or "down") one pulse at a time, from the measured start."""
    measured = {"up": response.g_up, "down": response.g_down}.get(direction)
    if measured is None:
        raise ConfigError(f"direction must be 'up' or 'down', got {direction!r}")
    window = ConductanceWindow(1.0, 2.0)             # any window: positions are relative to it
    start = np.clip(response.position(measured[0]), 0.0, 1.0)
    population = device.build(window, np.array([window.g_min + start * window.span]), seed=0)
    one, zero = np.ones(1, dtype=np.int64), np.zeros(1, dtype=np.int64)
    trace = [start]
    for _ in range(len(measured) - 1):
        g = population.program_pulses(one, zero) if direction == "up" else population.program_pulses(zero, one)
        trace.append(float((g[0] - window.g_min) / window.span))
    return np.array(trace)
