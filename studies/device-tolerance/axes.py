"""The device-tolerance study's devices: one baseline and one axis per non-ideality (the one source).

Every swept device is the baseline with one parameter changed, so each axis isolates one
non-ideality. The baseline is a near-ideal pulsed device: a constant step of 1e-4 of the
conductance window per pulse (10,000 steps g_min..g_max) programmed with the stochastic pulse
coincidence of Gokmen & Vlasov (2016, 31-slot trains; small updates survive in expectation),
no noise, no spread, no drift, no stuck devices. ``write_devices`` writes each record as
``devices/<axis>-<value>.json`` (``device_to_json``), the files the study's ``device`` grid
names; ``ideal`` (the preset: every change exact) is swept beside them as the reference.

Units: step sizes, read noise and bound spreads are fractions of the window span
g_max - g_min; cycle-to-cycle noise is relative to one pulse; drift exponents are unitless
(power law from t0 = 20 s after programming, with the study's 1 s of device time per
minibatch); stuck fractions are of all devices, half at g_min and half at g_max.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from recirc_analog.devices import ConstantStep, DeviceSpread, Drift, OpenLoopPulses, PulsedDevice, device_to_json

BASE_STEP = 1e-4
"""The baseline's pulse, relative to the window span."""

BASE = PulsedDevice(step=ConstantStep(dw_min=BASE_STEP), programming=OpenLoopPulses(stochastic=True, bit_length=31))
"""The baseline device (module docstring)."""


def levels(n: int) -> PulsedDevice:
    """``n`` evenly spaced states, one pulse = one state (a step of 1 / (n - 1) of the span)."""
    return replace(BASE, levels=n, step=ConstantStep(dw_min=1.0 / (n - 1)))


def cycle_noise(sigma: float) -> PulsedDevice:
    """Every pulse multiplied by ``1 + sigma N(0, 1)``."""
    return replace(BASE, dw_min_std=sigma)


def asymmetry(a: float) -> PulsedDevice:
    """Up pulses ``(1 + a)`` steps, down pulses ``(1 - a)``."""
    return replace(BASE, step=ConstantStep(dw_min=BASE_STEP, up_down=a))


def spread(s: float) -> PulsedDevice:
    """Device-to-device spread: step size (log-normal, relative std ``s``), asymmetry (std ``0.1 s``)
    and each device's own bounds (each end shrunk by ``|N(0, 0.1 s)|`` of the span)."""
    return replace(BASE, spread=DeviceSpread(dw_min=s, up_down=0.1 * s, bounds=0.1 * s))


def stuck(f: float) -> PulsedDevice:
    """A fraction ``f`` of all devices stuck, half at g_min and half at g_max."""
    return replace(BASE, stuck_min=f / 2, stuck_max=f / 2)


def read_noise(sigma: float) -> PulsedDevice:
    """Every read adds ``sigma N(0, 1)`` of the span, fresh per read."""
    return replace(BASE, read_noise=sigma)


def drift(nu: float) -> PulsedDevice:
    """Power-law drift ``(t / t0)^-nu`` with a device-to-device spread of nu (std ``nu / 5``)."""
    return replace(BASE, drift=Drift(nu_mean=nu, nu_std=nu / 5, t0=20.0))


AXES = {
    "levels": (levels, [4, 16, 64, 256, 1024]),
    "cycle_noise": (cycle_noise, [1.0, 3.0, 10.0]),
    "asymmetry": (asymmetry, [0.1, 0.3, 0.6]),
    "spread": (spread, [0.3, 1.0, 2.0]),
    "stuck": (stuck, [0.03, 0.1, 0.3]),
    "read_noise": (read_noise, [0.001, 0.003, 0.01]),
    "drift": (drift, [0.02, 0.05, 0.1]),
}
"""Axis name -> (record of one value, the values swept)."""

AXIS_LABELS = {
    "levels": "states per device (one pulse = one state)",
    "cycle_noise": "cycle-to-cycle noise (std of one pulse, relative)",
    "asymmetry": "up/down asymmetry a (up 1+a, down 1-a)",
    "spread": "device-to-device spread s (step, asymmetry 0.1 s, bounds 0.1 s)",
    "stuck": "stuck fraction (half at g_min, half at g_max)",
    "read_noise": "read noise (std per read, fraction of the span)",
    "drift": "drift exponent nu (mean; std nu/5; 1 s per minibatch)",
}
"""Axis name -> the label of its plot's x axis."""


def file_name(axis: str, value) -> str:
    """``devices/<axis>-<value>.json`` relative to the study folder (``base.json`` for the baseline)."""
    return f"devices/{axis}-{value:g}.json"


def device_files() -> dict[str, tuple[str, float | None, PulsedDevice]]:
    """Relative file name -> (axis, value, record); the baseline is axis ``base``, value None."""
    files = {"devices/base.json": ("base", None, BASE)}
    for axis, (make, values) in AXES.items():
        for value in values:
            files[file_name(axis, value)] = (axis, value, make(value))
    return files


def write_devices(study: Path) -> list[Path]:
    """Write every device record under ``study/devices/``; return their paths (baseline first)."""
    (study / "devices").mkdir(parents=True, exist_ok=True)
    paths = []
    for name, (_, _, record) in device_files().items():
        path = study / name
        path.write_text(json.dumps(device_to_json(record), indent=1, sort_keys=True) + "\n")
        paths.append(path)
    return paths
