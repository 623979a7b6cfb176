"""The pulsed device record: a step model with its noise, spreads, drift, stuck devices and programming scheme.

A :class:`PulsedDevice` is a frozen record of relative (unitless) parameters
and seconds; like :class:`~.parameters.DeviceConfig` it holds no conductance
window: :meth:`PulsedDevice.build` receives the crossbar's
:class:`~.window.ConductanceWindow` and makes the population model
(:class:`~.pulsed_population.PulsedPopulation`). Published relative
parameters (aihwkit presets, fractions of the weight range) map onto SI
through that window: a step ``dw_min`` is ``dw_min * (g_max - g_min)`` siemens.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..errors import ConfigError, check_range
from .drift import Drift
from .programming import PROGRAMMING_SCHEMES, OpenLoopPulses, WriteVerify
from .steps import PULSE_STEPS, ConstantStep, ExponentialStep, LinearStep, PowerStep
from .window import ConductanceWindow


@dataclass(frozen=True)
class DeviceSpread:
    """Device-to-device spread of the step parameters, drawn once per device from the seed."""

    dw_min: float = 0.0
    """Relative standard deviation of a device's step size (unitless, >= 0); a mean-1 log-normal
    factor, so no step changes sign."""
    up_down: float = 0.0
    """Standard deviation of a device's up/down asymmetry around the step model's ``up_down``
    (unitless, >= 0; the result is kept inside (-0.999, 0.999))."""
    gamma: float = 0.0
    """Standard deviation of a device's shape exponents around the step model's (unitless, >= 0;
    clipped at 0)."""
    bounds: float = 0.0
    """A device's own range is the window shrunk at each end by ``|N(0, bounds)|`` of the span
    (at most 0.45 of it per end) (unitless, >= 0)."""

    def __post_init__(self) -> None:
        for name in ("dw_min", "up_down", "gamma", "bounds"):
            check_range(name, getattr(self, name), 0.0, 10.0)


@dataclass(frozen=True)
class PulsedDevice:
    """A population of pulsed devices (see the module docstring and :mod:`.pulsed_population`)."""

    step: ConstantStep | LinearStep | ExponentialStep | PowerStep = field(default_factory=ConstantStep)
    """Size and shape of one pulse (:mod:`.steps`)."""
    dw_min_std: float = 0.0
    """Cycle-to-cycle noise: every pulse is multiplied by ``1 + dw_min_std * N(0, 1)`` (unitless, >= 0)."""
    spread: DeviceSpread = field(default_factory=DeviceSpread)
    """Device-to-device spread of the step parameters."""
    read_noise: float = 0.0
    """Standard deviation of the additive noise of every read, relative to the window span
    (unitless, >= 0); fresh on every read."""
    drift: Drift | None = None
    """Power-law drift of the programmed conductance; None for none."""
    stuck_min: float = 0.0
    """Fraction of devices stuck at g_min, drawn once from the seed (0..1)."""
    stuck_max: float = 0.0
    """Fraction of devices stuck at g_max, drawn once from the seed (0..1, stuck_min + stuck_max <= 1)."""
    levels: int | None = None
    """Evenly spaced states in [g_min, g_max] a programmed device settles on; None for analog."""
    programming: OpenLoopPulses | WriteVerify = field(default_factory=OpenLoopPulses)
    """How a requested change becomes pulses (:mod:`.programming`)."""

    def __post_init__(self) -> None:
        if not isinstance(self.step, PULSE_STEPS):
            raise ConfigError(f"step must be one of {', '.join(c.__name__ for c in PULSE_STEPS)}, "
                              f"got {type(self.step).__name__}")
        if not isinstance(self.spread, DeviceSpread):
            raise ConfigError(f"spread must be a DeviceSpread, got {type(self.spread).__name__}")
        if self.drift is not None and not isinstance(self.drift, Drift):
            raise ConfigError(f"drift must be a Drift or None, got {type(self.drift).__name__}")
        if not isinstance(self.programming, PROGRAMMING_SCHEMES):
            raise ConfigError(f"programming must be one of {', '.join(c.__name__ for c in PROGRAMMING_SCHEMES)}, "
                              f"got {type(self.programming).__name__}")
        check_range("dw_min_std", self.dw_min_std, 0.0, 100.0)
        check_range("read_noise", self.read_noise, 0.0, 1.0)
        check_range("stuck_min", self.stuck_min, 0.0, 1.0)
        check_range("stuck_max", self.stuck_max, 0.0, 1.0)
        if self.stuck_min + self.stuck_max > 1.0:
            raise ConfigError(f"stuck_min + stuck_max must be in [0, 1], got {self.stuck_min + self.stuck_max!r}")
        if self.levels is not None and (isinstance(self.levels, bool) or not isinstance(self.levels, int)
                                        or self.levels < 2):
            raise ConfigError(f"levels must be an integer >= 2 or None, got {self.levels!r}")

    def build(self, window: ConductanceWindow, initial: np.ndarray, seed: int = 0):
        """The :class:`~.pulsed_population.PulsedPopulation` of devices with conductances ``initial``
        (S) in ``window``; ``seed`` seeds its three streams (device-to-device draw, programming, reads)."""
        from .pulsed_population import PulsedPopulation

        if not isinstance(window, ConductanceWindow):
            raise ConfigError(f"window must be a ConductanceWindow, got {type(window).__name__}")
        return PulsedPopulation(self, window, initial, seed)
