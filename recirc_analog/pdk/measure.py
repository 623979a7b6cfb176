"""Waveform measurements for the cell characterisation: crossings, settling, unity gain,
bandwidth, linear range, slopes. Pure NumPy on sampled vectors (no ngspice), so each can be
checked against closed forms (``tests/test_sky130_measure.py``).

Every function takes the abscissa ``x`` (time in s, frequency in Hz or a swept voltage in V) and
the ordinate ``y`` as 1-d arrays of one length, ``x`` increasing.
"""

from __future__ import annotations

import numpy as np


def crossing(t, y, level: float, rising: bool, after: float = -np.inf) -> float:
    """First time at or after ``after`` where ``y`` crosses ``level`` upwards (``rising``) or
    downwards, interpolated linearly between samples; NaN if it never does."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    above = y >= level if rising else y <= level
    k = np.flatnonzero(~above[:-1] & above[1:] & (t[1:] >= after))
    if k.size == 0:
        return float("nan")
    i = k[0]
    return float(t[i] + (level - y[i]) * (t[i + 1] - t[i]) / (y[i + 1] - y[i]))


def settling_time(t, y, start: float, final: float, tolerance: float) -> float:
    """Time from ``start`` until ``y`` enters the band ``final +- tolerance`` for good
    (interpolated at the last exit), in s; 0 if it never leaves it after ``start``; inf if it is
    outside the band at the last sample."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    keep = t >= start
    t, err = t[keep], np.abs(y[keep] - final) - tolerance
    if err[-1] > 0:
        return float("inf")
    outside = np.flatnonzero(err > 0)
    if outside.size == 0:
        return 0.0
    i = outside[-1]
    t_in = t[i] + err[i] * (t[i + 1] - t[i]) / (err[i] - err[i + 1])
    return float(t_in - start)


def unity_gain(freq, h) -> tuple[float, float]:
    """(unity-gain frequency in Hz, phase margin in degrees) of an open-loop response ``h``
    (complex, positive DC gain): where |h| falls through 1 (log-log interpolation) and
    180 deg plus the unwrapped phase there. (NaN, NaN) if |h| never falls through 1."""
    freq, h = np.asarray(freq, float), np.asarray(h, complex)
    mag = np.log10(np.abs(h))
    k = np.flatnonzero((mag[:-1] >= 0) & (mag[1:] < 0))
    if k.size == 0:
        return float("nan"), float("nan")
    i = k[0]
    frac = mag[i] / (mag[i] - mag[i + 1])
    lf = np.log10(freq[i]) + frac * (np.log10(freq[i + 1]) - np.log10(freq[i]))
    phase = np.degrees(np.unwrap(np.angle(h)))
    return float(10 ** lf), float(180.0 + phase[i] + frac * (phase[i + 1] - phase[i]))


def bandwidth_3db(freq, h) -> float:
    """First frequency (Hz) where |h| falls below |h[0]| / sqrt(2) (log-log interpolation);
    NaN if it never does."""
    freq, mag = np.asarray(freq, float), np.abs(np.asarray(h, complex))
    level = np.log10(mag[0] / np.sqrt(2.0))
    m = np.log10(mag)
    k = np.flatnonzero((m[:-1] >= level) & (m[1:] < level))
    if k.size == 0:
        return float("nan")
    i = k[0]
    frac = (m[i] - level) / (m[i] - m[i + 1])
    return float(10 ** (np.log10(freq[i]) + frac * (np.log10(freq[i + 1]) - np.log10(freq[i]))))


def linear_range(x, y, slope: float, tolerance: float) -> tuple[float, float]:
    """(lowest, highest) value of ``y`` over the contiguous stretch around the middle of the
    sweep where the local slope dy/dx stays within ``tolerance`` (relative) of ``slope``; NaNs
    if the middle itself is outside."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    local = np.diff(y) / np.diff(x)
    good = np.abs(local / slope - 1.0) <= tolerance
    mid = len(good) // 2
    if not good[mid]:
        return float("nan"), float("nan")
    lo = mid
    while lo > 0 and good[lo - 1]:
        lo -= 1
    hi = mid
    while hi < len(good) - 1 and good[hi + 1]:
        hi += 1
    seg = y[lo:hi + 2]
    return float(seg.min()), float(seg.max())


def slope(t, y, start: float, stop: float) -> float:
    """Least-squares slope of ``y`` over ``start <= t <= stop`` (units of y per unit of t)."""
    t, y = np.asarray(t, float), np.asarray(y, float)
    keep = (t >= start) & (t <= stop)
    if np.count_nonzero(keep) < 2:
        return float("nan")
    return float(np.polyfit(t[keep] - start, y[keep], 1)[0])


def value_at(t, y, when: float) -> float:
    """``y`` interpolated linearly at ``when``."""
    return float(np.interp(when, np.asarray(t, float), np.asarray(y, float)))


def slope_at(x, y, where: float) -> float:
    """Central-difference derivative dy/dx at the sample nearest ``where``."""
    x, y = np.asarray(x, float), np.asarray(y, float)
    i = int(np.clip(np.argmin(np.abs(x - where)), 1, len(x) - 2))
    return float((y[i + 1] - y[i - 1]) / (x[i + 1] - x[i - 1]))
