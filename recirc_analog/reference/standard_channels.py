"""Learning channels of the standard (non-circular) autoencoder (Appendix B, Table 5).

The standard autoencoder A[N0, N1, N0] has B = A^1 (N1 x N0) from the input to
the hidden layer and A = A^2 (N0 x N1) from the hidden to the output layer.
Deep learning channels (Appendix B1):

- C1 = Id: the input reaches the output layer, which then computes the error
  I - O^2 and trains A by gradient descent (Eq. 11);
- C2: a matrix from the output layer to the hidden layer: ``"transpose"``
  (A^t: backpropagation), ``"random"`` (fixed random C: RBP) or ``"B"``
  (the forward matrix B itself);
- C3: a matrix from the output layer back to the input layer:
  ``"identity"`` (the circular autoencoder) or ``"random"`` (fixed C, N0 x N0).

``signal`` says what travels on C2 / C3: the ``"error"`` I - O^2 or the
``"output"`` O^2. Runnable combinations (hidden-layer post-synaptic term,
pre-synaptic term I):

=====  =========  ========  ===============  ==================================
C1     C2         C3        signal           hidden layer receives
=====  =========  ========  ===============  ==================================
yes    transpose  -         error            F'(S^1) A^t (I - O^2): BP (row 5)
yes    random     -         error            F'(S^1) C (I - O^2): RBP (row 5)
yes    B          -         error            F'(S^1) B (I - O^2): ARBP through B
yes    B          -         output           F(BI + b) - F(BO^2 + b) (row 7)
yes    -          identity  error            F(B (I - O^2)): error recirc. (row 6)
yes    -          random    error            F(B C (I - O^2)) (row 6, C3 = C)
yes    -          identity  output           F(BI + b) - F(BO^2 + b) (row 8)
no     -          identity  error / output   as with C1 (row 3, circular AE)
=====  =========  ========  ===============  ==================================

With C1 the output layer gets the loss's error signal (T - O^2 for matched
losses); without it (row 3) the error I - O^2 is formed at the input layer.
Every other combination raises :class:`ConfigError` quoting the paper's reason.
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import glorot_uniform
from recirc_analog.reference.updates import LearningRule, Update, hebbian_update

C2_CHOICES = (None, "transpose", "random", "B")
"""Allowed values of :attr:`StandardChannels.c2`."""
C3_CHOICES = (None, "identity", "random")
"""Allowed values of :attr:`StandardChannels.c3`."""
SIGNALS = ("error", "output")
"""Allowed values of :attr:`StandardChannels.signal`."""


def _channel_problem(c1, c2, c3, signal) -> str | None:
    """The paper's reason why a channel combination cannot learn, or None if it can."""
    if c2 is not None and c3 is not None:
        return ("C2 and C3 together are excluded (Appendix B2: not needed, extra connectivity, "
                "combinatorial explosion of cases)")
    if not c1:
        if c2 is None and c3 is None:
            return "optimal learning impossible (no deep learning channel; Table 5, row 1)"
        if c2 is not None:
            return ("optimal learning impossible or problematic (without C1 no error is available "
                    "to train A; Table 5, row 2)")
        if c3 == "random":
            return ("C3 = C != Id without C1 is a circular autoencoder with two hidden layers "
                    "(O^3 = C A B I; Appendix B3): use a circular network instead")
        return None
    if c2 is None and c3 is None:
        return "optimal learning impossible (A can be trained but not B; Table 5, row 4)"
    if signal == "output" and c2 in ("transpose", "random"):
        return ("mixed recirculation to the hidden layer is problematic with a generic matrix C; "
                "it needs C2 = B (Table 5, row 7)")
    if signal == "output" and c3 == "random":
        return ("recirculating the output through a random C3 gives the hidden layer "
                "B (I - C O^2), not the error; mixed recirculation uses C3 = Id (Table 5, row 8)")
    return None


@dataclass(frozen=True)
class StandardChannels:
    """Which deep learning channels a standard autoencoder has, and what they carry."""

    c1: bool = True
    """C1 = Id present: the output layer sees the input and computes the error I - O^2."""
    c2: str | None = "transpose"
    """Output-to-hidden channel: None, "transpose" (A^t), "random" (fixed C) or "B"."""
    c3: str | None = None
    """Output-to-input channel: None, "identity" or "random" (fixed C, N0 x N0)."""
    signal: str = "error"
    """What C2 / C3 carry: "error" (I - O^2) or "output" (O^2)."""

    def __post_init__(self):
        if not isinstance(self.c1, (bool, np.bool_)):
            raise ConfigError(f"c1 must be True or False, got {self.c1!r}")
        for name, value, choices in (("c2", self.c2, C2_CHOICES), ("c3", self.c3, C3_CHOICES),
                                     ("signal", self.signal, SIGNALS)):
            if value not in choices:
                raise ConfigError(f"{name} must be one of {', '.join(map(str, choices))}, got {value!r}")
        problem = _channel_problem(self.c1, self.c2, self.c3, self.signal)
        if problem:
            raise ConfigError(
                f"channels C1={int(self.c1)}, C2={self.c2}, C3={self.c3}, signal={self.signal}: {problem}")


class StandardChannelRule(LearningRule):
    """Local learning in a standard autoencoder A[N0, N1, N0] through :class:`StandardChannels`.

    The network is a circular autoencoder with L = 2 used as a standard one
    (its layer 2 is the separate output layer). ``seed`` draws the random
    C2 (N1 x N0) or C3 (N0 x N0), Glorot-uniform.
    """

    name = "standard"

    def __init__(self, channels: StandardChannels = StandardChannels(), seed: int = 0):
        if not isinstance(channels, StandardChannels):
            raise ConfigError(f"channels must be a StandardChannels, got {channels!r}")
        self.channels = channels
        self.seed = seed
        self.random_matrix_ = None

    def random_shape(self, net) -> tuple[int, int]:
        """Shape of the random channel matrix for ``net``; ConfigError unless L = 2."""
        if net.n_layers != 2:
            raise ConfigError(
                f"the standard autoencoder channels need sizes (N0, N1, N0), got {net.sizes}")
        n0, n1 = net.sizes[0], net.sizes[1]
        return (n1, n0) if self.channels.c2 == "random" else (n0, n0)

    def prepare(self, net) -> None:
        self.random_matrix_ = glorot_uniform(np.random.default_rng(self.seed), *self.random_shape(net))

    def directions(self, net, x, forward=None) -> Update:
        ch = self.channels
        if self.random_matrix_ is None or self.random_matrix_.shape != self.random_shape(net):
            self.prepare(net)
        (data, hidden, output), (s1, s2) = forward if forward is not None else net.forward_with_preactivations(x)
        error = data - output
        top = loss_for(net).top_delta(data, output, s2) if ch.c1 else error
        if ch.signal == "output":          # C2 = B or C3 = Id: the hidden layer sees B O^2
            post = hidden - net.layer(1, output)
        elif ch.c2 is not None:            # C1 and an error channel into the hidden layer
            carrier = {"transpose": net.weights[1].T, "random": self.random_matrix_,
                       "B": net.weights[0]}[ch.c2]
            post = (top @ carrier.T) * net.transfer_functions[0].derivative(s1)
        else:                              # C3: the error recirculated into the input layer
            recirculated = error if ch.c3 == "identity" else error @ self.random_matrix_.T
            post = net.layer(1, recirculated, with_bias=False)
        return hebbian_update([post, top], [data, hidden])
