"""In-circuit online learning (issue 13): the circuit's own write phase against the controller-driven run
and the NumPy reference, same initial states, same samples (the job of ``cosim --update in-circuit``).

Run (from the checkout):
  nice -n 10 .venv/bin/python studies/in-circuit/run.py --sizes 8,4,8 --samples 200
Writes results-<sizes>/ here (metrics.csv, summary.json, in_circuit.png; the run folder's .lock is not
committed).
"""

import argparse
import json
from pathlib import Path

from recirc_analog.jobs.in_circuit import InCircuitConfig, run_in_circuit

HERE = Path(__file__).resolve().parent


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="8,4,8", help="N0,N1,N0 (default 8,4,8)")
    parser.add_argument("--samples", type=int, default=200, help="training samples, one update each")
    parser.add_argument("--steps", type=int, default=200, help="time points per write pulse width tw")
    parser.add_argument("--tw", type=float, default=4e-4, help="longest write pulse (s)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the data and the initial states")
    args = parser.parse_args()
    sizes = tuple(int(s) for s in args.sizes.split(","))
    config = InCircuitConfig(sizes=sizes, samples=args.samples, seed=args.seed, tw=args.tw, steps=args.steps)
    name = "results-" + "-".join(map(str, sizes)) + ("" if args.tw == 4e-4 else f"-tw{args.tw:g}")
    out = HERE / name
    print(json.dumps(run_in_circuit(config, out, overwrite=True), indent=1))


if __name__ == "__main__":
    main()
