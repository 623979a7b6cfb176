"""The device model: requested conductance changes in, realised conductances out.

The controller computes a *target* change for every device from local
readings; the device model decides what the hardware actually does with it.
Keeping this in one place keeps device physics out of the controller and the
circuit (the aihwkit tile/device separation).
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError
from .parameters import DeviceConfig


class DeviceArray:
    """A population of devices of one crossbar with its own seeded random stream.

    Parameters
    ----------
    config:
        The devices' behaviour.
    g_initial:
        Initial conductances (S), any shape; the array keeps that shape.
    seed:
        Seed of the stream used for write noise and the stuck-device draw.
    """

    def __init__(self, config: DeviceConfig, g_initial: np.ndarray, seed: int = 0) -> None:
        self.config = config
        g = np.array(g_initial, dtype=np.float64)
        if not np.all(np.isfinite(g)):
            raise ConfigError("g_initial must be finite")
        self.rng = np.random.default_rng(seed)
        self.stuck = self.rng.random(g.shape) < config.stuck_fraction
        self.conductances = self._settle(g)

    def _settle(self, g: np.ndarray) -> np.ndarray:
        """Clip to the window and snap to the programmable levels."""
        cfg = self.config
        g = np.clip(g, cfg.g_min, cfg.g_max)
        if cfg.levels is not None:
            step = (cfg.g_max - cfg.g_min) / (cfg.levels - 1)
            g = cfg.g_min + np.round((g - cfg.g_min) / step) * step
        return g

    def apply(self, dg_target: np.ndarray) -> np.ndarray:
        """Program the requested change ``dg_target`` (S, same shape); return the new conductances.

        Realised change = requested * (up_gain or down_gain by its sign)
        * (1 + write_noise * N(0, 1)), then clipped and quantised; stuck
        devices keep their conductance.
        """
        dg = np.asarray(dg_target, dtype=np.float64)
        if dg.shape != self.conductances.shape:
            raise ConfigError(f"dg_target must have shape {self.conductances.shape}, got {dg.shape}")
        if not np.all(np.isfinite(dg)):
            raise ConfigError("dg_target contains NaN or inf")
        cfg = self.config
        if cfg.up_gain != 1.0 or cfg.down_gain != 1.0:
            dg = np.where(dg > 0, dg * cfg.up_gain, dg * cfg.down_gain)
        if cfg.write_noise > 0:
            dg = dg * (1.0 + cfg.write_noise * self.rng.standard_normal(dg.shape))
        new = self._settle(self.conductances + dg)
        self.conductances = np.where(self.stuck, self.conductances, new)
        return self.conductances
