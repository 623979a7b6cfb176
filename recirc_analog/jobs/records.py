"""Configurations as plain data and back, so a run folder's summary.json says exactly what ran.

:func:`to_record` is :func:`dataclasses.asdict` (JSON then turns tuples into
lists); :func:`from_record` rebuilds the frozen configuration from such a
dict: nested configurations from the field types, lists as tuples. So
``from_record(CosimConfig, summary["config"]) == config`` for a cosim run, and
likewise for ``summary["spec"]`` (:class:`CircuitSpec`), ``summary["device"]``
and a train run's ``summary["config"]`` (:class:`TrainJob`).
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Mapping

from ..errors import DataError


def to_record(config) -> dict:
    """The fields of a dataclass instance as nested dicts, lists and plain values."""
    return dataclasses.asdict(config)


def from_record(cls, record: Mapping):
    """An instance of dataclass ``cls`` from :func:`to_record`'s output (or its JSON read back).

    Raises DataError naming the field when ``record`` has fields ``cls`` does not know; the
    class's own validation applies to the values.
    """
    if not isinstance(record, Mapping):
        raise DataError(f"{cls.__name__}: expected a mapping of its fields, got {type(record).__name__}")
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
        classes = [member for member in _members(hint) if dataclasses.is_dataclass(member)]
        if len(classes) == 1:
            return from_record(classes[0], value)
        return dict(value)
    if isinstance(value, list):
        return _tuples(value)
    return value


def _members(hint) -> tuple:
    """The alternatives of ``X | Y`` / ``Optional[X]``; ``(hint,)`` for any other type."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return typing.get_args(hint)
    return (hint,)


def _tuples(value):
    return tuple(_tuples(item) for item in value) if isinstance(value, list) else value
