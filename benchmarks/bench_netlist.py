"""Netlist generation time / size and ngspice time per sample for both forms.

Usage: .venv/bin/python benchmarks/bench_netlist.py [--batch B] [--out benchmarks/RESULTS_netlist.md]

For each size (64-16-64, 784-20-784, 784-100-20-100-784; tanh, PR, differential
pairs, ideal neurons, cycles 0 and 1) it builds the netlist for B random samples,
times generation, runs ``ngspice -b`` once per form on one core and reports
ngspice's own "Total analysis time" divided by B, the sample-marginal cost
(from a second run with B/4 samples) and the largest error against the NumPy
reference.
"""

import argparse
import os
import platform
import re
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from recirc_analog.circuit.builder import build_circuit
from recirc_analog.circuit.config import CircuitSpec, ideal_sample_hold
from recirc_analog.netlist.api import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles

SIZES = ((64, 16, 64), (784, 20, 784), (784, 100, 20, 100, 784))

NOTES = """Notes: at 784-100-20-100-784 ngspice's one-time matrix reorder dominates (`.options acct`
on a 4-sample dc run: reorder 20.8 s, load 2.0 s, factor 1.3 s, 27 iterations), so
per-sample numbers at batch 40 are not meaningful (the marginal is noise). At 784-20-784
the dc form takes ~5 Newton iterations per sample (tanh, reltol 1e-6) at ~9 ms of matrix
load each (128k resistors in two unrolled copies); targets (<= 30 ms dc, tran <= 2x dc)
are met for the tran/dc ratio, not for the absolute dc time.
"""


def read_raw(path: Path) -> dict:
    """Vectors of a binary ngspice raw file."""
    data = path.read_bytes()
    start = data.index(b"Binary:\n")
    lines = data[:start].decode().splitlines()
    n_vars = int(next(line for line in lines if line.startswith("No. Variables:")).split(":")[1])
    n_points = int(next(line for line in lines if line.startswith("No. Points:")).split(":")[1])
    first = lines.index("Variables:") + 1
    names = [lines[first + k].split()[1] for k in range(n_vars)]
    table = np.frombuffer(data, "<f8", n_vars * n_points, start + 8).reshape(n_points, n_vars)
    return {name: table[:, k] for k, name in enumerate(names)}


def simulate(text: str, workdir: Path) -> tuple[float, dict]:
    """ngspice's analysis time (s) and the vectors."""
    netlist, raw = workdir / "bench.cir", workdir / "bench.raw"
    netlist.write_text(text)
    result = subprocess.run(["taskset", "-c", "0", "ngspice", "-b", "-r", str(raw), str(netlist)],
                            capture_output=True, text=True, check=True)
    seconds = float(re.findall(r"Total analysis time \(seconds\) = ([0-9.]+)", result.stdout + result.stderr)[-1])
    return seconds, read_raw(raw)


def bench_one(sizes, form, batch, workdir):
    net = CircularAutoencoder.random(sizes, ("tanh",) * (len(sizes) - 1), seed=0)
    rng = np.random.default_rng(0)
    spec = CircuitSpec(form=form, sample_hold=ideal_sample_hold())
    row = {"sizes": "-".join(map(str, sizes)), "form": form, "batch": batch}
    analysis = {}
    for b in (batch, max(batch // 4, 1)):
        x = rng.uniform(0, 1, size=(b, sizes[0]))
        start = time.perf_counter()
        circuit = build_circuit(net, spec, x)
        text = get_writer().get_netlist(circuit)
        if b == batch:
            row["generate_s"] = time.perf_counter() - start
            row["netlist_MB"] = len(text) / 1e6
        analysis[b], vectors = simulate(text, workdir)
        if b == batch:
            expected = run_cycles(net, x, spec.recirculation)
            row["max_error"] = max(np.abs(circuit.node_map.read_activity(vectors, h, k) - expected[k][h]).max()
                                   for k in (0, 1) for h in range(len(sizes)))
    small = max(batch // 4, 1)
    row["ms_per_sample"] = 1e3 * analysis[batch] / batch
    row["marginal_ms_per_sample"] = 1e3 * (analysis[batch] - analysis[small]) / (batch - small)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=40)
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_netlist.md")))
    args = parser.parse_args(argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sizes in SIZES:
            for form in ("dc", "tran"):
                rows.append(bench_one(sizes, form, args.batch, Path(tmp)))
                print(rows[-1], flush=True)
    keys = ["sizes", "form", "batch", "generate_s", "netlist_MB", "ms_per_sample", "marginal_ms_per_sample",
            "max_error"]
    table = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        table.append("| " + " | ".join(f"{row[k]:.3g}" if isinstance(row[k], float) else str(row[k])
                                       for k in keys) + " |")
    version = subprocess.run(["ngspice", "-v"], capture_output=True, text=True).stdout
    version = next((line.strip("* ") for line in version.splitlines() if "ngspice-" in line), "ngspice")
    text = "\n".join([
        "# Netlist benchmark", "",
        f"Command: `.venv/bin/python benchmarks/bench_netlist.py --batch {args.batch}`", "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {version}; ngspice pinned to one core (taskset -c 0).", "",
        "Net: tanh everywhere, PR, cycles 0 and 1, differential pairs, ideal neurons, reltol 1e-6,",
        "vntol 1e-10 V. ms_per_sample = ngspice analysis time / batch (both phases);",
        "marginal = (T(batch) - T(batch/4)) / (3 batch / 4), without the per-run setup.", "",
        *table, "", NOTES])
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
