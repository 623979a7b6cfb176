"""Reconstruction losses matched to the output activation (Section 2.3.1, Eq. 8).

- linear output: squared error ``E = 0.5 * sum_i (T_i - O_i)^2``;
- logistic output: binary cross-entropy (relative entropy up to a constant)
  ``E = -sum_i [T_i log O_i + (1 - T_i) log(1 - O_i)]``, O clipped into
  [CLIP, 1 - CLIP] for the value only;
- tanh or relu output: squared error, without the matching.

For the two matched pairs the error signal at the top layer is exactly
``-dE/dS^L = T - O^L`` (Eq. 8), the quantity every rule of the paper sends
back; for the others it is ``(T - O^L) * f'(S^L)``. A reported loss is the mean
over the samples of the per-sample sum over units.
"""

from dataclasses import dataclass

import numpy as np

from recirc_analog.reference.activations import get_activation

CLIP = 1e-12
"""Smallest probability (and distance from 1) used inside the logarithms of the cross-entropy."""


@dataclass(frozen=True)
class ReconstructionLoss:
    """The loss used with a given output activation, with its top-layer error signal."""

    output_activation: str
    """Name of f_L (see :data:`~recirc_analog.reference.activations.ACTIVATION_NAMES`)."""

    @property
    def name(self) -> str:
        """``"cross_entropy"`` for logistic outputs, ``"squared_error"`` otherwise."""
        return "cross_entropy" if self.output_activation == "logistic" else "squared_error"

    @property
    def matched(self) -> bool:
        """True when ``-dE/dS^L = T - O^L`` exactly (linear or logistic output)."""
        return self.output_activation in ("linear", "logistic")

    def per_sample(self, target: np.ndarray, output: np.ndarray,
                   preactivation: np.ndarray | None = None) -> np.ndarray:
        """Loss of each sample, shape (batch,), for target/output of shape (batch, N0).

        For cross-entropy, passing the output pre-activation S (the logits)
        uses ``-sum(T S) - sum(log(1 - O))``, the same value with one
        logarithm instead of two, and no ``log O`` of outputs far below 1
        (whose relative precision the fast logistic does not keep).
        """
        if self.name == "cross_entropy":
            o = np.clip(output, CLIP, 1.0 - CLIP)
            if preactivation is not None:
                return -np.einsum("ij,ij->i", target, preactivation) - np.sum(np.log1p(-o), axis=1)
            return -np.sum(target * np.log(o) + (1.0 - target) * np.log1p(-o), axis=1)
        return 0.5 * np.sum((target - output) ** 2, axis=1)

    def value(self, target: np.ndarray, output: np.ndarray, preactivation: np.ndarray | None = None) -> float:
        """Mean over the batch of the per-sample loss (float); see :meth:`per_sample`."""
        if self.name == "cross_entropy" and preactivation is not None:
            # The training loop's path: the batch total with one temporary; the
            # clipped form is needed only where an output rounds to exactly 1.
            log_complement = np.subtract(1.0, output)
            with np.errstate(divide="ignore"):
                np.log(log_complement, out=log_complement)
            total = np.vdot(target, preactivation) + np.sum(log_complement)
            if np.isfinite(total):
                return float(-total / target.shape[0])
        return float(np.mean(self.per_sample(target, output, preactivation)))

    def top_delta(self, target: np.ndarray, output: np.ndarray, preactivation: np.ndarray) -> np.ndarray:
        """-dE/dS^L per sample, shape (batch, N0): T - O for matched pairs, else (T - O) f'(S^L)."""
        error = target - output
        if self.matched:
            return error
        return error * get_activation(self.output_activation).derivative(preactivation)


def loss_for(net) -> ReconstructionLoss:
    """The :class:`ReconstructionLoss` matched to ``net``'s output activation."""
    return ReconstructionLoss(net.activations[-1])
