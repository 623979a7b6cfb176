"""Exception hierarchy: every error a user can cause or meet has its own type.

The command line turns :class:`UsageError` (and its subclasses) into exit
code 2 and every other :class:`RecircError` into exit code 1, always as a
one-line message, never a traceback.
"""


class RecircError(Exception):
    """Base class of all errors raised by recirc-analog on purpose."""


class UsageError(RecircError):
    """Bad arguments or configuration; the message names the parameter."""


class ConfigError(UsageError, ValueError):
    """A parameter is out of range or of the wrong shape.

    Messages name the parameter, the allowed range and the value received,
    for example ``lam must be in [0, 1], got 1.5``.
    """


class DataError(RecircError):
    """A data file is missing, corrupt, truncated or does not match its checksum."""


class DivergenceError(RecircError):
    """Training produced NaN / inf or a loss beyond the divergence bound.

    The trainer raises it after restoring the last good state.
    """


class SetupError(RecircError):
    """A required external tool (ngspice, libngspice) is missing or unusable."""


class NetlistError(RecircError):
    """A circuit failed validation (floating node, illegal name, source loop...)."""


class SimulationError(RecircError):
    """ngspice failed; the message names the batch and quotes ngspice's own line."""


class OutputError(RecircError):
    """An output folder or file cannot be written (a file in the way, a full disk, a folder in use)."""


class Terminated(RecircError):
    """The process received SIGTERM; the job stopped cleanly (the command exits with 143)."""


def check_range(name: str, value, low=None, high=None, *, low_open=False, high_open=False):
    """Raise :class:`ConfigError` unless ``low <= value <= high``.

    ``low_open`` / ``high_open`` make the bound strict. Returns ``value`` so
    it can be used inline in constructors.
    """
    import math

    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ConfigError(f"{name} must be a number, got {value!r}") from None
    bad = math.isnan(x)
    if low is not None:
        bad = bad or (x <= low if low_open else x < low)
    if high is not None:
        bad = bad or (x >= high if high_open else x > high)
    if bad:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        interval = ("(" if low_open or low is None else "[") + f"{lo}, {hi}" + (
            ")" if high_open or high is None else "]")
        raise ConfigError(f"{name} must be in {interval}, got {value!r}")
    return value
