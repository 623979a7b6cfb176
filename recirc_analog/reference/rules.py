"""The learning rules of the paper, selectable by name with :func:`get_rule`.

===========  ==================================================================
name         post-synaptic term of layer h (pre-synaptic term O^{h-1}(0))
===========  ==================================================================
``bp``       exact gradient of the matched loss: Eq. 6-8 (delta via A^T)
``rbp``      Eq. 7 with fixed random feedback B^{h+1} instead of A^{h+1}^T
``srbp``     skip RBP: f_h'(S^h) * (C^h delta^L), C^h fixed random (N_h, N_L)
``arbp``     adaptive RBP: as ``rbp``, and B^{h+1} += feedback_rate * dA^{h+1}^T
``top``      only the top layer learns (delta^L = T - O^L, Eq. 8); others zero
``rec``      recirculation: O^h(n) - O^h(m) with pre O^{h-1}(n) (Eq. 23,
             Theorem 6.3); error mode O^h(1) with pre O^{h-1}(0) (Eq. 18)
``standard`` the standard (non-circular) autoencoder's learning channels
             (Appendix B, Table 5), see :mod:`.standard_channels`
===========  ==================================================================

All rules give eta-free directions averaged over the minibatch; BP, RBP,
SRBP, ARBP and TOP update the top layer by exact gradient descent.
"""

import numpy as np

from recirc_analog.errors import ConfigError, check_range
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder, glorot_uniform
from recirc_analog.reference.recirculation import MODES, TOP_LAYER_NAMES, Recirculation, cycle_pair
from recirc_analog.reference.standard_channels import StandardChannelRule
from recirc_analog.reference.updates import LearningRule, Update, backpropagate, hebbian_update, transposed_weights


def _top_delta_pass(net: CircularAutoencoder, x, forward=None):
    """(outputs [O^0..O^L], preactivations [S^1..S^L], top delta T - O^L (batch, N0)).

    ``forward``, if given, is ``net.forward_with_preactivations(x)`` already computed.
    """
    outputs, preactivations = forward if forward is not None else net.forward_with_preactivations(x)
    top_delta = loss_for(net).top_delta(outputs[0], outputs[-1], preactivations[-1])
    return outputs, preactivations, top_delta


class BackpropRule(LearningRule):
    """Backpropagation (Eq. 6-8): the exact negative gradient of the matched loss."""

    name = "bp"

    def directions(self, net, x, forward=None) -> Update:
        outputs, preactivations, top_delta = _top_delta_pass(net, x, forward)
        deltas = backpropagate(net, preactivations, top_delta, transposed_weights(net))
        return hebbian_update(deltas, outputs[:-1])


class _FixedFeedbackRule(LearningRule):
    """A rule with feedback matrices: given explicitly, or Glorot-uniform from ``seed``."""

    def __init__(self, feedback=None, seed: int = 0):
        self.feedback = feedback
        self.seed = seed
        self.feedback_ = None

    def feedback_shapes(self, net) -> list[tuple[int, int]]:
        """Shapes of the feedback matrices this rule needs for ``net``."""
        raise NotImplementedError

    def prepare(self, net) -> None:
        shapes = self.feedback_shapes(net)
        if self.feedback is not None:
            matrices = [np.array(m, dtype=float) for m in self.feedback]
            if [m.shape for m in matrices] != shapes:
                raise ConfigError(
                    f"feedback must have shapes {shapes}, got {[m.shape for m in matrices]}")
            self.feedback_ = matrices
        else:
            rng = np.random.default_rng(self.seed)
            self.feedback_ = [glorot_uniform(rng, *shape) for shape in shapes]

    def feedback_for(self, net) -> list[np.ndarray]:
        """The feedback matrices, drawn first if missing or shaped for another network."""
        if self.feedback_ is None or [b.shape for b in self.feedback_] != self.feedback_shapes(net):
            self.prepare(net)
        return self.feedback_


class RandomBackpropRule(_FixedFeedbackRule):
    """Random backpropagation (Section 2.3.2): Eq. 7 with fixed random feedback.

    Parameters
    ----------
    feedback : list of arrays, optional
        B^2..B^L with B^h of shape (N_{h-1}, N_h), used in place of A^h^T.
        Drawn Glorot-uniform from ``seed`` when omitted.
    seed : int
        Seed of the random feedback matrices.
    """

    name = "rbp"

    def feedback_shapes(self, net) -> list[tuple[int, int]]:
        return [w.T.shape for w in net.weights[1:]]

    def directions(self, net, x, forward=None) -> Update:
        feedback = self.feedback_for(net)
        outputs, preactivations, top_delta = _top_delta_pass(net, x, forward)
        deltas = backpropagate(net, preactivations, top_delta, feedback)
        return hebbian_update(deltas, outputs[:-1])


class AdaptiveRandomBackpropRule(RandomBackpropRule):
    """Adaptive random backpropagation (ARBP, Baldi et al. 2017/2018).

    The feedback matrix B^{h+1} is itself trained by the local product of its
    own pre-synaptic signal (delta^{h+1}) and post-synaptic activity (O^h):
    after each step ``B^{h+1} += feedback_rate * (applied dA^{h+1})^T``. Since A^{h+1}
    receives the same product, B^{h+1} - A^{h+1}^T stays fixed (for
    ``feedback_rate`` = 1, ignoring norm caps) while both grow, so the feedback
    slowly aligns with A^T (the Kolen-Pollack mechanism without decay).

    ``feedback_rate`` is dimensionless: a multiple of the forward step.
    """

    name = "arbp"

    def __init__(self, feedback=None, seed: int = 0, feedback_rate: float = 1.0):
        super().__init__(feedback, seed)
        self.feedback_rate = check_range("feedback_rate", feedback_rate, 0, None)

    def after_update(self, applied: Update) -> None:
        self.feedback_ = [b + self.feedback_rate * dw.T
                          for b, dw in zip(self.feedback_, applied.weights[1:])]


class SkipRandomBackpropRule(_FixedFeedbackRule):
    """Skip random backpropagation (SRBP): the top error goes straight to every layer.

    Hidden layer h < L receives ``delta^h = f_h'(S^h) * (delta^L C^h^T)`` with
    fixed random ``C^h`` of shape (N_h, N_L) (``feedback`` or Glorot from ``seed``).
    """

    name = "srbp"

    def feedback_shapes(self, net) -> list[tuple[int, int]]:
        return [(n, net.sizes[-1]) for n in net.sizes[1:-1]]

    def directions(self, net, x, forward=None) -> Update:
        feedback = self.feedback_for(net)
        outputs, preactivations, top_delta = _top_delta_pass(net, x, forward)
        functions = net.transfer_functions
        deltas = [(top_delta @ c.T) * functions[h].derivative(preactivations[h])
                  for h, c in enumerate(feedback)]
        return hebbian_update(deltas + [top_delta], outputs[:-1])


class TopLayerRule(LearningRule):
    """Only the top layer A^L learns, by gradient descent; dA^h = 0 for h < L."""

    name = "top"

    def directions(self, net, x, forward=None) -> Update:
        outputs, _, top_delta = _top_delta_pass(net, x, forward)
        hidden = [np.zeros((len(x), n)) for n in net.sizes[1:-1]]
        return hebbian_update(hidden + [top_delta], outputs[:-1])


class RecirculationRule(LearningRule):
    """Local recirculation learning (Eq. 18, Eq. 23, Theorem 6.3).

    Output recirculation with cycle pair (n, m):
    ``dA^h = mean[(O^h(n) - O^h(m)) outer O^{h-1}(n)]`` for h < L and
    ``dA^L = mean[(O^0(n) - O^0(m)) outer O^{L-1}(n)]`` (the top layer's post-synaptic
    neurons are layer 0); ``db^h`` is the mean post-synaptic term.
    Error recirculation: ``dA^h = mean[O^h(1) outer O^{h-1}(0)]``,
    ``dA^L = mean[O^0(1) outer O^{L-1}(0)]`` with O^0(1) = I - O^L(0).

    With (n, m) = (0, 1) the top layer gets I - O^L(0), the exact gradient
    for matched losses, in every mode except CCR/RCC/CCRCC/RWCC, where it is
    scaled by (1 - lam). Hidden layers: CCR = (1 - lam) PR exactly (Eq. 26);
    in linear networks RCC = CCR and CCRCC = (1 - lam)^2 PR (Eq. 30, which is
    about hidden layers; the top layer of CCRCC is (1 - lam) PR).

    Two places where the paper contradicts itself, and what this rule does:

    - **Top layer with (n, m) != (0, 1)** (``Recirculation.top_layer``). Eq. 48
      (cycles (0, m)) trains A^L with I - O^L(m-1) = O^0(0) - O^0(m); Section 7.3
      says the top layer of the multi-cycle experiments (Fig. 10) "is updated
      with gradient descent in every case", i.e. with I - O^L(0) and pre-synaptic
      O^{L-1}(0). ``top_layer="gradient"`` (the default) follows Section 7.3,
      ``"eq48"`` Eq. 48. The default is the reading the figure was made with by
      the paper's own account, and the one under which every multi-cycle
      variant performs like m = 1 as the figure's text claims; with ``eq48``
      the linear ODE has a spurious attracting fixed point P = -1 for even m
      and MNIST runs end further from BP (docs/LINEAR_DYNAMICS.md).
    - **Eq. 51 at h = L, n > 0.** Eq. 51 gives the top layer
      beta a_1^2..a_{L-1}^2 a_L P^{2n} (1 - P^{m-n}), a factor P more than
      Eq. 48's form beta a_1..a_{L-1} P^{2n} (1 - P^{m-n}). The code follows
      the Eq. 48 form (with ``top_layer="eq48"``): the top layer's
      post-synaptic neurons are layer 0, compared at cycles n and m, with the
      pre-synaptic O^{L-1}(n). Eq. 51's factor P is what one gets by taking
      layer L's own output O^L(k) = O^0(k+1), i.e. cycles n + 1 and m + 1 for
      the post-synaptic and n for the pre-synaptic neuron; at (0, 1) that is
      not gradient descent and contradicts Eq. 40, which Eq. 51 must reduce to.
      :mod:`.linear_dynamics` integrates both to check Theorem 6.3.
    """

    name = "rec"

    def __init__(self, recirculation: Recirculation = Recirculation()):
        if not isinstance(recirculation, Recirculation):
            raise ConfigError(f"recirculation must be a Recirculation, got {recirculation!r}")
        self.recirculation = recirculation

    def directions(self, net, x, forward=None) -> Update:
        held = net.forward(x) if forward is None else forward[0]
        cycle_n, cycle_m = cycle_pair(net, x, self.recirculation, held)
        r = self.recirculation
        return recirculation_directions(r.mode, held, cycle_n, cycle_m, top_layer=r.top_layer_in_use, lam=r.lam)


def recirculation_directions(mode: str, held, early, late, *, top_layer: str,
                             lam: float | None = None) -> Update:
    """The recirculation update (eta-free) from each layer's activity in three cycles.

    ``held[h]``, ``early[h]``, ``late[h]`` (h = 0..L, shape (batch, N_h)) are
    O^h(0), O^h(n) and O^h(m) for the cycle pair (n, m); layer 0 holds the
    vector recirculated into it. Output recirculation: post-synaptic term
    ``early - late`` of layers 1..L-1 and 0 (the top layer's post-synaptic
    neurons are layer 0), pre-synaptic ``early`` of layers 0..L-1 (Eq. 23).
    Error mode (m = 1): post ``late``, pre ``held`` (Eq. 18).

    ``top_layer`` is the reading of the top layer's update
    (:attr:`Recirculation.top_layer_in_use`): ``eq48`` as above; ``gradient``
    post ``O^0(0) - z_1`` with z_1 = O^L(0), or lam O^0(0) + (1 - lam) O^L(0)
    in the modes that blend the data into layer 0 (``lam`` required there),
    and pre ``O^{L-1}(0)``, both from ``held`` (the gradient of the matched
    loss, times 1 - lam when blended: the top-layer update of cycle pair (0, 1)).

    This is the one place the arithmetic lives: :class:`RecirculationRule`
    calls it with the reference's cycles, the co-simulation
    (:mod:`recirc_analog.cosim.local_rule`) with the circuit's readings.
    """
    if top_layer not in TOP_LAYER_NAMES:
        raise ConfigError(f"top_layer must be one of {', '.join(TOP_LAYER_NAMES)}, got {top_layer!r}")
    n_layers = len(held) - 1
    post_layers = list(range(1, n_layers)) + [0]
    if mode == "error":
        posts = [late[k] for k in post_layers]
        pres = list(held[:-1])
    else:
        posts = [early[k] - late[k] for k in post_layers]
        pres = list(early[:-1])
    if top_layer == "gradient" and mode != "error":
        data, output = held[0], held[-1]
        if MODES[mode].blends_data_into_layer0:
            if lam is None:
                raise ConfigError(f"lam is needed for the gradient top layer in mode {mode!r}")
            z_1 = lam * data + (1.0 - lam) * output
        else:
            z_1 = output
        posts[-1], pres[-1] = data - z_1, held[-2]
    return hebbian_update(posts, pres)


RULES = {
    rule.name: rule
    for rule in (BackpropRule, RandomBackpropRule, SkipRandomBackpropRule,
                 AdaptiveRandomBackpropRule, TopLayerRule, RecirculationRule, StandardChannelRule)
}
"""Rule classes by registry name."""

RULE_NAMES = tuple(RULES)
"""Names accepted by :func:`get_rule` (the command line's ``--rule``)."""


def get_rule(name: str, **params) -> LearningRule:
    """A new rule called ``name`` (a key of :data:`RULES`), built with ``params``."""
    if name not in RULES:
        raise ConfigError(f"rule must be one of {', '.join(RULES)}, got {name!r}")
    try:
        return RULES[name](**params)
    except TypeError as error:
        raise ConfigError(f"bad parameters for rule {name!r}: {error}") from None
