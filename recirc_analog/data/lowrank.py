"""The paper's synthetic *Lowrank* data set (Baldi & Sadowski 2018, section 7.1).

A fixed matrix V (rank x dim, entries N(0, 1)) spans a rank-dimensional
subspace; each minibatch is ``U @ V`` with a fresh U (batch x rank, entries
N(0, 1)). A compressive autoencoder with ``rank`` hidden units can reach
zero reconstruction error, which makes the set a clean test of whether a
learning rule finds the latent subspace.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from recirc_analog.data.base import Dataset, check_int
from recirc_analog.limits import MAX_LAYER_WIDTH


class LowrankDataset(Dataset):
    """Rank-``rank`` Gaussian data in ``dim`` dimensions, fixed by ``seed``.

    ``seed`` fixes V and the test set (``n_test`` samples, drawn from their
    own stream, so they do not depend on how the training stream is used).
    Training batches come from the generator passed to :meth:`train_batches`;
    one epoch is ``n_train`` samples. ``train_mean`` is the exact expectation
    of a sample, zero.
    """

    def __init__(self, dim: int = 100, rank: int = 20, *, seed: int = 0,
                 n_train: int = 60_000, n_test: int = 10_000):
        self.name = "lowrank"
        self.dim = check_int("dim", dim, 1, MAX_LAYER_WIDTH)
        self.rank = check_int("rank", rank, 1, self.dim)
        self.seed = check_int("seed", seed, 0)
        self.n_train = check_int("n_train", n_train, 1)
        self.image_shape = None
        basis_seed, test_seed = np.random.SeedSequence(self.seed).spawn(2)
        self.basis = np.random.default_rng(basis_seed).standard_normal((self.rank, self.dim))
        """V, float64 (rank, dim): the rows span the data subspace."""
        test_codes = np.random.default_rng(test_seed).standard_normal(
            (check_int("n_test", n_test, 1), self.rank))
        self.test = test_codes @ self.basis
        self.train_mean = np.zeros(self.dim)

    def _iter_epoch(self, batch_size: int, n_batches: int,
                    rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Yield ``n_batches`` batches ``U @ V``, a fresh U (batch_size, rank) each."""
        for _ in range(n_batches):
            yield rng.standard_normal((batch_size, self.rank)) @ self.basis
