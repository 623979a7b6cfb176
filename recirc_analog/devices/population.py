"""A population of programmable devices: a step model inside a window, with noise, levels and stuck devices.

:class:`DevicePopulation` implements :class:`~.protocol.DeviceModel` for the
devices of one crossbar. Programming a change goes through fixed stages, each
a separate piece:

1. the step model (:mod:`.steps`) turns the request into a change;
2. cycle-to-cycle write noise multiplies it by ``1 + write_noise * N(0, 1)``;
3. the result is clipped to the conductance window and snapped to the
   programmable levels;
4. stuck devices keep their conductance.

The random stream is the population's own (seeded); it is drawn in a fixed
order (stuck mask once when built, then one normal per device per noisy
write), so the same seed gives the same conductances.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import ConfigError
from .protocol import StepModel
from .window import ConductanceWindow


class DevicePopulation:
    """Devices of one crossbar, any array shape (see the module docstring).

    Parameters
    ----------
    window : ConductanceWindow
        The crossbar's programmable range.
    initial : array
        Initial conductances (S); settled into the window and onto the levels.
    step : StepModel
        Deterministic response to a request or a pulse train.
    levels : int or None
        Evenly spaced programmable states in the window; None for analog.
    write_noise : float
        Standard deviation of the programming error relative to the change (unitless).
    stuck : bool array or None
        Devices frozen at their initial conductance (shape of ``initial``).
    rng : numpy Generator
        The population's random stream (write noise).
    """

    def __init__(self, window: ConductanceWindow, initial: np.ndarray, step: StepModel, *,
                 levels: int | None = None, write_noise: float = 0.0, stuck: np.ndarray | None = None,
                 rng: np.random.Generator | None = None) -> None:
        g = np.array(initial, dtype=np.float64)
        if not np.all(np.isfinite(g)):
            raise ConfigError("initial conductances must be finite")
        if stuck is None:
            stuck = np.zeros(g.shape, dtype=bool)
        if np.shape(stuck) != g.shape:
            raise ConfigError(f"stuck must have shape {g.shape}, got {np.shape(stuck)}")
        self.window = window
        self.step = step
        self.levels = levels
        self.write_noise = write_noise
        self.stuck = np.array(stuck, dtype=bool)
        """Devices that never move (read-only; restored by :meth:`set_state`)."""
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self._g = _frozen(self._settle(g))
        self._forget()

    def _forget(self) -> None:
        """Reset what is derived from the stuck mask (after building and :meth:`set_state`)."""
        self._any_stuck = bool(self.stuck.any())
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the population."""
        return self._g.shape

    @property
    def level_step(self) -> float | None:
        """Spacing of the programmable levels (S); None for analog devices."""
        if self.levels is None:
            return None
        return (self.window.g_max - self.window.g_min) / (self.levels - 1)

    def _settle(self, g: np.ndarray) -> np.ndarray:
        """Clip to the window and snap to the programmable levels."""
        g = self.window.clip(g)
        step = self.level_step
        if step is not None:
            g = self.window.g_min + np.round((g - self.window.g_min) / step) * step
        return g

    def _write(self, change: np.ndarray) -> np.ndarray:
        """Stages 2-4 of the module docstring for a deterministic ``change`` (S)."""
        if self.write_noise > 0:
            change = change * (1.0 + self.write_noise * self.rng.standard_normal(change.shape))
        new = self._settle(self._g + change)
        self._g = _frozen(np.where(self.stuck, self._g, new) if self._any_stuck else new)
        return self._g

    def _check(self, name: str, values, dtype=np.float64) -> np.ndarray:
        array = np.asarray(values, dtype=dtype)
        if array.shape != self.shape:
            raise ConfigError(f"{name} must have shape {self.shape}, got {array.shape}")
        return array

    def program(self, request: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Program the requested change ``request`` (S) at time ``t`` (s); return the new conductances (S)
        (a read-only snapshot)."""
        _check_time(t)
        request = self._check("request", request)
        if not math.isfinite(float(request.sum())) and not np.all(np.isfinite(request)):
            raise ConfigError("request contains NaN or inf")
        return self._write(self.step.realised(self._g, request))

    def program_pulses(self, up: np.ndarray, down: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Apply ``up`` / ``down`` pulses (non-negative integers) at time ``t`` (s); a nominal pulse
        moves a device by one level. Needs ``levels``."""
        _check_time(t)
        pulse = self.level_step
        if pulse is None:
            raise ConfigError("pulse programming needs devices with levels (the pulse size is one level), "
                              "got analog devices (levels None)")
        counts = []
        for name, values in (("up", up), ("down", down)):
            array = self._check(name, values)
            if not np.all((array >= 0) & (array == np.round(array))):
                raise ConfigError(f"{name} must hold non-negative integer pulse counts")
            counts.append(array)
        return self._write(self.step.pulsed(self._g, counts[0], counts[1], pulse))

    def read(self, t: float = 0.0) -> np.ndarray:
        """Conductances (S) at time ``t`` (s): exactly as programmed (no drift or read noise here)."""
        _check_time(t)
        return self._g.copy()

    @property
    def reads_held(self) -> bool:
        """True: :meth:`read` is a copy of :meth:`peek` and changes nothing (no read noise, no drift, no
        clock), so an owner that only computes with a read (the read-back weights) may take the
        read-only snapshot instead of the copy."""
        return True

    def peek(self, t: float = 0.0) -> np.ndarray:
        """The conductances (S) the devices hold at ``t`` (s), for monitoring and programming decisions:
        here exactly :meth:`read` (no read noise to leave out); draws nothing, changes nothing. A
        read-only snapshot (the model replaces its array on every change, never writes into it)."""
        _check_time(t)
        return self._g

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lowest, highest) conductance (S) each device can be programmed to: the window, or a
        stuck device's own conductance for both (read-only arrays)."""
        if self._bounds is None:                 # fixed (stuck devices never move); set_state resets it
            self._bounds = (_frozen(np.where(self.stuck, self._g, self.window.g_min)),
                            _frozen(np.where(self.stuck, self._g, self.window.g_max)))
        return self._bounds

    def get_state(self) -> dict[str, np.ndarray]:
        """``g`` (conductances), ``stuck`` (mask) and ``rng`` (the stream's state as JSON text)."""
        return {"g": self._g.copy(), "stuck": self.stuck.copy(),
                "rng": np.array(json.dumps(self.rng.bit_generator.state))}

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned; nothing changes unless all of it is valid.

        ``g`` must be finite and inside the window, ``stuck`` boolean, ``rng`` the
        JSON state of this population's bit generator.
        """
        for key in ("g", "stuck", "rng"):
            if key not in state:
                raise ConfigError(f"device state has no {key!r} array")
        try:
            g = np.array(state["g"], dtype=np.float64)
        except (TypeError, ValueError):
            raise ConfigError(f"device state 'g' must be numeric, got {np.asarray(state['g']).dtype}") from None
        raw_stuck = np.asarray(state["stuck"])
        if raw_stuck.dtype != bool:
            raise ConfigError(f"device state 'stuck' must be boolean, got {raw_stuck.dtype}")
        stuck = raw_stuck.copy()
        if g.shape != self.shape or stuck.shape != self.shape:
            raise ConfigError(f"device state must have shape {self.shape}, got {g.shape} and {stuck.shape}")
        if not np.all(np.isfinite(g)):
            raise ConfigError("device state 'g' holds NaN or infinite conductances")
        tolerance = 1e-9 * self.window.g_max
        if np.any(g < self.window.g_min - tolerance) or np.any(g > self.window.g_max + tolerance):
            raise ConfigError(f"device state 'g' must lie in the window [{self.window.g_min:g}, "
                              f"{self.window.g_max:g}] S, got values in [{g.min():g}, {g.max():g}]")
        try:
            rng_state = json.loads(str(state["rng"]))
            probe = type(self.rng.bit_generator)()
            probe.state = rng_state
        except (ValueError, TypeError, KeyError) as error:
            raise ConfigError(f"device state 'rng' is not a {type(self.rng.bit_generator).__name__} state: "
                              f"{' '.join(str(error).split())[:120]}") from None
        self.rng.bit_generator.state = rng_state
        self._g = _frozen(g)
        self.stuck = stuck
        self._forget()


def _check_time(t: float) -> None:
    if not (isinstance(t, (int, float, np.floating, np.integer)) and math.isfinite(t) and t >= 0):
        raise ConfigError(f"t must be a time in [0, inf) s, got {t!r}")


def _frozen(array: np.ndarray) -> np.ndarray:
    """``array`` marked read-only: what a device model hands out without copying (it replaces such
    arrays on a change, never writes into them, so the caller keeps a snapshot)."""
    array.flags.writeable = False
    return array
