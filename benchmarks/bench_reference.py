"""Time per MNIST epoch of every reference learning rule, with PyTorch BP as the yardstick.

Run:  .venv/bin/python benchmarks/bench_reference.py [--data-dir ../shared/data] [--max-train N]
      [--repeats 5] [--rules bp,rbp,...] [--write]

For 784-20-784 (tanh, logistic) and 784-100-20-100-784 (tanh x3, logistic) it
trains one epoch per rule (minibatch 100, lr 0.01 / 0.001, no angle
diagnostics), and the same BP model in PyTorch on the CPU when torch is
installed: same initial weights, batches, loss and SGD, so both BP runs end at
the same test loss (printed as a check). Every contender runs once per round,
--repeats rounds; the table shows each one's fastest epoch and its ratio to
NumPy BP (the PyTorch row above 1: NumPy is faster), and the per-round
PyTorch / NumPy ratios. With --write the table is appended to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import functools
import os
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
    """The NumPy network's BP epoch in PyTorch: same initial weights, batches, loss and SGD."""
    try:
        import torch
    except ImportError:
        return None, None
    net = CircularAutoencoder.random(sizes, acts, seed=seed, data_mean=dataset.train_mean)
    layers = []
    for h in range(1, len(sizes)):
        linear = torch.nn.Linear(sizes[h - 1], sizes[h], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(net.weights[h - 1]))
            linear.bias.copy_(torch.from_numpy(net.biases[h - 1]))
        layers.append(linear)
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


def interleaved_runs(repeats, timers: dict) -> dict:
    """{name: [(seconds, loss), ...]}: ``repeats`` rounds that run every timer once each.

    Interleaving keeps a burst of load on this shared machine from landing on one contender only.
    """
    runs = {name: [] for name in timers}
    for _ in range(max(1, repeats)):
        for name, timer in timers.items():
            runs[name].append(timer())
    return runs


def fastest(runs: list) -> tuple:
    """The (seconds, loss) run with the fewest seconds (a missing contender's None stays None)."""
    return min(runs, key=lambda r: float("inf") if r[0] is None else r[0])


def blas() -> str:
    """NumPy's BLAS library, version, kernel family and threads (needs threadpoolctl, in the dev extras)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "BLAS unknown (pip install threadpoolctl)"
    for info in threadpool_info():
        if info.get("user_api") == "blas" and "numpy" in info.get("filepath", ""):
            forced = os.environ.get("OPENBLAS_CORETYPE")
            how = f"forced by OPENBLAS_CORETYPE={forced}" if forced else "detected"
            return (f"{info['internal_api']} {info['version']}, {info.get('architecture')} kernels ({how}), "
                    f"{info['num_threads']} threads")
    return "BLAS unknown"


def machine() -> str:
    try:
        model = next(line.split(":", 1)[1].strip() for line in
                     subprocess.run(["lscpu"], capture_output=True, text=True).stdout.splitlines()
                     if line.startswith("Model name"))
    except (StopIteration, OSError):
        model = platform.processor() or "unknown CPU"
    load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
    return (f"{model}, {os.cpu_count()} cores, Python {platform.python_version()}, "
            f"numpy {np.__version__} ({blas()}), OPENBLAS_NUM_THREADS="
            f"{os.environ.get('OPENBLAS_NUM_THREADS', 'unset')}, load average {load}")


def header() -> list[str]:
    """The opening lines of every result table: the machine and the exact command."""
    return [f"Machine: {machine()}", "", f"Command: `{' '.join([Path(sys.executable).name, *sys.argv])}`", ""]


def publish(lines: list[str], heading: str, write: bool) -> None:
    """Print the result lines; with ``write``, append them under ``heading`` to benchmarks/RESULTS.md."""
    text = "\n".join(lines)
    print(text)
    if write:
        with open(Path(__file__).with_name("RESULTS.md"), "a") as handle:
            handle.write(f"\n## {heading}\n\n{text}\n")


def replace_section(section: str, text: str) -> None:
    """Put ``text`` (starting with the heading line ``section``) into benchmarks/RESULTS.md: in place of
    the section with that heading up to the next ``## `` heading, or appended if there is none."""
    path = Path(__file__).with_name("RESULTS.md")
    old = path.read_text()
    start = old.find(section)
    if start < 0:
        path.write_text(old.rstrip("\n") + "\n\n" + text)
    else:
        end = old.find("\n## ", start + len(section))
        path.write_text(old[:start] + text + ("\n" + old[end + 1:] if end >= 0 else ""))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"),
                        help="folder with the MNIST IDX files (default ../shared/data)")
    parser.add_argument("--max-train", type=int, default=None, help="samples per epoch (default: all 60,000)")
    parser.add_argument("--repeats", type=int, default=5,
                        help="rounds; each contender's fastest epoch counts (default 5)")
    parser.add_argument("--rules", default=",".join(RULES),
                        help=f"comma-separated rules to time besides PyTorch BP; bp is always included "
                             f"(default {','.join(RULES)})")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    rules = ["bp"] + [r for r in args.rules.split(",") if r and r != "bp"]
    unknown = sorted(set(rules) - set(RULES))
    if unknown:
        parser.error(f"--rules: unknown {', '.join(unknown)}; choose from {', '.join(RULES)}")
    dataset = load_dataset("mnist", args.data_dir, max_train=args.max_train)
    lines = [*header(),
             "| network | rule | epoch (s) | / NumPy BP | test loss after 1 epoch |",
             "|---|---|---|---|---|"]
    agreement, per_round = [], []
    for arch, (sizes, acts, lr) in ARCHITECTURES.items():
        timers = {"torch": lambda: time_torch_epoch(sizes, acts, lr, dataset)}
        timers.update({rule: functools.partial(time_numpy_epoch, sizes, acts, lr, rule, dataset) for rule in rules})
        runs = interleaved_runs(args.repeats, timers)
        results = {name: fastest(r) for name, r in runs.items()}
        torch_s, torch_loss = results.pop("torch")
        bp_s, bp_loss = results["bp"]
        if torch_s is not None:
            lines.append(f"| {arch} | PyTorch BP (CPU) | {torch_s:.2f} | {torch_s / bp_s:.2f} | {torch_loss:.2f} |")
            agreement.append(f"{arch}: {abs(torch_loss - bp_loss) / bp_loss:.1e}")
            ratios = sorted(t[0] / b[0] for t, b in zip(runs["torch"], runs["bp"]))
            per_round.append(f"{arch}: {ratios[0]:.2f} / {ratios[len(ratios) // 2]:.2f} / {ratios[-1]:.2f}")
        for rule, (seconds, loss) in results.items():
            lines.append(f"| {arch} | {rule} | {seconds:.2f} | {seconds / bp_s:.2f} | {loss:.2f} |")
        print("\n".join(lines[-len(results) - (torch_s is not None):]), flush=True)
    if agreement:
        lines += ["", "PyTorch starts from the NumPy network's weights and sees the same batches; relative "
                  "difference of the two BP test losses after the epoch: " + "; ".join(agreement) + ".",
                  "", "PyTorch / NumPy BP epoch time in each round (min / median / max; above 1: NumPy "
                  "faster): " + "; ".join(per_round) + "."]
    publish(lines, "Reference: time per MNIST epoch", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
