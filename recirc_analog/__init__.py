"""recirc-analog: recirculation learning (Baldi & Sadowski 2018) in analog circuits.

Sub-packages, one concept each:

- ``reference``: exact NumPy implementation of every learning rule (the oracle).
- ``data``: Lowrank generator and the IDX (MNIST / Fashion-MNIST) reader.
- ``circuit``: the circuit data model and the weight-to-conductance mapping.
- ``netlist``: writers that turn the data model into SPICE text (ngspice, Xyce).
- ``spice``: running ngspice (batch subprocess and shared library).
- ``devices``: device models turning target conductance changes into realised ones.
- ``cosim``: the controller that trains the circuit with local updates.
- ``report``: metrics files, tables and plots.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy: ``recirc-analog --help`` must not pay for importing SciPy.
    if name == "solve_crossbar":
        from .engines.crossbar_solver import solve_crossbar
        return solve_crossbar
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
