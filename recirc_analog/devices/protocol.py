"""The interface every device model follows (docs/ARCHITECTURE.md §6), after aihwkit's device/tile split.

A :class:`DeviceModel` is a population of programmable conductances of one
crossbar (any array shape) with its own random stream. The controller asks
for changes and reads conductances; it never touches a model's internals, so
a new model (pulsed steps, drift, read noise, memristor compact models) only
has to implement these methods. Time ``t`` (s) is passed explicitly to
every call: models without time dependence ignore it, drift and read noise
will depend on it.
"""

from __future__ import annotations

from typing import Protocol, runtime_checkable

import numpy as np


@runtime_checkable
class DeviceModel(Protocol):
    """Conductances of one crossbar's devices, programmed and read over time."""

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the population (the initial conductances' shape)."""

    def program(self, request: np.ndarray, t: float) -> np.ndarray:
        """Apply the requested conductance change ``request`` (S, shape :attr:`shape`) at time
        ``t`` (s); return the conductances (S) the devices hold afterwards (possibly a read-only
        snapshot: copy it before changing it)."""

    def program_pulses(self, up: np.ndarray, down: np.ndarray, t: float) -> np.ndarray:
        """Apply ``up`` potentiating and ``down`` depressing pulses (non-negative integers,
        shape :attr:`shape`) at time ``t`` (s); return the conductances (S) afterwards."""

    def read(self, t: float) -> np.ndarray:
        """Conductances (S) a read at time ``t`` (s) sees (a new array)."""

    def get_state(self) -> dict[str, np.ndarray]:
        """Arrays that restore this population exactly with :meth:`set_state` (checkpoints)."""

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""


@runtime_checkable
class StepModel(Protocol):
    """The deterministic response of one device to programming: how far a request or a pulse moves it.

    Step models are the extension point of pulsed devices (constant, soft-bound,
    exponential, power step ...): each is a frozen record whose methods map
    present conductances to changes; noise, quantisation, bounds and stuck
    devices are applied around them by the population.
    """

    def realised(self, g: np.ndarray, request: np.ndarray) -> np.ndarray:
        """Change (S) a requested change ``request`` (S) produces at conductances ``g`` (S), before noise."""

    def pulsed(self, g: np.ndarray, up: np.ndarray, down: np.ndarray, pulse: float) -> np.ndarray:
        """Change (S) of ``up`` and ``down`` pulses of nominal size ``pulse`` (S) at ``g`` (S), before noise."""


@runtime_checkable
class PulseStep(Protocol):
    """The shape of one programming pulse of a pulsed device (:mod:`.steps`).

    A pulse moves a device by ``span * dw * f`` where ``dw`` is its step size for the
    direction (``dw_min (1 +- up_down)``, relative to the window span, with the device's
    own spread) and ``f`` the shape at its relative position ``x`` in its own range.
    """

    dw_min: float
    """Step size scale, relative to the window span (unitless)."""
    up_down: float
    """Up/down asymmetry: up steps ``dw_min (1 + up_down)``, down steps ``dw_min (1 - up_down)``."""

    @property
    def gammas(self) -> tuple[float, float]:
        """Nominal (gamma_up, gamma_down) exponents of the shape (spread per device by the population)."""

    def shape(self, x: np.ndarray, gamma_up: np.ndarray, gamma_down: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(f_up, f_down), the step shapes (unitless, >= 0) at relative positions ``x`` in [0, 1]."""
