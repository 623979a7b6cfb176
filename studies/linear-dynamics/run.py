"""Section 6 (issue 14): the theorem checks, the ODE against SGD, and the vector-field figure.

From the repository root:

    .venv/bin/python studies/linear-dynamics/run.py [--runs 50] [--seed 0]

writes ``checks.md`` (the tables of docs/LINEAR_DYNAMICS.md) next to this file and
``docs/linear_dynamics.png``. Everything is reproducible from ``--seed``.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from recirc_analog.reference import linear_dynamics as ld
from recirc_analog.report.linear_dynamics_plots import vector_field_figure

HERE = Path(__file__).resolve().parent


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=50, help="random initial conditions per system (default 50)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the initial conditions (default 0)")
    args = parser.parse_args()
    start = time.perf_counter()
    rows = ld.check_theorems(runs=args.runs, seed=args.seed)
    lines = [f"Theorem checks: `check_theorems(runs={args.runs}, seed={args.seed})`, beta = 1, initial weights "
             f"uniform in [-1.5, 1.5], settled = |P -/+ 1| < {ld.CONVERGED_TOL:g} at t_end.", "",
             ld.format_checks(rows), ""]
    lines += ["ODE against SGD with the reference's `rec` rule (A*[6, 3, 6] linear, no biases, t = 2):", "",
              "| cycles | top layer | batches | lr | steps | max abs(A_SGD - A_ODE) | max abs(A_ODE) |",
              "|---|---|---|---|---|---|---|"]
    for cycles, top in (((0, 1), "gradient"), ((0, 2), "eq48"), ((0, 2), "gradient"), ((1, 2), "eq48")):
        for full in (True, False):
            for r in ld.ode_vs_sgd(cycles=cycles, top_layer=top, full_batch=full, seed=args.seed):
                lines.append(f"| {cycles} | {top} | {'all 120' if full else '20 of 120'} | {r.lr:g} | {r.steps} | "
                             f"{r.max_error:.2e} | {r.weight_scale:.2f} |")
    lines.append("")
    lines.append(f"Wall time {time.perf_counter() - start:.0f} s.")
    (HERE / "checks.md").write_text("\n".join(lines) + "\n")
    vector_field_figure(HERE.parents[1] / "docs" / "linear_dynamics.png", seed=args.seed)
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
