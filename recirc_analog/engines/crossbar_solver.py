"""Direct solver for one resistive crossbar tile with wire (IR-drop) resistance.

The circuit (the project's convention, see docs/ARCHITECTURE.md)::

    V_i --r_driver--r_row--+--r_row--+-- ... --+--r_row--+      row i (open far end)
                           |         |         |         |
                         G[i,0]    G[i,1]    ...     G[i,C-1]
                           |         |         |         |
                          ...       ...       ...       ...     column j runs down
                           |         |
                         r_col     r_col                        (one segment between
                           |         |                           neighbouring devices)
                        r_sense   r_sense
                           |         |
                          0 V       0 V                         virtual grounds (TIAs)

Row line ``i`` is driven at one end by ``V_i`` through ``r_driver``; one row
segment ``r_row`` lies between the driver and the first device and between
neighbouring devices; the far end is open. Column line ``j`` is open at row 0;
one column segment ``r_col`` lies between neighbouring devices and between the
last device (row ``R-1``) and the sense node, which is held at 0 V behind
``r_sense``. A 1x1 crossbar with device ``R`` and wire ``r`` therefore carries
``V / (R + 2 r)``. The returned currents flow into the virtual grounds.

Algorithm (exact: a direct solve, error at the level of rounding).
The tile is linear, so its column currents are ``I = V @ G_eff`` for an
effective ``(rows, cols)`` transfer matrix that depends on the conductances and
wires only. :class:`CrossbarTileSolver` computes ``G_eff`` once (per
conductance update) and every batch afterwards is one matrix product.

``G_eff`` comes from block Gaussian elimination that follows the network:

1. Each row line is a tridiagonal chain touching only its own devices. Its
   Kron reduction onto the ``C`` column nodes of that row gives a dense
   conductance matrix ``A_i`` (``C x C``) and a Norton injection ``b_i V_i``
   (one tridiagonal solve with ``C + 1`` right-hand sides per row).
2. The column lines couple row ``i`` to row ``i + 1`` through the diagonal
   wire conductance ``g = 1 / r_col``. Walking down the tile, ``D_i`` (the
   conductance matrix seen from row ``i``'s column nodes looking up) follows
   ``D_0 = A_0``, ``D_i = A_i + g (g I + D_{i-1})^{-1} D_{i-1}`` (the upper part
   in series with one wire segment: a sum of positive terms, no cancellation),
   and the Norton currents of all rows seen so far pass the same segment as
   ``Y <- g (g I + D)^{-1} Y``. One Cholesky factorisation per row.
3. The last segment (``r_col + r_sense``) to the virtual grounds gives
   ``G_eff^T = g_end (g_end I + D_{R-1})^{-1} Y``.

The cost is ``R`` dense ``C x C`` Cholesky steps: about ``R C^3 + R^2 C^2``
flops. By reciprocity the same tile can be solved rotated (columns driven at
their sense end, rows sensed at their driver end: ``G[::-1, ::-1].T`` with the
row and column resistances swapped), so the solver walks along the longer side
with blocks of the shorter one. Zero resistances merge nodes (a row with
``r_row = 0`` is one node, a column with ``r_col = 0`` one node) and are
handled exactly; with no resistance at all ``G_eff`` is ``G`` itself and the
currents are exactly ``voltages @ conductances``.

Accuracy: a direct solve, so only rounding separates it from the exact
currents: it agrees with ngspice (``reltol=1e-9``) and with SciPy's sparse LU
of the full nodal matrix to ~1e-13 relative on random 64x64 to 256x256 tiles
with 1-ohm wires. Like every elimination of a nodal matrix it subtracts
conductances of very different size (``g I - g^2 H^-1``), so rounding grows
with the ratio of wire to device / end conductances: extreme ratios (e.g.
1e-6 ohm segments next to a 30 ohm driver) cost a few digits (~1e-9).

Cost (one core, AMD EPYC; ``benchmarks/bench_crossbar_solver.py``): a
128x40 tile factorises in ~5 ms, 128x128 in ~0.04 s, 256x256 in ~0.45 s;
solving a 100-sample batch afterwards takes well under 1 ms. Run it with one
BLAS thread (``OPENBLAS_NUM_THREADS=1`` or threadpoolctl in the caller): the
per-row matrices are small, and on the project's shared 2-vCPU machines a
second OpenBLAS thread made it 5-10x slower in wall time.

Only NumPy and SciPy; nothing here touches ngspice (ngspice audits it in the
tests).
"""

from __future__ import annotations

import math

import numpy as np
from scipy.linalg import cho_factor, cho_solve
from scipy.linalg.blas import dsymm
from scipy.linalg.lapack import dpotrf, dpotri

from ..errors import ConfigError, check_range

__all__ = ["CrossbarTileSolver", "solve_crossbar"]


def solve_crossbar(conductances, voltages, r_row, r_col, *, r_driver=0.0, r_sense=0.0):
    """Column currents of a resistive crossbar tile with wire resistance.

    Parameters
    ----------
    conductances : array, shape ``(rows, cols)``, siemens, every entry > 0.
        Device ``G[i, j]`` connects row line ``i`` to column line ``j``.
    voltages : array, shape ``(batch, rows)``, volts.
        One input vector per sample; ``voltages[b, i]`` drives row ``i``.
    r_row, r_col : float >= 0, ohm per cell pitch.
        One row segment lies between the driver and the first device and
        between neighbouring devices along a row; one column segment between
        neighbouring devices along a column and between the last device and
        the sense node (a 1x1 tile carries ``V / (R + 2 r)``).
    r_driver, r_sense : float >= 0, ohm (keyword only, default 0).
        Output resistance of each row driver, input resistance of each
        column's sense node, in series with the end segments.

    Returns
    -------
    array, shape ``(batch, cols)``, amperes: the current flowing out of each
    column line into its virtual ground (0 V). With all four resistances zero
    it is exactly ``voltages @ conductances``.

    Raises :class:`~recirc_analog.errors.ConfigError` (one line naming the
    parameter, the allowed range and the value) for wrong shapes, non-finite
    values, conductances <= 0 or negative resistances.
    """
    tile = CrossbarTileSolver(conductances, r_row, r_col, r_driver=r_driver, r_sense=r_sense)
    return tile.solve(voltages)


class CrossbarTileSolver:
    """One crossbar tile factorised once, solved for any number of batches.

    ``CrossbarTileSolver(conductances, r_row, r_col, r_driver=0, r_sense=0)``
    eliminates the network into the effective ``(rows, cols)`` transfer matrix
    :attr:`effective_conductances` (siemens); :meth:`solve` then costs one
    matrix product per batch. Build a new object after a conductance update.
    Shapes, units and the circuit convention are those of :func:`solve_crossbar`.
    """

    def __init__(self, conductances, r_row, r_col, *, r_driver=0.0, r_sense=0.0):
        g = _check_conductances(conductances)
        resistances = {}
        for name, value in (("r_row", r_row), ("r_col", r_col), ("r_driver", r_driver), ("r_sense", r_sense)):
            check_range(f"{name} (ohm)", value, 0.0, math.inf, high_open=True)
            resistances[name] = float(value)
        self.conductances = g
        self.r_row = resistances["r_row"]
        self.r_col = resistances["r_col"]
        self.r_driver = resistances["r_driver"]
        self.r_sense = resistances["r_sense"]
        self.shape = g.shape
        if not any(resistances.values()):
            # Ideal wires: the transfer matrix is G itself (exactly V @ G).
            self.effective_conductances = g
        else:
            self.effective_conductances = effective_conductances(
                g, self.r_row, self.r_col, self.r_driver, self.r_sense)

    def solve(self, voltages) -> np.ndarray:
        """Column currents ``(batch, cols)`` in amperes for ``voltages`` ``(batch, rows)`` in volts."""
        v = _check_voltages(voltages, self.shape[0])
        return v @ self.effective_conductances


def effective_conductances(g, r_row, r_col, r_driver=0.0, r_sense=0.0, *, rotate=None) -> np.ndarray:
    """The ``(rows, cols)`` matrix ``M`` with column currents ``I = V @ M`` (inputs already checked).

    ``rotate`` (None: automatic) chooses the orientation: False walks down the
    rows with ``cols x cols`` blocks, True solves the reciprocal rotated tile
    (walks along the columns with ``rows x rows`` blocks). Both give the same
    matrix; the automatic choice takes the smaller blocks.
    """
    rows, cols = g.shape
    if rotate is None:
        rotate = rows < cols
    if rotate:
        m = _walk_down(np.ascontiguousarray(g[::-1, ::-1].T), r_col, r_row, r_sense, r_driver)
        return np.ascontiguousarray(m[::-1, ::-1].T)
    return _walk_down(g, r_row, r_col, r_driver, r_sense)


def port_transfer(g, r_row, r_col, r_driver, r_sense, sensed) -> np.ndarray:
    """Transfer matrix of any split of a tile's ports into sensed and driven ones (inputs already checked).

    ``sensed``: bool array over the ports, rows first then columns (``rows + cols`` entries);
    a sensed port is held at exactly 0 V (a virtual ground), a driven one at a known voltage.
    Returns ``T`` of shape (driven ports, sensed ports) with the currents flowing out of the
    sensed ports into their virtual grounds ``I_S = V_D @ T`` (amperes for volts; ports in the
    same order as ``sensed``). With every column sensed and every row driven it is
    :func:`effective_conductances`; the same network read from the column side (columns driven,
    rows sensed) is its transpose (reciprocity), and a split with ports of both kinds on one side
    (the bidirectional crossbar's backward read with its driven bias row) needs this function.

    Method: the nodal matrix of the whole tile (every wire site, zero resistances merged) in
    SciPy sparse form; its internal block is factorised once (SuperLU) and solved for the
    driven ports; ``T = -(A_SD - A_SI A_II^-1 A_ID)^T`` (the Schur complement onto the ports).
    A direct solve: exact up to rounding, about 10-50x slower than :func:`effective_conductances`
    on the same tile, so the direct engine uses it only where that one does not apply.
    """
    from scipy.sparse import coo_matrix
    from scipy.sparse.linalg import splu

    rows, cols = g.shape
    sensed = np.asarray(sensed, dtype=bool)
    if sensed.shape != (rows + cols,):
        raise ConfigError(f"sensed must flag the {rows + cols} ports of a {rows}x{cols} tile, got shape {sensed.shape}")
    # Node numbering: ports (rows, then columns), then per row its driver node and its sites,
    # per column its sites and its sense node; union-find merges nodes joined by 0 ohm.
    n_ports = rows + cols
    driver = n_ports + np.arange(rows)
    row_site = n_ports + rows + np.arange(rows * cols).reshape(rows, cols)
    col_site = n_ports + rows + rows * cols + np.arange(rows * cols).reshape(rows, cols)
    sense = n_ports + rows + 2 * rows * cols + np.arange(cols)
    parent = np.arange(n_ports + rows + 2 * rows * cols + cols)

    def find(a):
        while parent[a] != a:
            parent[a] = parent[parent[a]]
            a = parent[a]
        return a

    links = []                       # (node a, node b, ohm) of the wires
    for i in range(rows):
        links.append((i, driver[i], r_driver))
        links.append((driver[i], row_site[i, 0], r_row))
        links += [(row_site[i, j - 1], row_site[i, j], r_row) for j in range(1, cols)]
    for j in range(cols):
        links += [(col_site[i, j], col_site[i + 1, j], r_col) for i in range(rows - 1)]
        links.append((col_site[rows - 1, j], sense[j], r_col))
        links.append((sense[j], rows + j, r_sense))
    for a, b, ohms in links:
        if ohms == 0.0:
            a, b = find(a), find(b)
            if a != b:
                parent[max(a, b)] = min(a, b)   # ports keep the lowest numbers, so they stay the roots
    branches = [(a, b, 1.0 / ohms) for a, b, ohms in links if ohms != 0.0]
    branches += [(row_site[i, j], col_site[i, j], g[i, j]) for i in range(rows) for j in range(cols)]
    a, b, conductance = (np.array(column) for column in zip(*branches))
    roots = np.array([find(k) for k in range(len(parent))])
    classes, index = np.unique(roots, return_inverse=True)
    a, b = index[a], index[b]
    n = len(classes)
    keep = a != b
    a, b, conductance = a[keep], b[keep], conductance[keep]
    matrix = coo_matrix((np.concatenate([conductance, conductance, -conductance, -conductance]),
                         (np.concatenate([a, b, a, b]), np.concatenate([a, b, b, a]))), shape=(n, n)).tocsc()
    port_class = index[:n_ports]                     # ports are their own classes, in port order
    internal = np.setdiff1d(np.arange(n), port_class)
    s_idx, d_idx = port_class[sensed], port_class[~sensed]
    a_sd = matrix[s_idx][:, d_idx].toarray()
    if len(internal):
        a_si = matrix[s_idx][:, internal]
        a_id = matrix[internal][:, d_idx].toarray()
        x = splu(matrix[internal][:, internal].tocsc()).solve(a_id)
        a_sd = a_sd - a_si @ x
    return np.ascontiguousarray(-a_sd.T)


def _walk_down(g, r_row, r_col, r_driver, r_sense) -> np.ndarray:
    """Block elimination row by row (see the module docstring); returns ``G_eff`` ``(rows, cols)``."""
    rows, cols = g.shape
    row_reduce = _row_reductions(g, r_row, r_driver)
    if r_col == 0.0:
        # Each column line is one node: sum the rows' reductions.
        a_sum = np.zeros((cols, cols))
        b = np.empty((cols, rows))
        for i in range(rows):
            a_i, b[:, i] = next(row_reduce)
            a_sum += a_i
        if r_sense == 0.0:
            return np.ascontiguousarray(b.T)
        g_s = 1.0 / r_sense
        a_sum[np.diag_indices(cols)] += g_s
        return np.ascontiguousarray((g_s * cho_solve(cho_factor(a_sum, lower=True), b)).T)
    g_wire = 1.0 / r_col
    g_end = 1.0 / (r_col + r_sense)
    # y[:, k]: the Norton currents that input row k delivers to the current row's column nodes.
    # Only the lower triangles of the symmetric C x C matrices are kept up to date (LAPACK/BLAS read those).
    y = np.zeros((cols, rows), order="F")
    diag = np.diag_indices(cols)
    g2 = g_wire * g_wire
    # h = g I + D for the rows seen so far, built in place on the row's reduction (ours to overwrite).
    h, y[:, 0] = next(row_reduce)
    for i in range(1, rows):
        # One wire segment below the rows seen so far: D <- g H^-1 D = g I - g^2 H^-1
        # (the upper part in series with g) and Y <- g H^-1 Y.
        h[diag] += g_wire
        h_inv = _spd_inverse_lower(h)
        h, y[:, i] = next(row_reduce)
        y[:, :i] = dsymm(g_wire, h_inv, y[:, :i], side=0, lower=1)
        h_inv *= g2
        h -= h_inv
        h[diag] += g_wire
    h[diag] += g_end
    h_inv = _spd_inverse_lower(h)
    return np.ascontiguousarray(dsymm(g_end, h_inv, y, side=0, lower=1).T)


def _spd_inverse_lower(h):
    """Lower triangle of ``h^-1`` (upper one undefined) for SPD ``h``; reads, may overwrite, h's lower triangle."""
    c, info = dpotrf(h, lower=True, overwrite_a=True, clean=False)
    if info == 0:
        c, info = dpotri(c, lower=True, overwrite_c=True)
    if info != 0:  # cannot happen for a connected network with positive conductances
        raise np.linalg.LinAlgError(f"crossbar nodal matrix not positive definite (LAPACK info {info})")
    return c


def _row_reductions(g, r_row, r_driver, chunk_elements=1 << 21):
    """Kron reduction of each row line onto its column nodes: yields ``(A_i, b_i)`` for i = 0, 1, ...

    With the column nodes of row ``i`` at voltages ``w`` and its driver at
    ``V_i``, the currents flowing from row ``i``'s devices into the column nodes
    are ``b_i V_i - A_i w``. Only the lower triangle of ``A_i`` is filled in.
    Rows are reduced a chunk at a time (vectorised over the rows of a chunk).

    A row line with segments is a symmetric tridiagonal chain ``T`` (diagonal
    dominant, off-diagonal ``-g``). Its inverse is semiseparable: with the
    elimination pivots from the driver end ``p`` and from the open end ``q``,
    ``T^-1[k, k] = 1 / (d_k - g^2/p_{k-1} - g^2/q_{k+1})`` and, for ``j < k``,
    ``T^-1[j, k] = T^-1[j+1, k] g / p_j`` (factors below 1, so no overflow).
    Then ``A = diag(G) - diag(G) T^-1 diag(G)`` and ``b = g_first G T^-1[0, :]``.
    """
    rows, cols = g.shape
    diag = np.diag_indices(cols)
    if r_row > 0.0:
        g_seg = 1.0 / r_row
        g_first = 1.0 / (r_driver + r_row)
        g2 = g_seg * g_seg
        chain = np.full(cols, 2.0 * g_seg)
        chain[-1] = g_seg
        chain[0] = g_first + (g_seg if cols > 1 else 0.0)
    step = max(1, chunk_elements // (cols * cols))
    for start in range(0, rows, step):
        gs = g[start:start + step]
        n = len(gs)
        if r_row == 0.0:
            # The whole row line is one node (tied to the driver when r_driver = 0).
            if r_driver == 0.0:
                a = np.zeros((n, cols, cols))
                b = gs.copy()
            else:
                g_d = 1.0 / r_driver
                total = g_d + gs.sum(axis=1)
                a = gs[:, :, None] * gs[:, None, :]
                a /= -total[:, None, None]
                b = gs * (g_d / total)[:, None]
        else:
            d = chain + gs
            p = np.empty_like(d)
            q = np.empty_like(d)
            p[:, 0] = d[:, 0]
            for k in range(1, cols):
                p[:, k] = d[:, k] - g2 / p[:, k - 1]
            q[:, -1] = d[:, -1]
            for k in range(cols - 2, -1, -1):
                q[:, k] = d[:, k] - g2 / q[:, k + 1]
            t = d.copy()
            t[:, 1:] -= g2 / p[:, :-1]
            t[:, :-1] -= g2 / q[:, 1:]
            rho = g_seg / p
            u = np.zeros((n, cols, cols))  # upper triangle of T^-1, row j = u[:, j, :]
            u[:, diag[0], diag[1]] = 1.0 / t
            for j in range(cols - 2, -1, -1):
                np.multiply(rho[:, j, None], u[:, j + 1, j + 1:], out=u[:, j, j + 1:])
            b = gs * u[:, 0, :]
            b *= g_first
            a = u.transpose(0, 2, 1)  # lower triangle of T^-1
            a *= gs[:, :, None]
            a *= gs[:, None, :]
            a *= -1.0
        a[:, diag[0], diag[1]] += gs
        for k in range(n):
            yield a[k], b[k]


def _check_conductances(conductances) -> np.ndarray:
    try:
        g = np.array(conductances, dtype=float)  # a copy: later changes to the caller's array do not leak in
    except (TypeError, ValueError):
        raise ConfigError(f"conductances must be a 2-D array of numbers (rows, cols) in S, "
                          f"got {type(conductances).__name__}") from None
    if g.ndim != 2 or 0 in g.shape:
        raise ConfigError(f"conductances must be a non-empty 2-D array (rows, cols) in S, got shape {g.shape}")
    bad = ~(np.isfinite(g) & (g > 0))
    if bad.any():
        index = tuple(int(k) for k in np.argwhere(bad)[0])
        raise ConfigError(f"conductances must be in (0, inf) S, got {float(g[index])!r} at {list(index)}")
    return g


def _check_voltages(voltages, rows) -> np.ndarray:
    try:
        v = np.asarray(voltages, dtype=float)
    except (TypeError, ValueError):
        raise ConfigError(f"voltages must be a 2-D array of numbers (batch, {rows}) in V, "
                          f"got {type(voltages).__name__}") from None
    if v.ndim != 2 or v.shape[1] != rows:
        raise ConfigError(f"voltages must have shape (batch, {rows}) (one row per sample, "
                          f"one volt value per crossbar row), got shape {v.shape}")
    bad = ~np.isfinite(v)
    if bad.any():
        index = tuple(int(k) for k in np.argwhere(bad)[0])
        raise ConfigError(f"voltages must be finite (-inf, inf) V, got {float(v[index])!r} at {list(index)}")
    return v
