"""Samples per second of the direct engine against ngspice (batch engine) on the same circuits (issue 10).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_direct.py [--batch 100] [--repeats 3] [--write]

For 64-16-64, 196-20-196 and 784-20-784 (tanh, logistic; PR, cycles (0, 1); differential pairs;
ideal neurons and wires; and the tran form with the default hold at the two smaller sizes) it builds one
circuit of a ``--batch``-sample minibatch and times,
interleaved round by round, ``DirectEngine.readings`` and ``BatchEngine.readings`` (ngspice text
written, run, raw file read) on it; the table shows each one's fastest round as samples/s, the
ratio, the time to build the circuit object (paid by both, not in the ratio) and the audit
deviation of the two readings. Then, at 784-20-784 with 128-row tiles, the direct engine alone with
wire resistance (1 ohm row and column segments, 10 ohm driver and sense; every tile's transfer
matrix computed in the run: the cache is cleared each round). The schematic's wire fields
(branch i10-wires) are not merged yet: the tiles get them through a subclass of ``Crossbar``, as
tests/test_engines_direct.py does. With --write the table is appended to benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
import time
from pathlib import Path

import numpy as np

from recirc_analog.engines import get_engine
from recirc_analog.engines.direct import DirectEngine, audit_deviation
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Crossbar
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header  # noqa: E402

SIZES = ((64, 16, 64), (196, 20, 196), (784, 20, 784))
ACTS = ("tanh", "logistic")






def circuit_for(sizes, batch, tile_rows=256, seed=0, form="dc"):
    net = CircularAutoencoder.random(sizes, ACTS, seed=seed)
    spec = CircuitSpec(recirculation=Recirculation("pr"), crossbar=CrossbarConfig(tile_rows=tile_rows), form=form)
    x = np.random.default_rng(seed + 1).random((batch, sizes[0]))
    start = time.perf_counter()
    circuit = build_circuit(net, spec, x)
    return circuit, time.perf_counter() - start


@dataclasses.dataclass(frozen=True)
class WiredCrossbar(Crossbar):
    r_row: float = 0.0
    r_col: float = 0.0
    r_driver: float = 0.0
    r_sense: float = 0.0


def with_wires(circuit, **wires):
    fields = [f.name for f in dataclasses.fields(Crossbar)]
    return dataclasses.replace(circuit, crossbars=tuple(
        WiredCrossbar(**{name: getattr(t, name) for name in fields}, **wires) for t in circuit.crossbars))


def timed(function):
    start = time.perf_counter()
    result = function()
    return time.perf_counter() - start, result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    direct, ngspice = DirectEngine(), get_engine("batch")
    lines = ["| network, form | build circuit (s) | direct (samples/s) | ngspice batch (samples/s) | direct / ngspice "
             "| audit deviation |", "|---|---|---|---|---|---|"]
    for sizes, form in [(sizes, "dc") for sizes in SIZES] + [(sizes, "tran") for sizes in SIZES[:2]]:
        circuit, build = circuit_for(sizes, args.batch, form=form)
        best_d, best_n, deviation = np.inf, np.inf, None
        for _ in range(args.repeats):
            seconds, ours = timed(lambda c=circuit: direct.readings(c, (0, 1), "bench"))
            best_d = min(best_d, seconds)
            seconds, theirs = timed(lambda c=circuit: ngspice.readings(c, (0, 1), "bench"))
            best_n = min(best_n, seconds)
            deviation = audit_deviation(ours.readings, theirs.readings)
        name = "-".join(map(str, sizes)) + f", {form}"
        lines.append(f"| {name} | {build:.3f} | {args.batch / best_d:,.0f} | {args.batch / best_n:,.1f} | "
                     f"{best_n / best_d:,.0f}x | {deviation:.1e} |")
        print(lines[-1], flush=True)
    circuit, build = circuit_for((784, 20, 784), args.batch, tile_rows=128)
    wired = with_wires(circuit, r_row=1.0, r_col=1.0, r_driver=10.0, r_sense=10.0)
    best = np.inf
    for _ in range(args.repeats):
        direct.close()  # every tile's transfer matrix computed again, as after a conductance update
        seconds, _ = timed(lambda: direct.readings(wired, (0, 1), "bench"))
        best = min(best, seconds)
    ideal = direct.readings(circuit, (0, 1), "ideal").readings
    drop = audit_deviation(direct.readings(wired, (0, 1), "wired").readings, ideal)
    extra = (f"784-20-784 with wire resistance (128-row tiles: {len(wired.crossbars)} tiles; 1 ohm segments, "
             f"10 ohm driver and sense), direct engine alone, transfer matrices recomputed: "
             f"{args.batch / best:,.0f} samples/s ({best:.3f} s per {args.batch}-sample batch; circuit build "
             f"{build:.3f} s more); the wires move the read activities by up to {drop:.2e} (relative) from the "
             f"ideal-wire circuit.")
    print(extra)
    ngspice.close()
    if args.write:
        text = "\n".join(["", "## Direct engine against ngspice (issue 10)", "", *header(),
                          f"Minibatch {args.batch} samples, PR, cycles (0, 1), {', '.join(ACTS)}, differential "
                          f"pairs, ideal neurons; fastest of {args.repeats} interleaved rounds; the circuit object "
                          "is built once (column 2) and both engines evaluate it (ngspice: text written, run, "
                          "raw file read). The tran form's audit deviation is within its tolerance, 4x the hold's "
                          "tracking and droop bound (4e-4 for the default hold): ngspice's start-up and final "
                          "partial steps track the first and last sample differently.", "", *lines, "", extra, ""])
        with open(Path(__file__).with_name("RESULTS.md"), "a") as handle:
            handle.write(text)


if __name__ == "__main__":
    main()
