"""Programming schemes: how a requested conductance change becomes pulses (the update policy).

A scheme is its own small record, separate from the device it drives:

- :class:`OpenLoopPulses`: the pulse count comes from the requested change and
  the *nominal* step ``dw_min * span`` (the controller knows nothing better);
  either deterministic (``round(|request| / step)``) or the stochastic pulse
  coincidence of Gokmen & Vlasov (2016): row and column trains of
  ``bit_length`` slots whose coincidences ``Binomial(bit_length, p)``, with
  ``p = min(n / bit_length, 1)``, are the pulses (each device's count is drawn
  from its marginal distribution; the row/column correlation of a factored
  outer product is not modelled since the device sees the request matrix);
- :class:`WriteVerify`: program open-loop, read back (with the device's read
  noise), and program the remaining error again, up to ``max_iterations``
  rounds, until every device is within ``tolerance`` of its target.

What a pulse realises is the device's step model (noise, asymmetry, bounds),
never the request.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, check_range


def _check_count(name: str, value, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ConfigError(f"{name} must be an integer in [{low}, {high}], got {value!r}")
    check_range(name, value, low, high)


@dataclass(frozen=True)
class OpenLoopPulses:
    """Pulse trains computed from the request, applied once without reading back."""

    stochastic: bool = False
    """False: ``round(|request| / step)`` pulses; True: the stochastic pulse coincidence of row and
    column trains (Gokmen & Vlasov 2016), ``Binomial(bit_length, min(n / bit_length, 1))`` pulses."""
    bit_length: int = 31
    """Slots of the stochastic pulse trains (the most pulses one update can give), stochastic only (1..10000)."""
    max_pulses: int = 1000
    """Most pulses one deterministic update gives a device (larger requests are cut) (1..100000)."""

    def __post_init__(self) -> None:
        if not isinstance(self.stochastic, bool):
            raise ConfigError(f"stochastic must be true or false, got {self.stochastic!r}")
        _check_count("bit_length", self.bit_length, 1, 10_000)
        _check_count("max_pulses", self.max_pulses, 1, 100_000)

    def counts(self, request: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
        """Pulse counts (non-negative integers) for ``|request|`` (S) with the nominal ``step`` (S);
        the stochastic scheme draws one binomial per device from ``rng``."""
        n = np.abs(np.asarray(request, dtype=np.float64)) / step
        if not self.stochastic:
            return np.minimum(np.floor(n + 0.5), self.max_pulses).astype(np.int64)
        return rng.binomial(self.bit_length, np.minimum(n / self.bit_length, 1.0)).astype(np.int64)

    def pulsed(self, request: np.ndarray, step: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(raveled indices, counts > 0) of the devices :meth:`counts` gives pulses, with the same
        values and the same draws from ``rng`` (a binomial with p = 0 draws nothing, so drawing only
        those with p > 0, in index order, consumes the stream as drawing all of them)."""
        if not self.stochastic:
            return _rounded_counts(request, step, self.max_pulses)
        p = np.abs(np.asarray(request, dtype=np.float64)).ravel() / step
        p /= self.bit_length
        np.minimum(p, 1.0, out=p)
        idx = np.flatnonzero(p > 0.0)
        counts = rng.binomial(self.bit_length, p[idx]).astype(np.int64)
        some = counts > 0
        return idx[some], counts[some]


@dataclass(frozen=True)
class WriteVerify:
    """Program, read back, re-program the error: up to ``max_iterations`` rounds within ``tolerance``."""

    max_iterations: int = 5
    """Programming rounds at most, the first open-loop included (1..1000)."""
    tolerance: float = 0.01
    """Accepted |target - read| after a round, relative to the window span (unitless, >= 0)."""
    max_pulses: int = 1000
    """Most pulses one round gives a device (1..100000)."""

    def __post_init__(self) -> None:
        _check_count("max_iterations", self.max_iterations, 1, 1000)
        check_range("tolerance", self.tolerance, 0.0, 1.0)
        _check_count("max_pulses", self.max_pulses, 1, 100_000)

    def counts(self, request: np.ndarray, step: float, rng: np.random.Generator) -> np.ndarray:
        """Deterministic pulse counts of one round (see :class:`OpenLoopPulses`)."""
        n = np.abs(np.asarray(request, dtype=np.float64)) / step
        return np.minimum(np.floor(n + 0.5), self.max_pulses).astype(np.int64)

    def pulsed(self, request: np.ndarray, step: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """(raveled indices, counts > 0) of the devices :meth:`counts` gives pulses (no draws)."""
        return _rounded_counts(request, step, self.max_pulses)


def _rounded_counts(request: np.ndarray, step: float, max_pulses: int) -> tuple[np.ndarray, np.ndarray]:
    """(raveled indices, counts > 0) of ``min(floor(|request| / step + 0.5), max_pulses)``: the
    deterministic counts, the same rounding, computed in full only where they are not 0."""
    size = np.abs(np.asarray(request, dtype=np.float64)).ravel()
    # Only requests of about half a step or more can round to a pulse (|r| / step + 0.5 >= 1 needs
    # |r| >= (0.5 - 2^-52) step): the rounding itself runs on those (most requests are far smaller).
    idx = np.flatnonzero(size >= 0.499 * step)
    n = size[idx] / step
    n += 0.5
    pulsed = n >= 1.0
    idx, n = idx[pulsed], n[pulsed]
    return idx, np.minimum(np.floor(n), max_pulses).astype(np.int64)


PROGRAMMING_SCHEMES = (OpenLoopPulses, WriteVerify)
"""The programming scheme records."""
