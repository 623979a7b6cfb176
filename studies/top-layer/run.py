"""Multi-cycle top layer (issue 14): which reading reproduces the paper's Figure 10?

Figure 10 trains MNIST 784-20-784 with recirculation over cycles (0, m), m = 1..5, and the text
says "the top layer is updated with gradient descent in every case ... all variants seem to
perform well". Eq. 48 instead trains the top layer with I - O^L(m-1). This runs the real
``recirc-analog train`` command for both readings (``--top-layer gradient`` / ``eq48``) and BP,
linear (MSE, incoming norms capped at 2.0 as in Section 7.2) and non-linear (tanh hidden,
logistic output, cross-entropy), learning rate 0.01, minibatches of 100 (Section 7.2), and
writes ``results.csv`` and ``top_layer.png`` next to this file. From the repository root:

    .venv/bin/python studies/top-layer/run.py [--networks nonlinear] [--max-train 10000] [--epochs 1] [--data-dir DIR]

(the committed results.csv: these defaults, at reduced scale: 100 minibatches per run).

Finished points (their ``summary.json``) are reused, so a rerun resumes.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
from pathlib import Path

from recirc_analog.cli import main as cli_main

HERE = Path(__file__).resolve().parent

NETWORKS = {
    "linear": ["--act", "linear", "--max-norm", "2"],
    "nonlinear": ["--act", "tanh,logistic"],
}
"""Network kind -> the train options that make it (Section 7.2)."""

CYCLES = (1, 2, 3, 4, 5)
"""m of the cycle pairs (0, m), as Figure 10."""


def points(networks):
    """(network, rule label, train arguments) of every run."""
    for network in networks:
        options = NETWORKS[network]
        yield network, "bp", ["--rule", "bp"] + options
        for m in CYCLES:
            for top in ("gradient", "eq48") if m > 1 else ("gradient",):
                label = f"rec m={m}" + ("" if m == 1 else f" top={top}")
                yield network, label, ["--rule", "rec", "--cycles", f"0,{m}", "--top-layer", top] + options


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-train", type=int, default=10000, help="training samples used (default 10000)")
    parser.add_argument("--epochs", type=int, default=1, help="epochs per run (default 1)")
    default_data = os.environ.get("RECIRC_ANALOG_DATA", str(HERE.parents[2] / "shared/data"))
    parser.add_argument("--data-dir", default=default_data,
                        help="folder of the MNIST IDX files (default $RECIRC_ANALOG_DATA or ../shared/data)")
    parser.add_argument("--networks", default="nonlinear",
                        help=f"comma-separated network kinds from {', '.join(NETWORKS)} (default nonlinear)")
    parser.add_argument("--runs", default=str(HERE / "runs"), help="folder of the run folders (not committed)")
    args = parser.parse_args()
    networks = args.networks.split(",")
    rows = []
    for network, label, options in points(networks):
        out = Path(args.runs) / f"{network}-{args.max_train}x{args.epochs}-{label.replace(' ', '_').replace('=', '')}"
        if not (out / "summary.json").exists():
            code = cli_main(["train", "--data", "mnist", "--data-dir", args.data_dir, "--sizes", "784,20,784",
                             "--lr", "0.01", "--batch-size", "100", "--epochs", str(args.epochs),
                             "--max-train", str(args.max_train), "--seed", "0", "--quiet", "--out", str(out)]
                            + options)
            if code != 0:
                return code
        summary = json.loads((out / "summary.json").read_text())
        rows.append({"network": network, "rule": label, "final_test_loss": summary["final_test_loss"],
                     "initial_test_loss": summary["initial_test_loss"], "diverged": summary["diverged"] is not None,
                     "wall_seconds": round(summary["wall_seconds"], 1)})
    bp = {r["network"]: r["final_test_loss"] for r in rows if r["rule"] == "bp"}
    for r in rows:
        r["minus_bp"] = r["final_test_loss"] - bp[r["network"]]
    with open(HERE / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print("| network | rule | final test loss | minus BP |\n|---|---|---|---|")
    for r in rows:
        print(f"| {r['network']} | {r['rule']} | {r['final_test_loss']:.3f} | {r['minus_bp']:+.3f} |")
    _plot(rows, networks)
    return 0


def _plot(rows, networks) -> None:
    from recirc_analog.report.plots import plot_loss_curves

    for network in networks:
        mine = [r for r in rows if r["network"] == network]
        by = {r["rule"]: r["final_test_loss"] for r in mine}
        series = {
            "top = gradient (Sec. 7.3)": [by["rec m=1"]] + [by[f"rec m={m} top=gradient"] for m in CYCLES[1:]],
            "top = eq48 (Eq. 48)": [by["rec m=1"]] + [by[f"rec m={m} top=eq48"] for m in CYCLES[1:]],
            "BP": [by["bp"]] * len(CYCLES),
        }
        plot_loss_curves(HERE / f"top_layer_{network}.png", list(CYCLES), series, xlabel="m (cycles 0, m)",
                         ylabel="final test loss", logy=False,
                         title=f"MNIST 784-20-784 {network}: multi-cycle top layer")


if __name__ == "__main__":
    raise SystemExit(main())
