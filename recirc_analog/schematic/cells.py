"""The hand-written cells of ``circuits/`` as the builder and the checks see them.

Each :class:`Cell` names its library file, its ports (in instance order) and
how each port connects inside the cell, which is all the graph checks of
:mod:`recirc_analog.schematic.graph` need: ``source`` (an ideal voltage source
from the port to ground or to another port), ``resistor`` (a DC path to another
port), ``capacitor`` (to ground, no DC path) or ``sense`` (a high-impedance input).
The SPICE text itself lives only in the ``.lib`` files.
"""

from dataclasses import dataclass
from importlib import resources

from recirc_analog.errors import SetupError

CELL_PACKAGE = "recirc_analog.cell_library"
"""Package data holding the hand-written ``.lib`` files (copied to the top-level ``circuits/``
for browsing; a test keeps the two identical)."""


@dataclass(frozen=True)
class Cell:
    """A hand-written subcircuit: its file, ports and internal port connections."""

    name: str
    library: str | None
    """File name in ``circuits/``; None for a generated subcircuit."""
    ports: tuple[str, ...]
    sources: tuple[tuple[str, str], ...] = ()
    """(port, other) pairs joined by an ideal voltage source; other may be ``"0"``."""
    resistors: tuple[tuple[str, str], ...] = ()
    """(port, other) pairs joined by a resistive path."""
    capacitors: tuple[str, ...] = ()
    """Ports with a capacitor to ground."""
    mesh: bool = False
    """Every port joined to every other by a resistive path inside (a generated crossbar tile)."""

    @property
    def wired_ports(self) -> frozenset[str]:
        """Ports with a source, resistor or capacitor inside; the others are only sensed."""
        if self.mesh:
            return frozenset(self.ports)
        return frozenset(p for pair in self.sources + self.resistors for p in pair) | set(self.capacitors)


_ACTIVATIONS = ("linear", "tanh", "logistic", "relu")

_ACTIVATION_CELLS = {
    name: Cell(f"act_{name}", "neuron.lib", ("tp", "tn", "out"), sources=(("out", "0"),)) for name in _ACTIVATIONS
}
"""Activations of the difference of two TIA outputs, by activation name."""

_SINGLE_INPUT_ACTIVATION_CELLS = {
    name: Cell(f"act1_{name}", "neuron.lib", ("s", "out"), sources=(("out", "0"),)) for name in _ACTIVATIONS
}
"""Activations of one pre-activation voltage (``tia_pair`` / ``tia_ref`` output), by activation name."""

CELLS = {
    "tia_ideal": Cell("tia_ideal", "neuron.lib", ("col", "t"), sources=(("col", "0"), ("t", "0"))),
    # The output s of tia_pair / tia_ref is driven (current mirrors into rf to ground): a source for the checks.
    "tia_pair": Cell("tia_pair", "neuron.lib", ("cp", "cn", "s"), sources=(("cp", "0"), ("cn", "0"), ("s", "0"))),
    "tia_ref": Cell("tia_ref", "neuron.lib", ("c", "tr", "s"), sources=(("c", "0"), ("s", "0"))),
    "tia_opamp": Cell("tia_opamp", "opamp.lib", ("col", "t"), sources=(("t", "0"),),
                      resistors=(("col", "t"),)),
    "sample_hold": Cell("sample_hold", "sample_hold.lib", ("in", "clk", "cap", "out"),
                        sources=(("out", "0"),), resistors=(("in", "cap"),), capacitors=("cap",)),
    "mixer": Cell("mixer", "mixer.lib", ("held", "fresh", "en", "out"), sources=(("out", "0"),)),
    "subtract": Cell("subtract", "mixer.lib", ("a", "b", "out"), sources=(("out", "0"),)),
    # sky130 transistor cells (issue 12, Sky130Periphery): supplies joined by the bias paths inside.
    "sky130_tia": Cell("sky130_tia", "sky130/sky130_opamp.lib", ("col", "ref", "out", "vdd", "vss"),
                       sources=(("out", "0"),), resistors=(("col", "out"), ("vdd", "vss"))),
    "sky130_diff_amp": Cell("sky130_diff_amp", "sky130/sky130_opamp.lib", ("inp", "inn", "ref", "out", "vdd", "vss"),
                            sources=(("out", "0"),), resistors=(("inn", "out"), ("inp", "ref"), ("vdd", "vss"))),
    "sky130_dp_neuron_diff": Cell("sky130_dp_neuron_diff", "sky130/sky130_neuron.lib",
                                  ("inp", "inn", "ref", "out", "vdd", "vss"), sources=(("out", "0"),),
                                  resistors=(("ref", "out"), ("vdd", "vss"))),
    # The transmission gate's input only charges the hold capacitor (no DC path through an off switch).
    "sky130_sample_hold": Cell("sky130_sample_hold", "sky130/sky130_sample_hold.lib",
                               ("in", "out", "clk", "clkb", "vdd", "vss"), sources=(("out", "0"),),
                               resistors=(("vdd", "vss"),)),
    "sky130_nonoverlap_clock": Cell("sky130_nonoverlap_clock", "sky130/sky130_clock.lib",
                                    ("clk", "phi1", "phi1b", "phi2", "phi2b", "vdd", "vss"),
                                    sources=(("phi1", "0"), ("phi1b", "0"), ("phi2", "0"), ("phi2b", "0")),
                                    resistors=(("vdd", "vss"),)),
    **{cell.name: cell for cell in _ACTIVATION_CELLS.values()},
    **{cell.name: cell for cell in _SINGLE_INPUT_ACTIVATION_CELLS.values()},
}
"""Every cell the builder may instantiate, by name."""

LIBRARY_ORDER = ("opamp.lib", "neuron.lib", "mixer.lib", "sample_hold.lib", "sky130/sky130_opamp.lib",
                 "sky130/sky130_neuron.lib", "sky130/sky130_sample_hold.lib", "sky130/sky130_clock.lib")
"""The order in which the writers inline library files (deterministic output)."""


def _memristor_cells() -> dict:
    """The memristor compact models (issue 13): subcircuit ``<model> p n``, a resistive path."""
    from recirc_analog.devices.compact.models import COMPACT_MODELS

    return {cls.cell: Cell(cls.cell, cls.library, ("p", "n"), resistors=(("p", "n"),))
            for cls in COMPACT_MODELS.values()}


CELLS.update(_memristor_cells())

MEMRISTOR_LIBRARIES = tuple(CELLS[name].library for name in sorted(_memristor_cells()))
"""The memristor libraries (``memristors/<model>.lib`` in the package data), inlined after
:data:`LIBRARY_ORDER`'s."""


def activation_cell(activation: str, single_input: bool = False) -> str:
    """The cell name computing ``activation`` (one of the reference's activation names):
    of the difference of two TIA outputs, or of one pre-activation voltage (``single_input``)."""
    return (_SINGLE_INPUT_ACTIVATION_CELLS if single_input else _ACTIVATION_CELLS)[activation].name


def get_library_text(library: str) -> str:
    """The text of the packaged cell library ``library`` (e.g. ``neuron.lib``); SetupError if it is missing."""
    try:
        return resources.files(CELL_PACKAGE).joinpath(library).read_text()
    except (OSError, ModuleNotFoundError) as error:
        raise SetupError(f"cell library {library} is not readable from the installed package: {error}") from None


LIBRARY_NEEDS = {"sky130/sky130_neuron.lib": ("sky130/sky130_opamp.lib",),
                 "sky130/sky130_sample_hold.lib": ("sky130/sky130_opamp.lib",)}
"""Library files whose subcircuits instantiate another file's (the sky130 op-amp)."""


def get_libraries(cells) -> tuple[str, ...]:
    """The library files needed by the cell names ``cells`` (and the files those need), in :data:`LIBRARY_ORDER`."""
    needed = {CELLS[name].library for name in cells}
    needed |= {dep for lib in needed for dep in LIBRARY_NEEDS.get(lib, ())}
    return tuple(lib for lib in LIBRARY_ORDER + MEMRISTOR_LIBRARIES if lib in needed)
