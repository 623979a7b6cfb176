"""What limits the in-circuit write's proportionality: correlation of the realised state change with
pre x post-difference on an 8-4-8 network against the spread of the device states around x_ref
(Yakopcic's window makes the gain state-dependent) and the write width (update size).

Run: nice -n 10 .venv/bin/python studies/in-circuit/spread.py   (writes spread.csv here)
"""

from pathlib import Path

import numpy as np

from recirc_analog.cosim.in_circuit import correlation, disturbed, nominal_rate, step, wrong_sign
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.fileio import atomic_open
from recirc_analog.schematic.in_circuit import InCircuitNetwork, WriteScheme

HERE = Path(__file__).resolve().parent


def main():
    rng = np.random.default_rng(0)
    x_ref = InCircuitNetwork(states1=np.full((4, 8), 0.5), states2=np.full((8, 4), 0.5)).x_ref
    lines = ["spread,tw,sample,corr,corr_crossbar1,corr_crossbar2,slope_over_nominal,disturbed,wrong_sign"]
    with BatchEngine() as engine:
        for spread in (0.005, 0.02, 0.05, 0.1):
            for tw in (1e-4, 4e-4):
                for k in range(3):
                    net = InCircuitNetwork(states1=np.clip(x_ref + spread * rng.standard_normal((4, 8)), 0, 1),
                                           states2=np.clip(x_ref + spread * rng.standard_normal((8, 4)), 0, 1),
                                           scheme=WriteScheme(tw=tw, steps=400))
                    r = step(engine, net, rng.uniform(0, 1, 8))
                    x = np.concatenate([np.ravel(v) for v in r.intended])
                    y = np.concatenate([np.ravel(v) for v in r.realised])
                    slope = np.dot(x, y) / np.dot(x, x) / nominal_rate(net)
                    moved, _ = disturbed(r.intended, r.realised)
                    row = [spread, tw, k, correlation(r.intended, r.realised),
                           correlation([r.intended[0]], [r.realised[0]]), correlation([r.intended[1]], [r.realised[1]]),
                           slope, moved + r.reference_moved, wrong_sign(r.intended, r.realised)]
                    lines.append(",".join(f"{v:.6g}" if isinstance(v, float) else str(v) for v in row))
                    print(lines[-1], flush=True)
    with atomic_open(HERE / "spread.csv") as handle:
        handle.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
