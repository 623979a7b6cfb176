"""recirc-analog: recirculation learning (Baldi & Sadowski 2018) in analog circuits.

Sub-packages, one concept each:

- ``reference``: exact NumPy implementation of every learning rule (the oracle).
- ``data``: Lowrank generator and the IDX (MNIST / Fashion-MNIST) reader.
- ``devices``: device models turning target conductance changes into realised ones.
- ``schematic``: the circuit data model and the weight-to-conductance mapping.
- ``netlist_writers``: writers that turn the data model into SPICE text (ngspice, Xyce).
- ``engines``: running ngspice (batch subprocess and shared library).
- ``cosim``: the controller that trains the circuit with local updates.
- ``report``: tables and plots.
- ``jobs``: the train and cosim runs behind the command line, with their output folders.

Each sub-package exports its public names (``from recirc_analog.reference import
Trainer``); they are imported on first use, so importing the package is cheap.
"""

__version__ = "0.1.0"


def __getattr__(name):
    # Lazy: ``recirc-analog --help`` must not pay for importing SciPy.
    if name == "solve_crossbar":
        from .engines.crossbar_solver import solve_crossbar
        return solve_crossbar
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
