"""The circuit data model: what to build (:class:`CircuitSpec`), the elements, and the checks.

No SPICE text here (the writers in :mod:`recirc_analog.netlist_writers` produce it):

- :mod:`.spec`: the configuration (forms, architectures, mappings, neuron kinds) in SI units;
- :mod:`.builder`: :func:`build_circuit` from a network, a spec and a batch of inputs;
- :mod:`.elements`: the element dataclasses of a :class:`Circuit`;
- :mod:`.mapping`: signed weights <-> conductance pairs;
- :mod:`.node_map`: which saved vector holds which activity, which device holds which weight;
- :mod:`.graph`: connectivity checks on a networkx graph of the circuit;
- :mod:`.cells`: the SPICE cell library shipped as package data;
- :mod:`.voltage_budget`: the layers' volts per unit within the read voltage, the row and swing checks;
- :mod:`.noise`: seeded kT/C and 4kTG noise sources of the tran form.
- :mod:`.dc_cycles`: a dc-form circuit cut into one circuit per cycle or per layer read.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "ARCHITECTURES": "spec",
    "FORMS": "spec",
    "MAPPING_KINDS": "spec",
    "NEURON_KINDS": "spec",
    "CircuitSpec": "spec",
    "ClockConfig": "spec",
    "CrossbarConfig": "spec",
    "NeuronConfig": "spec",
    "SampleHoldConfig": "spec",
    "build_circuit": "builder",
    "Circuit": "elements",
    "ConductanceMapping": "mapping",
    "Conductances": "mapping",
    "NodeMap": "node_map",
    "validate": "graph",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
