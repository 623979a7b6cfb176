"""``recirc-analog cosim``: train a circuit inside ngspice with local updates, beside the NumPy reference."""

from __future__ import annotations

from ..cli_args import (
    StoreGiven,
    add_budget_options,
    add_cycle_mode_option,
    add_data_options,
    add_device_option,
    add_network_options,
    add_periphery_options,
    add_recirculation_options,
    add_wire_options,
    budget_options,
    in_range,
    load_device_option,
    parse_activations,
    parse_sizes,
    periphery_options,
    positive_float,
    positive_int,
    wire_options,
)
from ..errors import UsageError
from ..limits import MAX_BATCH_SIZE

SUMMARY = "train the circuit in ngspice with local updates, in lock-step with the reference"


def add_parser(commands) -> None:
    """Register ``cosim`` on the sub-command parsers."""
    from ..engines.engine import ENGINE_KINDS
    from ..schematic.spec import ARCHITECTURES, FORMS, MAPPING_KINDS

    cosim = commands.add_parser(
        "cosim", help=SUMMARY,
        description="Co-simulation: per minibatch ngspice runs the forward and recirculation phases, the "
                    "controller reads the held and recirculated voltages and programs local conductance "
                    "updates; the NumPy reference trains alongside from the same initial weights.")
    add_network_options(cosim, "100,20,100", "tanh,linear")
    add_recirculation_options(cosim, circuit=True)
    add_data_options(cosim)
    cosim.add_argument("--form", default="dc", choices=FORMS,
                       help="netlist form: dc (phases unrolled, batch as a .dc sweep; fast) or tran "
                            "(physical circuit with switches and hold capacitors) (default dc)")
    cosim.add_argument("--architecture", default="conjoined", choices=ARCHITECTURES,
                       help="Appendix A: conjoined (a crossbar per direction) or bidirectional (L = 2 only: one "
                            "crossbar read both ways, so A^2 = A^1^T physically; the initial weights are tied and "
                            "a shared device learns the sum of its two local updates) (default conjoined)")
    cosim.add_argument("--epochs", type=positive_int("--epochs"), default=1, help="epochs (default 1)")
    cosim.add_argument("--batches", type=positive_int("--batches"), default=None,
                       help="minibatches per epoch (default: the whole epoch)")
    cosim.add_argument("--batch-size", type=positive_int("--batch-size", MAX_BATCH_SIZE), default=100,
                       help=f"samples per minibatch = per ngspice analysis, at most {MAX_BATCH_SIZE} (default 100)")
    cosim.add_argument("--lr", type=positive_float("--lr"), default=0.001, help="learning rate (default 0.001)")
    cosim.add_argument("--lr-decay", type=positive_float("--lr-decay"), default=1.0,
                       help="layer h learns at lr * decay^(L-h) (default 1)")
    cosim.add_argument("--seed", type=int, default=0, help="seed of weights, data order and devices (default 0)")
    cosim.add_argument("--engine", default="batch", choices=ENGINE_KINDS,
                       help="ngspice as a batch subprocess or through libngspice, or direct: the circuit "
                            "evaluated exactly without ngspice (default batch)")
    cosim.add_argument("--audit-every", type=positive_int("--audit-every"), default=None, metavar="K",
                       help="with --engine direct: ngspice re-simulates every K-th minibatch with the same "
                            "conductances; metrics.csv records the largest relative difference of a read voltage "
                            "and a difference above the tolerance (1e-6 dc form; tran form: the hold's tracking "
                            "and droop bound) stops the run (default: never)")
    add_cycle_mode_option(cosim)
    cosim.add_argument("--workers", type=positive_int("--workers"), default=1,
                       help="processes each minibatch is split across (batch engine; default 1)")
    add_periphery_options(cosim)
    cosim.add_argument("--mapping", default="differential", choices=MAPPING_KINDS,
                       help="weight to conductance mapping (default differential)")
    cosim.add_argument("--g-min", type=positive_float("--g-min"), default=1e-6,
                       help="smallest device conductance in S (default 1e-6)")
    cosim.add_argument("--g-max", type=positive_float("--g-max"), default=1e-4,
                       help="largest device conductance in S (default 1e-4)")
    cosim.add_argument("--headroom", type=in_range("--headroom", 1.0, 1e6), default=2.0,
                       help="r_f leaves this factor of room for weights to grow (default 2)")
    add_wire_options(cosim)
    add_budget_options(cosim)
    cosim.add_argument("--r-leak", type=positive_float("--r-leak"), default=None,
                       help="tran form: hold-capacitor leakage resistance in ohm (default none)")
    devices = cosim.add_argument_group("device model (default: ideal devices)")
    add_device_option(devices, "replaces the options below, which build a simple device when --device is not "
                               "given (default: ideal devices, or the options below)")
    devices.add_argument("--levels", action=StoreGiven, type=positive_int("--levels"), default=None,
                         help="programmable conductance states per device in [g_min, g_max] (default: analog)")
    devices.add_argument("--write-noise", action=StoreGiven, type=in_range("--write-noise", 0.0, 10.0), default=0.0,
                         help="programming error, std relative to the requested change (default 0)")
    devices.add_argument("--up-gain", action=StoreGiven, type=positive_float("--up-gain"), default=1.0,
                         help="realised / requested size of conductance increases (default 1)")
    devices.add_argument("--down-gain", action=StoreGiven, type=positive_float("--down-gain"), default=1.0,
                         help="realised / requested size of conductance decreases (default 1)")
    devices.add_argument("--stuck-fraction", action=StoreGiven, type=in_range("--stuck-fraction", 0.0, 1.0),
                         default=0.0,
                         help="fraction of devices stuck at their initial conductance (default 0)")
    cosim.add_argument("--checkpoint-every", type=positive_int("--checkpoint-every"), default=10,
                       help="write a checkpoint every K batches (default 10)")
    cosim.add_argument("--test-samples", type=positive_int("--test-samples"), default=100,
                       help="test samples simulated at the end (default 100)")
    cosim.add_argument("--out", required=True, metavar="DIR", help="output folder")
    cosim.add_argument("--accept-relaxed", action="store_true",
                       help="use batches ngspice solves only with loosened tolerances (reltol=1e-3, "
                            "flagged in metrics.csv's relaxed_tolerance column); without it such a batch "
                            "stops the run")
    cosim.add_argument("--resume", action="store_true", help="continue the run in --out from its checkpoint")
    cosim.add_argument("--overwrite", action="store_true",
                       help="replace an unfinished (resumable) run in --out instead of refusing")
    cosim.add_argument("--ngspice-timeout", type=positive_float("--ngspice-timeout"), default=None,
                       metavar="SECONDS", help="seconds one ngspice analysis may take before it is killed and "
                                               "the run stops; batch engine only (libngspice runs inside this "
                                               "process and cannot be killed: the shared engine has no timeout) "
                                               "(default: scaled to the batch and network, at least 120)")
    cosim.add_argument("--quiet", action="store_true", help="no progress bar")
    add_in_circuit_options(cosim)
    cosim.set_defaults(handler=run)
    # what --update in-circuit must see left at its default (it refuses the options it does not use)
    cosim.set_defaults(option_defaults={a.dest: (a.option_strings[0], a.default) for a in cosim._actions
                                        if a.option_strings and a.dest != "help"})


IN_CIRCUIT_OPTIONS = ("sizes", "act", "mode", "cycles", "batches", "seed", "out", "overwrite", "quiet",
                      "update", "memristor", "write_width", "data", "data_dir", "downsample", "biases")
"""The options ``--update in-circuit`` reads; any other one given is refused."""


def add_in_circuit_options(cosim) -> None:
    """``--update`` and the in-circuit write's options (issue 13)."""
    from ..cosim.in_circuit import UPDATE_KINDS
    from ..devices.compact.models import COMPACT_MODELS

    group = cosim.add_argument_group("in-circuit learning (issue 13)")
    group.add_argument("--update", default="controller", choices=UPDATE_KINDS,
                       help="controller: Python computes each update from the read voltages and programs the "
                            "devices (minibatches); in-circuit: a write phase in the .tran netlist programs "
                            "memristor crossbars from the held and live voltages, one update per sample, beside "
                            "the controller-driven run and the reference (--sizes N0,N1,N0 (default there 8,4,8), "
                            "--act logistic (or sigmoid) or tanh, --biases, PR; --batches samples of squashed "
                            "Lowrank or of --data mnist / fashion, --downsample 4 giving 7x7 and --sizes 49,N1,49; "
                            "default 100) "
                            "(default controller)")
    group.add_argument("--memristor", default="yakopcic", choices=tuple(COMPACT_MODELS),
                       help="with --update in-circuit: the compact model of every device; each has its own "
                            "column drivers (vteam's pre-distort the on direction's height by a cube root so "
                            "the change stays proportional to the rule) and read (vteam: 15 mV per unit of "
                            "activity, below its 20 mV off threshold) (default yakopcic)")
    group.add_argument("--write-width", type=in_range("--write-width", 1e-7, 1e-2), default=None,
                       metavar="SECONDS",
                       help="with --update in-circuit: the longest row pulse, for a pre-synaptic activity of 1; "
                            "sets the learning rate: the default changes a weight by about 1.26 per unit of "
                            "pre x post-difference (default 2.7e-4 for yakopcic, 1e-4 for vteam)")
    group.add_argument("--biases", action="store_true",
                       help="with --update in-circuit: a bias row per crossbar (pre-synaptic activity 1, one "
                            "device per neuron against the reference column, written by the same rule: "
                            "db = post-difference) in all three runs; yakopcic only, like --act tanh; without it, none")


LEGACY_DEVICE_OPTIONS = {"levels": "--levels", "write_noise": "--write-noise", "up_gain": "--up-gain",
                         "down_gain": "--down-gain", "stuck_fraction": "--stuck-fraction"}
"""dest -> option of the simple device options, which --device replaces."""


def build_configs(args):
    """(CosimConfig, CircuitSpec, device record) from parsed arguments: ``--device``'s record,
    else the DeviceConfig of the simple device options."""
    from ..cosim.lockstep import CosimConfig
    from ..devices import DeviceConfig
    from ..reference.recirculation import Recirculation
    from ..schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig, SampleHoldConfig

    sizes = parse_sizes(args.sizes)
    acts = parse_activations(args.act, sizes)
    if args.g_max <= args.g_min:
        raise UsageError(f"--g-max must be > --g-min = {args.g_min:g} S, got {args.g_max:g}")
    config = CosimConfig(sizes=sizes, activations=acts, data=args.data, epochs=args.epochs, batches=args.batches,
                         batch_size=args.batch_size, lr=args.lr, lr_decay=args.lr_decay, seed=args.seed,
                         headroom=args.headroom, workers=args.workers, engine=args.engine,
                         audit_every=args.audit_every or 0,
                         checkpoint_every=args.checkpoint_every, test_samples=args.test_samples,
                         downsample=args.downsample, data_dir=args.data_dir, max_train=args.max_train)
    hold = SampleHoldConfig(r_leak=args.r_leak) if args.r_leak else SampleHoldConfig()
    spec = CircuitSpec(recirculation=Recirculation(args.mode, args.lam, args.cycles, args.top_layer), form=args.form,
                       architecture=args.architecture,
                       crossbar=CrossbarConfig(g_min=args.g_min, g_max=args.g_max, mapping=args.mapping,
                                              **wire_options(args)),
                       neuron=NeuronConfig(kind=args.neuron), **periphery_options(args), sample_hold=hold,
                       **budget_options(args))
    legacy = sorted(set(getattr(args, "given", ())) & set(LEGACY_DEVICE_OPTIONS))
    if args.device is not None:
        if legacy:
            raise UsageError(f"--device and {LEGACY_DEVICE_OPTIONS[legacy[0]]} exclude each other "
                             "(put the device's parameters in a .json device record)")
        return config, spec, load_device_option(args.device)
    if args.levels == 1:
        raise UsageError("--levels must be >= 2, got 1")
    # The conductance window is the crossbar's alone (--g-min/--g-max above); the devices get it when built.
    device = DeviceConfig(levels=args.levels, write_noise=args.write_noise, up_gain=args.up_gain,
                          down_gain=args.down_gain, stuck_fraction=args.stuck_fraction)
    return config, spec, device


def run(args) -> int:
    """Run the cosim command; print the comparison table; return the exit code."""
    from ..jobs.cosim import run_cosim

    if args.update == "in-circuit":
        return run_in_circuit_command(args)
    for dest in ("memristor", "write_width", "biases"):
        option, default = args.option_defaults[dest]
        if getattr(args, dest) != default:
            raise UsageError(f"{option} needs --update in-circuit")
    config, spec, device = build_configs(args)
    if args.resume and args.overwrite:
        raise UsageError("--resume and --overwrite exclude each other")
    if args.ngspice_timeout is not None and args.engine == "shared":
        raise UsageError("--ngspice-timeout needs --engine batch: libngspice runs inside this process and "
                         "cannot be killed")
    summary = run_cosim(config, spec, device, args.out, resume=args.resume, show_progress=not args.quiet,
                        overwrite=args.overwrite, ngspice_timeout=args.ngspice_timeout,
                        accept_relaxed=args.accept_relaxed, cycle_mode=args.cycle_mode)
    print_summary(summary, args.out)
    return 0


def print_summary(summary: dict, out) -> None:
    """The co-simulation vs reference table and where the files are."""
    from ..report import format_table

    rows = [
        {"quantity": "last minibatch loss", "circuit": summary["final_cosim_loss"],
         "reference": summary["final_reference_loss"]},
        {"quantity": f"test loss ({summary['test_samples']} samples)", "circuit": summary["final_test_loss_cosim"],
         "reference": summary["final_test_loss_reference"]},
    ]
    if summary.get("energy_per_sample_J") is not None:
        rows += [{"quantity": "periphery energy per sample (J)", "circuit": summary["energy_per_sample_J"],
                  "reference": None},
                 {"quantity": "periphery energy per update (J)", "circuit": summary["energy_per_update_J"],
                  "reference": None}]
    print(format_table(rows, ["quantity", "circuit", "reference"]))
    if summary.get("energy_covers"):
        print(f"energy: {summary['energy_covers']}")
    print(f"largest relative weight difference: {summary['weight_rel_diff_max']:.3g}; "
          f"{summary['batches_done']} batches in {summary['wall_seconds']:.1f} s "
          f"(ngspice {summary['ngspice_seconds']:.1f} s, ngspice {summary['ngspice_version']}, "
          f"{summary['engine']} engine)")
    if summary.get("audit_every"):
        deviation = summary["audit_max_deviation"]
        print(f"audit: {summary['audited_batches']} batches re-simulated in ngspice, largest relative deviation "
              + ("n/a" if deviation is None else f"{deviation:.3g} (tolerance {summary['audit_tolerance']:g})"))
    print(f"results and plots in {out}/: metrics.csv, summary.json, " + ", ".join(
        str(p).rsplit("/", 1)[-1] for p in summary["plots"]))


def run_in_circuit_command(args) -> int:
    """``cosim --update in-circuit``: refuse what it does not support, run, print its table."""
    from ..jobs.in_circuit import InCircuitConfig, run_in_circuit
    from ..report import format_table

    for dest, (option, default) in args.option_defaults.items():
        if dest not in IN_CIRCUIT_OPTIONS and getattr(args, dest) != default:
            raise UsageError(f"--update in-circuit does not support {option} (it reads only "
                             + ", ".join("--" + d.replace("_", "-") for d in IN_CIRCUIT_OPTIONS) + ")")
    given = set(getattr(args, "given", ()))
    sizes = parse_sizes(args.sizes) if "sizes" in given else (8, 4, 8)
    if len(sizes) != 3 or sizes[0] != sizes[2] or max(sizes) > 64:
        raise UsageError(f"--sizes must be N0,N1,N0 with widths <= 64 for --update in-circuit, got {args.sizes}")
    activation = in_circuit_activation(args.act) if "act" in given else "logistic"
    if args.mode != "pr" or tuple(args.cycles or (0, 1)) != (0, 1):
        raise UsageError(f"--mode must be pr with --cycles 0,1 for --update in-circuit, got {args.mode}")
    config = InCircuitConfig(sizes=sizes, memristor=args.memristor, samples=args.batches or 100, seed=args.seed,
                             tw=args.write_width, dataset=args.data, data_dir=args.data_dir,
                             downsample=args.downsample, activation=activation, biases=args.biases)
    s = run_in_circuit(config, args.out, show_progress=not args.quiet, overwrite=args.overwrite)
    rows = [{"run": u, "loss (first)": s["loss_first"][u], "loss (last)": s["loss_last"][u]}
            for u in ("in-circuit", "controller", "reference")]
    print(format_table(rows, ["run", "loss (first)", "loss (last)"]))
    print(f"loss: mean of the first / last {s['window']} samples' losses before their update")
    print(f"update correlation (realised vs pre x post-difference, per sample): median {s['corr_median']:.4f}, "
          f"min {s['corr_min']:.4f}; devices changed against the rule's sign: {s['wrong_sign']}")
    print(f"half-selected devices disturbed: {s['disturbed']} of {s['half_selected_checked']} checked "
          f"(largest reference-column drift {s['reference_column_drift_max']:.2g})")
    print(f"results and plots in {args.out}/: metrics.csv, summary.json, in_circuit.png")
    return 0


IN_CIRCUIT_ACTIVATIONS = {"sigmoid": "logistic", "logistic": "logistic", "tanh": "tanh"}
"""``--act`` names ``--update in-circuit`` realises (one for both layers) -> the network's activation."""


def in_circuit_activation(text: str) -> str:
    """``--act`` for ``--update in-circuit``: one of :data:`IN_CIRCUIT_ACTIVATIONS`, given once or for both layers."""
    names = {part.strip().lower() for part in text.split(",")}
    if len(names) != 1 or len(text.split(",")) > 2 or next(iter(names)) not in IN_CIRCUIT_ACTIVATIONS:
        raise UsageError(f"--act must be sigmoid, logistic or tanh (the same for both layers) for --update "
                         f"in-circuit, got {text}")
    return IN_CIRCUIT_ACTIVATIONS[names.pop()]
