"""Functions the command line and the co-simulation call: circuit -> netlist text or file.

To know what the netlist computes where, keep the Circuit: ``circuit.node_map``
(:class:`recirc_analog.schematic.node_map.NodeMap`) names the saved vectors of each
layer's held cycle-0 activity and cycle-k activity and the devices of each
weight (for ``alter``)::

    circuit = build_circuit(net, spec, x)
    text = get_writer("ngspice").get_netlist(circuit)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from recirc_analog.errors import ConfigError
from recirc_analog.fileio import atomic_open
from recirc_analog.netlist_writers.ngspice import NgspiceWriter
from recirc_analog.netlist_writers.writer import SpiceWriter
from recirc_analog.netlist_writers.xyce import XyceWriter

if TYPE_CHECKING:
    from recirc_analog.schematic.node_map import NodeMap
    from recirc_analog.schematic.spec import CircuitSpec

DIALECTS = {"ngspice": NgspiceWriter, "xyce": XyceWriter}
"""Writer class of each simulator dialect."""


def get_writer(dialect: str = "ngspice") -> SpiceWriter:
    """A writer for ``dialect`` (one of :data:`DIALECTS`)."""
    try:
        return DIALECTS[dialect]()
    except (KeyError, TypeError):
        raise ConfigError(f"dialect must be one of {', '.join(DIALECTS)}, got {dialect!r}") from None


def generate_netlist(net, spec: CircuitSpec, inputs, dialect: str = "ngspice") -> str:
    """The netlist text computing cycles 0..m of ``spec`` for ``inputs`` (batch, N0)."""
    from recirc_analog.schematic.builder import build_circuit  # imports networkx: not on the --help path

    writer = get_writer(dialect)
    return writer.get_netlist(build_circuit(net, spec, inputs))


MODEL_LIBRARY = "sky130_models.lib"
"""File name of the PDK model library written beside a netlist of sky130 cells (every corner)."""


def write_netlist(path, net, spec: CircuitSpec, inputs, dialect: str = "ngspice") -> NodeMap:
    """Write the netlist to ``path`` atomically (an existing file is replaced only when the new one is
    complete); return its :class:`NodeMap`. A circuit of sky130 cells gets the model library
    :data:`MODEL_LIBRARY` (and its flattened FET file) beside it, referenced by absolute path
    (``.lib "<folder>/sky130_models.lib" <corner>``), so the netlist reads in plain ngspice."""
    import dataclasses
    from pathlib import Path

    from recirc_analog.pdk.models import write_model_library
    from recirc_analog.schematic.builder import build_circuit

    writer = get_writer(dialect)
    circuit = build_circuit(net, spec, inputs)
    if circuit.models is not None:
        library = write_model_library(Path(path).absolute().parent / MODEL_LIBRARY)
        circuit = dataclasses.replace(circuit, models=dataclasses.replace(circuit.models, library=str(library)))
    with atomic_open(path, "w") as out:
        writer.write_circuit(circuit, out)
    return circuit.node_map
