"""The interface every data set offers to the trainers, and its argument checks.

The reference trainer and the co-simulation controller use only what is
defined here, so a new data set needs nothing but a subclass of
:class:`Dataset`.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator

import numpy as np

from recirc_analog.errors import ConfigError, check_range


class Dataset(ABC):
    """A training stream plus a fixed test set, all rows of ``dim`` values.

    Attributes (set by subclasses):

    - ``name``: the data set's name, e.g. "mnist".
    - ``dim``: values per sample (N0 of the autoencoder).
    - ``test``: float64 array (n_test, dim), the fixed test set.
    - ``train_mean``: float64 array (dim,), the expectation of a training
      sample (the paper initialises the output biases to it).
    - ``n_train``: samples per epoch.
    - ``image_shape``: (rows, cols) with rows * cols = dim for image sets,
      None for sets that are not images.
    """

    name: str
    dim: int
    test: np.ndarray
    train_mean: np.ndarray
    n_train: int
    image_shape: tuple[int, int] | None

    def train_batches(self, batch_size: int, rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Return an iterator over one epoch of float64 batches (batch_size, dim).

        All batches have the same size: ``batches_per_epoch(batch_size)`` of
        them, so the ``n_train % batch_size`` samples left over are not used
        in that epoch (for shuffled sets, different ones each epoch). All
        randomness comes from ``rng``. The arguments are checked here, before
        the first batch is drawn.
        """
        n_batches = self.batches_per_epoch(batch_size)
        return self._iter_epoch(batch_size, n_batches, check_generator(rng))

    @abstractmethod
    def _iter_epoch(self, batch_size: int, n_batches: int,
                    rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Yield ``n_batches`` batches of shape (batch_size, dim) (arguments already checked)."""

    def batches_per_epoch(self, batch_size: int) -> int:
        """Number of batches ``train_batches(batch_size, rng)`` yields.

        Raises ConfigError unless 1 <= batch_size <= n_train.
        """
        check_int("batch_size", batch_size, 1, self.n_train)
        return self.n_train // batch_size

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, dim={self.dim}, "
                f"n_train={self.n_train}, n_test={len(self.test)})")


def check_int(name: str, value, low: int | None = None, high: int | None = None) -> int:
    """Return ``value`` as an int, or raise ConfigError if it is not an integer in [low, high]."""
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
        raise ConfigError(f"{name} must be an integer, got {value!r}")
    check_range(name, int(value), low, high)
    return int(value)


def check_generator(rng) -> np.random.Generator:
    """Return ``rng`` unchanged, or raise ConfigError if it is not a numpy Generator."""
    if not isinstance(rng, np.random.Generator):
        raise ConfigError(
            f"rng must be a numpy.random.Generator (np.random.default_rng(seed)), got {rng!r}")
    return rng
