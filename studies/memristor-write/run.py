"""Write-phase prototype (issue 13): realised change against pre x post-difference on a 2x2 crossbar.

One command, from the repository root (~15 s):

    nice -n 10 .venv/bin/python studies/memristor-write/run.py

Runs ``circuits/memristors/tb_write_2x2.cir`` (Yakopcic devices, V/2 scheme, pulse width =
held pre-synaptic activity, column height and sign = post-synaptic difference; see
``circuits/memristors/README.md``) in ngspice over a grid of pre-synaptic activities and
post-synaptic differences, four devices per run, and writes ``results/write_2x2_x<x0>.csv``,
``write_2x2_x<x0>.png`` and the numbers REPORT.md quotes (printed).
"""

from __future__ import annotations

import argparse
import csv
import itertools
import re
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BENCH = ROOT / "circuits" / "memristors" / "tb_write_2x2.cir"
PRE = (0.0, 0.25, 0.5, 0.75, 1.0)
DIFF = (-1.0, -0.5, -0.25, -0.1, 0.0, 0.1, 0.25, 0.5, 1.0)


def bench_text(**overrides) -> str:
    """The testbench with its first .param line's values replaced and its library inlined."""
    text = BENCH.read_text()
    line = re.search(r"^\.param (.*)$", text, re.M).group(1)
    params = {k: float(v) for k, v in re.findall(r"(\w+)=([-+0-9.eE]+)", line)}
    params.update(overrides)
    text = text.replace(line, " ".join(f"{k}={v!r}" for k, v in params.items()), 1)
    return text.replace(".include yakopcic.lib", (BENCH.parent / "yakopcic.lib").read_text(), 1)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--x0", type=float, default=0.6, help="initial state of every device (default 0.6)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from recirc_analog.engines.batch import BatchEngine
    from recirc_analog.fileio import atomic_open

    rows = []
    with BatchEngine() as engine:
        # rows: (pre0, pre1) = (p, 1 - p); columns: (d0, d1) = (d, -d / 2): 4 devices per run
        for pre, diff in itertools.product(PRE, DIFF):
            pres, diffs = (pre, 1.0 - pre), (diff, -diff / 2)
            text = bench_text(pre0=pres[0], pre1=pres[1], d0=diffs[0], d1=diffs[1], x0=args.x0)
            v = engine.run(text, label=f"write pre={pre} d={diff}").vectors
            for i, j in itertools.product(range(2), range(2)):
                rows.append(dict(pre=pres[j], diff=diffs[i], dx=float(v[f"v(xd{i}{j}.x)"][-1] - args.x0)))
    (HERE / "results").mkdir(exist_ok=True)
    with atomic_open(HERE / "results" / f"write_2x2_x{args.x0:g}.csv") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    pre = np.array([r["pre"] for r in rows])
    diff = np.array([r["diff"] for r in rows])
    dx = np.array([r["dx"] for r in rows])
    rule = pre * diff
    zero = rule == 0
    up, down = rule > 0, rule < 0
    print(f"{len(rows)} devices, x0 = {args.x0}")
    print(f"devices whose rule change is 0 (pre = 0 or diff = 0, half-selected): {zero.sum()}, "
          f"largest |dx| {np.abs(dx[zero]).max():.2e}")
    print(f"sign of dx = sign of pre * diff: {np.all(np.sign(dx[~zero]) == np.sign(rule[~zero]))}")
    print(f"correlation(dx, pre * diff): all {np.corrcoef(dx, rule)[0, 1]:.4f}, "
          f"up {np.corrcoef(dx[up], rule[up])[0, 1]:.6f}, down {np.corrcoef(dx[down], rule[down])[0, 1]:.6f}")
    gain_up = np.polyfit(rule[up], dx[up], 1)[0]
    gain_down = np.polyfit(rule[down], dx[down], 1)[0]
    print(f"gain d(dx)/d(pre * diff): up {gain_up:.5f}, down {gain_down:.5f}, ratio {gain_up / gain_down:.3f}")
    for name, mask, gain in (("up", up, gain_up), ("down", down, gain_down)):
        linear = np.abs(dx[mask] - gain * rule[mask]).max() / np.abs(dx[mask]).max()
        print(f"  {name}: largest deviation from the line through 0: {linear:.4f} of the largest change")
    plot(pre, diff, dx, rule, args.x0)
    return 0


def plot(pre, diff, dx, rule, x0) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.5, 4))
    points = ax.scatter(rule, dx, c=pre, s=14, cmap="viridis")
    fig.colorbar(points, ax=ax, label="held pre-synaptic activity")
    ax.axhline(0, color="0.8", lw=0.5)
    ax.axvline(0, color="0.8", lw=0.5)
    ax.set(xlabel="pre x post-difference (rule, activity units)", ylabel="realised state change",
           title=f"2x2 Yakopcic crossbar, V/2 write, x0 = {x0}")
    fig.tight_layout()
    fig.savefig(HERE / f"write_2x2_x{x0:g}.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
