"""``recirc-analog COMMAND --help``: every option explained, and every default it states is the real one."""

import argparse
import re
import subprocess
import sys

import pytest

from recirc_analog.cli import COMMANDS, build_parser, main

DEFAULT = re.compile(r"default:? ([^);]+)")


def options():
    parser = build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    for command, sub in commands.choices.items():
        for action in sub._actions:
            if action.option_strings and action.dest != "help":
                yield command, action


def test_every_option_of_every_command_has_help():
    for command, action in options():
        assert action.help and len(action.help.split()) >= 2, f"{command} {action.option_strings}"


def documented(action):
    """The default the help text states, or None when it states none."""
    found = DEFAULT.findall(action.help)
    return found[-1].strip() if found else None


def test_documented_defaults_are_the_parsers_defaults():
    checked = 0
    for command, action in options():
        name = f"{command} {action.option_strings[-1]}"
        text = documented(action)
        if action.required or isinstance(action, argparse._StoreTrueAction):
            assert text is None, f"{name}: has no default, help says {text!r}"
            continue
        if action.default is None:
            # "none", "analog", "$RECIRC_ANALOG_DATA", "the whole epoch": a word, never a value
            assert text is None or not re.match(r"[-+0-9.]", text), f"{name}: default is None, help says {text!r}"
            continue
        assert text is not None, f"{name}: default {action.default!r} is not documented"
        value = action.type(text) if callable(action.type) else text
        assert value == action.default, f"{name}: help says {text!r}, parser uses {action.default!r}"
        checked += 1
    assert checked >= 40


@pytest.mark.parametrize("command", COMMANDS)
def test_help_exits_0_and_lists_every_option(command, capsys):
    with pytest.raises(SystemExit) as stop:
        main([command, "--help"])
    assert stop.value.code == 0
    text = capsys.readouterr().out
    for other, action in options():
        if other == command:
            assert action.option_strings[-1] in text


def test_top_level_help_imports_no_numerics():
    """``recirc-analog --help`` must start fast: no NumPy, SciPy, networkx or matplotlib on its path."""
    code = ("import sys; from recirc_analog.cli import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
            "print('HEAVY=' + ','.join(m for m in ('numpy', 'scipy', 'networkx', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("HEAVY="), proc.stdout[-200:]


def test_command_help_imports_neither_scipy_nor_networkx():
    code = ("import sys; from recirc_analog.cli import main\n"
            "for c in ('train', 'netlist', 'cosim', 'demo'):\n"
            "    try:\n        main([c, '--help'])\n    except SystemExit:\n        pass\n"
            "print('HEAVY=' + ','.join(m for m in ('scipy', 'networkx', 'matplotlib') if m in sys.modules))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.rstrip().endswith("HEAVY="), proc.stdout[-200:]
