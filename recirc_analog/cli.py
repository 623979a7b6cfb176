"""The ``recirc-analog`` command: train, netlist, cosim, demo.

Every error the user can cause is one line on stderr: exit code 2 for bad
arguments or configuration, 1 for failures while running (data, ngspice,
divergence, outputs), 143 after SIGTERM (the job stops cleanly,
``--resume`` continues it). ``recirc-analog COMMAND --help`` documents every option.
"""

from __future__ import annotations

import sys

from . import __version__
from .cli_args import ArgumentParser
from .errors import RecircError, Terminated, UsageError


def build_parser() -> ArgumentParser:
    parser = ArgumentParser(prog="recirc-analog", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"recirc-analog {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)

    from .commands import cosim, demo, netlist, train

    for command in (train, netlist, cosim, demo):
        command.add_parser(commands)
    return parser


def main(argv=None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help()
            return 2
        return args.handler(args)
    except UsageError as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 2
    except Terminated as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 143
    except RecircError as error:
        print(f"recirc-analog: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("recirc-analog: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
