"""``recirc-analog sweep``: run train or cosim over a grid of configurations on Dask distributed."""

from __future__ import annotations

from ..cli_args import parse_activations, parse_float_list, parse_sizes, positive_int

SUMMARY = "run train or cosim over a grid of configurations and seeds (Dask)"


def add_parser(commands) -> None:
    """Register ``sweep`` on the sub-command parsers."""
    sweep = commands.add_parser(
        "sweep", help=SUMMARY,
        description="Run a study: a TOML file naming the command (train or cosim), its [base] arguments, a "
                    "[grid] of lists (every combination runs) and an optional [zip] of equal-length lists "
                    "(advanced together), keyed by the command's long option names. Every point is checked "
                    "before anything runs; each writes its own folder DIR/points/<hash>/; a rerun skips "
                    "finished points; DIR/results.csv has one row per point.")
    sweep.add_argument("study", metavar="STUDY.toml", help="the study file")
    sweep.add_argument("--out", required=True, metavar="DIR",
                       help="output folder (results.csv, plots, points/<hash>/ per point)")
    where = sweep.add_mutually_exclusive_group()
    where.add_argument("--workers", type=positive_int("--workers"), default=None, metavar="N",
                       help="single-thread worker processes of a local Dask cluster (default: one per core)")
    where.add_argument("--scheduler", default=None, metavar="ADDRESS",
                       help="use an existing Dask cluster unchanged, e.g. tcp://host:8786 (the workers need "
                            "recirc-analog installed and DIR on a shared file system)")
    sweep.add_argument("--quiet", action="store_true", help="no progress bar")
    sweep.set_defaults(handler=run)


def command_parser(command: str):
    """The real parser of ``command`` (train or cosim): what a study's points are checked with."""
    import importlib

    from ..cli_args import ArgumentParser

    parser = ArgumentParser(prog="recirc-analog")
    commands = parser.add_subparsers(dest="command", parser_class=ArgumentParser)
    importlib.import_module(f"{__package__}.{command}").add_parser(commands)
    return commands.choices[command]


def check_point(args) -> None:
    """The checks train's and cosim's run() make on option text before loading anything."""
    if getattr(args, "sizes", None) is not None:
        sizes = parse_sizes(args.sizes)
        if getattr(args, "act", None) is not None:
            parse_activations(args.act, sizes)
    if getattr(args, "layer_lrs", None):
        parse_float_list(args.layer_lrs, "--layer-lrs")


def run(args) -> int:
    """Run the sweep command; returns the exit code (0 even when some points failed: see results.csv)."""
    from ..cli import main
    from ..jobs.sweep import load_study, run_sweep

    study = load_study(args.study, command_parser, check_point)
    counts = run_sweep(study, args.out, main, workers=args.workers, scheduler=args.scheduler,
                       show_progress=not args.quiet)
    print(f"{counts['points']} points: {counts['ok']} ran, {counts['skipped']} already finished, "
          f"{counts['failed']} failed; results in {args.out}/results.csv")
    return 0
