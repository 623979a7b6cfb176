"""SPICE text of one in-circuit learning step (:class:`~recirc_analog.schematic.in_circuit.InCircuitNetwork`).

Node names (all generated here from indices; numbers pass :func:`number`):

- ``a0_j``, ``a1_i``, ``a2_k``: live activities of layers 0, 1, 2 (V = v_unit * activity);
- ``hd_j``, ``h1_i``, ``h2_k``: held cycle-0 activities (buffered hold capacitors ``hc*``);
  ``l1_i``: held cycle-1 activity of layer 1;
- ``r1_j`` / ``c1_i``, ``r2_i`` / ``c2_k``: rows / columns of crossbars 1 and 2; ``vs1_i`` etc. the
  columns' 0-V ammeters, ``vsref1`` / ``vsref2`` the reference columns';
- ``xm1_i_j`` / ``xm2_k_i``: the devices (state ``v(xm1_i_j.x)``), ``xref1_j`` / ``xref2_i`` the
  reference column's;
- with biases: ``one`` (the constant ``v_unit``), the bias rows ``r1_b`` / ``r2_b``, their devices
  ``xm1_i_b`` / ``xm2_k_b`` and reference devices ``xref1_b`` / ``xref2_b``.
"""

from __future__ import annotations

from ..devices.compact.models import spice_parameters
from ..schematic.cells import get_library_text
from ..schematic.in_circuit import InCircuitNetwork
from ..schematic.names import check_number
from ..schematic.write_laws import shaper_knots


def number(value) -> str:
    """A finite number as the shortest text that reads back exactly."""
    return repr(float(check_number(value)))


def state_node(layer: int, post: int, pre: int) -> str:
    """Name of the state vector of crossbar ``layer``'s device (post, pre) in the raw file."""
    return f"v(xm{layer}_{post}_{pre}.x)"


def reference_node(layer: int, pre: int) -> str:
    """Name of the state vector of crossbar ``layer``'s reference device on row ``pre``."""
    return f"v(xref{layer}_{pre}.x)"


def held_nodes(n0: int, n1: int) -> dict[str, list[str]]:
    """The held voltages the driver reads: ``data`` O^0(0), ``h1`` O^1(0), ``out`` O^2(0), ``l1`` O^1(1)."""
    return {"data": [f"v(hd_{j})" for j in range(n0)], "h1": [f"v(h1_{i})" for i in range(n1)],
            "out": [f"v(h2_{k})" for k in range(n0)], "l1": [f"v(l1_{i})" for i in range(n1)]}


def write_in_circuit(net: InCircuitNetwork, data) -> str:
    """The netlist of one sample: ``data`` (N0 activities, in [0, 1], or [-1, 1] for tanh) through phase 0, phase 1
    and the write."""
    n0, n1 = net.sizes
    t = net.times
    s = net.scheme
    up_off, down_off = net.column_offsets
    on = 1.0 if net.write else 0.0
    polarity = net.law.polarity
    gain_up, gain_down = net.law.column_gains(net.x_ref, s.gain)
    lines = [f"* in-circuit learning step, {n0}-{n1}-{n0}, {net.model.cell} crossbars, write={int(net.write)}",
             get_library_text(net.model.library).rstrip(),
             f".param vunit={number(net.v_unit)} vh={number(s.v_half * on * polarity)} tw={number(s.tw)} "
             f"aup={number(gain_up * polarity)} adn={number(gain_down * polarity)} bp={number(up_off)} "
             f"bn={number(down_off)}",
             f".param t0={number(t['t0'])} t1={number(t['t1'])} ta={number(t['ta'])} tb={number(t['tb'])} "
             f"wen={number(on)} kw={number(net.w_scale / (net.law.unit_conductance(net.x_ref) * net.v_unit))}",
             *_signed_parameters(net),
             *(["Vone one 0 {vunit}"] if net.biases else []),
             ".model swhold sw vt=0.5 vh=0.1 ron=1 roff=1e12",
             "Bph0 ph0 0 V={time < t0}",
             "Bph1 ph1 0 V={(time > t0) * (time < t1)}"]
    params = " ".join(f"{k}={number(v)}" for k, v in spice_parameters(net.model))

    def hold(name, source, control):
        return [f"S{name} {source} hc{name} {control} 0 swhold", f"C{name} hc{name} 0 1e-9",
                f"B{name} {name} 0 V={{v(hc{name})}}"]

    def row(name, live, pre):
        # read: the live activity until t1; write: +-vh for tw * held pre / vunit in each sub-phase
        return (f"B{name} {name} 0 V={{(time < t1) * v({live})"
                f" + vh * ((time > ta) * (time < ta + tw * v({pre}) / vunit)"
                f" - (time > tb) * (time < tb + tw * v({pre}) / vunit)){_signed_row(net, pre)}}}")

    def column(name, early, late):
        # up: -(bp + aup * g_up(d)) if d > 0; down: +(bn + adn * g_down(|d|)) if d < 0, d = early - late (V),
        # g the law's shaper (linear, or u^(1/alpha)); params signed by the polarity (vh, bp, aup: the row
        # level and column height that raise the weight)
        up = _shaped(f"v({early}) - v({late})", net.law.exponents[0], net.v_unit)
        down = _shaped(f"v({late}) - v({early})", net.law.exponents[1], net.v_unit)
        return (f"B{name} {name} 0 V={{wen * (-(time > ta) * (time < ta + tw) * (v({early}) > v({late}))"
                f" * (bp + aup * {up}) + (time > tb) * (time < tb + tw)"
                f" * (v({early}) < v({late})) * (bn + adn * {down})"
                f"{_signed_column(net, early, late)})}}")

    # layer 0: the data in phase 0, the held output O^2(0) afterwards (PR recirculation)
    for j in range(n0):
        lines += [f"Vin{j} in{j} 0 {number(data[j] * net.v_unit)}",
                  f"Ba0_{j} a0_{j} 0 V={{v(ph0) * v(in{j}) + (1 - v(ph0)) * v(h2_{j})}}"]
        lines += hold(f"hd_{j}", f"a0_{j}", "ph0")
    for layer, (n_pre, n_post, live, pre, early, late) in enumerate(
            ((n0, n1, "a0_{}", "hd_{}", "h1_{}", "l1_{}"), (n1, n0, "a1_{}", "h1_{}", "hd_{}", "h2_{}")), start=1):
        states = net.states1 if layer == 1 else net.states2
        for j in range(n_pre):
            lines.append(row(f"r{layer}_{j}", live.format(j), pre.format(j)))
            lines.append(f"Xref{layer}_{j} r{layer}_{j} cref{layer} {net.model.cell} x0={number(net.x_ref)} {params}")
        if net.biases:          # the bias row: pre-synaptic activity 1 (node ``one``) in the reads and the write
            lines.append(row(f"r{layer}_b", "one", "one"))
            lines.append(f"Xref{layer}_b r{layer}_b cref{layer} {net.model.cell} x0={number(net.x_ref)} {params}")
        lines.append(f"Vsref{layer} cref{layer} 0 0")
        for i in range(n_post):
            lines += [f"Vs{layer}_{i} c{layer}_{i} d{layer}_{i} 0",
                      column(f"d{layer}_{i}", early.format(i), late.format(i))]
            lines += [f"Xm{layer}_{i}_{j} r{layer}_{j} c{layer}_{i} {net.model.cell} x0={number(states[i, j])} {params}"
                      for j in range(n_pre)]
            if net.biases:
                bias = (net.bias_states1 if layer == 1 else net.bias_states2)[i]
                lines.append(f"Xm{layer}_{i}_b r{layer}_b c{layer}_{i} {net.model.cell} x0={number(bias)} {params}")
            lines.append(f"Ba{layer}_{i} a{layer}_{i} 0 "
                         + _neuron(net, f"kw * (i(Vs{layer}_{i}) - i(Vsref{layer}))"))
    for i in range(n1):
        lines += hold(f"h1_{i}", f"a1_{i}", "ph0") + hold(f"l1_{i}", f"a1_{i}", "ph1")
    for k in range(n0):
        lines += hold(f"h2_{k}", f"a2_{k}", "ph0")
    saves = [state_node(1, i, j) for i in range(n1) for j in range(n0)]
    saves += [state_node(2, k, i) for k in range(n0) for i in range(n1)]
    saves += [reference_node(1, j) for j in range(n0)] + [reference_node(2, i) for i in range(n1)]
    if net.biases:
        saves += [state_node(1, i, "b") for i in range(n1)] + [state_node(2, k, "b") for k in range(n0)]
        saves += [reference_node(1, "b"), reference_node(2, "b")]
    saves += [name for names in held_nodes(n0, n1).values() for name in names]
    dt = s.dt
    stop = t["stop"] if net.write else t["t1"] + 2 * dt     # without the write, the holds are all there is
    lines += [".options reltol=1e-6 vntol=1e-10 abstol=1e-15 method=gear maxord=1 trtol=1e9",
              ".save " + " ".join(saves),
              f".tran {number(dt)} {number(stop)} 0 {number(dt)} uic", ".end"]
    return "\n".join(lines) + "\n"


def _shaped(u: str, alpha: float, u_max: float) -> str:
    """``(u)`` when ``alpha`` is 1, else ``pwl(u, ...)`` of ``u^(1/alpha)`` (odd; ``write_laws.shaper_knots``)."""
    if alpha == 1.0:
        return f"({u})"
    knots, values = shaper_knots(alpha, u_max)
    return f"pwl({u}, " + ", ".join(f"{number(k)}, {number(v)}" for k, v in zip(knots, values)) + ")"


def _neuron(net: InCircuitNetwork, drive: str) -> str:
    """A neuron's B-source value for the dimensionless pre-activation expression ``drive``: logistic
    ``vunit / (1 + exp(-drive))`` (activity in (0, 1)), tanh ``vunit * tanh(drive)`` (in (-1, 1))."""
    if net.signed:
        return f"V={{vunit * tanh({drive})}}"
    return f"V={{vunit / (1 + exp(-{drive}))}}"


def _signed_parameters(net: InCircuitNetwork) -> list[str]:
    """The ``.param`` line of write C / D's starts (tanh only; none for logistic, whose text is unchanged)."""
    if not net.signed:
        return []
    t = net.times
    return [f".param tc={number(t['tc'])} td={number(t['td'])}"]


def _signed_row(net: InCircuitNetwork, pre: str) -> str:
    """The row driver's terms for write C and D (tanh): a row whose held pre-synaptic voltage is negative
    pulses ``-vh`` in C and ``+vh`` in D for ``tw * |pre|``; a row with ``pre >= 0`` stays at 0 V there
    (its window ``tc - tw * pre / vunit`` is empty)."""
    if not net.signed:
        return ""
    return (f" + vh * ((time > td) * (time < td - tw * v({pre}) / vunit)"
            f" - (time > tc) * (time < tc - tw * v({pre}) / vunit))")


def _signed_column(net: InCircuitNetwork, early: str, late: str) -> str:
    """The column driver's terms for write C and D (tanh), the up / down roles swapped: in C a column with
    ``d > 0`` drives ``+(bn + adn d)`` (with a row at ``-vh``: down, the sign of ``pre d`` for pre < 0), in D
    one with ``d < 0`` drives ``-(bp + aup |d|)`` (with a row at ``+vh``: up)."""
    if not net.signed:
        return ""
    return (f" + (time > tc) * (time < tc + tw) * (v({early}) > v({late})) * (bn + adn * (v({early}) - v({late})))"
            f" - (time > td) * (time < td + tw) * (v({early}) < v({late})) * (bp + aup * (v({late}) - v({early})))")
