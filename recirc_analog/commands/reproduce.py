"""``recirc-analog reproduce``: the paper's experiment figures, their CSVs, panels and REPORT.md."""

from __future__ import annotations

import shlex
import sys

from ..cli_args import positive_int
from ..errors import UsageError

SUMMARY = "reproduce the paper's experiment figures (Section 7) and write REPORT.md"


def _figure_number(text: str) -> int:
    """An argparse ``type``: a figure number of :data:`~recirc_analog.jobs.reproduce.FIGURE_NUMBERS`."""
    from ..jobs.reproduce import FIGURE_NUMBERS

    allowed = ", ".join(map(str, FIGURE_NUMBERS))
    try:
        number = int(text)
    except ValueError:
        raise UsageError(f"--figure must be one of {allowed}, got {text!r}") from None
    if number not in FIGURE_NUMBERS:
        raise UsageError(f"--figure must be one of {allowed} (the paper's experiment figures), got {number}")
    return number


def add_parser(commands) -> None:
    """Register ``reproduce`` on the sub-command parsers."""
    from ..engines.engine import ENGINE_KINDS
    from ..jobs.reproduce import FIGURE_NUMBERS, FULL_EPOCHS, PAPER_TRAIN, QUICK

    parser = commands.add_parser(
        "reproduce", help=SUMMARY,
        description="Train every rule of the paper's experiment figures (4-10) with the NumPy reference and "
                    "write per figure figNN.csv (test loss per epoch), figNN.png (drawn like the paper's panel) "
                    "and REPORT.md (the paper's claims beside the measurements).")
    parser.add_argument("--figure", type=_figure_number, action="append", default=None, metavar="N",
                        help=f"a figure to reproduce, one of {', '.join(map(str, FIGURE_NUMBERS))}; repeat for "
                             "several (default: all)")
    parser.add_argument("--quick", action="store_true",
                        help=f"reduced size for a check in minutes: {QUICK['epochs']} epochs of "
                             f"{QUICK['max_train']} samples, {QUICK['max_test']} test samples")
    parser.add_argument("--epochs", type=positive_int("--epochs"), default=None,
                        help=f"epochs of every run (default: the full run's {FULL_EPOCHS}, the paper does not state "
                             f"it; with --quick {QUICK['epochs']})")
    parser.add_argument("--max-train", type=positive_int("--max-train"), default=None,
                        help=f"training samples per epoch (default: the paper's {PAPER_TRAIN}, Section 7.1; with "
                             f"--quick {QUICK['max_train']})")
    parser.add_argument("--circuit", action="store_true",
                        help="also re-run a Lowrank and an MNIST panel through the co-simulation at reduced "
                             "scale (REC in the circuit beside its lock-step reference)")
    parser.add_argument("--recheck", action="store_true",
                        help="train nothing: re-evaluate the paper's claims on the figNN.csv files in --out, redraw "
                             "their loss panels, rewrite figNN.md and REPORT.md (after changing a check or a plot)")
    parser.add_argument("--circuit-only", action="store_true",
                        help="run only the --circuit panels, no figure (their section joins REPORT.md in --out)")
    parser.add_argument("--engine", choices=ENGINE_KINDS, default="direct",
                        help="engine of the --circuit panels: direct (closed forms, audited by ngspice every "
                             "25th minibatch), batch or shared (ngspice for every minibatch) (default direct)")
    parser.add_argument("--circuit-batches", type=positive_int("--circuit-batches"), default=None,
                        help="minibatches of each --circuit panel (default: two hundred, with --quick ten)")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help="folder holding mnist/ and fashion/ IDX files (default $RECIRC_ANALOG_DATA)")
    parser.add_argument("--seed", type=int, default=0,
                        help="seed of the weights, feedback matrices, batch order and Lowrank data (default 0)")
    parser.add_argument("--out", required=True, metavar="DIR", help="output folder (created if missing)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Run the reproduce command; print each figure's final test losses; return the exit code."""
    from dataclasses import replace

    from ..jobs.reproduce import FIGURE_NUMBERS, Settings, assemble_report, quick_settings, recheck, reproduce
    from ..jobs.reproduce_circuit import circuit_panels

    if args.recheck:
        if args.figure or args.circuit or args.circuit_only or args.quick:
            raise UsageError("--recheck trains nothing: it excludes --figure, --quick, --circuit and --circuit-only")
        entries = recheck(args.out)
        if not entries:
            raise UsageError(f"--recheck: no figNN.csv in {args.out}")
        _print_entries(entries, args.out)
        return 0
    settings = quick_settings(args.seed) if args.quick else Settings(seed=args.seed)
    if args.epochs is not None:
        settings = replace(settings, epochs=args.epochs)
    if args.max_train is not None:
        settings = replace(settings, max_train=args.max_train)
    if args.circuit_only:
        args.circuit = True
        if args.figure:
            raise UsageError("--circuit-only and --figure exclude each other")
    if args.circuit_batches is not None and not args.circuit:
        raise UsageError("--circuit-batches needs --circuit")
    command = "recirc-analog " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[1:2] == ["reproduce"] \
        else "recirc-analog reproduce"
    if args.circuit:
        batches = args.circuit_batches or (10 if args.quick else 200)
        circuit_panels(args.out, args.data_dir, batches=batches, engine=args.engine, seed=args.seed,
                       show_progress=not args.quiet, command=command)
        assemble_report(args.out)
        if args.circuit_only:
            print(f"report in {args.out}/REPORT.md")
            return 0
    entries = reproduce(args.figure or FIGURE_NUMBERS, settings, args.out, args.data_dir,
                        show_progress=not args.quiet, command=command)
    _print_entries(entries, args.out)
    return 0


def _print_entries(entries, out) -> None:
    """Each figure's final test losses and how many of its claims hold; where the report is."""
    for entry in entries:
        verdicts = [holds for _, holds, _ in entry["checks"]]
        print(f"{entry['line']} [claims holding: {sum(verdicts)}/{len(verdicts)}]")
    print(f"report in {out}/REPORT.md")
