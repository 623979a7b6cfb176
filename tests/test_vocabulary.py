"""One vocabulary: every name the command line accepts comes from the registry of the module that owns it."""

import argparse
import re
from pathlib import Path

import pytest

import recirc_analog
from recirc_analog.cli import COMMANDS, build_parser
from recirc_analog.cli_args import parse_activations
from recirc_analog.cosim.in_circuit import UPDATE_KINDS
from recirc_analog.data import DATASET_NAMES, load_dataset
from recirc_analog.devices.compact.models import COMPACT_MODELS
from recirc_analog.engines import ENGINE_KINDS
from recirc_analog.engines.circuit_run import CYCLE_MODES
from recirc_analog.errors import RecircError, UsageError
from recirc_analog.netlist_writers import DIALECTS, get_writer
from recirc_analog.reference import ACTIVATION_NAMES, MODE_NAMES, RULE_NAMES, Recirculation, get_rule
from recirc_analog.reference.recirculation import TOP_LAYER_NAMES
from recirc_analog.reference.standard_channels import C2_CHOICES, C3_CHOICES, SIGNALS
from recirc_analog.schematic import (
    ARCHITECTURES,
    FORMS,
    MAPPING_KINDS,
    NEURON_KINDS,
    CircuitSpec,
    CrossbarConfig,
    NeuronConfig,
)
from recirc_analog.schematic.spec import PDK_CORNERS


def spelled(choices):
    return tuple("none" if choice is None else choice for choice in choices)


REGISTRIES = {
    "--rule": RULE_NAMES, "--mode": MODE_NAMES, "--data": DATASET_NAMES, "--form": FORMS,
    "--architecture": ARCHITECTURES, "--mapping": MAPPING_KINDS, "--neuron": NEURON_KINDS,
    "--engine": ENGINE_KINDS, "--dialect": tuple(DIALECTS), "--c2": spelled(C2_CHOICES),
    "--c3": spelled(C3_CHOICES), "--signal": SIGNALS, "--c1": ("yes", "no"), "--angles": ("yes", "no"),
    "--top-layer": TOP_LAYER_NAMES, "--update": UPDATE_KINDS, "--memristor": tuple(COMPACT_MODELS),
    "--cycle-mode": CYCLE_MODES,
    "--corner": PDK_CORNERS,
}
"""Option -> the registry its choices must equal (--c1 and --angles are yes/no switches, owned by the CLI)."""


def sub_parsers() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    (action,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return dict(action.choices)


def option_actions():
    for command, parser in sub_parsers().items():
        for action in parser._actions:
            if action.option_strings and action.dest != "help":
                yield command, action


def test_every_command_is_built():
    assert set(sub_parsers()) == set(COMMANDS)


def test_every_choice_list_is_a_registry():
    seen = set()
    for command, action in option_actions():
        if action.choices is None:
            continue
        option = action.option_strings[-1]
        assert option in REGISTRIES, f"{command} {option}: choices {action.choices} come from no registry"
        assert tuple(action.choices) == tuple(REGISTRIES[option]), f"{command} {option}"
        assert action.default in action.choices, f"{command} {option}: default {action.default!r}"
        seen.add(option)
    assert seen == set(REGISTRIES), f"registries no option uses: {set(REGISTRIES) - seen}"


@pytest.mark.parametrize("command, option", [
    ("train", "--mode"), ("cosim", "--mode"), ("netlist", "--mode"), ("train", "--data"), ("cosim", "--data"),
    ("netlist", "--form"), ("cosim", "--form"), ("cosim", "--engine"), ("netlist", "--dialect"),
])
def test_the_options_that_must_offer_choices_do(command, option):
    actions = {a.option_strings[-1]: a for c, a in option_actions() if c == command}
    assert actions[option].choices is not None


def test_act_help_names_every_activation_and_the_parser_accepts_them():
    for command, action in option_actions():
        if action.dest == "act":
            assert all(name in action.help for name in ACTIVATION_NAMES), command
    for name in ACTIVATION_NAMES:
        assert parse_activations(name, (4, 2, 4)) == (name, name)
    with pytest.raises(UsageError, match="unknown activation"):
        parse_activations("softsign", (4, 2, 4))


def test_each_registry_is_what_its_owner_accepts_and_nothing_more():
    for mode in MODE_NAMES:
        Recirculation(mode)
    for form in FORMS:
        CircuitSpec(form=form)
    for architecture in ARCHITECTURES:
        CircuitSpec(architecture=architecture)
    for mapping in MAPPING_KINDS:
        CrossbarConfig(mapping=mapping)
    for kind in NEURON_KINDS:
        NeuronConfig(kind=kind)
    for dialect in DIALECTS:
        get_writer(dialect)
    for name in RULE_NAMES:
        if name != "standard":  # needs its channels
            get_rule(name)
    load_dataset(DATASET_NAMES[0])
    for refuse in (lambda: Recirculation("xyz"), lambda: CircuitSpec(form="ac"),
                   lambda: CircuitSpec(architecture="folded"), lambda: CrossbarConfig(mapping="single"),
                   lambda: NeuronConfig(kind="cmos"), lambda: get_writer("spectre"), lambda: get_rule("hebb"),
                   lambda: load_dataset("cifar")):
        with pytest.raises(RecircError):
            refuse()


def test_no_command_types_out_a_name_list():
    """Choices are registries, never literal tuples in the command modules (--c1 yes/no excepted)."""
    package = Path(recirc_analog.__file__).parent
    for path in [package / "cli_args.py", *sorted((package / "commands").glob("*.py"))]:
        for match in re.finditer(r"choices=\(([^)]*)\)", path.read_text()):
            assert match.group(1) == '"yes", "no"', f"{path.name}: choices=({match.group(1)})"

