"""Writers that turn the circuit data model into SPICE text; dialects change syntax only.

:func:`write_netlist` / :func:`generate_netlist` are the entry points; :data:`DIALECTS`
names the simulators (ngspice, Xyce); ``examples`` regenerates the checkout's ``netlists/``.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "DIALECTS": "api",
    "generate_netlist": "api",
    "get_writer": "api",
    "write_netlist": "api",
    "SpiceWriter": "writer",
    "NgspiceWriter": "ngspice",
    "XyceWriter": "xyce",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
