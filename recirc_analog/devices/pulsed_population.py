"""The model of a crossbar's pulsed devices: :class:`PulsedPopulation` (built by :class:`~.pulsed.PulsedDevice`).

State per device: its programmed conductance ``g`` (S) and programming time
``t_prog`` (s), and the parameters drawn once from the seed (device-to-device):
stuck code (-1 at g_min, +1 at g_max, 0 free), step sizes up / down (relative
to the span), own range [g_lo, g_hi] (S), shape exponents, drift exponent.

Programming a request at time ``t``:

1. the present conductance is the drifted one, ``g ((t - t_prog) / t0)^(-nu)``;
2. the programming scheme turns the request into pulse counts (from the
   nominal step ``dw_min * span``; :mod:`.programming`);
3. every pulse moves a free device by ``span * dw * f(x) * (1 + dw_min_std N(0, 1))``
   inside its own range (:mod:`.steps`); write-verify reads back (with read
   noise) and repeats on the devices outside the tolerance;
4. a device that received pulses settles on the levels (if any) and restarts
   its drift clock at ``t``; devices without pulses keep drifting from their
   own last programming time; stuck devices never move.

Reading at ``t`` gives the drifted conductance plus fresh read noise
(``read_noise * span * N(0, 1)``), clipped to the window.

Three streams, seeded from ``seed``: the device-to-device draw (used once,
when built, in a fixed order: stuck, step size, asymmetry, lower bound,
upper bound, exponents up and down, drift exponents), the programming stream
(pulse noise, stochastic counts, write-verify reads) and the read stream (on
SFC64, :data:`READ_BIT_GENERATOR`); so reading never changes what programming
realises.
"""

from __future__ import annotations

import json
import math

import numpy as np

from ..errors import ConfigError
from .population import _check_time, _frozen
from .programming import WriteVerify
from .window import ConductanceWindow

_STATE_ARRAYS = ("g", "t_prog", "stuck", "dw_up", "dw_down", "g_lo", "g_hi", "gamma_up", "gamma_down", "nu")
_STATE_STREAMS = ("program_rng", "read_rng")
_STATE_TIMES = ("t_last",)
READ_BIT_GENERATOR = np.random.SFC64
"""The bit generator of the read-noise stream: a read draws one normal per device (64,328 per
minibatch at 784-20-784), and numpy's ziggurat on SFC64 takes ~0.8 of the time it takes on the
default PCG64 (benchmarks/RESULTS.md, issue 11); the same normal distribution, another stream.
A saved state names its own generator, so states saved with PCG64 streams still restore."""
_BIT_GENERATORS = {"PCG64": np.random.PCG64, "SFC64": np.random.SFC64}


class PulsedPopulation:
    """Pulsed devices of one crossbar, any array shape (see the module docstring).

    Parameters
    ----------
    device : PulsedDevice
        The record of the devices' behaviour.
    window : ConductanceWindow
        The crossbar's programmable range.
    initial : array
        Initial conductances (S); clipped into each device's own range and settled on the levels.
    seed : int
        Seed of the three streams.
    """

    def __init__(self, device, window: ConductanceWindow, initial: np.ndarray, seed: int = 0) -> None:
        g = np.array(initial, dtype=np.float64)
        if not np.all(np.isfinite(g)):
            raise ConfigError("initial conductances must be finite")
        self.device = device
        self.window = window
        draw_seed, program_seed, read_seed = np.random.SeedSequence(seed).spawn(3)
        draw, program = np.random.default_rng(draw_seed), np.random.default_rng(program_seed)
        self.program_rng = program
        """Stream of the programming noise (pulse noise, stochastic counts, verify reads)."""
        self.read_rng = np.random.Generator(READ_BIT_GENERATOR(read_seed))
        """Stream of the read noise (:data:`READ_BIT_GENERATOR`)."""
        shape, span, spread, step = g.shape, window.span, device.spread, device.step
        u = draw.random(shape)
        self.stuck = np.where(u < device.stuck_min, -1,
                              np.where(u < device.stuck_min + device.stuck_max, 1, 0)).astype(np.int8)
        """-1: stuck at g_min, +1: stuck at g_max, 0: free (drawn once)."""
        sigma = math.sqrt(math.log1p(spread.dw_min ** 2))
        scale = step.dw_min * np.exp(sigma * draw.standard_normal(shape) - 0.5 * sigma ** 2)
        asymmetry = np.clip(step.up_down + spread.up_down * draw.standard_normal(shape), -0.999, 0.999)
        self.dw_up = scale * (1.0 + asymmetry)
        """Each device's up step size, relative to the span."""
        self.dw_down = scale * (1.0 - asymmetry)
        """Each device's down step size, relative to the span."""
        self.g_lo = window.g_min + span * np.minimum(np.abs(spread.bounds * draw.standard_normal(shape)), 0.45)
        """Each device's own lower bound (S)."""
        self.g_hi = window.g_max - span * np.minimum(np.abs(spread.bounds * draw.standard_normal(shape)), 0.45)
        """Each device's own upper bound (S)."""
        gamma_up, gamma_down = step.gammas
        self.gamma_up = np.maximum(gamma_up + spread.gamma * draw.standard_normal(shape), 0.0)
        """Each device's up shape exponent."""
        self.gamma_down = np.maximum(gamma_down + spread.gamma * draw.standard_normal(shape), 0.0)
        """Each device's down shape exponent."""
        nu = device.drift.exponents(draw, shape) if device.drift is not None else np.zeros(shape)
        self.nu = np.where(self.stuck != 0, 0.0, nu)
        """Each device's drift exponent (0 for stuck devices)."""
        self.t_prog = np.zeros(shape)
        """Each device's last programming time (s)."""
        self.t_last = 0.0
        """The latest time (s) the population was programmed or read at (saved, so a restored owner
        can resume its clock)."""
        self._bounds: tuple[np.ndarray, np.ndarray] | None = None
        self._stacked: np.ndarray | None = None
        self._nominal_step = device.step.dw_min * window.span
        scheme = device.programming
        self._sparse = not isinstance(scheme, WriteVerify) and not scheme.stochastic
        g = self._settle(np.clip(g, self.g_lo, self.g_hi))
        self._g = _frozen(np.where(self.stuck < 0, window.g_min, np.where(self.stuck > 0, window.g_max, g)))
        self._forget()

    def _forget(self) -> None:
        """Reset what is derived from the state arrays (after building and :meth:`set_state`): the
        stuck mask's summary, the earliest programming time and the cached present conductances."""
        self._any_stuck = bool(np.any(self.stuck != 0))
        self._minus_nu = -self.nu
        self._t_prog_min: float | None = None
        self._cache: tuple[float, np.ndarray] | None = None
        # _g is read-only and replaced on every change, so an undrifted present is _g itself; it
        # lies in the window (settled) unless set_state loaded values outside it.
        self._g_inside = bool(np.all((self._g >= self.window.g_min) & (self._g <= self.window.g_max)))
        # Drift cannot raise a device above its g when every exponent is >= 0 (drawn as |N|; a
        # restored state is not checked for it): then a present of g inside the window stays <= g_max.
        self._below_g_max = self._g_inside and bool(np.all(self.nu >= 0.0))

    @property
    def shape(self) -> tuple[int, ...]:
        """Shape of the population."""
        return self._g.shape

    @property
    def level_step(self) -> float | None:
        """Spacing of the programmable levels (S); None for analog devices."""
        if self.device.levels is None:
            return None
        return self.window.span / (self.device.levels - 1)

    @property
    def nominal_step(self) -> float:
        """The step (S) the programming schemes count pulses in: ``dw_min * span``."""
        return self._nominal_step

    def _settle(self, g: np.ndarray) -> np.ndarray:
        """Snap to the levels (if any) and clip to the window."""
        level = self.level_step
        if level is not None:
            g = self.window.g_min + np.round((g - self.window.g_min) / level) * level
        return np.minimum(np.maximum(g, self.window.g_min), self.window.g_max)   # the window's clip

    def _present(self, t: float) -> np.ndarray:
        """Conductances (S) at time ``t`` without read noise (drift applied); read-only.

        Computed once per time ``t`` and kept until the state changes (the peek, the programming
        and the read of one minibatch share it; :meth:`_commit` patches it in place of the devices
        it programs). Each device's value depends only on its own ``g``, ``t_prog`` and ``nu``, so
        the array is the same whichever of these calls computes it.
        """
        cache = self._cache
        if cache is not None and cache[0] == t:
            return cache[1]
        drift = self.device.drift
        if drift is not None and self._t_prog_min is None:
            self._t_prog_min = float(self.t_prog.min(initial=np.inf))
        # max(t - t_prog) is t - min(t_prog) (rounding is monotone): no per-device pass while the
        # power law has not started anywhere (its factor would be 1 everywhere). _t_prog_min may be
        # below the minimum (programming lowers it to t, never raises it): the test then sends more
        # devices than needed through the power law, which gives them exactly 1.
        if drift is not None and t - self._t_prog_min > drift.t0:
            # Drift.factor without its selects, in place, bit for bit: a device still before t0 gets
            # (t0 / t0)^(-nu) = 1^(-nu), which is exactly 1 (IEEE pow), where the factor says 1.
            present = np.subtract(t, self.t_prog)
            np.maximum(present, drift.t0, out=present)
            present /= drift.t0
            np.power(present, self._minus_nu, out=present)
            present *= self._g
        else:
            present = self._g
        self._cache = (t, _frozen(present))
        return present

    def _check(self, name: str, values) -> np.ndarray:
        array = np.asarray(values, dtype=np.float64)
        if array.shape != self.shape:
            raise ConfigError(f"{name} must have shape {self.shape}, got {array.shape}")
        return array

    def _pulse(self, g: np.ndarray, up: np.ndarray, down: np.ndarray) -> np.ndarray:
        """``g`` (S) after ``up`` and ``down`` pulses (interleaved: up then down, pulse by pulse).

        Pulse k moves every free device with more than k pulses; the cycle-to-cycle noise of
        pulse k is drawn for the up devices, then the down devices, each in index order. When
        no device has pulses both ways (every programming round), both directions are moved in
        one vectorised step over a shrinking set of the devices still pulsed (the same draws in
        the same order: a stream's ``standard_normal(a)`` then ``(b)`` equals ``(a + b)``), so
        the cost follows the pulses given, not pulses x devices.
        """
        g = np.array(g, dtype=np.float64).ravel()
        up, down = np.asarray(up).ravel(), np.asarray(down).ravel()
        free = self.stuck.ravel() == 0
        if not np.any((up > 0) & (down > 0)):
            return self._pulse_one_way(g, np.where(free, up, 0), np.where(free, down, 0))
        n = int(max(up.max(initial=0), down.max(initial=0)))
        span, step, c2c = self.window.span, self.device.step, self.device.dw_min_std
        lo_all, hi_all = self.g_lo.ravel(), self.g_hi.ravel()
        for k in range(n):
            for sign, counts in ((1.0, up), (-1.0, down)):
                idx = np.flatnonzero((counts > k) & free)
                if idx.size == 0:
                    continue
                lo, hi, now = lo_all[idx], hi_all[idx], g[idx]
                f_up, f_down = step.shape((now - lo) / (hi - lo), self.gamma_up.ravel()[idx],
                                          self.gamma_down.ravel()[idx])
                size = span * (self.dw_up.ravel()[idx] * f_up if sign > 0 else -self.dw_down.ravel()[idx] * f_down)
                if c2c > 0:
                    size = size * (1.0 + c2c * self.program_rng.standard_normal(idx.size))
                g[idx] = np.clip(now + size, np.minimum(lo, now), np.maximum(hi, now))
        return g.reshape(self.shape)

    def _pulse_one_way(self, g: np.ndarray, up: np.ndarray, down: np.ndarray) -> np.ndarray:
        """:meth:`_pulse` for devices pulsed in one direction each (``g`` raveled, stuck devices'
        counts already 0)."""
        n_up = np.count_nonzero(up > 0)
        idx = np.concatenate([np.flatnonzero(up > 0), np.flatnonzero(down > 0)])
        if idx.size:
            is_up = np.zeros(idx.size, dtype=bool)
            is_up[:n_up] = True
            g[idx] = self._pulse_devices(g[idx], idx, is_up, np.where(is_up, up[idx], down[idx]))
        return g.reshape(self.shape)

    def _parameters(self) -> np.ndarray:
        """The per-device parameters a pulse needs, one row each (``g_lo``, ``g_hi``, ``gamma_up``,
        ``gamma_down``, ``dw_up``, ``dw_down``, raveled), so that the devices of one programming call
        are gathered by one indexing instead of twelve calls (fixed once drawn; :meth:`set_state`
        resets it)."""
        if self._stacked is None:
            self._stacked = np.stack([a.ravel() for a in (self.g_lo, self.g_hi, self.gamma_up, self.gamma_down,
                                                          self.dw_up, self.dw_down)])
        return self._stacked

    def _pulse_devices(self, now: np.ndarray, idx: np.ndarray, is_up: np.ndarray, counts: np.ndarray) -> np.ndarray:
        """The conductances (S) ``now`` of the free devices ``idx`` (raveled indices, the up devices
        first, each direction in index order) after ``counts`` (> 0) pulses each, up where ``is_up``:
        one vectorised step per pulse index over the devices still pulsed, the cycle-to-cycle noise
        drawn in that order (:func:`_pulse_train`)."""
        return _pulse_train(now, self._parameters().take(idx, axis=1), is_up, counts, self.device, self.window.span,
                            [(self.program_rng, idx.size)])

    def _round(self, g: np.ndarray, change: np.ndarray, scheme) -> tuple[np.ndarray, np.ndarray]:
        """One programming round towards ``change`` (S): (new conductances settled, devices pulsed)."""
        counts = scheme.counts(change, self.nominal_step, self.program_rng)
        counts = np.where(self.stuck == 0, counts, 0)
        up, down = np.where(change > 0, counts, 0), np.where(change < 0, counts, 0)
        pulsed = counts > 0
        new = self._pulse(g, up, down)
        return np.where(pulsed, self._settle(new), g), pulsed

    def _commit(self, new: np.ndarray, pulsed: np.ndarray, t: float) -> np.ndarray:
        self.t_last = max(self.t_last, float(t))
        previous, self._g = self._g, _frozen(np.where(pulsed, new, self._g))
        self.t_prog = np.where(pulsed, float(t), self.t_prog)
        self._changed(np.flatnonzero(pulsed), t, previous)
        return self._present(t)

    def _changed(self, idx: np.ndarray, t: float, previous: np.ndarray) -> None:
        """The devices ``idx`` (raveled) were programmed at ``t`` (``previous``: the ``g`` array
        before): keep the present conductances of time ``t`` (a device just programmed holds its
        ``g``: its drift clock restarts at 0, below ``t0``), drop those of any other time."""
        if idx.size == 0:
            return
        if self._t_prog_min is not None:         # a lower bound of min(t_prog) is enough for _present's
            self._t_prog_min = min(self._t_prog_min, float(t))   # test (the power law gives 1 before t0)
        cache = self._cache
        if cache is None or cache[0] != t:
            self._cache = None
            return
        if cache[1] is not previous:
            present = cache[1].copy()
            present.ravel()[idx] = self._g.ravel()[idx]
        else:                                    # undrifted at t: the present is g itself
            present = self._g
        self._cache = (t, _frozen(present))

    def program(self, request: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Program the requested change ``request`` (S) at time ``t`` (s) with the device's scheme;
        return the conductances (S) the devices hold afterwards (no read noise; a read-only snapshot)."""
        _check_time(t)
        request = self._check("request", request)
        if not math.isfinite(float(request.sum())) and not np.all(np.isfinite(request)):
            raise ConfigError("request contains NaN or inf")
        scheme = self.device.programming
        present = self._present(t)
        if not isinstance(scheme, WriteVerify):
            return self._program_once(present, request, scheme, t)
        new, pulsed = self._round(present, request, scheme)
        target = self.window.clip(present + request)
        span = self.window.span
        for _ in range(scheme.max_iterations - 1):
            seen = new
            if self.device.read_noise > 0:
                seen = new + self.device.read_noise * span * self.program_rng.standard_normal(self.shape)
            error = target - seen
            error = np.where((np.abs(error) > scheme.tolerance * span) & (self.stuck == 0), error, 0.0)
            if not np.any(error):
                break
            new, more = self._round(new, error, scheme)
            pulsed = pulsed | more
        return self._commit(new, pulsed, t)

    @property
    def programs_sparsely(self) -> bool:
        """True when requests may be given at some devices only (:meth:`program_at`, with
        :meth:`may_pulse` finding them): the deterministic open-loop scheme, where a zero request
        gives no pulse and draws nothing. False for the stochastic scheme (every nonzero request
        draws) and write-verify (it reads back every device)."""
        return self._sparse

    def may_pulse(self, size: np.ndarray) -> np.ndarray:
        """Raveled indices (increasing) of the devices a request of at most ``|size|`` (S, this
        population's shape) may pulse (:attr:`programs_sparsely` only): those whose ``size`` itself
        rounds to at least one pulse (the count never falls as the size grows)."""
        if not self.programs_sparsely:
            raise ConfigError("may_pulse needs the deterministic open-loop scheme (OpenLoopPulses with "
                              "stochastic false)")
        idx, _ = self.device.programming.pulsed(self._check("size", size), self.nominal_step, self.program_rng)
        return idx

    def program_at(self, idx: np.ndarray, request: np.ndarray, t: float = 0.0) -> np.ndarray:
        """:meth:`program` of a request that is ``request`` (S) at the raveled devices ``idx``
        (increasing, distinct) and 0 elsewhere, without building it: the same result and draws
        for the deterministic open-loop scheme, where a zero request
        gives no pulse and draws nothing (:attr:`programs_sparsely`). Returns the held conductances
        (S, read-only)."""
        idx, request = self._check_at(idx, request, t)
        if idx.size == 0:                                      # nothing to program: only the clock
            self.t_last = max(self.t_last, float(t))
            return self._present(t)
        return self._program_once(self._present(t), request, self.device.programming, t, idx)

    def program_pair_at(self, other: "PulsedPopulation", idx: np.ndarray, request: np.ndarray,
                        other_request: np.ndarray, t: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
        """``self.program_at(idx, request, t)`` and ``other.program_at(idx, other_request, t)`` (the
        two devices of differential pairs): the same results and draws, each population's
        cycle-to-cycle noise from its own stream in its own order, with one pulse loop over the
        pulsed devices of both (half the NumPy calls; they share the device record and window).
        Returns both populations' held conductances (S, read-only)."""
        if not (type(other) is type(self) and other.device is self.device and other.window == self.window):
            return self.program_at(idx, request, t), other.program_at(idx, other_request, t)
        idx, request, other_request = self._check_at(idx, request, t, other_request)
        plans = [pop._plan(pop._present(t), r, pop.device.programming, t, idx)
                 for pop, r in ((self, request), (other, other_request))]
        if plans[0] is None or plans[1] is None:               # one side (or none) pulses: no pairing
            for pop, plan in zip((self, other), plans):
                if plan is not None:
                    pop._store(plan[1], pop._settle(pop._pulse_devices(*plan)), t)
            return self._present(t), other._present(t)
        (now_a, order_a, up_a, counts_a), (now_b, order_b, up_b, counts_b) = plans
        params = np.concatenate([self._parameters().take(order_a, axis=1),
                                 other._parameters().take(order_b, axis=1)], axis=1)
        new = self._settle(_pulse_train(np.concatenate([now_a, now_b]), params, np.concatenate([up_a, up_b]),
                                        np.concatenate([counts_a, counts_b]), self.device, self.window.span,
                                        [(self.program_rng, order_a.size), (other.program_rng, order_b.size)]))
        self._store(order_a, new[:order_a.size], t)
        other._store(order_b, new[order_a.size:], t)
        return self._present(t), other._present(t)

    def _check_at(self, idx, request, t: float, *more) -> tuple[np.ndarray, ...]:
        """``idx`` and ``request`` (and the ``more`` requests at the same ``idx``, of populations alike
        this one) of :meth:`program_at` as arrays, checked (one-line errors)."""
        _check_time(t)
        if not self.programs_sparsely:
            raise ConfigError("program_at needs the deterministic open-loop scheme (OpenLoopPulses with "
                              "stochastic false)")
        idx = np.asarray(idx, dtype=np.int64)
        requests = [np.asarray(r, dtype=np.float64) for r in (request, *more)]
        for r in requests:
            if r.shape != idx.shape or idx.ndim != 1:
                raise ConfigError(f"idx and request must be 1-d arrays of one length, got {idx.shape} and {r.shape}")
        if idx.size and (idx[0] < 0 or idx[-1] >= self._g.size or (idx[1:] <= idx[:-1]).any()):
            raise ConfigError(f"idx must be increasing device indices in [0, {self._g.size}), got "
                              f"[{idx.min()}, {idx.max()}]")
        if (not math.isfinite(sum(float(r.sum()) for r in requests))
                and not all(np.all(np.isfinite(r)) for r in requests)):
            raise ConfigError("request contains NaN or inf")
        return (idx, *requests)

    def _program_once(self, present: np.ndarray, request: np.ndarray, scheme, t: float,
                      at: np.ndarray | None = None) -> np.ndarray:
        """One open-loop round (:meth:`_round` then :meth:`_commit`) on the pulsed devices only: the
        same counts, draws and arithmetic per device, without passes over the devices that get no
        pulse (at small learning rates most requests round to none). ``at``: the raveled devices
        ``request`` holds the requests of (the rest 0), None for all."""
        plan = self._plan(present, request, scheme, t, at)
        if plan is not None:
            self._store(plan[1], self._settle(self._pulse_devices(*plan)), t)
        return self._present(t)

    def _plan(self, present: np.ndarray, request: np.ndarray, scheme, t: float, at: np.ndarray | None):
        """The pulses of an open-loop round: (present conductances, raveled indices, up?, counts) of
        the free devices that get pulses, the up devices first, each direction in index order (the
        order :meth:`_pulse` draws in), or None when no device gets a pulse; moves :attr:`t_last`.
        The counts' draws (stochastic scheme) are taken here."""
        idx, counts = scheme.pulsed(request, self.nominal_step, self.program_rng)
        request = request.ravel()[idx]
        if at is not None:
            idx = at[idx]
        if self._any_stuck:
            free = self.stuck.ravel()[idx] == 0
            idx, counts, request = idx[free], counts[free], request[free]
        self.t_last = max(self.t_last, float(t))
        if idx.size == 0:
            return None
        down = request <= 0
        first = np.argsort(down, kind="stable")                    # up devices first, each in index order
        order = idx[first]
        return present.ravel()[order], order, ~down[first], counts[first]

    def _store(self, order: np.ndarray, new: np.ndarray, t: float) -> None:
        """The devices ``order`` (raveled) now hold ``new`` (S, settled), programmed at ``t``."""
        g = self._g.copy()
        g.ravel()[order] = new                                     # g is a fresh copy: a view
        previous, self._g = self._g, _frozen(g)
        np.put(self.t_prog, order, float(t))
        self._changed(order, t, previous)

    def program_pulses(self, up: np.ndarray, down: np.ndarray, t: float = 0.0) -> np.ndarray:
        """Apply ``up`` / ``down`` pulses (non-negative integers) at time ``t`` (s); return the
        conductances (S) afterwards (no read noise)."""
        _check_time(t)
        counts = []
        for name, values in (("up", up), ("down", down)):
            array = self._check(name, values)
            if not np.all((array >= 0) & (array == np.round(array))):
                raise ConfigError(f"{name} must hold non-negative integer pulse counts")
            counts.append(np.where(self.stuck == 0, array, 0).astype(np.int64))
        pulsed = (counts[0] + counts[1]) > 0
        present = self._present(t)
        new = np.where(pulsed, self._settle(self._pulse(present, counts[0], counts[1])), present)
        return self._commit(new, pulsed, t)

    def read(self, t: float = 0.0) -> np.ndarray:
        """Conductances (S) a read at time ``t`` (s) sees: drifted, plus fresh read noise, in the window."""
        _check_time(t)
        self.t_last = max(self.t_last, float(t))
        present = self._present(t)
        if self.device.read_noise <= 0:
            return self.window.clip(present)
        g = self.read_rng.standard_normal(self.shape)
        g *= self.device.read_noise * self.window.span
        g += present
        return np.clip(g, self.window.g_min, self.window.g_max, out=g)

    def peek(self, t: float = 0.0) -> np.ndarray:
        """The conductances (S) the devices hold at ``t`` (s), drifted, without read noise: what a
        monitoring read reports and what programming decisions start from (the ideal part of the
        model: a controller that averages its reads). Draws nothing from any stream and leaves
        :attr:`t_last` alone, so calling it (or not) never changes a run. A read-only array."""
        _check_time(t)
        present = self._present(t)
        if present is self._g and self._g_inside:      # undrifted and settled: nothing to clip
            return present
        # Drift only lowers a conductance (factor <= 1), so the present lies in the window unless a
        # device drifted below g_min: reductions instead of a clip's pass and new array. The drift
        # factor is x^(-nu) with x >= 1 and nu >= 0, at most 1 (IEEE pow of x >= 1 to a power <= 0
        # never rounds above 1), so g * factor <= g: when g lies in the window (and no restored
        # exponent is negative: _below_g_max), only the minimum needs a look.
        if present.min(initial=np.inf) >= self.window.g_min and (
                self._below_g_max or present.max(initial=-np.inf) <= self.window.g_max):
            return present
        return _frozen(self.window.clip(present))

    def bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """(lowest, highest) conductance (S) each device can be programmed to: its own range
        [``g_lo``, ``g_hi``], or a stuck device's conductance for both (read-only arrays)."""
        if self._bounds is None:                 # fixed once drawn (stuck devices never move); set_state resets it
            stuck = self.stuck != 0
            self._bounds = _frozen(np.where(stuck, self._g, self.g_lo)), _frozen(np.where(stuck, self._g, self.g_hi))
        return self._bounds

    def get_state(self) -> dict[str, np.ndarray]:
        """The per-device arrays (``g``, ``t_prog``, ``stuck``, step sizes, bounds, exponents, ``nu``)
        both streams' states (``program_rng``, ``read_rng``, JSON text) and ``t_last``."""
        state = {name: np.array(getattr(self, "_g" if name == "g" else name)) for name in _STATE_ARRAYS}
        for name in _STATE_STREAMS:
            state[name] = np.array(json.dumps(getattr(self, name).bit_generator.state, default=_listed))
        state["t_last"] = np.array(self.t_last)
        return state

    def set_state(self, state: dict[str, np.ndarray]) -> None:
        """Restore what :meth:`get_state` returned."""
        for key in _STATE_ARRAYS + _STATE_STREAMS + _STATE_TIMES:
            if key not in state:
                raise ConfigError(f"device state has no {key!r} array")
        arrays = {}
        for name in _STATE_ARRAYS:
            arrays[name] = np.array(state[name], dtype=np.int8 if name == "stuck" else np.float64)
            if arrays[name].shape != self.shape:
                raise ConfigError(f"device state {name!r} must have shape {self.shape}, got {arrays[name].shape}")
        streams = {name: _stream(name, state[name]) for name in _STATE_STREAMS}
        for name, array in arrays.items():
            setattr(self, "_g" if name == "g" else name, _frozen(array) if name == "g" else array)
        for name, stream in streams.items():
            setattr(self, name, stream)
        self.t_last = float(state["t_last"])
        self._bounds = self._stacked = None
        self._forget()


def _stream(name: str, saved) -> np.random.Generator:
    """A generator restored from the JSON text of a saved ``bit_generator.state`` (``name`` labels
    errors): its own bit generator (PCG64 or SFC64), whichever this version draws with."""
    try:
        state = json.loads(str(saved))
        kind = _BIT_GENERATORS[state["bit_generator"]]
        generator = np.random.Generator(kind())
        generator.bit_generator.state = state
    except (ValueError, TypeError, KeyError) as error:
        raise ConfigError(f"device state {name!r} is not a saved stream of {', '.join(_BIT_GENERATORS)} "
                          f"({type(error).__name__}: {error})") from None
    return generator


def _listed(value):
    """JSON form of the arrays in a bit generator's state (SFC64 keeps its words in a uint64 array)."""
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"cannot save a {type(value).__name__} in a stream's state")


def _pulse_train(now: np.ndarray, params: np.ndarray, is_up: np.ndarray, counts: np.ndarray, device,
                 span: float, streams: list) -> np.ndarray:
    """Conductances (S) after ``counts`` (> 0) pulses each of devices at ``now`` (S), up where
    ``is_up``; ``params``: their rows of :meth:`PulsedPopulation._parameters`; ``streams``: (program
    stream, number of devices) of each population the devices come from, in order (each
    population's devices the up ones first, each direction in index order). One vectorised step per
    pulse index over the devices still pulsed; pulse k's cycle-to-cycle noise is drawn from each
    population's own stream for its devices still pulsed, in their order, as one population alone
    would draw it."""
    lo, hi, gamma_up, gamma_down, dw_up, dw_down = params
    step, c2c = device.step, device.dw_min_std
    sizes = [n for _, n in streams]
    g = now = np.array(now, dtype=np.float64)
    pos = slice(None)                            # the devices still pulsed: all, then an index array
    k = 0
    while True:
        if k:
            now = g[pos]
        f_up, f_down = step.shape((now - lo) / (hi - lo), gamma_up, gamma_down)
        size = span * np.where(is_up, dw_up * f_up, -dw_down * f_down)
        if c2c > 0:
            noise = [rng.standard_normal(n) for (rng, _), n in zip(streams, sizes) if n]
            size = size * (1.0 + c2c * (noise[0] if len(noise) == 1 else np.concatenate(noise)))
        # np.clip(now + size, min(lo, now), max(hi, now)), which numpy defines as this max then min,
        # without np.clip's Python layers
        g[pos] = np.minimum(np.maximum(now + size, np.minimum(lo, now)), np.maximum(hi, now))
        k += 1
        keep = counts > k
        if not keep.any():                       # the common case: every device had one pulse
            return g
        if isinstance(pos, slice):
            pos = np.arange(g.size)
        if not keep.all():
            ends = np.cumsum(sizes)
            sizes = [int(np.count_nonzero(keep[end - n:end])) for n, end in zip(sizes, ends)]
            pos, counts, is_up, lo, hi = pos[keep], counts[keep], is_up[keep], lo[keep], hi[keep]
            gamma_up, gamma_down, dw_up, dw_down = gamma_up[keep], gamma_down[keep], dw_up[keep], dw_down[keep]
