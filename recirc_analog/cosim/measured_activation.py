"""The reference's activation for a sky130 run: the circuit's own neuron, measured in situ (issue 12).

The sky130 periphery's neuron is a differential pair (``sky130_dp_neuron_diff``) behind two TIAs, and
its linear stage a difference amplifier (``sky130_diff_amp``); neither is a mathematical tanh or
identity, and the pair's curve moves with the common mode of its gates (a common current in a
neuron's two columns shifts both TIA outputs by ``-r_f' * I_common``; about 10 % less gain at -0.2 V,
``tests/test_sky130_periphery.py``). So once per run, at the run's corner and temperature, ngspice
measures each layer's stage exactly as the circuit builds it -- two ``sky130_tia`` with the layer's
transimpedance ``r_f'`` and the layer's activation cell on +-0.9 V -- with column currents
``I_common +- I_diff / 2`` at the layer's own common current (:func:`common_currents`: the mean over
neurons of ``(I+ + I-) / 2`` for the data mean, the circuit's conductances and layer scales), sweeping
``I_diff`` (a ``.dc`` sweep, :func:`measure_transfer`). The pre-activation voltage is the ideal
``x = r_f' * I_diff = scale_h * S`` (the TIAs' gain error is part of the curve) and the activity
``f_h(S) = y(scale_h * S) / scale_h``: :class:`MeasuredNetwork` gives the reference these curves
(shape-preserving cubic interpolation, so ``f'`` is continuous; constant beyond the sweep, where the
stages saturate).

Not covered: the spread of the common mode across neurons and samples (one curve per layer, at the
mean; ``common_currents`` returns the spread too), offsets that differ between instances (the
simulation has no mismatch: every instance of a cell is the same circuit), and the holds.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import ConfigError, SimulationError
from ..reference.activations import Activation
from ..reference.network import CircularAutoencoder

SWEEP_VOLTS = 0.7
"""Half-range of the swept pre-activation ``r_f' * I_diff`` (V): past the pair's saturation (about
0.3 V) and up to the linear stage's swing (0.7 V)."""

SWEEP_STEP = 0.005
"""Step of the sweep (V)."""


@dataclass(frozen=True)
class Transfer:
    """One layer's measured stage: activation voltage ``y`` against pre-activation voltage ``x``."""

    x: np.ndarray
    """Pre-activation ``r_f' * (I+ - I-)`` (V), ascending, shape (points,)."""
    y: np.ndarray
    """Output of the activation cell (V), shape (points,)."""
    cell: str
    """The activation cell measured (``sky130_dp_neuron_diff`` or ``sky130_diff_amp``)."""
    common_current: float
    """Common current of the two columns during the sweep (A)."""
    r_f: float
    """The layer's transimpedance ``r_f'`` (ohm)."""
    stage_power: float = float("nan")
    """Power one neuron's stage (two TIAs and the activation cell) draws from its supplies at ``x = 0`` (W)."""
    hold_power: float = float("nan")
    """Power one ``sky130_sample_hold`` draws, tracking 0 V (W): its buffer's bias (the switch draws none)."""

    def activation(self, scale: float, name: str) -> Activation:
        """The reference activation of a layer at ``scale`` volts per unit activity:
        ``f(S) = y(scale * S) / scale`` and its derivative (dimensionless)."""
        from scipy.interpolate import PchipInterpolator

        curve = PchipInterpolator(self.x, self.y, extrapolate=False)
        slope = curve.derivative()
        low, high = float(self.x[0]), float(self.x[-1])

        def value(s):
            v = np.clip(np.asarray(s, dtype=float) * scale, low, high)
            return curve(v) / scale

        def derivative(s):
            v = np.asarray(s, dtype=float) * scale
            inside = (v > low) & (v < high)
            return np.where(inside, slope(np.clip(v, low, high)), 0.0)

        order = np.argsort(self.y)

        def preimage(y):
            return np.interp(np.asarray(y, dtype=float) * scale, self.y[order], self.x[order]) / scale

        return Activation(name, value, derivative, preimage)


def measurement_netlist(cell: str, r_f: float, common: float, corner: str, temp: float) -> str:
    """The ``.dc`` netlist measuring one layer's stage (see the module docstring): ``Vsw`` swept over
    ``r_f * I_diff`` in volts (the column currents are ``common +- v(sw) / (2 r_f)``)."""
    from ..netlist_writers.writer import SpiceWriter, number
    from ..schematic.cells import get_libraries, get_library_text
    from ..schematic.elements import PdkModels
    from ..schematic.periphery import SKY130_SUPPLY

    models = SpiceWriter().format_models(PdkModels(corner, temp))
    libraries = [get_library_text(lib) for lib in get_libraries(("sky130_tia", cell, "sky130_sample_hold"))]
    half = f"v(sw)/{number(2 * r_f)}"
    cards = ["* sky130 stage measured in situ (recirc_analog.cosim.measured_activation)", models, *libraries,
             f"Vvp vp 0 dc {number(SKY130_SUPPLY)}", f"Vvn vn 0 dc {number(-SKY130_SUPPLY)}",
             "Vsw sw 0 dc 0",
             f"Bp 0 cp I = {number(common)} + {half}", f"Bn 0 cn I = {number(common)} - {half}",
             f"Xtp cp 0 tp vp vn sky130_tia rf={number(r_f)}", f"Xtn cn 0 tn vp vn sky130_tia rf={number(r_f)}",
             f"Xa tn tp 0 out vp vn {cell}",
             # a hold on its own supplies, tracking 0 V: its static power (energy in jobs/cosim.py)
             f"Vvph vph 0 dc {number(SKY130_SUPPLY)}", f"Vvnh vnh 0 dc {number(-SKY130_SUPPLY)}",
             f"Vck ck 0 dc {number(SKY130_SUPPLY)}", f"Vckb ckb 0 dc {number(-SKY130_SUPPLY)}",
             "Xh 0 hout ck ckb vph vnh sky130_sample_hold",
             ".options reltol=1e-6 vntol=1e-9 gmin=1e-15",
             ".save v(out) v(sw) i(vvp) i(vvn) i(vvph) i(vvnh)",
             f".dc Vsw {number(-SWEEP_VOLTS)} {number(SWEEP_VOLTS)} {number(SWEEP_STEP)}", ".end"]
    return "\n".join(cards) + "\n"


def measure_transfer(activation: str, r_f: float, common: float, corner: str, temp: float, engine=None) -> Transfer:
    """One layer's stage measured by ngspice (``engine``: a batch engine; default a new one)."""
    from ..engines.batch import BatchEngine
    from ..schematic.periphery import SKY130_SUPPLY

    cell = {"tanh": "sky130_dp_neuron_diff", "linear": "sky130_diff_amp"}.get(activation)
    if cell is None:
        raise ConfigError(f"the sky130 periphery realises the activations tanh and linear, got {activation!r}")
    engine = BatchEngine() if engine is None else engine
    result = engine.run(measurement_netlist(cell, r_f, common, corner, temp),
                        label=f"sky130 {cell} transfer at {corner}, {temp:g} degC")
    vectors = result.vectors
    x, y = np.asarray(vectors["v(sw)"]), np.asarray(vectors["v(out)"])
    if x.shape != y.shape or x.size < 3 or not np.all(np.diff(x) > 0):
        raise SimulationError(f"the sky130 {cell} sweep returned no usable curve ({x.size} points)")
    centre = int(np.argmin(np.abs(x)))

    def power(plus, minus):   # delivered by the +-0.9 V sources: -V * I (ngspice's current runs into +)
        return float(-SKY130_SUPPLY * vectors[plus][centre] + SKY130_SUPPLY * vectors[minus][centre])

    return Transfer(x, y, cell, float(common), float(r_f), power("i(vvp)", "i(vvn)"), power("i(vvph)", "i(vvnh)"))


def common_currents(net: CircularAutoencoder, conductances, scales, x) -> list[tuple[float, float]]:
    """Per layer 1..L (mean, standard deviation) over neurons and samples of the common current
    ``(I+ + I-) / 2`` (A) of a neuron's two column lines (plus and minus, or its column and the
    reference column) for inputs ``x`` (batch, N0) through the reference ``net``; ``conductances``:
    layer h's Conductances at index h - 1 (S); ``scales``: volts per unit activity of layers 0..L."""
    activities = net.forward(x)
    out = []
    for h, g in enumerate(conductances, start=1):
        rows = np.concatenate([activities[h - 1], np.ones((len(x), 1))], axis=1) * scales[h - 1]
        plus = rows @ g.plus.T
        minus = rows @ g.minus.T if g.minus is not None else (rows @ g.reference)[:, None]
        common = 0.5 * (plus + minus)
        out.append((float(common.mean()), float(common.std())))
    return out


class MeasuredNetwork(CircularAutoencoder):
    """A reference network whose layers use the measured activations ``measured`` (one
    :class:`~recirc_analog.reference.activations.Activation` per layer 1..L) instead of the ones their
    names give; the names stay (the circuit is built from them)."""

    def __init__(self, sizes, activations, weights=None, biases=None, measured=()):
        super().__init__(sizes, activations, weights, biases)
        if len(measured) != self.n_layers:
            raise ConfigError(f"measured must hold one activation per layer 1..{self.n_layers}, got {len(measured)}")
        self.measured = tuple(measured)

    @property
    def transfer_functions(self) -> tuple[Activation, ...]:
        return self.measured

    def layer(self, h: int, below: np.ndarray, with_bias: bool = True) -> np.ndarray:
        return self.measured[h - 1](self.preactivation(h, below, with_bias))

    def copy(self) -> MeasuredNetwork:
        return MeasuredNetwork(self.sizes, self.activations, self.weights, self.biases, self.measured)


def periphery_energy(sizes, records, spec) -> dict:
    """Energy of the sky130 periphery (J) per sample and per update of ``batch`` samples, from the static
    powers measured in situ (``records`` of :func:`measured_reference`): per layer h = 1..L its N_h neuron
    stages, and a hold per neuron of layers 0..L, all biased for the ``1 + m`` phases of
    ``spec.clock.phase`` a sample takes in the tran form. What it covers: the class-A bias of the op-amps,
    pairs and holds (nearly all of the cells' power); not the clock generator's switching energy, the
    crossbar's read energy (sum of V^2 G t), the ideal mixers or the data converters."""
    seconds = (1 + spec.cycles) * spec.clock.phase
    stages = sum(n * r["stage_power_W"] for n, r in zip(sizes[1:], records))
    holds = sum(sizes) * records[0]["hold_power_W"]
    return {"periphery_power_W": stages + holds, "sample_seconds": seconds,
            "energy_per_sample_J": (stages + holds) * seconds,
            "energy_covers": "sky130 periphery static bias (neuron stages and holds) over the 1 + m phases of a "
                             "sample; not the clock's switching, the crossbar's read energy, mixers or converters"}


def measured_reference(net: CircularAutoencoder, spec, conductances, r_f: float, scales, x_mean,
                       engine=None) -> tuple[MeasuredNetwork, list[dict]]:
    """``net`` as a :class:`MeasuredNetwork` whose activations are the sky130 stages of ``spec`` measured
    at the common currents of the inputs ``x_mean`` (1, N0) (typically the data mean), and a record
    per layer (cell, common current mean and spread, r_f', scale, small-signal gain at 0)."""
    from ..schematic.voltage_budget import tia_gain_factor

    measured, records = [], []
    for h, (common, spread) in enumerate(common_currents(net, conductances, scales, x_mean), start=1):
        r_layer = r_f * tia_gain_factor(scales, h)
        transfer = measure_transfer(net.activations[h - 1], r_layer, common, spec.corner, spec.temp, engine)
        f = transfer.activation(scales[h], net.activations[h - 1])
        measured.append(f)
        records.append({"layer": h, "cell": transfer.cell, "common_current_A": common,
                        "common_current_std_A": spread, "common_mode_V": -r_layer * common, "r_f_ohm": r_layer,
                        "scale_V": scales[h], "gain_at_0": float(f.derivative(np.array(0.0))),
                        "output_low_V": float(transfer.y.min()), "output_high_V": float(transfer.y.max()),
                        "stage_power_W": transfer.stage_power, "hold_power_W": transfer.hold_power})
    return MeasuredNetwork(net.sizes, net.activations, net.weights, net.biases, measured), records
