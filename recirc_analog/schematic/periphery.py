"""The periphery of a crossbar read: which cells turn column currents into activities.

One strategy object per neuron kind (``NeuronConfig.kind``), used by both
architectures, so the choice of transimpedance and activation cells is made
in one place:

:class:`IdealPeriphery`
    ideal virtual grounds; per neuron one stage ``tia_pair`` (differential) or
    ``tia_ref`` (shared reference) driving the pre-activation node ``s<h>.._<i>``,
    read by a single-input ``act1_<f>`` cell.
:class:`OpampPeriphery`
    ``tia_opamp`` (finite gain, offset, swing) on every column and an ``act_<f>``
    cell reading the difference of two TIA outputs.

:func:`get_periphery` picks the class from :data:`PERIPHERIES` by kind. A new
periphery (a sky130 transistor-level TIA, say) is one class with the methods
below, registered under its kind name (``spec.NEURON_KINDS`` lists the same names).
"""

from dataclasses import dataclass
from typing import ClassVar

from recirc_analog.errors import ConfigError
from recirc_analog.schematic.cells import activation_cell
from recirc_analog.schematic.elements import Instance, VoltageSource


@dataclass(frozen=True)
class Periphery:
    """What every periphery has: the TIA feedback resistance and the activity scale.

    Subclasses set ``kind`` and define :meth:`column_stage`; :meth:`neurons` here reads
    each column line through its own stage and each neuron as the difference of two
    stage outputs, which a subclass may replace by a cheaper equivalent.
    """

    r_f: float
    """TIA feedback resistance (ohm)."""
    v_unit: float
    """Volts per unit activity (V)."""

    kind: ClassVar[str]

    @classmethod
    def from_config(cls, neuron, r_f: float, v_unit: float) -> "Periphery":
        """The periphery of ``neuron`` (a NeuronConfig of this kind)."""
        return cls(r_f, v_unit)

    def column_stage(self) -> tuple[str, tuple]:
        """(cell, parameters) of one transimpedance stage: a column line at virtual ground
        into a voltage ``-r_f * I``."""
        raise NotImplementedError

    def difference_activation(self, name: str, plus: str, minus: str, out: str, activation: str) -> Instance:
        """The activation of the difference of two stage outputs ``plus`` - ``minus`` into ``out``."""
        return Instance(name, activation_cell(activation), (plus, minus, out), (("vu", self.v_unit),))

    def neurons(self, nodes, plus, minus, differential: bool, outputs, activation: str) -> list:
        """Elements reading one layer's column lines into its activity nodes ``outputs``:
        a column stage ``Xt<column>`` per column line (outputs ``tp<h>.._<i>`` and
        ``tn<h>.._<i>``, or ``tr<h>..`` of the reference column) and per neuron an
        activation of the difference of its two stage outputs."""
        n_out = len(outputs)
        cell, params = self.column_stage()
        stage_outputs = [nodes.node("tp", i) for i in range(n_out)]
        stage_outputs += [nodes.node("tn", i) for i in range(n_out)] if differential else [nodes.node("tr")]
        elements = [Instance(f"Xt{column}", cell, (column, out), params)
                    for column, out in zip(list(plus) + list(minus), stage_outputs)]
        stage_minus = stage_outputs[n_out:] if differential else stage_outputs[n_out:] * n_out
        return elements + [self.difference_activation(f"Xa{outputs[i]}", stage_outputs[i], stage_minus[i],
                                                      outputs[i], activation) for i in range(n_out)]


@dataclass(frozen=True)
class IdealPeriphery(Periphery):
    """Ideal transimpedance stages (exact virtual ground) and behavioural activations."""

    kind = "ideal"

    def column_stage(self) -> tuple[str, tuple]:
        return "tia_ideal", (("rf", self.r_f),)

    def neurons(self, nodes, plus, minus, differential: bool, outputs, activation: str) -> list:
        """Elements reading one layer's column lines into its activity nodes ``outputs``.

        Per neuron one stage ``Xts..`` driving the pre-activation node ``s<h>..`` and a
        single-input activation. The stage is a ``tia_pair`` of the ``plus`` and ``minus``
        columns (``differential``) or, with ``minus`` the one reference column (shared
        reference), a ``tia_ref`` of the column and the reference column's ``tia_ideal``
        output ``tr<h>..``.

        One pre-activation node per neuron, read by a one-variable behavioural source,
        costs ngspice less per Newton iteration than two TIA outputs read by one source.
        """
        rf, vu = (("rf", self.r_f),), (("vu", self.v_unit),)
        act = activation_cell(activation, single_input=True)
        if differential:
            elements, stages = [], [("tia_pair", (p, n)) for p, n in zip(plus, minus)]
        else:
            reference = nodes.node("tr")
            cell, params = self.column_stage()
            elements = [Instance(f"Xt{minus[0]}", cell, (minus[0], reference), params)]
            stages = [("tia_ref", (c, reference)) for c in plus]
        for i, ((cell, columns), out) in enumerate(zip(stages, outputs)):
            s = nodes.node("s", i)
            elements += [Instance(f"Xt{s}", cell, columns + (s,), rf), Instance(f"Xa{out}", act, (s, out), vu)]
        return elements


@dataclass(frozen=True)
class OpampPeriphery(Periphery):
    """Op-amp transimpedance stages (``circuits/opamp.lib``) on every column."""

    gain: float = 1e6
    """Open-loop DC gain (V/V)."""
    offset: float = 0.0
    """Input offset voltage (V)."""
    swing: float = 5.0
    """Output saturation, symmetric (V)."""

    kind = "opamp"

    @classmethod
    def from_config(cls, neuron, r_f: float, v_unit: float) -> "OpampPeriphery":
        return cls(r_f, v_unit, neuron.gain, neuron.offset, neuron.swing)

    def column_stage(self) -> tuple[str, tuple]:
        return "tia_opamp", (("rf", self.r_f), ("gain", self.gain), ("vos", self.offset), ("vsat", self.swing))


SKY130_SUPPLY = 0.9
"""Half the sky130 cells' 1.8 V supply (V): the periphery runs them on +-0.9 V so that 0 V stays
the zero of the activity (the cells' ``ref`` port is ground)."""

SKY130_SWING = 0.7
"""Output swing of the sky130 op-amp on +-0.9 V, symmetric (V): measured 0.18-1.60 V on 0 / 1.8 V at
1 % gain error (sky130_opamp.lib), i.e. -0.72 / +0.70 V; the voltage budget checks every TIA
output against it."""


@dataclass(frozen=True)
class Sky130Periphery(Periphery):
    """SkyWater 130 nm transistor-level cells (``cell_library/sky130/``, issue 12): a two-stage
    op-amp TIA (``sky130_tia``) on every column, and per neuron a differential-pair nonlinearity
    of the difference of its two TIA outputs (``sky130_dp_neuron_diff``; the tanh-like curve is
    the circuit's own, measured by ``recirc-analog characterise``) or, for a linear layer, a
    unity difference amplifier (``sky130_diff_amp``). Each layer read has its own supplies
    ``vp<h>..`` = +0.9 V and ``vn<h>..`` = -0.9 V (sources ``Vp..`` / ``Vn..``).

    The tran form adds the sky130 sample-and-hold (``sky130_sample_hold``) and clock
    (``sky130_nonoverlap_clock``, :mod:`recirc_analog.schematic.tran_form`); the writer includes the
    PDK's FET models at ``CircuitSpec.corner`` / ``temp``. Ideal elements that remain: the crossbar
    wiring, the mixers of layer 0 and the behavioural clock input. The neuron's curve depends on its
    gates' common mode: a common current in a neuron's two columns shifts both TIA outputs by
    ``-r_f * I_common`` and lowers the pair's gain (about 10 % at -0.2 V,
    ``tests/test_sky130_periphery.py``), so the co-simulation's reference uses the curve measured in
    situ at the circuit's own common mode (:mod:`recirc_analog.cosim.measured_activation`).
    """

    kind = "sky130"

    def column_stage(self) -> tuple[str, tuple]:
        return "sky130_tia", (("rf", self.r_f),)

    def neurons(self, nodes, plus, minus, differential: bool, outputs, activation: str) -> list:
        """Elements reading one layer's column lines into ``outputs``: the two supply sources,
        a ``sky130_tia`` per column line (``Xt<column>``, output ``tp..`` / ``tn..`` / ``tr..``,
        reference ground), and per neuron ``Xa<out>`` of the difference of its two stage outputs."""
        if activation not in ("tanh", "linear"):
            raise ConfigError(f"the sky130 periphery realises the activations tanh (its measured curve) and "
                              f"linear, got {activation!r}")
        vp, vn = nodes.node("vp"), nodes.node("vn")
        elements = [VoltageSource(f"V{vp}", vp, "0", SKY130_SUPPLY), VoltageSource(f"V{vn}", vn, "0", -SKY130_SUPPLY)]
        n_out = len(outputs)
        stage_outputs = [nodes.node("tp", i) for i in range(n_out)]
        stage_outputs += [nodes.node("tn", i) for i in range(n_out)] if differential else [nodes.node("tr")]
        elements += [Instance(f"Xt{column}", "sky130_tia", (column, "0", out, vp, vn), (("rf", self.r_f),))
                     for column, out in zip(list(plus) + list(minus), stage_outputs)]
        stage_minus = stage_outputs[n_out:] if differential else stage_outputs[n_out:] * n_out
        cell = "sky130_dp_neuron_diff" if activation == "tanh" else "sky130_diff_amp"
        # The inverting TIAs give tp = -r_f I+, so the neuron reads tn - tp = r_f (I+ - I-).
        return elements + [Instance(f"Xa{outputs[i]}", cell,
                                    (stage_minus[i], stage_outputs[i], "0", outputs[i], vp, vn))
                           for i in range(n_out)]


PERIPHERIES = {cls.kind: cls for cls in (IdealPeriphery, OpampPeriphery, Sky130Periphery)}
"""Periphery class of each neuron kind (``NeuronConfig.kind``)."""


def get_periphery(neuron, r_f: float, v_unit: float):
    """The periphery for ``neuron`` (a NeuronConfig), feedback resistance ``r_f`` (ohm) and
    ``v_unit`` (V per unit activity)."""
    cls = PERIPHERIES.get(neuron.kind)
    if cls is None:
        raise ConfigError(f"neuron kind must be one of {', '.join(PERIPHERIES)}, got {neuron.kind!r}")
    return cls.from_config(neuron, r_f, v_unit)
