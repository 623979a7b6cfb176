"""Co-simulation throughput: samples per second, and overhead over ngspice's own analysis time.

Run:  .venv/bin/python benchmarks/bench_cosim.py [--batches 3] [--batch-size 100] [--write]

For 64-16-64 (Lowrank), 196-20-196 (14x14 MNIST) and 784-20-784 (MNIST),
both netlist forms and both engines, it co-simulates --batches minibatches
(PR, ideal devices, exact neurons) and reports samples/s and
overhead = wall time / ngspice analysis time (the floor: what ngspice itself
needs). The batch engine is also run with the minibatch split across both
cores (--workers 2); from that the time of one 60,000-sample MNIST epoch of
784-20-784 is extrapolated. Ratios are measured in the same run.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from recirc_analog.cosim.controller import CosimController
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines import get_engine
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.mapping import choose_r_f
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, publish  # noqa: E402

NETWORKS = {
    "64-16-64": ((64, 16, 64), ("tanh", "linear"), "lowrank", None),
    "196-20-196": ((196, 20, 196), ("tanh", "logistic"), "mnist", 2),
    "784-20-784": ((784, 20, 784), ("tanh", "logistic"), "mnist", None),
}


def measure(sizes, acts, dataset, form, engine_kind, workers, batches, batch_size, mapping="differential"):
    """(samples/s, wall s, ngspice analysis s, netlist s) for ``batches`` co-simulated minibatches."""
    net = CircularAutoencoder.random(sizes, acts, seed=0, data_mean=dataset.train_mean)
    crossbar = CrossbarConfig(headroom=2.0, mapping=mapping)
    crossbar = CrossbarConfig(headroom=2.0, mapping=mapping, r_f=choose_r_f(net.weights, net.biases, crossbar))
    spec = CircuitSpec(recirculation=Recirculation("pr"), form=form, crossbar=crossbar)
    engine = get_engine(engine_kind)
    try:
        controller = CosimController(net, spec, DeviceConfig(), engine, np.full(net.n_layers, 0.01), workers)
        stream = dataset.train_batches(batch_size, np.random.default_rng(0))
        wall = ngspice = netlist = 0.0
        for k, x in zip(range(batches), stream):
            start = time.perf_counter()
            record = controller.step(x, label=f"bench {k}")
            wall += time.perf_counter() - start
            ngspice += record.ngspice_seconds
            netlist += record.netlist_seconds
    finally:
        engine.close()
    return batches * batch_size / wall, wall, ngspice, netlist


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data-dir", default=str(Path(__file__).resolve().parents[2] / "shared" / "data"))
    parser.add_argument("--batches", type=int, default=3, help="minibatches per measurement (default 3)")
    parser.add_argument("--batch-size", type=int, default=100, help="samples per minibatch (default 100)")
    parser.add_argument("--networks", default=",".join(NETWORKS),
                        help="comma-separated subset of " + ", ".join(NETWORKS))
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    lines = [*header(),
             "| network | mapping | form | engine | workers | samples/s | wall (s) | ngspice (CPU s) | netlist (s) "
             "| overhead |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    epoch = None
    for name in args.networks.split(","):
        sizes, acts, data, downsample = NETWORKS[name]
        dataset = load_dataset(data, args.data_dir, downsample=downsample, dim=sizes[0])
        runs = [("differential", form, engine, 1) for form in ("dc", "tran") for engine in ("batch", "shared")]
        runs += [("differential", "dc", "batch", 2), ("shared_reference", "dc", "batch", 1),
                 ("shared_reference", "dc", "batch", 2)]
        for mapping, form, engine, workers in runs:
            rate, wall, ngspice, netlist = measure(sizes, acts, dataset, form, engine, workers,
                                                   args.batches, args.batch_size, mapping)
            overhead = wall * workers / ngspice if ngspice else float("nan")
            lines.append(f"| {name} | {mapping} | {form} | {engine} | {workers} | {rate:.1f} | {wall:.2f} | "
                         f"{ngspice:.2f} | {netlist:.2f} | {overhead:.2f} |")
            print(lines[-1], flush=True)
            if name == "784-20-784" and form == "dc" and workers == 2:
                epoch = min(epoch or float("inf"), 60_000 / rate)
    if epoch is not None:
        lines += ["", f"One 60,000-sample MNIST epoch of 784-20-784, dc form, batch engine, 2 workers, fastest "
                      f"mapping: {epoch / 60:.1f} min (extrapolated from the rate above)."]
    lines += ["", "overhead = wall time x workers / ngspice analysis CPU time (1.0 = nothing but ngspice's analysis)."]
    publish(lines, "Co-simulation throughput", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
