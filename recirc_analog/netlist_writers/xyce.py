"""The Xyce dialect: same circuit, Xyce syntax for the generated cards.

Differences from ngspice: behavioural expressions in braces, ``table`` instead
of ``pwl``, ``PARAMS:`` before instance parameters, ``.print`` instead of
``.save`` and Xyce's option packages.
"""

from recirc_analog.errors import NetlistError
from recirc_analog.netlist_writers.writer import SpiceWriter, number
from recirc_analog.schematic.elements import Circuit, DcSweep, Instance, Transient
from recirc_analog.schematic.names import check_name


class XyceWriter(SpiceWriter):
    """Xyce 7 syntax."""

    def format_behavioural(self, name: str, pos: str, expression: str) -> str:
        return f"{check_name(name)} {check_name(pos)} 0 V={{{expression}}}"

    def format_table_expression(self, control: str, points: str) -> str:
        return f"table(v({control}), {points})"

    def format_instance(self, e: Instance) -> str:
        words = [check_name(e.name)] + [check_name(n, "node") for n in e.nodes] + [check_name(e.cell, "cell")]
        if e.params:
            words += ["PARAMS:"] + [f"{check_name(k, 'parameter')}={number(v)}" for k, v in e.params]
        return self.format_card(words)

    def format_noise_source(self, e) -> str:
        raise NetlistError(f"the xyce dialect does not write noise sources ({e.name}, from --noise): nothing here "
                           "has checked Xyce's time-table syntax; use --dialect ngspice")

    def format_options(self, circuit: Circuit) -> str:
        cards = [f".options device reltol={number(circuit.reltol)} vntol={number(circuit.vntol)}"]
        if isinstance(circuit.analysis, Transient):
            cards.append(".options timeint method=1 reltol=1e-6")
        return "\n".join(cards)

    def format_saves(self, nodes, analysis) -> str:
        kind = "dc" if isinstance(analysis, DcSweep) else "tran"
        return self.format_card([f".print {kind} format=raw"] + [f"v({check_name(n, 'node')})" for n in nodes])
