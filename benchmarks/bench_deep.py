"""Figure 8 of the paper: how REC, REC', BP and TOP behave in a deep MNIST autoencoder.

Run:  .venv/bin/python benchmarks/bench_deep.py [--epochs 20] [--hidden 10] [--caps 1,2,4] [--write]

The paper's network has ten hidden layers of 100 tanh units (784-100x10-784,
logistic output, cross-entropy), learning rate 0.01 for every rule and, for
REC', 0.01 / 2**n in the n-th layer below the output (``lr_decay = 0.5``). It
reports that REC first tracks BP, then its loss rises and does not recover,
and that REC' avoids this; it also suggests weight constraints, which --caps
tries (REC with a cap on each neuron's incoming weight norm). This script
trains the rules from the same initial weights on the same batches, records
the test loss after every epoch (a diverged run keeps its last good loss and
is marked), prints a Markdown table, and saves
``benchmarks/deep_stability.png``; with --write it appends the table to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

from recirc_analog.data import load_dataset
from recirc_analog.jobs.reproduce import RunSpec, train_curve
from recirc_analog.reference.recirculation import Recirculation

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, publish  # noqa: E402

RULES = {
    "BP": ("bp", 1.0, None),
    "REC": ("rec", 1.0, None),
    "REC'": ("rec", 0.5, None),
    "TOP": ("top", 1.0, None),
}
"""Label -> (rule name, lr_decay, max_norm), as in Figure 8 (``recirc_analog.jobs.reproduce.FIGURES[8]``)."""


def train_rule(rule: str, decay: float, max_norm, sizes, acts, lr: float, epochs: int, dataset, seed: int):
    """(test loss per epoch 0..epochs with NaN after a divergence, epoch it diverged or None,
    largest layer weight norm at the start and at the end, seconds): ``reproduce.train_curve``."""
    spec = RunSpec(dataset.name, tuple(sizes), tuple(acts), rule, Recirculation(), (), lr, decay, max_norm,
                   epochs, seed)
    run = train_curve(spec, dataset)
    return run.test_loss, run.diverged, run.largest_norm, run.seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="folder with the MNIST IDX files (default ../shared/data)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per rule (default 20)")
    parser.add_argument("--hidden", type=int, default=10, help="hidden tanh layers of 100 units (default 10)")
    parser.add_argument("--lr", type=float, default=0.01, help="learning rate of the top layer (default 0.01)")
    parser.add_argument("--max-train", type=int, default=None, help="samples per epoch (default: all 60,000)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the weights and the batch order")
    parser.add_argument("--caps", default="",
                        help="comma-separated caps on each neuron's incoming weight norm; each adds a REC run "
                             "with that cap (the paper suggests weight constraints; default none)")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    if args.epochs < 1 or args.hidden < 1:
        parser.error(f"--epochs and --hidden must be >= 1, got {args.epochs} and {args.hidden}")
    rules = dict(RULES)
    for text in filter(None, args.caps.split(",")):
        try:
            cap = float(text)
        except ValueError:
            parser.error(f"--caps: each cap must be a number > 0, got {text!r}")
        if not 0 < cap < float("inf"):
            parser.error(f"--caps: each cap must be a number > 0, got {text!r}")
        rules[f"REC, cap {cap:g}"] = ("rec", 1.0, cap)
    dataset = load_dataset("mnist", args.data_dir, max_train=args.max_train)
    sizes = (784,) + (100,) * args.hidden + (784,)
    acts = ("tanh",) * args.hidden + ("logistic",)
    curves, notes = {}, []
    for label, (rule, decay, max_norm) in rules.items():
        losses, diverged, norms, seconds = train_rule(rule, decay, max_norm, sizes, acts, args.lr, args.epochs,
                                                      dataset, args.seed)
        curves[label] = losses
        finite = losses[np.isfinite(losses)]
        best = int(np.nanargmin(losses))
        notes.append(f"| {label} | {finite[-1]:.2f} | {losses[best]:.2f} (epoch {best}) | "
                     f"{'epoch ' + str(diverged) if diverged else 'no'} | {norms[0]:.1f} -> {norms[1]:.1f} | "
                     f"{seconds:.0f} |")
        print(notes[-1], flush=True)
    epochs = np.arange(args.epochs + 1)
    lines = [*header(),
             f"Network {'-'.join(map(str, sizes[:2]))}x{args.hidden}-784 (tanh, logistic output, cross-entropy), "
             f"lr {args.lr}, REC' = lr / 2**n in the n-th layer below the output, minibatch 100, "
             f"{dataset.n_train} training images per epoch.", "",
             "| rule | last test loss | best test loss | diverged | largest layer weight norm | seconds |",
             "|---|---|---|---|---|---|", *notes, "",
             "Test loss per epoch:", "",
             "| epoch | " + " | ".join(curves) + " |", "|---" * (len(curves) + 1) + "|"]
    lines += [f"| {e} | " + " | ".join(f"{curves[k][e]:.2f}" for k in curves) + " |" for e in epochs]
    try:
        from recirc_analog.report.plots import plot_loss_curves
        figure = plot_loss_curves(Path(__file__).with_name("deep_stability.png"), epochs, curves,
                                  title=f"MNIST 784-100x{args.hidden}-784 (Fig. 8)")
        lines += ["", f"Plot: `benchmarks/{figure.name}`."]
    except ImportError:
        lines += ["", "No plot: matplotlib is not installed."]
    publish(lines, "Deep networks: REC, REC', BP and TOP (Figure 8)", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
