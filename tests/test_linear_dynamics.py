"""Section 6's linear dynamics against the paper's closed forms, the reference's rule and SGD."""

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.errors import ConfigError
from recirc_analog.reference import linear_dynamics as ld
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import get_rule

CASES = [((0, 1), "eq48"), ((0, 3), "eq48"), ((0, 2), "gradient"), ((1, 2), "eq48"), ((2, 5), "gradient"),
         ((1, 3), "eq51"), ((0, 2), "eq51")]


@pytest.mark.parametrize("cycles, top", CASES)
def test_the_printed_chain_equations_are_the_matrix_system_on_one_neuron_layers(cycles, top):
    """Eq. 40 / 48 / 51 as printed (chain_field) against the matrix algebra of Eq. 35 (matrix_field)."""
    a = np.array([0.9, -1.2, 0.7, 1.1])
    beta = 1.7
    matrix = ld.matrix_field([[[v]] for v in a], [[beta]], cycles, top)
    assert_allclose([d[0, 0] for d in matrix], ld.chain_field(a, beta, cycles, top), rtol=1e-12)


@pytest.mark.parametrize("cycles, top", [c for c in CASES if c[1] != "eq51"])
def test_the_ode_field_is_the_reference_rule_on_a_bias_free_linear_network(cycles, top):
    """The ODE's right-hand side with Sigma = the batch's second moment is exactly the rule's mean update."""
    rng = np.random.default_rng(3)
    sizes = [5, 4, 3, 5]
    net = CircularAutoencoder.random(sizes, ["linear"] * 3, seed=2)
    net.weights = [0.8 * w / np.linalg.norm(w, 2) for w in net.weights]   # keep P^m moderate
    x = rng.normal(size=(7, 5))
    update = get_rule("rec", recirculation=Recirculation("pr", cycles=cycles, top_layer=top)).directions(net, x)
    field = ld.matrix_field(net.weights, x.T @ x / len(x), cycles, top)
    for got, expected in zip(update.weights, field):
        assert_allclose(got, expected, rtol=1e-10, atol=1e-14)


def test_consecutive_layers_are_coupled_as_eq_36():
    """dA^{h+1}/dt = A^{h+1} dA^h/dt (A^h)^T for hidden layers (Eq. 36, cycles (0, 1))."""
    rng = np.random.default_rng(4)
    weights = [rng.normal(size=s) for s in ((4, 6), (3, 4), (5, 3), (6, 5))]
    sigma = np.cov(rng.normal(size=(6, 50)))
    d = ld.matrix_field(weights, sigma)
    for h in range(2):
        assert_allclose(d[h + 1], weights[h + 1] @ d[h] @ weights[h].T, rtol=1e-10, atol=1e-12)


def test_theorem_6_1_two_layers_converges_to_the_closed_form_fixed_point():
    """Eq. 45-47: a_2 - a_1 = K is conserved and a_1 ends at the root (-K +- sqrt(K^2 + 4)) / 2 of its sign."""
    rng = np.random.default_rng(0)
    for _ in range(10):
        a0 = rng.uniform(-2, 2, size=2)
        traj = ld.integrate(a0, 200.0, beta=0.7)
        k = a0[1] - a0[0]
        assert_allclose(traj.y[:, 1] - traj.y[:, 0], k, atol=1e-8)
        root = (-k + np.sign(a0[0]) * np.sqrt(k * k + 4)) / 2
        assert_allclose(traj.y[-1, 0], root, atol=1e-7)
        assert_allclose(np.prod(traj.y[-1]), 1.0, atol=1e-7)


@pytest.mark.parametrize("cycles, top", [((0, 1), "eq48"), ((0, 3), "eq48"), ((1, 2), "eq51")])
def test_the_log_couplings_of_eq_42_and_49_are_conserved(cycles, top):
    a0 = np.array([0.8, -0.9, -1.1, 0.7])                 # P(0) > 0 (Eq. 51 blows up from P(0) < 0)
    traj = ld.integrate(a0, 50.0, cycles=cycles, top_layer=top)
    assert not traj.diverged
    k = ld.chain_invariants(traj.y, top, cycles)
    expected_count = 3 if top == "eq51" else 2          # Eq. 51 couples the top layer too
    assert k.shape == (len(traj.t), expected_count)
    assert_allclose(k, np.broadcast_to(k[0], k.shape), atol=1e-7)
    assert not np.allclose(traj.y[-1], a0, atol=1e-2)     # the weights did move


def test_theorem_6_4_conserves_a_minus_b_and_reduces_to_the_p_b_plane():
    """Eq. 52: c = a - b constant; (P, B) obey Eq. 53 and 55 along the full system's trajectory."""
    rng = np.random.default_rng(1)
    b0, a0 = rng.uniform(-1, 1, size=(4, 1)), rng.uniform(-1, 1, size=(1, 4))
    traj = ld.integrate_weights([b0, a0], [[2.0]], 20.0)
    cs = np.array([ld.expansive_invariants(traj.weights(k)) for k in range(len(traj.t))])
    assert_allclose(cs, np.broadcast_to(cs[0], cs.shape), atol=1e-9)
    assert_allclose(traj.products()[-1], 1.0, atol=1e-7)
    for k in (0, 10, 50):
        b, a = traj.weights(k)
        db, da = ld.matrix_field([b, a], [[2.0]])
        p, big_b = (a @ b).item(), float(np.sum(b ** 2))
        dp_expected, dbig_b_expected = ld.pb_vector_field(p, big_b, beta=2.0)
        assert_allclose((da @ b + a @ db).item(), dp_expected, rtol=1e-10)
        assert_allclose(float(2 * np.sum(b * db)), dbig_b_expected, rtol=1e-10)
        # d(AB)/dt with A = ||a||^2: from Eq. 54 and 55 it is 2 beta (1 - P) B (A + P); the paper's
        # Eq. 56 prints 2 beta P (1 - P)(1 + B), which is not it.
        big_a, dbig_a = float(np.sum(a ** 2)), float(2 * np.sum(a * da))
        d_ab = dbig_a * big_b + big_a * dbig_b_expected
        assert_allclose(d_ab, 2 * 2.0 * (1 - p) * big_b * (big_a + p), rtol=1e-10)
        if k == 0:                                          # (at P = 1 both vanish)
            assert not np.isclose(d_ab, 2 * 2.0 * p * (1 - p) * (1 + big_b), rtol=1e-3)


@pytest.mark.parametrize("cycles, top, zero", [((0, 1), "eq48", 0), ((0, 2), "eq48", 1), ((1, 2), "eq51", 2)])
def test_degenerate_initial_conditions_stay_put(cycles, top, zero):
    """Theorems 6.1-6.3: a zero weight below the top keeps P = 0 and everything from it up constant."""
    a0 = np.array([0.7, -1.3, 0.9])
    a0[zero] = 0.0
    traj = ld.integrate(a0, 30.0, cycles=cycles, top_layer=top)
    assert np.all(np.prod(traj.y, axis=1) == 0.0)
    assert np.all(traj.y[:, zero:] == a0[zero:])


def test_theorem_6_4_with_b_zero_nothing_moves_and_beta_zero_freezes_everything():
    b0, a0 = np.zeros((3, 1)), np.array([[0.3, -0.8, 1.2]])
    traj = ld.integrate_weights([b0, a0], [[1.0]], 10.0)
    assert np.all(traj.y == traj.y[0])
    assert not np.any(ld.chain_field([0.5, 2.0, -1.0], beta=0.0, cycles=(1, 4)))


def test_even_m_with_eq48_has_an_attracting_p_minus_one_and_the_gradient_top_layer_does_not():
    """Theorem 6.2 fails for m = 2 under Eq. 48: with a_1 a_2 = -1 and |a_1| < 1, P = -1 attracts.

    K = a_2 - a_1 = 3 puts the fixed point at a_1 = (-3 + sqrt(5)) / 2 (a root of a^2 + K a + 1 = 0).
    The reference's rule at a small rate goes there too; Section 7.3's gradient top layer reaches P = 1.
    """
    a0 = np.array([-0.6, 2.4])
    eq48 = ld.integrate(a0, 100.0, cycles=(0, 2), top_layer="eq48")
    assert_allclose(eq48.y[-1, 0], (-3 + np.sqrt(5)) / 2, atol=1e-7)
    assert_allclose(np.prod(eq48.y[-1]), -1.0, atol=1e-7)
    gradient = ld.integrate(a0, 100.0, cycles=(0, 2), top_layer="gradient")
    assert_allclose(np.prod(gradient.y[-1]), 1.0, atol=1e-7)
    net = CircularAutoencoder([1, 1, 1], ["linear", "linear"], weights=[[[a0[0]]], [[a0[1]]]])
    rule = get_rule("rec", recirculation=Recirculation("pr", cycles=(0, 2), top_layer="eq48"))
    x = np.array([[1.0], [-1.0]])                          # beta = 1, zero mean: biases stay 0
    for _ in range(3000):
        update = rule.directions(net, x)
        net.weights = [w + 0.01 * d for w, d in zip(net.weights, update.weights)]
    assert_allclose(net.weights[1][0, 0] * net.weights[0][0, 0], -1.0, atol=1e-6)


def test_with_n_at_least_one_the_sign_of_p_is_kept_so_negative_starts_never_learn():
    """Theorem 6.3 with P(0) < 0: every layer carries P^{2n}, so P = 0 cannot be crossed. Eq. 48's
    top layer creeps to P = 0, Eq. 51's blows up; the gradient top layer crosses and reaches P = 1."""
    a0 = np.array([0.9, -1.1])
    eq48 = ld.integrate(a0, 2000.0, cycles=(1, 2), top_layer="eq48")
    p = np.prod(eq48.y, axis=1)
    assert np.all(p < 0) and abs(p[-1]) < 0.05
    assert ld.integrate(a0, 2000.0, cycles=(1, 2), top_layer="eq51").diverged
    assert_allclose(np.prod(ld.integrate(a0, 2000.0, cycles=(1, 2), top_layer="gradient").y[-1]), 1.0, atol=1e-6)


def test_full_batch_sgd_with_the_reference_rule_is_euler_of_the_ode():
    """SGD on the whole data set is the Euler method: its distance to the ODE halves with the rate."""
    for cycles, top in (((0, 1), "gradient"), ((0, 2), "eq48")):
        results = ld.ode_vs_sgd(t_end=1.0, lrs=(0.02, 0.01, 0.005), cycles=cycles, top_layer=top, full_batch=True)
        errors = [r.max_error for r in results]
        assert errors[-1] < 0.05 * results[-1].weight_scale
        for coarse, fine in zip(errors, errors[1:]):
            assert 0.4 < fine / coarse < 0.6


def test_minibatch_sgd_approaches_the_ode_as_the_rate_shrinks():
    results = ld.ode_vs_sgd(t_end=1.0, lrs=(0.02, 0.002), batch=10, samples=60)
    assert results[1].max_error < 0.7 * results[0].max_error
    assert results[1].max_error < 0.05 * results[1].weight_scale


def test_theorem_checks_quick():
    """The check table: Theorems 6.1 and 6.4 hold in every run; the degenerate sets stay put; the
    paper's claims fail where the counterexamples above say (Eq. 48 with even m, n >= 1)."""
    rows = ld.check_theorems(quick=True, runs=6)
    by = {(r.theorem, r.system, r.claim): r for r in rows}
    assert len(by) == len(rows)
    for r in rows:
        if r.theorem in ("6.1", "6.4", "6.1-6.4") or "(0, 2), top gradient" in r.system or "zero" in r.claim:
            assert r.holds, r
        assert np.isnan(r.invariant_drift) or r.invariant_drift < 1e-6, r
    assert "| 6.1 |" in ld.format_checks(rows)


@pytest.mark.parametrize("call, message", [
    (lambda: ld.chain_field([1.0, 1.0], cycles=(2, 1)), r"cycles must be two integers \(n, m\) with 0 <= n < m, "
                                                         r"got \(2, 1\)"),
    (lambda: ld.chain_field([1.0, 1.0], top_layer="eq50"), "top_layer must be one of gradient, eq48, eq51, "
                                                            "got 'eq50'"),
    (lambda: ld.integrate([1.0, 1.0], t_end=-1.0), r"t_end must be in \(0, inf\), got -1.0"),
    (lambda: ld.integrate([1.0, 1.0], t_end=1.0, beta=-2), r"beta must be in \[0, inf\), got -2"),
    (lambda: ld.ode_vs_sgd(top_layer="eq51"), "top_layer must be gradient or eq48"),
    (lambda: ld.ode_vs_sgd(t_end=1.0, lrs=(0.03,)), "t_end / lr must be a whole multiple of 10 steps"),
    (lambda: ld.check_theorems(runs=0), r"runs must be in \[1, 10000\], got 0"),
])
def test_bad_arguments_get_one_clear_message(call, message):
    with pytest.raises(ConfigError, match=message):
        call()


@pytest.mark.slow
def test_vector_field_figure_is_written(tmp_path):
    pytest.importorskip("matplotlib")
    from recirc_analog.report.linear_dynamics_plots import vector_field_figure

    path = vector_field_figure(tmp_path / "flow.png", dpi=50)
    assert path.stat().st_size > 10_000
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
