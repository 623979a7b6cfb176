"""One ngspice testbench per sky130 cell, for a process corner and a temperature.

A testbench is plain text that includes ``models.lib`` (written by
:func:`recirc_analog.pdk.models.write_model_library`) and the cell library files by relative
path, so the same text runs from a temporary folder (``characterise``) and from
``circuits/sky130/`` (where the tt / 27 degC versions are committed). Every testbench holds
several copies of its cell, one per measurement, each with its own supply source (so each
supply current is read alone), and runs ``.op``, then its other analyses; ngspice writes one
raw-file plot per analysis, in netlist order.

Conditions shared by all cells: supply :data:`VDD`, signal reference :data:`VCM` (the zero of
the activity), phase length :data:`PHASE` (``CircuitSpec``'s default ``phase``), load
:data:`C_LOAD` on every analogue output.
"""

from __future__ import annotations

from ..errors import ConfigError, check_range
from ..schematic.names import check_name
from ..schematic.periphery import SKY130_SUPPLY
from .cells import CELL_FILES, check_cell, library_text
from .models import check_corners, corner_section
from .noise import NOISE_F_HIGH, NOISE_F_LOW, NOISE_POINTS, noise_card

VDD = 1.8
"""Supply voltage (V)."""
VCM = 0.9
"""Reference voltage: the zero of the activity, mid-supply (V)."""
PHASE = 1e-6
"""One clock phase (s): the settling budget of every analogue cell."""
C_LOAD = 1e-12
"""Load capacitance on every analogue output (F)."""
T_STEP = 100e-9
"""When the step of a settling measurement starts (s)."""
EDGE = 1e-9
"""Rise / fall time of the ideal stimulus edges (s)."""
OPAMP_STEP = 0.2
"""Input step of the buffer settling test (V): 0.9 -> 1.1 V."""
NEURON_STEP = 0.05
"""Input step of the neuron settling test (V), inside its linear range."""
NEURON_SWEEP = 0.6
"""The neuron's transfer is swept over v(in) - v(ref) in [-NEURON_SWEEP, NEURON_SWEEP] (V)."""
TIA_RF = 10e3
"""Feedback resistance of the transimpedance test (ohm)."""
TIA_CURRENT = 10e-6
"""Test current into the TIA's column node, both signs (A): +-0.1 V at the output."""
SH_LEVELS = (0.7, 0.9, 1.1)
"""Input levels at which the sample-and-hold's pedestal is measured (V)."""
SH_FEEDTHROUGH_STEP = 0.2
"""Input step applied while holding, for the feedthrough (V)."""
SH_TIMES = {"hold": 2e-6, "droop_from": 2.2e-6, "step": 5e-6, "droop_to": 4.9e-6, "track": 7e-6,
            "end": 8.2e-6}
"""Sample-and-hold timeline (s): clk falls (hold) at ``hold``; the droop is fitted on
[``droop_from``, ``droop_to``]; the input steps by SH_FEEDTHROUGH_STEP at ``step``; clk rises
again (track, acquiring the new input) at ``track``; the run ends at ``end``."""
CLOCK_LOAD = 50e-15
"""Load on every clock-generator output (F)."""
CLOCK_EDGE = 100e-12
"""Rise / fall time of the clock generator's input clock (s)."""
TEMPERATURE_RANGE = (-55.0, 150.0)
"""Temperatures a testbench accepts (degC)."""


ANALOG_OPTIONS = ".options reltol=1e-6 abstol=1e-15 vntol=1e-9 gmin=1e-15"
"""Simulator options of the analogue testbenches: tight tolerances (offsets and pedestals are
sub-millivolt) and gmin 1e-15 S: ngspice's default 1e-12 S across every junction alone drains a
1 pF hold capacitor by about 0.4 V/s at tt, 27 degC (measured), 300 times the transistors' own
leakage there."""
DIGITAL_OPTIONS = ".options reltol=1e-4"
"""Simulator options of the clock generator: edges to a picosecond need no more, and reltol 1e-6
triples its run time (measured)."""


def _head(cell: str, corner: str, temp: float, what: str, options: str = ANALOG_OPTIONS) -> list[str]:
    check_name(cell, "cell")
    corner = check_corners([corner])[0]
    check_range("temperature (degC)", temp, *TEMPERATURE_RANGE)
    lines = [f"* tb_sky130_{cell}.cir: {what}",
             f"* Corner {corner}, {temp:g} degC. Written by recirc_analog.pdk.testbenches; run in this",
             "* folder after writing models.lib (python -m recirc_analog.pdk.models models.lib):",
             f"*   ngspice -b -r tb_sky130_{cell}.raw tb_sky130_{cell}.cir",
             f'.lib "models.lib" {corner}']
    lines += [f'.include "{name}"' for name in CELL_FILES[cell]]
    lines += [f".temp {temp:g}", options]
    return lines


def _pwl(points) -> str:
    return "pwl(" + " ".join(f"{t:.6g} {v:.6g}" for t, v in points) + ")"


def _step(t0: float, v0: float, v1: float) -> str:
    return _pwl([(0, v0), (t0, v0), (t0 + EDGE, v1)])


def _noise(output: str, source: str, quick: bool) -> str:
    """The testbench's one ``.noise`` card (:mod:`.noise`: 1 kHz to 1 GHz)."""
    return noise_card(output, source, points=NOISE_POINTS // 2 if quick else NOISE_POINTS)


def _with_analyses(lines: list[str], ac_start: float, sweep: str, quick: bool, noise: str) -> str:
    """``lines`` and the analyses of an analogue cell: operating point, AC from ``ac_start`` (Hz)
    to 1 GHz, DC sweep ``sweep`` (source, start, stop), a step response over one phase, and the
    ``noise`` card (the cell's own output noise at its operating point)."""
    lines = lines + [".op", f".ac dec {10 if quick else 20} {ac_start:g} 1G", noise,
                     f".dc {sweep} {0.02 if quick else 0.005}",
                     f".tran {5e-9 if quick else 1e-9:g} {T_STEP + PHASE + 100e-9:g}", ".end"]
    return "\n".join(lines) + "\n"


def opamp_testbench(corner: str = "tt", temp: float = 27.0, quick: bool = False) -> str:
    """Op-amp: open-loop AC (gain, unity-gain frequency, phase margin), buffer (offset, step
    settling, supply current), inverting gain -1 (output swing, DC sweep), TIA at +-TIA_CURRENT,
    and a TIA at zero current for its output noise.

    Nodes: ``oa`` open-loop output (AC source ``vina``), ``ob`` buffer output (supply ``vddb``),
    ``oc`` inverting output (sweep ``vinc``), ``otp`` / ``otn`` TIA outputs, ``ot0`` the noise
    TIA's output (input ``it0``, open column: noise gain 1).
    """
    lines = _head("opamp", corner, temp, "sky130_opamp open loop, as buffer, inverting, as TIA")
    lines += [
        f"VCM cm 0 {VCM}",
        "* A: open loop for AC: DC feedback through 1 Gohm / 1 F sets the operating point only",
        f"VDDA vdda 0 {VDD}",
        "VINA ina cm dc 0 ac 1",
        "XA ina fa oa vdda 0 sky130_opamp",
        "RFA oa fa 1G",
        "CFA fa 0 1",
        f"CLA oa 0 {C_LOAD}",
        "* B: unity-gain buffer, step 0.9 -> 1.1 V at T_STEP",
        f"VDDB vddb 0 {VDD}",
        f"VINB inb 0 {_step(T_STEP, VCM, VCM + OPAMP_STEP)}",
        "XB inb ob vddb 0 sky130_buffer",
        f"CLB ob 0 {C_LOAD}",
        "* C: inverting amplifier, gain -1 around VCM, swept for the output swing",
        f"VDDC vddc 0 {VDD}",
        f"VINC inc 0 {VCM}",
        "RC1 inc nc 100k",
        "RC2 nc oc 100k",
        "XC cm nc oc vddc 0 sky130_opamp",
        "* D: transimpedance stages fed +-TIA_CURRENT",
        f"VDDD vddd 0 {VDD}",
        f"ITP 0 ctp {TIA_CURRENT:g}",
        f"ITN ctp2 0 {TIA_CURRENT:g}",
        f"XTP ctp cm otp vddd 0 sky130_tia rf={TIA_RF:g}",
        f"XTN ctp2 cm otn vddd 0 sky130_tia rf={TIA_RF:g}",
        "* E: transimpedance stage at zero current, for its output noise",
        f"VDDE vdde 0 {VDD}",
        "IT0 0 ct0 dc 0 ac 1",
        f"XT0 ct0 cm ot0 vdde 0 sky130_tia rf={TIA_RF:g}",
        f"CLT0 ot0 0 {C_LOAD}",
    ]
    return _with_analyses(lines, 10, f"VINC 0 {VDD}", quick, _noise("ot0", "IT0", quick))


def neuron_testbench(corner: str = "tt", temp: float = 27.0, quick: bool = False) -> str:
    """Differential-pair neuron: transfer curve (DC sweep of ``vin``, output ``oa``), small-signal
    bandwidth and output noise (AC and ``.noise`` at in = ref), step settling (``ob``, step
    NEURON_STEP), supply current (``vdda``)."""
    lines = _head("neuron", corner, temp, "sky130_dp_neuron transfer curve, bandwidth, settling")
    lines += [
        f"VREF ref 0 {VCM}",
        f"VDDA vdda 0 {VDD}",
        f"VIN in 0 dc {VCM} ac 1",
        "XA in ref oa vdda 0 sky130_dp_neuron",
        f"CLA oa 0 {C_LOAD}",
        f"VDDB vddb 0 {VDD}",
        f"VINB inb 0 {_step(T_STEP, VCM, VCM + NEURON_STEP)}",
        "XB inb ref ob vddb 0 sky130_dp_neuron",
        f"CLB ob 0 {C_LOAD}",
    ]
    return _with_analyses(lines, 1e3, f"VIN {VCM - NEURON_SWEEP:g} {VCM + NEURON_SWEEP:g}", quick,
                          _noise("oa", "VIN", quick))


def sample_hold_testbench(corner: str = "tt", temp: float = 27.0, quick: bool = False) -> str:
    """Sample-and-hold at the input levels SH_LEVELS (instances ``X<k>``, outputs ``o<k>``,
    supplies ``vdd<k>``), driven by ideal complementary clocks with EDGE edges; the timeline is
    SH_TIMES. The ``.noise`` analysis is at the operating point (tracking, clk high) of the
    instance at VCM: the buffer's noise plus the switch's, which the capacitor filters to kT/C."""
    t = SH_TIMES
    lines = _head("sample_hold", corner, temp, "sky130_sample_hold pedestal, droop, feedthrough, acquisition")
    clk = _pwl([(0, VDD), (t["hold"], VDD), (t["hold"] + EDGE, 0), (t["track"], 0), (t["track"] + EDGE, VDD)])
    clkb = _pwl([(0, 0), (t["hold"], 0), (t["hold"] + EDGE, VDD), (t["track"], VDD), (t["track"] + EDGE, 0)])
    lines += [f"VCK clk 0 {clk}", f"VCKB clkb 0 {clkb}"]
    for k, level in enumerate(SH_LEVELS):
        lines += [f"VDD{k} vdd{k} 0 {VDD}",
                  f"VIN{k} in{k} 0 {_step(t['step'], level, level + SH_FEEDTHROUGH_STEP)} ac 1",
                  f"X{k} in{k} o{k} clk clkb vdd{k} 0 sky130_sample_hold",
                  f"CL{k} o{k} 0 {C_LOAD}"]
    mid = SH_LEVELS.index(VCM) if VCM in SH_LEVELS else 0
    lines += [".op", _noise(f"o{mid}", f"VIN{mid}", quick), f".tran {5e-9 if quick else 1e-9:g} {t['end']:g}", ".end"]
    return "\n".join(lines) + "\n"


def clock_testbench(corner: str = "tt", temp: float = 27.0, quick: bool = False) -> str:
    """Clock generator driven by a square wave of period 2 * PHASE (CLOCK_EDGE edges), every
    output loaded with CLOCK_LOAD; one full period after the first edge at PHASE / 2."""
    lines = _head("clock", corner, temp, "sky130_nonoverlap_clock non-overlap gaps, edges, supply current",
                  DIGITAL_OPTIONS)
    lines += [f"VDD vdd 0 {VDD}",
              f"VCK clk 0 pulse(0 {VDD} {PHASE / 2:g} {CLOCK_EDGE:g} {CLOCK_EDGE:g} {PHASE - CLOCK_EDGE:g} "
              f"{2 * PHASE:g})",
              "X1 clk phi1 phi1b phi2 phi2b vdd 0 sky130_nonoverlap_clock"]
    lines += [f"C{node} {node} 0 {CLOCK_LOAD:g}" for node in ("phi1", "phi1b", "phi2", "phi2b")]
    lines += [".op", f".tran {4e-9 if quick else 2e-9:g} {2.6 * PHASE:g}", ".end"]
    return "\n".join(lines) + "\n"


def _chain(corner: str, temp: float, files: tuple[str, ...], body: list[str], card: str, what: str) -> str:
    """A self-contained ``.noise`` netlist: the corner's models and the cell files inlined."""
    (corner,) = check_corners([corner])
    check_range("temp (degC)", temp, *TEMPERATURE_RANGE)
    lines = [f"* {what} (recirc_analog.pdk.testbenches), sky130 {corner}, {temp:g} degC", *corner_section(corner)]
    for name in files:
        lines += library_text(name).splitlines()
    lines += [f".temp {temp:g}", ANALOG_OPTIONS, f"Vvp vp 0 {SKY130_SUPPLY:g}", f"Vvn vn 0 {-SKY130_SUPPLY:g}",
              *body, card, ".end"]
    return "\n".join(lines) + "\n"


def live_chain_netlist(corner: str, temp: float, rf: float, g_plus: float, g_minus: float, activation: str,
                       f_low: float = NOISE_F_LOW, f_high: float = NOISE_F_HIGH, points: int = NOISE_POINTS) -> str:
    """``.noise`` of one neuron's live reading as the sky130 periphery builds it
    (:class:`recirc_analog.schematic.periphery.Sky130Periphery`): supplies +-0.9 V, reference
    ground, two ``sky130_tia`` (feedback ``rf`` ohm) whose column nodes see the crossbar's total
    conductances ``g_plus`` / ``g_minus`` (S) to ground, written ``noisy=0`` (the devices' own
    4kTG is the floor's separate ``devices`` part; the conductance still sets the op-amps' noise
    gain 1 + rf G), then the activation stage (``sky130_dp_neuron_diff`` for tanh,
    ``sky130_diff_amp`` for linear) of the difference, output ``out`` into 1 pF, all at zero
    signal (the neuron at its centre, where its gain is largest)."""
    cells = {"tanh": "sky130_dp_neuron_diff", "linear": "sky130_diff_amp"}
    if activation not in cells:
        raise ConfigError(f"activation must be one of {', '.join(cells)} for the sky130 periphery, got {activation!r}")
    check_range("rf (ohm)", rf, 0, None, low_open=True)
    body = ["Iin 0 cp dc 0 ac 1"]
    for node, g in (("cp", g_plus), ("cm", g_minus)):
        check_range("column conductance (S)", g, 0, None)
        if g > 0:
            body.append(f"Rg{node} {node} 0 {1 / g:.12g} noisy=0")
    body += [f"Xtp cp 0 tp vp vn sky130_tia rf={rf:.12g}", f"Xtm cm 0 tm vp vn sky130_tia rf={rf:.12g}",
             f"Xa tm tp 0 out vp vn {cells[activation]}", f"Cout out 0 {C_LOAD:g}"]
    return _chain(corner, temp, ("sky130_opamp.lib", "sky130_neuron.lib"), body,
                  noise_card("out", "Iin", f_low, f_high, points), "live reading: two TIAs and the activation")


def held_chain_netlist(corner: str, temp: float, f_low: float = NOISE_F_LOW, f_high: float = NOISE_F_HIGH,
                       points: int = NOISE_POINTS) -> str:
    """``.noise`` of a held reading's buffer (``sky130_buffer``, input an ideal 0 V: the held
    capacitor's own kT/C is the floor's ``ktc`` part), supplies +-0.9 V, output ``out`` into 1 pF."""
    body = ["Vin in 0 dc 0 ac 1", "Xb in out vp vn sky130_buffer", f"Cout out 0 {C_LOAD:g}"]
    return _chain(corner, temp, ("sky130_opamp.lib",), body, noise_card("out", "Vin", f_low, f_high, points),
                  "held reading: the sample-and-hold's buffer")


TESTBENCHES = {"opamp": opamp_testbench, "neuron": neuron_testbench, "sample_hold": sample_hold_testbench,
               "clock": clock_testbench}
"""Cell -> its testbench writer ``(corner, temp, quick) -> str``."""


def testbench(cell: str, corner: str = "tt", temp: float = 27.0, quick: bool = False) -> str:
    """The testbench text of ``cell`` at ``corner`` and ``temp`` (degC)."""
    return TESTBENCHES[check_cell(cell)](corner, temp, quick)
