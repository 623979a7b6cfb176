"""``recirc-analog train``: train the NumPy reference network with one learning rule."""

from __future__ import annotations

from dataclasses import replace

from ..cli_args import (
    add_data_options,
    add_device_option,
    add_network_options,
    add_recirculation_options,
    in_range,
    load_device_option,
    nonnegative_float,
    parse_activations,
    parse_float_list,
    parse_sizes,
    positive_float,
    positive_int,
)
from ..errors import UsageError
from ..limits import MAX_BATCH_SIZE

SUMMARY = "train the NumPy reference with any learning rule"

NONE = "none"
"""How the command line spells an absent channel (None in :class:`StandardChannels`)."""


def add_parser(commands) -> None:
    """Register ``train`` on the sub-command parsers."""
    from ..reference.rules import RULE_NAMES
    from ..reference.standard_channels import C2_CHOICES, C3_CHOICES, SIGNALS

    train = commands.add_parser("train", help=SUMMARY,
                                description="Train the NumPy reference network with one learning rule.")
    add_network_options(train, "100,20,100", "linear")
    train.add_argument("--rule", default="rec", choices=RULE_NAMES,
                       help=f"learning rule: {', '.join(RULE_NAMES)} (rec: recirculation; standard: Appendix B "
                            "channels, L = 2) (default rec)")
    add_recirculation_options(train)
    train.add_argument("--feedback-rate", type=positive_float("--feedback-rate"), default=1.0,
                       help="arbp: rate of the feedback matrices relative to the forward rate (default 1)")
    train.add_argument("--c1", choices=("yes", "no"), default="yes",
                       help="standard: input-to-output channel C1 = Id present (default yes)")
    train.add_argument("--c2", choices=_spelled(C2_CHOICES), default="transpose",
                       help="standard: output-to-hidden channel C2 (default transpose)")
    train.add_argument("--c3", choices=_spelled(C3_CHOICES), default=NONE,
                       help="standard: output-to-input channel C3 (default none)")
    train.add_argument("--signal", choices=SIGNALS, default="error",
                       help="standard: what C2 / C3 carry (default error)")
    add_data_options(train)
    train.add_argument("--epochs", type=positive_int("--epochs"), default=3, help="epochs (default 3)")
    train.add_argument("--batch-size", type=positive_int("--batch-size", MAX_BATCH_SIZE), default=100,
                       help=f"minibatch size, at most {MAX_BATCH_SIZE} (default 100)")
    train.add_argument("--lr", type=positive_float("--lr"), default=0.001,
                       help="learning rate, the paper's rate on Lowrank (default 0.001); the paper uses 0.01 on MNIST "
                            "and Fashion with one hidden layer")
    train.add_argument("--layer-lrs", default=None, metavar="R1,...,RL",
                       help="explicit learning rate of each layer 1..L (overrides --lr, --lr-decay)")
    train.add_argument("--lr-decay", type=positive_float("--lr-decay"), default=1.0,
                       help="layer h learns at lr * decay^(L-h); 0.5 gives REC' of Fig. 8 (default 1)")
    train.add_argument("--max-norm", type=positive_float("--max-norm"), default=None,
                       help="cap on each neuron's incoming weight norm (the paper uses 2.0 for linear nets)")
    train.add_argument("--seed", type=int, default=0, help="seed of everything, the devices' too (default 0)")
    train.add_argument("--angles", choices=("yes", "no"), default="yes",
                       help="record the angle between each update and backprop's gradient every minibatch "
                            "(angle_A* columns; costs a backprop pass per minibatch); no for faster sweeps "
                            "(default yes)")
    hardware = train.add_argument_group("hardware-aware reference (README.md, 'Device models')")
    add_device_option(hardware, "the weights are held as device conductances and every update is programmed "
                                "through the devices and read back, no circuit (default: the plain reference)")
    hardware.add_argument("--headroom", type=in_range("--headroom", 1.0, 1e6), default=2.0,
                          help="with --device: r_f leaves this factor of room for weights to grow (default 2)")
    hardware.add_argument("--batch-seconds", type=nonnegative_float("--batch-seconds"), default=None,
                          metavar="SECONDS",
                          help="with --device: device time one minibatch takes, for drift (default: batch size "
                               "* (1 + M) * 1 us, as cosim's phase clock)")
    train.add_argument("--out", default=None, metavar="DIR",
                       help="output folder (metrics.csv, summary.json, weights.npz, plots)")
    train.add_argument("--quiet", action="store_true", help="no progress bar")

    train.set_defaults(handler=run)


def _spelled(choices) -> tuple[str, ...]:
    """A channel registry as command-line words: None becomes "none"."""
    return tuple(NONE if choice is None else choice for choice in choices)


def run(args) -> int:
    """Run the train command; returns the exit code."""
    from ..jobs.train import RuleSpec, TrainJob, run_train
    from ..reference.recirculation import Recirculation
    from ..reference.standard_channels import StandardChannels
    from ..reference.training import TrainConfig
    from ..report import format_table

    sizes = parse_sizes(args.sizes)
    acts = parse_activations(args.act, sizes)
    channels = None
    if args.rule == "standard":
        channels = StandardChannels(c1=args.c1 == "yes", c2=None if args.c2 == NONE else args.c2,
                                    c3=None if args.c3 == NONE else args.c3, signal=args.signal)
    layer_lrs = parse_float_list(args.layer_lrs, "--layer-lrs") if args.layer_lrs else None
    if layer_lrs is not None and len(layer_lrs) != len(sizes) - 1:
        raise UsageError(f"--layer-lrs needs {len(sizes) - 1} rates (one per layer), got {len(layer_lrs)}")
    rule = RuleSpec(args.rule, Recirculation(args.mode, args.lam, args.cycles, args.top_layer), channels,
                    args.feedback_rate, args.seed)
    job = TrainJob(sizes, acts, rule,
                   TrainConfig(epochs=args.epochs, batch_size=args.batch_size, lr=args.lr, layer_lrs=layer_lrs,
                               lr_decay=args.lr_decay, max_norm=args.max_norm, seed=args.seed,
                               track_angles=args.angles == "yes"),
                   args.data, args.data_dir, args.downsample, args.max_train, args.seed, args.out)
    device = load_device_option(args.device) if args.device is not None else None
    if device is None and (args.headroom != 2.0 or args.batch_seconds is not None):
        raise UsageError("--headroom and --batch-seconds need --device")
    if device is not None:
        job = replace(job, device=device, headroom=args.headroom, batch_seconds=args.batch_seconds)
    rule.build()  # validate rule parameters before loading data
    _, history = run_train(job, show_progress=not args.quiet)
    rows = [{"epoch": m.epoch, "train_loss": m.train_loss, "test_loss": m.test_loss, "seconds": m.seconds}
            for m in history]
    print(format_table(rows, ["epoch", "train_loss", "test_loss", "seconds"]))
    if args.out:
        print(f"results in {args.out}/ (metrics.csv, summary.json, weights.npz, loss.png)")
    return 0


