"""Netlist generation time / size and ngspice time per sample for both forms.

Usage: .venv/bin/python benchmarks/bench_netlist.py [--batch B] [--repeat R] [--sizes 784-20-784 ...]
                                                    [--out benchmarks/RESULTS_netlist.md]

For each case (64-16-64, 784-20-784, 784-100-20-100-784 with differential pairs,
and 784-20-784 with the shared reference column; tanh, PR, ideal neurons, cycles 0
and 1) it builds the netlist for B random samples, times generation, runs
``ngspice -b`` once per form on one core and reports ngspice's own "Total analysis
time" divided by B (the best of R runs), the sample-marginal cost (from a second
run with B/4 samples), ngspice's Newton iterations per sample and the largest
error against the NumPy reference.
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

from recirc_analog.engines.readout import read_activity
from recirc_analog.netlist_writers.api import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, ideal_sample_hold

CASES = (((64, 16, 64), "differential"), ((784, 20, 784), "differential"), ((784, 20, 784), "shared_reference"),
         ((784, 100, 20, 100, 784), "differential"))
"""(sizes, weight mapping) of each benchmarked network; both forms of each."""

NOTES = """## Before / after (issue 3: dc form at 784-20-784 <= 30 ms per sample)

ms per sample at batch 100, ngspice analysis time, the previous tree (commit 0acba50:
devices listed column by column, two tia_ideal + a two-input activation per neuron)
against this one, run alternately in one session (two rounds). The host is shared:
the same netlist's time varies by up to +-25 % from run to run and hour to hour (the
table above was measured in a busier hour), so compare rows measured together.

| case | before | after |
|---|---|---|
| 64-16-64 dc / tran | 1.22 / 1.83 | 1.11 / 1.66 |
| 784-20-784 differential dc | 86.6, 87.0 | 60.6, 50.0 |
| 784-20-784 differential tran | 88.7, 67.1 | 70.2, 72.6 |
| 784-20-784 shared_reference dc | 34.0, 33.4 | 26.7, 25.4 |
| 784-20-784 shared_reference tran | 43.5, 43.6 | 43.3, 34.1 |
| 784-100-20-100-784 dc / tran | 1591 / 3102 | 1051 / 2113 |

What each idea gave (784-20-784 dc, batch 100; median ratio of paired runs of edited
netlists, 5-8 pairs each):

- Devices written row line by row line instead of column by column (netlist writer):
  0.75-0.80. ngspice allocates matrix entries in netlist order; the matrix load and
  the LU factorisation both get faster. Tile sizes 400x400 / 256x20 / 32x16: 1.00 /
  1.00 / 1.10.
- One pre-activation node per neuron (tia_pair / tia_ref: ammeters, current mirrors
  into r_f) read by a one-variable activation (act1_<f>): 0.87-0.95 on top (matrix
  load -11 %). Behavioural-source evaluation is ~10 % of the time and grows with
  the number of controlling variables: the old two-input activation with one input
  tied to ground was 1.2x slower than act1_<f>.
- One behavioural source per neuron reading both ammeter currents (TIA and activation
  fused, no TIA nodes): 0.99-1.03, no gain (two controlling variables).
- shared_reference mapping (half the devices and matrix entries): 0.40-0.45 of the
  differential time, with the old cells and with the new ones.
- `.options`: default pivoting instead of pivtol=1e-30 pivrel=1e-14 and rshunt=1e15:
  0.97 / 0.94 (noise); reltol 1e-3 / 1e-4 / 1e-5 (batch 40): 4.65 / 4.93 / 5.08
  iterations per sample instead of 5.2, but errors 1.1e-5 / 1.2e-6 / 2.9e-7 instead
  of 6.7e-8, so reltol stays 1e-6; .nodeset acts on the first point only; KLU is not
  in this ngspice build.

Why 5 Newton iterations per sample: the unrolled PR net is a cascade of four tanh
stages (2 layers x 2 cycles). A stage's linearisation is exact only one iteration
after its input became exact (the pwl input tables are exact from the first
iteration: the slope used at the previous sample leads to the next one), so the last
stage is exact at iteration 4-5; ngspice needs one more iteration to see convergence
and records the iterate before the last one, whose error is bounded by reltol x v:
hence reltol 1e-6. This is the minimum for this structure (5.03 measured).

Where the time goes (perf, 784-20-784 differential dc): resistor stamping 30 %,
sparse LU factor 22 %, solve 10 %, matrix clear 7 %, behavioural sources 7 %. It is
memory bound: 128k resistor instances (~300 bytes each) and 280k matrix entries
(~50 MB) are streamed every iteration; one unrolled copy (~25 MB) fits the 32 MB L3,
two do not (3.6 ms per iteration for one copy, 11 ms for two).

Floor: with differential pairs the dc form needs ~5 iterations x ~10 ms = 45-55 ms
per sample on this machine (ngspice 39), so 30 ms is not reachable in that form.
It is reached (1) with the shared_reference mapping (25 ms; the co-simulation tracks
the reference with it too: 50 PR updates at 64-16-64, largest relative weight
difference 2e-15 dc / 9e-10 tran), or (2) with one ngspice analysis per cycle,
cycle k's input table being cycle k-1's outputs read back (two runs per batch, a
controller change): with the cycle-1 copy deleted from the netlist one cycle costs
14.3 ms (differential) / 5.7 ms (shared_reference) per sample, i.e. ~29 / ~12 ms for
both cycles.

784-100-20-100-784: ngspice's one-time matrix ordering (row and column exchanges)
took 34 s before and 7-9 s now (4-sample dc run, `.options acct`); at batch 100 it
is still ~80 ms of the ~1050 ms per sample. The shared library engine pays it once
per loaded circuit.
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


def simulate(text: str, workdir: Path) -> tuple[float, int, dict]:
    """ngspice's analysis time (s), its Newton iterations and the vectors."""
    netlist, raw = workdir / "bench.cir", workdir / "bench.raw"
    netlist.write_text(text.replace("\n.options ", "\n.options acct ", 1))
    result = subprocess.run(["taskset", "-c", "0", "ngspice", "-b", "-r", str(raw), str(netlist)],
                            capture_output=True, text=True, check=True)
    output = result.stdout + result.stderr
    seconds = float(re.findall(r"Total analysis time \(seconds\) = ([0-9.]+)", output)[-1])
    iterations = int(re.findall(r"Total iterations = ([0-9]+)", output)[-1])
    return seconds, iterations, read_raw(raw)


def bench_one(sizes, mapping, form, batch, repeat, workdir):
    net = CircularAutoencoder.random(sizes, ("tanh",) * (len(sizes) - 1), seed=0)
    rng = np.random.default_rng(0)
    spec = CircuitSpec(form=form, sample_hold=ideal_sample_hold(), crossbar=CrossbarConfig(mapping=mapping))
    row = {"sizes": "-".join(map(str, sizes)), "mapping": mapping, "form": form, "batch": batch}
    analysis = {}
    for b in (batch, max(batch // 4, 1)):
        x = rng.uniform(0, 1, size=(b, sizes[0]))
        start = time.perf_counter()
        circuit = build_circuit(net, spec, x)
        text = get_writer().get_netlist(circuit)
        if b == batch:
            row["generate_s"] = time.perf_counter() - start
            row["netlist_MB"] = len(text) / 1e6
        runs = [simulate(text, workdir) for _ in range(repeat)]
        analysis[b], iterations, vectors = min(runs, key=lambda run: run[0])
        if b == batch:
            row["iterations_per_sample"] = iterations / batch
            expected = run_cycles(net, x, spec.recirculation)
            row["max_error"] = max(np.abs(read_activity(vectors, circuit.node_map, h, k) - expected[k][h]).max()
                                   for k in (0, 1) for h in range(len(sizes)))
    small = max(batch // 4, 1)
    row["ms_per_sample"] = 1e3 * analysis[batch] / batch
    row["marginal_ms_per_sample"] = 1e3 * (analysis[batch] - analysis[small]) / (batch - small)
    return row


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=1, help="runs per netlist; the fastest counts")
    parser.add_argument("--sizes", nargs="*", help="only these networks, e.g. 784-20-784")
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_netlist.md")))
    args = parser.parse_args(argv)
    command = " ".join(sys.argv[1:] if argv is None else argv)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for sizes, mapping in CASES:
            if args.sizes and "-".join(map(str, sizes)) not in args.sizes:
                continue
            for form in ("dc", "tran"):
                rows.append(bench_one(sizes, mapping, form, args.batch, args.repeat, Path(tmp)))
                print(rows[-1], flush=True)
    keys = ["sizes", "mapping", "form", "batch", "generate_s", "netlist_MB", "ms_per_sample",
            "marginal_ms_per_sample", "iterations_per_sample", "max_error"]
    table = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for row in rows:
        table.append("| " + " | ".join(f"{row[k]:.3g}" if isinstance(row[k], float) else str(row[k])
                                       for k in keys) + " |")
    version = subprocess.run(["ngspice", "-v"], capture_output=True, text=True).stdout
    version = next((line.strip("* ") for line in version.splitlines() if "ngspice-" in line), "ngspice")
    text = "\n".join([
        "# Netlist benchmark", "",
        f"Command: `.venv/bin/python benchmarks/bench_netlist.py {command}`", "",
        f"Machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
        f"Python {platform.python_version()}, {version}; ngspice pinned to one core (taskset -c 0).", "",
        "Net: tanh everywhere, PR, cycles 0 and 1, ideal neurons, reltol 1e-6, vntol 1e-10 V.",
        f"ms_per_sample = ngspice analysis time / batch (both phases; best of {args.repeat});",
        "marginal = (T(batch) - T(batch/4)) / (3 batch / 4), without the per-run setup;",
        "iterations_per_sample = ngspice's Newton iterations / batch.", "",
        *table, "", NOTES])
    Path(args.out).write_text(text)
    print(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
