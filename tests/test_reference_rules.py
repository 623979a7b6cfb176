"""Learning rules against finite differences, BP and the paper's exact identities."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.errors import ConfigError
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import RULES, get_rule
from recirc_analog.reference.updates import Update, angles_degrees


def _random_net(sizes, activations, seed=0, bias_scale=0.3):
    rng = np.random.default_rng(seed + 100)
    net = CircularAutoencoder.random(sizes, activations, seed=seed)
    net.biases = [rng.normal(scale=bias_scale, size=b.shape) for b in net.biases]
    return net


def _data(shape, seed=1, binary_like=False):
    rng = np.random.default_rng(seed)
    return rng.uniform(0, 1, size=shape) if binary_like else rng.normal(size=shape)


def _assert_updates_close(got: Update, expected: Update, rtol=1e-12, atol=1e-14):
    for g, e in zip(got.weights + got.biases, expected.weights + expected.biases):
        assert_allclose(g, e, rtol=rtol, atol=atol)


def _numeric_descent(net, x, step=1e-6):
    """-dE/dtheta by central differences of the mean per-sample loss (the oracle for BP)."""
    loss = loss_for(net)

    def value():
        return loss.value(x, net.forward(x)[-1])

    directions = []
    for params in (net.weights, net.biases):
        for array in params:
            grad = np.zeros_like(array)
            for index in np.ndindex(array.shape):
                keep = array[index]
                array[index] = keep + step
                up = value()
                array[index] = keep - step
                down = value()
                array[index] = keep
                grad[index] = -(up - down) / (2 * step)
            directions.append(grad)
    n = net.n_layers
    return Update(tuple(directions[:n]), tuple(directions[n:]))


@pytest.mark.parametrize("sizes, activations, binary_like", [
    ([5, 3, 5], ("linear", "linear"), False),
    ([5, 3, 5], ("tanh", "logistic"), True),
    ([6, 4, 3, 6], ("tanh", "relu", "logistic"), True),
    ([4, 5, 3, 2, 4], ("logistic", "tanh", "linear", "linear"), False),
    ([4, 3, 4], ("relu", "tanh"), False),
    ([4, 3, 2, 4], ("linear", "tanh", "relu"), False),
])
def test_bp_equals_finite_differences_of_the_loss(sizes, activations, binary_like):
    net = _random_net(sizes, activations, bias_scale=0.5)
    x = _data((7, sizes[0]), binary_like=binary_like)
    _assert_updates_close(get_rule("bp").directions(net, x), _numeric_descent(net, x), rtol=1e-6, atol=1e-8)


def test_rbp_with_transposed_feedback_is_bp():
    net = _random_net([6, 5, 3, 6], ("tanh", "relu", "logistic"))
    x = _data((8, 6), binary_like=True)
    rbp = get_rule("rbp", feedback=[w.T for w in net.weights[1:]])
    _assert_updates_close(rbp.directions(net, x), get_rule("bp").directions(net, x))


def test_rbp_random_feedback_differs_from_bp_but_keeps_the_top_layer():
    net = _random_net([6, 5, 3, 6], ("tanh", "tanh", "linear"))
    x = _data((8, 6))
    rbp, bp = get_rule("rbp", seed=3).directions(net, x), get_rule("bp").directions(net, x)
    assert_allclose(rbp.weights[-1], bp.weights[-1], rtol=1e-12)
    assert not np.allclose(rbp.weights[0], bp.weights[0])


def test_srbp_with_transposed_top_matrix_is_bp_for_one_hidden_layer():
    net = _random_net([6, 4, 6], ("tanh", "linear"))
    x = _data((8, 6))
    srbp = get_rule("srbp", feedback=[net.weights[1].T])
    _assert_updates_close(srbp.directions(net, x), get_rule("bp").directions(net, x))


def test_srbp_sends_the_top_error_straight_to_each_layer():
    net = _random_net([5, 4, 3, 5], ("tanh", "relu", "linear"))
    x = _data((6, 5))
    rng = np.random.default_rng(0)
    c1, c2 = rng.normal(size=(4, 5)), rng.normal(size=(3, 5))
    update = get_rule("srbp", feedback=[c1, c2]).directions(net, x)
    outputs, pre = net.forward_with_preactivations(x)
    error = x - outputs[-1]
    delta2 = (error @ c2.T) * (pre[1] > 0)
    assert_allclose(update.weights[1], delta2.T @ outputs[1] / 6, rtol=1e-12)
    delta1 = (error @ c1.T) * (1 - np.tanh(pre[0]) ** 2)
    assert_allclose(update.biases[0], delta1.mean(axis=0), rtol=1e-12)


def test_arbp_feedback_learns_the_transpose_of_the_forward_update():
    net = _random_net([5, 4, 3, 5], ("tanh", "tanh", "linear"))
    arbp = get_rule("arbp", seed=2, feedback_rate=0.5)
    update = arbp.directions(net, _data((6, 5)))
    before = [b.copy() for b in arbp.feedback_]
    applied = update.scaled([0.1, 0.2, 0.3])
    arbp.after_update(applied)
    for b_new, b_old, dw in zip(arbp.feedback_, before, applied.weights[1:]):
        assert_allclose(b_new, b_old + 0.5 * dw.T, rtol=1e-14)


def test_top_rule_trains_only_the_top_layer_by_gradient():
    net = _random_net([5, 4, 3, 5], ("tanh", "tanh", "logistic"))
    x = _data((6, 5), binary_like=True)
    top, bp = get_rule("top").directions(net, x), get_rule("bp").directions(net, x)
    assert all(not w.any() for w in top.weights[:-1] + top.biases[:-1])
    assert_allclose(top.weights[-1], bp.weights[-1], rtol=1e-12)
    assert_allclose(top.biases[-1], bp.biases[-1], rtol=1e-12)


def _rec(mode, lam=0.5, cycles=(0, 1), top_layer="gradient"):
    return get_rule("rec", recirculation=Recirculation(mode, lam, cycles, top_layer))


@pytest.mark.parametrize("mode", ["pr", "error"])
def test_recirculation_top_layer_is_the_exact_gradient(mode):
    """Eq. 18 / Eq. 23: A^L learns by gradient descent (logistic output, cross-entropy)."""
    net = _random_net([6, 4, 3, 6], ("tanh", "tanh", "logistic"))
    x = _data((8, 6), binary_like=True)
    rec, bp = _rec(mode).directions(net, x), get_rule("bp").directions(net, x)
    assert_allclose(rec.weights[-1], bp.weights[-1], rtol=1e-12)
    assert_allclose(rec.biases[-1], bp.biases[-1], rtol=1e-12)


def test_rec_update_is_the_local_product_of_cycle_differences():
    net = _random_net([5, 4, 3, 5], ("tanh", "relu", "logistic"))
    x = _data((6, 5), binary_like=True)
    o = net.forward(x)
    o1 = net.forward(o[3])                       # PR cycle 1: the output fed back in
    update = _rec("pr").directions(net, x)
    assert_allclose(update.weights[0], (o[1] - o1[1]).T @ x / 6, rtol=1e-12)
    assert_allclose(update.weights[1], (o[2] - o1[2]).T @ o[1] / 6, rtol=1e-12)
    assert_allclose(update.weights[2], (x - o[3]).T @ o[2] / 6, rtol=1e-12)
    assert_allclose(update.biases[1], (o[2] - o1[2]).mean(axis=0), rtol=1e-12)


@pytest.mark.parametrize("activations", [("tanh", "logistic"), ("relu", "tanh", "linear"), ("linear", "linear")])
def test_ccr_update_is_pr_update_times_one_minus_lambda(activations):
    """Eq. 26, for every layer and any activations."""
    sizes = [6, 4, 6] if len(activations) == 2 else [6, 4, 3, 6]
    net = _random_net(sizes, activations)
    x = _data((8, 6), binary_like=True)
    lam = 0.35
    pr = _rec("pr").directions(net, x)
    _assert_updates_close(_rec("ccr", lam).directions(net, x), pr.scaled([1 - lam] * net.n_layers))


def test_linear_rcc_equals_ccr_and_ccrcc_scales_hidden_layers_twice():
    """Section 4.2.3 (RCC = CCR for linear units) and Eq. 30 (CCRCC hidden layers: (1 - lam)^2)."""
    net = _random_net([6, 5, 3, 6], ("linear", "linear", "linear"))
    x = _data((8, 6))
    lam = 0.4
    pr = _rec("pr").directions(net, x)
    ccr = _rec("ccr", lam).directions(net, x)
    _assert_updates_close(_rec("rcc", lam).directions(net, x), ccr, rtol=1e-10, atol=1e-13)
    expected = pr.scaled([(1 - lam) ** 2, (1 - lam) ** 2, 1 - lam])
    _assert_updates_close(_rec("ccrcc", lam).directions(net, x), expected, rtol=1e-10, atol=1e-13)


def test_nonlinear_rcc_differs_from_ccr():
    """The linear identities above are not vacuous: tanh units break them."""
    net = _random_net([6, 4, 6], ("tanh", "tanh"), bias_scale=1.0)
    x = 3 * _data((8, 6))
    rcc, ccr = _rec("rcc", 0.4).directions(net, x), _rec("ccr", 0.4).directions(net, x)
    assert not np.allclose(rcc.weights[0], ccr.weights[0], rtol=1e-3)


@pytest.mark.parametrize("n, m", [(0, 1), (0, 3), (1, 2), (2, 5)])
def test_multi_cycle_updates_of_the_scalar_linear_chain_follow_eq_51(n, m):
    """A*[1, ..., 1] linear, no biases: hidden da_h = beta a_1^2..a_{h-1}^2 a_h P^{2n} (1 - P^{m-n})
    (Eq. 51 with beta = mean I^2); the top layer has the Eq. 48 form beta a_1..a_{L-1} P^{2n} (1 - P^{m-n})."""
    a = np.array([0.9, -1.1, 0.8, 1.05])
    net = CircularAutoencoder([1] * 5, ["linear"] * 4, weights=[[[v]] for v in a])
    x = np.array([[0.7], [-1.3], [2.0]])
    beta = np.mean(x ** 2)
    p = np.prod(a)
    update = _rec("pr", cycles=(n, m), top_layer="eq48").directions(net, x)
    gradient_top = _rec("pr", cycles=(n, m), top_layer="gradient").directions(net, x)
    for h in range(1, 4):
        expected = beta * np.prod(a[:h - 1] ** 2) * a[h - 1] * p ** (2 * n) * (1 - p ** (m - n))
        assert_allclose(update.weights[h - 1][0, 0], expected, rtol=1e-12)
        assert_allclose(gradient_top.weights[h - 1][0, 0], expected, rtol=1e-12)
    top = beta * np.prod(a[:3]) * p ** (2 * n) * (1 - p ** (m - n))
    assert_allclose(update.weights[3][0, 0], top, rtol=1e-12)
    # Section 7.3's reading: gradient descent, beta a_1..a_{L-1} (1 - P) (Eq. 40's top layer) whatever (n, m).
    assert_allclose(gradient_top.weights[3][0, 0], beta * np.prod(a[:3]) * (1 - p), rtol=1e-12)


@pytest.mark.parametrize("mode, cycles", [("ccr", (0, 3)), ("rcc", (1, 3)), ("pr", (2, 4)), ("rwcc", (0, 2))])
def test_both_multi_cycle_top_layer_readings_against_hand_derived_updates(mode, cycles):
    """The two readings of the top layer (issue 14) on a tiny non-linear network, written out by hand.

    gradient (Section 7.3): post O^0(0) - O^0(1) = (1 - lam)(I - O^L(0)) when the mode blends the data
    into layer 0, else I - O^L(0); pre O^{L-1}(0). eq48: post O^0(n) - O^0(m), pre O^{L-1}(n).
    Hidden layers are the same in both: (O^h(n) - O^h(m)) outer O^{h-1}(n).
    """
    lam = 0.3
    net = _random_net([4, 3, 2, 4], ("tanh", "tanh", "logistic"))
    x = _data((5, 4), binary_like=True)
    n, m = cycles
    o0 = net.forward(x)                                   # cycle 0 by the plain forward pass
    cycles_all = [o0]
    for _ in range(m):                                    # Tables 1-4 written out for these modes
        prev = cycles_all[-1][-1]
        z = prev if mode == "pr" else lam * x + (1 - lam) * prev
        start = prev if mode == "ccr" else z
        fresh = [start]
        for h in range(1, 4):
            u = net.layer(h, fresh[-1])
            if mode == "rwcc":
                u = lam * o0[h] + (1 - lam) * u
            fresh.append(u)
        layers = fresh[1:]
        if mode == "ccr":
            layers = [lam * o0[h] + (1 - lam) * layers[h - 1] for h in range(1, 4)]
        cycles_all.append([z] + layers)
    on, om = cycles_all[n], cycles_all[m]
    eq48 = _rec(mode, lam, cycles, "eq48").directions(net, x)
    gradient = _rec(mode, lam, cycles, "gradient").directions(net, x)
    for h, post in ((0, 1), (1, 2)):
        hidden = (on[post] - om[post]).T @ on[post - 1] / 5
        assert_allclose(eq48.weights[h], hidden, rtol=1e-10, atol=1e-14)
        assert_allclose(gradient.weights[h], hidden, rtol=1e-10, atol=1e-14)
    assert_allclose(eq48.weights[2], (on[0] - om[0]).T @ on[2] / 5, rtol=1e-10, atol=1e-14)
    scale = 1.0 if mode == "pr" else 1 - lam
    assert_allclose(gradient.weights[2], scale * (x - o0[3]).T @ o0[2] / 5, rtol=1e-10, atol=1e-14)
    assert_allclose(gradient.biases[2], scale * (x - o0[3]).mean(axis=0), rtol=1e-10, atol=1e-14)
    if mode == "pr":                                      # and that is BP's top layer (logistic + cross-entropy)
        assert_allclose(gradient.weights[2], get_rule("bp").directions(net, x).weights[2], rtol=1e-10)
    assert not np.allclose(eq48.weights[2], gradient.weights[2], rtol=1e-3)


def test_at_cycles_0_1_the_two_top_layer_readings_are_the_same_update():
    net = _random_net([5, 3, 5], ("tanh", "logistic"))
    x = _data((6, 5), binary_like=True)
    for mode in ("pr", "ccr", "ccrcc", "rwcc", "error"):
        _assert_updates_close(_rec(mode, 0.4, top_layer="eq48").directions(net, x),
                              _rec(mode, 0.4, top_layer="gradient").directions(net, x), rtol=0, atol=0)


def _whitened_batch(rng, n0, scale=1.5):
    """Zero-mean batch of 2 * n0 rows whose second moment is exactly scale^2 * Id."""
    q, _ = np.linalg.qr(rng.normal(size=(n0, n0)))
    rows = scale * np.sqrt(n0) * q
    return np.vstack([rows, -rows])


def test_linear_symmetric_rec_is_bp_and_stays_symmetric():
    """Section 6.2 with B = A^1, A = A^2 and A = B^T: REC-PR's update equals BP's.

    BP and REC then give B the same update B (I - O^2) I^T. The symmetry
    B = A^T is kept when the batch second moment commutes with B^T B, so the
    batches here are whitened and zero-mean and the biases start at zero
    (their updates, the mean errors, then stay zero).
    """
    rng = np.random.default_rng(5)
    n0, n1 = 6, 3
    b = CircularAutoencoder.random([n0, n1, n0], ("linear", "linear"), seed=5).weights[0]
    net = CircularAutoencoder([n0, n1, n0], ("linear", "linear"), weights=[b, b.T])
    rec, bp = _rec("pr"), get_rule("bp")
    for _ in range(300):
        x = _whitened_batch(rng, n0)
        update = rec.directions(net, x)
        _assert_updates_close(update, bp.directions(net, x), rtol=1e-9, atol=1e-12)
        net.weights = [w + 0.01 * dw for w, dw in zip(net.weights, update.weights)]
        net.biases = [v + 0.01 * dv for v, dv in zip(net.biases, update.biases)]
    assert_allclose(net.weights[1], net.weights[0].T, atol=1e-12)
    assert np.abs(net.weights[0] - b).max() > 0.1          # the weights did move
    product = net.weights[1] @ net.weights[0]
    assert_allclose(product @ product, product, atol=1e-3)  # converged to a projection (PCA)


def test_symmetric_rec_equals_bp_for_any_data_and_biases():
    """At a symmetric point REC-PR = BP for every batch: the biases cancel in O^1(0) - O^1(1)."""
    net = _random_net([6, 3, 6], ("linear", "linear"), bias_scale=1.0)
    net.weights[1] = net.weights[0].T.copy()
    x = 2.0 + _data((9, 6))
    _assert_updates_close(_rec("pr").directions(net, x), get_rule("bp").directions(net, x),
                          rtol=1e-10, atol=1e-12)


def test_angles_between_updates():
    u = Update((np.array([[1.0, 0.0]]), np.zeros((2, 1))), (np.zeros(1), np.zeros(2)))
    v = Update((np.array([[1.0, 1.0]]), np.ones((2, 1))), (np.zeros(1), np.zeros(2)))
    angles = angles_degrees(u, v)
    assert_allclose(angles[0], 45.0)
    assert np.isnan(angles[1])


def test_get_rule_rejects_unknown_names_and_parameters():
    with pytest.raises(ConfigError, match="rule must be one of bp, rbp, srbp, arbp, top, rec, standard, got 'hebb'"):
        get_rule("hebb")
    with pytest.raises(ConfigError, match="bad parameters for rule 'bp'"):
        get_rule("bp", lam=0.5)
    with pytest.raises(ConfigError, match="recirculation must be a Recirculation"):
        get_rule("rec", recirculation="pr")
    with pytest.raises(ConfigError, match=r"feedback_rate must be in \[0, inf\)"):
        get_rule("arbp", feedback_rate=-1.0)
    net = _random_net([5, 4, 5], ("tanh", "linear"))
    with pytest.raises(ConfigError, match=r"feedback must have shapes \[\(4, 5\)\], got \[\(5, 4\)\]"):
        get_rule("rbp", feedback=[np.ones((5, 4))]).directions(net, _data((2, 5)))
    assert set(RULES) == {"bp", "rbp", "srbp", "arbp", "top", "rec", "standard"}
