"""ngspice as a batch subprocess: ``ngspice -b -r out.raw netlist.cir``.

Each run gets a fresh ngspice process in its own temporary directory, so a
crash (segfault, abort) or a hang (timeout) costs one batch, never the
Python process. Results come back as a binary raw file read with
``numpy.frombuffer`` (``rawfile``). ngspice runs with that temporary
directory as its working directory (so files it writes unasked, such as the
sky130 models' ``bsim4v5.out``, go away with it: ``workdir.py``); relative
``.include`` / ``.lib`` paths in the netlist are made absolute against
``workdir`` (default: the current directory) so they resolve as they would
for a user running ngspice there. It runs with ``-n``:
no ``.spiceinit`` is read, neither from that directory nor from ``$HOME``
(such a file may hold any command, ``shell`` included, and would change the
results); ngspice's system ``spinit`` is still read.

Parallelism: :meth:`BatchEngine.run_many` runs several ngspice processes at
once. The Python side only writes a file, waits and reads a raw file, so a
thread pool drives the processes: the simulations themselves run in
separate OS processes, and no result arrays need pickling between Python
processes (a process pool would add that cost and nothing else).

Cost per run beyond ngspice's own analysis (benchmarks/RESULTS_engine.md):
about 5 ms for a tiny circuit, ~20 ms at 64-16-64 and ~0.2 s at 784-20-784
(process start, netlist parse, raw read): what the shared-library engine
saves when only conductances change between runs.
"""

from __future__ import annotations

import os
import signal
import subprocess
import tempfile
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from pathlib import Path

from ..errors import ConfigError, SimulationError, check_range
from .circuit_run import check_cycle_mode
from .console import Failure, analysis_seconds, diagnose, quote_lines, relevant_lines
from .convergence import ConvergenceLadder, default_ladder, run_with_fallbacks
from .locate import find_ngspice, ngspice_version
from .rawfile import read_raw
from .result import SimulationResult
from .workdir import absolute_includes

RAW_FORMATS = ("binary", "ascii")


class BatchEngine:
    """Runs each netlist in a fresh ``ngspice -b`` process.

    Parameters
    ----------
    executable : str or None
        ngspice command or path; None looks up ``ngspice`` on PATH.
    timeout : float
        Seconds one ngspice run may take before it is killed (> 0).
    workdir : str or None
        Directory relative ``.include`` / ``.lib`` paths resolve in; None means
        the current directory at run time. ngspice itself runs in the run's
        temporary folder.
    raw_format : {"binary", "ascii"}
        Raw-file format asked of ngspice (ASCII is for debugging: ~3x larger).
    ladder : ConvergenceLadder or None
        Fallbacks on non-convergence; None means :func:`default_ladder`.
    cycle_mode : {"auto", "per-layer", "per-cycle", "unrolled"}
        How :meth:`readings` simulates a dc-form circuit: one analysis per layer read or per
        recirculation cycle, each reading the earlier ones' outputs back (exact, and faster at
        784-20-784: benchmarks/RESULTS.md), the unrolled circuit (all cycles' copies) as one
        analysis, or ``auto`` (default): per layer from 10,000 devices per cycle on. The tran
        form always runs unrolled (``engines.circuit_run``).
    tmp_root : str or None
        Existing folder the per-run temporary folders go in (a job passes its
        run folder's ``.tmp/``, so SIGKILL leftovers are found and removed by
        the next run); None means the system's temporary directory.
    """

    name = "batch"

    def __init__(self, *, executable: str | None = None, timeout: float = 3600.0,
                 workdir: str | None = None, raw_format: str = "binary",
                 ladder: ConvergenceLadder | None = None, tmp_root: str | None = None,
                 cycle_mode: str = "auto"):
        self.executable = executable
        self.cycle_mode = check_cycle_mode(cycle_mode)
        if tmp_root is not None and not os.path.isdir(tmp_root):
            raise ConfigError(f"tmp_root must be an existing directory, got {tmp_root!r}")
        self.tmp_root = None if tmp_root is None else os.path.abspath(tmp_root)
        self.timeout = check_range("timeout", timeout, 0, None, low_open=True)
        if workdir is not None and not os.path.isdir(workdir):
            raise ConfigError(f"workdir must be an existing directory, got {workdir!r}")
        self.workdir = workdir
        if raw_format not in RAW_FORMATS:
            raise ConfigError(f"raw_format must be one of {RAW_FORMATS}, got {raw_format!r}")
        self.raw_format = raw_format
        self.ladder = default_ladder() if ladder is None else ladder
        self._path = find_ngspice(executable)
        self.version = ngspice_version(self._path)

    def __enter__(self) -> BatchEngine:
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def close(self) -> None:
        """Nothing to release: every run's process and files are already gone."""

    def run(self, netlist: str, *, label: str) -> SimulationResult:
        """Simulate ``netlist`` (its own analysis line) and return the last plot.

        With several analyses in one netlist, the result is the plot ngspice
        writes last (use :func:`rawfile.read_raw` on your own run for all).
        Raises :class:`SimulationError` naming ``label`` and quoting ngspice.
        """
        return run_with_fallbacks(lambda text: self._attempt(text, label), netlist,
                                  self.ladder, label)

    def readings(self, circuit, cycles, label: str):
        """Write ``circuit`` (a schematic Circuit) as ngspice text, simulate it and read its
        readings through its node map: a :class:`~recirc_analog.engines.circuit_run.CircuitRun`."""
        from .circuit_run import ngspice_readings

        return ngspice_readings(self, [circuit], cycles, [label])[0]

    def run_many(self, netlists: Sequence[str], *, labels: Sequence[str] | None = None,
                 workers: int | None = None) -> list[SimulationResult]:
        """Run several netlists in parallel ngspice processes; results in input order.

        ``labels`` default to ``"netlist <k>"``; ``workers`` defaults to the
        number of CPUs. The first failing batch (in input order) raises.
        """
        labels = [f"netlist {k}" for k in range(len(netlists))] if labels is None else list(labels)
        if len(labels) != len(netlists):
            raise ConfigError(
                f"labels must have one entry per netlist ({len(netlists)}), got {len(labels)}")
        workers = (os.cpu_count() or 1) if workers is None else workers
        if not isinstance(workers, int) or workers < 1:
            raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
        if not netlists:
            return []
        with ThreadPoolExecutor(max_workers=workers) as pool:
            return list(pool.map(lambda job: self.run(job[0], label=job[1]), zip(netlists, labels)))

    def _attempt(self, netlist: str, label: str) -> SimulationResult | Failure:
        """One ngspice process on ``netlist``; the last plot or why it failed."""
        with tempfile.TemporaryDirectory(prefix="recirc-ngspice-", dir=self.tmp_root) as tmp:
            circuit = Path(tmp, "circuit.cir")
            raw = Path(tmp, "circuit.raw")
            circuit.write_text(absolute_includes(netlist, self.workdir or os.getcwd()))
            env = dict(os.environ)
            env.pop("SPICE_ASCIIRAWFILE", None)
            if self.raw_format == "ascii":
                env["SPICE_ASCIIRAWFILE"] = "1"
            try:
                done = subprocess.run(
                    [self._path, "-b", "-n", "-r", str(raw), str(circuit)], cwd=tmp,
                    env=env, stdin=subprocess.DEVNULL, capture_output=True, timeout=self.timeout,
                    check=False)
            except subprocess.TimeoutExpired:
                return Failure("timeout", f"ngspice did not finish within {self.timeout:g} s "
                                          "and was killed")
            except OSError as exc:
                raise SimulationError(f"batch {label!r}: cannot start {self._path!r}: {exc}") from None
            stdout = done.stdout.decode("utf-8", "replace").splitlines()
            stderr = done.stderr.decode("utf-8", "replace").splitlines()
            failure = _failure_of(done.returncode, stderr, raw.exists())
            if failure is not None:
                return failure
            try:
                result = read_raw(raw)[-1]
            except SimulationError as exc:
                return Failure("error", str(exc))
        return replace(result, analysis_seconds=analysis_seconds(stdout),
                       log=tuple(relevant_lines(stderr)))


def _failure_of(returncode: int, stderr: list[str], wrote_raw: bool) -> Failure | None:
    """Classify a finished ngspice process; None if it succeeded.

    Only stderr is quoted: ngspice's stdout holds progress and resource usage.
    """
    if returncode < 0:
        quote = quote_lines(stderr)
        return Failure("crash", f"ngspice crashed ({_signal_name(-returncode)}); "
                                f"its last output: {quote}", quote)
    failure = diagnose(stderr)
    if failure is not None:
        return failure
    if returncode != 0:
        quote = quote_lines(stderr)
        return Failure("error", f"ngspice exited with status {returncode}: {quote}", quote)
    if not wrote_raw:
        quote = quote_lines(stderr)
        return Failure("error", "ngspice wrote no results (does the netlist have an "
                                f".op/.dc/.tran/.ac line?): {quote}", quote)
    return None


def _signal_name(number: int) -> str:
    try:
        return signal.Signals(number).name
    except ValueError:
        return f"signal {number}"
