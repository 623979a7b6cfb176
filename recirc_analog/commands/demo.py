"""``recirc-analog demo``: the main job of the README (``make demo``).

Co-simulates recirculation learning of a 196-20-196 circular autoencoder
(tanh hidden layer, logistic outputs) on 14x14 MNIST inside ngspice, with
both cores, in lock-step with the NumPy reference, and prints the
comparison table and where the plots are. About two minutes on 2 cores.
"""

from __future__ import annotations

from ..cli_args import add_cycle_mode_option, positive_int

SUMMARY = "the main job: a two-minute co-simulation on MNIST (see README)"


def add_parser(commands) -> None:
    """Register ``demo`` on the sub-command parsers."""
    demo = commands.add_parser("demo", help=SUMMARY,
                               description=__doc__.splitlines()[0])
    demo.add_argument("--out", default="runs/demo", metavar="DIR", help="output folder (default runs/demo)")
    demo.add_argument("--data-dir", default=None, metavar="DIR",
                      help="folder holding mnist/ (default: $RECIRC_ANALOG_DATA; `make demo` passes ../shared/data)")
    demo.add_argument("--batches", type=positive_int("--batches"), default=150,
                      help="minibatches of 100 samples (default 150)")
    demo.add_argument("--workers", type=positive_int("--workers"), default=2,
                      help="ngspice processes per minibatch (default 2)")
    add_cycle_mode_option(demo)
    demo.add_argument("--max-train", type=positive_int("--max-train"), default=None, metavar="N",
                      help="use only the first N training samples per epoch (quick runs)")
    demo.add_argument("--seed", type=int, default=0, help="seed (default 0)")
    demo.add_argument("--overwrite", action="store_true",
                      help="replace an unfinished (resumable) run in --out instead of refusing")
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(handler=run)


def run(args) -> int:
    """Run the demo co-simulation; print the table; return the exit code."""
    from ..cosim.lockstep import CosimConfig
    from ..data.datasets import find_image_folder
    from ..devices import DeviceConfig
    from ..jobs.cosim import run_cosim
    from ..reference.recirculation import Recirculation
    from ..schematic.spec import CircuitSpec
    from .cosim import print_summary

    config = CosimConfig(sizes=(196, 20, 196), activations=("tanh", "logistic"), data="mnist", downsample=2,
                         data_dir=args.data_dir, batches=args.batches, batch_size=100,
                         lr=0.05, seed=args.seed, workers=args.workers, checkpoint_every=25, test_samples=100,
                         max_train=args.max_train)
    spec = CircuitSpec(recirculation=Recirculation("pr"), form="dc")
    find_image_folder("mnist", args.data_dir)  # a missing folder is one line before anything starts
    print(f"co-simulating REC-PR on 14x14 MNIST, 196-20-196 (tanh, logistic), dc form, {args.batches} "
          f"minibatches of 100, lr 0.05, {args.workers} ngspice processes; NumPy reference in lock-step")
    summary = run_cosim(config, spec, DeviceConfig(), args.out, show_progress=not args.quiet,
                        overwrite=args.overwrite, cycle_mode=args.cycle_mode)
    print_summary(summary, args.out)
    return 0
