"""Figures of the linear dynamics of Section 6 (:mod:`recirc_analog.reference.linear_dynamics`).

matplotlib is imported when a figure is drawn (through :mod:`.plots`' private
figure helpers: own Agg canvas, atomic write, size ``figsize * dpi``).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from recirc_analog.reference import linear_dynamics as ld
from recirc_analog.report.plots import DPI, _new_figure, _save

VECTOR_FIELD_FIGSIZE = (11.0, 4.6)
"""Size of :func:`vector_field_figure` (inches, width x height)."""


def vector_field_figure(path: str | os.PathLike, *, hidden: int = 5, seed: int = 0,
                        figsize=VECTOR_FIELD_FIGSIZE, dpi: int = DPI) -> Path:
    """Figure 3 of the paper, beside the multi-cycle counterexample; writes ``path``.

    Left: the flow of Eq. 53 / 55 (beta = 1) in the (P, B) plane with the
    optimum line P = 1, and (P, ||b||^2) of six trajectories of the full
    A*[1, ``hidden``, 1] system (:func:`~.linear_dynamics.integrate_weights`,
    random initial weights from ``seed``) drawn over it: they must follow the
    streamlines, since (P, B) is a closed system. Right: the chain A*[1, 1, 1]
    with cycles (0, 2) in the (a_1, a_2) plane under Eq. 48's top layer, with
    the curves P = 1 and P = -1 and trajectories of both readings from the
    same starts: the ``eq48`` ones that end on P = -1 are the runs for which
    Theorem 6.2 fails; the ``gradient`` (Section 7.3) ones all end on P = 1.
    """
    figure = _new_figure(figsize, dpi)
    left, right = figure.add_subplot(1, 2, 1), figure.add_subplot(1, 2, 2)

    p_grid, b_grid = np.meshgrid(np.linspace(-3, 3, 41), np.linspace(0, 4, 41))
    dp, db = ld.pb_vector_field(p_grid, b_grid)
    left.streamplot(p_grid, b_grid, dp, db, color="0.6", density=1.3, linewidth=0.7, arrowsize=0.8)
    left.axvline(1.0, color="tab:green", linewidth=2.0, label="optimum P = 1")
    rng = np.random.default_rng(seed)
    for k in range(6):
        b0 = rng.uniform(-1.2, 1.2, size=(hidden, 1))
        a0 = rng.uniform(-1.2, 1.2, size=(1, hidden))
        traj = ld.integrate_weights([b0, a0], np.ones((1, 1)), 30.0, n_points=301)
        p = traj.products()
        b_norm = np.sum(traj.y[:, :hidden] ** 2, axis=1)
        left.plot(p, b_norm, color="tab:blue", linewidth=1.4, label="full A*[1, N, 1] system" if k == 0 else None)
        left.plot(p[0], b_norm[0], "o", color="tab:blue", markersize=3.5)
    left.set_xlim(-3, 3)
    left.set_ylim(0, 4)
    left.set_xlabel("P = sum a_i b_i")
    left.set_ylabel("B = ||b||^2")
    left.set_title("Fig. 3: flow of Eq. 53/55 (beta = 1)")
    left.legend(frameon=False, loc="upper left", fontsize=8)

    a1, a2 = np.meshgrid(np.linspace(-3, 3, 41), np.linspace(-3, 3, 41))
    d1 = a1 * (1 - (a1 * a2) ** 2)          # Eq. 48, L = 2, m = 2: da_1/dt = da_2/dt = a_1 (1 - P^2)
    right.streamplot(a1, a2, d1, d1, color="0.75", density=1.0, linewidth=0.6, arrowsize=0.7)
    xs = np.linspace(-3, 3, 601)
    xs = xs[np.abs(xs) > 1 / 3]
    for target, colour in ((1.0, "tab:green"), (-1.0, "tab:red")):
        for part in (xs[xs > 0], xs[xs < 0]):
            right.plot(part, target / part, color=colour, linewidth=1.6,
                       label=f"P = {target:+g}" if part[0] > 0 else None)
    starts = [(-0.4, 2.6), (0.5, -2.4), (-2.5, 0.3), (2.2, -0.6), (1.5, 1.5), (-0.8, -0.6)]
    for k, start in enumerate(starts):
        for top, style in (("eq48", "-"), ("gradient", "--")):
            traj = ld.integrate(np.array(start), 40.0, cycles=(0, 2), top_layer=top, n_points=401)
            right.plot(traj.y[:, 0], traj.y[:, 1], style, color="tab:purple" if top == "eq48" else "tab:orange",
                       linewidth=1.3, label=(f"top {top}" if k == 0 else None))
        right.plot(*start, "o", color="k", markersize=3.5)
    right.set_xlim(-3, 3)
    right.set_ylim(-3, 3)
    right.set_xlabel("a_1")
    right.set_ylabel("a_2")
    right.set_title("A*[1, 1, 1], cycles (0, 2): Eq. 48 vs Sec. 7.3 top layer")
    right.legend(frameon=False, loc="lower left", fontsize=8)
    figure.tight_layout()
    return _save(figure, path, dpi)
