"""The tran form: the physical circuit, one crossbar per layer used in every phase
(bidirectional architecture: one crossbar, with an instance per read).

Each sample takes ``1 + m`` phases of ``clock.phase`` seconds (after
``clock.lead_in`` idle phases). Clocks (behavioural sources of ``time``, so
they add no breakpoints): ``ph0`` (1 V in phase 0), ``rec`` (1 V in phases
1..m), and for m >= 2 ``ph1``, ``odd``, ``even``. In phase 0 layer 0 is
driven by the data and every layer's sample-and-hold ``hd<h>`` tracks its
activity; in phase k >= 1 layer 0 is driven by the recirculated vector built
from the held output (phase 1) or from two ping-pong banks ``bp``/``bq`` that
track the output in odd / even phases (phases >= 2). Mixers use ``rec`` as
their enable, so in phase 0 every layer passes its fresh activity.
"""

from recirc_analog.errors import ConfigError
from recirc_analog.schematic.crossbar import LayerNodes
from recirc_analog.schematic.elements import (
    Block,
    Instance,
    PhaseClock,
    Resistor,
    SampleCounter,
    Transient,
    VoltageSource,
)
from recirc_analog.schematic.noise import hold_input
from recirc_analog.schematic.periphery import SKY130_SUPPLY
from recirc_analog.schematic.sources import input_tables
from recirc_analog.schematic.voltage_budget import bias_nodes

SKY130_HOLD_FRACTION = 0.8
"""Part of phase 0 during which the sky130 holds track (their clock falls at 0.8 of the phase, before
layer 0 switches to the recirculated vector at its end; the rest of the phase isolates the hold)."""

_SUBSLOTS = 5
"""Sub-slots per phase of the sky130 hold clock (odd, so sub-slot edges fall on phase edges)."""


def _hold(name: str, signal: str, clock: str, cap: str, out: str, sample_hold, noise=None, sky130=False) -> list:
    """A sample_hold cell (plus its leakage resistor when configured, and its kT/C noise source
    in series with the input when ``noise`` is a NoiseModel); with ``sky130`` the transistor-level
    ``sky130_sample_hold`` on the hold supplies ``vph`` / ``vnh``, switched by the clock cell's
    ``phi1`` / ``phi1b`` (``clock`` is then unused), its capacitor ``c_hold`` internal (``cap`` names
    only the noise source)."""
    if sky130:
        elements, signal = hold_input(noise, signal, cap, sample_hold.c_hold)
        elements.append(Instance(name, "sky130_sample_hold", (signal, out, "phi1", "phi1b", "vph", "vnh"),
                                 (("chold", sample_hold.c_hold),)))
        return elements
    params = (("c", sample_hold.c_hold), ("ron", sample_hold.r_on), ("roff", sample_hold.r_off),
              ("gain", sample_hold.buffer_gain))
    elements, signal = hold_input(noise, signal, cap, sample_hold.c_hold)
    elements.append(Instance(name, "sample_hold", (signal, clock, cap, out), params))
    if sample_hold.r_leak is not None:
        elements.append(Resistor(f"Rleak_{cap}", cap, "0", sample_hold.r_leak))
    return elements


def _clocks(spec, m: int, biases: dict) -> Block:
    """Sample counter, phase clocks and the bias rows: ``vb`` (``v_unit``) and the scaled ones of
    ``biases`` (h -> (node, volts), voltage_budget.bias_nodes)."""
    clock = spec.clock
    phases = m + 1

    def make(name, active, amplitude=1.0):
        return PhaseClock(f"B{name}", name, clock.phase, phases, clock.lead_in, tuple(active), amplitude)

    elements = [SampleCounter("Bsmp", "smp", clock.phase, phases, clock.lead_in),
                make("ph0", [0]), make("rec", range(1, phases))]
    if m >= 2:
        elements += [make("ph1", [1]), make("odd", range(1, phases, 2)), make("even", range(0, phases, 2))]
    rows = {"vb": spec.v_unit, **dict(biases.values())}
    for node, volts in rows.items():
        if spec.recirculation.wiring.recirculates_error:
            elements.append(make(node, [0], volts))
        else:
            elements.append(VoltageSource(f"V{node}", node, "0", volts))
    names = f"bias rows {', '.join(rows)}" if len(rows) > 1 else "bias row vb"
    if spec.neuron.kind == "sky130":
        elements += _sky130_clock(spec, m)
        names += ", the sky130 hold clock (hclk -> sky130_nonoverlap_clock -> phi1 / phi1b) and supplies"
    return Block(f"clocks: sample counter smp, phase clocks, {names}", tuple(elements))


def _sky130_clock(spec, m: int) -> list:
    """The sky130 holds' clock: a behavioural square wave ``hclk`` (-0.9 V / +0.9 V, high during the
    first :data:`SKY130_HOLD_FRACTION` of phase 0) into ``sky130_nonoverlap_clock`` (on ``vpk`` /
    ``vnk``), whose ``phi1`` / ``phi1b`` switch every hold; and the holds' supplies ``vph`` / ``vnh``.
    Each cell family has its own supply sources so their currents can be told apart."""
    clock, subslots = spec.clock, _SUBSLOTS
    phases = subslots * (m + 1)
    high = round(SKY130_HOLD_FRACTION * subslots)          # sub-slots 0..high-1 of phase 0, counted from its start
    active = tuple((k - subslots // 2) % phases for k in range(high))
    supply = SKY130_SUPPLY
    return [PhaseClock("Bhclk0", "hclk0", clock.phase / subslots, phases, subslots * clock.lead_in, active,
                       2 * supply),
            VoltageSource("Vhclk", "hclk", "hclk0", -supply),
            VoltageSource("Vvpk", "vpk", "0", supply), VoltageSource("Vvnk", "vnk", "0", -supply),
            Instance("Xclk", "sky130_nonoverlap_clock", ("hclk", "phi1", "phi1b", "phi2", "phi2b", "vpk", "vnk")),
            VoltageSource("Vvph", "vph", "0", supply), VoltageSource("Vvnh", "vnh", "0", -supply)]


def _recirculated(wiring, m: int, n_layers: int, data, spec, noise=None) -> tuple[list, list]:
    """Elements and nodes of the vector fed back into layer 0 in phases >= 1."""
    n0 = len(data)
    held_out = [f"hd{n_layers}_{j}" for j in range(n0)]
    if wiring.recirculates_error:
        rc = [f"rc_{j}" for j in range(n0)]
        return [Instance(f"Xe{rc[j]}", "subtract", (data[j], held_out[j], rc[j])) for j in range(n0)], rc
    if m == 1:
        return [], held_out
    elements = []
    for j in range(n0):
        out = f"o{n_layers}_{j}"
        elements += _hold(f"Xbp_{j}", out, "odd", f"bpc_{j}", f"bp_{j}", spec.sample_hold, noise)
        elements += _hold(f"Xbq_{j}", out, "even", f"bqc_{j}", f"bq_{j}", spec.sample_hold, noise)
        elements.append(Instance(f"Xbx_{j}", "mixer", (f"bp_{j}", f"bq_{j}", "even", f"bx_{j}"), (("lam", 1.0),)))
        elements.append(Instance(f"Xrc_{j}", "mixer", (held_out[j], f"bx_{j}", "ph1", f"rc_{j}"), (("lam", 1.0),)))
    return elements, [f"rc_{j}" for j in range(n0)]


SKY130_MIN_STEPS = 8
"""Smallest number of maximum steps per phase of a sky130 tran run (``ClockConfig.steps_per_phase`` is
raised to it): ngspice chooses its own steps inside (edges, settling), this bounds the longest one."""


def transient(spec, batch: int) -> Transient:
    """The ``.tran`` analysis of a batch of ``batch`` samples: lead-in, then 1 + m phases per sample.
    With the sky130 periphery it starts from the operating point, with at least
    :data:`SKY130_MIN_STEPS` steps per phase."""
    clock = spec.clock
    slots = clock.lead_in + batch * (spec.cycles + 1)
    if spec.neuron.kind == "sky130":
        steps = max(clock.steps_per_phase, SKY130_MIN_STEPS)
        return Transient(clock.phase, (slots - 0.75) * clock.phase, clock.phase / steps, operating_point=True)
    return Transient(clock.phase, (slots - 0.75) * clock.phase, clock.phase / clock.steps_per_phase)


def build_tran(net, spec, x, read, scales=None, noise=None):
    """Blocks, analysis and node-map fields of the tran form for the batch x (batch, N0);
    ``read(h, nodes, inputs, bias, outputs)`` gives the elements of layer h's crossbar read.
    ``scales``: volts per unit activity of layers 0..L (voltage_budget; default all ``v_unit``);
    the data are at ``scales[0]`` and layer h's bias row at ``scales[h-1]`` (``vb``, or ``vs<h>``).
    ``noise``: a :class:`~recirc_analog.schematic.noise.NoiseModel` giving every hold its kT/C source."""
    wiring, lam, m = spec.recirculation.wiring, spec.recirculation.lam, spec.cycles
    n_layers, n0 = net.n_layers, net.sizes[0]
    scales = scales or (spec.v_unit,) * (n_layers + 1)
    biases = bias_nodes(scales, spec.v_unit)
    data = [f"in_{j}" for j in range(n0)]
    blocks = [_clocks(spec, m, biases),
              Block("data inputs: v_unit * x, a table of the sample counter", input_tables(x, scales[0], "smp"))]
    recirc_elements, recirc = _recirculated(wiring, m, n_layers, data, spec, noise)
    o0 = [f"o0_{j}" for j in range(n0)]
    if wiring.blends_data_into_layer0:
        u0 = [f"u0_{j}" for j in range(n0)]
        select = [Instance(f"Xs_{j}", "mixer", (data[j], recirc[j], "ph0", u0[j]), (("lam", 1.0),)) for j in range(n0)]
        select += [Instance(f"Xm{o0[j]}", "mixer", (data[j], u0[j], "rec", o0[j]), (("lam", lam),)) for j in range(n0)]
        chain = u0 if wiring.layer1_reads_previous_output else o0
    else:
        select = [Instance(f"Xs_{j}", "mixer", (data[j], recirc[j], "ph0", o0[j]), (("lam", 1.0),)) for j in range(n0)]
        chain = o0
    blocks.append(Block("layer 0: data in phase 0, recirculated vector afterwards",
                        tuple(recirc_elements + select)))
    activity = {0: tuple(o0)}
    for h in range(1, n_layers + 1):
        nodes = LayerNodes("", h)
        out = [nodes.node("o", i) for i in range(net.sizes[h])]
        mixed = wiring.blends_held_into_layers
        fresh = [nodes.node("f", i) for i in range(net.sizes[h])] if mixed else out
        elements = read(h, nodes, chain, biases[h][0], fresh)
        if mixed:
            elements += [Instance(f"Xm{out[i]}", "mixer", (f"hd{h}_{i}", fresh[i], "rec", out[i]),
                                  (("lam", lam),)) for i in range(len(out))]
        blocks.append(Block(f"layer {h}: crossbar, TIAs, {net.activations[h - 1]}" + (", mixers" if mixed else ""),
                            tuple(elements)))
        activity[h] = tuple(out)
        chain = fresh if (mixed and wiring.next_layer_reads_fresh) else out
    holds, sky130 = [], spec.neuron.kind == "sky130"
    if sky130 and spec.sample_hold.r_leak is not None:
        raise ConfigError("sample_hold.r_leak must be None with neuron kind sky130 (the hold's leakage is its "
                          f"transistors'), got {spec.sample_hold.r_leak!r}")
    for h in range(n_layers + 1):
        for i in range(net.sizes[h]):
            holds += _hold(f"Xh{h}_{i}", activity[h][i], "ph0", f"hc{h}_{i}", f"hd{h}_{i}", spec.sample_hold, noise,
                           sky130)
    blocks.append(Block("sample-and-hold of every layer: tracks in phase 0, holds afterwards", tuple(holds)))
    clock = spec.clock
    analysis = transient(spec, x.shape[0])
    node_map = dict(
        activity_nodes={(h, k): activity[h] for h in range(n_layers + 1) for k in range(m + 1)},
        held_nodes={h: tuple(f"hd{h}_{i}" for i in range(net.sizes[h])) for h in range(n_layers + 1)},
        copies=("",),
        slot=clock.phase, lead_in=clock.lead_in,
    )
    return tuple(blocks), analysis, node_map
