"""Time per MNIST epoch of the co-simulation at 784-20-784 for each engine (issue 10).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_epoch.py [--data-dir ../shared/data]
      [--batches 20] [--ngspice-batches 3] [--write]

Each co-simulation contender is the real ``recirc-analog cosim`` command (REC-PR, MNIST
784-20-784, tanh/logistic, minibatch 100, lr 0.05, dc form) run for K minibatches in a fresh
folder; its metrics.csv ``seconds`` column (the wall time of one whole minibatch step: circuit
build, engine, controller readings and programming, and the NumPy reference stepping alongside;
checkpoints, start-up and the final test are outside it) is averaged over batches 2..K (the first
pays one-off set-up) and scaled to the 600 minibatches of an MNIST epoch. Contenders:

- ngspice: ``--engine batch`` (ngspice -b), ideal wires, a few batches only (it is slow);
- direct, ideal wires;
- direct, 1-ohm wires (``--r-wire 1``) in 128-row tiles (``--tile 128``);
- the floor: the NumPy reference's own REC-PR training step on the same network and batches,
  timed in process.

The machine is shared: each contender's CPU share (CPU seconds of the command and its children
over its wall time) is printed, and wall x share estimates the time on an unloaded core.

Then the same steps in process (``LockStep.step``), timed in CPU seconds of the process and its
ngspice children: what one unloaded core would take, which the shared machine's wall time hides.
Each in-process step also times the NumPy reference's own step that ``LockStep`` runs inside it,
so "this / reference step (same steps)" is a ratio of two times taken side by side, minibatch by
minibatch (the load of a shared machine moves both alike); the separate reference loop gives the
ratio of the earlier tables.

``--in-process-only`` skips the ``cosim`` commands (the first table); ``--breakdown`` adds where
the CPU time of the direct engine's step (ideal wires) goes, part by part (issue 10).

With --write the tables replace the section "Time per MNIST epoch by engine (issue 10)" of
benchmarks/RESULTS.md. One process at a time; the
machine's load average is printed in the header because other jobs share it.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recirc_analog.data import load_dataset
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, replace_section  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SIZES = "784,20,784"
ACTS = "tanh,logistic"
LR = 0.05
EPOCH_BATCHES = 600






def time_cosim(data_dir: str, batches: int, extra: list[str]) -> dict:
    """Seconds per minibatch of ``recirc-analog cosim`` (mean over batches 2..K) and the wall time."""
    cli = Path(sys.executable).with_name("recirc-analog")
    with tempfile.TemporaryDirectory() as folder:
        out = Path(folder) / "run"
        command = [str(cli), "cosim", "--mode", "pr", "--sizes", SIZES, "--act", ACTS, "--data", "mnist",
                   "--data-dir", data_dir, "--batch-size", "100", "--lr", str(LR), "--batches", str(batches),
                   "--test-samples", "100", "--out", str(out), "--quiet", *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        start = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True, text=True,
                       env=dict(os.environ, OPENBLAS_NUM_THREADS="1"))
        wall = time.perf_counter() - start
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
        with open(out / "metrics.csv") as handle:
            rows = list(csv.DictReader(handle))
    seconds = [float(row["seconds"]) for row in rows]
    steady = seconds[1:] if len(seconds) > 1 else seconds
    return {"per_batch": float(np.mean(steady)), "first": seconds[0], "batches": len(seconds), "wall": wall,
            "cpu_share": min(1.0, cpu / wall),
            "engine": float(np.mean([float(row["ngspice_seconds"]) for row in rows[1:] or rows])),
            "build": float(np.mean([float(row["netlist_seconds"]) for row in rows[1:] or rows]))}


def cpu_seconds() -> float:
    """CPU seconds of this process and its finished children (ngspice)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def time_lockstep(data_dir: str, batches: int, engine: str, crossbar: dict) -> dict:
    """CPU and wall seconds of ``LockStep.step`` (the co-simulation step and the reference's beside it,
    as ``cosim`` runs them) in this process, batches 2..K, on MNIST minibatches of 100; ``reference``:
    CPU seconds of the reference's own step inside those same steps."""
    from recirc_analog.cosim.lockstep import CosimConfig, LockStep
    from recirc_analog.devices import DeviceConfig
    from recirc_analog.engines import get_engine
    from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

    dataset = load_dataset("mnist", data_dir=data_dir)
    config = CosimConfig(sizes=tuple(int(n) for n in SIZES.split(",")), activations=tuple(ACTS.split(",")),
                         data="mnist", lr=LR, engine=engine)
    spec = CircuitSpec(recirculation=Recirculation("pr"), crossbar=CrossbarConfig(**crossbar))
    with get_engine(engine) as circuit_engine:
        lockstep = LockStep.create(config, spec, DeviceConfig(), circuit_engine, dataset.train_mean)
        inner = []
        lockstep.reference.step = _timed(lockstep.reference.step, inner)    # this instance only
        cpu, wall = [], []
        for index, x in enumerate(dataset.train_batches(100, np.random.default_rng(0))):
            if index >= batches:
                break
            tick, tock = time.perf_counter(), cpu_seconds()
            lockstep.step(x, f"batch {index}")
            wall.append(time.perf_counter() - tick)
            cpu.append(cpu_seconds() - tock)
    return {"cpu": float(np.mean(cpu[1:])), "wall": float(np.mean(wall[1:])), "batches": len(cpu),
            "reference": float(np.mean(inner[1:]))}


def _timed(function, seconds: list):
    """``function`` that appends the process CPU seconds of each call to ``seconds``."""
    def timed(*args, **kwargs):
        tock = time.process_time()
        try:
            return function(*args, **kwargs)
        finally:
            seconds.append(time.process_time() - tock)
    return timed


BREAKDOWN = (   # (label, module, owner or None, attribute): the parts of one direct-engine step
    ("rebind the circuit (all of it)", "recirc_analog.cosim.controller", None, "rebind_circuit"),
    ("- voltage budget (a forward pass of the network)", "recirc_analog.schematic.builder", None, "plan"),
    ("- input tables", "recirc_analog.schematic.builder", None, "input_tables"),
    ("- tiles", "recirc_analog.schematic.builder", None, "_rebound_tiles"),
    ("direct engine (all of it)", "recirc_analog.engines.direct", "DirectEngine", "readings"),
    ("- compiled plan: run", "recirc_analog.engines.direct", "_Plan", "run"),
    ("- compiled plan: structure check", "recirc_analog.engines.direct", "_Plan", "matches"),
    ("- read-out", "recirc_analog.engines.direct", None, "_store_readings"),
    ("losses (the circuit's, and the reference's inside its step)", "recirc_analog.reference.losses",
     "ReconstructionLoss", "value"),
    ("local rule (reference arithmetic)", "recirc_analog.cosim.local_rule", "RecirculationLocalRule", "directions"),
    ("program the devices", "recirc_analog.cosim.crossbar_state", "CrossbarState", "apply"),
    ("NumPy reference step (inside the step)", "recirc_analog.reference.training", "Trainer", "step"),
    ("weights for the comparison", "recirc_analog.cosim.controller", "CosimController", "weights"),
)


def step_breakdown(data_dir: str, batches: int) -> list[str]:
    """Table lines: CPU ms per minibatch of each part of the direct engine's step (ideal wires), batches
    2..K, each part timed by wrapping its function for this measurement (restored afterwards); parts
    this checkout does not have are left out."""
    import importlib

    seconds, restore = {}, []
    for label, module_name, owner_name, attribute in BREAKDOWN:
        module = importlib.import_module(module_name)
        owner = module if owner_name is None else getattr(module, owner_name, None)
        if owner is None or not hasattr(owner, attribute):
            continue
        original = getattr(owner, attribute)
        seconds[label] = []
        restore.append((owner, attribute, original))
        setattr(owner, attribute, _timed(original, seconds[label]))
    try:
        total = time_lockstep(data_dir, batches, "direct", {})
    finally:
        for owner, attribute, original in reversed(restore):
            setattr(owner, attribute, original)
    steps = total["batches"]
    lines = [f"Where the CPU time of one direct-engine step goes (784-20-784, ideal wires; batches 2..{steps}, "
             f"mean; each part timed by wrapping its function, which adds a little to the total):", "",
             "| part | CPU ms / minibatch | share of the step |", "|---|---:|---:|",
             f"| whole step (`LockStep.step`) | {total['cpu'] * 1e3:.2f} | 100% |"]
    for label, values in seconds.items():
        per = sum(values[len(values) // steps:]) / (steps - 1)    # calls of batches 2..K
        lines.append(f"| {label} | {per * 1e3:.2f} | {per / total['cpu']:.0%} |")
    return lines


def time_reference(data_dir: str, batches: int) -> dict:
    """Seconds per minibatch of the NumPy reference's REC-PR step (the arithmetic floor)."""
    dataset = load_dataset("mnist", data_dir=data_dir)
    sizes = tuple(int(n) for n in SIZES.split(","))
    net = CircularAutoencoder.random(sizes, tuple(ACTS.split(",")), seed=0, data_mean=dataset.train_mean)
    trainer = Trainer(net, get_rule("rec", recirculation=Recirculation("pr")),
                      TrainConfig(epochs=1, lr=LR, seed=0, track_angles=False))
    seconds, cpu = [], []
    for index, x in enumerate(dataset.train_batches(100, np.random.default_rng(0))):
        if index >= batches:
            break
        tick, tock = time.perf_counter(), time.process_time()
        trainer.step(x)
        seconds.append(time.perf_counter() - tick)
        cpu.append(time.process_time() - tock)
    return {"per_batch": float(np.mean(seconds[1:])), "first": seconds[0], "batches": len(seconds),
            "wall": float(sum(seconds)), "cpu_share": min(1.0, sum(cpu[1:]) / sum(seconds[1:])),
            "engine": float("nan"), "build": float("nan"), "cpu": float(np.mean(cpu[1:]))}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default_data = os.environ.get("RECIRC_ANALOG_DATA", str(ROOT.parent / "shared" / "data"))
    parser.add_argument("--data-dir", default=default_data)
    parser.add_argument("--batches", type=int, default=20, help="minibatches per direct-engine run (default 20)")
    parser.add_argument("--ngspice-batches", type=int, default=3, help="minibatches of the ngspice run (default 3)")
    parser.add_argument("--reference-batches", type=int, default=200,
                        help="minibatches of the reference timing (default 200)")
    parser.add_argument("--in-process-only", action="store_true",
                        help="skip the cosim commands (first table); time the steps in this process only")
    parser.add_argument("--skip-ngspice", action="store_true",
                        help="with --in-process-only: leave ngspice out (its column then shows -)")
    parser.add_argument("--breakdown", action="store_true",
                        help="also list where the direct engine's step spends its CPU time, part by part")
    parser.add_argument("--write", action="store_true", help="replace the section in benchmarks/RESULTS.md")
    args = parser.parse_args()

    lines = header()
    print("\n".join(lines), flush=True)
    contenders = [
        ("ngspice (`--engine batch`), ideal wires", "cosim", args.ngspice_batches, ["--engine", "batch"]),
        ("direct, ideal wires", "cosim", args.batches, ["--engine", "direct"]),
        ("direct, 1-ohm wires, 128-row tiles", "cosim", args.batches,
         ["--engine", "direct", "--r-wire", "1", "--tile", "128"]),
        ("direct, 1-ohm wires, 64-row tiles", "cosim", args.batches,
         ["--engine", "direct", "--r-wire", "1", "--tile", "64"]),
        ("NumPy reference REC-PR step (floor)", "reference", args.reference_batches, []),
    ]
    if args.in_process_only:
        contenders = contenders[-1:]
    results = {}
    for name, kind, batches, extra in contenders:
        result = (time_cosim(args.data_dir, batches, extra) if kind == "cosim"
                  else time_reference(args.data_dir, batches))
        results[name] = result
        print(f"{name}: {result['per_batch']:.4f} s/batch over batches 2..{result['batches']} "
              f"(first {result['first']:.3f} s; engine {result['engine']:.3f} s, build {result['build']:.3f} s; "
              f"load {os.getloadavg()[0]:.2f})", flush=True)

    ngspice = results[contenders[0][0]]["per_batch"] if not args.in_process_only else float("nan")
    reference = results[contenders[-1][0]]["per_batch"]
    table = ["| contender | minibatches timed | wall s / minibatch | samples/s | est. wall s / MNIST epoch "
             "(600 minibatches) | CPU share of the run | est. one-core s / MNIST epoch (wall x CPU share) "
             "| engine s / minibatch | circuit build s / minibatch | ngspice / this (wall) | "
             "this / reference step (wall) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for name, result in results.items():
        per = result["per_batch"]
        engine = "" if np.isnan(result["engine"]) else f"{result['engine']:.3f}"
        build = "" if np.isnan(result["build"]) else f"{result['build']:.3f}"
        table.append(f"| {name} | {result['batches'] - 1} | {per:.4f} | {100 / per:,.0f} | "
                     f"{per * EPOCH_BATCHES:,.0f} | {result['cpu_share']:.2f} | "
                     f"{per * result['cpu_share'] * EPOCH_BATCHES:,.0f} | {engine} | {build} | "
                     f"{ngspice / per:,.1f} | {per / reference:,.1f} |")
    if not args.in_process_only:
        lines += table
        print("\n".join(table))
    # The same steps in this process, CPU time per step: what one unloaded core would take.
    floor = results[contenders[-1][0]]["cpu"]
    steps = ["", f"In process (`LockStep.step`, the co-simulation step with the reference step beside it, as "
             f"`cosim` runs it; batches 2..{args.batches}), CPU seconds per minibatch; the reference's own "
             f"REC-PR step takes {floor * 1e3:.2f} ms CPU:", "",
             "| contender | CPU ms / minibatch | wall ms / minibatch | samples/s (CPU) | one-core s / MNIST epoch "
             "(600 x CPU) | this / reference step (CPU) | reference step inside it (CPU ms) | this / reference "
             "step (CPU, same steps) | ngspice / this (CPU) |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    in_process = [("ngspice (`batch`), ideal wires", args.ngspice_batches, "batch", {}),
                  ("direct, ideal wires", args.batches, "direct", {}),
                  ("direct, 1-ohm wires, 128-row tiles", args.batches, "direct",
                   dict(r_row=1.0, r_col=1.0, tile_rows=128, tile_neurons=128)),
                  ("direct, 1-ohm wires, 64-row tiles", args.batches, "direct",
                   dict(r_row=1.0, r_col=1.0, tile_rows=64, tile_neurons=64))]
    if args.in_process_only and args.skip_ngspice:
        in_process = in_process[1:]
    measured = {}
    for name, batches, engine, crossbar in in_process:
        measured[name] = time_lockstep(args.data_dir, batches, engine, crossbar)
    ngspice_cpu = measured[in_process[0][0]]["cpu"] if in_process[0][2] == "batch" else float("nan")
    for name, result in measured.items():
        steps.append(f"| {name} | {result['cpu'] * 1e3:,.1f} | {result['wall'] * 1e3:,.1f} | "
                     f"{100 / result['cpu']:,.0f} | {result['cpu'] * EPOCH_BATCHES:,.1f} | "
                     f"{result['cpu'] / floor:,.1f} | {result['reference'] * 1e3:,.2f} | "
                     f"{result['cpu'] / result['reference']:,.1f} | "
                     + (f"{ngspice_cpu / result['cpu']:,.0f} |" if np.isfinite(ngspice_cpu) else "- |"))
    lines += steps
    print("\n".join(steps))
    if args.breakdown:
        parts = ["", *step_breakdown(args.data_dir, args.batches)]
        lines += parts
        print("\n".join(parts))
    if args.write:
        section = "## Time per MNIST epoch by engine (issue 10)"
        load = f"Load average at the end: {', '.join(f'{v:.2f}' for v in os.getloadavg())}"
        text = "\n".join([section, "", *lines, "", load]) + "\n"
        replace_section(section, text)


if __name__ == "__main__":
    main()
