"""ngspice through its shared library, in this process.

Each run hands the netlist text to libngspice (``ngSpice_Circ``), runs it and
reads the vectors straight from ngspice's memory: no process start, no raw
file written and read back. Measured (benchmarks/bench_engine.py,
RESULTS_engine.md): wall time per run 1.00-1.06 x ngspice's own analysis
time, vs 1.24 (784-20-784) to 2.2 (64-16-64) for the batch engine.

No ``alter``: keeping the co-simulation's circuit loaded and altering every
device would not pay. The inputs of a batch are ``pwl`` tables in B-sources,
which ngspice cannot alter (only a re-parse changes them), and altering every
device costs about as much as the parse it would save (RESULTS_engine.md,
"Shared engine in the co-simulation").

Binding: a small ctypes binding of our own (``libngspice``), not PySpice's
``NgSpiceShared``. Measured on the 784-20-784 crossbar (62,720 resistors,
100-point ``.dc``): load and run the same (it is ngspice's time), reading
785 vectors 2.8-3.0 vs 3.4-3.6 ms, start-up 4-7 ms vs 27-35 ms (PySpice's
import). Beyond speed: PySpice is an optional dependency, warns "Unsupported
Ngspice version 39", and does not hand back each command's stderr lines,
which we need to quote ngspice; and we need our own exit callback (below).

One circuit per process: libngspice is global state. Only one SharedEngine
may be open per process at a time (a second one raises UsageError until the
first is closed or garbage-collected); closing removes its circuit and
plots, so engines can follow one another in one process. For parallel work use processes (the
batch engine, or one SharedEngine per worker process), never threads. A
``quit`` or fatal error inside ngspice detaches the library for the rest of
the process (SimulationError from then on). A segfault inside ngspice kills
the process: use the batch engine when crash isolation matters.

Convergence fallbacks (``convergence``) reload the netlist text with extra
``.options``; the next run reloads the netlist as written, so a fallback
never outlives its batch.
"""

from __future__ import annotations

import os
import re
import tempfile

from ..errors import NetlistError, SimulationError, UsageError
from .circuit_run import check_cycle_mode
from .console import Failure, analysis_seconds, diagnose, quote_lines, relevant_lines
from .convergence import ConvergenceLadder, default_ladder, run_with_fallbacks
from .libngspice import shared_library
from .result import SimulationResult
from .workdir import absolute_includes, working_directory

_END_CARD = re.compile(r"^\s*\.end\s*$", re.I)
_EXTERNAL_SOURCE = re.compile(r"^\s*[VI]\S*\s.*\bexternal\b", re.I | re.M)


class SharedEngine:
    """Simulates with libngspice in this process, keeping the circuit loaded.

    Parameters
    ----------
    library : str or None
        Path or name of libngspice; None finds ``libngspice.so``.
    ladder : ConvergenceLadder or None
        Fallbacks on non-convergence; None means :func:`default_ladder`.
    cycle_mode : {"auto", "per-layer", "per-cycle", "unrolled"}
        How :meth:`readings` cuts a dc-form circuit into analyses, as for the batch engine
        (:class:`~recirc_analog.engines.batch.BatchEngine`; ``engines.circuit_run``).
    """

    name = "shared"

    def __init__(self, *, library: str | None = None, ladder: ConvergenceLadder | None = None,
                 cycle_mode: str = "auto"):
        self.library = library
        self.cycle_mode = check_cycle_mode(cycle_mode)
        self.ladder = default_ladder() if ladder is None else ladder
        self._lib = shared_library(library)
        self._lib.check_alive()
        self._lib.acquire(self)
        self.version = self._lib.version
        self._closed = False
        self._netlist: str | None = None      # as given to load()
        self._loaded: str | None = None       # text in ngspice now (may carry fallback options)
        self._seconds_so_far = 0.0            # ngspice's running analysis time for the circuit
        # ngspice's working directory during loads and runs (files it writes unasked land here)
        self._folder = tempfile.TemporaryDirectory(prefix="recirc-ngspice-shared-")

    def __enter__(self) -> SharedEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def load(self, netlist: str, *, label: str = "load") -> None:
        """Parse ``netlist`` into ngspice, replacing any loaded circuit.

        Raises :class:`SimulationError` quoting ngspice if it rejects a line.
        """
        self._check_open()
        self._netlist = None
        self._load_text(netlist, label)
        self._netlist = netlist

    def run(self, netlist: str | None = None, *, label: str) -> SimulationResult:
        """Simulate and return the plot of the netlist's analysis.

        With ``netlist``, load it first (unless it is the loaded netlist);
        without, rerun the loaded circuit.
        Raises :class:`SimulationError` naming ``label`` and quoting ngspice.
        """
        self._check_open()
        if netlist is not None and netlist != self._netlist:
            self.load(netlist, label=label)
        self._check_loaded()
        return run_with_fallbacks(lambda text: self._attempt(text, label), self._netlist,
                                  self.ladder, label)

    def readings(self, circuit, cycles, label: str):
        """Write ``circuit`` (a schematic Circuit) as ngspice text, simulate it and read its
        readings through its node map: a :class:`~recirc_analog.engines.circuit_run.CircuitRun`."""
        from .circuit_run import ngspice_readings

        return ngspice_readings(self, [circuit], cycles, [label])[0]

    def reset(self) -> None:
        """Remove the circuit and all plots; the engine stays open."""
        self._check_open()
        self._clear()
        self._netlist = None

    def close(self) -> None:
        """Reset and give the shared library back (a new SharedEngine may open)."""
        if self._closed:
            return
        if self._lib.exit_status is None:
            self.reset()
        self._closed = True
        self._lib.release(self)
        self._folder.cleanup()

    # -- internals ----------------------------------------------------------------
    def _check_open(self) -> None:
        if self._closed:
            raise UsageError("this SharedEngine is closed; create a new one")
        self._lib.check_alive()

    def _check_loaded(self) -> None:
        self._check_open()
        if self._netlist is None:
            raise UsageError("SharedEngine has no circuit loaded: call load(netlist) "
                             "or run(netlist, label=...) first")

    def _clear(self) -> None:
        """Remove the circuit (if any) and every plot from ngspice."""
        self._lib.command("remcirc")
        self._lib.command("destroy all")
        self._lib.take_output()
        self._loaded = None

    def _load_text(self, text: str, label: str) -> None:
        external = _EXTERNAL_SOURCE.search(text)
        if external:
            # 'dc 0 external' segfaults libngspice 39; plain 'external' makes it exit
            # (status 1) without ngSpice_Init_Sync callbacks, which this engine has none of.
            raise NetlistError(f"batch {label!r}: sources driven by the caller ('external') are "
                               f"not supported by SharedEngine: {external.group(0).strip()!r}")
        self._clear()
        lines = _circuit_lines(absolute_includes(text, os.getcwd()))
        with working_directory(self._folder.name):
            self._lib.load_lines(lines)
        _, stderr = self._lib.take_output()
        failure = diagnose(stderr)
        if failure is not None:
            self._clear()
            raise SimulationError(f"batch {label!r}: {failure.message}")
        self._loaded = text
        self._seconds_so_far = 0.0

    def _attempt(self, text: str, label: str) -> SimulationResult | Failure:
        """One ngspice run of ``text`` (reloaded if it is not the loaded text)."""
        if text != self._loaded:
            self._load_text(text, label)
        lib = self._lib
        lib.new_plots.clear()
        with working_directory(self._folder.name):
            lib.command("run")
        stdout, stderr = lib.take_output()
        lib.command("rusage time")
        total = analysis_seconds(lib.take_output()[0])
        failure = diagnose(stderr)
        if failure is None and not lib.new_plots:
            quote = quote_lines(stderr + stdout)
            failure = Failure("error", "ngspice produced no plot (does the netlist have an "
                                       f".op/.dc/.tran/.ac line?): {quote}", quote)
        seconds = None
        if total is not None:
            seconds = round(total - self._seconds_so_far, 3)
            self._seconds_so_far = total
        if failure is None:
            plot_type, plot_name, title = lib.new_plots[-1]
            vectors = lib.read_plot(plot_type)
        lib.command("destroy all")
        lib.take_output()
        if failure is not None:
            return failure
        return SimulationResult(vectors=vectors, plot_name=plot_name, title=title,
                                analysis_seconds=seconds, log=tuple(relevant_lines(stderr)))


def _circuit_lines(text: str) -> list[str]:
    """Netlist text -> lines for ``ngSpice_Circ``, ending with exactly one ``.end``."""
    lines = [line.rstrip("\r") for line in text.splitlines()]
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines or not _END_CARD.match(lines[-1]):
        lines.append(".end")
    return lines
