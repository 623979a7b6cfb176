"""The ngspice dialect (ngspice 39, docs/ARCHITECTURE.md §5)."""

from recirc_analog.netlist_writers.writer import SpiceWriter, number
from recirc_analog.schematic.elements import Circuit, Transient


class NgspiceWriter(SpiceWriter):
    """ngspice syntax; only the options card differs from the base writer."""

    def format_options(self, circuit: Circuit) -> str:
        # Fixed pivots keep the recirculation loop from re-ordering the matrix;
        # backward Euler with a huge trtol takes one step per max_step (docs/ARCHITECTURE.md §5).
        cards = [f".options reltol={number(circuit.reltol)} vntol={number(circuit.vntol)} pivtol=1e-30 pivrel=1e-14"]
        if isinstance(circuit.analysis, Transient) and circuit.analysis.operating_point:
            # Transistor cells: ngspice's own step control inside each phase; gmin 1e-15 S so a hold's
            # droop is the transistors' own, not the 1e-12 S gmin floor (docs/ARCHITECTURE.md §5).
            cards.append(".options gmin=1e-15 itl4=100")
        elif isinstance(circuit.analysis, Transient):
            cards.append(".options method=gear maxord=1 trtol=1e9 itl4=100")
        return "\n".join(cards)
