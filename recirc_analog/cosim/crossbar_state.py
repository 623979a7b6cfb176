"""The programmed state of every crossbar: device conductances behind a device model.

Each weight is a synapse made of its own devices (a G+/G- pair, or one device
against the layer's fixed reference column). Programming a weight change is
local to the synapse and the device model decides what is realised.

The programming policy of a pair (:func:`pair_requests`), for a change
``dw`` (``delta = dw / r_f`` siemens): the device whose *decrease* realises
the sign of the change first gives back what it holds above its own floor
(its lowest reachable conductance, :meth:`bounds`: ``g_lo`` of a pulsed
device, g_min of an ideal one, its value if stuck); the rest is an increase
of the other device. So each update pulses at most ``|delta|`` worth of
conductance in total, the idle device of a pair that carries its weight on
one device is never pulsed, and no device is asked to go below its own floor
(the earlier policy re-mapped every pair onto ``g_min``, below the floors a
pulsed device draws, so ~99.9 % of the pulses were wasted on saturated
devices). Stuck devices have floor = ceiling = their value, so a change is
routed around them when the other device of the pair can take it. For
devices whose floors are g_min (the ideal device) the policy is the mapping
of the weight plus the change with the smaller device at g_min, i.e. the
ideal reference's weight to rounding.

Decisions start from the held conductances (``peek``: drifted, without read
noise, no random draws), the ideal part of the controller (one that averages
its reads, or counts its own pulses); the network computes with :meth:`read`
values (fresh read noise). :meth:`monitor_weights` is the read for monitoring
(comparisons, logs): it draws nothing, so how often a run is looked at never
changes it.

In the bidirectional architecture (L = 2) layer 2's weights are layer 1's
devices read backwards: the state holds layer 1's array (N1, N0 + 1) and
layer 2's own bias column (N0, 1), and a shared device is programmed once
with the sum of its two local updates, ``dA^1_ij + dA^2_ji``
(:func:`recirc_analog.reference.tied.tied_update`), so ``A^2 = (A^1)^T`` holds
exactly at every step.
"""

from __future__ import annotations

import numpy as np

from ..devices import ConductanceWindow, DeviceConfig, DeviceModel
from ..errors import ConfigError, check_range
from ..reference.tied import tied_update
from ..reference.updates import Update
from ..schematic.bidirectional import backward_conductances, check_shared, own_devices
from ..schematic.mapping import ConductanceMapping, Conductances
from ..schematic.spec import ARCHITECTURES


class CrossbarState:
    """Device conductances of layers 1..L, programmed through ``device`` models.

    Parameters
    ----------
    initial : list of Conductances
        Layer h's conductances (S), shape (N_h, N_{h-1} + 1), bias row last.
    mapping : ConductanceMapping
        The weight <-> conductance mapping (fixed ``r_f`` for the whole run).
    device : DeviceConfig
        Behaviour of every programmable device; each physical array's devices are a
        :class:`~recirc_analog.devices.DeviceModel` built from it in the mapping's
        conductance window (the crossbar's ``g_min``, ``g_max``: the one source).
    seed : int
        Seed of the device model's random streams (one stream per device array).
    architecture : str
        ``conjoined`` (an array per layer) or ``bidirectional`` (L = 2; ``initial[1]``'s
        weight devices must be ``initial[0]``'s transposed).
    """

    def __init__(self, initial: list[Conductances], mapping: ConductanceMapping, device: DeviceConfig,
                 seed: int = 0, architecture: str = "conjoined"):
        if not callable(getattr(device, "build", None)):
            raise ConfigError(f"device must be a device configuration with build(window, initial, seed) "
                              f"(e.g. DeviceConfig), got {type(device).__name__}")
        if architecture not in ARCHITECTURES:
            raise ConfigError(f"architecture must be one of {', '.join(ARCHITECTURES)}, got {architecture!r}")
        self.mapping = mapping
        self.device = device
        self.window = ConductanceWindow(mapping.config.g_min, mapping.config.g_max)
        """The crossbar's conductance window, shared by the mapping and every device model."""
        self.architecture = architecture
        self.n_layers = len(initial)
        """L."""
        if architecture == "bidirectional":
            if len(initial) != 2:
                raise ConfigError(f"architecture 'bidirectional' needs 2 layers of conductances, got {len(initial)}")
            check_shared(initial)
            initial = [initial[0], own_devices(initial[1])]
        seeds = np.random.SeedSequence(seed).spawn(2 * len(initial))
        self.plus: list[DeviceModel] = [device.build(self.window, c.plus, seed=int(s.generate_state(1)[0]))
                                         for c, s in zip(initial, seeds[0::2])]
        """Programmable (G+ or single) devices of each physical array."""
        self.minus: list[DeviceModel | None] = [
            None if c.minus is None else device.build(self.window, c.minus, seed=int(s.generate_state(1)[0]))
            for c, s in zip(initial, seeds[1::2])]
        """G- devices of each physical array (differential mapping), else None."""
        for k, (c, s_plus, s_minus) in enumerate(zip(initial, seeds[0::2], seeds[1::2])):
            if self.minus[k] is not None:
                self._place_pairs(k, c, int(s_plus.generate_state(1)[0]), int(s_minus.generate_state(1)[0]))
        self.reference = [c.reference for c in initial]
        """Fixed reference devices of each physical array (shared_reference mapping), else None."""
        self._clip_checks: list[tuple[np.ndarray, ...]] = []
        self._clipped = 0
        self.t = 0.0
        """Time (s) passed to the device models when they are read and programmed; the owner
        of the clock advances it (:meth:`advance`; the controller, by each minibatch's phase
        time). Drift and read noise depend on it; the ideal device ignores it."""

    def _place_pairs(self, k: int, intended: Conductances, seed_plus: int, seed_minus: int) -> None:
        """Initial programming of array k's pairs onto each device's own range: a device model
        clips its initial conductance into its range, so a pair whose floors differ would start
        with a weight offset of ``r_f (floor- - floor+)``; instead the intended difference
        ``G+ - G-`` is placed with the smaller device at its own floor (:func:`pair_placement`)
        and both populations are built again from it (the same seeds draw the same devices).
        Nothing changes for devices whose floors are the window's (the ideal device)."""
        plus, minus = self.plus[k], self.minus[k]
        (low_plus, high_plus), (low_minus, high_minus) = self._bounds(plus), self._bounds(minus)
        new_plus, new_minus = pair_placement(intended.plus - intended.minus, low_plus, high_plus,
                                             low_minus, high_minus)
        tolerance = 1e-9 * self.window.span                    # rounding of the placement itself
        if (np.abs(new_plus - intended.plus).max(initial=0.0) <= tolerance
                and np.abs(new_minus - intended.minus).max(initial=0.0) <= tolerance):
            return
        self.plus[k] = self.device.build(self.window, new_plus, seed=seed_plus)
        self.minus[k] = self.device.build(self.window, new_minus, seed=seed_minus)

    def advance(self, seconds: float) -> None:
        """Move the device clock :attr:`t` forward by ``seconds`` (s, >= 0)."""
        check_range("seconds", seconds, 0.0, None)
        self.t += float(seconds)

    def _array(self, k: int, snapshots: bool = False) -> Conductances:
        """Present conductances (S) of physical array k (layer k + 1's own devices), read at :attr:`t`.
        ``snapshots``: a model whose read is a copy of its held values (``reads_held``) hands out its
        read-only snapshot instead (the same values; for callers that never keep the arrays)."""
        minus = self.minus[k]
        return Conductances(self._read(self.plus[k], snapshots),
                            None if minus is None else self._read(minus, snapshots), self.reference[k])

    def _read(self, device: DeviceModel, snapshot: bool) -> np.ndarray:
        if snapshot and getattr(device, "reads_held", False) is True:
            return device.peek(self.t)
        return device.read(self.t)

    def conductances(self, h: int, snapshots: bool = False) -> Conductances:
        """Layer h's present conductances (S), shape (N_h, N_{h-1} + 1); bidirectional layer 2
        reads layer 1's devices transposed and its own bias column. ``snapshots``: see :meth:`_array`."""
        if self.architecture == "bidirectional" and h == 2:
            return backward_conductances(self._array(0, snapshots), self._array(1, snapshots))
        return self._array(h - 1, snapshots)

    def all_conductances(self) -> list[Conductances]:
        """Conductances of layers 1..L."""
        return [self.conductances(h) for h in range(1, self.n_layers + 1)]

    def weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The effective weights and biases the circuit computes with: ([A^h], [b^h]) (new arrays).
        Noise-free models' reads are taken as their snapshots: the weights are computed from them
        and nothing keeps them (no copy per device array per minibatch)."""
        pairs = [self.mapping.to_weights(self.conductances(h, snapshots=True)) for h in range(1, self.n_layers + 1)]
        return [w for w, _ in pairs], [b for _, b in pairs]

    def apply(self, update: Update) -> None:
        """Program ``update`` (rates included) into every synapse, through the device model.

        Bidirectional: a shared device receives ``dA^1_ij + dA^2_ji`` (once); layer 2's
        bias column receives ``db^2``.
        """
        if self.architecture == "bidirectional":
            update = tied_update(update)
        changes = [_in_siemens(dw, db, self.mapping.r_f) for dw, db in zip(update.weights, update.biases)]
        if self.architecture == "bidirectional":
            changes = [changes[0], changes[1][:, -1:]]      # layer 2's weight change is already in layer 1's
        self._clip_checks, self._clipped = [], 0
        for k, change in enumerate(changes):
            self._program(k, change)

    def _held(self, device: DeviceModel) -> np.ndarray:
        """What ``device`` holds at :attr:`t` without read noise (``peek``; ``read`` for models without one)."""
        peek = getattr(device, "peek", None)
        return peek(self.t) if callable(peek) else device.read(self.t)

    def _bounds(self, device: DeviceModel) -> tuple[np.ndarray, np.ndarray]:
        """(floor, ceiling) (S) of each of ``device``'s devices (the window for models without ``bounds``)."""
        bounds = getattr(device, "bounds", None)
        if callable(bounds):
            return bounds()
        shape = device.shape
        return np.full(shape, self.window.g_min), np.full(shape, self.window.g_max)

    def monitor_weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """([A^h], [b^h]) of the held conductances (no read noise, no random draws, no clock
        bookkeeping): the read for monitoring, so that looking at a run never changes it."""
        arrays = [Conductances(self._held(p), None if m is None else self._held(m), r)
                  for p, m, r in zip(self.plus, self.minus, self.reference)]
        if self.architecture == "bidirectional":
            arrays = [arrays[0], backward_conductances(arrays[0], arrays[1])]
        pairs = [self.mapping.to_weights(c) for c in arrays]
        return [w for w, _ in pairs], [b for _, b in pairs]

    def _program(self, k: int, delta: np.ndarray) -> None:
        """Move physical array k's weights by ``delta`` = change / r_f (S, its shape, bias last)
        through the device model with the policy of :func:`pair_requests` (module docstring)."""
        plus, minus = self.plus[k], self.minus[k]
        held_plus = self._held(plus)
        low_plus, high_plus = self._bounds(plus)
        if minus is None:
            self._check_clipping("single", (delta,), held_plus, delta, low_plus, high_plus)
            plus.program(delta, self.t)
            return
        held_minus = self._held(minus)
        low_minus, high_minus = self._bounds(minus)
        if _sparse(plus) and _sparse(minus):
            # Each request of the pair is at most |delta| (pair_requests), and these devices give
            # no pulse and draw nothing for a request that rounds to no pulse: only the synapses
            # whose |delta| may pulse need the policy and the programming (the same result).
            idx = plus.may_pulse(delta)
            if minus.nominal_step != plus.nominal_step:
                idx = np.union1d(idx, minus.may_pulse(delta))
            if idx.size:
                d_plus, d_minus = pair_requests(*(a.ravel()[idx] for a in (delta, held_plus, held_minus,
                                                                            low_plus, low_minus)))
            else:                                               # the common case at small rates
                d_plus = d_minus = np.empty(0)
            self._check_clipping("policy", (delta,), delta, held_plus, held_minus, low_plus, low_minus,
                                 high_plus, high_minus)
            pair = getattr(plus, "program_pair_at", None)
            if callable(pair):                                  # both devices in one pulse loop
                pair(minus, idx, d_plus, d_minus, self.t)
            else:
                plus.program_at(idx, d_plus, self.t)
                minus.program_at(idx, d_minus, self.t)
            return
        d_plus, d_minus = pair_requests(delta, held_plus, held_minus, low_plus, low_minus)
        self._check_clipping("pair", (d_plus, d_minus), held_plus, d_plus, high_plus, held_minus, d_minus,
                             high_minus)
        plus.program(d_plus, self.t)
        minus.program(d_minus, self.t)

    def _check_clipping(self, kind: str, owned: tuple[np.ndarray, ...], *arrays: np.ndarray) -> None:
        """Keep what :attr:`clipped` counts (``kind``: ``single`` held, request, floor, ceiling;
        ``pair`` held+, request+, ceiling+, held-, request-, ceiling-; ``policy`` the pair's delta,
        held+, held-, floor+, floor-, ceiling+, ceiling-, whose requests are worked out again).
        Counted when first asked for (most minibatches nobody asks) from these arrays: ``owned``
        are this state's own (made read-only; no model writes into a request), and held arrays a
        model hands out writable (it might change them when programmed) are counted at once."""
        for array in owned:
            array.flags.writeable = False
        self._clip_checks.append((kind, arrays))
        if any(array.flags.writeable for array in arrays):
            self._count_clipped()

    def _count_clipped(self) -> None:
        for kind, arrays in self._clip_checks:
            if kind == "single":
                held, delta, low, high = arrays
                target = held + delta
                over = (target < low) | (target > high)
            else:
                if kind == "pair":
                    held_plus, d_plus, high_plus, held_minus, d_minus, high_minus = arrays
                else:
                    delta, held_plus, held_minus, low_plus, low_minus, high_plus, high_minus = arrays
                    d_plus, d_minus = pair_requests(delta, held_plus, held_minus, low_plus, low_minus)
                over = held_plus + d_plus > high_plus
                over |= held_minus + d_minus > high_minus
            self._clipped += int(np.count_nonzero(over))
        self._clip_checks = []

    @property
    def clipped(self) -> int:
        """Devices whose target fell outside their range in the last :meth:`apply` call (pairs: G+ or
        G- above its ceiling; single devices: outside [floor, ceiling])."""
        self._count_clipped()
        return self._clipped

    def get_state(self) -> dict[str, np.ndarray]:
        """Arrays that restore this state exactly: each device model's state arrays, keyed
        ``<name>_<plus|minus>_<h>`` (``g``, ``stuck`` and ``rng`` for :class:`DevicePopulation`;
        time-dependent models also save ``t_last``, the latest time they were used at)."""
        state = {}
        for kind, h, device in self._devices():
            state.update({f"{name}_{kind}_{h}": array for name, array in device.get_state().items()})
        return state

    def set_state(self, state) -> None:
        """Restore what :meth:`get_state` returned; the clock :attr:`t` resumes at the latest
        ``t_last`` a device model saved (models without one leave it where it is)."""
        for kind, h, device in self._devices():
            suffix = f"_{kind}_{h}"
            own = {key[:-len(suffix)]: value for key, value in state.items() if key.endswith(suffix)}
            if not own:
                raise ConfigError(f"checkpoint has no device state for the {kind} devices of array {h}")
            if "t_last" in own:
                self.t = max(self.t, float(own["t_last"]))
            try:
                device.set_state(own)
            except ConfigError as error:
                raise ConfigError(f"checkpoint's {kind} devices of array {h}: {error}") from None

    def _devices(self):
        """(kind, h, device model) of every programmable population, h = 1.. (physical arrays)."""
        for h in range(1, len(self.plus) + 1):
            for kind, arrays in (("plus", self.plus), ("minus", self.minus)):
                if arrays[h - 1] is not None:
                    yield kind, h, arrays[h - 1]


def _in_siemens(dw: np.ndarray, db: np.ndarray, r_f: float) -> np.ndarray:
    """The change (S) of a layer's devices, shape (N_out, N_in + 1), bias last: ``[dw, db] / r_f``
    (``dw`` (N_out, N_in) and ``db`` (N_out,) dimensionless, ``r_f`` ohm), each entry divided on
    its own (the values of concatenating then dividing, in one pass over a new array)."""
    change = np.empty((dw.shape[0], dw.shape[1] + 1))
    np.divide(dw, r_f, out=change[:, :-1])
    np.divide(db, r_f, out=change[:, -1])
    return change


def pair_requests(delta: np.ndarray, plus: np.ndarray, minus: np.ndarray, floor_plus: np.ndarray,
                  floor_minus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The requested changes (S) of a differential pair's G+ and G- for a change ``delta`` (S) of
    ``G+ - G-`` (all arrays of one shape, S).

    ``delta > 0``: G- first falls by what it holds above its floor (at most ``delta``), G+ rises by
    the rest; ``delta < 0`` mirrored; ``delta = 0``: nothing. The requests sum to ``delta`` in
    ``G+ - G-``, are never opposite to the sign each device's move needs, and never ask a device
    below its floor; their total size is ``|delta|``.
    """
    # Without a select, in place: where delta > 0, fall and so give_plus are 0, and where
    # delta <= 0, rise and give_minus are 0, so rise - (give_minus + give_plus) is exactly
    # delta - give_minus or -give_plus (x - 0 is x, 0 + x is x), and fall - (...) likewise
    # (max(d, 0) - d is max(-d, 0) exactly); only the sign of a zero request can differ from a
    # select's, and a zero request programs nothing.
    # (clip(x, 0, inf) is max(x, 0), and min(., r) then max(., 0) is max then min for r >= 0;
    # numpy's maximum with a scalar and clip with an array bound are the slow forms.)
    rise = np.clip(delta, 0.0, np.inf)
    fall = rise - delta
    give_minus = np.subtract(minus, floor_minus)
    np.minimum(give_minus, rise, out=give_minus)
    np.clip(give_minus, 0.0, np.inf, out=give_minus)
    give_plus = np.subtract(plus, floor_plus)
    np.minimum(give_plus, fall, out=give_plus)
    np.clip(give_plus, 0.0, np.inf, out=give_plus)
    give_minus += give_plus
    rise -= give_minus
    fall -= give_minus
    return rise, fall


def pair_placement(difference: np.ndarray, floor_plus: np.ndarray, ceiling_plus: np.ndarray,
                   floor_minus: np.ndarray, ceiling_minus: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(G+, G-) (S) realising ``G+ - G- = difference`` (S) inside each device's [floor, ceiling]
    with the smaller device at its floor: ``G+ = max(floor+, difference + floor-)`` and
    ``G- = G+ - difference``, each clipped to its range (clipping only when the difference does
    not fit, or a device is stuck: floor = ceiling). With floors at g_min this is the mapping's
    own placement."""
    plus = np.clip(np.maximum(floor_plus, difference + floor_minus), floor_plus, ceiling_plus)
    minus = np.clip(plus - difference, floor_minus, ceiling_minus)
    return plus, minus


def _sparse(device) -> bool:
    """True when ``device`` takes requests at some devices only (``program_at``, ``may_pulse``)."""
    return getattr(device, "programs_sparsely", False) is True
