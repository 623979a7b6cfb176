"""ngspice time per sample, one analysis per cycle or per layer read against the unrolled netlist (issue 10).

Run:  .venv/bin/python benchmarks/bench_ngspice_cycles.py [--sizes 784-20-784] [--batch 100] [--repeats 3]
                                                          [--mapping differential] [--profile] [--write]

One circuit (tanh everywhere, PR, cycles 0 and 1 = both phases, ideal neurons and wires, random
Glorot weights, inputs uniform in [0, 1)) of a ``--batch``-sample minibatch is simulated by the
batch engine (``ngspice -b`` per analysis) and the shared engine (libngspice in this process), each
with ``cycle_mode`` ``unrolled`` (all cycles' copies, one analysis), ``per-cycle`` (one analysis
per cycle, the earlier cycle's outputs read back) and ``per-layer`` (one analysis per layer read,
and one for the activations of a read cut from them: ``schematic.dc_cycles.SPLIT_FAN_IN``).
The contenders run interleaved round by round, so all see the same machine load. Per
contender: ngspice's own analysis time per sample (``Total analysis time``, summed over the
analyses), the wall time per sample of ``engine.readings`` (netlist text written, simulated,
vectors read) and its CPU time per sample (this process and the ngspice processes it waited
for: on a shared machine less inflated by other jobs than the wall time), median and fastest
of the rounds; the ratio of the medians to the unrolled one's; the largest relative difference
of any mode's readings from the unrolled ones. ``--profile`` adds ngspice's own accounting
(``.options acct``: Newton iterations, matrix load / factor / solve time) of each analysis,
run once with ``ngspice -b``, and its CPU time with and without the analysis line (start,
parse and set-up against the analysis itself).
With ``--write`` the tables are appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from tqdm import tqdm

from recirc_analog.engines import get_engine
from recirc_analog.engines.circuit_run import per_cycle_vectors
from recirc_analog.engines.direct import audit_deviation
from recirc_analog.engines.locate import find_ngspice
from recirc_analog.netlist_writers import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.dc_cycles import plan_stages, stage_circuit
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, publish  # noqa: E402

TARGET_MS = 30.0
"""Issue 10's target: both phases of 784-20-784 with differential pairs in <= 30 ms per sample."""
MODES = ("unrolled", "per-cycle", "per-layer")
ACCOUNTING = ("Total iterations", "Total analysis time", "Matrix load time", "Matrix factor time",
              "Matrix solve time", "Matrix reorder time")


def make_circuit(sizes, batch: int, mapping: str, seed: int = 0):
    net = CircularAutoencoder.random(sizes, ("tanh",) * (len(sizes) - 1), seed=seed)
    spec = CircuitSpec(recirculation=Recirculation("pr"), crossbar=CrossbarConfig(mapping=mapping))
    x = np.random.default_rng(seed + 1).uniform(0, 1, (batch, sizes[0]))
    return build_circuit(net, spec, x), spec.recirculation.cycles


def cpu_seconds() -> float:
    """CPU time (user + system, s) of this process and its finished children (the ngspice processes)."""
    return sum(r.ru_utime + r.ru_stime for r in (resource.getrusage(resource.RUSAGE_SELF),
                                                  resource.getrusage(resource.RUSAGE_CHILDREN)))


def time_round(engines, circuit, cycles, rounds: int):
    """{(engine, mode): [(analysis s, wall s, CPU s), ...]} and the readings of each (engine, mode)."""
    times = {(kind, mode): [] for kind in engines for mode in MODES}
    readings = {}
    for r in tqdm(range(rounds), desc="rounds", unit="round"):
        for kind, engine in engines.items():
            for mode in MODES[r % len(MODES):] + MODES[:r % len(MODES)]:
                engine.cycle_mode = mode
                start, cpu = time.perf_counter(), cpu_seconds()
                run = engine.readings(circuit, cycles, f"{kind} {mode} round {r}")
                times[(kind, mode)].append((run.seconds, time.perf_counter() - start, cpu_seconds() - cpu))
                readings[(kind, mode)] = run.readings
    return times, readings


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def accounting(text: str, folder: str) -> dict[str, float]:
    """ngspice's ``.options acct`` figures of one ``ngspice -b`` run of ``text``, the run's CPU time
    (``CPU``, s) and that of the same text without its analysis line (``CPU without analysis``: start,
    parse, circuit set-up). ngspice's own "Total analysis time" follows the wall clock on this build;
    the difference of the two CPU times is the analysis's CPU time, which a busy machine inflates less."""
    found = {}
    for key, body in (("CPU", text), ("CPU without analysis", re.sub(r"^\.dc .*$", "", text, flags=re.M))):
        path = Path(folder, "acct.cir")
        path.write_text(re.sub(r"^\.end\s*$", ".options acct\n.end", body, flags=re.M))
        start = _children_cpu()
        done = subprocess.run([find_ngspice(None), "-b", "-n", "-r", str(Path(folder, "acct.raw")), str(path)],
                              cwd=folder, capture_output=True, text=True, check=True)
        found[key] = _children_cpu() - start
        if key == "CPU":
            for name in ACCOUNTING:
                match = re.search(rf"^{name}\s*(?:\(seconds\))?\s*=\s*([0-9.eE+-]+)", done.stdout, re.M)
                found[name] = float(match.group(1)) if match else float("nan")
    return found


def profile(circuit, batch: int) -> list[str]:
    """One row per analysis: unrolled, then each cycle alone, then each stage of the per-layer cut
    (a layer read, then its activations)."""
    writer = get_writer("ngspice")
    volts = {}
    with get_engine("batch") as engine:
        for per in ("cycle", "layer"):   # each cut's runs read back every node its stages carry
            (vectors, *_), = per_cycle_vectors(engine, [circuit], ["profile"], per=per)
            volts.update((name[2:-1], values) for name, values in vectors.items() if name.startswith("v("))
    texts = [("unrolled (all cycles)", writer.get_netlist(circuit))]
    for per in ("cycle", "layer"):
        texts += [(f"per {per}: stage {plan.stage} (cycle {plan.cycle})",
                   writer.get_netlist(stage_circuit(circuit, plan, volts))) for plan in plan_stages(circuit, per)]
    lines = ["| analysis | Newton iterations / sample | ngspice CPU ms / sample: whole run | without the "
             "analysis (start, parse, set-up) | analysis (difference) | analysis ms / iteration (CPU) | "
             "matrix load | factor | solve | reorder (s, once) | netlist lines |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    totals = {"per cycle": [0.0, 0.0], "per layer": [0.0, 0.0]}
    with tempfile.TemporaryDirectory(prefix="bench-cycles-") as folder:
        for name, text in tqdm(texts, desc="profile", unit="analysis"):
            a = accounting(text, folder)
            iterations, total = a["Total iterations"], a["Total analysis time"]
            analysis = a["CPU"] - a["CPU without analysis"]
            for cut, sums in totals.items():
                if name.startswith(cut):
                    sums[0], sums[1] = sums[0] + a["CPU"], sums[1] + a["CPU without analysis"]
            share = lambda key: f"{100 * a[key] / total:.0f} %" if total > 0 else "-"  # noqa: E731
            lines.append(f"| {name} | {iterations / batch:.2f} | {1e3 * a['CPU'] / batch:.1f} | "
                         f"{1e3 * a['CPU without analysis'] / batch:.1f} | {1e3 * analysis / batch:.1f} | "
                         f"{1e3 * analysis / max(iterations, 1):.2f} | {share('Matrix load time')} | "
                         f"{share('Matrix factor time')} | {share('Matrix solve time')} | "
                         f"{a['Matrix reorder time']:.2f} | {text.count(chr(10)):,} |")
    for cut, (whole, fixed) in totals.items():
        lines.append(f"| {cut}, all stages | | {1e3 * whole / batch:.1f} | {1e3 * fixed / batch:.1f} | "
                     f"{1e3 * (whole - fixed) / batch:.1f} | | | | | | |")
    return lines


def table(times, readings, batch: int, sizes: str, mapping: str) -> list[str]:
    lines = ["| sizes | mapping | engine | cycle mode | ngspice ms/sample (median, fastest) | "
             "wall ms/sample (median, fastest) | CPU ms/sample (median, fastest) | / unrolled (ngspice, wall, CPU; "
             "medians) | target 30 ms (CPU median) |", "|---|---|---|---|---|---|---|---|---|"]
    medians = {key: np.median(np.array(values), axis=0) * 1e3 / batch for key, values in times.items()}
    for (kind, mode), values in times.items():
        fastest = np.min(np.array(values), axis=0) * 1e3 / batch
        median, base = medians[(kind, mode)], medians[(kind, "unrolled")]
        ratio = "" if mode == "unrolled" else ", ".join(f"{median[i] / base[i]:.2f}" for i in range(3))
        verdict = "met" if median[2] <= TARGET_MS else f"missed by {median[2] - TARGET_MS:.1f} ms"
        lines.append(f"| {sizes} | {mapping} | {kind} | {mode} | "
                     + " | ".join(f"{median[i]:.1f}, {fastest[i]:.1f}" for i in range(3)) + f" | {ratio} | {verdict} |")
    deviation = max(audit_deviation(readings[(kind, mode)], readings[(kind, "unrolled")])
                    for kind in {kind for kind, _ in readings} for mode in MODES[1:])
    lines += ["", f"Largest relative difference of any reading from the unrolled one's: {deviation:.2g} "
                  "(ngspice's tolerance: reltol 1e-6)."]
    return lines


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="784-20-784", help="layer sizes N0-N1-...-N0 (default 784-20-784)")
    parser.add_argument("--batch", type=int, default=100, help="samples per minibatch (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds of the contenders "
                                                                "(default 3)")
    parser.add_argument("--mapping", default="differential", choices=("differential", "shared_reference"),
                        help="weight mapping (default differential)")
    parser.add_argument("--engines", default="batch,shared", choices=("batch,shared", "batch", "shared"),
                        help="ngspice engines to time (default batch,shared)")
    parser.add_argument("--profile", action="store_true",
                        help="also run each analysis once with ngspice's .options acct and tabulate it")
    parser.add_argument("--write", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    sizes = tuple(int(n) for n in args.sizes.split("-"))
    circuit, cycles = make_circuit(sizes, args.batch, args.mapping)
    load = " ".join(f"{v:.2f}" for v in os.getloadavg())
    engines = {kind: get_engine(kind) for kind in args.engines.split(",")}
    try:
        times, readings = time_round(engines, circuit, cycles, args.repeats)
    finally:
        for engine in engines.values():
            engine.close()
    lines = header() + [f"Load average at the start: {load}; at the end: "
                        f"{' '.join(f'{v:.2f}' for v in os.getloadavg())} (2 vCPUs shared with other jobs).",
                        f"Circuit: {args.sizes}, {args.mapping}, tanh, PR, cycles 0 and 1 (both phases), "
                        f"batch {args.batch}, ideal neurons and wires; {args.repeats} interleaved rounds.", ""]
    lines += table(times, readings, args.batch, args.sizes, args.mapping)
    if args.profile:
        lines += ["", "ngspice's accounting (`.options acct`, one `ngspice -b` run each; shares of the "
                      "analysis time):", ""] + profile(circuit, args.batch)
    publish(lines, "ngspice per cycle / per layer vs unrolled (issue 10)", args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
