"""The sky130 cells' datasheet as Markdown, and the neuron transfer tables as CSV.

One table per cell: a row per corner and temperature, a column per figure of
:data:`~recirc_analog.jobs.characterise.SPECS`, then the limits row; a value outside its limits
is marked ``(!)``. The neuron's measured transfer curve is written as one CSV per corner and
temperature (columns ``x_volts`` = v(in) - v(ref), ``y_volts`` = v(out) - v(ref)) for the
reference to use as the activation of a sky130 run; the datasheet shows the tt / 27 degC curve
on a coarse grid.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from ..fileio import atomic_open
from ..pdk.testbenches import C_LOAD, PHASE, VCM, VDD
from .characterise import SPECS, CellResult

CELL_TITLES = {
    "opamp": "Two-stage Miller op-amp (`sky130_opamp`, `sky130_buffer`, `sky130_tia`)",
    "neuron": "Differential-pair neuron (`sky130_dp_neuron`)",
    "sample_hold": "Sample-and-hold (`sky130_sample_hold`, 1 pF)",
    "clock": "Non-overlapping two-phase clock (`sky130_nonoverlap_clock`)",
}
"""Cell -> its section heading."""

CELL_NOTES = {
    "opamp": "Open loop into 1 pF for gain, unity-gain frequency and phase margin; offset, settling and "
             "supply current as a unity-gain buffer (0.9 -> 1.1 V step, 1 ns edge); swing: the output range "
             "of a gain -1 inverting stage (100 kohm / 100 kohm) over which the incremental gain is within "
             "1 % of -1; TIA error: (v_out(-I) - v_out(+I)) / (2 rf I) - 1 at I = 10 uA, rf = 10 kohm "
             "(the second stage loaded by rf). Noise: ngspice's .noise of a TIA (rf = 10 kohm, open column, "
             "zero current) at its operating point, the output density (BSIM4 thermal and flicker noise of "
             "the op-amp, 4kTR of rf and the bias resistor) integrated from 1 kHz (1 / a 1 ms run) to "
             "1 GHz (beyond the stage's poles, which set its noise bandwidth); input noise is that / rf.",
    "neuron": "x = v(in) - v(ref), output re v(ref). Gain is dy/dx at x = 0 from the DC sweep; bandwidth is "
              "the small-signal -3 dB frequency at x = 0 into 1 pF; the tanh column is the largest "
              "deviation of the measured curve from its least-squares a*tanh(b*x)+c over |x| <= 0.6 V (the "
              "circuit's curve is its own: the transfer CSVs are what the reference should use); settling "
              "for a 50 mV input step. Output noise: ngspice's .noise at x = 0 (inputs from ideal "
              "sources), 1 kHz-1 GHz (see `recirc_analog/pdk/noise.py`).",
    "sample_hold": "Ideal complementary clocks with 1 ns edges. Pedestal: held minus tracked output, 200 ns "
                   "after the hold edge, at three input levels. Droop: least-squares slope over 2.7 us of "
                   "hold (worst level). Feedthrough: held change per volt of a 0.2 V input step while "
                   "holding. Acquisition: settling to 0.1 % of a 0.2 V change after the switch closes. "
                   "Supply current is the buffer's (the switch draws none at DC). The droop is measured "
                   "with about 0 V across the open switch, where its channel does not leak: the 1.2-1.5 mV/s "
                   "found is the floor set by the simulator's gmin (1e-15 S per junction, 1e-15 S x 1.3 V / "
                   "1 pF), an upper bound on the transistors' own junction leakage; with 0.2 V across the "
                   "switch the channel leakage shows in the feedthrough column (1.2 ppm at ff, 125 degC). "
                   "Output noise: ngspice's .noise while tracking 0.9 V, 1 kHz-1 GHz: the buffer's own noise "
                   "and the switch's thermal noise on the 1 pF (kT/C = 64 uV rms at 27 degC).",
    "clock": "Input 500 kHz square wave (1 us phases, 100 ps edges), 50 fF on every output. Gaps between "
             "the 50 % crossings of the falling and the rising phase; worst edges of phi1 and phi2; mean "
             "supply current over one period (dynamic power C V^2 f dominates).",
}
"""Cell -> how its figures are measured (one paragraph)."""


def transfer_path(folder, corner: str, temp: float) -> Path:
    """CSV file of the neuron transfer at ``corner`` and ``temp`` inside ``folder``."""
    return Path(folder, f"dp_neuron_{corner}_{temp:g}C.csv")


def write_transfer(path, table: np.ndarray) -> Path:
    """Write a transfer table (shape (n, 2), volts) as CSV with a header row."""
    with atomic_open(path) as handle:
        handle.write("x_volts,y_volts\n")
        for x, y in table:
            handle.write(f"{x:.6f},{y:.9g}\n")
    return Path(path)


def read_transfer(path) -> np.ndarray:
    """A transfer table written by :func:`write_transfer`: shape (n, 2), volts."""
    return np.loadtxt(path, delimiter=",", skiprows=1, ndmin=2)


def _cell(value: float, spec) -> str:
    if not np.isfinite(value):
        text = "n/a" if np.isnan(value) else ("not settled" if value > 0 else "-inf")
    else:
        text = f"{value * spec.scale:.4g}"
    return text if spec.passes(value) else f"{text} (!)"


def cell_table(results: list[CellResult], cell: str) -> list[str]:
    """Markdown lines of one cell's table (rows in the order given)."""
    specs = SPECS[cell]
    head = ["corner", "T (degC)"] + [f"{s.label} ({s.unit})" for s in specs]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for r in results:
        lines.append("| " + " | ".join([r.corner, f"{r.temp:g}"] + [_cell(r.values[s.key], s) for s in specs]) + " |")
    lines.append("| limits | | " + " | ".join(s.limit_text() for s in specs) + " |")
    return lines


def transfer_lines(table: np.ndarray, step: float = 0.1) -> list[str]:
    """The transfer curve on a grid of ``step`` volts, as a two-row Markdown table."""
    grid = np.arange(-0.6, 0.6 + step / 2, step)
    y = np.interp(grid, table[:, 0], table[:, 1])
    return ["| x = v(in) - v(ref) (V) | " + " | ".join(f"{g:+.1f}" for g in grid) + " |",
            "|---|" + "---|" * len(grid),
            "| y = v(out) - v(ref) (mV) | " + " | ".join(f"{v * 1e3:+.1f}" for v in y) + " |"]


def datasheet_text(results: list[CellResult], *, command: str, machine: str, ngspice: str, seconds: float,
                   transfer_folder: str | None) -> str:
    """The whole datasheet (Markdown)."""
    from ..pdk.models import SKY130_VERSION

    cells = list(dict.fromkeys(r.cell for r in results))
    lines = ["# sky130 cell datasheet", "",
             f"Generated by `{command}` on {machine}, ngspice {ngspice}, sky130=={SKY130_VERSION} models "
             f"(FET-only library, `recirc_analog/pdk/models.py`); {len(results)} testbench runs in "
             f"{seconds:.0f} s. Supply {VDD:g} V, reference {VCM:g} V, phase {PHASE * 1e6:g} us, "
             f"{C_LOAD * 1e12:g} pF load on analogue outputs.", "",
             "What is physical and what is ideal: every transistor is the PDK's BSIM4 model at the stated "
             "corner and temperature; resistors (bias, loads, feedback) and capacitors (Miller, hold, clock "
             "delay) are ideal linear elements, and there are no layout parasitics or mismatch. A value "
             "marked (!) is outside the limit the tests check at tt.", ""]
    for cell in cells:
        rows = [r for r in results if r.cell == cell]
        lines += [f"## {CELL_TITLES[cell]}", "", CELL_NOTES[cell], ""] + cell_table(rows, cell) + [""]
        if cell == "neuron":
            ref = next((r for r in rows if r.corner == "tt" and r.temp == 27.0), rows[0])
            lines += [f"Measured transfer at {ref.corner}, {ref.temp:g} degC (interpolated on a 0.1 V grid):", ""]
            lines += transfer_lines(ref.transfer) + [""]
            if transfer_folder is not None:
                lines += [f"Full curves (5 mV steps, or 20 mV with --quick), one per corner and temperature: "
                          f"`{transfer_folder}/dp_neuron_<corner>_<T>C.csv`.", ""]
    return "\n".join(lines)


def write_datasheet(path, results: list[CellResult], *, command: str, machine: str, ngspice: str,
                    seconds: float, transfer_folder=None) -> Path:
    """Write the datasheet to ``path`` and the neuron transfer CSVs into ``transfer_folder`` (if given)."""
    if transfer_folder is not None:
        for r in results:
            if r.transfer is not None:
                write_transfer(transfer_path(transfer_folder, r.corner, r.temp), r.transfer)
    shown = None
    if transfer_folder is not None:
        try:
            shown = str(Path(transfer_folder).resolve().relative_to(Path(path).resolve().parent.parent))
        except ValueError:
            shown = str(transfer_folder)
    text = datasheet_text(results, command=command, machine=machine, ngspice=ngspice, seconds=seconds,
                          transfer_folder=shown)
    with atomic_open(path) as handle:
        handle.write(text)
    return Path(path)
