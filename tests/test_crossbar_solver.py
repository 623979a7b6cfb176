"""The direct crossbar solver with wire resistance (issue 10).

Closed forms for tiny tiles, exact ``V @ G`` without wires, ngspice (the
reference engine) on random tiles up to 64x64, and physical sanity checks.
"""

import shutil
import subprocess

import numpy as np
import pytest

from recirc_analog import solve_crossbar
from recirc_analog.engines.crossbar_solver import CrossbarTileSolver, effective_conductances, port_transfer
from recirc_analog.engines.rawfile import read_raw
from recirc_analog.errors import ConfigError

# ---------------------------------------------------------------- closed forms


def test_one_by_one_is_device_plus_two_segments():
    # Driver -> r_row -> device R -> r_col -> virtual ground: one series loop,
    # I = V / (R + 2 r) (the convention's defining example).
    r_dev, r = 1e4, 3.0
    v = np.array([[0.5], [-0.2]])
    current = solve_crossbar(np.array([[1.0 / r_dev]]), v, r, r)
    np.testing.assert_allclose(current, v / (r_dev + 2 * r), rtol=1e-14)


def test_one_by_one_with_driver_and_sense_resistance():
    # r_driver and r_sense add to the same loop: I = V / (R + r_row + r_col + r_driver + r_sense).
    r_dev, r_row, r_col, r_drv, r_sns = 2e4, 2.0, 5.0, 7.0, 11.0
    current = solve_crossbar([[1.0 / r_dev]], [[1.0]], r_row, r_col, r_driver=r_drv, r_sense=r_sns)
    np.testing.assert_allclose(current, [[1.0 / (r_dev + r_row + r_col + r_drv + r_sns)]], rtol=1e-14)


@pytest.mark.parametrize("r_drv,r_sns", [(0.0, 0.0), (40.0, 25.0)])
def test_one_by_two_hand_derived(r_drv, r_sns):
    # One row, two devices R1 (nearer the driver) and R2:
    #   V -- r_drv -- r -- a -- r -- b          (row line, open after b)
    #                      |         |
    #                      R1        R2
    #                      |         |
    #                      r         r          (last column segment of each column)
    #                      |         |
    #                    r_sns     r_sns -> 0 V
    # Branch 1 from node a to ground: R1 + r + r_sns.
    # Branch 2 from node a: the row segment a-b, then R2 + r + r_sns: R2 + 2r + r_sns.
    # Node a sees the two in parallel: Rp = B1 B2 / (B1 + B2); the driver loop is
    # r_drv + r + Rp, so v_a = V Rp / (r_drv + r + Rp), I1 = v_a / B1, I2 = v_a / B2.
    r1, r2, r, v = 1e4, 3e4, 50.0, 0.8
    b1 = r1 + r + r_sns
    b2 = r2 + 2 * r + r_sns
    rp = b1 * b2 / (b1 + b2)
    v_a = v * rp / (r_drv + r + rp)
    expected = [[v_a / b1, v_a / b2]]
    current = solve_crossbar([[1 / r1, 1 / r2]], [[v]], r, r, r_driver=r_drv, r_sense=r_sns)
    np.testing.assert_allclose(current, expected, rtol=1e-13)


def test_two_by_one_hand_derived():
    # Two rows, one column (column open above row 0):
    #   V0 -- r -- p ;  V1 -- r -- q ; devices R0 from p to c0, R1 from q to c1;
    #   column: c0 -- r -- c1 -- r -- 0 V.
    # Row 0's path to c1 is one branch of resistance a = r + R0 + r (nothing else hangs on c0),
    # row 1's is b = r + R1. Node c1 with the last segment r to ground (Millman):
    #   v_c1 = (V0/a + V1/b) / (1/a + 1/b + 1/r),  I = v_c1 / r.
    r0, r1, r = 1e4, 2.5e4, 80.0
    v0, v1 = 0.3, -0.7
    a, b = r + r0 + r, r + r1
    v_c1 = (v0 / a + v1 / b) / (1 / a + 1 / b + 1 / r)
    current = solve_crossbar([[1 / r0], [1 / r1]], [[v0, v1]], r, r)
    np.testing.assert_allclose(current, [[v_c1 / r]], rtol=1e-13)


def test_zero_wire_resistance_is_exactly_v_at_g():
    rng = np.random.default_rng(1)
    g = rng.uniform(1e-6, 1e-4, (37, 23))
    v = rng.uniform(-1, 1, (11, 37))
    current = solve_crossbar(g, v, 0.0, 0.0)
    assert np.array_equal(current, v @ g)
    tile = CrossbarTileSolver(g, 0, 0)
    assert np.array_equal(tile.solve(v), v @ g)
    expected = v @ g
    g[0, 0] *= 2  # the tile keeps its own copy of the conductances
    assert np.array_equal(tile.solve(v), expected)


# ---------------------------------------------------------------- internal consistency


@pytest.mark.parametrize("shape", [(1, 5), (5, 1), (6, 9), (9, 6)])
def test_both_orientations_agree(shape):
    # The solver walks along the longer side; the reciprocal rotated tile must give the same matrix.
    rng = np.random.default_rng(2)
    g = rng.uniform(1e-6, 1e-3, shape)
    for res in [(1.0, 2.0, 0.0, 0.0), (30.0, 7.0, 100.0, 50.0), (0.0, 5.0, 20.0, 0.0), (4.0, 0.0, 0.0, 9.0)]:
        down = effective_conductances(g, *res, rotate=False)
        across = effective_conductances(g, *res, rotate=True)
        np.testing.assert_allclose(across, down, rtol=1e-12, atol=0)


@pytest.mark.parametrize("which", ["r_row", "r_col", "both"])
def test_zero_segments_are_the_limit_of_small_ones(which):
    # r = 0 merges nodes (handled separately); it must be the limit of r -> 0.
    rng = np.random.default_rng(3)
    g = rng.uniform(1e-6, 1e-4, (7, 5))
    v = rng.uniform(-1, 1, (3, 7))
    base = {"r_row": 10.0, "r_col": 10.0}
    zero = dict(base, **({which: 0.0} if which != "both" else {"r_row": 0.0, "r_col": 0.0}))
    tiny = dict(base, **({which: 1e-4} if which != "both" else {"r_row": 1e-4, "r_col": 1e-4}))
    for extra in ({}, {"r_driver": 30.0, "r_sense": 20.0}):
        exact = solve_crossbar(g, v, zero["r_row"], zero["r_col"], **extra)
        near = solve_crossbar(g, v, tiny["r_row"], tiny["r_col"], **extra)
        np.testing.assert_allclose(exact, near, rtol=1e-6)
        if extra or which != "both":  # (both zero and no driver / sense resistance is exactly V @ G)
            assert not np.allclose(exact, v @ g, rtol=1e-6)


# ---------------------------------------------------------------- any split of the ports (port_transfer)


def split(rows, cols, sensed_rows=(), sensed_cols=()):
    mask = np.zeros(rows + cols, dtype=bool)
    mask[list(sensed_rows)] = True
    mask[[rows + j for j in sensed_cols]] = True
    return mask


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 4), (12, 12)])
@pytest.mark.parametrize("res", [(1.0, 2.0, 5.0, 3.0), (1.0, 0.0, 0.0, 2.0), (0.0, 1.0, 3.0, 0.0), (0.0,) * 4])
def test_port_transfer_forward_and_backward_reads(shape, res):
    """Oracles: the walk-down solver (forward read: rows driven, columns at 0 V), reciprocity
    (backward read: columns driven, rows at 0 V, the same matrix transposed), V @ G without wires."""
    rows, cols = shape
    g = np.random.default_rng(rows * cols).uniform(1e-6, 1e-4, shape)
    forward = effective_conductances(g, *res) if any(res) else g
    np.testing.assert_allclose(port_transfer(g, *res, split(rows, cols, sensed_cols=range(cols))), forward,
                               rtol=1e-12, atol=1e-13 * forward.max())
    np.testing.assert_allclose(port_transfer(g, *res, split(rows, cols, sensed_rows=range(rows))), forward.T,
                               rtol=1e-12, atol=1e-13 * forward.max())


def test_port_transfer_two_by_one_with_a_driven_row_hand_derived():
    """Row 0 sensed (0 V), row 1 and the column driven; r_col = r only. Column site 0 hangs off site 1
    through r, and row 0's current is the current down that branch: with a = 1 / (r + 1/G0),
    v1 = (G1 V1 + g Vc) / (a + G1 + g) (g = 1/r) and I0 = a v1."""
    g0, g1, r = 1e-4, 3e-5, 50.0
    a, gw = 1.0 / (r + 1.0 / g0), 1.0 / r
    t = port_transfer(np.array([[g0], [g1]]), 0.0, r, 0.0, 0.0, split(2, 1, sensed_rows=[0]))
    np.testing.assert_allclose(t, [[a * g1 / (a + g1 + gw)], [a * gw / (a + g1 + gw)]], rtol=1e-14)
    # Without wires the driven row draws nothing from the sensed one: I0 = G0 Vc.
    t = port_transfer(np.array([[g0], [g1]]), 0.0, 0.0, 0.0, 0.0, split(2, 1, sensed_rows=[0]))
    np.testing.assert_allclose(t, [[0.0], [g0]], atol=1e-20)


def test_port_transfer_refuses_a_wrong_mask():
    with pytest.raises(ConfigError, match="sensed must flag the 5 ports of a 2x3 tile"):
        port_transfer(np.ones((2, 3)), 1.0, 1.0, 0.0, 0.0, np.zeros(4, dtype=bool))


# ---------------------------------------------------------------- ngspice


def crossbar_netlist(g, v, r_row, r_col, r_driver=0.0, r_sense=0.0) -> str:
    """A plain resistor grid: rows driven by B-sources picking vector k = v(sel), 0-V ammeters at the column ends."""
    rows, cols = g.shape
    lines = ["* crossbar tile with wire resistance",
             ".options reltol=1e-10 abstol=1e-18 vntol=1e-15",
             "vsel sel 0 dc 0"]
    points = np.arange(len(v))
    for i in range(rows):
        # pwl needs at least two points: repeat a single vector.
        pairs = ", ".join(f"{k:d},{x:.17g}" for k, x in zip(points, v[:, i]))
        if len(v) == 1:
            pairs += f", 1,{v[0, i]:.17g}"
        lines.append(f"bdrv{i} in{i} 0 v=pwl(v(sel), {pairs})")
        first = r_driver + r_row
        lines.append(f"rfirst{i} in{i} r{i}_0 {first:.17g}")
        for j in range(1, cols):
            lines.append(f"rrow{i}_{j} r{i}_{j - 1} r{i}_{j} {r_row:.17g}")
        for j in range(cols):
            lines.append(f"rdev{i}_{j} r{i}_{j} c{i}_{j} {1.0 / g[i, j]:.17g}")
            if i + 1 < rows:
                lines.append(f"rcol{i}_{j} c{i}_{j} c{i + 1}_{j} {r_col:.17g}")
    for j in range(cols):
        lines.append(f"rlast{j} c{rows - 1}_{j} s{j} {r_col + r_sense:.17g}")
        lines.append(f"vsense{j} s{j} 0 dc 0")
    lines.append(".save " + " ".join(f"i(vsense{j})" for j in range(cols)))
    lines.append(f".dc vsel 0 {len(v) - 1} 1" if len(v) > 1 else ".op")
    lines.append(".end")
    return "\n".join(lines) + "\n"


def run_ngspice(netlist: str, folder, cols: int) -> np.ndarray:
    """Column currents (points, cols) from ``ngspice -b -r`` in a fresh folder (no .spiceinit there)."""
    (folder / "tile.cir").write_text(netlist)
    done = subprocess.run(["ngspice", "-b", "-r", "out.raw", "tile.cir"], cwd=folder,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stdout + done.stderr
    plot = read_raw(folder / "out.raw")[-1]
    return np.stack([plot.get(f"i(vsense{j})") for j in range(cols)], axis=1)


needs_ngspice = pytest.mark.skipif(shutil.which("ngspice") is None, reason="ngspice not installed")


@needs_ngspice
@pytest.mark.parametrize("shape,res,batch", [
    ((1, 1), (2.0, 3.0, 0.0, 0.0), 1),
    ((3, 7), (5.0, 2.0, 40.0, 15.0), 2),
    ((12, 4), (1.0, 1.0, 0.0, 0.0), 3),
    ((4, 12), (0.5, 8.0, 10.0, 0.0), 3),
    ((64, 64), (1.0, 1.0, 0.0, 0.0), 3),
])
def test_matches_ngspice(tmp_path, shape, res, batch):
    rng = np.random.default_rng(sum(shape))
    g = rng.uniform(1e-6, 1e-4, shape)
    v = rng.uniform(-1, 1, (batch, shape[0]))
    r_row, r_col, r_drv, r_sns = res
    expected = run_ngspice(crossbar_netlist(g, v, r_row, r_col, r_drv, r_sns), tmp_path, shape[1])
    current = solve_crossbar(g, v, r_row, r_col, r_driver=r_drv, r_sense=r_sns)
    np.testing.assert_allclose(current, expected[:batch], rtol=1e-6, atol=1e-6 * np.abs(expected).max())
    # The wires matter at this accuracy (otherwise this test could not fail).
    assert np.abs(v @ g - expected[:batch]).max() > 1e-5 * np.abs(expected).max()


# ---------------------------------------------------------------- physics


def test_currents_fall_as_wire_resistance_grows():
    rng = np.random.default_rng(4)
    g = rng.uniform(1e-6, 1e-4, (16, 8))
    v = rng.uniform(0.1, 1.0, (2, 16))  # all inputs positive: every column current positive
    previous = v @ g
    for r in (0.5, 2.0, 10.0, 50.0, 250.0):
        current = solve_crossbar(g, v, r, r)
        assert np.all(current > 0)
        assert np.all(current < previous)
        previous = current


def test_linear_in_the_inputs():
    rng = np.random.default_rng(5)
    g = rng.uniform(1e-6, 1e-4, (20, 9))
    tile = CrossbarTileSolver(g, 3.0, 2.0, r_driver=5.0, r_sense=1.0)
    a, b = rng.uniform(-1, 1, (2, 4, 20))
    np.testing.assert_allclose(tile.solve(2.5 * a - 0.7 * b), 2.5 * tile.solve(a) - 0.7 * tile.solve(b),
                               rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(tile.solve(a), solve_crossbar(g, a, 3.0, 2.0, r_driver=5.0, r_sense=1.0),
                               rtol=1e-14)


# ---------------------------------------------------------------- validation


@pytest.mark.parametrize("call,message", [
    (lambda: solve_crossbar(np.ones(3), np.ones((1, 3)), 1, 1), "conductances must be a non-empty 2-D array"),
    (lambda: solve_crossbar([[1e-4, -1e-5]], [[1.0]], 1, 1),
     "conductances must be in (0, inf) S, got -1e-05 at [0, 1]"),
    (lambda: solve_crossbar([[1e-4, 0.0]], [[1.0]], 1, 1), "conductances must be in (0, inf) S, got 0.0"),
    (lambda: solve_crossbar([[np.nan]], [[1.0]], 1, 1), "conductances must be in (0, inf) S, got nan"),
    (lambda: solve_crossbar([[1e-4]], [1.0], 1, 1), "voltages must have shape (batch, 1)"),
    (lambda: solve_crossbar([[1e-4]], [[1.0, 2.0]], 1, 1), "got shape (1, 2)"),
    (lambda: solve_crossbar([[1e-4]], [[np.inf]], 1, 1), "voltages must be finite (-inf, inf) V, got inf"),
    (lambda: solve_crossbar([[1e-4]], [[1.0]], -1, 1), "r_row (ohm) must be in [0.0, inf), got -1"),
    (lambda: solve_crossbar([[1e-4]], [[1.0]], 1, np.inf), "r_col (ohm) must be in [0.0, inf), got inf"),
    (lambda: solve_crossbar([[1e-4]], [[1.0]], 1, 1, r_driver=-2.0), "r_driver (ohm) must be in [0.0, inf)"),
    (lambda: solve_crossbar([[1e-4]], [[1.0]], 1, 1, r_sense="x"), "r_sense (ohm) must be a number"),
])
def test_bad_inputs_raise_one_line_config_errors(call, message):
    with pytest.raises(ConfigError) as info:
        call()
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_top_level_export_is_lazy():
    # `recirc-analog --help` stays fast: importing the package must not pull in SciPy or the solver.
    import sys

    code = ("import sys, recirc_analog; assert 'scipy' not in sys.modules, 'scipy imported'; "
            "assert 'recirc_analog.engines.crossbar_solver' not in sys.modules; "
            "recirc_analog.solve_crossbar; assert 'recirc_analog.engines.crossbar_solver' in sys.modules")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
