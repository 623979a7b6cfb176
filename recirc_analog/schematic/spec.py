"""Frozen configuration of the analog circuit, in SI units (volts, ohms, siemens, farads, seconds).

:class:`CircuitSpec` gathers everything the builder needs besides the network
and the inputs: the recirculation scheme, the netlist form, the physical
architecture and the per-block configurations below. Every field is validated
when the object is made; messages name the field, the allowed range and the
value received.
"""

import math
import numbers
from dataclasses import dataclass, field

from recirc_analog.errors import ConfigError, check_range
from recirc_analog.reference.recirculation import Recirculation

MAPPING_KINDS = ("differential", "shared_reference")
"""Weight-to-conductance mappings, see :mod:`recirc_analog.schematic.mapping`."""

NEURON_KINDS = ("ideal", "opamp", "sky130")
"""Peripheries (transimpedance stages and activations): exact virtual ground, the op-amp macromodel,
or the SkyWater 130 nm transistor cells; each names a periphery strategy in
:data:`recirc_analog.schematic.periphery.PERIPHERIES` (a test keeps the two equal)."""

PDK_CORNERS = ("tt", "ss", "ff", "sf", "fs")
"""Process corners of the sky130 FET models (``recirc_analog.pdk.models.CORNERS``; a test keeps them equal)."""

PDK_TEMPERATURE_RANGE = (-40.0, 125.0)
"""Die temperatures (degC) the sky130 cells are characterised at (circuits/DATASHEET.md); the models
accept others, the datasheet's figures do not cover them."""

FORMS = ("dc", "tran")
"""Netlist forms: unrolled ``.dc`` sweep over the batch, or the physical ``.tran`` circuit."""

ARCHITECTURES = ("conjoined", "bidirectional")
"""Appendix A architectures: a crossbar per direction, or one crossbar read both ways (L = 2)."""


MAX_CIRCUIT_CYCLES = 16
"""Largest m of a circuit: both forms unroll cycles 0..m as m + 1 copies of the network
(dc: node copies, tran: phases and hold cells), so the netlist grows linearly with m."""


def _check_choice(name: str, value, allowed) -> None:
    if value not in allowed:
        raise ConfigError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")


MAX_TILE = 1024
"""Largest ``tile_rows`` / ``tile_neurons``."""

WIRE_FIELDS = ("r_row", "r_col", "r_driver", "r_sense")
"""The wire resistances (ohm) of :class:`CrossbarConfig`, copied into every crossbar tile."""


def check_wire_resistances(obj) -> None:
    """ConfigError unless each of ``obj``'s :data:`WIRE_FIELDS` is a finite number >= 0 (ohm)."""
    for name in WIRE_FIELDS:
        value = getattr(obj, name)
        if isinstance(value, bool) or not isinstance(value, numbers.Real):
            raise ConfigError(f"{name} must be a number of ohms in [0, inf), got {value!r}")
        check_range(f"{name} (ohm)", value, 0, math.inf, high_open=True)


@dataclass(frozen=True)
class CrossbarConfig:
    """Resistive crossbar of one layer: the conductance range and the weight mapping."""

    g_min: float = 1e-6
    """Smallest programmable conductance (S)."""
    g_max: float = 1e-4
    """Largest programmable conductance (S)."""
    r_f: float | None = None
    """Transimpedance feedback resistance (ohm) relating weights to conductances,
    ``w = r_f * (G+ - G-)``; None chooses the smallest one that fits the weights
    (see :func:`recirc_analog.schematic.mapping.choose_r_f`), times ``headroom``."""
    headroom: float = 1.0
    """Factor (>= 1, dimensionless) applied to the automatically chosen ``r_f`` so
    that weights can grow during training without leaving [g_min, g_max]."""
    mapping: str = "differential"
    """``differential`` (a device pair per weight) or ``shared_reference`` (one device
    per weight and one reference column per layer at (g_min + g_max) / 2)."""
    tile_rows: int = 256
    """Input rows per physical array (tile); a layer's crossbar is a grid of tiles whose
    column currents add on shared column lines (ngspice also limits a subcircuit to
    about 1000 ports)."""
    tile_neurons: int = 128
    """Neurons (columns, or column pairs) per tile."""
    r_row: float = 0.0
    """Row-line wire resistance per cell pitch (ohm, >= 0): one segment between a tile's
    row driver and its first device and one between neighbouring devices along a row
    (``netlists/README.md``, "Wire resistance"); 0 is an ideal row line."""
    r_col: float = 0.0
    """Column-line wire resistance per cell pitch (ohm, >= 0): one segment between
    neighbouring devices along a column and one between the last device and the sense
    node; 0 is an ideal column line."""
    r_driver: float = 0.0
    """Output resistance of each tile row line's driver (ohm, >= 0), between the row
    node and the row line; 0 is an ideal driver."""
    r_sense: float = 0.0
    """Input resistance of each tile column line's sense node (ohm, >= 0), between the
    column line's end and the neuron's virtual ground; 0 is an ideal sense node."""

    def __post_init__(self):
        check_range("g_min", self.g_min, 0, None, low_open=True)
        check_range("g_max", self.g_max, self.g_min, None, low_open=True)
        if self.r_f is not None:
            check_range("r_f", self.r_f, 0, None, low_open=True)
        check_range("headroom", self.headroom, 1, None)
        _check_choice("mapping", self.mapping, MAPPING_KINDS)
        check_wire_resistances(self)
        for name in ("tile_rows", "tile_neurons"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_TILE:
                raise ConfigError(f"{name} must be an integer in [1, {MAX_TILE}], got {value!r}")


@dataclass(frozen=True)
class NeuronConfig:
    """Transimpedance stage of a neuron; the activation follows as a behavioural source."""

    kind: str = "ideal"
    """``ideal``: 0-V ammeter and a current-controlled source (exact virtual ground);
    ``opamp``: ``circuits/opamp.lib`` with the finite gain, offset and swing below."""
    gain: float = 1e6
    """Open-loop DC gain of the op-amp (V/V); only for ``opamp``."""
    offset: float = 0.0
    """Input offset voltage of the op-amp (V); only for ``opamp``."""
    swing: float = 5.0
    """Output saturation of the op-amp, symmetric (V); only for ``opamp``."""

    def __post_init__(self):
        _check_choice("neuron kind", self.kind, NEURON_KINDS)
        check_range("gain", self.gain, 1, None)
        check_range("offset", self.offset, -1, 1)
        check_range("swing", self.swing, 0, None, low_open=True)


@dataclass(frozen=True)
class SampleHoldConfig:
    """Switch + hold capacitor + buffer storing each neuron's cycle-0 activity (tran form)."""

    c_hold: float = 1e-12
    """Hold capacitance (F)."""
    r_on: float = 100.0
    """Switch on-resistance (ohm); one backward-Euler step leaves a tracking error of
    about r_on * c_hold / step."""
    r_off: float = 1e12
    """Switch off-resistance (ohm); the held value droops by about step / (r_off * c_hold)."""
    r_leak: float | None = None
    """Leakage resistance from the hold capacitor to ground (ohm); None for none."""
    buffer_gain: float = 1.0
    """Voltage gain of the output buffer (V/V)."""

    def __post_init__(self):
        check_range("c_hold", self.c_hold, 0, None, low_open=True)
        check_range("r_on", self.r_on, 0, None, low_open=True)
        check_range("r_off", self.r_off, self.r_on, None, low_open=True)
        if self.r_leak is not None:
            check_range("r_leak", self.r_leak, 0, None, low_open=True)
        check_range("buffer_gain", self.buffer_gain, 0, None, low_open=True)


def ideal_sample_hold() -> SampleHoldConfig:
    """A sample-and-hold whose tracking error and droop are both below 1e-9 of the signal
    at the default clock (1 us phases): r_on / r_off = 1e-19 (not a physical switch;
    used to check that the tran and dc forms compute the same numbers)."""
    return SampleHoldConfig(c_hold=1e-12, r_on=1e-3, r_off=1e16)


@dataclass(frozen=True)
class ClockConfig:
    """Timing of the tran form: each sample takes ``1 + m`` phases of equal length."""

    phase: float = 1e-6
    """Length of one phase (s)."""
    steps_per_phase: int = 1
    """Simulator time steps per phase (the maximum step is phase / steps_per_phase);
    more steps reduce the S&H tracking error r_on * c_hold / step geometrically."""
    lead_in: int = 2
    """Idle phases before the first sample (while ngspice's first steps grow)."""

    def __post_init__(self):
        check_range("phase", self.phase, 0, None, low_open=True)
        for name in ("steps_per_phase", "lead_in"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
        check_range("steps_per_phase", self.steps_per_phase, 1, 64)
        check_range("lead_in", self.lead_in, 1, 64)


DEFAULT_READ_VOLTAGE = 0.2
"""Default read budget (V) of a crossbar row: below typical ReRAM switching thresholds."""

MAX_READ_VOLTAGE = 10.0
"""Largest read budget (V), the same bound as ``v_unit``."""

MAX_TEMPERATURE = 1000.0
"""Largest noise temperature (K)."""


@dataclass(frozen=True)
class CircuitSpec:
    """Everything that decides the circuit, besides the network weights and the inputs."""

    recirculation: Recirculation = field(default_factory=Recirculation)
    """Mode, lambda and the cycle pair (n, m); the circuit simulates cycles 0..m."""
    form: str = "dc"
    """``dc`` (phases unrolled, the batch as a ``.dc`` sweep) or ``tran`` (physical circuit)."""
    architecture: str = "conjoined"
    """``conjoined`` (a crossbar per layer) or ``bidirectional`` (L = 2 only: layer 2
    reads layer 1's crossbar backwards, so A^2 = (A^1)^T holds physically)."""
    v_unit: float = 0.2
    """Volts per unit of activity (V)."""
    crossbar: CrossbarConfig = field(default_factory=CrossbarConfig)
    """Conductance range and weight mapping."""
    neuron: NeuronConfig = field(default_factory=NeuronConfig)
    """Transimpedance stage."""
    sample_hold: SampleHoldConfig = field(default_factory=SampleHoldConfig)
    """Hold cells (tran form)."""
    clock: ClockConfig = field(default_factory=ClockConfig)
    """Phase timing (tran form)."""
    reltol: float = 1e-6
    """Simulator relative tolerance (dimensionless); ngspice's default 1e-3 leaves
    errors of order 1e-5 in the recirculated activities."""
    vntol: float = 1e-10
    """Simulator absolute voltage tolerance (V); ngspice's default 1e-6 V is 5e-6 of an
    activity at v_unit = 0.2 V."""
    title: str = "recirc-analog circular autoencoder"
    """Free text for the netlist's title line (sanitised by the writer)."""
    read_voltage: float | None = DEFAULT_READ_VOLTAGE
    """Read budget of every crossbar row, symmetric (V): the DAC range of the inputs. Every layer
    that drives rows (layer 0: the data and the recirculated output) is scaled into it by a power
    of two, compensated in the transimpedance gains (:mod:`recirc_analog.schematic.voltage_budget`);
    a row or op-amp output outside its budget stops the generator. None: no scaling and no check."""
    noise: bool = False
    """Seeded thermal noise (tran form only): kT/C on every hold capacitor and 4kTG of every
    crossbar device (:mod:`recirc_analog.schematic.noise`)."""
    temperature: float = 300.0
    """Noise temperature (K) of the devices and switches; only with ``noise``."""
    noise_seed: int = 0
    """Seed (integer >= 0) of the noise samples; the same seed gives the same circuit."""
    corner: str = "tt"
    """Process corner of the sky130 FET models (one of :data:`PDK_CORNERS`); only with neuron kind sky130."""
    temp: float = 27.0
    """Die temperature (degC) of the sky130 models (``.temp``), within :data:`PDK_TEMPERATURE_RANGE`;
    only with neuron kind sky130 (``temperature`` is the noise temperature, in K)."""

    def __post_init__(self):
        if not isinstance(self.recirculation, Recirculation):
            raise ConfigError(f"recirculation must be a Recirculation, got {self.recirculation!r}")
        m = self.recirculation.cycles[1]
        if m > MAX_CIRCUIT_CYCLES:
            raise ConfigError(f"cycles m must be in [1, {MAX_CIRCUIT_CYCLES}] for a circuit "
                              f"(it unrolls m + 1 copies), got {m}")
        _check_choice("form", self.form, FORMS)
        _check_choice("architecture", self.architecture, ARCHITECTURES)
        check_range("v_unit", self.v_unit, 0, 10, low_open=True)
        check_range("reltol", self.reltol, 0, 1e-2, low_open=True)
        check_range("vntol", self.vntol, 0, 1e-3, low_open=True)
        if not isinstance(self.title, str):
            raise ConfigError(f"title must be a string, got {self.title!r}")
        if self.read_voltage is not None:
            check_range("read_voltage (V)", self.read_voltage, 0, MAX_READ_VOLTAGE, low_open=True)
        if not isinstance(self.noise, bool):
            raise ConfigError(f"noise must be True or False, got {self.noise!r}")
        check_range("temperature (K)", self.temperature, 0, MAX_TEMPERATURE, low_open=True)
        if isinstance(self.noise_seed, bool) or not isinstance(self.noise_seed, int) or self.noise_seed < 0:
            raise ConfigError(f"noise_seed must be an integer >= 0, got {self.noise_seed!r}")
        _check_choice("corner", self.corner, PDK_CORNERS)
        if isinstance(self.temp, bool) or not isinstance(self.temp, numbers.Real):
            raise ConfigError(f"temp must be a number of degC in [{PDK_TEMPERATURE_RANGE[0]:g}, "
                              f"{PDK_TEMPERATURE_RANGE[1]:g}], got {self.temp!r}")
        check_range("temp (degC)", self.temp, *PDK_TEMPERATURE_RANGE)
        if self.neuron.kind == "sky130" and self.architecture != "conjoined":
            raise ConfigError(f"neuron kind sky130 needs architecture conjoined (the backward read of the "
                              f"bidirectional crossbar has no sky130 stage), got {self.architecture!r}")
        if self.neuron.kind == "sky130" and self.form == "tran" and m != 1:
            raise ConfigError(f"neuron kind sky130 with form tran needs cycles (n, 1) (the ping-pong banks of "
                              f"m >= 2 have no sky130 hold yet), got m = {m}")
        if self.neuron.kind != "sky130" and (self.corner, self.temp) != ("tt", 27.0):
            raise ConfigError(f"corner and temp set the sky130 models; they need neuron kind sky130, "
                              f"got neuron kind {self.neuron.kind!r} with corner {self.corner!r}, temp {self.temp:g}")
        if self.noise and self.form != "tran":
            raise ConfigError(f"noise needs form tran (the dc form has no time for noise to act in), "
                              f"got form {self.form!r}")

    @property
    def cycles(self) -> int:
        """m: the last recirculation cycle simulated."""
        return self.recirculation.cycles[1]
