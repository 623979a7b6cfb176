"""Device non-ideality parameters: what a programmed conductance change really does.

A :class:`DeviceConfig` is a small frozen record of *relative* (unitless)
parameters; it holds no conductance window of its own. The window comes from
the crossbar (``CrossbarConfig.g_min`` / ``g_max``) when the record builds
its model, :meth:`DeviceConfig.build`, so the mapping and the devices always
agree on it. The default is the ideal device (every requested change is
realised exactly, within the window). Presets are plain functions.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, check_range
from .population import DevicePopulation
from .steps import GainStep
from .window import ConductanceWindow


@dataclass(frozen=True)
class DeviceConfig:
    """Behaviour of one programmable conductance (memristor or resistor), relative to its window."""

    levels: int | None = None
    """Number of evenly spaced programmable states in [g_min, g_max]; None for analog."""
    write_noise: float = 0.0
    """Standard deviation of the programming error, relative to the requested change (unitless)."""
    up_gain: float = 1.0
    """Realised / requested size of a potentiation (increase) step (unitless, > 0)."""
    down_gain: float = 1.0
    """Realised / requested size of a depression (decrease) step (unitless, > 0)."""
    stuck_fraction: float = 0.0
    """Fraction of devices frozen at their initial conductance, drawn once from the seed (0..1)."""

    def __post_init__(self) -> None:
        if self.levels is not None and (isinstance(self.levels, bool) or not isinstance(self.levels, int)
                                        or self.levels < 2):
            raise ConfigError(f"levels must be an integer >= 2 or None, got {self.levels!r}")
        check_range("write_noise", self.write_noise, 0.0, None)
        check_range("stuck_fraction", self.stuck_fraction, 0.0, 1.0)
        self.step_model()                       # validates up_gain and down_gain

    @property
    def is_ideal(self) -> bool:
        """True when every change inside the window is realised exactly."""
        return (self.levels is None and self.write_noise == 0.0 and self.step_model().symmetric
                and self.stuck_fraction == 0.0)

    def step_model(self) -> GainStep:
        """The deterministic response of one device (:mod:`.steps`)."""
        return GainStep(self.up_gain, self.down_gain)

    def build(self, window: ConductanceWindow, initial: np.ndarray, seed: int = 0) -> DevicePopulation:
        """The device model of a population with conductances ``initial`` (S) in ``window``.

        ``seed`` seeds the population's own stream; the stuck devices are drawn
        from it first (always, so the write noise that follows does not depend
        on ``stuck_fraction``).
        """
        if not isinstance(window, ConductanceWindow):
            raise ConfigError(f"window must be a ConductanceWindow, got {type(window).__name__}")
        rng = np.random.default_rng(seed)
        stuck = rng.random(np.shape(initial)) < self.stuck_fraction
        return DevicePopulation(window, initial, self.step_model(), levels=self.levels,
                                write_noise=self.write_noise, stuck=stuck, rng=rng)


def ideal() -> DeviceConfig:
    """An ideal bounded device: exact updates, clipped to the crossbar's window."""
    return DeviceConfig()


def reram_like() -> DeviceConfig:
    """A coarse ReRAM-like device: 64 levels, 5 % write noise, asymmetric steps.

    Order-of-magnitude numbers in the range commonly reported for HfO2 ReRAM
    synapses (tens of levels, a few percent cycle-to-cycle write noise,
    depression weaker than potentiation); meant for sensitivity studies, not
    as a calibrated model of one technology. The window is the crossbar's.
    """
    return DeviceConfig(levels=64, write_noise=0.05, up_gain=1.0, down_gain=0.8, stuck_fraction=0.0)
