"""Samples per second of the direct engine against ngspice (batch engine) on the same circuits (issue 10).

Run:  OPENBLAS_NUM_THREADS=1 .venv/bin/python benchmarks/bench_direct.py [--batch 100] [--repeats 3]
      [--ngspice-wired-batch 10] [--write]

Networks 64-16-64, 196-20-196 and 784-20-784 (tanh, logistic; PR, cycles (0, 1); differential pairs;
ideal neurons), each with ideal wires (dc form, default 256-row tiles; and the tran form with the default
hold at the two smaller sizes) and with wire resistance (1 ohm row and column segments, 10 ohm driver and
sense) in tiles of 64 and of 128 rows x neurons. Per configuration it builds one circuit of a
``--batch``-sample minibatch and then, ``--repeats`` rounds, does what one co-simulation step does:

- rebind the circuit to new conductances (the weights scaled by a new factor, so every wired tile is
  factorised again) and new inputs (``rebind_circuit``, as the controller does);
- evaluate it with the direct engine (its compiled plan reused: the steady state of a co-simulation);
- evaluate the same circuit with ngspice (``BatchEngine.readings``: text written, ngspice run, raw file
  read), interleaved round by round; with wire resistance ngspice runs only at 64-16-64 in 64-row tiles,
  on a ``--ngspice-wired-batch``-sample minibatch (it spends seconds reordering each wired analysis),
  and the direct engine is timed on that minibatch too for the ratio.

Times are CPU seconds (this process plus its children, i.e. ngspice), the fastest round counts: the
machine is shared and wall time measures the other jobs as much as ours; the wall time of the same
rounds is shown beside. Columns: the fresh build of the circuit object (paid once per batch size by
the co-simulation), one rebind, the direct engine's first evaluation (compiling its plan), then the
steady state. Then a 256x256 tile with wire resistance solved for a 100-sample batch
(``solve_crossbar``, factorisation included). With --write the tables replace the "Direct engine
against ngspice (issue 10)" section of benchmarks/RESULTS.md.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import time
from pathlib import Path

import numpy as np

from recirc_analog import solve_crossbar
from recirc_analog.engines import get_engine
from recirc_analog.engines.direct import DirectEngine, audit_deviation
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.builder import build_circuit, get_conductances, rebind_circuit
from recirc_analog.schematic.mapping import choose_r_f
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, replace_section  # noqa: E402

SIZES = ((64, 16, 64), (196, 20, 196), (784, 20, 784))
ACTS = ("tanh", "logistic")
WIRES = dict(r_row=1.0, r_col=1.0, r_driver=10.0, r_sense=10.0)
SECTION = "## Direct engine against ngspice (issue 10)"


def cpu() -> float:
    """CPU seconds of this process and its finished children (ngspice)."""
    child = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + child.ru_utime + child.ru_stime


def timed(function):
    """(CPU s, wall s, result) of ``function()``."""
    c, w = cpu(), time.perf_counter()
    result = function()
    return cpu() - c, time.perf_counter() - w, result


class Setup:
    """One network and circuit spec; ``conductances(k)`` gives the k-th round's devices."""

    def __init__(self, sizes, form="dc", tile=None, wired=False, seed=0):
        self.net = CircularAutoencoder.random(sizes, ACTS, seed=seed)
        tiles = dict(tile_rows=tile, tile_neurons=tile) if tile else {}
        probe = CrossbarConfig(**tiles)
        r_f = choose_r_f(self.net.weights, self.net.biases, probe)
        crossbar = CrossbarConfig(r_f=r_f, **tiles, **(WIRES if wired else {}))
        self.spec = CircuitSpec(recirculation=Recirculation("pr"), crossbar=crossbar, form=form)
        self.rng = np.random.default_rng(seed + 1)

    def conductances(self, k):
        scale = 1.0 - 0.01 * (k + 1)
        moved = CircularAutoencoder(self.net.sizes, self.net.activations, [w * scale for w in self.net.weights],
                                    [b * scale for b in self.net.biases])
        return get_conductances(moved, self.spec)

    def inputs(self, batch):
        return self.rng.random((batch, self.net.sizes[0]))


def measure(setup: Setup, batch: int, repeats: int, direct: DirectEngine, ngspice) -> dict:
    build_cpu, _, circuit = timed(lambda: build_circuit(setup.net, setup.spec, setup.inputs(batch),
                                                        conductances=setup.conductances(-1)))
    direct.close()
    first_cpu, _, _ = timed(lambda: direct.readings(circuit, (0, 1), "first"))
    best = {"rebind": np.inf, "direct": np.inf, "direct_wall": np.inf, "ngspice": np.inf, "ngspice_wall": np.inf}
    deviation = None
    for k in range(repeats):
        conductances, x = setup.conductances(k), setup.inputs(batch)
        seconds, _, circuit = timed(lambda c=circuit: rebind_circuit(c, setup.net, setup.spec, x, conductances))
        best["rebind"] = min(best["rebind"], seconds)
        seconds, wall, ours = timed(lambda c=circuit: direct.readings(c, (0, 1), "bench"))
        best["direct"], best["direct_wall"] = min(best["direct"], seconds), min(best["direct_wall"], wall)
        if ngspice is not None:
            seconds, wall, theirs = timed(lambda c=circuit: ngspice.readings(c, (0, 1), "bench"))
            best["ngspice"], best["ngspice_wall"] = min(best["ngspice"], seconds), min(best["ngspice_wall"], wall)
            deviation = audit_deviation(ours.readings, theirs.readings)
    return dict(best, build=build_cpu, first=first_cpu, deviation=deviation, batch=batch,
                tiles=len(circuit.crossbars))


def row(name: str, result: dict) -> str:
    batch = result["batch"]
    step = result["rebind"] + result["direct"]
    ngspice = result["ngspice"]
    has_ngspice = np.isfinite(ngspice)
    cells = [name, f"{result['tiles']}", f"{batch}", f"{result['build']:.3f}", f"{result['rebind'] * 1e3:.1f}",
             f"{result['first']:.3f}", f"{result['direct'] * 1e3:.1f} ({result['direct_wall'] * 1e3:.1f})",
             f"{batch / result['direct']:,.0f}", f"{batch / step:,.0f}",
             f"{batch / ngspice:,.2f} ({batch / result['ngspice_wall']:,.2f})" if has_ngspice else "-",
             f"{ngspice / result['direct']:,.0f}x" if has_ngspice else "-",
             f"{result['deviation']:.1e}" if result["deviation"] is not None else "-"]
    return "| " + " | ".join(cells) + " |"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=100, help="samples per minibatch (default 100)")
    parser.add_argument("--repeats", type=int, default=3, help="rounds per configuration; the fastest counts")
    parser.add_argument("--ngspice-wired-batch", type=int, default=10,
                        help="samples of the one wired configuration ngspice runs (64-16-64, 64-row tiles)")
    parser.add_argument("--write", action="store_true", help="replace the section in benchmarks/RESULTS.md")
    args = parser.parse_args()
    direct, ngspice = DirectEngine(), get_engine("batch")
    lines = ["| network, form, wires | tiles | batch | build circuit (CPU s, once) | rebind (CPU ms) "
             "| direct first call (CPU s, compiles) | direct per batch (CPU ms; wall) | direct engine (samples/s) "
             "| rebind + direct (samples/s) | ngspice batch (samples/s; wall) | ngspice / direct | audit deviation |",
             "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"]
    configurations = [("-".join(map(str, s)) + ", dc, ideal", Setup(s), args.batch, True) for s in SIZES]
    configurations += [("-".join(map(str, s)) + ", tran, ideal", Setup(s, form="tran"), args.batch, True)
                       for s in SIZES[:2]]
    configurations += [("64-16-64, dc, wires, 64-row tiles (ngspice's batch)", Setup(SIZES[0], tile=64, wired=True),
                        args.ngspice_wired_batch, True)]
    configurations += [("-".join(map(str, s)) + f", dc, wires, {tile}-row tiles", Setup(s, tile=tile, wired=True),
                        args.batch, False) for tile in (64, 128) for s in SIZES]
    for name, setup, batch, with_ngspice in configurations:
        result = measure(setup, batch, args.repeats, direct, ngspice if with_ngspice else None)
        lines.append(row(name, result))
        print(lines[-1], flush=True)
    rng = np.random.default_rng(0)
    g, v = rng.uniform(1e-6, 1e-4, (256, 256)), rng.uniform(-1.0, 1.0, (100, 256))
    big = [timed(lambda: solve_crossbar(g, v, 1.0, 1.0)) for _ in range(args.repeats)]
    extra = (f"A 256x256 tile with wire resistance (1 ohm row and column segments, G uniform in [1e-6, 1e-4] S) "
             f"solved for a 100-sample batch by `solve_crossbar` (factorisation included): "
             f"{min(c for c, _, _ in big):.3f} s CPU, {min(w for _, w, _ in big):.3f} s wall (fastest of "
             f"{args.repeats}).")
    print(extra)
    ngspice.close()
    if args.write:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        text = "\n".join([SECTION, "", *header(), f"Load average at the end: {load}", "",
                          "PR, cycles (0, 1), tanh, logistic, differential pairs, ideal neurons. Wires: 1 ohm row "
                          "and column segments, 10 ohm driver and sense. CPU times (ngspice's included), fastest "
                          f"of {args.repeats} rounds; wall in parentheses. Each round rebinds the circuit to new "
                          "conductances and inputs, so every wired tile is factorised again, as after a "
                          "co-simulation update.", "", *lines, "", extra, ""])
        replace_section(SECTION, text)


if __name__ == "__main__":
    main()
