"""Step models: the deterministic part of a device's response to programming.

A step model says how far a requested change, or a train of pulses, moves a
device at its present conductance. :class:`GainStep` is the model of today's
devices: a fixed realised/requested ratio per direction. Pulsed models with
conductance-dependent steps (soft bounds, exponential, power) are further
frozen records with the same two methods (:class:`~.protocol.StepModel`).
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
