"""Wire resistance (issue 10): the generated tile subcircuit in ngspice against hand-derived currents.

Convention (netlists/README.md, "Wire resistance"): row line l is driven at the end next
to local column 0 through r_driver, column line k is sensed after the last local row through
r_sense; one r_row segment before every device along a row, one r_col segment after every
device along a column. Each test writes one tile with the package's writer, instantiates it
with a voltage source on every row port and a 0-V ammeter on every column port, and compares
the ammeter currents with a formula derived in the comments (or an independent nodal solve).
"""

import io

import numpy as np
import pytest

from recirc_analog.errors import ConfigError
from recirc_analog.netlist_writers.api import get_writer
from recirc_analog.schematic.elements import Crossbar
from recirc_analog.schematic.mapping import Conductances
from recirc_analog.schematic.spec import CrossbarConfig


def tile(plus, minus=None, reference=None, **wires):
    """A tile with devices ``plus`` (neurons, rows) [and ``minus``, ``reference`` (rows,)] in S."""
    n_out, n_rows = np.shape(plus)
    rows = tuple(f"r_{j}" for j in range(n_rows))
    prefix = "cp" if minus is not None else "c"
    return Crossbar("xt", "test tile", rows, tuple(f"{prefix}_{i}" for i in range(n_out)),
                    tuple(f"cn_{i}" for i in range(n_out)) if minus is not None else None,
                    "cref" if reference is not None else None,
                    Conductances(np.asarray(plus, float), None if minus is None else np.asarray(minus, float),
                                 None if reference is None else np.asarray(reference, float)), **wires)


def subckt_text(crossbar) -> str:
    out = io.StringIO()
    get_writer("ngspice").write_crossbar(crossbar, out)
    return out.getvalue()


def column_currents(ngspice, crossbar, volts, folder, drive="rows") -> np.ndarray:
    """Currents (A) out of the column ports into 0-V ammeters with the row ports at ``volts``
    (``drive="rows"``), or out of the row ports with the column ports at ``volts`` ("columns")."""
    driven, sensed = ((crossbar.rows, crossbar.column_ports) if drive == "rows"
                      else (crossbar.column_ports, crossbar.rows))
    lines = ["wire test", subckt_text(crossbar)]
    lines += [f"Vd{k} n_{port} 0 dc {float(v)!r}" for k, (port, v) in enumerate(zip(driven, volts))]
    lines += [f"Vs{k} n_{port} 0 dc 0" for k, port in enumerate(sensed)]
    lines += [f"X1 {' '.join('n_' + p for p in crossbar.ports)} {crossbar.name}", ".options reltol=1e-9",
              ".op", ".end"]
    vectors = ngspice.simulate("\n".join(lines) + "\n", folder)
    return np.array([vectors[f"i(vs{k})"][0] for k in range(len(sensed))])


def port_admittance(g, r_row, r_col, r_driver=0.0, r_sense=0.0) -> np.ndarray:
    """Port admittance matrix (S) of a tile with device conductances ``g`` (rows, columns) by an
    independent dense nodal analysis (all resistances > 0): ports are the row ports then the
    column ports; internal nodes the row-line sites, the column-line sites, each row's driver
    node and each column's end node. ``Y @ port volts`` are the currents flowing into the tile."""
    n_r, n_c = g.shape
    row = lambda r, k: r * n_c + k  # noqa: E731
    col = lambda r, k: n_r * n_c + r * n_c + k  # noqa: E731
    drv = lambda r: 2 * n_r * n_c + r  # noqa: E731
    end = lambda k: 2 * n_r * n_c + n_r + k  # noqa: E731
    inner = 2 * n_r * n_c + n_r + n_c
    row_port = lambda r: inner + r  # noqa: E731
    column_port = lambda k: inner + n_r + k  # noqa: E731
    y = np.zeros((inner + n_r + n_c,) * 2)

    def branch(a, b, conductance):
        y[a, a] += conductance
        y[b, b] += conductance
        y[a, b] -= conductance
        y[b, a] -= conductance

    for r in range(n_r):
        branch(row_port(r), drv(r), 1 / r_driver)
        branch(drv(r), row(r, 0), 1 / r_row)
        for k in range(1, n_c):
            branch(row(r, k - 1), row(r, k), 1 / r_row)
        for k in range(n_c):
            branch(row(r, k), col(r, k), g[r, k])
    for k in range(n_c):
        for r in range(n_r - 1):
            branch(col(r, k), col(r + 1, k), 1 / r_col)
        branch(col(n_r - 1, k), end(k), 1 / r_col)
        branch(end(k), column_port(k), 1 / r_sense)
    ii, pp = slice(0, inner), slice(inner, None)
    return y[pp, pp] - y[pp, ii] @ np.linalg.solve(y[ii, ii], y[ii, pp])


def nodal_currents(g, volts, r_row, r_col, r_driver=0.0, r_sense=0.0) -> np.ndarray:
    """Currents (A) out of the column ports into 0-V sense nodes with the row ports at ``volts``
    ((rows,) or (batch, rows)), from :func:`port_admittance`."""
    n_r = g.shape[0]
    y = port_admittance(g, r_row, r_col, r_driver, r_sense)
    return -np.asarray(volts, dtype=float) @ y[n_r:, :n_r].T


def test_one_by_one_tile_carries_v_over_r_plus_2r(ngspice, tmp_path):
    # one row segment (driver -> device) and one column segment (device -> sense): V / (R + 2 r)
    big_r, r, v = 1e4, 50.0, 0.3
    got = column_currents(ngspice, tile([[1 / big_r]], r_row=r, r_col=r), [v], tmp_path)
    np.testing.assert_allclose(got, [v / (big_r + 2 * r)], rtol=1e-9)
    assert not np.isclose(got[0], v / big_r, rtol=1e-4)  # the wires are really there
    # driver and sense resistances add in series: V / (R + r_row + r_col + r_driver + r_sense)
    got = column_currents(ngspice, tile([[1 / big_r]], r_row=r, r_col=2 * r, r_driver=7.0, r_sense=11.0), [v],
                          tmp_path)
    np.testing.assert_allclose(got, [v / (big_r + 3 * r + 18.0)], rtol=1e-9)


def test_one_row_two_columns(ngspice, tmp_path):
    # V -r- a0 -r- a1 (row line); device k from a_k to column k, whose one segment r_c leads to 0 V.
    # S_k = R_k + r_c is column k's path to ground; a0 sees S0 || (r + S1):
    #   P = S0 (r + S1) / (S0 + r + S1),  a0 = V P / (r + P),  I0 = a0 / S0,  I1 = a0 / (r + S1).
    big_r0, big_r1, r, r_c, v = 2e3, 5e3, 100.0, 40.0, 0.25
    s0, s1 = big_r0 + r_c, big_r1 + r_c
    p = s0 * (r + s1) / (s0 + r + s1)
    a0 = v * p / (r + p)
    expected = [a0 / s0, a0 / (r + s1)]
    got = column_currents(ngspice, tile([[1 / big_r0], [1 / big_r1]], r_row=r, r_col=r_c), [v], tmp_path)
    np.testing.assert_allclose(got, expected, rtol=1e-9)


def test_two_rows_one_column(ngspice, tmp_path):
    # Row l: V_l -r_r- device R_l -> column site c_l; column: c0 -r_c- c1 -r_c- 0 V (sense at the end
    # after the last row). T_l = R_l + r_r. Row 0's current passes c0 -> c1 in series: (V0 - c1) / (T0 + r_c).
    # KCL at c1: (V1 - c1) / T1 + (V0 - c1) / (T0 + r_c) = c1 / r_c, so
    #   c1 = (V1 / T1 + V0 / (T0 + r_c)) / (1 / T1 + 1 / (T0 + r_c) + 1 / r_c),  I = c1 / r_c.
    big_r0, big_r1, r_r, r_c, v0, v1 = 3e3, 8e3, 30.0, 200.0, 0.2, -0.15
    t0, t1 = big_r0 + r_r, big_r1 + r_r
    c1 = (v1 / t1 + v0 / (t0 + r_c)) / (1 / t1 + 1 / (t0 + r_c) + 1 / r_c)
    got = column_currents(ngspice, tile([[1 / big_r0, 1 / big_r1]], r_row=r_r, r_col=r_c), [v0, v1], tmp_path)
    np.testing.assert_allclose(got, [c1 / r_c], rtol=1e-9)


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_tile_matches_an_independent_nodal_solve(mapping, ngspice, tmp_path):
    rng = np.random.default_rng(4)
    n_out, n_rows = 3, 4
    plus = rng.uniform(1e-5, 1e-3, (n_out, n_rows))
    wires = dict(r_row=20.0, r_col=35.0, r_driver=5.0, r_sense=8.0)
    if mapping == "differential":
        crossbar = tile(plus, minus=rng.uniform(1e-5, 1e-3, (n_out, n_rows)), **wires)
    else:
        crossbar = tile(plus, reference=rng.uniform(1e-5, 1e-3, n_rows), **wires)
    volts = rng.uniform(-0.3, 0.3, n_rows)
    got = column_currents(ngspice, crossbar, volts, tmp_path)
    np.testing.assert_allclose(got, nodal_currents(crossbar.conductance_matrix(), volts, **wires), rtol=1e-8)
    # with every row above 0 V every site lies between 0 V and its drive: each device carries less
    # than G V, and so does each column (IR drop only ever reduces the currents then)
    volts = np.abs(volts)
    got = column_currents(ngspice, crossbar, volts, tmp_path)
    np.testing.assert_allclose(got, nodal_currents(crossbar.conductance_matrix(), volts, **wires), rtol=1e-8)
    assert np.all(got < volts @ crossbar.conductance_matrix() * (1 - 1e-4))


def test_backward_read_is_the_transposed_transfer(ngspice, tmp_path):
    # The bidirectional backward read drives the column ports and senses the row ports of the same
    # resistor network. With every other port at 0 V the network is reciprocal: driving column k
    # with V gives at row port l the current that driving row l with V gives at column port k.
    rng = np.random.default_rng(6)
    crossbar = tile(rng.uniform(1e-5, 1e-3, (2, 3)), minus=rng.uniform(1e-5, 1e-3, (2, 3)),
                    r_row=40.0, r_col=15.0, r_driver=3.0, r_sense=9.0)
    n_rows, n_columns = len(crossbar.rows), len(crossbar.column_ports)
    forward = np.array([column_currents(ngspice, crossbar, np.eye(n_rows)[r], tmp_path) for r in range(n_rows)])
    backward = np.array([column_currents(ngspice, crossbar, np.eye(n_columns)[k], tmp_path, drive="columns")
                         for k in range(n_columns)])
    np.testing.assert_allclose(backward, forward.T, rtol=1e-8)


def test_zero_segments_merge_nodes():
    g = [[1e-4, 2e-4], [3e-4, 4e-4]]
    assert tile(g).wiring().resistors == ()
    assert subckt_text(tile(g)) == subckt_text(tile(g, r_row=0.0, r_col=0.0, r_driver=0.0, r_sense=0.0))
    wiring = tile(g, r_col=2.0).wiring()  # ideal rows: a row line is its port
    assert {r.name for r in wiring.resistors} == {"Rwc_0_0", "Rwc_0_1", "Rwc_1_0", "Rwc_1_1"}
    assert wiring.row_sites == (("r_0", "r_0"), ("r_1", "r_1"))
    wiring = tile(g, r_driver=3.0, r_sense=4.0).wiring()  # ideal lines behind a driver / sense resistor
    assert sorted(r.name for r in wiring.resistors) == ["Rdrv_0", "Rdrv_1", "Rsns_0", "Rsns_1"]
    assert wiring.row_sites == (("wd0", "wd0"), ("wd1", "wd1"))
    assert wiring.column_sites == (("ws0", "ws1"), ("ws0", "ws1"))


def test_wire_names_cannot_collide_with_devices():
    crossbar = tile([[1e-4, 2e-4]], minus=[[1e-4, 1e-4]], r_row=1.0, r_col=1.0, r_driver=1.0, r_sense=1.0)
    text = subckt_text(crossbar)
    names = [line.split()[0] for line in text.splitlines() if line.startswith("R")]
    assert len(names) == len(set(names))
    devices = [n for n in names if n.startswith(("Rp_", "Rn_"))]
    assert sorted(devices) == ["Rn_0_0", "Rn_0_1", "Rp_0_0", "Rp_0_1"]
    assert all(n.startswith(("Rwr_", "Rwc_", "Rdrv_", "Rsns_")) for n in names if n not in devices)


@pytest.mark.parametrize("name", ["r_row", "r_col", "r_driver", "r_sense"])
@pytest.mark.parametrize("value", [-1.0, float("nan"), float("inf"), "1"])
def test_bad_wire_resistances_are_refused(name, value):
    with pytest.raises(ConfigError, match=name):
        CrossbarConfig(**{name: value})
    with pytest.raises(ConfigError, match=name):
        tile([[1e-4]], **{name: value})


def circuit_activities(circuit, net, x, v_unit, r_f, wires):
    """Cycle-0 activities of layers 1 and 2 of a generated conjoined circuit, evaluated from its
    tile objects with :func:`nodal_currents` (row ports at their driving voltages, column ports
    at virtual ground; the currents of a neuron's row tiles add at its node)."""
    volts_by_row = {f"r_{j}": v_unit * x[:, j] for j in range(x.shape[1])}
    outputs = []
    for h in (1, 2):
        volts_by_row["r_b"] = np.full(len(x), v_unit)
        currents = {}
        for crossbar in circuit.crossbars:
            if not crossbar.name.startswith(f"xbar{h}_"):
                continue
            g = crossbar.conductance_matrix()
            volts = np.stack([volts_by_row[row] for row in crossbar.rows], axis=1)
            for port, i in zip(crossbar.column_ports, nodal_currents(g, volts, **wires).T):
                currents[port] = currents.get(port, 0.0) + i
        n = net.sizes[h]
        s = np.stack([r_f * (currents[f"cp_{i}"] - currents[f"cn_{i}"]) / v_unit for i in range(n)], axis=1)
        o = np.tanh(s)
        outputs.append(o)
        volts_by_row = {f"r_{j}": v_unit * o[:, j] for j in range(n)}
    return outputs


def test_generated_dc_circuit_with_wires_matches_its_tiles_and_loses_current(ngspice, tmp_path):
    """32-8-32 in tiles of 16 (layer 1: 3 row tiles summed at each neuron; layer 2: 2 column tiles
    driven from the same row nodes) against the tile-by-tile nodal solve, and weaker than ideal wires."""
    from recirc_analog.engines.readout import read_activity
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.schematic.builder import build_circuit
    from recirc_analog.schematic.spec import CircuitSpec

    net = CircularAutoencoder.random((32, 8, 32), ("tanh", "tanh"), seed=7)
    x = np.random.default_rng(8).uniform(0, 1, size=(3, 32))
    r_f = 2.0 * max(np.abs(np.hstack([a, b[:, None]])).max() for a, b in zip(net.weights, net.biases)) / 99e-6
    wires = dict(r_row=4.0, r_col=6.0, r_driver=2.0, r_sense=3.0)
    activities = {}
    for label, extra in (("ideal", {}), ("wired", wires)):
        spec = CircuitSpec(crossbar=CrossbarConfig(r_f=r_f, tile_rows=16, tile_neurons=16, **extra))
        circuit = build_circuit(net, spec, x)
        vectors = ngspice.simulate(get_writer().get_netlist(circuit), tmp_path, label)
        activities[label] = [read_activity(vectors, circuit.node_map, h, 0) for h in (1, 2)]
    for h, expected in zip((1, 2), net.forward(x)[1:]):
        np.testing.assert_allclose(activities["ideal"][h - 1], expected, rtol=1e-6, atol=1e-7)
    expected = circuit_activities(circuit, net, x, spec.v_unit, r_f, wires)
    for h in (1, 2):
        wired, ideal = activities["wired"][h - 1], activities["ideal"][h - 1]
        np.testing.assert_allclose(wired, expected[h - 1], rtol=1e-6, atol=1e-7, err_msg=f"layer {h}")
        assert np.abs(wired - ideal).max() > 1e-4, f"layer {h}: the wires change nothing"
        # IR drop weakens every device's current: the activities shrink on the whole
        assert np.abs(wired).sum() < np.abs(ideal).sum(), f"layer {h}"


def ideal_admittance(g) -> np.ndarray:
    """Port admittance of a tile without wires (every port is its whole line)."""
    g = np.asarray(g, dtype=float)
    return np.block([[np.diag(g.sum(axis=1)), -g], [-g.T, np.diag(g.sum(axis=0))]])


def read_tiles(tiles, volts, sensed, admittance) -> dict:
    """Currents (A, per sample) out of the ``sensed`` ports of ``tiles`` into 0 V, every other
    port at ``volts[port]``; the currents of ports of one name (one node) add."""
    currents = {}
    for crossbar in tiles:
        batch = len(next(iter(volts.values())))
        v = np.stack([np.zeros(batch) if p in sensed else volts[p] for p in crossbar.ports], axis=1)
        flowing_in = v @ admittance(crossbar).T
        for index, port in enumerate(crossbar.ports):
            if port in sensed:
                currents[port] = currents.get(port, 0.0) - flowing_in[:, index]
    return currents


def test_bidirectional_backward_read_with_wires(ngspice, tmp_path):
    """The backward read drives the column ports (and the bias row) and senses the row ports of
    the same wired tiles: ngspice against the port admittances of an independent nodal analysis
    (the ideal-wire run checks the sign conventions of the evaluation)."""
    from recirc_analog.engines.readout import read_activity
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.reference.tied import tie_weights
    from recirc_analog.schematic.builder import build_circuit
    from recirc_analog.schematic.spec import CircuitSpec

    net = tie_weights(CircularAutoencoder.random((12, 5, 12), ("tanh", "tanh"), seed=2))
    x = np.random.default_rng(3).uniform(0, 1, size=(2, 12))
    r_f = 2.0 * max(np.abs(np.hstack([a, b[:, None]])).max() for a, b in zip(net.weights, net.biases)) / 99e-6
    wires = dict(r_row=20.0, r_col=30.0, r_driver=10.0, r_sense=15.0)
    for extra, admittance in (({}, lambda t: ideal_admittance(t.conductance_matrix())),
                              (wires, lambda t: port_admittance(t.conductance_matrix(), **wires))):
        spec = CircuitSpec(architecture="bidirectional",
                           crossbar=CrossbarConfig(r_f=r_f, tile_rows=8, tile_neurons=4, **extra))
        circuit = build_circuit(net, spec, x)
        vectors = ngspice.simulate(get_writer().get_netlist(circuit), tmp_path)
        v_unit = spec.v_unit
        bias = {"r_b": np.full(len(x), v_unit), "cp_b": np.full(len(x), v_unit), "cn_b": np.full(len(x), -v_unit)}
        forward = read_tiles(circuit.crossbars, {**{f"r_{j}": v_unit * x[:, j] for j in range(12)}, **bias},
                             {f"cp_{i}" for i in range(5)} | {f"cn_{i}" for i in range(5)}, admittance)
        o1 = np.tanh(np.stack([r_f * (forward[f"cp_{i}"] - forward[f"cn_{i}"]) / v_unit for i in range(5)], 1))
        volts = {**{f"cp_{i}": v_unit * o1[:, i] for i in range(5)},
                 **{f"cn_{i}": -v_unit * o1[:, i] for i in range(5)}, **bias}
        backward = read_tiles(circuit.crossbars, volts, {f"r_{j}" for j in range(12)}, admittance)
        o2 = np.tanh(np.stack([r_f * backward[f"r_{j}"] / v_unit for j in range(12)], 1))
        np.testing.assert_allclose(read_activity(vectors, circuit.node_map, 1, 0), o1, rtol=1e-6, atol=1e-7)
        np.testing.assert_allclose(read_activity(vectors, circuit.node_map, 2, 0), o2, rtol=1e-6, atol=1e-7)
        if not extra:
            ideal = o2
            np.testing.assert_allclose(o2, net.forward(x)[2], rtol=1e-6, atol=1e-7)
    assert np.abs(o2 - ideal).max() > 1e-4  # the wires matter in this test
