"""Configurations as plain data and back, so a run folder's summary.json says exactly what ran.

:func:`to_record` is :func:`dataclasses.asdict` (JSON then turns tuples into
lists); :func:`from_record` rebuilds the frozen configuration from such a
dict: nested configurations from the field types, lists as tuples. So
``from_record(CosimConfig, summary["config"]) == config`` for a cosim run, and
likewise for ``summary["spec"]`` (:class:`CircuitSpec`), ``summary["device"]``
and a train run's ``summary["config"]`` (:class:`TrainJob`).

Device records (``DeviceConfig``, ``PulsedDevice`` and their nested records) are
written kind-tagged by :func:`recirc_analog.devices.device_to_json`, wherever they
sit, and read back by their tag, so a field that may hold either kind (a train
job's ``device``) is unambiguous.
"""

from __future__ import annotations

import copy
import dataclasses
import types
import typing
from collections.abc import Mapping

from ..devices.serialisation import RECORD_KINDS, device_from_json, device_to_json
from ..errors import ConfigError, DataError


def _is_device(value) -> bool:
    return dataclasses.is_dataclass(value) and RECORD_KINDS.get(type(value).__name__) is type(value)


def to_record(config) -> dict:
    """The fields of a dataclass instance as nested dicts, lists and plain values
    (:func:`dataclasses.asdict`; device records kind-tagged by ``device_to_json``)."""
    if _is_device(config):
        return device_to_json(config)
    return {field.name: _plain(getattr(config, field.name)) for field in dataclasses.fields(config)}


def _plain(value):
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return to_record(value)
    if isinstance(value, (list, tuple)):
        return type(value)(_plain(item) for item in value)
    if isinstance(value, dict):
        return {key: _plain(item) for key, item in value.items()}
    return copy.deepcopy(value)


def from_record(cls, record: Mapping):
    """An instance of dataclass ``cls`` from :func:`to_record`'s output (or its JSON read back).

    Raises DataError naming the field when ``record`` has fields ``cls`` does not know; the
    class's own validation applies to the values.
    """
    if not isinstance(record, Mapping):
        raise DataError(f"{cls.__name__}: expected a mapping of its fields, got {type(record).__name__}")
    if "kind" in record and cls.__name__ in RECORD_KINDS:
        return _device(record, (cls,))
    hints = typing.get_type_hints(cls)
    known = {field.name for field in dataclasses.fields(cls) if field.init}
    unknown = sorted(set(record) - known)
    if unknown:
        raise DataError(f"{cls.__name__} has no field {', '.join(unknown)} (fields: {', '.join(sorted(known))})")
    return cls(**{name: _value(hints[name], value) for name, value in record.items()})


def _value(hint, value):
    if value is None:
        return None
    if isinstance(value, Mapping):
        devices = tuple(member for member in _members(hint) if getattr(member, "__name__", None) in RECORD_KINDS)
        if devices and "kind" in value:
            return _device(value, devices)
        classes = [member for member in _members(hint) if dataclasses.is_dataclass(member)]
        if len(classes) == 1:
            return from_record(classes[0], value)
        return dict(value)
    if isinstance(value, list):
        return _tuples(value)
    return value


def _device(record: Mapping, allowed: tuple) -> object:
    """The device record a kind-tagged mapping holds, which must be one of ``allowed``."""
    try:
        device = device_from_json(dict(record))
    except ConfigError as error:
        raise DataError(str(error)) from None
    if not isinstance(device, allowed):
        raise DataError(f"expected a {' or '.join(c.__name__ for c in allowed)} record, got {type(device).__name__}")
    return device


def _members(hint) -> tuple:
    """The alternatives of ``X | Y`` / ``Optional[X]``; ``(hint,)`` for any other type."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _tuples(value):
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
