"""Why REC diverges in the linear 100-20-100 panels of Figs. 5 and 6 (docs/LINEAR_DYNAMICS.md).

Oracles: closed-form linear algebra on the paper's own linear equations (Eq. 35, and Eq. 37
against Eq. 38 for one hidden layer), the PCA optimum of a linear autoencoder (half the sum
of the discarded eigenvalues of Sigma = E[I I^T]), and BP trained on the same data.

The claims: with one hidden layer every encoder B with its least-squares decoder is a fixed
point of REC (so REC can stop short of the optimum); with a first hidden layer wider than
the bottleneck, REC has no fixed point at the optimum once the data's rank exceeds the
bottleneck (Lowrank, rank = bottleneck, is the exception), and stepped by SGD it does not
converge there.
"""

import numpy as np

from recirc_analog.data.lowrank import LowrankDataset
from recirc_analog.reference.linear_dynamics import matrix_field
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer

D, K = 8, 3


def _sigma(rank: int, seed: int = 0) -> np.ndarray:
    """A second moment E[I I^T] of rank ``rank`` in D dimensions, shape (D, D)."""
    rng = np.random.default_rng(seed)
    x = rng.standard_normal((500, rank)) @ rng.standard_normal((rank, D))
    return x.T @ x / len(x)


def _pca_optimum(sigma: np.ndarray, k: int) -> float:
    """Least loss 1/2 E||I - P I||^2 of any rank-k linear map P: half the discarded eigenvalues."""
    return 0.5 * float(np.sort(np.linalg.eigvalsh(sigma))[::-1][k:].sum())


def _loss(p: np.ndarray, sigma: np.ndarray) -> float:
    residual = np.eye(len(sigma)) - p
    return 0.5 * float(np.trace(residual @ sigma @ residual.T))


def test_one_hidden_layer_any_encoder_with_its_least_squares_decoder_is_a_rec_fixed_point():
    sigma = _sigma(D)
    b = np.random.default_rng(1).standard_normal((K, D))
    a = sigma @ b.T @ np.linalg.inv(b @ sigma @ b.T)          # least-squares decoder of b
    d_b, d_a = matrix_field([b, a], sigma)
    scale = np.linalg.norm(sigma) * np.linalg.norm(b)
    assert np.linalg.norm(d_b) < 1e-10 * scale                 # Eq. 37: B (Id - AB) Sigma = 0
    assert np.linalg.norm(d_a) < 1e-10 * scale
    residual = (np.eye(D) - a @ b) @ sigma
    assert np.linalg.norm(a.T @ residual) > 1e-2 * scale       # Eq. 38 (BP) still moves B
    assert _loss(a @ b, sigma) > 1.05 * _pca_optimum(sigma, K)  # and the loss is not optimal


def _optimum_weights(sigma: np.ndarray, n1: int, seed: int = 2) -> list[np.ndarray]:
    """A D-n1-K-n1-D network at the PCA optimum (P = U_K U_K^T) whose first layer has full rank n1."""
    u = np.linalg.eigh(sigma)[1][:, ::-1][:, :K]
    a1 = np.vstack([u.T, np.random.default_rng(seed).standard_normal((n1 - K, D))])
    select = np.eye(K, n1)
    return [a1, select, select.T, np.hstack([u, np.zeros((D, n1 - K))])]


def _product(weights):
    p = np.eye(D)
    for w in weights:
        p = w @ p
    return p


def test_at_the_optimum_rec_moves_a_wide_first_layer_by_its_rows_times_the_residual():
    sigma = _sigma(D)
    weights = _optimum_weights(sigma, n1=D)
    p = _product(weights)
    assert np.isclose(_loss(p, sigma), _pca_optimum(sigma, K), rtol=1e-12)
    field = matrix_field(weights, sigma)
    expected = weights[0] @ (np.eye(D) - p) @ sigma             # Eq. 35 at h = 1: P^1 (Id - P) Sigma
    assert np.allclose(field[0], expected, atol=1e-12)
    assert np.allclose(field[0][:K], 0, atol=1e-12)             # the rows spanning U_K stay put
    assert np.linalg.norm(field[0][K:]) > 0.1 * np.linalg.norm(sigma)   # the other rows do not
    assert np.linalg.norm(field[-1]) < 1e-12 * np.linalg.norm(sigma)    # the top layer is at its optimum


def test_at_the_optimum_rec_rests_when_the_data_rank_is_the_bottleneck():
    sigma = _sigma(K)                                           # Lowrank's case: rank 20 = 20 hidden units
    field = matrix_field(_optimum_weights(sigma, n1=D), sigma)
    assert max(np.abs(f).max() for f in field) < 1e-12 * np.linalg.norm(sigma)


def _train(rule: str, hidden, rank: int, epochs: int = 2):
    data = LowrankDataset(12, rank, seed=1, n_train=100_000, n_test=2000)
    sizes = (12, *hidden, 12)
    net = CircularAutoencoder.random(sizes, ("linear",) * (len(sizes) - 1), seed=1, data_mean=data.train_mean)
    trainer = Trainer(net, get_rule(rule), TrainConfig(epochs=epochs, lr=1e-3, max_norm=2.0, seed=1,
                                                       track_angles=False))
    trainer.fit(data)
    sigma = data.test.T @ data.test / len(data.test)
    return np.array([row.test_loss for row in trainer.history]), _pca_optimum(sigma, 3), net


def test_rec_sgd_converges_when_the_data_rank_is_the_bottleneck_and_not_when_it_exceeds_it():
    losses, _, _ = _train("rec", (12, 3, 12), rank=3)
    assert losses[-1] < 1e-6 * losses[0]
    bp, optimum, _ = _train("bp", (12, 3, 12), rank=6)
    rec, _, net = _train("rec", (12, 3, 12), rank=6)
    assert bp[-1] < 1.01 * optimum
    # REC passes near the optimum (no fixed point there) and drifts away from it.
    assert rec[-1] > 1.2 * optimum
    assert rec[-1] > 1.2 * rec[1:].min()
    # The norm cap turns REC's growth into a power iteration: A^1's rows line up and it loses rank.
    singular = np.linalg.svd(net.weights[0], compute_uv=False)
    assert singular[-1] < 1e-6 * singular[0]
