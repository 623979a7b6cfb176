"""Seeded thermal noise of the tran form: kT/C on the hold capacitors, 4kTG of the crossbar devices.

Why not ngspice's ``trnoise``: ngspice 39 draws its transient-noise samples from a
generator seeded at start-up (measured: ``.options seed=N`` in the netlist, ``-D
rndseed=N``, and ``set rndseed`` / ``option seed`` / ``setseed`` in a ``.spiceinit``
all gave different samples on every run of one netlist), so a run could not be
repeated from its seed. The samples are therefore drawn here, from
``numpy.random.default_rng(seed)``, and written as a :class:`NoiseSource`: a
behavioural source of ``time`` holding one Gaussian sample per simulator step (a
staircase, ``pwl(time, ...)``, no breakpoints), which is what ``trnoise(NA NT)``
would be with ``NT`` = one step, minus the interpolation.

The model (``step`` = the tran form's maximum step, ``phase / steps_per_phase``):

kT/C of a hold
    The switch's thermal noise, filtered by ``r_on * c_hold`` (much shorter than a
    step), leaves the variance ``k T / C`` on the capacitor when it opens, whatever
    r_on is. Modelled as a voltage source in series with the hold's input (node
    ``nz_<cap>``) whose samples have variance ``k T / C``: the capacitor tracks input +
    noise and holds the last sample of its tracking phase.
4kTG of the devices
    Each device's thermal current has the one-sided density ``4 k T G``; the devices on
    one column line are independent, so one current source per column line into its
    virtual ground carries the sum, density ``4 k T sum_j G_j``. Sampled once per step,
    a white sequence of variance ``sigma^2`` has the one-sided density ``2 sigma^2 step``
    up to ``B = 1 / (2 step)``: ``sigma^2 = 4 k T G B``. The noise bandwidth is thus the
    simulator's Nyquist band ``B``: the ideal transimpedance stages have no bandwidth of
    their own (a physical TIA's would replace B).

Ideal, not modelled in the simulated (transient) noise: the op-amps' and buffers' own noise,
flicker noise, shot noise, the switches' charge injection. The direct engine refuses circuits
with noise sources.

The closed-form floor (:func:`noise_floor`, the learning-signal metrics) is the power sum of
named parts (:func:`noise_floor_parts`): ``ktc`` and ``devices`` as above, and, with the sky130
periphery, ``periphery``: the transistor cells' own noise (BSIM4 channel thermal and flicker
noise of the TIAs, the differential-pair neuron and the hold buffers, and their bias / load /
feedback resistors' 4kTR), from ngspice's small-signal ``.noise`` at each stage's zero-signal
operating point, integrated from 1 / (1 ms run) to 1 GHz (``recirc_analog.pdk.noise``): a
:class:`PeripheryNoise` the caller passes in (this layer runs no simulator). Physical there:
those transistor and resistor noises, at the run's corner, temperature, feedback resistance and
column conductances. Still not modelled: noise at other operating points than zero signal,
mismatch, supply and clock noise, the switches' charge-injection noise, noise carried from one
layer into the next, and the periphery's noise inside the transient itself (the simulated
noise sources above cover the holds and the devices only).
"""

import hashlib
from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.schematic.elements import Branch, ElementBase, register_element

BOLTZMANN = 1.380649e-23
"""Boltzmann constant k (J/K), exact in the 2019 SI."""

QUANTITIES = ("voltage", "current")


@register_element
@dataclass(frozen=True)
class NoiseSource(ElementBase):
    """A staircase of seeded noise samples, a behavioural source of ``time``.

    Sample n holds on ``[start + n * step, start + (n + 1) * step)``; before the first
    window it is sample 0, after the last the last sample. A ``voltage`` source sets
    ``v(pos) - v(neg)`` (V); a ``current`` source drives the current (A) from ``pos``
    through itself to ``neg``.
    """

    name: str
    """Element name (a behavioural source: starts with B)."""
    pos: str
    neg: str
    quantity: str
    """``voltage`` or ``current``."""
    start: float
    """Time (s) of the first window's start."""
    step: float
    """Window length (s): the simulator's maximum step."""
    values: tuple[float, ...]
    """The samples (V or A)."""

    kind = "noise_source"

    def __post_init__(self):
        if self.quantity not in QUANTITIES:
            raise ConfigError(f"quantity must be one of {', '.join(QUANTITIES)}, got {self.quantity!r}")

    def branches(self, cells):
        """A voltage source is a source branch; a current source touches its nodes without a DC
        path between them, which the graph checks call a ``capacitor`` branch."""
        return (Branch(self.pos, self.neg, "source" if self.quantity == "voltage" else "capacitor"),)

    def parameters(self):
        return ((f"start of {self.name}", self.start), (f"step of {self.name}", self.step)) + tuple(
            (f"sample of {self.name}", v) for v in self.values)

    def points(self) -> tuple[tuple[float, float], ...]:
        """(time, value) corners of the staircase: each sample flat over its window, a ramp of
        1e-3 of a step at every window edge (no time point of the fixed step lands there)."""
        edge = 1e-3 * self.step
        corners = []
        for n, value in enumerate(self.values):
            low, high = self.start + n * self.step, self.start + (n + 1) * self.step
            corners += [(low + edge, value), (high - edge, value)]
        return tuple(corners)


@dataclass(frozen=True)
class NoiseModel:
    """Where the samples come from and how long they run."""

    temperature: float
    """Noise temperature T (K)."""
    step: float
    """Window length (s), the simulator's maximum step."""
    start: float
    """Start (s) of the first window: a phase edge, so that windows tile every phase."""
    windows: int
    """Number of windows (samples per source), covering the whole analysis."""
    rng: np.random.Generator
    """Draws every sample, in the order the sources are made."""

    @property
    def bandwidth(self) -> float:
        """B = 1 / (2 step) (Hz): the band of the sampled white noise."""
        return 0.5 / self.step

    def ktc_sigma(self, capacitance: float) -> float:
        """sqrt(k T / C) (V): the standard deviation of the charge a capacitor C (F) holds."""
        return float(np.sqrt(BOLTZMANN * self.temperature / capacitance))

    def thermal_sigma(self, conductance: float) -> float:
        """sqrt(4 k T G B) (A): the standard deviation of a conductance G's (S) thermal current."""
        return float(np.sqrt(4 * BOLTZMANN * self.temperature * conductance * self.bandwidth))

    def source(self, name: str, pos: str, neg: str, quantity: str, sigma: float) -> NoiseSource:
        """A :class:`NoiseSource` of ``windows`` independent N(0, sigma^2) samples."""
        values = self.rng.normal(0.0, sigma, self.windows)
        return NoiseSource(name, pos, neg, quantity, self.start, self.step, tuple(float(v) for v in values))


def noise_model(spec, stop: float, inputs: np.ndarray) -> NoiseModel:
    """The noise model of ``spec`` (a tran-form CircuitSpec with ``noise``) for an analysis ending at
    ``stop`` (s): windows of one maximum step from the first phase's start to past ``stop``.

    The samples are drawn from ``spec.noise_seed`` and a digest of the batch ``inputs``: the same
    seed and batch give the same circuit, and the minibatches of one run (one seed) get independent
    noise without the caller passing a per-batch seed."""
    clock = spec.clock
    step = clock.phase / clock.steps_per_phase
    start = -0.5 * clock.phase
    windows = int(np.ceil((stop - start) / step)) + 1
    digest = hashlib.sha256(np.ascontiguousarray(inputs, dtype="<f8").tobytes()).digest()
    entropy = [spec.noise_seed, int.from_bytes(digest[:8], "little")]
    return NoiseModel(spec.temperature, step, start, windows, np.random.default_rng(entropy))


def hold_input(model: NoiseModel | None, signal: str, cap: str, c_hold: float) -> tuple[list, str]:
    """(elements, node) feeding a hold whose capacitor node is ``cap``: nothing and ``signal``
    without noise, else the kT/C source ``Bnz_<cap>`` from ``signal`` to ``nz_<cap>``."""
    if model is None:
        return [], signal
    node = f"nz_{cap}"
    return [model.source(f"Bnz_{cap}", node, signal, "voltage", model.ktc_sigma(c_hold))], node


def column_noise(model: NoiseModel, columns, conductances) -> list:
    """Current sources ``Bnz_<column>`` from each column line (node) into ground... carrying the
    4kTG noise of the devices on it; ``conductances``: (columns,) total device conductance (S)."""
    return [model.source(f"Bnz_{column}", "0", column, "current", model.thermal_sigma(float(g)))
            for column, g in zip(columns, conductances)]


@dataclass(frozen=True)
class PeripheryNoise:
    """The transistor periphery's own noise at the two points the learning signal reads, as
    ngspice's ``.noise`` analysis gives it (``recirc_analog.cosim.periphery_noise`` runs it for
    ``--periphery sky130``): rms volts integrated over ``band``, without the parts the floor
    already has (the hold's kT/C, the crossbar devices' 4kTG)."""

    held: float
    """V rms at a hold's output from its buffer (the sample-and-hold's op-amp)."""
    live: tuple[float, ...]
    """V rms at layer h's neuron output (index h - 1, layers 1..L) from its two transimpedance
    stages and its activation stage, at the layer's feedback resistance and column conductances."""
    band: tuple[float, float]
    """(f_low, f_high) (Hz) the densities were integrated over."""


FLOOR_PARTS = ("ktc", "devices", "periphery")
"""The named parts of :func:`noise_floor_parts`, independent sources summed in power."""


def noise_floor_parts(spec, conductances, r_f: float, scales, periphery: PeripheryNoise | None = None) -> dict:
    """The parts of :func:`noise_floor` by source, each a standard deviation (activity units) per
    layer 0..L, shape (L + 1,): ``ktc`` (the holds), ``devices`` (the crossbar's thermal current
    through the transimpedance gain) and ``periphery`` (the transistor cells' own noise,
    :class:`PeripheryNoise`; zeros without it, the ideal periphery's op-amps being noiseless).

    Held: ``sqrt(k T / C) / scale_h`` and the hold buffer's ``periphery.held / scale_h``. Live:
    layers h >= 1 the thermal current of the devices on the neuron's two column lines (plus and
    minus, or its column and the reference column) through the transimpedance gain
    ``r_f * scale_h / scale_{h-1}``, ``gain * sqrt(4 k T B sum G) / scale_h``, with the
    activation's slope taken as 1 (an upper bound for tanh and logistic), and the periphery's
    ``live[h - 1] / scale_h``; layer 0 (the recirculated vector comes from a hold) another
    held reading. Not included: noise carried from one layer into the next. ``conductances``:
    layer h's Conductances (S) at index h - 1; ``scales``: volts per unit activity of layers
    0..L; ``B = steps_per_phase / (2 phase)``.
    """
    kt = BOLTZMANN * spec.temperature
    bandwidth = 0.5 * spec.clock.steps_per_phase / spec.clock.phase
    held_volts = np.sqrt(kt / spec.sample_hold.c_hold)
    buffer_volts = 0.0 if periphery is None else float(periphery.held)
    if periphery is not None and len(periphery.live) != len(conductances):
        raise ConfigError(f"periphery noise must have one live value per layer ({len(conductances)}), "
                          f"got {len(periphery.live)}")
    parts = {"ktc": [np.sqrt(2.0) * held_volts / scales[0]], "devices": [0.0],
             "periphery": [np.sqrt(2.0) * buffer_volts / scales[0]]}
    for h, g in enumerate(conductances, start=1):
        other = g.minus.sum(axis=1) if g.minus is not None else np.full(g.plus.shape[0], g.reference.sum())
        worst = float(np.max(g.plus.sum(axis=1) + other))
        live_volts = r_f * scales[h] / scales[h - 1] * np.sqrt(4 * kt * bandwidth * worst)
        stages = 0.0 if periphery is None else float(periphery.live[h - 1])
        parts["ktc"].append(held_volts / scales[h])
        parts["devices"].append(live_volts / scales[h])
        parts["periphery"].append(np.hypot(buffer_volts, stages) / scales[h])
    return {name: np.array(values, dtype=float) for name, values in parts.items()}


def noise_floor(spec, conductances, r_f: float, scales, periphery: PeripheryNoise | None = None) -> np.ndarray:
    """Standard deviation (activity units) of the noise in one reading of held minus live, per layer
    0..L, shape (L + 1,): from each layer's own sources, first order; the power sum of
    :func:`noise_floor_parts` (kT/C of the holds, 4kTG of the devices and, given ``periphery``,
    the transistor cells' own noise), whose docstring says how each is computed."""
    parts = noise_floor_parts(spec, conductances, r_f, scales, periphery)
    return np.sqrt(sum(part ** 2 for part in parts.values()))
