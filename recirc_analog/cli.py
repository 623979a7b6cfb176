"""The ``recirc-analog`` command: train, netlist, cosim, demo.

Every error the user can cause is one line on stderr: exit code 2 for bad
arguments or configuration (including no command at all), 1 for failures
while running (data, ngspice, divergence); warnings are one line too.
``recirc-analog --help`` prints the help to stdout and exits 0;
``recirc-analog COMMAND --help`` documents every option.
"""

from __future__ import annotations

import sys
import warnings

from . import __version__
from .cli_args import ArgumentParser
from .errors import RecircError, UsageError


COMMANDS = ("train", "netlist", "cosim", "demo")


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="recirc-analog", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"recirc-analog {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    from .commands import cosim, demo, netlist, train

    for command in (train, netlist, cosim, demo):
        command.add_parser(commands)
    return parser


def _one_line(text: str) -> str:
    """``text`` with line breaks escaped, so a message is one line whatever it quotes."""
    return str(text).replace("\r", "\\r").replace("\n", "\\n")


def _show_warning(message, category, filename, lineno, file=None, line=None) -> None:
    """Print a warning (e.g. NumPy's RuntimeWarning) as one line on stderr."""
    print(f"recirc-analog: warning: {category.__name__}: {_one_line(message)}", file=sys.stderr)


def main(argv=None) -> int:
    with warnings.catch_warnings():
        warnings.showwarning = _show_warning
        return _main(argv)


def _main(argv) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            # A usage error like any other (one line, exit 2); --help prints the help, exit 0.
            raise UsageError(f"a command is required: {', '.join(COMMANDS)} "
                             "(see recirc-analog --help)")
        return args.handler(args)
    except UsageError as error:
        print(f"recirc-analog: {_one_line(error)}", file=sys.stderr)
        return 2
    except RecircError as error:
        print(f"recirc-analog: {_one_line(error)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recirc-analog: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
