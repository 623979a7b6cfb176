"""Reading ngspice's console output: did a run fail, why, and what to quote.

ngspice reports most failures only as text (the shared library returns 0
from almost every call; batch mode exits 1 on some errors and 0 on others),
so both engines pass the run's stderr lines to :func:`diagnose`.

Measured on ngspice 39 (see tests/test_spice_*.py for the circuits):

- netlist errors: ``Error on line 4 or its substitute:`` / the offending
  line / the reason (``unknown parameter (xyz)``, ``could not find a valid
  modelname``), then ``Error: circuit not parsed.``;
- non-convergence: ``doAnalyses: TRAN:  Timestep too small; ...``,
  ``Error: Transient op failed, timestep too small``, ``no convergence``;
- a DC operating point that gmin *and* source stepping failed to find is
  then taken from ngspice's transient-op fallback ("optran", on by default
  in 39) which "finishes successfully" with values like 5e11 V for a circuit
  without a solution. ``Warning: source stepping failed`` is therefore
  treated as non-convergence, not as success.
- ``Warning: singular matrix:  check node x`` also appears in runs that
  recover, so it is quoted as context but is not a failure by itself.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

_NOISE = re.compile(
    r"^(trying gmin|supplies reduced|note: one successful|simulation interrupted due to error"
    r"|note: no resource usage|or no active circuit|note: no compatibility mode)", re.I)
_ERROR = re.compile(r"\berror\b", re.I)
_ABORTED = re.compile(r"simulation\(s\) aborted|circuit not parsed", re.I)
_WARNING_OR_ERROR = re.compile(r"\b(warning|error)\b.*", re.I)
_CONVERGENCE = re.compile(
    r"timestep too small|no convergence|source stepping failed|transient op failed"
    r"|iteration limit", re.I)
_SINGULAR = re.compile(r"singular matrix", re.I)
_ANALYSIS_TIME = re.compile(r"Total analysis time \(seconds\) = ([-+0-9.eE]+)")

#: How many lines after an anchor ending in ':' belong to the same message.
_CONTINUATION_LINES = 2


@dataclass(frozen=True)
class Failure:
    """Why one ngspice attempt failed (the engines turn it into SimulationError)."""

    kind: str
    """"convergence" (the fallback ladder may help), "error" (netlist or
    analysis error), "crash" or "timeout" (batch engine only)."""
    message: str
    """One line: what happened, quoting ngspice's own line(s)."""
    quote: str = ""
    """ngspice's own line(s) alone, ``|``-separated."""

    @property
    def convergence(self) -> bool:
        """True if a convergence fallback is worth trying."""
        return self.kind == "convergence"


def relevant_lines(lines) -> list[str]:
    """Strip ngspice's progress chatter (gmin / source steps) and blank lines."""
    kept = []
    for line in lines:
        text = line.strip()
        if _NOISE.match(text):
            # progress lines are not newline-terminated: "Supplies reduced to 50% Warning: ..."
            found = _WARNING_OR_ERROR.search(text)
            text = found.group(0) if found else ""
        if text:
            kept.append(text)
    return kept


def diagnose(stderr_lines) -> Failure | None:
    """Return the :class:`Failure` ngspice's stderr lines report, or None."""
    lines = relevant_lines(stderr_lines)
    if any(_CONVERGENCE.search(line) for line in lines):
        quote = quote_lines(lines)
        return Failure("convergence", f"ngspice did not converge: {quote}", quote)
    if any(_ERROR.search(line) or _ABORTED.search(line) for line in lines):
        quote = quote_lines(lines)
        return Failure("error", f"ngspice reported an error: {quote}", quote)
    return None


def quote_lines(lines) -> str:
    """The line(s) that best say what went wrong, joined by `` | ``.

    The anchor is the first ``Error`` line, else the first convergence
    line, else the first "aborted" line; an anchor ending with ':'
    (``Error on line 4 or its substitute:``) brings the next two lines
    (the offending netlist line and the reason).
    The first ``singular matrix`` line is added as context. Without an
    anchor, the last three lines are quoted.
    """
    lines = relevant_lines(lines)
    anchor = None
    for pattern in (_ERROR, _CONVERGENCE, _ABORTED):
        anchor = next((k for k, line in enumerate(lines) if pattern.search(line)), None)
        if anchor is not None:
            break
    if anchor is None:
        return " | ".join(lines[-3:]) or "(ngspice printed no message)"
    picked = [lines[anchor]]
    if lines[anchor].endswith(":"):
        picked += lines[anchor + 1: anchor + 1 + _CONTINUATION_LINES]
    singular = next((line for line in lines if _SINGULAR.search(line)), None)
    if singular is not None and singular not in picked:
        picked.append(singular)
    return " | ".join(picked)


def analysis_seconds(stdout_lines) -> float | None:
    """The last ``Total analysis time (seconds) = x`` ngspice printed, or None.

    Batch mode prints it once per run; in shared mode the ``rusage time``
    command prints the running total for the loaded circuit.
    """
    found = None
    for line in stdout_lines:
        match = _ANALYSIS_TIME.search(line)
        if match:
            found = float(match.group(1))
    return found
