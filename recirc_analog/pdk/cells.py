"""The sky130 transistor-level cells, as package data (``cell_library/sky130/*.lib``).

Each file holds one cell family with a header stating its ports, supplies and measured figures;
``circuits/sky130/`` holds identical copies beside their testbenches
(``tests/test_sky130_cells.py`` keeps them identical).
"""

from __future__ import annotations

from importlib import resources

from ..errors import ConfigError

CELL_FILES = {
    "opamp": ("sky130_opamp.lib",),
    "neuron": ("sky130_opamp.lib", "sky130_neuron.lib"),
    "sample_hold": ("sky130_opamp.lib", "sky130_sample_hold.lib"),
    "clock": ("sky130_clock.lib",),
}
"""Cell -> the library files its testbench includes, dependencies first."""

CELLS = tuple(CELL_FILES)
"""The characterised cells, in datasheet order."""

LIBRARY_FILES = ("sky130_opamp.lib", "sky130_neuron.lib", "sky130_sample_hold.lib", "sky130_clock.lib")
"""Every file of the sky130 cell library."""


def check_cell(cell: str) -> str:
    """``cell`` if it is one of :data:`CELLS`, else a one-line :class:`ConfigError`."""
    if cell not in CELL_FILES:
        raise ConfigError(f"cell must be one of {', '.join(CELLS)}, got {cell!r}")
    return cell


def library_text(filename: str) -> str:
    """The text of one cell library file (one of :data:`LIBRARY_FILES`)."""
    if filename not in LIBRARY_FILES:
        raise ConfigError(f"sky130 cell library file must be one of {', '.join(LIBRARY_FILES)}, got {filename!r}")
    return resources.files("recirc_analog.cell_library").joinpath("sky130", filename).read_text()
