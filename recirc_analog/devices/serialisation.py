"""Device records to and from JSON, and :func:`load_device` (a preset name or a ``.json`` file).

Every record is a JSON object with a ``"kind"`` tag (its class name) and its
fields; nested records nest. The round trip is exact (Python writes floats
with enough digits to read them back bit for bit).
"""

from __future__ import annotations

import json
from dataclasses import fields, is_dataclass
from pathlib import Path

from ..errors import ConfigError, DataError
from .drift import Drift
from .parameters import DeviceConfig
from .presets import DEVICE_PRESETS
from .programming import OpenLoopPulses, WriteVerify
from .pulsed import DeviceSpread, PulsedDevice
from .steps import ConstantStep, ExponentialStep, GainStep, LinearStep, PowerStep

RECORD_KINDS = {cls.__name__: cls for cls in (
    DeviceConfig, PulsedDevice, DeviceSpread, Drift, GainStep, ConstantStep, LinearStep, ExponentialStep,
    PowerStep, OpenLoopPulses, WriteVerify)}
"""``"kind"`` tag -> record class."""

MAX_DEVICE_JSON_BYTES = 1_000_000
"""Largest device file :func:`load_device` reads (bytes)."""


def device_to_json(record) -> dict:
    """``{"kind": <class name>, <field>: <value or nested record>}`` of a device record."""
    if not (is_dataclass(record) and type(record).__name__ in RECORD_KINDS):
        raise ConfigError(f"record must be one of {', '.join(RECORD_KINDS)}, got {type(record).__name__}")
    out = {"kind": type(record).__name__}
    for f in fields(record):
        value = getattr(record, f.name)
        out[f.name] = device_to_json(value) if is_dataclass(value) else value
    return out


def device_from_json(data: dict):
    """The record :func:`device_to_json` wrote (nested records by their ``"kind"``)."""
    if not isinstance(data, dict):
        raise ConfigError(f"a device record must be a JSON object, got {type(data).__name__}")
    kind = data.get("kind")
    if kind not in RECORD_KINDS:
        raise ConfigError(f"device record kind must be one of {', '.join(RECORD_KINDS)}, got {kind!r}")
    cls = RECORD_KINDS[kind]
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names - {"kind"})
    if unknown:
        raise ConfigError(f"{kind} has no field {unknown[0]!r} (fields: {', '.join(sorted(names))})")
    values = {key: device_from_json(value) if isinstance(value, dict) else value
              for key, value in data.items() if key != "kind"}
    try:
        return cls(**values)
    except TypeError as error:
        raise ConfigError(f"{kind}: {error}") from None


def load_device(text: str):
    """The device record named by ``text``: a preset of :data:`DEVICE_PRESETS` or a ``.json`` file."""
    if not isinstance(text, str) or not text:
        raise ConfigError(f"device must be a preset ({', '.join(DEVICE_PRESETS)}) or a .json file, got {text!r}")
    if text in DEVICE_PRESETS:
        return DEVICE_PRESETS[text]()
    path = Path(text)
    if path.suffix.lower() != ".json":
        raise ConfigError(f"device must be a preset ({', '.join(DEVICE_PRESETS)}) or a .json file, got {text!r}")
    try:
        if path.stat().st_size > MAX_DEVICE_JSON_BYTES:
            raise DataError(f"device file {text} is larger than {MAX_DEVICE_JSON_BYTES} bytes")
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"device file {text} does not exist") from None
    except (OSError, UnicodeDecodeError) as error:
        raise DataError(f"device file {text} cannot be read: {error}") from None
    except ValueError as error:
        raise DataError(f"device file {text} is not valid JSON: {error}") from None
    try:
        return device_from_json(data)
    except ConfigError as error:
        raise ConfigError(f"device file {text}: {error}") from None
