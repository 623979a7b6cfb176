"""Device non-ideality configuration: what a programmed conductance change really does.

A :class:`DeviceConfig` is a small frozen record in SI units. The default is
the ideal device (every requested change is realised exactly, within the
conductance window). Presets are plain functions returning configs.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import ConfigError, check_range


@dataclass(frozen=True)
class DeviceConfig:
    """Behaviour of one programmable conductance (memristor or resistor)."""

    g_min: float = 1e-6
    """Lowest programmable conductance (S)."""
    g_max: float = 100e-6
    """Highest programmable conductance (S)."""
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
        check_range("g_min", self.g_min, 0.0, None, low_open=True)
        check_range("g_max", self.g_max, 0.0, None, low_open=True)
        if self.g_max <= self.g_min:
            raise ConfigError(f"g_max must be > g_min = {self.g_min!r} S, got {self.g_max!r}")
        if self.levels is not None and (not isinstance(self.levels, int) or self.levels < 2):
            raise ConfigError(f"levels must be an integer >= 2 or None, got {self.levels!r}")
        check_range("write_noise", self.write_noise, 0.0, None)
        check_range("up_gain", self.up_gain, 0.0, None, low_open=True)
        check_range("down_gain", self.down_gain, 0.0, None, low_open=True)
        check_range("stuck_fraction", self.stuck_fraction, 0.0, 1.0)

    @property
    def is_ideal(self) -> bool:
        """True when every change inside the window is realised exactly."""
        return (self.levels is None and self.write_noise == 0.0 and self.up_gain == 1.0
                and self.down_gain == 1.0 and self.stuck_fraction == 0.0)


def ideal(g_min: float = 1e-6, g_max: float = 100e-6) -> DeviceConfig:
    """An ideal bounded device: exact updates clipped to [g_min, g_max]."""
    return DeviceConfig(g_min=g_min, g_max=g_max)


def reram_like() -> DeviceConfig:
    """A coarse ReRAM-like device: 64 levels, 5 % write noise, asymmetric steps.

    Order-of-magnitude numbers in the range commonly reported for HfO2 ReRAM
    synapses (tens of levels, a few percent cycle-to-cycle write noise,
    depression weaker than potentiation); meant for sensitivity studies, not
    as a calibrated model of one technology.
    """
    return DeviceConfig(g_min=1e-6, g_max=100e-6, levels=64, write_noise=0.05,
                        up_gain=1.0, down_gain=0.8, stuck_fraction=0.0)
