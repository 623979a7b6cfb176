"""The ``recirc-analog`` command: train, netlist, cosim, demo.

Every error the user can cause is one line on stderr: exit code 2 for bad
arguments or configuration (including no command at all), 1 for failures
while running (data, ngspice, divergence, outputs), 143 after SIGTERM (the
job stops cleanly, ``--resume`` continues it); warnings are one line too.
``recirc-analog --help`` prints the help to stdout and exits 0;
``recirc-analog COMMAND --help`` documents every option.
"""

from __future__ import annotations

import importlib
import sys
import warnings

from . import __version__
from .cli_args import ArgumentParser
from .errors import RecircError, Terminated, UsageError

COMMANDS = ("train", "netlist", "cosim", "sweep", "demo", "reproduce", "characterise")
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


def _one_line(text: str) -> str:
    """``text`` with line breaks escaped, so a message is one line whatever it quotes."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning (e.g. NumPy's RuntimeWarning) as one line on stderr."""
    print(f"recirc-analog: warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)


def main(argv=None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _main(argv)


def _main(argv) -> int:
    try:
        parser = build_parser(argv)
        args = parser.parse_args(argv)
        if args.command is None:
            # A usage error like any other (one line, exit 2); --help prints the help, exit 0.
            raise UsageError(f"a command is required: {', '.join(COMMANDS)} "
                             "(see recirc-analog --help)")
        return args.handler(args)
    except UsageError as error:
        print(f"recirc-analog: {_one_line(error)}", file=sys.stderr)
        return 2
    except Terminated as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 143
    except RecircError as error:
        print(f"recirc-analog: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recirc-analog: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
