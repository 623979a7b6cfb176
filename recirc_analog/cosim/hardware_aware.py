"""The hardware-aware reference: the NumPy network with its weights held as device conductances.

:class:`HardwareAwareTrainer` is the reference :class:`~recirc_analog.reference.training.Trainer`
(any rule: bp, rec, top, ...) whose weights live in a :class:`~.crossbar_state.CrossbarState`,
the class the co-simulation programs. After each minibatch the rule's update (rates
included; with ``max_norm`` the change towards the capped target) is programmed through the
device models and the network's weights are read back from the devices
(``state.weights()``), so the device's non-idealities act on every update exactly as in the
co-simulation, without a circuit and at NumPy speed.

The mapping is the co-simulation's: ``r_f`` from :func:`~recirc_analog.schematic.mapping.choose_r_f`
on the initial weights with ``headroom`` (default 2, as ``cosim``), the crossbar's window
(``CrossbarConfig`` defaults, 1 uS .. 100 uS) and the differential mapping. The device clock
advances by ``batch_seconds`` before each minibatch's update is programmed (the controller's
order); by default a batch of B samples takes ``B * (1 + m) * phase`` with the rule's
recirculation cycle ``m`` (1 for other rules) and the default phase clock (1 us), the
co-simulation's :meth:`~.controller.CosimController.batch_seconds`.

With the ideal device the round trip w -> G -> w is exact to about 1e-15 relative, so the
results equal the plain reference's to rounding.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..errors import ConfigError, check_range
from ..reference.network import CircularAutoencoder
from ..reference.training import TrainConfig, Trainer
from ..reference.updates import LearningRule, Update
from ..schematic.mapping import ConductanceMapping, choose_r_f
from ..schematic.spec import ClockConfig, CrossbarConfig
from .crossbar_state import CrossbarState

DEFAULT_HEADROOM = 2.0
"""The headroom of the default crossbar (as ``cosim --headroom``)."""


def default_batch_seconds(batch_size: int, cycles: int = 1, phase: float = ClockConfig().phase) -> float:
    """Device time (s) of one minibatch: ``batch_size * (1 + cycles) * phase``, as the
    co-simulation's controller advances its clock."""
    return batch_size * (1 + cycles) * phase


class HardwareAwareTrainer(Trainer):
    """A :class:`Trainer` whose network's weights are device conductances.

    Parameters
    ----------
    net, rule, config, progress, on_epoch
        As :class:`Trainer`. ``net``'s weights become the initial conductances; from
        then on ``net`` holds what the devices realise (read back after each update).
    device
        A device record (``DeviceConfig``, ``PulsedDevice``, a preset's record).
    device_seed : int
        Seed of the device models' random streams (the co-simulation uses its ``seed``).
    crossbar : CrossbarConfig
        Conductance window and mapping kind; ``r_f`` None is chosen with ``crossbar.headroom``
        (None: the default window and mapping with :data:`DEFAULT_HEADROOM`).
    batch_seconds : float or None
        Device time (s) one minibatch takes; None: :func:`default_batch_seconds` of each batch
        with the rule's cycle ``m``.

    On divergence the network's weights are restored as :class:`Trainer` does, but the
    devices are not: the state then holds the diverged step's conductances, so a run ends
    there (as ``train`` does) rather than stepping on.
    """

    def __init__(self, net: CircularAutoencoder, rule: LearningRule, config: TrainConfig | None = None,
                 progress=None, on_epoch=None, *, device, device_seed: int = 0,
                 crossbar: CrossbarConfig | None = None, batch_seconds: float | None = None):
        config = TrainConfig() if config is None else config
        crossbar = CrossbarConfig(headroom=DEFAULT_HEADROOM) if crossbar is None else crossbar
        if not isinstance(net, CircularAutoencoder):
            raise ConfigError(f"net must be a CircularAutoencoder, got {type(net).__name__}")
        if batch_seconds is not None:
            check_range("batch_seconds", batch_seconds, 0.0, None)
        r_f = crossbar.r_f
        if r_f is None:
            r_f = choose_r_f(net.weights, net.biases, crossbar)
            crossbar = replace(crossbar, r_f=r_f)
        self.mapping = ConductanceMapping(crossbar, r_f)
        initial = [self.mapping.to_conductances(w, b, layer=h)
                   for h, (w, b) in enumerate(zip(net.weights, net.biases), start=1)]
        self.state = CrossbarState(initial, self.mapping, device, seed=device_seed)
        """The devices holding the weights (the co-simulation's class)."""
        # Start from what the devices hold, as the co-simulation's reference does.
        net.weights, net.biases = self.state.weights()
        recirculation = getattr(rule, "recirculation", None)
        self.cycles = recirculation.cycles[1] if recirculation is not None else 1
        """The recirculation cycle m a batch's phases count (1 for rules without one)."""
        self.batch_seconds = batch_seconds
        self._batch = 0
        super().__init__(net, rule, config, progress, on_epoch)

    def _step(self, x):
        self._batch = len(x)
        return super()._step(x)

    def updated(self, applied: Update) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """Program the change towards :meth:`Trainer.targets` into the devices (after the clock
        moves by one minibatch) and return what they realise."""
        if self.config.max_norm is not None:
            weights, biases = self.targets(applied)
            applied = Update([w - w0 for w, w0 in zip(weights, self.net.weights)],
                             [b - b0 for b, b0 in zip(biases, self.net.biases)])
        seconds = self.batch_seconds
        if seconds is None:
            seconds = default_batch_seconds(self._batch, self.cycles)
        self.state.advance(seconds)
        self.state.apply(applied)
        return self.state.weights()
