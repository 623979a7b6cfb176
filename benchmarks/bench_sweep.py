"""Sweep throughput: the same study of CPU-bound train points on a local Dask cluster of 1 and of 2 workers.

Each round runs the study once with each cluster size (alternating, each into
a fresh folder), timing the sweep alone (the cluster is started before the
clock starts; its start-up is reported separately). The load average before
each run is printed: these shared VMs may not give two full cores, and
then two workers gain little. So each round also measures what the VM gives
right now: the same fixed CPU-bound task (NumPy, one BLAS thread) run as 2
tasks in 1 process and in 2 processes (``multiprocessing``, no Dask); the
ratio of those two is the speed-up two workers could have had, and the sweep's
own ratio is reported against it ("efficiency").

    python benchmarks/bench_sweep.py [--points 8] [--epochs 5] [--rounds 2] [--write]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_reference import header, publish  # noqa: E402

from recirc_analog.cli import main as entry  # noqa: E402
from recirc_analog.commands.sweep import check_point, command_parser  # noqa: E402
from recirc_analog.jobs.sweep import build_study, run_sweep, start_client  # noqa: E402


def study(points: int, epochs: int):
    """``points`` train runs of a 100-50-100 net on Lowrank (one per seed), each a few CPU seconds."""
    return build_study({"command": "train",
                        "base": {"sizes": "100,50,100", "act": "tanh,linear", "epochs": epochs, "rule": "rec"},
                        "grid": {"seed": list(range(points))}}, command_parser, check_point)


def timed_sweep(workers: int, points: int, epochs: int, folder: Path) -> tuple[float, float, float]:
    """(cluster start-up s, sweep s, load average before the sweep) for one cluster size."""
    start = time.perf_counter()
    client, cluster = start_client(workers)
    startup = time.perf_counter() - start
    try:
        client.wait_for_workers(workers)
        load = os.getloadavg()[0]
        start = time.perf_counter()
        counts = run_sweep(study(points, epochs), folder, entry, client=client, show_progress=False)
        seconds = time.perf_counter() - start
    finally:
        client.close()
        cluster.close()
    if counts["ok"] != points:
        raise SystemExit(f"bench_sweep: {counts['failed']} points failed; see {folder}/results.csv")
    return startup, seconds, load


def _spin(n: int) -> float:
    """A fixed CPU-bound task (about a second on one core): ``n`` 200x200 products, one BLAS thread."""
    import numpy as np

    a = np.random.default_rng(0).standard_normal((200, 200)) / 20
    for _ in range(n):
        a = np.tanh(a @ a)
    return float(a[0, 0])


def machine_speedup(tasks: int = 4, n: int = 600) -> tuple[float, float]:
    """(seconds for ``tasks`` spins in 1 process, in 2 processes): what two workers can gain now."""
    import multiprocessing

    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    context = multiprocessing.get_context("spawn")
    times = []
    for processes in (1, 2):
        with context.Pool(processes) as pool:
            pool.map(_spin, [1] * processes)                 # start-up and imports outside the clock
            start = time.perf_counter()
            pool.map(_spin, [n] * tasks)
            times.append(time.perf_counter() - start)
    return times[0], times[1]


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--points", type=int, default=8, help="points in the study (default 8)")
    parser.add_argument("--epochs", type=int, default=5, help="epochs of each point (default 5)")
    parser.add_argument("--rounds", type=int, default=2, help="rounds of 1 then 2 workers (default 2)")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    lines = [*header(),
             f"Study: {args.points} train points (rec, 100-50-100 tanh/linear, Lowrank, {args.epochs} epochs, "
             f"one per seed); {cpus} CPUs available to this process. The BLAS above is this driver's; the "
             "workers run NumPy with one BLAS thread.", "",
             "| round | workers | cluster start (s) | sweep (s) | points/s | load average before | "
             "same round: 2 processes / 1 process on a fixed CPU task |",
             "|---|---|---|---|---|---|---|"]
    best, rounds = {}, []
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        for r in range(args.rounds):
            one, two = machine_speedup()
            seconds_of = {}
            for workers in (1, 2):
                startup, seconds, load = timed_sweep(workers, args.points, args.epochs, Path(tmp) / f"{r}-{workers}")
                best[workers] = min(best.get(workers, float("inf")), seconds)
                seconds_of[workers] = seconds
                lines.append(f"| {r + 1} | {workers} | {startup:.1f} | {seconds:.1f} | "
                             f"{args.points / seconds:.2f} | {load:.1f} | {one / two:.2f}x |")
                print(lines[-1], flush=True)
            rounds.append((seconds_of[1] / seconds_of[2], one / two))
    lines += ["", f"Best of {args.rounds}: 2 workers ran the study {best[1] / best[2]:.2f}x as fast as 1 "
                  f"({best[1]:.1f} s vs {best[2]:.1f} s, cluster start-up excluded).",
              "Per round, the sweep's 2-worker speed-up against what the VM gave two processes at that time "
              "(efficiency = sweep / machine): "
              + "; ".join(f"round {k + 1}: {s:.2f}x / {m:.2f}x = {s / m:.0%}" for k, (s, m) in enumerate(rounds))
              + "."]
    publish(lines, "Sweep throughput, 1 and 2 workers", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
