"""The fallback ladder the engines climb when ngspice does not converge.

When an attempt fails with a convergence failure (see ``console``), the
engine re-runs the *same* netlist text with one more ``.options`` line
inserted before ``.end`` (a later ``.options`` overrides an earlier one, so
the netlist's own options stay in force except the ones a step changes).
The circuit is never regenerated. Steps, in order (:func:`default_ladder`):

1. ``more iterations``: Newton iteration limits raised (``itl1`` DC
   operating point, ``itl2`` DC sweep points, ``itl4`` transient points).
2. ``gmin stepping``: SPICE3's fixed ladder of 100 gmin steps instead of
   ngspice's dynamic stepping (``gminsteps=100``).
3. ``source stepping``: 100 source steps, no gmin stepping.
4. ``relaxed tolerances``: ngspice's default ``reltol=1e-3`` and looser
   absolute tolerances. This step trades accuracy for convergence (the
   circuits of this package run at ``reltol=1e-6``). A result from a step
   that sets any tolerance (:attr:`FallbackStep.relaxes_tolerances`) carries
   ``SimulationResult.relaxed = True``, so callers can refuse or flag it
   (the co-simulation refuses it unless told to accept it).

Each retry is logged (logger ``recirc_analog.engines``) and recorded in
``SimulationResult.attempts``; if all steps fail the SimulationError names
the batch label, every attempt, and quotes ngspice.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from ..errors import ConfigError, SimulationError
from .console import Failure
from .result import SimulationResult

logger = logging.getLogger("recirc_analog.engines")

#: Name of the first attempt, with the netlist exactly as given.
AS_WRITTEN = "as written"

_END_CARD = re.compile(r"^[ \t]*\.end[ \t]*$", re.I | re.M)
_OPTION_TEXT = re.compile(r"^[A-Za-z0-9_.=+\- ]+$")
#: ngspice options that set an accuracy tolerance: a step setting any of them may loosen it.
TOLERANCE_OPTIONS = frozenset({"reltol", "abstol", "vntol", "chgtol", "trtol"})


@dataclass(frozen=True)
class FallbackStep:
    """One rung of the ladder: a name and the options it adds."""

    name: str
    """Short name used in logs, ``SimulationResult.attempts`` and errors."""
    options: str
    """Text after ``.options``, e.g. ``"gminsteps=100 itl1=500"``."""

    def __post_init__(self):
        if not self.name.strip():
            raise ConfigError("FallbackStep.name must be a non-empty string, got ''")
        if not _OPTION_TEXT.match(self.options):
            raise ConfigError(
                "FallbackStep.options must be 'key=value' words on one line "
                f"(letters, digits, _ . = + -), got {self.options!r}")

    @property
    def relaxes_tolerances(self) -> bool:
        """True if the step sets an accuracy tolerance (one of :data:`TOLERANCE_OPTIONS`):
        its results may be less accurate than the netlist asked for."""
        return any(word.split("=", 1)[0].lower() in TOLERANCE_OPTIONS for word in self.options.split())


@dataclass(frozen=True)
class ConvergenceLadder:
    """The steps tried, in order, after the netlist as written fails to converge."""

    steps: tuple[FallbackStep, ...] = ()
    """Fallback steps; empty means: fail on the first non-convergence."""

    def __post_init__(self):
        for step in self.steps:
            if not isinstance(step, FallbackStep):
                raise ConfigError(
                    f"ConvergenceLadder.steps must hold FallbackStep objects, got {step!r}")


def default_ladder() -> ConvergenceLadder:
    """The four-step ladder documented in this module's docstring."""
    iterations = "itl1=500 itl2=500 itl4=50"
    return ConvergenceLadder(steps=(
        FallbackStep("more iterations", iterations),
        FallbackStep("gmin stepping", f"gminsteps=100 {iterations}"),
        FallbackStep("source stepping", f"gminsteps=0 srcsteps=100 {iterations}"),
        FallbackStep("relaxed tolerances",
                     "reltol=1e-3 abstol=1e-9 vntol=1e-4 itl1=1000 itl2=1000 itl4=100"),
    ))


def insert_options(netlist: str, options: str) -> str:
    """Return ``netlist`` with ``.options <options>`` inserted before its last ``.end``.

    Only a line that is exactly ``.end`` counts (not ``.ends`` / ``.endc``);
    without one the line is appended.
    """
    card = f".options {options}\n"
    ends = list(_END_CARD.finditer(netlist))
    if not ends:
        return netlist + ("" if netlist.endswith("\n") or not netlist else "\n") + card
    at = ends[-1].start()
    return netlist[:at] + card + netlist[at:]


def run_with_fallbacks(attempt: Callable[[str], SimulationResult | Failure], netlist: str,
                       ladder: ConvergenceLadder, label: str) -> SimulationResult:
    """Run ``attempt`` on the netlist, climbing ``ladder`` on non-convergence.

    ``attempt(text)`` runs ngspice once on ``text`` and returns the result
    or a :class:`Failure`. Failures other than non-convergence are raised at
    once. Returns the first result, with ``attempts``, ``label`` and
    ``relaxed`` (the producing step relaxes tolerances) filled in.
    """
    tried = []
    failure = None
    for step in (None, *ladder.steps):
        name = AS_WRITTEN if step is None else step.name
        if step is not None:
            logger.warning("batch %r: %s; retrying with %s (.options %s)",
                           label, failure.message, step.name, step.options)
        tried.append(name)
        outcome = attempt(netlist if step is None else insert_options(netlist, step.options))
        if isinstance(outcome, SimulationResult):
            relaxed = step is not None and step.relaxes_tolerances
            return replace(outcome, label=label, attempts=tuple(tried), relaxed=relaxed)
        failure = outcome
        if not failure.convergence:
            raise SimulationError(f"batch {label!r}: {failure.message}")
    raise SimulationError(
        f"batch {label!r}: ngspice did not converge after {len(tried)} attempt(s) "
        f"({', '.join(tried)}); last said: {failure.quote}")
