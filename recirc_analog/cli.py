"""The ``recirc-analog`` command: train, netlist, cosim, demo.

Every error the user can cause is one line on stderr: exit code 2 for bad
arguments or configuration, 1 for failures while running (data, ngspice,
divergence). ``recirc-analog COMMAND --help`` documents every option.
"""

from __future__ import annotations

import importlib
import sys

from . import __version__
from .cli_args import ArgumentParser
from .errors import RecircError, UsageError

COMMANDS = ("train", "netlist", "cosim", "demo")
"""The sub-commands, each a module of :mod:`recirc_analog.commands` (``SUMMARY``, ``add_parser``, ``run``)."""


def build_parser(argv=None) -> ArgumentParser:
    """The ``recirc-analog`` parser with every sub-command's options (``argv`` None), or only those of
    the sub-command ``argv`` names (the others listed by name and summary).

    Options take their choices from the registries of the package (rules, modes, data sets,
    forms, ...), which import NumPy; building only the named command keeps ``recirc-analog
    --help`` free of those imports.
    """
    parser = ArgumentParser(prog="recirc-analog", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"recirc-analog {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    named = next((arg for arg in argv if not arg.startswith("-")), None) if argv is not None else None
    for name in COMMANDS:
        module = importlib.import_module(f"{__package__}.commands.{name}")
        if argv is None or name == named:
            module.add_parser(commands)
        else:
            commands.add_parser(name, help=module.SUMMARY)
    return parser


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.handler(args)
    except UsageError as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 2
    except RecircError as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recirc-analog: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
