"""``recirc-analog netlist``: write a netlist for a network and a batch of inputs.

Registered by :mod:`recirc_analog.cli`.
"""

from ..cli_args import (
    add_budget_options,
    add_network_options,
    add_periphery_options,
    add_recirculation_options,
    add_wire_options,
    budget_options,
    periphery_options,
    positive_int,
    wire_options,
)
from ..errors import DataError, OutputError, UsageError
from ..limits import MAX_BATCH_SIZE

SUMMARY = "write the circuit of a network as a SPICE netlist"


def add_parser(commands) -> None:
    """Register ``netlist`` on the sub-command parsers."""
    from ..netlist_writers.api import DIALECTS
    from ..schematic.spec import ARCHITECTURES, FORMS, MAPPING_KINDS

    parser = commands.add_parser("netlist", help=SUMMARY,
                                 description="Write the circuit of a circular autoencoder as a SPICE netlist.")
    add_network_options(parser, "64,16,64", "tanh")
    add_recirculation_options(parser, circuit=True, rule=False)
    parser.add_argument("--form", choices=FORMS, default="dc",
                        help="dc: phases unrolled, the batch as one .dc sweep; tran: physical circuit (default dc)")
    parser.add_argument("--architecture", choices=ARCHITECTURES, default="conjoined",
                        help="Appendix A: conjoined (a crossbar per direction) or bidirectional (L = 2: one "
                             "crossbar read both ways, A^2 = A^1^T) (default conjoined)")
    parser.add_argument("--mapping", choices=MAPPING_KINDS, default="differential",
                        help="weights as device pairs w = r_f (G+ - G-), or one device per weight against a "
                             "shared reference column (half the devices) (default differential)")
    add_periphery_options(parser)
    add_wire_options(parser)
    add_budget_options(parser)
    parser.add_argument("--dialect", choices=tuple(DIALECTS), default="ngspice",
                        help="simulator syntax of the generated cards; xyce output is UNVERIFIED: no machine "
                             "here has Xyce, and the inlined cells are written in ngspice syntax (default ngspice)")
    parser.add_argument("--weights", default=None, metavar="NPZ", help="weights.npz (default: random, --seed)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random weights and inputs (default 0)")
    parser.add_argument("--inputs", default=None, metavar="NPY", help="inputs (batch, N0) .npy (default: random)")
    parser.add_argument("--batch", type=positive_int("--batch", MAX_BATCH_SIZE), default=4,
                        help=f"random inputs: batch, at most {MAX_BATCH_SIZE} (default 4)")
    parser.add_argument("-o", "--output", required=True, metavar="FILE", help="netlist file to write")
    parser.set_defaults(handler=run)


def _inputs(path, batch: int, n0: int, seed: int):
    import numpy as np

    if path is None:
        return np.random.default_rng(seed).uniform(0, 1, size=(batch, n0))
    from recirc_analog.fileio import load_npy

    x = load_npy(path, "--inputs")
    if np.iscomplexobj(x):
        raise DataError(f"--inputs {path!r} holds complex numbers; the inputs must be real")
    return x


def _check_agrees_with_weights(args, net) -> None:
    """UsageError when --sizes or --act, as typed, contradict the network in --weights."""
    from ..cli_args import parse_activations, parse_sizes

    given = getattr(args, "given", set())
    if "sizes" in given and parse_sizes(args.sizes) != net.sizes:
        raise UsageError(f"--sizes {args.sizes} contradicts --weights {args.weights!r}, whose network is "
                         f"{','.join(map(str, net.sizes))}; drop --sizes or give matching weights")
    if "act" in given and parse_activations(args.act, net.sizes) != tuple(net.activations):
        raise UsageError(f"--act {args.act} contradicts --weights {args.weights!r}, whose activations are "
                         f"{','.join(net.activations)}; drop --act or give matching weights")


def run(args) -> int:
    """Write the netlist; returns the exit code."""
    from ..cli_args import parse_activations, parse_sizes
    from ..netlist_writers.api import write_netlist
    from ..reference.network import CircularAutoencoder
    from ..reference.recirculation import Recirculation
    from ..schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig

    if args.weights is not None:
        net = CircularAutoencoder.load(args.weights)
        _check_agrees_with_weights(args, net)
    else:
        sizes = parse_sizes(args.sizes)
        net = CircularAutoencoder.random(sizes, parse_activations(args.act, sizes), seed=args.seed)
        if args.architecture == "bidirectional" and net.n_layers == 2:
            from ..reference.tied import tie_weights

            net = tie_weights(net)  # one crossbar read both ways: A^2 = A^1^T
    spec = CircuitSpec(recirculation=Recirculation(args.mode, args.lam, args.cycles), form=args.form,
                       architecture=args.architecture,
                       crossbar=CrossbarConfig(mapping=args.mapping, **wire_options(args)),
                       neuron=NeuronConfig(kind=args.neuron), **periphery_options(args), **budget_options(args))
    x = _inputs(args.inputs, args.batch, net.sizes[0], args.seed)
    try:
        node_map = write_netlist(args.output, net, spec, x, dialect=args.dialect)
    except OSError as error:
        reason = error.strerror or str(error)
        raise OutputError(f"-o {args.output!r}: cannot write the netlist: {reason} (an existing file is left as "
                          "it was)") from None
    print(f"wrote {args.output}: {'-'.join(map(str, net.sizes))}, {args.mode}, {args.form} form, "
          f"{node_map.batch} samples, cycles 0..{node_map.cycles}")
    return 0
