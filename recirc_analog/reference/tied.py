"""Tied weights: the reference model of the bidirectional architecture (Appendix A, Figure 11 left).

In a *bidirectional* circular autoencoder with one hidden layer (L = 2) the
connections between layer 0 and layer 1 are used in both directions: layer 1
reads them forwards and layer 2 backwards, so ``A^1 = W`` (N1, N0) and
``A^2 = W^T`` (N0, N1) hold physically (the circuit is one crossbar, see
:mod:`recirc_analog.schematic.bidirectional`). The biases ``b^1`` (N1,) and
``b^2`` (N0,) are separate. Here such a network is an ordinary
:class:`CircularAutoencoder` whose weights satisfy ``A^2 = (A^1)^T``.

Summed-update rule
    Each direction keeps its own local rule, computed from its own readings:
    ``dA^1`` (post layer 1, pre layer 0) and ``dA^2`` (post layer 0, pre
    layer 1), each scaled by its layer's rate. The shared device (i, j)
    receives both: ``W_ij += dA^1_ij + dA^2_ji``. The tied network is
    therefore trained with ``dA^1 := dA^1 + (dA^2)^T`` and
    ``dA^2 := (dA^1 + (dA^2)^T)^T`` (:func:`tied_update`); ``db^1``, ``db^2``
    are unchanged. For gradients this is the chain rule: a loss of
    ``A^1 = W`` and ``A^2 = W^T`` has ``dL/dW = dL/dA^1 + (dL/dA^2)^T``.
"""

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.updates import LearningRule, Update

TIE_TOLERANCE = 1e-9
"""Largest accepted ``max|A^2 - (A^1)^T|`` relative to ``max|A^1|`` for a tied network."""


def _check_two_layers(net: CircularAutoencoder) -> None:
    if not isinstance(net, CircularAutoencoder):
        raise ConfigError(f"net must be a CircularAutoencoder, got {type(net).__name__}")
    if net.n_layers != 2:
        raise ConfigError(f"tied weights need L = 2 (sizes N0, N1, N0), got sizes "
                          f"{'-'.join(map(str, net.sizes))} (L = {net.n_layers})")


def check_tied(net: CircularAutoencoder, tolerance: float = TIE_TOLERANCE) -> None:
    """Raise ConfigError unless ``net`` has L = 2 and ``A^2 = (A^1)^T`` within ``tolerance``
    (relative to the largest |A^1|); the message gives the largest deviation."""
    _check_two_layers(net)
    first, second = net.weights
    deviation = float(np.max(np.abs(second - first.T)))
    scale = max(float(np.max(np.abs(first))), np.finfo(float).tiny)
    if deviation > tolerance * scale:
        raise ConfigError(
            f"tied weights need A^2 = (A^1)^T, got max|A^2 - A^1^T| = {deviation:.3g} "
            f"(allowed {tolerance:g} x max|A^1| = {tolerance * scale:.3g}); "
            f"make a tied network with recirc_analog.reference.tied.tie_weights(net)")


def tie_weights(net: CircularAutoencoder) -> CircularAutoencoder:
    """A copy of ``net`` (L = 2) with ``A^2 := (A^1)^T``; biases and activations unchanged."""
    _check_two_layers(net)
    tied = net.copy()
    tied.weights = [net.weights[0].copy(), net.weights[0].T.copy()]
    return tied


def tied_update(update: Update) -> Update:
    """The summed update of a tied pair: ``dA^1 + (dA^2)^T`` for layer 1 and its transpose
    for layer 2 (shapes (N1, N0) and (N0, N1)); biases unchanged. Linear, so it applies
    to rate-free directions and to updates already scaled by their rates alike."""
    if len(update.weights) != 2:
        raise ConfigError(f"tied_update needs an update of L = 2 layers, got {len(update.weights)}")
    shared = update.weights[0] + update.weights[1].T
    return Update((shared, shared.T.copy()), update.biases)


class TiedRule(LearningRule):
    """Trains a tied network with ``rule``'s two local updates summed on the shared weights.

    Parameters
    ----------
    rule : LearningRule
        The per-direction rule (e.g. :class:`~.rules.RecirculationRule`).
    rates : pair of float
        Learning rates (> 0) of layers 1 and 2, as the trainer will apply them.
        The shared weight changes by ``rates[0] dA^1 + rates[1] (dA^2)^T``; the
        directions returned are that change divided by each layer's rate, so the
        trainer's scaling gives it back. Only the ratio matters.
    """

    def __init__(self, rule: LearningRule, rates=(1.0, 1.0)):
        if not isinstance(rule, LearningRule):
            raise ConfigError(f"rule must be a LearningRule, got {type(rule).__name__}")
        rates = np.asarray(rates, dtype=float)
        if rates.shape != (2,) or not np.all(rates > 0):
            raise ConfigError(f"rates must be two learning rates > 0 (layers 1 and 2), got {rates.tolist()!r}")
        self.rule = rule
        self.rates = rates
        self.name = f"tied {rule.name}"

    def prepare(self, net: CircularAutoencoder) -> None:
        check_tied(net)
        self.rule.prepare(net)

    def directions(self, net: CircularAutoencoder, x: np.ndarray, forward=None) -> Update:
        own = self.rule.directions(net, x, forward)
        summed = tied_update(own.scaled(self.rates))
        return Update(tuple(w / rate for w, rate in zip(summed.weights, self.rates)), own.biases)

    def after_update(self, applied: Update) -> None:
        self.rule.after_update(applied)
