"""Step models: the deterministic part of a device's response to programming.

A step model says how far a requested change, or a train of pulses, moves a
device at its present conductance. :class:`GainStep` is the model of today's
devices: a fixed realised/requested ratio per direction (:class:`~.protocol.StepModel`).

The pulsed step models of the literature, :class:`ConstantStep` (Gokmen &
Vlasov 2016), :class:`LinearStep` (soft bounds at ``gamma = 1``; Fusi &
Abbott 2007), :class:`ExponentialStep` and :class:`PowerStep` (Fusi & Abbott
2007, Frascaroli et al. 2018), are frozen records of the size of one pulse
(``dw_min``, ``up_down``, relative to the window) and of its shape in the
device's position (:class:`~.protocol.PulseStep`); a
:class:`~.pulsed.PulsedDevice` adds noise, spreads, drift and the
programming scheme around them.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import check_range


@dataclass(frozen=True)
class GainStep:
    """A change is realised as ``request * up_gain`` (increase) or ``request * down_gain`` (decrease)."""

    up_gain: float = 1.0
    """Realised / requested size of a potentiation (increase) step (unitless, > 0)."""
    down_gain: float = 1.0
    """Realised / requested size of a depression (decrease) step (unitless, > 0)."""

    def __post_init__(self) -> None:
        check_range("up_gain", self.up_gain, 0.0, None, low_open=True)
        check_range("down_gain", self.down_gain, 0.0, None, low_open=True)

    @property
    def symmetric(self) -> bool:
        """True when both directions are realised exactly as requested."""
        return self.up_gain == 1.0 and self.down_gain == 1.0

    def realised(self, g: np.ndarray, request: np.ndarray) -> np.ndarray:
        """``request`` (S) scaled by the gain of its sign; independent of ``g``."""
        if self.symmetric:
            return request
        return np.where(request > 0, request * self.up_gain, request * self.down_gain)

    def pulsed(self, g: np.ndarray, up: np.ndarray, down: np.ndarray, pulse: float) -> np.ndarray:
        """``up`` pulses of ``pulse * up_gain`` minus ``down`` pulses of ``pulse * down_gain`` (S)."""
        return pulse * (self.up_gain * up - self.down_gain * down)


# Pulsed step models -------------------------------------------------------------------------
#
# One pulse moves a device by ``span * dw * f(x)``, where ``span`` is the window's
# g_max - g_min (S), ``dw`` the device's own step size for that direction (``dw_min``
# times ``1 + up_down`` up or ``1 - up_down`` down, with its device-to-device spread)
# and ``f`` the step shape at the device's relative position ``x`` in its own range
# (0 at its lower bound, 1 at its upper bound; ``c = 2 x - 1`` is the centred position,
# the weight ``w`` of the pulsed-device literature on a [-1, 1] range). The shapes take
# the per-device exponents ``gamma_up`` / ``gamma_down`` as arrays so that the
# population can give every device its own (device-to-device spread).


def _check_pulse_step(record) -> None:
    check_range("dw_min", record.dw_min, 0.0, 1.0, low_open=True)
    check_range("up_down", record.up_down, -1.0, 1.0, low_open=True, high_open=True)


@dataclass(frozen=True)
class ConstantStep:
    """Every pulse moves a device by the same amount: ``f = 1`` (Gokmen & Vlasov 2016); hard bounds."""

    dw_min: float = 1e-3
    """Mean size of one pulse, relative to the window span g_max - g_min (unitless, (0, 1])."""
    up_down: float = 0.0
    """Up/down asymmetry: up steps are ``dw_min (1 + up_down)``, down steps ``dw_min (1 - up_down)``
    (unitless, (-1, 1))."""

    def __post_init__(self) -> None:
        _check_pulse_step(self)

    @property
    def gammas(self) -> tuple[float, float]:
        """(gamma_up, gamma_down): the shape exponents (none for a constant step)."""
        return 0.0, 0.0

    def shape(self, x: np.ndarray, gamma_up: np.ndarray, gamma_down: np.ndarray):
        """(f_up, f_down) at relative positions ``x``: both 1."""
        ones = np.ones(np.shape(x))
        return ones, ones


class _ShapedStep:
    """What the step shapes with an up and a down parameter ``gamma_up`` / ``gamma_down`` share:
    the pulse-step checks, gammas >= 0 (at most ``_GAMMA_LIMIT``), and :attr:`gammas`."""

    _GAMMA_LIMIT: float | None = None

    def __post_init__(self) -> None:
        _check_pulse_step(self)
        check_range("gamma_up", self.gamma_up, 0.0, self._GAMMA_LIMIT)
        check_range("gamma_down", self.gamma_down, 0.0, self._GAMMA_LIMIT)

    @property
    def gammas(self) -> tuple[float, float]:
        """(gamma_up, gamma_down)."""
        return self.gamma_up, self.gamma_down


@dataclass(frozen=True)
class LinearStep(_ShapedStep):
    """Step size linear in the position, ``f_up = 1 - gamma_up c``, ``f_down = 1 + gamma_down c``
    (clipped at 0), ``c = 2 x - 1``; ``gamma = 1`` is the soft-bounds device (steps vanish at
    the bounds; Fusi & Abbott 2007), ``gamma > 1`` saturates inside the range at
    ``c = 1 / gamma_up`` (up) and ``c = -1 / gamma_down`` (down)."""

    dw_min: float = 1e-3
    """Size of one pulse at the middle of the range (c = 0), relative to the window span (unitless, (0, 1])."""
    up_down: float = 0.0
    """Up/down asymmetry of the step size (unitless, (-1, 1)); see :class:`ConstantStep`."""
    gamma_up: float = 1.0
    """Slope of the up step's decrease towards the upper bound (unitless, >= 0)."""
    gamma_down: float = 1.0
    """Slope of the down step's decrease towards the lower bound (unitless, >= 0)."""

    def shape(self, x: np.ndarray, gamma_up: np.ndarray, gamma_down: np.ndarray):
        """(f_up, f_down) at relative positions ``x``."""
        c = 2.0 * np.asarray(x) - 1.0
        return np.maximum(1.0 - gamma_up * c, 0.0), np.maximum(1.0 + gamma_down * c, 0.0)


def soft_bounds_step(dw_min: float = 1e-3, up_down: float = 0.0) -> LinearStep:
    """The soft-bounds device (Fusi & Abbott 2007): a :class:`LinearStep` with both slopes 1."""
    return LinearStep(dw_min=dw_min, up_down=up_down, gamma_up=1.0, gamma_down=1.0)


@dataclass(frozen=True)
class ExponentialStep(_ShapedStep):
    """Step size exponential in the position (the CMOS-like / ReRAM fit of the pulsed-device
    literature): ``z = a c + b``, ``f_up = max(1 - A_up exp(gamma_up z), 0)``,
    ``f_down = max(1 - A_down exp(-gamma_down z), 0)``, ``c = 2 x - 1``."""

    dw_min: float = 1e-3
    """Step size scale, relative to the window span (unitless, (0, 1])."""
    up_down: float = 0.0
    """Up/down asymmetry of the step size (unitless, (-1, 1)); see :class:`ConstantStep`."""
    a: float = -0.5
    """Slope of ``z`` in the centred position ``c`` (unitless)."""
    b: float = -0.5
    """Offset of ``z`` (unitless)."""
    gamma_up: float = 5.0
    """Exponent of the up direction (unitless, >= 0)."""
    gamma_down: float = 5.0
    """Exponent of the down direction (unitless, >= 0)."""
    A_up: float = -1.0
    """Amplitude of the up direction's exponential (unitless)."""
    A_down: float = -0.1
    """Amplitude of the down direction's exponential (unitless)."""

    _GAMMA_LIMIT = 50.0

    def __post_init__(self) -> None:
        super().__post_init__()
        for name in ("a", "b", "A_up", "A_down"):
            check_range(name, getattr(self, name), -1e3, 1e3)

    def shape(self, x: np.ndarray, gamma_up: np.ndarray, gamma_down: np.ndarray):
        """(f_up, f_down) at relative positions ``x``."""
        z = self.a * (2.0 * np.asarray(x) - 1.0) + self.b
        return (np.maximum(1.0 - self.A_up * np.exp(gamma_up * z), 0.0),
                np.maximum(1.0 - self.A_down * np.exp(-gamma_down * z), 0.0))


@dataclass(frozen=True)
class PowerStep(_ShapedStep):
    """Step size a power of the distance to the bound it moves towards (Fusi & Abbott 2007;
    Frascaroli et al. 2018): ``f_up = (1 - x)^gamma_up``, ``f_down = x^gamma_down``; ``gamma = 1``
    is soft bounds with a step ``dw_min`` at the opposite bound, ``gamma = 0`` a constant step."""

    dw_min: float = 1e-3
    """Size of one pulse at the opposite bound, relative to the window span (unitless, (0, 1])."""
    up_down: float = 0.0
    """Up/down asymmetry of the step size (unitless, (-1, 1)); see :class:`ConstantStep`."""
    gamma_up: float = 1.0
    """Exponent of the up direction (unitless, >= 0)."""
    gamma_down: float = 1.0
    """Exponent of the down direction (unitless, >= 0)."""

    def shape(self, x: np.ndarray, gamma_up: np.ndarray, gamma_down: np.ndarray):
        """(f_up, f_down) at relative positions ``x``."""
        x = np.clip(np.asarray(x, dtype=np.float64), 0.0, 1.0)
        return (1.0 - x) ** gamma_up, x ** gamma_down


PULSE_STEPS = (ConstantStep, LinearStep, ExponentialStep, PowerStep)
"""The pulsed step models (records with ``dw_min``, ``up_down``, ``gammas`` and ``shape``)."""
