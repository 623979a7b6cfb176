"""Benchmark of the ngspice engines on crossbar netlists; writes RESULTS_engine.md.

For each size (64-16-64 and 784-20-784: a differential-pair resistor
crossbar per layer, an ideal transimpedance stage per neuron made of two
0-V ammeters read by a B-source, inputs as ``pwl(v(sel), ...)`` B-sources
and a ``.dc`` sweep of the selector over ``--samples`` points) it measures:

- batch engine: wall time per run, ngspice's own analysis time, raw-file
  read time (``read_raw`` on a binary raw file of the same run);
- shared engine (our ctypes binding): load, run, vector read, ``alter`` of
  every resistor (through the binding: the engine offers no alter), rerun;
- PySpice's ``NgSpiceShared`` on the same steps (the measurement behind
  choosing ctypes for the shared engine).

overhead = wall time of a run / ngspice's own analysis time. Each
(engine, size) is measured in its own subprocess, because libngspice holds
one circuit per process and PySpice and our binding cannot share it.

With ``--cosim`` it measures instead the shared engine on the co-simulation's
own netlists (``--sizes``, batch ``--samples``): reload per batch, as the
co-simulation does, vs keeping the circuit loaded and altering every device
(:func:`measure_cosim`); it prints a table for RESULTS_engine.md.

Run: ``.venv/bin/python benchmarks/bench_engine.py`` (``--help`` for options).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

SIZES = ("64-16-64", "784-20-784")
PARTS = ("batch", "shared", "pyspice")
#: run_many measurement: this many copies of a netlist on this many workers.
PARALLEL_JOBS, PARALLEL_WORKERS = 4, 2
#: Feedback resistance of the transimpedance stage (ohm): w = R_f (G+ - G-).
R_FEEDBACK = 1e4


def crossbar_netlist(sizes: list[int], samples: int, seed: int = 0) -> str:
    """A linear crossbar network with ideal TIAs and a ``.dc`` sweep over ``samples`` inputs.

    Layer h has nodes ``l<h>_<j>``; resistors ``Rp<h>_<j>_<i>`` / ``Rn<h>_<j>_<i>``
    (1 uS .. 100 uS) connect ``l<h-1>_<i>`` to the ammeters of neuron j.
    Only the last layer's nodes are saved.
    """
    rng = np.random.default_rng(seed)
    lines = [f"crossbar {'-'.join(map(str, sizes))}, {samples} samples", "Vsel sel 0 0"]
    inputs = rng.uniform(0.0, 0.2, size=(samples, sizes[0]))
    for i in range(sizes[0]):
        points = ", ".join(f"{k},{inputs[k, i]:.6g}" for k in range(samples))
        lines.append(f"Bx{i} l0_{i} 0 V=pwl(v(sel), {points})")
    for h in range(1, len(sizes)):
        conductance = rng.uniform(1e-6, 1e-4, size=(2, sizes[h], sizes[h - 1]))
        for j in range(sizes[h]):
            lines.append(f"Vp{h}_{j} sp{h}_{j} 0 0")
            lines.append(f"Vn{h}_{j} sn{h}_{j} 0 0")
            for i in range(sizes[h - 1]):
                lines.append(f"Rp{h}_{j}_{i} l{h - 1}_{i} sp{h}_{j} {1 / conductance[0, j, i]:.6g}")
                lines.append(f"Rn{h}_{j}_{i} l{h - 1}_{i} sn{h}_{j} {1 / conductance[1, j, i]:.6g}")
            lines.append(f"B{h}_{j} l{h}_{j} 0 V={R_FEEDBACK:g}*(i(vp{h}_{j})-i(vn{h}_{j}))")
    last = len(sizes) - 1
    lines.append(".save " + " ".join(f"v(l{last}_{j})" for j in range(sizes[-1])))
    lines.append(f".dc Vsel 0 {samples - 1} 1")
    lines.append(".end")
    return "\n".join(lines) + "\n"


def resistor_names(netlist: str) -> list[str]:
    return [line.split(None, 1)[0] for line in netlist.splitlines() if line.startswith("R")]


def alter_all(library, values: dict) -> None:
    """One ``alter`` per element (name -> value) straight through the binding (the engines
    offer no alter: see the co-simulation measurement, ``--cosim``)."""
    failed = library.commands([f"alter {name} = {value!r}".encode() for name, value in values.items()])
    library.take_output()
    if failed:
        raise RuntimeError(f"alter failed for {len(failed)} of {len(values)} elements")


def alter_values(node_map, conductances, rng) -> dict:
    """ngspice ``alter`` name (``r.x<tile instance>.<element>``) -> resistance (ohm) of every
    crossbar device: the present conductances changed by ~0.1 % (a training step's size).

    The values must be the circuit's own: altering every device to one value makes
    a different, easier circuit (measured: 2-3x shorter runs at 196-20-196).
    """
    values = {}
    for h in range(1, len(node_map.sizes)):
        for kind in node_map.device_prefixes:
            sites = node_map.device_sites(h, kind)
            g = getattr(conductances[h - 1], kind) * (1 + 1e-3 * rng.standard_normal(sites.shape[1:]))
            g = np.broadcast_to(g, sites.shape)
            values.update((f"r.x{site}", float(1 / value)) for site, value in zip(sites.ravel(), g.ravel()))
    return values


def measure_cosim(size: str, batch: int, repeats: int) -> dict:
    """The shared engine in the co-simulation: reload per batch vs load once + alter every device.

    Per batch the co-simulation writes a netlist of the present conductances with
    the batch's inputs (``pwl(v(sel), ...)`` tables in B-sources) and the shared
    engine loads it. The alternative keeps the circuit loaded and alters every
    crossbar device to its present value changed by ~0.1 % (:func:`alter_values`);
    the inputs then cannot change (ngspice alters no B-source), so its time here
    is a lower bound. The two alternate (load + run, alter + run, next batch's
    load + run, ...) so both see the same machine load. Wall times of
    ``repeats`` batches (new inputs each) after one warm-up pair; medians.
    """
    from recirc_analog.cosim.lockstep import CosimConfig, LockStep
    from recirc_analog.devices import DeviceConfig
    from recirc_analog.engines import SharedEngine
    from recirc_analog.engines.libngspice import shared_library
    from recirc_analog.schematic.spec import CircuitSpec

    sizes = tuple(int(n) for n in size.split("-"))
    engine = SharedEngine()
    config = CosimConfig(sizes=sizes, engine="shared", batch_size=batch)
    controller = LockStep.create(config, CircuitSpec(), DeviceConfig(), engine, np.zeros(sizes[0])).controller
    rng = np.random.default_rng(0)
    jobs = [controller.netlist(rng.uniform(0.0, 1.0, (batch, sizes[0]))) for _ in range(repeats + 1)]
    texts = [text for text, _ in jobs]
    library = shared_library()
    reload, load, analysis = [], [], []
    alters, reruns, rerun_analysis = [], [], []
    for k, (text, node_map) in enumerate(jobs):
        _, loaded = _timed(lambda: engine.load(text))
        result, wall = _timed(lambda: engine.run(label=f"reload {k}"))
        values = alter_values(node_map, controller.state.all_conductances(), rng)
        _, altered = _timed(lambda: alter_all(library, values))
        rerun, rewall = _timed(lambda: engine.run(label=f"alter {k}"))
        if k:  # the first pair warms up
            reload.append(loaded + wall)
            load.append(loaded)
            analysis.append(result.analysis_seconds)
            alters.append(altered)
            reruns.append(rewall)
            rerun_analysis.append(rerun.analysis_seconds)
    engine.close()
    return {"size": size, "batch": batch, "devices": len(values), "netlist_mb": len(texts[0]) / 1e6,
            "reload": float(np.median(reload)), "load": float(np.median(load)),
            "analysis": float(np.median(analysis)), "alter": float(np.median(alters)),
            "rerun": float(np.median(reruns)), "rerun_analysis": float(np.median(rerun_analysis)),
            "alter_path": float(np.median(np.add(alters, reruns)))}


def cosim_report(rows: list[dict]) -> str:
    lines = ["| size | batch | devices | netlist MB | reload + run | (load) | (ngspice) "
             "| alter all + rerun | (alter all) | (rerun) | (ngspice) |",
             "|---|---|---|---|---|---|---|---|---|---|---|"]
    for r in rows:
        lines.append(f"| {r['size']} | {r['batch']} | {r['devices']} | {r['netlist_mb']:.2f} | "
                     f"{_ms(r['reload'])} | {_ms(r['load'])} | {_ms(r['analysis'])} | "
                     f"{_ms(r['alter_path'])} | {_ms(r['alter'])} | {_ms(r['rerun'])} | {_ms(r['rerun_analysis'])} |")
    return "\n".join(lines) + "\n"


def _timed(function):
    start = time.perf_counter()
    value = function()
    return value, time.perf_counter() - start


def measure_batch(netlist: str, repeats: int) -> dict:
    from recirc_analog.engines import BatchEngine, read_raw

    engine = BatchEngine()
    walls, analyses = [], []
    for k in range(repeats):
        result, wall = _timed(lambda: engine.run(netlist, label=f"bench {k}"))
        walls.append(wall)
        analyses.append(result.analysis_seconds)
    four = [netlist] * PARALLEL_JOBS
    _, sequential = _timed(lambda: [engine.run(text, label="sequential") for text in four])
    _, parallel = _timed(lambda: engine.run_many(four, workers=PARALLEL_WORKERS))
    with tempfile.TemporaryDirectory() as tmp:
        Path(tmp, "c.cir").write_text(netlist)
        subprocess.run(["ngspice", "-b", "-r", "c.raw", "c.cir"], cwd=tmp, check=True,
                       capture_output=True)
        _, read = _timed(lambda: read_raw(Path(tmp, "c.raw")))
    return {"run": float(np.median(walls)), "analysis": float(np.median(analyses)), "read": read,
            "sequential": sequential, "parallel": parallel}


def measure_shared(netlist: str, repeats: int) -> dict:
    from recirc_analog.engines import SharedEngine
    from recirc_analog.engines.libngspice import shared_library

    (engine, start) = _timed(SharedEngine)
    _, load = _timed(lambda: engine.load(netlist))
    walls, analyses = [], []
    for k in range(repeats):
        result, wall = _timed(lambda: engine.run(label=f"bench {k}"))
        walls.append(wall)
        analyses.append(result.analysis_seconds)
    names = resistor_names(netlist)
    library = shared_library()
    _, alter = _timed(lambda: alter_all(library, {name: 12345.6 for name in names}))
    _, rerun = _timed(lambda: engine.run(label="after alter"))
    library.new_plots.clear()
    library.command("run")
    vectors, read = _timed(lambda: library.read_plot(library.new_plots[-1][0]))
    library.command("destroy all")
    library.take_output()
    engine.close()
    return {"start": start, "load": load, "run": float(np.median(walls)),
            "analysis": float(np.median(analyses)), "read": read, "vectors": len(vectors),
            "alter_all": alter, "alter_per_element_us": alter / len(names) * 1e6,
            "resistors": len(names), "rerun": rerun}


def measure_pyspice(netlist: str, repeats: int) -> dict:
    import logging

    from recirc_analog.engines.console import analysis_seconds

    logging.disable(logging.WARNING)  # PySpice warns "Unsupported Ngspice version 39"
    start = time.perf_counter()
    from PySpice.Spice.NgSpice.Shared import NgSpiceShared

    ngspice = NgSpiceShared.new_instance()
    start = time.perf_counter() - start
    _, load = _timed(lambda: ngspice.load_circuit(netlist))
    walls = [_timed(ngspice.run)[1] for _ in range(repeats)]
    # ngspice's analysis time is a running total per circuit: the mean over the runs.
    total = analysis_seconds(ngspice.exec_command("rusage time").splitlines())

    def read():
        plot = ngspice.plot(None, ngspice.last_plot)
        return {name: np.array(vector._data) for name, vector in plot.items()}

    vectors, read_time = _timed(read)
    names = resistor_names(netlist)

    def alter_all():
        for name in names:
            ngspice.exec_command(f"alter {name} = 12345.6")

    _, alter = _timed(alter_all)
    return {"start": start, "load": load, "run": float(np.median(walls)), "read": read_time,
            "analysis": total / repeats,
            "vectors": len(vectors), "alter_all": alter,
            "alter_per_element_us": alter / len(names) * 1e6, "resistors": len(names)}


MEASURES = {"batch": measure_batch, "shared": measure_shared, "pyspice": measure_pyspice}


def child(part: str, size: str, samples: int, repeats: int) -> None:
    """Measure one (engine, size) in this process; print JSON."""
    netlist = crossbar_netlist([int(n) for n in size.split("-")], samples)
    print(json.dumps(MEASURES[part](netlist, repeats)))


def machine() -> str:
    lscpu = subprocess.run(["lscpu"], capture_output=True, text=True, check=False).stdout
    fields = dict(line.split(":", 1) for line in lscpu.splitlines() if ":" in line)
    model = fields.get("Model name", platform.processor()).strip()
    cpus = fields.get("CPU(s)", "?").strip()
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return (f"{model}, {cpus} CPU(s), Python {platform.python_version()}, {platform.system()}; "
            f"load average before the run {load} (other jobs share the CPUs: times vary ~20%)")


def run_all(sizes, samples: int, repeats: int) -> tuple[dict, str]:
    host = machine()
    results = {}
    for size in sizes:
        for part in PARTS:
            done = subprocess.run(
                [sys.executable, __file__, "--child", part, "--sizes", size,
                 "--samples", str(samples), "--repeats", str(repeats)],
                capture_output=True, text=True, check=True)
            results[(part, size)] = json.loads(done.stdout.strip().splitlines()[-1])
            print(f"{part:8s} {size:11s} {results[(part, size)]}", file=sys.stderr)
    return results, host


def _ms(seconds: float) -> str:
    return f"{seconds * 1e3:.1f}"


def report(results: dict, host: str, sizes, samples: int, command: str) -> str:
    from recirc_analog.engines import ngspice_version

    rows = ["# ngspice engine benchmark", "",
            f"Machine: {host}; ngspice {ngspice_version()}.",
            f"Command: `{command}`", "",
            f"Netlists: differential-pair resistor crossbars with ideal TIAs, "
            f"`.dc` sweep of {samples} samples (`bench_engine.crossbar_netlist`). "
            "Times in ms, medians where repeated; ngspice = ngspice's own analysis time "
            "(`Total analysis time`, 1 ms resolution); overhead = run / ngspice.", "",
            "| size | engine | start | load | run | ngspice | overhead | read | alter all (us/elem) "
            "| rerun after alter |", "|---|---|---|---|---|---|---|---|---|---|"]
    for size in sizes:
        batch, shared, pyspice = (results[(part, size)] for part in PARTS)
        analysis = shared["analysis"]
        rows.append(f"| {size} | batch | - | (in run) | {_ms(batch['run'])} | "
                    f"{_ms(batch['analysis'])} | {batch['run'] / max(batch['analysis'], 1e-3):.2f} | "
                    f"{_ms(batch['read'])} | rewrite netlist + run | - |")
        rows.append(f"| {size} | shared (ctypes) | {_ms(shared['start'])} | {_ms(shared['load'])} | "
                    f"{_ms(shared['run'])} | {_ms(analysis)} | "
                    f"{shared['run'] / max(analysis, 1e-3):.2f} | {_ms(shared['read'])} | "
                    f"{_ms(shared['alter_all'])} ({shared['alter_per_element_us']:.1f}) | "
                    f"{_ms(shared['rerun'])} |")
        rows.append(f"| {size} | PySpice shared | {_ms(pyspice['start'])} | {_ms(pyspice['load'])} | "
                    f"{_ms(pyspice['run'])} | {_ms(pyspice['analysis'])} | "
                    f"{pyspice['run'] / max(pyspice['analysis'], 1e-3):.2f} | "
                    f"{_ms(pyspice['read'])} | {_ms(pyspice['alter_all'])} "
                    f"({pyspice['alter_per_element_us']:.1f}) | - |")
    rows += ["", "Resistors: " + ", ".join(
        f"{size}: {results[('shared', size)]['resistors']}" for size in sizes), "",
        f"Batch engine, {PARALLEL_JOBS} runs of the same netlist: one after another vs "
        f"`run_many(workers={PARALLEL_WORKERS})` (the speed-up is bounded by idle cores: "
        "read it with the load average above):", ""]
    for size in sizes:
        batch = results[("batch", size)]
        rows.append(f"- {size}: {_ms(batch['sequential'])} ms vs {_ms(batch['parallel'])} ms "
                    f"(speed-up {batch['sequential'] / batch['parallel']:.2f}x)")
    rows.append("")
    return "\n".join(rows) + "\n"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", nargs="+", default=list(SIZES), help="layer sizes, e.g. 64-16-64")
    parser.add_argument("--samples", type=int, default=100, help="sweep points per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs per measurement (median)")
    parser.add_argument("--out", default=str(Path(__file__).with_name("RESULTS_engine.md")))
    parser.add_argument("--cosim", action="store_true",
                        help="instead: shared engine in the co-simulation, reload per batch vs alter "
                             "(prints a table; --samples is the batch size)")
    parser.add_argument("--child", choices=PARTS + ("cosim",), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child == "cosim":
        print(json.dumps(measure_cosim(args.sizes[0], args.samples, args.repeats)))
        return 0
    if args.cosim:
        rows = []
        for size in args.sizes:
            done = subprocess.run([sys.executable, __file__, "--child", "cosim", "--sizes", size,
                                   "--samples", str(args.samples), "--repeats", str(args.repeats)],
                                  capture_output=True, text=True, check=True)
            rows.append(json.loads(done.stdout.strip().splitlines()[-1]))
        print(f"Machine: {machine()}; command: `python benchmarks/bench_engine.py "
              f"{' '.join(sys.argv[1:] if argv is None else argv)}`\n")
        print(cosim_report(rows))
        return 0
    if args.child:
        child(args.child, args.sizes[0], args.samples, args.repeats)
        return 0
    results, host = run_all(args.sizes, args.samples, args.repeats)
    command = "python benchmarks/bench_engine.py " + " ".join(sys.argv[1:] if argv is None else argv)
    Path(args.out).write_text(report(results, host, args.sizes, args.samples, command.strip()))
    print(f"wrote {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
