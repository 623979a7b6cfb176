"""In-circuit learning (issue 13): the data model of one online step of a 3-layer circular
autoencoder N0-N1-N0 whose two crossbars are memristor arrays that the circuit programs itself.

One ``.tran`` analysis per sample (the text is written by
:mod:`recirc_analog.netlist_writers.in_circuit`, driven by :mod:`recirc_analog.cosim.in_circuit`):

1. phase 0 (``t_read``): layer 0 is driven by the data, layers 1 and 2 read crossbars 1 and 2;
   sample-and-hold capacitors track O^0(0), O^1(0), O^2(0) and hold them from the phase's end;
2. phase 1 (``t_read``, PR recirculation): layer 0 is driven by the held O^2(0); a second hold
   samples the live O^1(1) at the phase's end (the crossbars' rows and columns belong to the
   write drivers afterwards, so the live value is kept there);
3. write A (up, ``tw``) and write B (down, ``tw``): the V/2 scheme of
   ``circuits/memristors/README.md``. Row j of a crossbar is a pulse-width modulator driven by its
   held pre-synaptic voltage (``+-v_half`` for ``tw * pre_j``); column i a comparator plus
   amplifier driven by its held early minus held late post-synaptic voltage (sign and height).
   Crossbar 1 (layer 0 -> 1): pre ``O^0(0)``, post ``O^1(0) - O^1(1)``; crossbar 2 (layer 1 -> 2,
   whose post-synaptic neurons are layer 0's, ARCHITECTURE.md §4): pre ``O^1(0)``, post
   ``O^0(0) - O^0(1) = O^0(0) - O^2(0)``. These are the reference's PR rule (cycles (0, 1)).

Weights: one device per weight against a reference column of devices at the fixed state
``x_ref`` (the ``shared_reference`` mapping, ARCHITECTURE.md §3): ``w_ij = w_scale (x_ij - x_ref)``
(``Yakopcic``'s read is ``a1 x sinh(b v)``, linear in x and within 4e-6 of linear in v at 0.1 V); in
general ``w_ij = w_scale law.weight(x_ij, x_ref)``, the model's write-law record
(:mod:`~recirc_analog.schematic.write_laws`) saying how its read maps a state to a weight (VTEAM:
``(G(x) - G(x_ref)) / |G'(x_ref)|``) and how its column drivers shape the height per direction (VTEAM: a
cube root for its on direction, levels signed by its reversed polarity).
Activations: logistic sigmoids (activity in (0, 1), so pre-synaptic values are non-negative and two write
sub-phases suffice), or tanh (activity in (-1, 1)): then write C and write D follow, in which the rows with a
negative held pre-synaptic value pulse with the opposite polarity (``-+v_half`` for ``tw * |pre_j|``) and the
columns swap their up / down roles (C: columns with ``d_i > 0`` drive the down level, D: ``d_i < 0`` the up
level), so the change keeps the sign and size of ``pre_j d_i``; rows with ``pre_j >= 0`` are at 0 V in C and D.
Biases (optional): one more row per crossbar whose pre-synaptic activity is the constant 1 (``v_unit`` in the
reads, a full-width ``tw`` pulse in the writes), one device per post-synaptic neuron against the same
reference column; the same rule writes them (pre = 1 x post-difference: the reference's ``db``).
tanh and biases are built for Yakopcic only (VTEAM's are refused with one line: its signed, cube-root
column levels were not combined with the extra sub-phases and rows).

What is ideal: the neurons (B-sources reading 0-V ammeters), the drivers (ideal behavioural
sources of the held voltages and of time), the hold switches' control. What is physical: the
memristors (the compact model's ODE), the hold capacitors and switches, and the write: each
device's change comes from the voltages across it, nothing computed in Python.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ..devices.compact.models import Vteam, Yakopcic
from ..errors import ConfigError, check_range
from .write_laws import DIRECTIONS, OPERATING_MARGIN, overdrive, window_down, window_up, write_law

__all__ = ["OPERATING_MARGIN", "InCircuitNetwork", "WriteScheme", "balance_state", "check_model",
           "operating_state", "window_down", "window_up"]


def operating_state(model: Yakopcic) -> float:
    """The default reference state: ``1 - x_n + OPERATING_MARGIN`` (0.6 for the Oblea fit), capped at 0.9.

    Above ``1 - x_n`` Yakopcic's falling window is exactly 1, so only the rising window varies with
    the state there: the up / down gain ratio changes by ``alpha_p + 1 / (1 - x)`` per unit of state
    (3.5 at 0.6) instead of ``alpha_p + 1 / (1 - x) + alpha_n + 1 / x`` (10.0 at the balance point
    0.446), where the states of a learning network spread (studies/in-circuit/REPORT.md: at the
    balance point 16-4-16 does not learn).
    """
    return write_law(model).operating_state()


def balance_state(model: Yakopcic) -> float:
    """The state in (0.3, 0.6) where the up and down windows of ``model`` are equal (its balance point;
    the default ``x_ref`` until the 16-4-16 study showed the gain ratio varies too fast there)."""
    from scipy.optimize import brentq

    def gap(x):
        return window_up(model, x) - window_down(model, x)

    low, high = max(model.x_p, 1e-3), min(1.0 - model.x_n + 0.2, 0.999)
    if gap(low) * gap(high) > 0:
        return 0.5
    return float(brentq(gap, low, high, xtol=1e-12))


@dataclass(frozen=True)
class WriteScheme:
    """The V/2 write phase's voltages and timing (circuits/memristors/README.md, "The write phase")."""

    v_half: float = 0.08
    """Row level while a row's pulse is on (V, > 0, below both thresholds)."""
    gain: float = 0.25
    """Column overdrive per volt of post-synaptic difference in the down direction (V/V, > 0; the up
    direction's is :attr:`InCircuitNetwork.gain_up`, 2.3x this at the default ``x_ref``)."""
    tw: float = 1e-4
    """Longest row pulse, for a held pre-synaptic activity of 1 (s, > 0)."""
    steps: int = 1000
    """Time points per ``tw`` (the width resolution: pulse widths are quantised to tw / steps)."""
    read_steps: int = 20
    """Time points per read phase (phase 0 and phase 1)."""

    def __post_init__(self):
        check_range("v_half", self.v_half, 0.0, 10.0, low_open=True)
        check_range("gain", self.gain, 0.0, 100.0, low_open=True)
        check_range("tw", self.tw, 1e-9, 1.0)
        for name, low in (("steps", 50), ("read_steps", 5)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not low <= value <= 100_000:
                raise ConfigError(f"{name} must be an integer in [{low}, 100000], got {value!r}")

    @property
    def dt(self) -> float:
        """The fixed time step (s)."""
        return self.tw / self.steps


@dataclass(frozen=True)
class InCircuitNetwork:
    """An N0-N1-N0 circular autoencoder on two memristor crossbars, and how it is written.

    ``states1`` (N1, N0) and ``states2`` (N0, N1) are the device states x (unitless, [0, 1])
    at the start of the analysis; weights are ``w_scale * law.weight(states, x_ref)``
    (:mod:`~recirc_analog.schematic.write_laws`: ``w_scale * (states - x_ref)`` for Yakopcic). Fields left
    at None take the model's defaults (``write_laws.<Model>Write.defaults``).
    """

    states1: np.ndarray
    """Crossbar 1 (layer 0 -> 1) device states, shape (N1, N0); row j of the array = pre-synaptic neuron j."""
    states2: np.ndarray
    """Crossbar 2 (layer 1 -> 2) device states, shape (N0, N1)."""
    model: Yakopcic | Vteam = field(default_factory=Yakopcic)
    """The compact model of every device (one of ``write_laws.WRITE_LAWS``: see :func:`check_model`)."""
    scheme: WriteScheme | None = None
    """Write-phase voltages and timing (None: ``WriteScheme()`` with the model's ``v_half`` and ``gain``)."""
    v_unit: float | None = None
    """Volts per unit of activity (V; below both thresholds so that reads do not move a state; None: 0.1 V
    for Yakopcic, 0.015 V for VTEAM, whose off threshold is 0.02 V)."""
    w_scale: float | None = None
    """Weight per unit of state away from ``x_ref`` (unitless; larger keeps the states of a given weight
    range closer to ``x_ref``, where the write's gain is the nominal one; None: 40 Yakopcic, 100 VTEAM)."""
    x_ref: float | None = None
    """State of the reference column's devices (None: :func:`operating_state`, where the falling window
    is flat)."""
    write: bool = True
    """False leaves the write drivers at 0 V (the controller-driven run reads the same circuit)."""
    activation: str = "logistic"
    """Both layers' activation (:data:`ACTIVATIONS`): ``logistic`` (activity in (0, 1), two write sub-phases)
    or ``tanh`` (activity in (-1, 1), four sub-phases: :attr:`signed`)."""
    bias_states1: np.ndarray | None = None
    """Crossbar 1's bias row (pre-synaptic activity constant 1), device states of shape (N1,); None: no
    bias rows (given together with ``bias_states2``)."""
    bias_states2: np.ndarray | None = None
    """Crossbar 2's bias row (layer 0's biases, ARCHITECTURE.md §4), device states of shape (N0,)."""

    def __post_init__(self):
        check_model(self.model)
        defaults = write_law(self.model).defaults
        for name in ("v_unit", "w_scale"):
            if getattr(self, name) is None:
                object.__setattr__(self, name, defaults[name])
        if self.scheme is None:
            object.__setattr__(self, "scheme", WriteScheme(v_half=defaults["v_half"], gain=defaults["gain"],
                                                           tw=defaults["tw"]))
        s1 = np.asarray(self.states1, dtype=float)
        s2 = np.asarray(self.states2, dtype=float)
        if s1.ndim != 2 or s2.shape != s1.shape[::-1]:
            raise ConfigError(f"states2 must have the shape of states1 transposed {s1.shape[::-1]}, got {s2.shape}")
        for name, s in (("states1", s1), ("states2", s2)):
            if s.size == 0 or s.shape[0] > 64 or s.shape[1] > 64:
                raise ConfigError(f"{name} must have 1..64 rows and columns, got shape {s.shape}")
            if not np.all(np.isfinite(s)) or s.min() < 0 or s.max() > 1:
                raise ConfigError(f"{name} must hold states in [0, 1], got range "
                                  f"[{np.nanmin(s)!r}, {np.nanmax(s)!r}]")
        object.__setattr__(self, "states1", s1)
        object.__setattr__(self, "states2", s2)
        low, high = self.model.thresholds
        check_range("v_unit", self.v_unit, 0.0, min(-low, high), low_open=True, high_open=True)
        check_range("w_scale", self.w_scale, 0.0, 1000.0, low_open=True)
        if self.x_ref is None:
            object.__setattr__(self, "x_ref", operating_state(self.model))
        check_range("x_ref", self.x_ref, 0.0, 1.0)
        v_h = self.scheme.v_half
        if v_h >= min(-low, high):
            raise ConfigError(f"v_half must be below both thresholds ({min(-low, high)!r} V), got {v_h!r}")
        largest = max(float(overdrive(self.law, d, self.v_unit, self.x_ref, self.scheme.gain)) for d in DIRECTIONS)
        if largest >= v_h:
            raise ConfigError(f"gain * v_unit must stay below v_half ({v_h!r} V) so half-selected devices stay "
                              f"below threshold, got {largest!r} V")
        _check_signed_and_biases(self)

    @property
    def sizes(self) -> tuple[int, int]:
        """(N0, N1)."""
        return self.states1.shape[1], self.states1.shape[0]

    @property
    def law(self):
        """The model's write-law record (:func:`~recirc_analog.schematic.write_laws.write_law`)."""
        return write_law(self.model)

    @property
    def gain_up(self) -> float:
        """Column gain in the up direction (V/V for a linear rate; V per V^(1/alpha) for VTEAM's on rate):
        chosen so that both directions change a device at ``x_ref`` alike (``law.column_gains``)."""
        return self.law.column_gains(self.x_ref, self.scheme.gain)[0]

    @property
    def column_offsets(self) -> tuple[float, float]:
        """(up, down) column offsets (V, signed by the law's polarity): threshold minus ``v_half``, so a
        selected device sees its threshold plus the overdrive."""
        up, down = self.law.thresholds
        p = self.law.polarity
        return p * (up - self.scheme.v_half), p * (down - self.scheme.v_half)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(A1 (N1, N0), A2 (N0, N1)): the weights the crossbars read (unitless)."""
        law = self.law
        return (self.w_scale * law.weight(self.states1, self.x_ref),
                self.w_scale * law.weight(self.states2, self.x_ref))

    @property
    def times(self) -> dict[str, float]:
        """Phase edges (s), midway between time points: ``t0`` end of phase 0, ``t1`` end of phase 1,
        ``ta`` / ``tb`` start of write A / B, ``stop`` the analysis' end."""
        dt, n = self.scheme.dt, self.scheme.read_steps
        t0 = (n + 0.5) * dt
        t1 = t0 + n * dt
        ta = t1 + 2 * dt
        tb = ta + self.scheme.tw + 4 * dt
        times = {"t0": t0, "t1": t1, "ta": ta, "tb": tb, "stop": tb + self.scheme.tw + 4 * dt}
        if self.signed:         # write C and D (pre < 0) after A and B, ``tc`` / ``td`` their starts
            tc = times["stop"]
            td = tc + self.scheme.tw + 4 * dt
            times.update(tc=tc, td=td, stop=td + self.scheme.tw + 4 * dt)
        return times

    @property
    def signed(self) -> bool:
        """True when activities can be negative (tanh): the write then has sub-phases C and D for the rows
        whose held pre-synaptic activity is negative."""
        return self.activation == "tanh"

    @property
    def biases(self) -> bool:
        """True when each crossbar has a bias row."""
        return self.bias_states1 is not None

    @property
    def max_difference(self) -> float:
        """Largest post-synaptic difference ``|O(0) - O(m)|`` the activation allows (activity units): 1 for
        logistic, 2 for tanh."""
        return 2.0 if self.signed else 1.0

    def bias_weights(self) -> tuple[np.ndarray, np.ndarray]:
        """(b1 (N1,), b2 (N0,)): the biases the bias rows read, ``w_scale (x - x_ref)``; zeros without bias
        rows (unitless)."""
        if not self.biases:
            n0, n1 = self.sizes
            return np.zeros(n1), np.zeros(n0)
        return self.w_scale * (self.bias_states1 - self.x_ref), self.w_scale * (self.bias_states2 - self.x_ref)


ACTIVATIONS = ("logistic", "tanh")
"""The activations the in-circuit network's neurons realise (names of ``reference.activations``)."""

TANH_V_UNIT = 0.05
"""Default volts per unit of activity for tanh (V): half the logistic 0.1 V, so a post-synaptic difference
(up to 2 units) spans the same 0.1 V at the column drivers and the default gains keep half-selected devices
below threshold."""


def default_v_unit(activation: str) -> float:
    """Volts per unit of activity for ``activation`` (V): 0.1 for logistic, :data:`TANH_V_UNIT` for tanh."""
    return TANH_V_UNIT if activation == "tanh" else 0.1


def _check_signed_and_biases(net: InCircuitNetwork) -> None:
    """The activation, the bias rows' states and the half-select margin for signed differences."""
    if net.activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {net.activation!r}")
    if (net.signed or net.bias_states1 is not None or net.bias_states2 is not None) and not isinstance(net.model,
                                                                                                   Yakopcic):
        raise ConfigError(f"tanh and biases are built for the yakopcic memristor only, got {net.model.cell!r} "
                          f"with activation {net.activation!r} and bias rows {net.bias_states1 is not None}")
    n0, n1 = net.sizes
    given = (net.bias_states1 is not None, net.bias_states2 is not None)
    if given[0] != given[1]:
        raise ConfigError("bias_states1 and bias_states2 must be given together (both bias rows or none), got "
                          f"only bias_states{1 if given[0] else 2}")
    if net.biases:
        for name, shape in (("bias_states1", (n1,)), ("bias_states2", (n0,))):
            b = np.asarray(getattr(net, name), dtype=float)
            if b.shape != shape:
                raise ConfigError(f"{name} must have shape {shape}, got {b.shape}")
            if not np.all(np.isfinite(b)) or b.min() < 0 or b.max() > 1:
                raise ConfigError(f"{name} must hold states in [0, 1], got range [{np.nanmin(b)!r}, {np.nanmax(b)!r}]")
            object.__setattr__(net, name, b)
    if net.signed:
        if net.model.a1 != net.model.a2:
            raise ConfigError(f"tanh needs a1 == a2 (a read odd in the row voltage), got a1 = {net.model.a1!r}, "
                              f"a2 = {net.model.a2!r}")
        largest = max(net.gain_up, net.scheme.gain) * net.v_unit * net.max_difference
        if largest >= net.scheme.v_half:
            raise ConfigError(f"gain * v_unit * 2 (tanh: post-synaptic differences up to 2) must stay below v_half "
                              f"({net.scheme.v_half!r} V) so half-selected devices stay below threshold, got "
                              f"{largest!r} V (v_unit {TANH_V_UNIT} halves it)")


def check_model(model) -> None:
    """Refuse a compact model the in-circuit write has no write law for (``write_laws.WRITE_LAWS``)."""
    write_law(model)
