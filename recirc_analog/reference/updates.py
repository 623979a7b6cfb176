"""Weight-update directions and what every learning rule shares.

A learning rule turns a minibatch into an :class:`Update`: one ``dA^h`` and
one ``db^h`` per layer, averaged over the batch and *without* a learning rate
(the trainer multiplies layer h by its own rate). Every rule of the paper has
the Hebbian form of Eq. 6 / Eq. 17, ``dA^h = mean_batch[post^h outer pre^{h-1}]``
with ``db^h = mean_batch[post^h]``; rules differ only in the post-synaptic
term. This module holds that common form, the backward recursion of Eq. 7
with a pluggable feedback matrix (the transpose for BP, random matrices for
RBP), and the angle between two updates used to compare a rule with BP.
"""

from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from recirc_analog.reference.network import CircularAutoencoder


@dataclass(frozen=True)
class Update:
    """Per-layer update directions for one minibatch (dimensionless, eta-free)."""

    weights: tuple[np.ndarray, ...]
    """dA^h for h = 1..L, shape (N_h, N_{h-1}); add ``rate * dA^h`` to A^h."""
    biases: tuple[np.ndarray, ...]
    """db^h for h = 1..L, shape (N_h,)."""

    def scaled(self, rates) -> "Update":
        """This update with layer h multiplied by ``rates[h-1]``."""
        return Update(tuple(r * w for r, w in zip(rates, self.weights)),
                      tuple(r * b for r, b in zip(rates, self.biases)))


def _mean_outer(post: np.ndarray, pre: np.ndarray) -> np.ndarray:
    """mean over the batch of post outer pre, shape (N_h, N_{h-1}); the 1/batch goes on the smaller factor."""
    n = post.shape[0]
    if post.size <= pre.size:
        return (post / n).T @ pre
    return post.T @ (pre / n)


def hebbian_update(posts, pres) -> Update:
    """Update with dA^h = mean[post^h outer pre^{h-1}] and db^h = mean[post^h].

    ``posts[h-1]`` has shape (batch, N_h) and ``pres[h-1]`` shape (batch, N_{h-1}).
    """
    weights = tuple(_mean_outer(post, pre) for post, pre in zip(posts, pres))
    biases = tuple(post.sum(axis=0) / post.shape[0] for post in posts)
    return Update(weights, biases)


def backpropagate(net: CircularAutoencoder, preactivations, top_delta, feedback) -> list[np.ndarray]:
    """Error signals [delta^1, ..., delta^L] of Eq. 7 with arbitrary feedback matrices.

    ``delta^L = top_delta`` (batch, N_L); ``delta^{h-1} = (delta^h feedback[h-2]^T) * f_{h-1}'(S^{h-1})``
    where ``feedback[h-2]`` (shape (N_{h-1}, N_h)) is ``A^h^T`` for backpropagation
    and a random matrix for random backpropagation; ``preactivations`` are [S^1..S^L].
    """
    functions = net.transfer_functions
    deltas = [top_delta]
    for h in range(net.n_layers, 1, -1):
        back = deltas[0] @ feedback[h - 2].T
        deltas.insert(0, back * functions[h - 2].derivative(preactivations[h - 2]))
    return deltas


def transposed_weights(net: CircularAutoencoder) -> list[np.ndarray]:
    """[A^2^T, ..., A^L^T]: the feedback matrices that make :func:`backpropagate` exact BP."""
    return [w.T for w in net.weights[1:]]


def angles_degrees(update: Update, reference: Update) -> np.ndarray:
    """Angle (degrees) between dA^h of two updates for each layer, shape (L,).

    Weights only (biases excluded); NaN where either matrix is zero.
    """
    angles = []
    for a, b in zip(update.weights, reference.weights):
        norm = np.linalg.norm(a) * np.linalg.norm(b)
        if norm == 0.0:
            angles.append(np.nan)
        else:
            cosine = np.clip(np.sum(a * b) / norm, -1.0, 1.0)
            angles.append(np.degrees(np.arccos(cosine)))
    return np.array(angles)


class LearningRule(ABC):
    """A rule that turns a minibatch into an :class:`Update`.

    Rules with random feedback matrices draw them in :meth:`prepare` from
    their ``seed``; :meth:`directions` calls :meth:`prepare` itself when the
    matrices are missing or do not fit the network. Adaptive rules change
    their own state in :meth:`after_update`.
    """

    name: str = ""
    """Registry name of the rule (see :func:`recirc_analog.reference.rules.get_rule`)."""

    def prepare(self, net: CircularAutoencoder) -> None:  # noqa: B027 - an optional hook, empty by design
        """Draw any fixed random matrices for ``net``; nothing for most rules."""

    @abstractmethod
    def directions(self, net: CircularAutoencoder, x: np.ndarray, forward=None) -> Update:
        """The update for the minibatch ``x`` of shape (batch, N0), from the current weights.

        ``forward``: optionally ``net.forward_with_preactivations(x)``, already
        computed by the caller, so the forward pass is not done twice.
        """

    def after_update(self, applied: Update) -> None:  # noqa: B027 - an optional hook, empty by design
        """Called by the trainer with the update actually added (rates included)."""
