"""Parsers for command-line values: each turns text into a typed value or a UsageError.

Kept apart from :mod:`recirc_analog.cli` so the sub-commands share one
definition of what ``--sizes`` or ``--act`` accept. Names (rules, modes, data
sets, activations, ...) come from the registries of the modules that own them,
imported when a parser is built, never typed out here.
"""

from __future__ import annotations

import argparse

from .errors import UsageError


class ArgumentParser(argparse.ArgumentParser):
    """argparse with errors raised as :class:`UsageError` (one line, exit code 2)."""

    def error(self, message: str):  # noqa: D401 - argparse API
        raise UsageError(f"{self.prog}: {' '.join(message.split())}")


class StoreGiven(argparse.Action):
    """Store the value and record the option's ``dest`` in ``namespace.given``, so a command can
    tell an option the user typed from its default (e.g. to refuse one that contradicts a file)."""

    def __call__(self, parser, namespace, values, option_string=None):
        setattr(namespace, self.dest, values)
        namespace.given = set(getattr(namespace, "given", ())) | {self.dest}


def parse_sizes(text: str) -> tuple[int, ...]:
    """``"784,20,784"`` -> (784, 20, 784); ends must be equal (circular autoencoder)."""
    try:
        sizes = tuple(int(part) for part in text.split(","))
    except ValueError:
        raise UsageError(f"--sizes must be comma-separated integers like 784,20,784, got {text!r}") from None
    if len(sizes) < 3:
        raise UsageError(f"--sizes needs at least 3 layers (input, hidden, output), got {text!r}")
    if any(n < 1 for n in sizes):
        raise UsageError(f"--sizes must be positive integers, got {text!r}")
    if sizes[0] != sizes[-1]:
        raise UsageError(
            f"--sizes must start and end with the same size (the output layer is the input layer), "
            f"got {sizes[0]} and {sizes[-1]}")
    from .limits import check_layer_widths

    check_layer_widths(sizes, "--sizes")
    return sizes


def parse_activations(text: str, sizes: tuple[int, ...]) -> tuple[str, ...]:
    """``"tanh,logistic"`` -> one activation per non-input layer (len(sizes) - 1 names).

    A single name is used for every layer.
    """
    from .reference.activations import ACTIVATION_NAMES

    names = tuple(part.strip().lower() for part in text.split(","))
    expected = len(sizes) - 1
    if len(names) == 1:
        names = names * expected
    if len(names) != expected:
        raise UsageError(
            f"--act needs {expected} activations for --sizes {','.join(map(str, sizes))} "
            f"(one per layer after the input), got {len(names)}: {text!r}")
    for name in names:
        if name not in ACTIVATION_NAMES:
            raise UsageError(f"--act: unknown activation {name!r}; choose from {', '.join(ACTIVATION_NAMES)}")
    return names


def parse_float_list(text: str, option: str) -> tuple[float, ...]:
    """``"0.01,0.005"`` -> (0.01, 0.005); inf and nan are refused."""
    import math

    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = None
    if values is None or not all(math.isfinite(v) for v in values):
        raise UsageError(f"{option} must be comma-separated finite numbers, got {text!r}")
    return values


def parse_cycles(text: str, limit: int | None = None) -> tuple[int, int]:
    """``"3"`` -> (0, 3): compare cycle 0 with cycle 3; ``"1,3"`` -> (1, 3) (Theorem 6.3).

    M is at most ``limit``: the reference's bound ``MAX_REFERENCE_CYCLES`` by
    default; circuits (netlist, cosim) pass ``MAX_CIRCUIT_CYCLES``.
    """
    from .reference.recirculation import MAX_REFERENCE_CYCLES

    limit = MAX_REFERENCE_CYCLES if limit is None else limit
    try:
        parts = [int(p) for p in text.split(",")]
    except ValueError:
        raise UsageError(f"--cycles must be M or N,M with integers 0 <= N < M, got {text!r}") from None
    pair = (0, parts[0]) if len(parts) == 1 else tuple(parts)
    if len(pair) != 2 or not 0 <= pair[0] < pair[1]:
        raise UsageError(f"--cycles must be M or N,M with integers 0 <= N < M, got {text!r}")
    if pair[1] > limit:
        raise UsageError(f"--cycles M must be in [1, {limit}], got {pair[1]}")
    return pair


def _number_type(option: str, kind, is_valid, what_to_parse: str, what_range):
    """An argparse ``type``: ``kind(text)`` (int or float) that ``is_valid`` accepts, else a UsageError.

    ``what_to_parse`` completes "<option> must be ..." when the text is no number;
    ``what_range(value, text)`` completes it when the number is out of range.
    """

    def convert(text: str):
        try:
            value = kind(text)
        except ValueError:
            raise UsageError(f"{option} must be {what_to_parse}, got {text!r}") from None
        if not is_valid(value):
            raise UsageError(f"{option} must be {what_range(value, text)}")
        return value

    return convert


def in_range(option: str, low: float, high: float):
    """An argparse ``type`` accepting floats in ``[low, high]``."""
    return _number_type(option, float, lambda v: low <= v <= high, f"a number in [{low:g}, {high:g}]",
                        lambda v, _: f"in [{low:g}, {high:g}], got {v:g}")


def positive_int(option: str, high: int | None = None):
    """An argparse ``type`` accepting integers >= 1 (and <= ``high`` when given)."""
    return _number_type(option, int, lambda v: 1 <= v and (high is None or v <= high), "a positive integer",
                        lambda v, _: f">= 1, got {v}" if v < 1 else f"in [1, {high}], got {v}")


def positive_float(option: str):
    """An argparse ``type`` accepting finite floats > 0."""
    return _number_type(option, float, lambda v: 0 < v < float("inf"), "a positive number",
                        lambda _, text: f"a finite number > 0, got {text}")


def nonnegative_float(option: str):
    """An argparse ``type`` accepting finite floats >= 0."""
    return _number_type(option, float, lambda v: 0 <= v < float("inf"), "a finite number >= 0",
                        lambda _, text: f"a finite number >= 0, got {text}")


def int_in_range(option: str, low: int, high: int):
    """An argparse ``type`` accepting integers in ``[low, high]``."""
    return _number_type(option, int, lambda v: low <= v <= high, f"an integer in [{low}, {high}]",
                        lambda v, _: f"an integer in [{low}, {high}], got {v}")


def add_wire_options(parser: argparse.ArgumentParser) -> None:
    """--r-wire, --r-row, --r-col, --r-driver, --r-sense, --tile (the crossbar's wires and tiles)."""
    from .schematic.spec import MAX_TILE, CrossbarConfig

    default = CrossbarConfig()
    group = parser.add_argument_group(
        "wire resistance and tiles (netlists/README.md, 'Wire resistance'; default: ideal wires)")
    group.add_argument("--r-wire", type=nonnegative_float("--r-wire"), default=0.0, metavar="OHMS",
                       help="row and column line resistance per cell pitch in ohm: one segment between a "
                            "row's driver and its first device and between neighbouring devices, one between "
                            "neighbouring devices of a column and after its last device (default 0)")
    group.add_argument("--r-row", type=nonnegative_float("--r-row"), default=None, metavar="OHMS",
                       help="row line resistance per cell pitch in ohm (default: the --r-wire value)")
    group.add_argument("--r-col", type=nonnegative_float("--r-col"), default=None, metavar="OHMS",
                       help="column line resistance per cell pitch in ohm (default: the --r-wire value)")
    group.add_argument("--r-driver", type=nonnegative_float("--r-driver"), default=0.0, metavar="OHMS",
                       help="output resistance of every tile row line's driver in ohm (default 0)")
    group.add_argument("--r-sense", type=nonnegative_float("--r-sense"), default=0.0, metavar="OHMS",
                       help="input resistance of every tile column line's sense node in ohm (default 0)")
    group.add_argument("--tile", type=int_in_range("--tile", 1, MAX_TILE), default=None, metavar="N",
                       help=f"split each crossbar into tiles of at most N rows x N neurons (column lines or "
                            f"pairs); keep N <= 64 with wire resistance in ngspice (default: up to "
                            f"{default.tile_rows} rows x {default.tile_neurons} neurons)")


def wire_options(args) -> dict:
    """CrossbarConfig keyword arguments from the options of :func:`add_wire_options`."""
    options = dict(r_row=args.r_wire if args.r_row is None else args.r_row,
                   r_col=args.r_wire if args.r_col is None else args.r_col,
                   r_driver=args.r_driver, r_sense=args.r_sense)
    if args.tile is not None:
        options.update(tile_rows=args.tile, tile_neurons=args.tile)
    return options


def add_cycle_mode_option(parser: argparse.ArgumentParser) -> None:
    """--cycle-mode: how the ngspice engines simulate a dc-form circuit (``engines.circuit_run.CYCLE_MODES``)."""
    from .engines.circuit_run import CYCLE_MODES

    parser.add_argument("--cycle-mode", default="auto", choices=CYCLE_MODES,
                        help="how ngspice simulates a dc-form minibatch (the batch and shared engines, and the "
                             "direct engine's audit): per-layer (one analysis per layer read, then one for its "
                             "activations), per-cycle (one per recirculation cycle), each reading the earlier "
                             "ones' outputs back as tables (exact to ngspice's tolerance), or unrolled (all "
                             "cycles in one analysis); auto picks per-layer from 10,000 devices per cycle on "
                             "(fastest there: benchmarks/RESULTS.md) and unrolled below; the tran form and the "
                             "saved netlist.cir are always the whole circuit (default auto)")


def add_budget_options(parser: argparse.ArgumentParser) -> None:
    """--read-voltage, --no-budget, --noise, --temperature (voltage budget and thermal noise)."""
    from .schematic.spec import DEFAULT_READ_VOLTAGE, MAX_READ_VOLTAGE, MAX_TEMPERATURE

    group = parser.add_argument_group("voltage budget and noise (README, 'Voltage budget and noise')")
    group.add_argument("--read-voltage", type=in_range("--read-voltage", 1e-3, MAX_READ_VOLTAGE),
                       default=DEFAULT_READ_VOLTAGE, metavar="V",
                       help="read budget of every crossbar row, +-V volts: layer 0 (data and recirculated "
                            "output) is scaled into it by a power of two, compensated in the transimpedance "
                            "gains; a row or op-amp output outside its budget stops with an error naming the "
                            f"node (default {DEFAULT_READ_VOLTAGE:g})")
    group.add_argument("--no-budget", action="store_true",
                       help="no voltage budget: layer 0 at v_unit, rows and op-amp outputs unchecked")
    group.add_argument("--noise", action="store_true",
                       help="tran form: seeded thermal noise, kT/C on every hold capacitor and 4kTG of every "
                            "crossbar device in the simulator's band 1/(2 step), seeded from --seed")
    group.add_argument("--temperature", type=in_range("--temperature", 1.0, MAX_TEMPERATURE), default=300.0,
                       metavar="K", help="noise temperature in kelvin, with --noise (default 300)")


def budget_options(args) -> dict:
    """CircuitSpec keyword arguments from the options of :func:`add_budget_options`: the noise seed is
    --seed with --noise, else the default (so a run without noise has the spec, and the checkpoint
    fingerprint, it had before these options existed)."""
    return dict(read_voltage=None if args.no_budget else args.read_voltage, noise=args.noise,
                temperature=args.temperature, noise_seed=int(args.seed) % 2 ** 63 if args.noise else 0)


def add_network_options(parser: argparse.ArgumentParser, sizes: str, act: str) -> None:
    """--sizes and --act."""
    from .reference.activations import ACTIVATION_NAMES

    parser.add_argument("--sizes", default=sizes, metavar="N0,N1,...,N0", action=StoreGiven,
                        help=f"layer widths of the circular autoencoder; first = last (default {sizes})")
    parser.add_argument("--act", default=act, metavar="F1,...,FL", action=StoreGiven,
                        help=f"activation of each layer after the input: {', '.join(ACTIVATION_NAMES)}; "
                             f"one name applies to all (default {act})")


def add_recirculation_options(parser: argparse.ArgumentParser, circuit: bool = False, rule: bool = True) -> None:
    """--mode, --lam, --cycles (``circuit``: the command unrolls the cycles into a circuit) and, for
    the commands that train (``rule``), --top-layer."""
    from .reference.recirculation import MAX_REFERENCE_CYCLES, MODE_NAMES, TOP_LAYER_NAMES
    from .schematic.spec import MAX_CIRCUIT_CYCLES

    limit = MAX_CIRCUIT_CYCLES if circuit else MAX_REFERENCE_CYCLES
    why = ": the circuit unrolls M + 1 copies" if circuit else ""
    parser.add_argument("--mode", default="pr", choices=MODE_NAMES,
                        help="recirculation scheme: pr (plain), ccr, rcc, ccrcc, rwcc (convex "
                             "combinations with --lam), error (error recirculation) (default pr)")
    parser.add_argument("--lam", type=in_range("--lam", 0.0, 1.0), default=0.5,
                        help="mixing weight lambda in [0, 1] of the held cycle-0 activity (default 0.5)")
    parser.add_argument("--cycles", type=lambda text: parse_cycles(text, limit), default=(0, 1), metavar="M|N,M",
                        help=f"compare cycle 0 with cycle M, or cycle N with cycle M (Theorem 6.3); "
                             f"M <= {limit}{why} "
                             "(default 1)")
    if not rule:
        return
    parser.add_argument("--top-layer", choices=TOP_LAYER_NAMES, default="gradient",
                        help="with --cycles other than 1: how the top layer learns, where the paper contradicts "
                             "itself: gradient (I - O^L(0), Section 7.3 / Fig. 10) or eq48 (O^0(n) - O^0(m), "
                             "Eq. 48); identical for cycles 0,1 (default gradient; docs/LINEAR_DYNAMICS.md)")


def add_data_options(parser: argparse.ArgumentParser, default: str = "lowrank") -> None:
    """--data, --data-dir, --downsample, --max-train."""
    from .data.datasets import DATA_DIR_ENV, DATASET_NAMES

    parser.add_argument("--data", default=default, choices=DATASET_NAMES,
                        help=f"data set (default {default}); lowrank is generated, the others are read from --data-dir")
    parser.add_argument("--data-dir", default=None, metavar="DIR",
                        help=f"folder holding mnist/ and fashion/ IDX files (default: ${DATA_DIR_ENV})")
    parser.add_argument("--downsample", type=positive_int("--downsample"), default=None, metavar="K",
                        help="mean-pool images by K x K (2 gives 14x14 = 196 pixels)")
    parser.add_argument("--max-train", type=positive_int("--max-train"), default=None, metavar="N",
                        help="use only the first N training samples per epoch (quick runs)")


def add_device_option(parser: argparse.ArgumentParser, what: str) -> None:
    """--device PRESET|FILE.json (the presets from :data:`recirc_analog.devices.DEVICE_PRESETS`);
    ``what`` says what the device does in this command."""
    from .devices import DEVICE_PRESETS

    parser.add_argument("--device", default=None, metavar="PRESET|FILE.json",
                        help=f"device model: a preset ({', '.join(DEVICE_PRESETS)}; sources in README.md, "
                             f"'Device models') or a .json device record (device_to_json's format); {what}")


def load_device_option(text: str):
    """The device record ``--device`` names (UsageError for an unknown preset, the file's own
    error for an unreadable one)."""
    from .devices import DEVICE_PRESETS, load_device

    if text not in DEVICE_PRESETS and not text.lower().endswith(".json"):
        raise UsageError(f"--device must be a preset ({', '.join(DEVICE_PRESETS)}) or a .json file, got {text!r}")
    return load_device(text)


def add_periphery_options(parser: argparse.ArgumentParser) -> None:
    """--periphery (alias --neuron, its older name), --corner and --temp (issue 12)."""
    from .schematic.spec import NEURON_KINDS, PDK_CORNERS, PDK_TEMPERATURE_RANGE

    parser.add_argument("--periphery", "--neuron", dest="neuron", choices=NEURON_KINDS, default="ideal",
                        help="transimpedance stages and activations: ideal (exact virtual ground, behavioural "
                             "activation), opamp (the macromodel of circuits/opamp.lib: finite gain, offset, "
                             "swing) or sky130 (SkyWater 130 nm transistor cells of circuits/sky130/, with their "
                             "sample-and-holds and clock in the tran form); --neuron is the older name "
                             "(default ideal)")
    parser.add_argument("--corner", choices=PDK_CORNERS, default="tt",
                        help="with --periphery sky130: process corner of the FET models (default tt)")
    low, high = PDK_TEMPERATURE_RANGE
    parser.add_argument("--temp", type=float, default=27.0, metavar="DEGC",
                        help=f"with --periphery sky130: die temperature in degC, in [{low:g}, {high:g}] "
                             "(the characterised range) (default 27)")
    parser.add_argument("--v-unit", type=in_range("--v-unit", 1e-3, 10.0), default=0.2, metavar="VOLTS",
                        help="volts per unit activity; the sky130 neuron saturates at +-0.15 V and its TIAs at "
                             "+-0.7 V, so sky130 runs may need a smaller value (default 0.2)")


def periphery_options(args) -> dict:
    """CircuitSpec keyword arguments ``corner``, ``temp`` and ``v_unit`` from :func:`add_periphery_options`."""
    return dict(corner=args.corner, temp=args.temp, v_unit=args.v_unit)
