"""The sky130 cells' own noise from ngspice's small-signal ``.noise`` analysis (issue 12).

ngspice linearises a cell at its operating point and sums, at each frequency, every noisy
element's density at the output: the BSIM4 transistors' channel thermal and flicker noise, and
the resistors' 4kTR (a resistor written ``noisy=0`` adds none). This module writes the
``.noise`` cards and integrates the output densities; the netlists that carry them are in
:mod:`.testbenches` (the cells' testbenches, and the co-simulation's live and held chains), and
running ngspice is the caller's (the ``characterise`` job for the datasheet,
``recirc_analog.cosim.periphery_noise`` for the learning-signal floor).

Bandwidth: a cell's output is read as one sample at the end of a phase, not averaged, so the
sample's variance is the output density integrated over every frequency the cell passes: the
upper limit :data:`NOISE_F_HIGH` = 1 GHz lies beyond every cell's own poles (they shape the
density; the few hundred MHz of unity-gain bandwidth and the 1 pF loads roll it off), so no
extra brick-wall filter is assumed. The lower limit is 1 / (the run's duration in circuit
time): slower noise is a constant offset over the run. The datasheet uses
:data:`NOISE_F_LOW` = 1 kHz, a run of 1 ms (a few hundred minibatches of 1 us phases); the
flicker part grows only as the square root of the log of the band, so a run 1000 times longer
adds sqrt(ln(1e6) / ln(1e3)) - 1 = 41 % at most to a purely 1/f noise.

:func:`band_power` integrates a sampled density exactly for any density that is a power of the
frequency between samples (white, 1/f, the 1/f^2 tail of a pole), which
``tests/test_periphery_noise.py`` checks against 4kTR*B and kT/C from ngspice itself.
"""

from __future__ import annotations

import numpy as np

from ..errors import ConfigError, check_range

NOISE_F_LOW = 1e3
"""Lower end of the integrated band (Hz): 1 / (1 ms of circuit time, the run)."""
NOISE_F_HIGH = 1e9
"""Upper end (Hz): beyond the cells' own poles, which set the noise bandwidth."""
NOISE_POINTS = 20
"""Frequency points per decade of the ``.noise`` analyses (10 with ``quick``)."""


def noise_card(output: str, source: str, f_low: float = NOISE_F_LOW, f_high: float = NOISE_F_HIGH,
               points: int = NOISE_POINTS, reference: str | None = None) -> str:
    """A ``.noise`` card: the density of ``v(output[, reference])`` from ``f_low`` to ``f_high``
    (Hz), ``points`` per decade; ``source`` (an independent source with an ``ac`` value) is the
    input ngspice refers the noise to. Names must already have passed the name gate."""
    check_range("f_low (Hz)", f_low, 0, None, low_open=True)
    check_range("f_high (Hz)", f_high, f_low, None, low_open=True)
    if not isinstance(points, int) or points < 1:
        raise ConfigError(f"points must be an integer >= 1 per decade, got {points!r}")
    node = output if reference is None else f"{output},{reference}"
    return f".noise v({node}) {source} dec {points} {f_low:g} {f_high:g}"


def band_power(freq, density, f_low: float | None = None, f_high: float | None = None) -> float:
    """Integral of ``density**2`` over ``f_low <= f <= f_high``: the variance (V^2 or A^2) of a
    noise whose one-sided amplitude density (V/sqrt(Hz) or A/sqrt(Hz), ngspice's
    ``onoise_spectrum``) is sampled at ``freq`` (Hz, increasing, > 0), shape (n,) each.

    Between samples the power density is taken as a power law ``S(f) = S_k (f / f_k)^a``
    through both ends, which is exact for white noise, 1/f noise and the f^-2 tail of a single
    pole; limits default to the sampled range and may cut inside it (never outside)."""
    freq = np.asarray(freq, float)
    power = np.asarray(density, float) ** 2
    if freq.ndim != 1 or freq.shape != power.shape or freq.size < 2:
        raise ConfigError(f"freq and density must be 1-d arrays of one length >= 2, got shapes {freq.shape} "
                          f"and {power.shape}")
    if not (np.all(freq > 0) and np.all(np.diff(freq) > 0)):
        raise ConfigError("freq must be positive and increasing")
    f_low = freq[0] if f_low is None else float(f_low)
    f_high = freq[-1] if f_high is None else float(f_high)
    check_range("f_low (Hz)", f_low, freq[0] * (1 - 1e-12), f_high)
    check_range("f_high (Hz)", f_high, f_low, freq[-1] * (1 + 1e-12))
    total = 0.0
    for k in range(freq.size - 1):
        a, b = max(freq[k], f_low), min(freq[k + 1], f_high)
        if b <= a:
            continue
        s0, s1 = power[k], power[k + 1]
        if s0 <= 0 or s1 <= 0:                       # a zero sample: linear between the two
            slope = (s1 - s0) / (freq[k + 1] - freq[k])
            total += (s0 - slope * freq[k]) * (b - a) + 0.5 * slope * (b * b - a * a)
            continue
        exponent = np.log(s1 / s0) / np.log(freq[k + 1] / freq[k])
        lo, hi = a / freq[k], b / freq[k]                # ratios within one segment: no overflow
        if abs(exponent + 1) < 1e-9:
            total += s0 * freq[k] * np.log(hi / lo)
        else:
            total += s0 * freq[k] * (hi ** (exponent + 1) - lo ** (exponent + 1)) / (exponent + 1)
    return float(total)


def band_rms(freq, density, f_low: float | None = None, f_high: float | None = None) -> float:
    """sqrt(:func:`band_power`): the rms noise (V or A) in the band."""
    return float(np.sqrt(band_power(freq, density, f_low, f_high)))


def noise_rms(plots: dict, f_low: float = NOISE_F_LOW, f_high: float = NOISE_F_HIGH) -> float:
    """The rms output noise (V) of a testbench's one ``.noise`` analysis: ``plots`` maps plot
    names' first words (lower case) to vectors, as :func:`recirc_analog.jobs.characterise.run_testbench`
    returns them; the spectrum is the ``noise`` plot's ``onoise_spectrum``."""
    spectrum = plots["noise"]
    return band_rms(np.real(spectrum["frequency"]), np.real(spectrum["onoise_spectrum"]), f_low, f_high)

