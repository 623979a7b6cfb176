"""Time per MNIST epoch of every reference learning rule, with PyTorch BP as the yardstick.

Run:  .venv/bin/python benchmarks/bench_reference.py [--data-dir ../shared/data] [--epochs-samples 60000]

For 784-20-784 (tanh, logistic) and 784-100-20-100-784 (tanh x3, logistic)
it trains one epoch per rule (the fastest of --repeats runs) (minibatch 100, lr 0.01 / 0.001) without the
angle diagnostics, and the same BP model in PyTorch on the CPU when torch is
installed. Ratios are measured in the same run (the machines are shared and
noisy): NumPy BP / PyTorch BP, and each rule / NumPy BP. Prints a Markdown
table and, with --write, appends it to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import platform
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

from recirc_analog.data import load_dataset
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer

ARCHITECTURES = {
    "784-20-784": ((784, 20, 784), ("tanh", "logistic"), 0.01),
    "784-100-20-100-784": ((784, 100, 20, 100, 784), ("tanh", "tanh", "tanh", "logistic"), 0.001),
}
RULES = ("bp", "rbp", "srbp", "arbp", "top", "rec")


def time_numpy_epoch(sizes, acts, lr, rule_name, dataset, seed=0):
    net = CircularAutoencoder.random(sizes, acts, seed=seed, data_mean=dataset.train_mean)
    params = {"recirculation": Recirculation("pr")} if rule_name == "rec" else {}
    trainer = Trainer(net, get_rule(rule_name, **params),
                      TrainConfig(epochs=1, lr=lr, seed=seed, track_angles=False))
    start = time.perf_counter()
    for x in dataset.train_batches(100, np.random.default_rng(seed)):
        trainer.step(x)
    seconds = time.perf_counter() - start
    test = trainer.evaluate(dataset.test)
    return seconds, test


def time_torch_epoch(sizes, acts, lr, dataset, seed=0):
    try:
        import torch
    except ImportError:
        return None, None
    torch.manual_seed(seed)
    layers = []
    for h in range(1, len(sizes)):
        layers.append(torch.nn.Linear(sizes[h - 1], sizes[h], dtype=torch.float64))
        layers.append(torch.nn.Tanh() if acts[h - 1] == "tanh" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers[:-1])  # logits; BCE-with-logits matches the reference loss
    optimiser = torch.optim.SGD(model.parameters(), lr=lr)
    loss_fn = torch.nn.BCEWithLogitsLoss(reduction="sum")
    start = time.perf_counter()
    for x in dataset.train_batches(100, np.random.default_rng(seed)):
        xt = torch.from_numpy(x)
        optimiser.zero_grad()
        loss = loss_fn(model(xt), xt) / len(x)
        loss.backward()
        optimiser.step()
    seconds = time.perf_counter() - start
    with torch.no_grad():
        xt = torch.from_numpy(dataset.test)
        test = float(loss_fn(model(xt), xt)) / len(xt)
    return seconds, test


def fastest(repeats, timer, *args):
    """(fastest seconds, loss) over ``repeats`` runs; interleaving with other load only slows runs down."""
    runs = [timer(*args) for _ in range(max(1, repeats))]
    return min(runs, key=lambda r: float("inf") if r[0] is None else r[0])


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                     if line.startswith("Model name"))
    except (StopIteration, OSError):
        model = platform.processor() or "unknown CPU"
    import os
    return f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, numpy {np.__version__}"


def publish(lines: list[str], heading: str, write: bool) -> None:
    """Print the result lines; with ``write``, append them under ``heading`` to benchmarks/RESULTS.md."""
    text = "\n".join(lines)
    print(text)
    if write:
        with open(Path(__file__).with_name("RESULTS.md"), "a") as handle:
            handle.write(f"\n## {heading}\n\n{text}\n")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--max-train", type=int, default=None, help="samples per epoch (default: all 60,000)")
    parser.add_argument("--repeats", type=int, default=3, help="take the fastest of this many epochs (default 3)")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    dataset = load_dataset("mnist", args.data_dir, max_train=args.max_train)
    lines = [f"Machine: {machine()}", "",
             f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`", "",
             "| network | rule | epoch (s) | / NumPy BP | test loss after 1 epoch |",
             "|---|---|---|---|---|"]
    for arch, (sizes, acts, lr) in ARCHITECTURES.items():
        torch_s, torch_loss = fastest(args.repeats, time_torch_epoch, sizes, acts, lr, dataset)
        results = {rule: fastest(args.repeats, time_numpy_epoch, sizes, acts, lr, rule, dataset) for rule in RULES}
        bp_s = results["bp"][0]
        if torch_s is not None:
            lines.append(f"| {arch} | PyTorch BP (CPU) | {torch_s:.2f} | {torch_s / bp_s:.2f} | {torch_loss:.2f} |")
        for rule, (seconds, loss) in results.items():
            lines.append(f"| {arch} | {rule} | {seconds:.2f} | {seconds / bp_s:.2f} | {loss:.2f} |")
        print("\n".join(lines[-len(results) - (torch_s is not None):]), flush=True)
    publish(lines, "Reference: time per MNIST epoch", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
