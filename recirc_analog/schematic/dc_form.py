"""The dc form: cycles 0..m unrolled into one netlist, the minibatch as one ``.dc`` sweep.

Every cycle k has its own copy ``Xxbar<h>_..._c<k>`` of each crossbar tile
(identical resistor values; the bidirectional architecture adds the backward
read ``..._c<k>_t`` of layer 1's crossbar), so one sweep point computes the
forward pass and all recirculation cycles of one sample; the selector source
``Vsel`` steps through the samples and the inputs are tables of ``v(sel)``.
There are no switches or capacitors: the "held" cycle-0 activity is the
cycle-0 node itself. Each cycle's blocks carry their cycle (``Block.cycle``), so
an engine may run one analysis per cycle or per layer read instead
(:mod:`recirc_analog.schematic.dc_cycles`).
"""

from recirc_analog.schematic.crossbar import LayerNodes
from recirc_analog.schematic.elements import Block, DcSweep, Instance, VoltageSource
from recirc_analog.schematic.sources import input_tables
from recirc_analog.schematic.voltage_budget import bias_nodes


def _layer0_block(wiring, lam, k, data, previous):
    """Layer 0 at cycle k >= 1 under ``wiring`` (a ModeWiring): (block or None, activity nodes, chain nodes)."""
    if not (wiring.recirculates_error or wiring.blends_data_into_layer0):
        return None, previous, previous
    z = [f"o0_c{k}_{j}" for j in range(len(data))]
    if wiring.recirculates_error:
        elements = [Instance(f"Xe{z[j]}", "subtract", (data[j], previous[j], z[j])) for j in range(len(z))]
        comment = f"cycle {k}, layer 0: error I - O^L(0)"
    else:
        elements = [Instance(f"Xm{z[j]}", "mixer", (data[j], previous[j], "one", z[j]), (("lam", lam),))
                    for j in range(len(z))]
        comment = f"cycle {k}, layer 0: lam * I + (1 - lam) * O^L({k - 1})"
    chain = previous if wiring.layer1_reads_previous_output else z
    return Block(comment, tuple(elements), cycle=k), z, chain


def build_dc(net, spec, x, read, scales=None):
    """Blocks, analysis and node-map fields of the dc form for the batch x (batch, N0);
    ``read(h, nodes, inputs, bias, outputs)`` gives the elements of layer h's crossbar read.
    ``scales``: volts per unit activity of layers 0..L (voltage_budget; default all ``v_unit``);
    the data are at ``scales[0]`` and layer h's bias row at ``scales[h-1]`` (``vb``, or ``vs<h>``)."""
    wiring, lam, m = spec.recirculation.wiring, spec.recirculation.lam, spec.cycles
    n_layers = net.n_layers
    scales = scales or (spec.v_unit,) * (n_layers + 1)
    biases = bias_nodes(scales, spec.v_unit)
    data = [f"in_{j}" for j in range(net.sizes[0])]
    sources = [VoltageSource("Vsel", "sel", "0", 0.0), VoltageSource("Vvb", "vb", "0", spec.v_unit)]
    sources += [VoltageSource(f"V{node}", node, "0", volts) for node, volts in dict(biases.values()).items()
                if node != "vb"]
    if wiring.blends_data_into_layer0:
        sources.append(VoltageSource("Vone", "one", "0", 1.0))
    v_data = scales[0]
    blocks = [Block("sample selector, bias row and mixer enable", tuple(sources)),
              Block("data inputs: v_unit * x, one table point per sample", input_tables(x, v_data, "sel"))]
    activity, chain = {(0, 0): tuple(data)}, {(0, 0): tuple(data)}
    for k in range(m + 1):
        if k > 0:
            block, activity[(0, k)], chain[(0, k)] = _layer0_block(wiring, lam, k, data, activity[(n_layers, k - 1)])
            if block is not None:
                blocks.append(block)
        for h in range(1, n_layers + 1):
            nodes = LayerNodes(f"_c{k}", h)
            out = tuple(nodes.node("o", i) for i in range(net.sizes[h]))
            mixed = k > 0 and wiring.blends_held_into_layers
            fresh = tuple(nodes.node("f", i) for i in range(net.sizes[h])) if mixed else out
            bias = "0" if (wiring.recirculates_error and k > 0) else biases[h][0]
            elements = read(h, nodes, chain[(h - 1, k)], bias, fresh)
            if mixed:
                held = activity[(h, 0)]
                elements += [Instance(f"Xm{out[i]}", "mixer", (held[i], fresh[i], "one", out[i]),
                                      (("lam", lam),)) for i in range(len(out))]
            blocks.append(Block(f"cycle {k}, layer {h}: crossbar read, TIAs, {net.activations[h - 1]}"
                                + (", mixers" if mixed else ""), tuple(elements), cycle=k))
            activity[(h, k)] = out
            chain[(h, k)] = fresh if (mixed and wiring.next_layer_reads_fresh) else out
    batch = x.shape[0]
    node_map = dict(
        activity_nodes=activity,
        held_nodes={h: activity[(h, 0)] for h in range(n_layers + 1)},
        copies=tuple(f"_c{k}" for k in range(m + 1)),
    )
    return tuple(blocks), DcSweep("Vsel", 0.0, float(batch - 1), 1.0), node_map
