"""Signed weights <-> device conductances, and its inverse (docs/ARCHITECTURE.md §3).

The bias ``b^h`` is the weight of an extra input row driven by ``v_unit``, so
every array here carries it as the last input column: a layer with ``N_in``
inputs and ``N_out`` neurons has conductance matrices of shape
``(N_out, N_in + 1)``.

``differential``
    Each weight owns a device pair; ``w = r_f * (G+ - G-)`` with the smaller
    device at ``g_min``. Largest representable ``|w|``: ``r_f * (g_max - g_min)``.
``shared_reference``
    Each weight owns one device ``G`` and every input row one device on a
    reference column held at ``G_ref = (g_min + g_max) / 2``;
    ``w = r_f * (G - G_ref)``. Largest ``|w|``: ``r_f * (g_max - g_min) / 2``.
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.schematic.spec import CrossbarConfig


@dataclass(frozen=True)
class Conductances:
    """Device conductances (S) of one layer's crossbar, bias row included as the last column."""

    plus: np.ndarray
    """(N_out, N_in + 1): the weight devices (G+ of a pair, or the single device)."""
    minus: np.ndarray | None
    """(N_out, N_in + 1): the G- devices (differential), else None."""
    reference: np.ndarray | None
    """(N_in + 1,): the reference-column devices (shared_reference), else None."""


def _span(config: CrossbarConfig) -> float:
    """Largest |w| / r_f the mapping can represent (S)."""
    width = config.g_max - config.g_min
    return width if config.mapping == "differential" else width / 2


MAX_ABS_WEIGHT = 1e6
"""Largest |w| or |b| (dimensionless) a circuit is built for. A weight w makes a
transimpedance gain r_f * G of about |w|, so a neuron's pre-activation reaches
|w| * v_unit * fan-in volts; beyond 1e6 (megavolts at v_unit = 0.2 V) no physical
circuit computes it and ngspice's tolerances (vntol 1e-10 V, reltol 1e-6) cannot
resolve the small activities beside it."""


def check_weight_range(weights, biases) -> None:
    """ConfigError naming the first layer whose largest |w| or |b| exceeds :data:`MAX_ABS_WEIGHT`
    or is not finite."""
    for h, (w, b) in enumerate(zip(weights, biases), start=1):
        largest = max(float(np.max(np.abs(w), initial=0.0)), float(np.max(np.abs(b), initial=0.0)))
        if not largest <= MAX_ABS_WEIGHT:
            raise ConfigError(f"layer {h}: largest |w| = {largest:.6g} is outside what a circuit can represent "
                              f"(|w| <= {MAX_ABS_WEIGHT:g}: the transimpedance gain and node voltages scale with it)")


def choose_r_f(weights, biases, config: CrossbarConfig) -> float:
    """The feedback resistance (ohm) mapping the largest |w| or |b| of all layers onto
    the full conductance range, times ``config.headroom``; 1 / span for all-zero weights.
    ConfigError naming the layer when a weight exceeds :data:`MAX_ABS_WEIGHT`."""
    check_weight_range(weights, biases)
    largest = max(float(np.max(np.abs(a), initial=0.0)) for a in (*weights, *biases))
    unit = largest if largest > 0 else 1.0
    return config.headroom * unit / _span(config)


class ConductanceMapping:
    """Maps ``(W, b)`` of one layer to :class:`Conductances` and back.

    Parameters
    ----------
    config : CrossbarConfig
        ``g_min``, ``g_max`` (S) and the mapping kind.
    r_f : float
        Feedback resistance (ohm) of the transimpedance stages.
    """

    def __init__(self, config: CrossbarConfig, r_f: float):
        if not r_f > 0:
            raise ConfigError(f"r_f must be in (0, inf) ohm, got {r_f!r}")
        self.config = config
        self.r_f = float(r_f)

    @property
    def max_weight(self) -> float:
        """Largest representable |w| (dimensionless)."""
        return self.r_f * _span(self.config)

    @property
    def g_reference(self) -> float:
        """Reference-column conductance (S) of the shared_reference mapping."""
        return 0.5 * (self.config.g_min + self.config.g_max)

    def to_conductances(self, weights: np.ndarray, bias: np.ndarray, layer: int = 0) -> Conductances:
        """Conductances for ``weights`` (N_out, N_in) and ``bias`` (N_out,).

        Raises ConfigError naming the largest |w| and the largest representable
        one when a weight does not fit (``layer`` only labels the message).
        """
        w = np.concatenate([np.asarray(weights, float), np.asarray(bias, float)[:, None]], axis=1)
        largest = float(np.max(np.abs(w), initial=0.0))
        if not largest <= self.max_weight * (1 + 1e-12):
            raise ConfigError(
                f"layer {layer}: largest |w| = {largest:.6g} does not fit; the {self.config.mapping} "
                f"mapping with r_f = {self.r_f:.6g} ohm and G in [{self.config.g_min:.3g}, "
                f"{self.config.g_max:.3g}] S represents |w| <= {self.max_weight:.6g}")
        g_min, g_max = self.config.g_min, self.config.g_max
        if self.config.mapping == "differential":
            plus = np.clip(g_min + np.maximum(w, 0) / self.r_f, g_min, g_max)
            minus = np.clip(g_min + np.maximum(-w, 0) / self.r_f, g_min, g_max)
            return Conductances(plus, minus, None)
        single = np.clip(self.g_reference + w / self.r_f, g_min, g_max)
        return Conductances(single, None, np.full(w.shape[1], self.g_reference))

    def to_weights(self, conductances: Conductances) -> tuple[np.ndarray, np.ndarray]:
        """The inverse: ``(W, b)`` with shapes (N_out, N_in) and (N_out,)."""
        # The weights and the bias column each computed on their own (the same arithmetic per entry)
        # so that W comes out contiguous: a strided view of the (N_out, N_in + 1) difference slows
        # every product the network then computes with it.
        plus = conductances.plus
        if conductances.minus is not None:
            other, other_bias = conductances.minus[:, :-1], conductances.minus[:, -1]
        elif conductances.reference is not None:
            other, other_bias = conductances.reference[None, :-1], conductances.reference[-1]
        else:
            raise ConfigError("conductances need either minus devices or a reference column")
        w = np.subtract(plus[:, :-1], other)
        w *= self.r_f
        b = np.subtract(plus[:, -1], other_bias)
        b *= self.r_f
        return w, b
