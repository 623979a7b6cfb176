"""Local rules: the update of every synapse computed from circuit readings only (docs/ARCHITECTURE.md §4).

A :class:`LocalRule` states which readings it needs (:class:`ReadingsNeeded`:
the held cycle-0 voltages, the cycle-n and the cycle-m voltages, and which
cycle pair) and computes the eta-free update from a :class:`Readings`. A
synapse may use only its own two neurons' readings: this is what makes the
rule physical. The controller takes any such rule; the default is
:func:`rule_for` of the circuit's recirculation scheme.

The arithmetic of recirculation is not written here: :class:`RecirculationLocalRule`
and the reference's :class:`~recirc_analog.reference.rules.RecirculationRule`
both call :func:`~recirc_analog.reference.rules.recirculation_directions`, so the
circuit and the reference cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from ..engines.readings import Readings
from ..errors import ConfigError
from ..reference import rules as reference_rules
from ..reference.recirculation import Recirculation
from ..reference.updates import Update

READING_KINDS = ("held", "early", "late")
"""Fields of :class:`Readings`: O^h(0) from the hold cells, O^h(n), O^h(m)."""


@dataclass(frozen=True)
class ReadingsNeeded:
    """Which readings a local rule uses."""

    kinds: tuple[str, ...]
    """A subset of :data:`READING_KINDS`."""
    cycles: tuple[int, int]
    """The cycle pair (n, m) that ``early`` and ``late`` must be read at."""

    def __post_init__(self):
        unknown = [k for k in self.kinds if k not in READING_KINDS]
        if unknown or not self.kinds:
            raise ConfigError(f"kinds must be a non-empty subset of {', '.join(READING_KINDS)}, got {self.kinds!r}")

    def satisfied_by(self, cycles: tuple[int, int]) -> bool:
        """True when readings taken at the cycle pair ``cycles`` hold everything needed."""
        n, m = cycles
        return (("early" not in self.kinds or n == self.cycles[0])
                and ("late" not in self.kinds or m == self.cycles[1]))


@runtime_checkable
class LocalRule(Protocol):
    """A learning rule a synapse computes from its own neurons' circuit readings."""

    name: str
    """Short name (reports)."""

    @property
    def needs(self) -> ReadingsNeeded:
        """The readings :meth:`directions` uses."""

    def directions(self, readings: Readings) -> Update:
        """The eta-free update of every layer (dA^h, db^h averaged over the batch) from ``readings``."""


@dataclass(frozen=True)
class RecirculationLocalRule:
    """Recirculation learning from readings: Eq. 23 / Theorem 6.3, error mode Eq. 18."""

    recirculation: Recirculation = Recirculation()
    """The scheme (mode and cycle pair) the circuit runs."""

    name = "rec"

    def __post_init__(self):
        if not isinstance(self.recirculation, Recirculation):
            raise ConfigError(f"recirculation must be a Recirculation, got {self.recirculation!r}")

    @property
    def needs(self) -> ReadingsNeeded:
        """Output modes: ``early`` and ``late``; error mode: ``held`` and ``late``."""
        kinds = ("held", "late") if self.recirculation.mode == "error" else ("early", "late")
        if self.recirculation.top_layer_in_use == "gradient":       # the top layer reads cycle 0
            kinds = ("held",) + kinds
        return ReadingsNeeded(kinds, self.recirculation.cycles)

    def directions(self, readings: Readings) -> Update:
        r = self.recirculation
        return reference_rules.recirculation_directions(r.mode, readings.held, readings.early, readings.late,
                                                        top_layer=r.top_layer_in_use, lam=r.lam)


def rule_for(recirculation: Recirculation) -> LocalRule:
    """The local rule that matches the circuit's recirculation scheme."""
    return RecirculationLocalRule(recirculation)


def check_rule(rule, recirculation: Recirculation) -> LocalRule:
    """``rule`` if it is a :class:`LocalRule` whose readings a circuit running ``recirculation`` takes;
    ConfigError otherwise."""
    if not isinstance(rule, LocalRule):
        raise ConfigError(f"rule must be a local rule with needs and directions(readings), "
                          f"got {type(rule).__name__}")
    if not rule.needs.satisfied_by(recirculation.cycles):
        raise ConfigError(f"rule {rule.name!r} needs readings at cycles {rule.needs.cycles}, "
                          f"but the circuit reads cycles {recirculation.cycles}")
    return rule
