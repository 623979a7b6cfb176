"""Direct crossbar solver with wire resistance: factorise and solve times, against SciPy sparse LU and ngspice.

Run:  .venv/bin/python benchmarks/bench_crossbar_solver.py [--repeats 3] [--batch 100]
      [--tiles 64x64,128x40,40x128,128x128,256x256] [--ngspice-tiles 64x64] [--no-splu] [--write]

Every tile has r_row = r_col = 1 ohm per cell, no driver or sense resistance,
conductances uniform in [1e-6, 1e-4] S and a batch of inputs uniform in
[-1, 1] V. For each tile it times

- ``CrossbarTileSolver(G, r_row, r_col)``: the factorisation (the tile's
  effective transfer matrix), then ``.solve(V)`` for the whole batch;
- SciPy ``splu`` of the same nodal network (2 rows x cols unknowns) with three
  fill-reducing orderings, then one multi-right-hand-side solve for the batch
  (the matrix assembly is not timed): the alternatives the direct engine was
  measured against;
- ngspice 39 (``ngspice -b``, one ``.dc`` sweep over a selector source, the
  inputs as ``pwl(v(sel), ...)`` B-sources) on the tiles in ``--ngspice-tiles``:
  its CPU time, and the largest difference between its currents and ours.

Each contender runs ``--repeats`` times and its fastest run counts; times are
CPU seconds of this process (or of ngspice), which the other jobs on a shared
machine disturb less than wall time (BLAS threads add their CPU time, so run
with ``OPENBLAS_NUM_THREADS=1`` for one-core numbers). The last table
estimates the crossbar part of a 784-20-784 co-simulation step (differential
pairs, tiles of at most 128 x 128, a minibatch factorised once and each
layer solved twice).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import scipy.sparse as sp
from scipy.sparse.csgraph import reverse_cuthill_mckee
from scipy.sparse.linalg import splu

from recirc_analog.engines.crossbar_solver import CrossbarTileSolver
from recirc_analog.engines.rawfile import read_raw

sys.path.insert(0, str(Path(__file__).parent))
from bench_reference import header, publish  # noqa: E402

R_WIRE = 1.0
G_RANGE = (1e-6, 1e-4)


def fastest_cpu(repeats, fn):
    """(best CPU seconds, last result) over ``repeats`` calls of ``fn``."""
    best, out = float("inf"), None
    for _ in range(max(1, repeats)):
        start = time.process_time()
        out = fn()
        best = min(best, time.process_time() - start)
    return best, out


# ---------------------------------------------------------------- SciPy sparse LU on the nodal matrix

def nodal_system(g, r_row, r_col):
    """Nodal matrix of the tile (row nodes then column nodes, row-major) and where inputs and outputs sit."""
    rows, cols = g.shape
    n_cells = rows * cols
    u = np.arange(n_cells).reshape(rows, cols)
    w = u + n_cells
    edges = [(u.ravel(), w.ravel(), g.ravel()),
             (u[:, :-1].ravel(), u[:, 1:].ravel(), np.full(rows * (cols - 1), 1.0 / r_row)),
             (w[:-1, :].ravel(), w[1:, :].ravel(), np.full((rows - 1) * cols, 1.0 / r_col))]
    a = np.concatenate([e[0] for e in edges])
    b = np.concatenate([e[1] for e in edges])
    c = np.concatenate([e[2] for e in edges])
    diag = np.bincount(a, c, 2 * n_cells) + np.bincount(b, c, 2 * n_cells)
    diag[u[:, 0]] += 1.0 / r_row
    diag[w[-1, :]] += 1.0 / r_col
    k = sp.coo_matrix((np.concatenate([-c, -c, diag]),
                       (np.concatenate([a, b, np.arange(2 * n_cells)]),
                        np.concatenate([b, a, np.arange(2 * n_cells)]))),
                      shape=(2 * n_cells, 2 * n_cells)).tocsc()
    return k, u[:, 0], w[-1, :]


def splu_contender(g, v, ordering):
    """Factorise the nodal matrix with ``ordering``; return (factorise, solve) callables."""
    k, inputs, outputs = nodal_system(g, R_WIRE, R_WIRE)
    perm = None
    if ordering == "RCM":
        perm = reverse_cuthill_mckee(k, symmetric_mode=True)
        k = k[perm][:, perm].tocsc()
        where = np.empty_like(perm)
        where[perm] = np.arange(len(perm))
        inputs, outputs = where[inputs], where[outputs]
    state = {}

    def factorise():
        if ordering == "RCM":
            state["lu"] = splu(k, permc_spec="NATURAL", diag_pivot_thresh=0.0,
                               options={"SymmetricMode": True})
        else:
            state["lu"] = splu(k, permc_spec=ordering)
        return state["lu"]

    def solve():
        rhs = np.zeros((k.shape[0], len(v)))
        rhs[inputs] = v.T / R_WIRE
        return (state["lu"].solve(rhs)[outputs] / R_WIRE).T

    return factorise, solve


# ---------------------------------------------------------------- ngspice

def netlist(g, v):
    rows, cols = g.shape
    lines = ["* crossbar tile with wire resistance", ".options reltol=1e-9 abstol=1e-15", "vsel sel 0 dc 0"]
    for i in range(rows):
        pairs = ", ".join(f"{k},{x:.17g}" for k, x in enumerate(v[:, i]))
        lines.append(f"bdrv{i} in{i} 0 v=pwl(v(sel), {pairs})")
        lines.append(f"rfirst{i} in{i} r{i}_0 {R_WIRE}")
        lines += [f"rrow{i}_{j} r{i}_{j - 1} r{i}_{j} {R_WIRE}" for j in range(1, cols)]
        for j in range(cols):
            lines.append(f"rdev{i}_{j} r{i}_{j} c{i}_{j} {1.0 / g[i, j]:.17g}")
            if i + 1 < rows:
                lines.append(f"rcol{i}_{j} c{i}_{j} c{i + 1}_{j} {R_WIRE}")
    for j in range(cols):
        lines += [f"rlast{j} c{rows - 1}_{j} s{j} {R_WIRE}", f"vsense{j} s{j} 0 dc 0"]
    lines += [".save " + " ".join(f"i(vsense{j})" for j in range(cols)), f".dc vsel 0 {len(v) - 1} 1", ".end"]
    return "\n".join(lines) + "\n"


def run_ngspice(g, v):
    """(ngspice CPU seconds, column currents (batch, cols)) for one batch run in a fresh folder."""
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        (folder / "tile.cir").write_text(netlist(g, v))
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        done = subprocess.run(["ngspice", "-b", "-r", "out.raw", "tile.cir"], cwd=folder,
                              capture_output=True, text=True)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        if done.returncode != 0:
            raise SystemExit(f"ngspice failed: {done.stdout[-500:]}{done.stderr[-500:]}")
        plot = read_raw(folder / "out.raw")[-1]
        currents = np.stack([plot.get(f"i(vsense{j})") for j in range(g.shape[1])], axis=1)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return cpu, currents


# ---------------------------------------------------------------- main

def parse_tiles(text):
    return [tuple(int(n) for n in item.split("x")) for item in text.split(",") if item]


def cosim_estimate(repeats, batch, rng):
    """Crossbar part of one 784-20-784 minibatch: factorise every tile once, four solve passes."""
    layers = [(784, 40), (20, 1568)]  # (rows, cols) with differential column pairs
    tiles = []
    for rows, cols in layers:
        for start in range(0, rows, 128):
            n = min(128, rows - start)
            for first in range(0, cols, 128):
                m = min(128, cols - first)
                tiles.append((rng.uniform(*G_RANGE, (n, m)), rng.uniform(-1, 1, (batch, n))))

    def step():
        solvers = [CrossbarTileSolver(g, R_WIRE, R_WIRE) for g, _ in tiles]
        for _ in range(2):  # recirculation: each layer's crossbar is evaluated twice per sample
            for solver, (_, v) in zip(solvers, tiles):
                solver.solve(v)

    seconds, _ = fastest_cpu(repeats, step)
    return len(tiles), seconds


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3, help="runs per contender, fastest counts (default 3)")
    parser.add_argument("--batch", type=int, default=100, help="input vectors per batch (default 100)")
    parser.add_argument("--tiles", default="64x64,128x40,40x128,128x128,256x256",
                        help="rowsxcols tiles, comma-separated")
    parser.add_argument("--ngspice-tiles", default="64x64",
                        help="tiles also run in ngspice (keep <= 64x64: ngspice reorders for seconds)")
    parser.add_argument("--no-splu", action="store_true", help="skip the SciPy sparse LU contenders")
    parser.add_argument("--write", action="store_true", help="append the tables to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    rng = np.random.default_rng(0)
    spice_tiles = set(parse_tiles(args.ngspice_tiles)) if shutil.which("ngspice") else set()
    lines = [*header(),
             f"r_row = r_col = {R_WIRE:g} ohm, G uniform in [{G_RANGE[0]:g}, {G_RANGE[1]:g}] S, "
             f"batch {args.batch}, fastest of {args.repeats} runs, CPU seconds.", "",
             "| tile | contender | factorise (s) | solve batch (s) | total (s) | max rel. diff vs direct |",
             "|---|---|---|---|---|---|"]
    for rows, cols in parse_tiles(args.tiles):
        g = rng.uniform(*G_RANGE, (rows, cols))
        v = rng.uniform(-1, 1, (args.batch, rows))
        t_fac, tile = fastest_cpu(args.repeats, lambda: CrossbarTileSolver(g, R_WIRE, R_WIRE))
        t_sol, ours = fastest_cpu(args.repeats, lambda: tile.solve(v))
        scale = np.abs(ours).max()
        name = f"{rows}x{cols}"
        lines.append(f"| {name} | direct (this engine) | {t_fac:.4f} | {t_sol:.5f} | {t_fac + t_sol:.4f} | - |")
        print(lines[-1], file=sys.stderr, flush=True)
        if not args.no_splu:
            for ordering in ("COLAMD", "MMD_AT_PLUS_A", "RCM"):
                factorise, solve = splu_contender(g, v, ordering)
                f_fac, lu = fastest_cpu(args.repeats, factorise)
                f_sol, theirs = fastest_cpu(args.repeats, solve)
                diff = np.abs(theirs - ours).max() / scale
                fill = lu.L.nnz + lu.U.nnz
                lines.append(f"| {name} | SciPy splu, {ordering} (L+U nnz {fill:,}) | {f_fac:.4f} | {f_sol:.5f} | "
                             f"{f_fac + f_sol:.4f} | {diff:.1e} |")
                print(lines[-1], file=sys.stderr, flush=True)
        if (rows, cols) in spice_tiles:
            cpu, theirs = run_ngspice(g, v)
            diff = np.abs(theirs - ours).max() / scale
            lines.append(f"| {name} | ngspice 39, one .dc sweep ({(cpu / (t_fac + t_sol)):.0f}x the direct "
                         f"engine) | - | - | {cpu:.3f} | {diff:.1e} |")
            print(lines[-1], file=sys.stderr, flush=True)
    tiles, seconds = cosim_estimate(args.repeats, args.batch, rng)
    lines += ["", f"Crossbar part of one 784-20-784 minibatch ({args.batch} samples; differential pairs; "
              f"{tiles} tiles of at most 128x128: 784x40 and 20x1568; every tile factorised once, "
              f"each layer solved twice): {seconds:.4f} s CPU = {args.batch / seconds:.0f} samples/s "
              f"(neurons, device updates and bookkeeping not included)."]
    publish(lines, "Direct crossbar solver with wire resistance (issue 10)", args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
