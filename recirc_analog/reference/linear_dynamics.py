"""Linear dynamics of recirculation (Section 6): the paper's ODEs, integrated, and its theorems checked.

In a linear circular autoencoder without biases, plain recirculation (PR)
gives O^h(k) = P^h P^k I for cycle k, with P^h = A^h ... A^1 (P^0 = Id) and
P = P^L. Averaging the rule of a cycle pair (n, m) over the data with a small
learning rate gives the polynomial ODE (Eq. 35; Eq. 48 and 51 for m > 1)::

    dA^h/dt = P^h (P^n - P^m) Sigma (P^n)^T (P^{h-1})^T      h = 1..L-1
    dA^L/dt = top-layer term, by ``top_layer`` (below)

with Sigma = E[I I^T] (the data's second moment, shape (N0, N0)) and t the
sum of the learning rates of the steps taken (t = eta * steps).

The top layer is where the paper contradicts itself (issue 14); the three
readings, named by :data:`TOP_LAYER_READINGS`:

``eq48``
    post-synaptic neurons are layer 0, compared at cycles n and m:
    ``(P^n - P^m) Sigma (P^n)^T (P^{L-1})^T``. Eq. 40 at (0, 1), Eq. 48 at
    (0, m); what :class:`~.rules.RecirculationRule` computes with
    ``top_layer="eq48"``.
``eq51``
    Eq. 51 taken literally at h = L: the post-synaptic term is layer L's own
    output at cycles n and m, one factor P more than ``eq48``. At (0, 1) it
    is not gradient descent and contradicts Eq. 40; no rule computes it, it
    is here so that Theorem 6.3 can be checked on the equation it is stated for.
``gradient``
    Section 7.3: the top layer learns by gradient descent whatever (n, m):
    ``(Id - P) Sigma (P^{L-1})^T``. What the rule computes with
    ``top_layer="gradient"`` (its default, see :class:`~.recirculation.Recirculation`).

For (n, m) = (0, 1) ``eq48`` and ``gradient`` coincide.

API (NumPy and SciPy only; the figure is drawn by
:func:`recirc_analog.report.linear_dynamics_plots.vector_field_figure`):

- :func:`chain_field` -- the scalar chain A*[1, ..., 1] exactly as printed
  (Eq. 40, 48, 51), a = (a_1..a_L) -> da/dt;
- :func:`matrix_field` -- any linear A*[N0, ..., N0] (Eq. 35 generalised to
  the cycle pair), weights -> [dA^1/dt, ..., dA^L/dt]; A*[1, N, 1] is
  Theorem 6.4's system (Eq. 52);
- :func:`integrate` / :func:`integrate_weights` -- solve_ivp on either,
  returning a :class:`Trajectory`;
- :func:`check_theorems` -- Theorems 6.1-6.4 over random initial conditions:
  a list of :class:`TheoremCheck` rows (fractions converged, invariant drift,
  degenerate sets), :func:`format_checks` renders them as a Markdown table;
- :func:`ode_vs_sgd` -- the ODE against the reference's own rule stepped at
  small learning rates (:class:`SgdComparison`);
- :func:`pb_vector_field` -- the (P, B) flow of Figure 3 (Eq. 53 and 55).

All weights and times are dimensionless (activities in data units).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
from scipy.integrate import solve_ivp

from recirc_analog.errors import ConfigError, check_range

TOP_LAYER_READINGS = ("gradient", "eq48", "eq51")
"""Readings of the top layer's update for cycle pairs other than (0, 1) (module docstring)."""

BLOW_UP = 1e8
"""A trajectory whose largest |weight| passes this is stopped and counted as diverged."""

STAY_PUT_TOL = 1e-20
"""Largest move of a weight that the theorems say stays put (LSODA's implicit steps mix ~1e-34
round-off into exactly-zero components of the matrix systems; the chain stays exactly put)."""

CONVERGED_TOL = 1e-6
"""|P - target| (chain, A*[1, N, 1]) below which a run counts as settled at the target."""


def _check_cycles(cycles) -> tuple[int, int]:
    try:
        n, m = (int(c) for c in cycles)
        ok = (n, m) == tuple(cycles) and 0 <= n < m
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise ConfigError(f"cycles must be two integers (n, m) with 0 <= n < m, got {cycles!r}")
    return n, m


def _check_top(top_layer: str) -> str:
    if top_layer not in TOP_LAYER_READINGS:
        raise ConfigError(f"top_layer must be one of {', '.join(TOP_LAYER_READINGS)}, got {top_layer!r}")
    return top_layer


def chain_field(a, beta: float = 1.0, cycles=(0, 1), top_layer: str = "eq48") -> np.ndarray:
    """da/dt of the scalar chain A*[1, ..., 1] as the paper prints it.

    ``a`` has shape (L,), a_h the weight into layer h; ``beta`` = E[I^2] >= 0.
    Hidden layers (Eq. 40, 48, 51): ``beta a_1^2..a_{h-1}^2 a_h P^{2n} (1 - P^{m-n})``.
    Top layer: ``eq48`` ``beta a_1..a_{L-1} P^{2n} (1 - P^{m-n})`` (Eq. 40 / 48),
    ``eq51`` ``beta a_1^2..a_{L-1}^2 a_L P^{2n} (1 - P^{m-n})`` (Eq. 51 at h = L),
    ``gradient`` ``beta a_1..a_{L-1} (1 - P)``. Returns shape (L,).
    """
    a = np.asarray(a, dtype=float)
    n, m = _check_cycles(cycles)
    _check_top(top_layer)
    p = np.prod(a)
    drive = beta * p ** (2 * n) * (1.0 - p ** (m - n))
    squares = np.concatenate([[1.0], np.cumprod(a[:-1] ** 2)])      # a_1^2..a_{h-1}^2
    out = drive * squares * a
    below_top = np.prod(a[:-1])
    if top_layer == "eq48":
        out[-1] = drive * below_top
    elif top_layer == "gradient":
        out[-1] = beta * below_top * (1.0 - p)
    return out


def matrix_field(weights, sigma, cycles=(0, 1), top_layer: str = "eq48") -> list[np.ndarray]:
    """[dA^1/dt, ..., dA^L/dt] of a linear circular autoencoder under PR with cycle pair (n, m).

    ``weights[h-1]`` is A^h of shape (N_h, N_{h-1}), N_L = N_0; ``sigma`` is
    E[I I^T], shape (N0, N0). It is the minibatch mean of the reference's
    rule exactly when ``sigma`` is that minibatch's second moment and the
    biases are zero (the tests check this). Top layer by ``top_layer``
    (module docstring).
    """
    n, m = _check_cycles(cycles)
    _check_top(top_layer)
    weights = [np.asarray(w, dtype=float) for w in weights]
    sigma = np.asarray(sigma, dtype=float)
    n0 = weights[0].shape[1]
    prods = [np.eye(n0)]
    for w in weights:
        prods.append(w @ prods[-1])
    p = prods[-1]
    p_n = np.linalg.matrix_power(p, n)
    post = p_n - np.linalg.matrix_power(p, m)          # (P^n - P^m), applied to I
    moment = post @ sigma @ p_n.T                       # E[(P^n - P^m) I (P^n I)^T]
    out = [prods[h] @ moment @ prods[h - 1].T for h in range(1, len(weights))]
    top_pre = prods[-2].T
    if top_layer == "eq48":
        out.append(moment @ top_pre)
    elif top_layer == "eq51":
        out.append(p @ moment @ top_pre)
    else:
        out.append((np.eye(n0) - p) @ sigma @ top_pre)
    return out


@dataclass(frozen=True)
class Trajectory:
    """A solution of one of the ODEs."""

    t: np.ndarray
    """Times, shape (T,), dimensionless (sum of learning rates)."""
    y: np.ndarray
    """State at each time, shape (T, D): the chain's a_1..a_L, or the weights flattened layer by layer."""
    diverged: bool
    """True when the run was stopped because a weight passed :data:`BLOW_UP`."""
    shapes: tuple[tuple[int, int], ...] = ()
    """Weight shapes (matrix systems), empty for the chain."""

    def weights(self, k: int = -1) -> list[np.ndarray]:
        """The weight matrices at time index ``k`` (matrix systems)."""
        return _unflatten(self.y[k], self.shapes)

    def products(self) -> np.ndarray:
        """P(t) for the chain, shape (T,); for a matrix system with N0 = 1 also P(t)."""
        if not self.shapes:
            return np.prod(self.y, axis=1)
        return np.array([_product(_unflatten(row, self.shapes))[0, 0] for row in self.y])


def _unflatten(vector, shapes) -> list[np.ndarray]:
    out, start = [], 0
    for rows, cols in shapes:
        out.append(vector[start:start + rows * cols].reshape(rows, cols))
        start += rows * cols
    return out


def _product(weights) -> np.ndarray:
    p = weights[0]
    for w in weights[1:]:
        p = w @ p
    return p


class _BlowUp(Exception):
    """Raised inside the right-hand side when the state passes :data:`BLOW_UP`."""


SAMPLES_PER_CHUNK = 10
"""Output samples per solve_ivp call: a blow-up loses at most this many samples of the trajectory."""


def _solve(rhs, y0, t_end, n_points, rtol, atol) -> tuple[np.ndarray, np.ndarray, bool]:
    """solve_ivp (LSODA) on [0, t_end] sampled at ``n_points`` times; stops at :data:`BLOW_UP`.

    Integrated in chunks of :data:`SAMPLES_PER_CHUNK` samples; when the state
    passes :data:`BLOW_UP` (polynomial ODEs can reach infinity in finite
    time) the run stops, the samples from there on repeat the last one
    reached, and ``diverged`` is True.
    """
    check_range("t_end", t_end, 0, None, low_open=True)
    check_range("n_points", n_points, 2, None)

    def guarded(t, y):
        if not np.all(np.isfinite(y)) or np.max(np.abs(y)) > BLOW_UP:
            raise _BlowUp
        return rhs(t, y)
    t_eval = np.linspace(0.0, t_end, n_points)
    y = np.empty((n_points, len(y0)))
    y[0] = np.asarray(y0, dtype=float)
    k = 0
    while k < n_points - 1:
        stop = min(k + SAMPLES_PER_CHUNK, n_points - 1)
        try:
            with np.errstate(over="raise", invalid="raise"):
                sol = solve_ivp(guarded, (t_eval[k], t_eval[stop]), y[k], method="LSODA",
                                t_eval=t_eval[k + 1:stop + 1], rtol=rtol, atol=atol)
        except (_BlowUp, FloatingPointError):
            y[k + 1:] = y[k]
            return t_eval, y, True
        if sol.status == -1:
            raise ConfigError(f"the ODE solver failed: {sol.message}")
        y[k + 1:stop + 1] = sol.y.T
        k = stop
    return t_eval, y, False


def integrate(a0, t_end: float, beta: float = 1.0, cycles=(0, 1), top_layer: str = "eq48",
              n_points: int = 201, rtol: float = 1e-10, atol: float = 1e-12) -> Trajectory:
    """Integrate the chain (:func:`chain_field`) from ``a0`` (shape (L,)) to ``t_end`` (LSODA).

    Returns ``n_points`` evenly spaced samples; a run past :data:`BLOW_UP`
    is stopped and flagged ``diverged`` (see :func:`_solve`).
    """
    check_range("beta", beta, 0, None)
    t, y, diverged = _solve(lambda _t, a: chain_field(a, beta, cycles, top_layer), a0, t_end, n_points, rtol, atol)
    return Trajectory(t, y, diverged)


def integrate_weights(weights0, sigma, t_end: float, cycles=(0, 1), top_layer: str = "eq48",
                      n_points: int = 201, rtol: float = 1e-10, atol: float = 1e-12) -> Trajectory:
    """Integrate :func:`matrix_field` from the weights ``weights0`` to ``t_end`` (LSODA)."""
    shapes = tuple(np.shape(w) for w in weights0)
    flat0 = np.concatenate([np.ravel(w) for w in weights0])

    def rhs(_t, y):
        return np.concatenate([d.ravel() for d in matrix_field(_unflatten(y, shapes), sigma, cycles, top_layer)])
    t, y, diverged = _solve(rhs, flat0, t_end, n_points, rtol, atol)
    return Trajectory(t, y, diverged, shapes)


# ----------------------------------------------------------------------------------------------
# Invariants (conserved quantities) the paper derives


def chain_invariants(a, top_layer: str = "eq48", cycles=(0, 1)) -> np.ndarray:
    """The chain's conserved quantities at state(s) ``a`` (shape (L,) or (T, L)).

    K_h = log|a_{h+1}| - a_h^2 / 2 for h = 1..L-2 (Eq. 42, 49); with the
    literal ``eq51`` top layer also h = L-1. For L = 2 with the ``eq48`` top
    layer (hidden and top derivatives are equal): K = a_2 - a_1 (Eq. 45),
    and also with ``gradient`` at (0, 1) where it is the same system.
    Returns shape (K,) or (T, K).
    """
    a = np.atleast_2d(np.asarray(a, dtype=float))
    n_layers = a.shape[1]
    last = n_layers - 1 if top_layer == "eq51" else n_layers - 2
    cols = [np.log(np.abs(a[:, h + 1])) - a[:, h] ** 2 / 2 for h in range(last)]
    same_as_eq48 = top_layer == "eq48" or (top_layer == "gradient" and tuple(cycles) == (0, 1))
    if n_layers == 2 and same_as_eq48:
        cols = [a[:, 1] - a[:, 0]]
    out = np.stack(cols, axis=1) if cols else np.zeros((a.shape[0], 0))
    return out[0] if np.ndim(a) == 2 and a.shape[0] == 1 else out


def expansive_invariants(weights) -> np.ndarray:
    """A*[1, N, 1] (Theorem 6.4): c = a - b (constant under Eq. 52), shape (N,).

    ``weights`` = [b as (N, 1), a as (1, N)]. ||c||^2 = A - 2P + B is then
    constant too (Eq. 53-55).
    """
    b, a = weights
    return np.ravel(a) - np.ravel(b)


def pb_vector_field(p, b, beta: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """(dP/dt, dB/dt) of Eq. 53 and 55 on arrays ``p``, ``b`` (any equal shapes; B = ||b||^2 >= 0)."""
    p, b = np.asarray(p, dtype=float), np.asarray(b, dtype=float)
    return beta * (1 - p) * (p + b), 2 * beta * (1 - p) * b


# ----------------------------------------------------------------------------------------------
# Theorem checks


@dataclass(frozen=True)
class TheoremCheck:
    """One row of :func:`check_theorems`: one system, many random initial conditions."""

    theorem: str
    """"6.1" .. "6.4"."""
    system: str
    """Which ODE: architecture, cycle pair and top-layer reading."""
    claim: str
    """What the theorem says should happen for these initial conditions."""
    runs: int
    """Number of random initial conditions integrated."""
    to_optimum: int
    """Runs ending with |P - 1| < :data:`CONVERGED_TOL` (the theorem's optimum)."""
    to_minus_one: int
    """Runs ending with |P + 1| < tol (a non-optimal fixed point when m - n is even)."""
    diverged: int
    """Runs stopped at :data:`BLOW_UP`."""
    unsettled: int
    """Runs settled nowhere by ``t_end`` (slow, or elsewhere)."""
    invariant_drift: float
    """Largest |K(t) - K(0)| over all runs and times of the conserved quantities (NaN: none)."""
    t_end: float
    """Integration time (dimensionless)."""
    holds: bool
    """Whether the observation agrees with the theorem's claim."""
    note: str = ""
    """What the row shows beyond the counts."""
    final_p: tuple[float, ...] = field(default=(), repr=False)
    """P at t_end of every run (for figures)."""

    def as_row(self) -> dict:
        """A flat dict for tables (without :attr:`final_p`)."""
        return {k: getattr(self, k) for k in ("theorem", "system", "claim", "runs", "to_optimum", "to_minus_one",
                                               "diverged", "unsettled", "invariant_drift", "t_end", "holds", "note")}


def _classify(p_end: float, diverged: bool) -> str:
    if diverged or not np.isfinite(p_end):
        return "diverged"
    if abs(p_end - 1) < CONVERGED_TOL:
        return "optimum"
    if abs(p_end + 1) < CONVERGED_TOL:
        return "minus_one"
    return "unsettled"


def _random_chain(rng, n_layers, scale):
    return rng.uniform(-scale, scale, size=n_layers)


def _chain_row(theorem, claim, rng, n_layers, cycles, top_layer, runs, t_end, scale,
               expect_optimum=True) -> TheoremCheck:
    counts = {"optimum": 0, "minus_one": 0, "diverged": 0, "unsettled": 0}
    drift, finals, negative = 0.0, [], 0
    for _ in range(runs):
        a0 = _random_chain(rng, n_layers, scale)
        negative += int(np.prod(a0) < 0)
        traj = integrate(a0, t_end, 1.0, cycles, top_layer, n_points=101)
        p_end = float(np.prod(traj.y[-1]))
        finals.append(p_end)
        counts[_classify(p_end, traj.diverged)] += 1
        k = chain_invariants(traj.y, top_layer, cycles)
        if k.size:
            drift = max(drift, float(np.max(np.abs(k - k[0]))))
    has_invariant = chain_invariants(np.ones(n_layers), top_layer, cycles).size > 0
    holds = counts["optimum"] == runs if expect_optimum else counts["optimum"] < runs
    system = f"A*[1 x {n_layers + 1}] (L = {n_layers}), cycles {cycles}, top {top_layer}"
    return TheoremCheck(theorem, system, claim, runs, counts["optimum"], counts["minus_one"], counts["diverged"],
                        counts["unsettled"], drift if has_invariant else float("nan"), t_end, holds,
                        note=f"P(0) < 0 in {negative} runs", final_p=tuple(finals))


def _degenerate_chain_row(theorem, rng, n_layers, cycles, top_layer, runs, t_end, scale,
                          zero_from: int) -> TheoremCheck:
    """Initial conditions with one zero among a_1..a_{zero_from}: P(t) = 0 for all t and the weights
    from the first zero up stay put (Theorem 6.1-6.3, degenerate case)."""
    worst_p, worst_move = 0.0, 0.0
    for _ in range(runs):
        a0 = _random_chain(rng, n_layers, scale)
        i0 = int(rng.integers(0, zero_from))
        a0[i0] = 0.0
        traj = integrate(a0, t_end, 1.0, cycles, top_layer, n_points=51)
        worst_p = max(worst_p, float(np.max(np.abs(np.prod(traj.y, axis=1)))))
        worst_move = max(worst_move, float(np.max(np.abs(traj.y[:, i0:] - a0[i0:]))))
    holds = worst_p <= STAY_PUT_TOL and worst_move <= STAY_PUT_TOL
    which = "a_1..a_{L-1}" if zero_from == n_layers - 1 else "a_1..a_L"
    return TheoremCheck(theorem, f"A*[1 x {n_layers + 1}] (L = {n_layers}), cycles {cycles}, top {top_layer}",
                        f"a zero in {which}: P(t) = 0, weights from the zero up constant", runs, 0, 0, 0, runs,
                        float("nan"), t_end, holds,
                        note=f"max |P(t)| = {worst_p:.1e}, max move of the stuck weights = {worst_move:.1e}")


def _expansive_row(rng, hidden, runs, t_end, scale) -> TheoremCheck:
    counts = {"optimum": 0, "minus_one": 0, "diverged": 0, "unsettled": 0}
    drift, finals, pb_drift = 0.0, [], 0.0
    sigma = np.ones((1, 1))
    for _ in range(runs):
        b0 = rng.uniform(-scale, scale, size=(hidden, 1))
        a0 = rng.uniform(-scale, scale, size=(1, hidden))
        traj = integrate_weights([b0, a0], sigma, t_end, n_points=101)
        p = traj.products()
        finals.append(float(p[-1]))
        counts[_classify(p[-1], traj.diverged)] += 1
        cs = np.array([expansive_invariants(traj.weights(k)) for k in range(len(traj.t))])
        drift = max(drift, float(np.max(np.abs(cs - cs[0]))))
        # The reduced (P, B) system of Eq. 53 / 55 must reproduce the full one.
        bb = np.array([float(np.sum(traj.weights(k)[0] ** 2)) for k in range(len(traj.t))])
        reduced = solve_ivp(lambda _t, s: np.array(pb_vector_field(s[0], s[1])), (0, t_end), [p[0], bb[0]],
                            t_eval=traj.t, method="LSODA", rtol=1e-10, atol=1e-12)
        pb_drift = max(pb_drift, float(np.max(np.abs(reduced.y[0] - p))))
    return TheoremCheck("6.4", f"A*[1, {hidden}, 1], cycles (0, 1)", "b(0) != 0: P -> 1", runs, counts["optimum"],
                        counts["minus_one"], counts["diverged"], counts["unsettled"], drift, t_end,
                        counts["optimum"] == runs,
                        note=f"(P, B) of Eq. 53/55 vs the full system: max |dP| = {pb_drift:.1e}",
                        final_p=tuple(finals))


def _degenerate_expansive_row(rng, hidden, runs, t_end, scale) -> TheoremCheck:
    worst = 0.0
    sigma = np.ones((1, 1))
    for k in range(runs):
        b0 = rng.uniform(-scale, scale, size=(hidden, 1))
        a0 = rng.uniform(-scale, scale, size=(1, hidden))
        zero = np.arange(hidden) if k == 0 else rng.choice(hidden, size=hidden // 2, replace=False)
        b0[zero] = 0.0
        traj = integrate_weights([b0, a0], sigma, t_end, n_points=51)
        bs = traj.y[:, :hidden][:, zero]
        as_ = traj.y[:, hidden:][:, zero]
        worst = max(worst, float(np.max(np.abs(bs))), float(np.max(np.abs(as_ - a0[0, zero]))))
    return TheoremCheck("6.4", f"A*[1, {hidden}, 1], cycles (0, 1)",
                        "b_i(0) = 0: (a_i, b_i) constant (all of b zero: nothing moves, P = 0)", runs, 0, 0, 0, runs,
                        float("nan"), t_end, worst <= STAY_PUT_TOL, note=f"max move of the stuck pairs = {worst:.1e}")


def _beta_zero_row(rng, runs) -> TheoremCheck:
    worst = 0.0
    for _ in range(runs):
        for n_layers, cycles, top in ((2, (0, 1), "eq48"), (4, (0, 3), "eq48"), (3, (1, 3), "eq51")):
            worst = max(worst, float(np.max(np.abs(chain_field(_random_chain(rng, n_layers, 2.0), 0.0, cycles,
                                                                            top)))))
        w = [rng.normal(size=(3, 1)), rng.normal(size=(1, 3))]
        worst = max(worst, max(float(np.max(np.abs(d))) for d in matrix_field(w, np.zeros((1, 1)))))
    return TheoremCheck("6.1-6.4", "every system above with beta = 0", "beta = 0: every weight constant", runs,
                        0, 0, 0, runs, float("nan"), 0.0, worst == 0.0, note=f"max |da/dt| = {worst:.1e}")


def check_theorems(runs: int = 50, seed: int = 0, t_end: float = 400.0, scale: float = 1.5,
                   quick: bool = False) -> list[TheoremCheck]:
    """Theorems 6.1-6.4 over ``runs`` random initial conditions each (beta = 1).

    Initial weights are uniform in [-``scale``, ``scale``], integrated to
    ``t_end``. Rows: Theorem 6.1 (L = 2, 3, 4, cycles (0, 1)); 6.2 (cycles
    (0, 2) and (0, 3), top layer ``eq48`` as in Eq. 48, and ``gradient``);
    6.3 (cycles (1, 2) and (1, 3), literal ``eq51``; ``eq48`` and ``gradient``) integrated
    10 times longer (the P^{2n} factor slows them); 6.4 (A*[1, 5, 1]);
    the degenerate sets of each; beta = 0. ``quick`` uses 8 runs and shorter
    times (for tests). Reproducible from ``seed``. Returns the rows in order.
    """
    check_range("runs", runs, 1, 10_000)
    check_range("scale", scale, 0, None, low_open=True)
    if quick:
        runs, t_end = min(runs, 8), min(t_end, 200.0)
    rng = np.random.default_rng(seed)
    small = max(2, runs // 5)
    rows = []
    claim = "a_1..a_{L-1} != 0: P -> 1"
    for n_layers in (2, 3, 4):
        rows.append(_chain_row("6.1", claim, rng, n_layers, (0, 1), "eq48", runs, t_end, scale))
    rows.append(_degenerate_chain_row("6.1", rng, 3, (0, 1), "eq48", small, t_end / 4, scale, zero_from=2))
    for n_layers, cycles in ((2, (0, 2)), (3, (0, 2)), (2, (0, 3)), (3, (0, 3))):
        rows.append(_chain_row("6.2", claim, rng, n_layers, cycles, "eq48", runs, t_end, scale))
    for n_layers in (2, 3):
        rows.append(_chain_row("6.2", claim + " (Sec. 7.3 top layer)", rng, n_layers, (0, 2), "gradient", runs,
                               t_end, scale))
    rows.append(_degenerate_chain_row("6.2", rng, 3, (0, 2), "eq48", small, t_end / 4, scale, zero_from=2))
    claim3 = "a_1..a_L != 0: P -> 1"
    for n_layers, cycles, top in ((2, (1, 2), "eq51"), (3, (1, 2), "eq51"), (2, (1, 3), "eq51"),
                                  (2, (1, 2), "eq48"), (3, (1, 2), "eq48"), (2, (1, 2), "gradient"),
                                  (3, (1, 2), "gradient")):
        rows.append(_chain_row("6.3", claim3, rng, n_layers, cycles, top, runs, 10 * t_end, scale))
    rows.append(_degenerate_chain_row("6.3", rng, 3, (1, 2), "eq51", small, t_end / 4, scale, zero_from=3))
    rows.append(_expansive_row(rng, 5, runs, t_end, scale))
    rows.append(_degenerate_expansive_row(rng, 5, small, t_end / 4, scale))
    rows.append(_beta_zero_row(rng, small))
    return rows


def format_checks(rows: list[TheoremCheck]) -> str:
    """The rows of :func:`check_theorems` as a Markdown table."""
    head = ("| theorem | system | claim | runs | P->1 | P->-1 | diverged | unsettled | invariant drift | "
            "t_end | holds | note |")
    lines = [head, "|" + "---|" * 12]
    for r in rows:
        drift = "-" if np.isnan(r.invariant_drift) else f"{r.invariant_drift:.1e}"
        lines.append(f"| {r.theorem} | {r.system} | {r.claim} | {r.runs} | {r.to_optimum} | {r.to_minus_one} | "
                     f"{r.diverged} | {r.unsettled} | {drift} | {r.t_end:g} | {'yes' if r.holds else 'NO'} | "
                     f"{r.note} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------------------------
# ODE against SGD with the reference's rule


@dataclass(frozen=True)
class SgdComparison:
    """The ODE against the reference's rule stepped with learning rate ``lr`` up to the same time."""

    lr: float
    """Learning rate of the SGD steps."""
    steps: int
    """Number of steps (t = lr * steps)."""
    max_error: float
    """max over the compared times and weights of |A_SGD - A_ODE|."""
    weight_scale: float
    """max |A_ODE| over the same times (to read ``max_error`` against)."""


def ode_vs_sgd(sizes=(6, 3, 6), t_end: float = 2.0, lrs=(0.02, 0.01, 0.005), cycles=(0, 1),
               top_layer: str = "gradient", batch: int = 10, samples: int = 60, seed: int = 0,
               full_batch: bool = False) -> list[SgdComparison]:
    """Train a linear, bias-free network with the reference's ``rec`` rule (PR) and compare with the ODE.

    The data are ``samples`` Gaussian vectors of width ``sizes[0]`` and their
    negatives (zero mean, so the bias updates vanish and the biases stay 0);
    Sigma is their second moment. Each step draws a minibatch of ``batch``
    vectors with their negatives (``full_batch``: all of them, which makes
    SGD the Euler method of the ODE, error O(lr)). The ODE is integrated with
    :func:`integrate_weights` at the SGD times. Returns one
    :class:`SgdComparison` per learning rate in ``lrs``.
    """
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.reference.recirculation import Recirculation
    from recirc_analog.reference.rules import get_rule

    if top_layer not in ("gradient", "eq48"):
        raise ConfigError(f"top_layer must be gradient or eq48 (the readings the rule computes), got {top_layer!r}")
    n_compare = 10
    for lr in lrs:
        check_range("lr", lr, 0, None, low_open=True)
        if abs(t_end / lr - round(t_end / lr)) > 1e-9 or round(t_end / lr) % n_compare:
            raise ConfigError(f"t_end / lr must be a whole multiple of {n_compare} steps, got {t_end / lr:g}")
    rng = np.random.default_rng(seed)
    half = rng.normal(size=(samples, sizes[0]))
    data = np.vstack([half, -half])
    sigma = data.T @ data / len(data)
    net0 = CircularAutoencoder.random(list(sizes), ["linear"] * (len(sizes) - 1), seed=seed)
    weights0 = [w.copy() for w in net0.weights]
    ode = integrate_weights(weights0, sigma, t_end, cycles, top_layer, n_points=n_compare + 1)
    rule = get_rule("rec", recirculation=Recirculation("pr", cycles=cycles, top_layer=top_layer))
    out = []
    for lr in lrs:
        steps = int(round(t_end / lr))
        every = steps // n_compare
        net = CircularAutoencoder(list(sizes), ["linear"] * (len(sizes) - 1), weights=[w.copy() for w in weights0])
        batch_rng = np.random.default_rng(seed + 1)
        error, scale = 0.0, 0.0
        for k in range(steps + 1):
            if k % every == 0:
                expected = ode.weights(k // every)
                error = max(error, max(float(np.max(np.abs(w - e))) for w, e in zip(net.weights, expected)))
                scale = max(scale, max(float(np.max(np.abs(e))) for e in expected))
            if k == steps:
                break
            rows = half if full_batch else half[batch_rng.choice(samples, size=batch, replace=False)]
            x = np.vstack([rows, -rows])
            update = rule.directions(net, x)
            net.weights = [w + lr * d for w, d in zip(net.weights, update.weights)]
            net.biases = [b + lr * d for b, d in zip(net.biases, update.biases)]
        out.append(SgdComparison(lr, steps, error, scale))
    return out
