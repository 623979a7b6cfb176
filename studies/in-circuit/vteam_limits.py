"""What limits the VTEAM in-circuit runs: where their device states ended, and what the write and the read
do there (the model's own equations at each final state; no simulation).

  .venv/bin/python studies/in-circuit/vteam_limits.py results-16-4-16-vteam results-49-10-49-mnist-vteam

Per run and per network (in-circuit, controller): the final states' range and spread; the read's gain
``(R(x_ref) / R(x))^2`` (weight change per unit of state change, relative to x_ref's) at the 5th / 50th /
95th percentile of the states; the Biolek windows' smallest value (off ``1 - x^20``, on ``1 - (1 - x)^20``;
the write's gain per direction relative to x_ref is their ratio to the value there); devices outside
[0.21, 0.79], where a window is below 0.99.
"""

import json
import sys
from pathlib import Path

import numpy as np

from recirc_analog.devices.compact.models import Vteam

HERE = Path(__file__).resolve().parent


def main(names):
    m = Vteam()

    def resistance(x):
        return m.r_on + (m.r_off - m.r_on) * x

    for name in names:
        folder = HERE / name
        summary = json.loads((folder / "summary.json").read_text())
        x_ref = summary["x_ref"]
        states = np.load(folder / "states.npz")
        for run in ("initial", "in_circuit", "controller"):
            x = np.concatenate([states[f"{run}1"].ravel(), states[f"{run}2"].ravel()])
            read = (resistance(x_ref) / resistance(x)) ** 2
            off = (1 - x ** 20) / (1 - x_ref ** 20)
            on = (1 - (1 - x) ** 20) / (1 - (1 - x_ref) ** 20)
            p5, p50, p95 = np.percentile(read, [5, 50, 95])
            print(f"{name} {run}: states {x.min():.3f}..{x.max():.3f} (std {x.std():.4f}); read gain p5/p50/p95 "
                  f"{p5:.3f}/{p50:.3f}/{p95:.3f} (min {read.min():.3f}, max {read.max():.3f}); write gain off "
                  f"min {off.min():.4f}, on min {on.min():.4f}; outside [0.21, 0.79]: "
                  f"{int(np.sum((x < 0.21) | (x > 0.79)))} of {x.size}")


if __name__ == "__main__":
    main(sys.argv[1:] or ["results-16-4-16-vteam", "results-49-10-49-mnist-vteam"])
