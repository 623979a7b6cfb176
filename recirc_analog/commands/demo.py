"""``recirc-analog demo``: the main job of the README (``make demo``).

Trains the NumPy reference on Lowrank (linear 100-20-100, the paper's
Fig. 4 setting) with several rules from the same initial weights and prints
the comparison table.
"""

from __future__ import annotations

from pathlib import Path

from ..cli_args import positive_int
from ..reference.recirculation import Recirculation
from ..reference.training import TrainConfig

DEMO_RULES = (("bp", "pr"), ("rbp", "pr"), ("srbp", "pr"), ("top", "pr"), ("rec", "pr"), ("rec", "ccr"))


def add_parser(commands) -> None:
    """Register ``demo`` on the sub-command parsers."""
    demo = commands.add_parser("demo", help="the main job: compare learning rules (see README)",
                               description=__doc__.splitlines()[0])
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="output folder (default runs/demo)")
    demo.add_argument("--epochs", type=positive_int("--epochs"), default=3, help="epochs per rule (default 3)")
    demo.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    demo.add_argument("--quiet", action="store_true", help="no progress bars")
    demo.set_defaults(handler=run)


def run(args) -> int:
    """Train every rule of :data:`DEMO_RULES`; print the table; return the exit code."""
    from ..jobs.train import RuleSpec, TrainJob, run_train
    from ..report import format_table, plot_loss_curves

    out = Path(args.out)
    rows, curves = [], {}
    for name, mode in DEMO_RULES:
        rule = RuleSpec(name, Recirculation(mode, 0.5))
        job = TrainJob((100, 20, 100), ("linear", "linear"), rule,
                       TrainConfig(epochs=args.epochs, lr=0.001, max_norm=2.0, seed=args.seed),
                       "lowrank", init_seed=args.seed, out=str(out / rule.label()))
        _, history = run_train(job, show_progress=not args.quiet)
        curves[rule.label()] = [m.test_loss for m in history]
        rows.append({"rule": rule.label(), "initial_test_loss": history[0].test_loss,
                     "final_test_loss": history[-1].test_loss,
                     "reduction": history[0].test_loss / max(history[-1].test_loss, 1e-300),
                     "seconds": sum(m.seconds for m in history[1:])})
    print("Lowrank (d=100, rank 20), linear 100-20-100, lr 0.001, max_norm 2, "
          f"{args.epochs} epochs of 60,000 samples, seed {args.seed}")
    print(format_table(rows, ["rule", "initial_test_loss", "final_test_loss", "reduction", "seconds"]))
    plot = plot_loss_curves(out / "test_loss.png", list(range(args.epochs + 1)), curves,
                            xlabel="epoch", ylabel="test loss", title="Lowrank 100-20-100 (linear)")
    print(f"per-rule results in {out}/<rule>/, comparison plot {plot}")
    return 0
