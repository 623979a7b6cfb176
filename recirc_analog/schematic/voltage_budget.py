"""The voltage budget: layer 0 scaled into the DAC read range, and the row / op-amp checks.

A crossbar row must stay within the read voltage (``CircuitSpec.read_voltage``,
default +-0.2 V, below typical ReRAM switching thresholds), and every op-amp
output within its swing (``NeuronConfig.swing``). Lowrank data at
``v_unit = 0.2 V`` puts 2.4 V (16-d) to 5.2 V (100-d) on layer 1's rows, so:

Scaling
    Each layer g = 0..L-1 drives the rows of layer g + 1 at ``scale[g]`` volts per
    unit activity, ``scale[g] = v_unit * 2**-k_g`` with k_g >= 0 the smallest shift
    that brings every predicted activity layer g puts on a row, and the bias row of
    layer g + 1 (one unit), into the budget; layer L is layer 0's neurons (the
    network is circular) and shares its scale. Layer h's rows then carry
    ``scale[h-1] * activity`` and its bias row ``scale[h-1]`` (node ``vb`` at
    ``v_unit``, else ``vs<h>``); its transimpedance gain is
    ``r_f * scale[h] / scale[h-1]`` and its activation cell works at ``scale[h]``,
    so every pre-activation node is ``scale[h] * S^h`` and the network computes the
    same function. Powers of two keep every scaled number in the netlist an exact
    float multiple of the unscaled one. The weight-to-conductance mapping (``r_f``
    of ``w = r_f (G+ - G-)``) is unchanged, so the programmed devices are the same.
    The bidirectional architecture (one crossbar read both ways) takes one common
    scale for every layer. Data and activities already inside the budget (MNIST in
    [0, 1], tanh or logistic hidden layers, at 0.2 V) give ``k = 0`` everywhere: the
    netlist is byte-identical to an unscaled one. At most :data:`MAX_SHIFT` halvings:
    below that ngspice's vntol is no longer small against an activity.
Prediction
    Which activities the circuit will carry is predicted with the exact NumPy
    reference of the recirculation (:func:`recirc_analog.reference.recirculation.run_cycles`)
    on the weights the circuit realises (read back from the conductances when
    they are given). The check is therefore as good as the circuit's agreement
    with the reference (ideal periphery: ngspice's tolerances; op-amp periphery:
    its documented gain error). Nodes checked: every row of every crossbar read
    (data, recirculated, hidden and, in the blending modes, fresh activities,
    and the bias row), and with the op-amp periphery every column stage's output
    ``-r_f' * I_column`` against the swing (bidirectional: layer 1's forward read
    only). Ideal behavioural blocks (ideal TIAs, activations, mixers, hold
    buffers) have no swing and are not checked. Not covered: the tran form's
    idle lead-in phases, where the sample counter is negative and ngspice's
    ``pwl`` extrapolates the data table linearly beyond sample 0 (measured:
    0.245 V on a row of a circuit whose samples stay within 0.152 V); no
    reading is taken there.

Op-amp swing (``plan`` with :class:`StageLimits`)
    A column stage's output is ``-r_f' * I_column = -r_f * scale[h] * (G x~)`` with
    ``x~`` the unscaled rows (bias row included): it depends on layer h's own scale
    only (layer L: layer 0's), and on each column line alone, not on the difference
    the neuron reads. A layer whose stage would pass ``(1 - SWING_MARGIN) * swing``
    is shifted further, ``scale[h] * 2**-j`` with the smallest such j, when its
    activation keeps its function under scaling (``StageLimits.scalable``: ideal and
    macromodel activations, the sky130 linear stage); a layer whose curve belongs to
    one voltage scale (the sky130 differential pair: its saturation is in volts, and
    the run's reference uses the curve measured at the run's scale) keeps its scale,
    and ``check_swing`` stops with the ``v_unit`` that would fit. Measured (studies/sky130):
    a Lowrank 16-4-16 REC run's layer-1 stage reached 0.74 V at v_unit 0.1 V after 13
    updates, and the prediction of an online run (lr 0.05, 300 updates) peaks at 4.7 x
    v_unit, so sky130 runs of that size use v_unit 0.025 V.

A violation raises :class:`BudgetError` (a ConfigError: one line on the command
line, exit code 2) naming the node, the value and the budget.
"""

import math
from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles

RELATIVE_SLACK = 1e-9
"""A value may exceed its budget by this fraction (float rounding of a value exactly at the bound)."""


class BudgetError(ConfigError):
    """A node of the circuit would leave its voltage budget."""


MAX_SHIFT = 10
"""Largest k of a layer's scale ``v_unit * 2**-k``: 1/1024 of v_unit (0.2 mV per unit at 0.2 V) keeps
ngspice's vntol (1e-10 V) below 1e-6 of an activity; a layer needing more is reported by the row check."""


def input_scale(largest: float, v_unit: float, read_voltage: float) -> float:
    """The power of two ``s = 2**-k`` (0 <= k <= MAX_SHIFT, dimensionless) with
    ``v_unit * largest * s <= read_voltage``, the largest such; 1 when ``largest`` (the largest
    |activity| a layer puts on a row) already fits, ``2**-MAX_SHIFT`` when none fits."""
    volts = v_unit * float(largest)
    if not math.isfinite(volts):
        return 2.0 ** -MAX_SHIFT
    k = 0
    while k < MAX_SHIFT and v_unit * largest * 2.0 ** -k > read_voltage * (1 + RELATIVE_SLACK):
        k += 1
    return 2.0 ** -k


def layer_scales(v_unit: float, shifts) -> tuple[float, ...]:
    """Volts per unit activity of layers 0..L from the scales ``shifts`` (dimensionless) of layers
    0..L-1: layer L (layer 0's neurons) takes layer 0's."""
    return tuple(v_unit * s for s in shifts) + (v_unit * shifts[0],)


def bias_nodes(scales, v_unit: float) -> dict:
    """h -> (node, volts) of layer h's bias row, h = 1..L: ``vb`` at ``v_unit``, or ``vs<h>`` at ``scales[h-1]``."""
    return {h: ("vb", v_unit) if scales[h - 1] == v_unit else (f"vs{h}", scales[h - 1])
            for h in range(1, len(scales))}


def tia_gain_factor(scales, h: int) -> float:
    """Factor on layer h's transimpedance gain: ``scale[h] / scale[h-1]`` (dimensionless)."""
    return scales[h] / scales[h - 1]


@dataclass(frozen=True)
class LayerInput:
    """One vector a layer's crossbar reads (for the checks): values per sample and row."""

    cycle: int
    """The cycle k it is read at."""
    values: np.ndarray
    """(batch, N_{h-1}) activities on the rows (dimensionless)."""
    bias: bool
    """Whether the bias row is driven (False in cycles k >= 1 of ``error`` mode)."""


@dataclass(frozen=True)
class Budget:
    """The voltage plan of one circuit: the layer scales and the activities they were chosen for."""

    read_voltage: float | None
    """Row budget (V), or None (no check)."""
    scales: tuple[float, ...]
    """Volts per unit activity of layers 0..L."""
    v_unit: float
    """The spec's volts per unit activity (V)."""
    inputs: dict
    """h -> list of :class:`LayerInput` layer h's crossbar reads; empty without a check."""

    @property
    def scaled(self) -> bool:
        """True when some layer runs below ``v_unit``."""
        return any(s != self.v_unit for s in self.scales)


def unscaled(n_layers: int, v_unit: float) -> Budget:
    """The plan of a circuit without a budget (``read_voltage`` None): every layer at ``v_unit``."""
    return Budget(None, (v_unit,) * (n_layers + 1), v_unit, {})


def _layer_inputs(net: CircularAutoencoder, cycles, wiring) -> dict:
    """h -> the :class:`LayerInput` s of layer h, from the reference's cycles (``run_cycles``); in
    the modes whose next layer reads the fresh chain (``ccr``, ``ccrcc``) that chain is recomputed."""
    n_layers = net.n_layers
    inputs = {h: [] for h in range(1, n_layers + 1)}
    for k, cycle in enumerate(cycles):
        bias = not (k > 0 and wiring.recirculates_error)
        start = cycles[k - 1][n_layers] if (k > 0 and wiring.layer1_reads_previous_output) else cycle[0]
        below = [start] + list(cycle[1:n_layers])
        if k > 0 and wiring.blends_held_into_layers and wiring.next_layer_reads_fresh:
            below = [start]
            for h in range(1, n_layers):
                below.append(net.layer(h, below[-1]))
        for h in range(1, n_layers + 1):
            inputs[h].append(LayerInput(k, np.asarray(below[h - 1], float), bias))
    return inputs


SWING_MARGIN = 0.2
"""Fraction of an op-amp's swing the plan keeps free: a stage is planned to at most 80 % of it (the
prediction is the reference's; the circuit's activities differ by its documented error, and weights
change between the plan and the next batch)."""


@dataclass(frozen=True)
class StageLimits:
    """What the plan needs to keep the column stages inside their swing."""

    conductances: tuple
    """Layer h's Conductances (S) at index h - 1."""
    r_f: float
    """Feedback resistance of the unscaled mapping (ohm)."""
    swing: float
    """Symmetric output swing of a column stage (V)."""
    scalable: frozenset
    """Layers h = 1..L whose scale the plan may lower for the swing (their activation computes the same
    function at any scale)."""


def plan(net: CircularAutoencoder, x: np.ndarray, spec, stages: StageLimits | None = None) -> Budget:
    """The voltage plan of ``net`` (the weights the circuit realises) on the batch ``x`` (batch, N0)
    under ``spec`` (a CircuitSpec): each layer's scale from the activities it is predicted to put on rows,
    and with ``stages`` lowered further where a scalable layer's column stages would pass
    ``(1 - SWING_MARGIN) * swing``."""
    if spec.read_voltage is None:
        return unscaled(net.n_layers, spec.v_unit)
    rec, n_layers = spec.recirculation, net.n_layers
    with np.errstate(over="ignore", invalid="ignore"):
        cycles = run_cycles(net, x, rec)
        inputs = _layer_inputs(net, cycles, rec.wiring)
    largest = [1.0] * n_layers                           # 1: the bias row layer g drives
    for h, reads in inputs.items():
        for read in reads:
            largest[h - 1] = max(largest[h - 1], float(np.max(np.abs(read.values), initial=0.0)))
    largest[0] = max([largest[0]] + [float(np.max(np.abs(c[n_layers]), initial=0.0)) for c in cycles])
    if spec.architecture == "bidirectional":
        largest = [max(largest)] * n_layers              # one crossbar read both ways: one scale
    shifts = [input_scale(value, spec.v_unit, spec.read_voltage) for value in largest]
    budget = Budget(spec.read_voltage, layer_scales(spec.v_unit, shifts), spec.v_unit, inputs)
    if stages is None or spec.architecture == "bidirectional" or not stages.scalable:
        return budget
    target = (1 - SWING_MARGIN) * stages.swing
    peaks = stage_peaks(budget, stages.conductances, stages.r_f, stages.scalable)
    for h, (value, *_) in peaks.items():
        g = h % n_layers                                  # the shift of layer h's scale (layer L: layer 0's)
        while value > target and shifts[g] > 2.0 ** -MAX_SHIFT:
            shifts[g] /= 2
            value /= 2
    return Budget(spec.read_voltage, layer_scales(spec.v_unit, shifts), spec.v_unit, inputs)


def _worst(values: np.ndarray):
    """(largest |value|, its index) of a non-empty array."""
    index = np.unravel_index(int(np.argmax(np.abs(values))), values.shape)
    return float(np.abs(values[index])), index


def check_rows(budget: Budget, row_nodes) -> None:
    """BudgetError naming the first row over the read budget. ``row_nodes(h, k)``: the N_{h-1}
    row node names of layer h's crossbar read at cycle k and its bias-row node."""
    if budget.read_voltage is None:
        return
    limit = budget.read_voltage * (1 + RELATIVE_SLACK)
    for h, reads in budget.inputs.items():
        volts_per_unit = budget.scales[h - 1]
        for read in reads:
            rows, bias_node = row_nodes(h, read.cycle)
            if read.bias and volts_per_unit > limit:
                raise BudgetError(f"voltage budget: bias row of layer {h}'s crossbar (node {bias_node}) is at "
                                  f"{volts_per_unit:.4g} V, outside the read budget +-{budget.read_voltage:g} V "
                                  f"(read_voltage)")
            if read.values.size == 0:
                continue
            value, (b, j) = _worst(read.values * volts_per_unit)
            if value > limit:
                raise BudgetError(f"voltage budget: row {j} of layer {h}'s crossbar (node {rows[j]}) reaches "
                                  f"{value:.4g} V at sample {b}, cycle {read.cycle}, outside the read budget "
                                  f"+-{budget.read_voltage:g} V (read_voltage) even at the smallest scale, "
                                  f"v_unit / {2 ** MAX_SHIFT}")


def stage_peaks(budget: Budget, conductances, r_f: float, layers=None) -> dict:
    """h -> (largest |output| (V), cycle, sample, column) of layer h's column stages ``-r_f' * I``
    over every read of ``budget`` (layers: the layers to compute, default all). ``conductances``:
    layer h's Conductances at index h - 1 (S); columns count the plus columns, then the minus columns
    or the reference column. The closed form of the ideal circuit: the row voltages times the
    conductances times ``r_f' = r_f * scale[h] / scale[h-1]``."""
    peaks = {}
    for h, reads in budget.inputs.items():
        if layers is not None and h not in layers:
            continue
        g = conductances[h - 1]
        columns = [g.plus] + ([g.minus] if g.minus is not None else [g.reference[None, :]])
        matrix = np.concatenate(columns, axis=0)           # (columns, N_{h-1} + 1)
        gain = r_f * tia_gain_factor(budget.scales, h)
        for read in reads:
            if read.values.size == 0:
                continue
            rows = np.concatenate([read.values, np.full((read.values.shape[0], 1), 1.0 if read.bias else 0.0)],
                                  axis=1) * budget.scales[h - 1]
            value, (b, c) = _worst(gain * rows @ matrix.T)
            if h not in peaks or value > peaks[h][0]:
                peaks[h] = (value, read.cycle, int(b), int(c))
    return peaks


def check_swing(budget: Budget, conductances, r_f: float, swing: float, column_nodes, layers=None) -> None:
    """BudgetError naming the first op-amp column stage whose output ``-r_f' * I`` leaves
    +-``swing`` (V), and the ``v_unit`` at which the largest stage would sit at
    ``(1 - SWING_MARGIN) * swing``. ``conductances``: layer h's Conductances at index h - 1 (S);
    ``column_nodes(h, k)``: the stage-output node names (plus columns, then minus columns or
    the reference column) of layer h's read at cycle k; ``layers``: the layers to check (default all)."""
    peaks = stage_peaks(budget, conductances, r_f, layers)
    for h, (value, cycle, b, c) in peaks.items():
        if value > swing * (1 + RELATIVE_SLACK):
            fits = budget.v_unit * (1 - SWING_MARGIN) * swing / value
            raise BudgetError(f"voltage budget: op-amp output of layer {h} (node {column_nodes(h, cycle)[c]}) "
                              f"reaches {value:.4g} V at sample {b}, cycle {cycle}, outside its swing "
                              f"+-{swing:g} V (swing); v_unit <= {fits:.3g} V would keep it within "
                              f"{1 - SWING_MARGIN:.0%} of the swing")


def realised_network(net: CircularAutoencoder, mapping, conductances) -> CircularAutoencoder:
    """``net`` with the weights the devices ``conductances`` realise under ``mapping``
    (a ConductanceMapping), for the prediction."""
    weights, biases = zip(*(mapping.to_weights(g) for g in conductances))
    return CircularAutoencoder(net.sizes, net.activations, list(weights), list(biases))
