"""The base SPICE writer: walks a Circuit and writes the netlist; dialects override format_* only.

Output is deterministic: the same Circuit gives byte-identical text (numbers
are written with Python's shortest round-trip ``repr``, elements in the
order of the data model). Every name passes :func:`check_name` and every free
text :func:`clean_text` on its way out, so nothing user-supplied can start a
SPICE card or a ``.control`` section.
"""

import io
from typing import TextIO

import numpy as np

from recirc_analog.errors import NetlistError
from recirc_analog.pdk.models import check_corners, corner_section, quoted_path
from recirc_analog.schematic.cells import get_libraries, get_library_text
from recirc_analog.schematic.elements import (
    Block,
    Capacitor,
    Circuit,
    Crossbar,
    DcSweep,
    Instance,
    PdkModels,
    PhaseClock,
    Resistor,
    SampleCounter,
    TableSource,
    Transient,
    VoltageSource,
)
from recirc_analog.schematic.names import check_name, check_number, clean_text

LINE_WIDTH = 100
"""Continuation lines (``+``) start once a card would exceed this many characters."""


def number(value) -> str:
    """A finite number as the shortest text that reads back exactly."""
    return repr(check_number(value))


class SpiceWriter:
    """Writes a :class:`Circuit` as SPICE text (the ngspice dialect is :class:`NgspiceWriter`).

    Elements are written by the method :attr:`element_formatters` names for their
    ``kind``; a dialect overrides ``format_*`` methods and nothing else."""

    # ------------------------------------------------------------- write_*
    def write_circuit(self, circuit: Circuit, out: TextIO) -> None:
        """The whole netlist: title, description, cells, crossbars, blocks, analysis."""
        out.write(self.format_title(circuit.title) + "\n")
        for line in circuit.description:
            out.write(self.format_comment(line) + "\n")
        if circuit.models is not None:
            out.write("\n" + self.format_models(circuit.models) + "\n")
        for library in get_libraries(circuit.cells):
            self.write_library(library, out)
        for crossbar in circuit.crossbars:
            self.write_crossbar(crossbar, out)
        for block in circuit.blocks:
            self.write_block(block, out)
        out.write("\n" + self.format_comment("simulator settings, analysis and saved nodes") + "\n")
        for card in (self.format_options(circuit), self.format_saves(circuit.saves, circuit.analysis),
                     self.format_analysis(circuit.analysis), self.format_end()):
            if card:
                out.write(card + "\n")

    def write_library(self, library: str, out: TextIO) -> None:
        """A hand-written cell library from ``circuits/``, inlined."""
        out.write("\n" + self.format_comment(f"---- cells from circuits/{library} ----") + "\n")
        out.write(self.format_library(get_library_text(library)))

    def write_crossbar(self, crossbar: Crossbar, out: TextIO) -> None:
        """A crossbar subcircuit: one resistor per device, row line by row line.

        Row j lists its plus devices (every neuron), then its minus devices, then
        its reference device. ngspice allocates matrix entries in netlist order, so
        a row line's entries lie side by side; at 784-20-784 this makes the dc
        form ~20 % faster than listing the devices column by column.
        """
        out.write("\n" + self.format_comment(crossbar.comment) + "\n")
        out.write(self.format_subckt_start(crossbar.name, crossbar.ports) + "\n")
        cond = crossbar.conductances
        kinds = [("Rp" if cond.minus is not None else "R", crossbar.plus_columns, cond.plus)]
        if cond.minus is not None:
            kinds.append(("Rn", crossbar.minus_columns, cond.minus))
        neurons = range(crossbar.column_start, crossbar.column_start + cond.plus.shape[0])
        # (name stem per column, column nodes, resistances per column and row) of each kind of device
        devices = [([f"{prefix}_{i}_" for i in neurons], [check_name(name, "column") for name in names],
                    [self.get_resistances(g_i) for g_i in g]) for prefix, names, g in kinds]
        if cond.reference is not None:
            devices.append((["Rref_"], [check_name(crossbar.reference_column, "column")],
                            [self.get_resistances(cond.reference)]))
        if crossbar.has_wires:
            self.write_wired_devices(crossbar, devices, out)
        else:
            for local, row in enumerate(crossbar.rows):
                j, row = crossbar.row_start + local, check_name(row, "row")
                for stems, columns, ohms in devices:
                    out.write("".join(f"{stem}{j} {row} {column} {r[local]}\n"
                                      for stem, column, r in zip(stems, columns, ohms)))
        out.write(self.format_subckt_end(crossbar.name) + "\n")

    def write_wired_devices(self, crossbar: Crossbar, devices, out: TextIO) -> None:
        """The devices of a tile with wire resistance, between the site nodes of
        :meth:`Crossbar.wiring`, after its wire segments (each written as a resistor)."""
        wiring = crossbar.wiring()
        out.write("".join(self.format_resistor(r) + "\n" for r in wiring.resistors))
        for local, (row_sites, column_sites) in enumerate(zip(wiring.row_sites, wiring.column_sites)):
            j, k = crossbar.row_start + local, 0
            for stems, _, ohms in devices:
                for stem, r in zip(stems, ohms):
                    out.write(f"{stem}{j} {check_name(row_sites[k])} {check_name(column_sites[k])} {r[local]}\n")
                    k += 1

    def write_block(self, block: Block, out: TextIO) -> None:
        """One commented block of elements."""
        out.write("\n" + self.format_comment(block.comment) + "\n")
        out.write("".join(self.format_element(e) + "\n" for e in block.elements))

    # --------------------------------------------------------------- get_*
    def get_resistances(self, conductances: np.ndarray) -> list[str]:
        """Resistances (ohm) as text for conductances (S)."""
        values = 1.0 / np.asarray(conductances, dtype=float)
        for value in values:
            check_number(value, "crossbar resistance")
        return [repr(float(v)) for v in values]

    def get_netlist(self, circuit: Circuit) -> str:
        """The netlist as one string."""
        buffer = io.StringIO()
        self.write_circuit(circuit, buffer)
        return buffer.getvalue()

    # ------------------------------------------------------------ format_*
    def format_title(self, title: str) -> str:
        return clean_text(title) or "untitled"

    def format_comment(self, text: str) -> str:
        return "* " + clean_text(text)

    def format_library(self, text: str) -> str:
        return text if text.endswith("\n") else text + "\n"

    def format_card(self, words) -> str:
        """Join words into one card, wrapping long ones onto ``+`` continuation lines."""
        lines, line = [], ""
        for word in words:
            if line and len(line) + 1 + len(word) > LINE_WIDTH:
                lines.append(line)
                line = "+ " + word
            else:
                line = f"{line} {word}" if line else word
        return "\n".join(lines + [line])

    def format_models(self, models: PdkModels) -> str:
        """The PDK's transistor models (``.lib "<file>" <corner>``, or the corner's section inlined when
        the circuit names no file) and the die temperature ``.temp``."""
        head = self.format_comment(f"---- SkyWater 130 nm FET models (recirc_analog.pdk.models), corner "
                                   f"{models.corner}, {models.temp:g} degC ----")
        if models.library is None:
            cards = corner_section(models.corner)
        else:
            cards = [f".lib {quoted_path(models.library)} {check_corners([models.corner])[0]}"]
        return "\n".join([head, *cards, f".temp {number(models.temp)}"])

    def format_subckt_start(self, name: str, ports) -> str:
        return self.format_card([".subckt", check_name(name)] + [check_name(p, "port") for p in ports])

    def format_subckt_end(self, name: str) -> str:
        return f".ends {check_name(name)}"

    element_formatters = {
        "resistor": "format_resistor",
        "capacitor": "format_capacitor",
        "voltage_source": "format_voltage_source",
        "table_source": "format_table_source",
        "phase_clock": "format_phase_clock",
        "sample_counter": "format_sample_counter",
        "instance": "format_instance",
        "memristor": "format_memristor",
        "noise_source": "format_noise_source",
    }
    """Name of the method writing each element kind (``kind`` of the element class).

    A new element kind adds one entry and one method; a dialect overrides the
    method only. A plain dict (no name mangling), so a kind can never reach an
    unrelated ``format_*`` method by accident."""

    def format_element(self, e) -> str:
        """The card(s) of one element, by the formatter registered for its kind."""
        kind = getattr(e, "kind", None)
        method = self.element_formatters.get(kind) if isinstance(kind, str) else None
        if method is None:
            raise NetlistError(f"{type(self).__name__} has no formatter for element kind {kind!r} "
                               f"({type(e).__name__}); registered kinds: {', '.join(self.element_formatters)}")
        return getattr(self, method)(e)

    def format_resistor(self, e: Resistor) -> str:
        return f"{check_name(e.name)} {check_name(e.a)} {check_name(e.b)} {number(e.ohms)}"

    def format_capacitor(self, e: Capacitor) -> str:
        return f"{check_name(e.name)} {check_name(e.a)} {check_name(e.b)} {number(e.farads)}"

    def format_voltage_source(self, e: VoltageSource) -> str:
        return f"{check_name(e.name)} {check_name(e.pos)} {check_name(e.neg)} dc {number(e.volts)}"

    def format_phase_clock(self, e: PhaseClock) -> str:
        return self.format_behavioural(e.name, e.pos, self.format_clock_expression(e))

    def format_sample_counter(self, e: SampleCounter) -> str:
        return self.format_behavioural(e.name, e.pos, self.format_counter_expression(e))

    def format_behavioural(self, name: str, pos: str, expression: str) -> str:
        return f"{check_name(name)} {check_name(pos)} 0 V = {expression}"

    def format_table_source(self, e: TableSource) -> str:
        # the element's arrays as Python floats in one call each (the text is that of each float)
        points = ", ".join(f"{number(x)},{number(y)}" for x, y in zip(e.xs.tolist(), e.ys.tolist()))
        expression = self.format_table_expression(check_name(e.control), points)
        return self.format_card(self.format_behavioural(e.name, e.pos, expression).split(" "))

    def format_table_expression(self, control: str, points: str) -> str:
        return f"pwl(v({control}), {points})"

    def format_slot_expression(self, slot: float, lead_in: int) -> str:
        """The data slot index s(time): slot n is centred on n * slot seconds."""
        return f"(floor(time/{number(slot)} + 0.5) - {int(lead_in)})"

    def format_clock_expression(self, e: PhaseClock) -> str:
        s = self.format_slot_expression(e.slot, e.lead_in)
        phase = f"({s} - {e.phases}*floor({s}/{e.phases}))"
        terms = " + ".join(f"(abs({phase} - {int(p)}) < 0.5)" for p in e.active) or "0"
        return f"{number(e.amplitude)}*({terms})"

    def format_counter_expression(self, e: SampleCounter) -> str:
        return f"floor({self.format_slot_expression(e.slot, e.lead_in)}/{e.phases})"

    def format_noise_source(self, e) -> str:
        """A seeded noise staircase (schematic/noise.py) as a behavioural source of ``time``."""
        points = [f"{number(t)},{number(v)}," for t, v in e.points()]
        points[-1] = points[-1][:-1] + ")"
        letter = "V" if e.quantity == "voltage" else "I"
        return self.format_card([check_name(e.name), check_name(e.pos), check_name(e.neg), letter, "=", "pwl(time,"]
                                + points)

    def format_instance(self, e: Instance) -> str:
        words = [check_name(e.name)] + [check_name(n, "node") for n in e.nodes] + [check_name(e.cell, "cell")]
        words += [f"{check_name(k, 'parameter')}={number(v)}" for k, v in e.params]
        return self.format_card(words)

    def format_memristor(self, e) -> str:
        """``X<name> p n <cell> x0=... <model parameters>`` (a :class:`~recirc_analog.schematic.elements.Memristor`),
        then a ``.save`` of its state node ``<name>.x`` (internal to the instance, so not in ``Circuit.saves``,
        whose names pass the name gate; ngspice merges several ``.save`` cards)."""
        name = check_name(e.name)
        words = [name, check_name(e.p, "node"), check_name(e.n, "node"), check_name(e.model.cell, "cell")]
        words += [f"{check_name(k, 'parameter')}={number(v)}" for k, v in e.spice_parameters()]
        return self.format_card(words) + "\n" + self.format_card([".save", f"v({name}.x)"])

    def format_options(self, circuit: Circuit) -> str:
        raise NotImplementedError

    def format_saves(self, nodes, analysis) -> str:
        return self.format_card([".save"] + [f"v({check_name(n, 'node')})" for n in nodes])

    def format_analysis(self, analysis) -> str:
        if isinstance(analysis, DcSweep):
            return (f".dc {check_name(analysis.source)} {number(analysis.start)} {number(analysis.stop)} "
                    f"{number(analysis.step)}")
        if isinstance(analysis, Transient):
            start = "" if analysis.operating_point else " uic"
            return f".tran {number(analysis.step)} {number(analysis.stop)} 0 {number(analysis.max_step)}{start}"
        raise TypeError(f"no SPICE form for {type(analysis).__name__}")

    def format_end(self) -> str:
        return ".end"
