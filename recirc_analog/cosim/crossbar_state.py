"""The programmed state of every crossbar: device conductances behind a device model.

Each weight is a synapse made of its own devices (a G+/G- pair, or one device
against the layer's fixed reference column). Programming a weight change is
local to the synapse: its new target is the mapping of its *own* current
weight plus the change (for a pair, the smaller device returns to g_min and
the other carries the weight), and the device model decides what is realised.
"""

from __future__ import annotations

import numpy as np

from ..circuit.mapping import ConductanceMapping, Conductances
from ..devices import DeviceArray, DeviceConfig
from ..errors import ConfigError
from ..reference.updates import Update


class CrossbarState:
    """Device conductances of layers 1..L, programmed through ``device`` models.

    Parameters
    ----------
    initial : list of Conductances
        Layer h's conductances (S), shape (N_h, N_{h-1} + 1), bias row last.
    mapping : ConductanceMapping
        The weight <-> conductance mapping (fixed ``r_f`` for the whole run).
    device : DeviceConfig
        Behaviour of every programmable device.
    seed : int
        Seed of the device model's random streams (one stream per device array).
    """

    def __init__(self, initial: list[Conductances], mapping: ConductanceMapping, device: DeviceConfig,
                 seed: int = 0):
        if not isinstance(device, DeviceConfig):
            raise ConfigError(f"device must be a DeviceConfig, got {type(device).__name__}")
        self.mapping = mapping
        self.device = device
        seeds = np.random.SeedSequence(seed).spawn(2 * len(initial))
        self.plus = [DeviceArray(device, c.plus, seed=int(s.generate_state(1)[0]))
                     for c, s in zip(initial, seeds[0::2])]
        self.minus = [None if c.minus is None else DeviceArray(device, c.minus, seed=int(s.generate_state(1)[0]))
                      for c, s in zip(initial, seeds[1::2])]
        self.reference = [c.reference for c in initial]
        self.clipped = 0
        """Devices whose target fell outside [g_min, g_max] in the last :meth:`apply` call."""

    @property
    def n_layers(self) -> int:
        """L."""
        return len(self.plus)

    def conductances(self, h: int) -> Conductances:
        """Layer h's present conductances (S)."""
        minus = self.minus[h - 1]
        return Conductances(self.plus[h - 1].conductances.copy(),
                            None if minus is None else minus.conductances.copy(),
                            self.reference[h - 1])

    def all_conductances(self) -> list[Conductances]:
        """Conductances of layers 1..L."""
        return [self.conductances(h) for h in range(1, self.n_layers + 1)]

    def weights(self) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The effective weights and biases the circuit computes with: ([A^h], [b^h])."""
        pairs = [self.mapping.to_weights(c) for c in self.all_conductances()]
        return [w for w, _ in pairs], [b for _, b in pairs]

    def apply(self, update: Update) -> None:
        """Program ``update`` (rates included) into every synapse, through the device model."""
        g_min, g_max = self.device.g_min, self.device.g_max
        r_f = self.mapping.r_f
        self.clipped = 0
        for h, (dw, db) in enumerate(zip(update.weights, update.biases), start=1):
            change = np.concatenate([dw, db[:, None]], axis=1)
            current = self.conductances(h)
            plus, minus = self.plus[h - 1], self.minus[h - 1]
            if minus is not None:
                target_w = r_f * (current.plus - current.minus) + change
                target_plus = g_min + np.maximum(target_w, 0) / r_f
                target_minus = g_min + np.maximum(-target_w, 0) / r_f
                self.clipped += int(np.count_nonzero((target_plus > g_max) | (target_minus > g_max)))
                plus.apply(target_plus - current.plus)
                minus.apply(target_minus - current.minus)
            else:
                target = current.plus + change / r_f
                self.clipped += int(np.count_nonzero((target > g_max) | (target < g_min)))
                plus.apply(target - current.plus)

    def get_state(self) -> dict[str, np.ndarray]:
        """Arrays that restore this state exactly (conductances, stuck masks, RNG states)."""
        state = {}
        for h in range(1, self.n_layers + 1):
            for kind, arrays in (("plus", self.plus), ("minus", self.minus)):
                device = arrays[h - 1]
                if device is None:
                    continue
                state[f"g_{kind}_{h}"] = device.conductances
                state[f"stuck_{kind}_{h}"] = device.stuck
                state[f"rng_{kind}_{h}"] = np.array(_rng_state_to_text(device.rng))
        return state

    def set_state(self, state) -> None:
        """Restore what :meth:`get_state` returned."""
        for h in range(1, self.n_layers + 1):
            for kind, arrays in (("plus", self.plus), ("minus", self.minus)):
                device = arrays[h - 1]
                if device is None:
                    continue
                key = f"g_{kind}_{h}"
                if key not in state or state[key].shape != device.conductances.shape:
                    raise ConfigError(f"checkpoint has no matching {key} array")
                device.conductances = np.array(state[key], dtype=float)
                device.stuck = np.array(state[f"stuck_{kind}_{h}"], dtype=bool)
                device.rng.bit_generator.state = _rng_state_from_text(str(state[f"rng_{kind}_{h}"]))


def _rng_state_to_text(rng: np.random.Generator) -> str:
    import json

    return json.dumps(rng.bit_generator.state)


def _rng_state_from_text(text: str) -> dict:
    import json

    return json.loads(text)
