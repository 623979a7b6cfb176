"""The Lowrank data set: rank, subspace, reproducibility and epoch layout."""

import itertools

import numpy as np
import pytest

from recirc_analog.data import load_dataset
from recirc_analog.data.lowrank import LowrankDataset
from recirc_analog.errors import ConfigError


def test_every_batch_has_rank_r_and_lies_in_the_row_space_of_v():
    data = load_dataset("lowrank", seed=5)
    assert (data.name, data.dim, data.rank, data.image_shape) == ("lowrank", 100, 20, None)
    assert data.basis.shape == (20, 100)
    for batch in itertools.islice(data.train_batches(100, np.random.default_rng(0)), 3):
        assert batch.shape == (100, 100)
        assert np.linalg.matrix_rank(batch) == 20
        assert np.linalg.matrix_rank(np.vstack([batch, data.basis])) == 20
    assert data.test.shape == (10000, 100)
    assert np.linalg.matrix_rank(data.test) == 20
    assert np.linalg.matrix_rank(np.vstack([data.test, data.basis])) == 20


def test_small_batches_have_full_rank_below_r():
    data = LowrankDataset(dim=30, rank=8, seed=1)
    batch = next(data.train_batches(5, np.random.default_rng(2)))
    assert np.linalg.matrix_rank(batch) == 5


def test_batch_is_u_times_v_with_u_from_the_given_generator():
    data = LowrankDataset(seed=3)
    batch = next(data.train_batches(50, np.random.default_rng(9)))
    codes = np.random.default_rng(9).standard_normal((50, 20))
    np.testing.assert_allclose(batch, codes @ data.basis, rtol=1e-12)


def test_reproducible_from_the_seed():
    a, b, c = LowrankDataset(seed=4), LowrankDataset(seed=4), LowrankDataset(seed=5)
    np.testing.assert_array_equal(a.basis, b.basis)
    np.testing.assert_array_equal(a.test, b.test)
    assert not np.allclose(a.basis, c.basis)
    batches_a = list(a.train_batches(1000, np.random.default_rng(1)))
    batches_b = list(b.train_batches(1000, np.random.default_rng(1)))
    assert all(np.array_equal(x, y) for x, y in zip(batches_a, batches_b))


def test_test_set_is_independent_of_the_training_stream():
    """The test codes come from their own stream: they are not V's generator continued."""
    data = LowrankDataset(seed=0)
    basis_stream = np.random.default_rng(np.random.SeedSequence(0).spawn(2)[0])
    basis_stream.standard_normal((20, 100))
    continued = basis_stream.standard_normal((10000, 20)) @ data.basis
    assert not np.allclose(data.test, continued)
    first_train = next(data.train_batches(100, np.random.default_rng(0)))
    assert not any(np.allclose(first_train[0], row) for row in data.test[:1000])


def test_entries_are_standard_normal_and_mean_is_zero():
    data = LowrankDataset(seed=2)
    assert abs(data.basis.mean()) < 0.05 and abs(data.basis.std() - 1.0) < 0.05
    np.testing.assert_array_equal(data.train_mean, np.zeros(100))
    # each coordinate of U V has variance sum_r V[r, j]^2
    np.testing.assert_allclose(data.test.var(axis=0), (data.basis**2).sum(axis=0), rtol=0.1)


def test_epoch_is_60000_samples_or_max_train():
    data = load_dataset("lowrank")
    assert data.n_train == 60000 and data.batches_per_epoch(100) == 600
    assert sum(1 for _ in data.train_batches(7000, np.random.default_rng(0))) == 8
    short = load_dataset("lowrank", max_train=250)
    assert len(list(short.train_batches(100, np.random.default_rng(0)))) == 2


@pytest.mark.parametrize("kwargs, message", [
    ({"rank": 0}, r"^rank must be in \[1, 100\], got 0$"),
    ({"rank": 101}, r"^rank must be in \[1, 100\], got 101$"),
    ({"dim": 2.5}, r"^dim must be an integer, got 2.5$"),
    ({"seed": -1}, r"^seed must be in \[0, inf\), got -1$"),
    ({"n_test": 0}, r"^n_test must be in \[1, inf\), got 0$")])
def test_bad_parameters(kwargs, message):
    with pytest.raises(ConfigError, match=message):
        LowrankDataset(**kwargs)


def test_bad_max_train():
    with pytest.raises(ConfigError, match=r"^max_train must be in \[1, inf\), got 0$"):
        load_dataset("lowrank", max_train=0)
