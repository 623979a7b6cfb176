"""The conductance window every device of a crossbar is programmed inside.

The window belongs to the crossbar (``CrossbarConfig.g_min`` / ``g_max``):
it fixes the weight mapping and the circuit's conductances, and a device
model receives it when it is built (:meth:`DeviceConfig.build`). Device
parameters are relative to it, never a second copy of it, so the mapping
and the devices cannot disagree about the range.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, check_range


@dataclass(frozen=True)
class ConductanceWindow:
    """The programmable range [g_min, g_max] of one crossbar's devices."""

    g_min: float = 1e-6
    """Lowest programmable conductance (S, > 0)."""
    g_max: float = 1e-4
    """Highest programmable conductance (S, > g_min)."""

    def __post_init__(self) -> None:
        check_range("g_min", self.g_min, 0.0, None, low_open=True)
        check_range("g_max", self.g_max, 0.0, None, low_open=True)
        if not self.g_max > self.g_min:
            raise ConfigError(f"g_max must be > g_min = {self.g_min!r} S, got {self.g_max!r}")

    @property
    def span(self) -> float:
        """g_max - g_min (S): the unit that relative device parameters are measured in."""
        return self.g_max - self.g_min

    def clip(self, g: np.ndarray) -> np.ndarray:
        """``g`` (S) clipped into the window."""
        return np.clip(g, self.g_min, self.g_max)

    def outside(self, g: np.ndarray) -> np.ndarray:
        """Boolean mask of the entries of ``g`` (S) outside the window."""
        return (g > self.g_max) | (g < self.g_min)
