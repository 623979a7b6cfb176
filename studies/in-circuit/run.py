"""In-circuit online learning (issue 13): the circuit's own write phase against the controller-driven run
and the NumPy reference, same initial states, same samples (the job of ``cosim --update in-circuit``).

Regenerate the committed results of the operating-point study (16-4-16 and 49-10-49 MNIST 7x7; about
1.5 h on a loaded 2-vCPU machine, most of it 49-10-49), then the attribution table (seconds):
  nice -n 10 .venv/bin/python studies/in-circuit/run.py --all
  .venv/bin/python studies/in-circuit/attribution.py
The biases / tanh runs (16-4-16 Lowrank tanh with biases, 49-10-49 MNIST 7x7 logistic with biases):
  nice -n 10 .venv/bin/python studies/in-circuit/run.py --run 16-4-16-tanh-bias --run 49-10-49-mnist-bias
One run:
  nice -n 10 .venv/bin/python studies/in-circuit/run.py --sizes 16,4,16 --samples 60
Writes results-<name>/ here (metrics.csv, summary.json, in_circuit.png, reconstructions.png, states.npz).
"""

import argparse
import json
from pathlib import Path

from recirc_analog.jobs.in_circuit import InCircuitConfig, run_in_circuit

HERE = Path(__file__).resolve().parent
DATA = HERE.parents[1].parent / "shared" / "data"

# The balance-point operating point of the first study (x_ref 0.446, w_scale 20, gain 0.5) at the same
# weight learning rate 1.27 as the new default (x_ref 0.6, w_scale 40, gain 0.25, tw 2.73e-4).
OLD = {"x_ref": 0.4464353115659612, "w_scale": 20.0, "gain": 0.5, "tw": 4e-4}
NEW = {"tw": 2.73e-4}
COMMITTED = ("16-4-16", "8-4-8-xref0.6", "49-10-49-mnist")
"""The runs of --all (results-8-4-8 and results-16-4-16-tw0.0001 come from the first study, at the balance
point: REPORT.md says which)."""
RUNS = {
    # read_steps 20: the committed run predates the job's default of 5 (same readings, 3.5x the read time)
    "16-4-16": dict(sizes=(16, 4, 16), samples=60, read_steps=20, **NEW),
    "16-4-16-balance": dict(sizes=(16, 4, 16), samples=60, **OLD),
    "8-4-8-xref0.6": dict(sizes=(8, 4, 8), samples=150, **NEW),
    # MNIST 7x7: weight learning rate 0.8 (tw 1.72e-4), 50 time points per tw (pulse widths in steps of
    # 0.02 of tw; 200 would take 4x longer)
    "49-10-49-mnist": dict(sizes=(49, 10, 49), samples=100, tw=1.7216e-4, steps=50, dataset="mnist",
                           downsample=4, data_dir=str(DATA)),
}
RUNS["49-10-49-mnist-300"] = {**RUNS["49-10-49-mnist"], "samples": 300}
"""The same MNIST 7x7 run for 300 samples (about 30 min on a quiet machine)."""
# VTEAM (MemTorch's parameters): its defaults (schematic/write_laws.py, VteamWrite.defaults: v_unit 15 mV,
# v_half 10 mV, x_ref 0.7, w_scale 100, gain 1e-3 V/V, tw 1e-4 s: weight learning rate 1.25)
RUNS["16-4-16-vteam"] = dict(sizes=(16, 4, 16), samples=300, memristor="vteam")
RUNS["49-10-49-mnist-vteam"] = dict(sizes=(49, 10, 49), samples=100, tw=6.4e-5, steps=50, dataset="mnist",
                                    downsample=4, data_dir=str(DATA), memristor="vteam")
"""MNIST 7x7 with VTEAM at the Yakopcic run's weight learning rate 0.8 (tw 6.4e-5 s)."""
# Biases and tanh (the signed write's sub-phases C and D): tw chosen from the NumPy reference alone (the
# rate that lowered its loss most over 300 samples: 5e-5 s for 16-4-16 tanh, 1e-4 s for MNIST 7x7 logistic);
# 200 and 100 samples: what a machine at load average 13-16 ran in an hour
RUNS["16-4-16-tanh-bias"] = dict(sizes=(16, 4, 16), samples=200, tw=5e-5, activation="tanh", biases=True)
RUNS["49-10-49-mnist-bias"] = {**RUNS["49-10-49-mnist"], "samples": 100, "tw": 1e-4, "biases": True}
SIGNED = ("16-4-16-tanh-bias", "49-10-49-mnist-bias")
"""The runs of the biases / tanh sections of REPORT.md (``--run NAME`` each)."""


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--all", action="store_true", help="the runs of COMMITTED (the committed results)")
    parser.add_argument("--run", choices=tuple(RUNS), action="append", help="one named run of RUNS (repeatable)")
    parser.add_argument("--sizes", default="8,4,8", help="N0,N1,N0 (default 8,4,8)")
    parser.add_argument("--samples", type=int, default=150, help="training samples, one update each")
    parser.add_argument("--steps", type=int, default=200, help="time points per write pulse width tw")
    parser.add_argument("--tw", type=float, default=None,
                        help="longest write pulse (s) (default: the model's, 2.7e-4 yakopcic, 1e-4 vteam)")
    parser.add_argument("--memristor", choices=("yakopcic", "vteam"), default="yakopcic",
                        help="compact model of every device (default yakopcic)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the initial states")
    args = parser.parse_args()
    if args.all or args.run:
        names = COMMITTED if args.all else args.run
        todo = {name: InCircuitConfig(**RUNS[name]) for name in names}
    else:
        sizes = tuple(int(s) for s in args.sizes.split(","))
        name = "-".join(map(str, sizes)) + ("" if args.tw is None else f"-tw{args.tw:g}")
        name += "" if args.memristor == "yakopcic" else f"-{args.memristor}"
        todo = {name: InCircuitConfig(sizes=sizes, samples=args.samples, seed=args.seed, tw=args.tw,
                                      steps=args.steps, memristor=args.memristor)}
    for name, config in todo.items():
        summary = run_in_circuit(config, HERE / f"results-{name}", overwrite=True)
        print(name, json.dumps(summary, indent=1), flush=True)


if __name__ == "__main__":
    main()
