"""Transfer functions f and their derivatives f' for the reference network.

A layer's activity is ``O^h = f_h(S^h)`` (Eq. 5 of Baldi & Sadowski 2018);
backpropagation (Eq. 7) and the loss deltas need ``f_h'(S^h)``. Each
:class:`Activation` also gives a pre-image, used to set an output bias so that
the untrained network outputs the data mean.
"""

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError

ACTIVATION_NAMES = ("linear", "tanh", "logistic", "relu")
"""Names accepted by :func:`get_activation`, in documentation order."""

PREIMAGE_MARGIN = 1e-3
"""How far (in activity units) a target is kept inside a bounded range before inverting."""


@dataclass(frozen=True)
class Activation:
    """One element-wise transfer function, applied to arrays of any shape."""

    name: str
    """One of :data:`ACTIVATION_NAMES`."""
    value: Callable[[np.ndarray], np.ndarray]
    """f(s): pre-activation (dimensionless) to activity (dimensionless)."""
    derivative: Callable[[np.ndarray], np.ndarray]
    """f'(s), evaluated at the pre-activation s (not at the activity)."""
    preimage: Callable[[np.ndarray], np.ndarray]
    """A pre-activation s with f(s) = y, after clipping y into f's open range."""

    def __call__(self, s: np.ndarray) -> np.ndarray:
        return self.value(s)


def _logistic(s):
    """1 / (1 + exp(-s)) written as 0.5 + 0.5 tanh(s / 2).

    NumPy's tanh is vectorised (SIMD) and about 3x faster than
    ``scipy.special.expit`` on a (100, 784) batch, once the largest cost of a
    training step. The absolute error is below 3e-16 for every s, which is
    what activities (compared on the [0, 1] scale) and deltas ``T - O`` need;
    outputs below about 1e-4 lose relative precision, so losses are computed
    from the logits (see :mod:`~recirc_analog.reference.losses`).
    """
    y = np.multiply(s, 0.5, dtype=float)
    if np.ndim(y) == 0:
        return 0.5 + 0.5 * np.tanh(y)
    np.tanh(y, out=y)
    y *= 0.5
    y += 0.5
    return y


def _logistic_derivative(s):
    y = _logistic(s)
    return y * (1.0 - y)


def _clipped_logit(y):
    from scipy.special import logit  # imported here: scipy.special costs ~0.2 s, and only this inverse needs it

    return logit(np.clip(y, PREIMAGE_MARGIN, 1.0 - PREIMAGE_MARGIN))


_ACTIVATIONS = {
    "linear": Activation(
        "linear",
        value=lambda s: np.array(s, dtype=float),
        derivative=lambda s: np.ones_like(s, dtype=float),
        preimage=lambda y: np.array(y, dtype=float),
    ),
    "tanh": Activation(
        "tanh",
        value=np.tanh,
        derivative=lambda s: 1.0 - np.tanh(s) ** 2,
        preimage=lambda y: np.arctanh(np.clip(y, -1.0 + PREIMAGE_MARGIN, 1.0 - PREIMAGE_MARGIN)),
    ),
    "logistic": Activation("logistic", _logistic, _logistic_derivative, _clipped_logit),
    "relu": Activation(
        "relu",
        value=lambda s: np.maximum(s, 0.0),
        derivative=lambda s: (np.asarray(s) > 0).astype(float),
        preimage=lambda y: np.maximum(y, 0.0),
    ),
}


def get_activation(name: str) -> Activation:
    """Return the :class:`Activation` called ``name`` (one of :data:`ACTIVATION_NAMES`)."""
    try:
        return _ACTIVATIONS[name]
    except (KeyError, TypeError):
        allowed = ", ".join(ACTIVATION_NAMES)
        raise ConfigError(f"activation must be one of {allowed}, got {name!r}") from None
