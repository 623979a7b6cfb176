"""Conductance drift: a power law in the time since a device was last programmed (PCM-like).

``G(t) = G(t_p) ((t - t_p) / t0)^(-nu)`` for ``t - t_p > t0``, else ``G(t_p)``,
where ``t_p`` is the device's last programming time and ``nu`` its own drift
exponent, drawn once per device as ``|N(nu_mean, nu_std)|`` (the spread of
exponents measured on PCM arrays). Time is passed explicitly (s); the owner of
the clock decides what it means (the co-simulation's phase clock).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import check_range


@dataclass(frozen=True)
class Drift:
    """Power-law drift of the programmed conductance with a device-to-device spread of exponents."""

    nu_mean: float = 0.05
    """Mean drift exponent (unitless, >= 0)."""
    nu_std: float = 0.0
    """Device-to-device standard deviation of the drift exponent (unitless, >= 0)."""
    t0: float = 20.0
    """Reference time after programming from which the power law runs (s, > 0)."""

    def __post_init__(self) -> None:
        check_range("nu_mean", self.nu_mean, 0.0, 1.0)
        check_range("nu_std", self.nu_std, 0.0, 1.0)
        check_range("t0", self.t0, 0.0, None, low_open=True)

    def exponents(self, rng: np.random.Generator, shape) -> np.ndarray:
        """One exponent per device, ``|N(nu_mean, nu_std)|`` (always one normal per device from ``rng``)."""
        return np.abs(self.nu_mean + self.nu_std * rng.standard_normal(shape))

    def factor(self, elapsed: np.ndarray, nu: np.ndarray) -> np.ndarray:
        """``G(t) / G(t_p)`` after ``elapsed`` = t - t_p seconds (1 before ``t0``)."""
        elapsed = np.asarray(elapsed, dtype=np.float64)
        late = elapsed > self.t0
        ratio = np.where(late, elapsed, self.t0) / self.t0
        return np.where(late, ratio ** (-np.asarray(nu)), 1.0)
