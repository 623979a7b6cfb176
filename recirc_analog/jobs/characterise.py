"""Run the sky130 cell testbenches in ngspice and measure each cell's figures.

:func:`run_testbench` writes a testbench, the model library and the cell files into a
temporary folder and runs ``ngspice -b -n`` there (no ``.spiceinit`` read, as the batch engine
does); :func:`measure` turns the raw-file plots into figures (:data:`SPECS` says which, in which
unit, and their datasheet limits); :func:`characterise` does that for every cell, corner and
temperature, on a few parallel ngspice processes, with a progress bar.

Stopping: the ngspice processes are children this job tracks (:class:`ChildProcesses`). When
the job stops for any reason (an error, Ctrl-C, or SIGTERM, which :func:`characterise` turns
into :class:`~recirc_analog.errors.Terminated`), no new process starts, the running ones are
killed by their pid and waited for, and the queued runs are cancelled, so nothing of it keeps
running (``tests/test_characterise_stop.py``).
"""

from __future__ import annotations

import os
import subprocess
import tempfile
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..engines.locate import find_ngspice
from ..engines.rawfile import read_raw
from ..errors import ConfigError, SimulationError, Terminated
from ..pdk import measure as m
from ..pdk.cells import CELL_FILES, CELLS, check_cell, library_text
from ..pdk.models import check_corners, write_model_library
from ..pdk.noise import NOISE_F_HIGH, NOISE_F_LOW, noise_rms
from ..pdk.testbenches import (
    OPAMP_STEP,
    PHASE,
    SH_FEEDTHROUGH_STEP,
    SH_LEVELS,
    SH_TIMES,
    T_STEP,
    TEMPERATURE_RANGE,
    TIA_CURRENT,
    TIA_RF,
    VCM,
    VDD,
    testbench,
)

SETTLE_TOLERANCE = 1e-3
"""Settling band, relative to the step (0.1 %)."""
TIMEOUT = 900.0
"""Seconds one testbench may run before ngspice is killed."""


@dataclass(frozen=True)
class Spec:
    """One datasheet figure: what it is, its unit and its limits."""

    key: str
    """Name in the measured values."""
    label: str
    """Column heading."""
    unit: str
    """Unit shown in the datasheet."""
    scale: float = 1.0
    """Multiplier from SI to the unit shown (1e6 for MHz or uA, 1e3 for mV)."""
    low: float | None = None
    """Lowest acceptable value (SI), None for no bound."""
    high: float | None = None
    """Highest acceptable value (SI), None for no bound."""

    def passes(self, value: float) -> bool:
        """Whether ``value`` (SI) is within the limits (NaN never is)."""
        if not np.isfinite(value):
            return self.low is None and self.high is None and not np.isnan(value)
        return (self.low is None or value >= self.low) and (self.high is None or value <= self.high)

    def limit_text(self) -> str:
        """The limits in the shown unit, e.g. ``>= 65`` or ``-5 .. 5``."""
        def show(x):
            return f"{x * self.scale:.4g}"
        if self.low is not None and self.high is not None:
            return f"{show(self.low)} .. {show(self.high)}"
        if self.low is not None:
            return f">= {show(self.low)}"
        if self.high is not None:
            return f"<= {show(self.high)}"
        return "-"


SPECS = {
    "opamp": (
        Spec("gain_db", "DC gain", "dB", 1.0, 65.0, None),
        Spec("ugf", "unity-gain freq. (1 pF)", "MHz", 1e-6, 10e6, None),
        Spec("phase_margin", "phase margin", "deg", 1.0, 45.0, None),
        Spec("offset", "offset (buffer, 0.9 V)", "mV", 1e3, -5e-3, 5e-3),
        Spec("swing_low", "swing low (1 % gain error)", "V", 1.0, None, 0.5),
        Spec("swing_high", "swing high", "V", 1.0, 1.3, None),
        Spec("settling", "settling 0.1 % (0.2 V step)", "ns", 1e9, None, PHASE / 2),
        Spec("tia_error", "TIA transresistance error (rf 10 kohm)", "%", 1e2, -1e-2, 1e-2),
        Spec("supply_current", "supply current", "uA", 1e6, None, 300e-6),
        Spec("tia_noise", "TIA output noise (rf 10 kohm, 1 kHz-1 GHz)", "uV rms", 1e6),
        Spec("tia_noise_current", "TIA input noise (output / rf)", "nA rms", 1e9),
    ),
    "neuron": (
        Spec("gain", "gain at in = ref", "V/V", 1.0, 0.5, 2.0),
        Spec("bandwidth", "bandwidth (-3 dB)", "MHz", 1e-6, 1e6, None),
        Spec("offset", "offset", "mV", 1e3, -10e-3, 10e-3),
        Spec("out_low", "output low (re ref)", "V", 1.0, None, -0.1),
        Spec("out_high", "output high (re ref)", "V", 1.0, 0.1, None),
        Spec("tanh_error", "max dev. from a*tanh(b*x)+c", "mV", 1e3, None, None),
        Spec("settling", "settling 0.1 % (50 mV step)", "ns", 1e9, None, PHASE / 2),
        Spec("supply_current", "supply current", "uA", 1e6, None, 300e-6),
        Spec("noise", "output noise (in = ref, 1 kHz-1 GHz)", "uV rms", 1e6),
    ),
    "sample_hold": (
        *(Spec(f"pedestal_{k}", f"pedestal at {level:g} V", "mV", 1e3, -2e-3, 2e-3)
          for k, level in enumerate(SH_LEVELS)),
        Spec("droop", "worst droop rate", "V/s", 1.0, -100.0, 100.0),
        Spec("feedthrough", "hold feedthrough", "ppm", 1e6, None, 1e-3),
        Spec("offset", "tracking offset (0.9 V)", "mV", 1e3, -5e-3, 5e-3),
        Spec("acquisition", "acquisition 0.1 % (0.2 V)", "ns", 1e9, None, PHASE),
        Spec("supply_current", "supply current", "uA", 1e6, None, 300e-6),
        Spec("noise", "output noise tracking (1 kHz-1 GHz)", "uV rms", 1e6),
    ),
    "clock": (
        Spec("gap_12", "non-overlap phi1->phi2", "ns", 1e9, 0.5e-9, None),
        Spec("gap_21", "non-overlap phi2->phi1", "ns", 1e9, 0.5e-9, None),
        Spec("rise", "rise 10-90 % (worst)", "ns", 1e9, None, 2e-9),
        Spec("fall", "fall 90-10 % (worst)", "ns", 1e9, None, 2e-9),
        Spec("delay", "clk -> phase delay (worst)", "ns", 1e9, None, 10e-9),
        Spec("supply_current", "mean supply current", "uA", 1e6, None, None),
    ),
}
"""Cell -> its datasheet figures, in column order, with the limits the tt tests check."""


@dataclass(frozen=True)
class CellResult:
    """The figures of one cell at one corner and temperature."""

    cell: str
    """Cell name (one of CELLS)."""
    corner: str
    """Process corner."""
    temp: float
    """Temperature (degC)."""
    values: dict
    """Spec key -> measured value (SI units)."""
    transfer: np.ndarray | None = field(default=None, repr=False)
    """Neuron only: shape (n, 2), columns v(in) - v(ref) and v(out) - v(ref) (V)."""
    seconds: float = 0.0
    """Wall-clock seconds of the ngspice run."""

    def failures(self) -> list[str]:
        """One line per figure outside its limits (empty if all pass)."""
        return [f"{self.cell} {spec.label} = {self.values[spec.key] * spec.scale:.4g} {spec.unit} "
                f"(limit {spec.limit_text()}) at {self.corner} {self.temp:g} degC"
                for spec in SPECS[self.cell] if not spec.passes(self.values[spec.key])]


class ChildProcesses:
    """The ngspice processes a job has running, so that it can end them when it stops.

    :meth:`start` and :meth:`stop` hold one lock: after :meth:`stop` no process starts (a
    worker thread asking gets :class:`~recirc_analog.errors.Terminated`), and every process
    started before is killed (SIGKILL, by its pid) and reaped."""

    def __init__(self):
        self._lock = threading.Lock()
        self._running: set[subprocess.Popen] = set()
        self._stopped = False

    def start(self, args: list[str], cwd) -> subprocess.Popen:
        """A new process ``args`` in ``cwd`` (stdin closed, stdout / stderr piped), tracked."""
        with self._lock:
            if self._stopped:
                raise Terminated("characterise: stopped; no new ngspice run starts")
            process = subprocess.Popen(args, cwd=cwd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                       stderr=subprocess.PIPE)
            self._running.add(process)
            return process

    def finish(self, process: subprocess.Popen) -> None:
        """Kill ``process`` if it still runs, reap it and stop tracking it."""
        if process.poll() is None:
            process.kill()
        process.wait()
        with self._lock:
            self._running.discard(process)

    def pids(self) -> list[int]:
        """The pids of the tracked processes still running."""
        with self._lock:
            return [p.pid for p in self._running if p.poll() is None]

    def stop(self) -> None:
        """No process starts from now on; kill and reap every running one."""
        with self._lock:
            self._stopped = True
            running = list(self._running)
        for process in running:
            if process.poll() is None:
                process.kill()
        for process in running:
            process.wait()


def run_testbench(text: str, cell: str, corner: str, *, executable: str | None = None,
                  timeout: float = TIMEOUT, children: ChildProcesses | None = None) -> dict:
    """Run testbench ``text`` of ``cell`` in a fresh folder; the plots as ``plot name -> vectors``.

    ``children``: where the ngspice process is tracked (a job's :class:`ChildProcesses`; default
    a private one). The process never outlives this call: it is killed on a timeout and on any
    exception (KeyboardInterrupt included). Raises :class:`SimulationError` naming the cell and
    corner and quoting ngspice's errors.
    """
    ngspice = find_ngspice(executable)
    children = ChildProcesses() if children is None else children
    with tempfile.TemporaryDirectory(prefix="recirc-sky130-") as tmp:
        write_model_library(Path(tmp, "models.lib"), [corner])
        for name in CELL_FILES[cell]:
            Path(tmp, name).write_text(library_text(name))
        Path(tmp, "tb.cir").write_text(text)
        process = children.start([ngspice, "-b", "-n", "-r", "tb.raw", "tb.cir"], tmp)
        try:
            _, stderr = process.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            raise SimulationError(f"sky130 {cell} testbench at {corner}: ngspice did not finish within "
                                  f"{timeout:g} s") from None
        finally:
            children.finish(process)
        err = stderr.decode("utf-8", "replace").splitlines()
        bad = [line for line in err if "error" in line.lower()]
        raw = Path(tmp, "tb.raw")
        if process.returncode != 0 or bad or not raw.exists():
            quote = "; ".join((bad or err)[-3:])
            raise SimulationError(f"sky130 {cell} testbench at {corner}: ngspice exited with status "
                                  f"{process.returncode}: {quote}")
        return {plot.plot_name.split()[0].lower(): plot.vectors for plot in read_raw(raw)}


def _supply(op: dict, source: str) -> float:
    """Current drawn from supply ``source`` (A, positive) at the operating point."""
    return float(-np.real(op[f"i({source})"][0]))


def measure_opamp(plots: dict) -> dict:
    """Op-amp figures from the plots of :func:`~.testbenches.opamp_testbench`."""
    op, ac, dc, tr = plots["operating"], plots["ac"], plots["dc"], plots["transient"]
    ugf, pm = m.unity_gain(ac["frequency"], ac["v(oa)"])
    t, out = tr["time"], tr["v(ob)"]
    final = m.value_at(t, out, t[-1])
    vin = dc["v(v-sweep)"] if "v(v-sweep)" in dc else dc["v(inc)"]
    low, high = m.linear_range(vin, dc["v(oc)"], -1.0, 0.01)
    transresistance = float(np.real(op["v(otn)"][0] - op["v(otp)"][0])) / (2 * TIA_CURRENT)
    return {
        "gain_db": float(20 * np.log10(np.abs(ac["v(oa)"][0]))),
        "ugf": ugf,
        "phase_margin": pm,
        "offset": float(np.real(op["v(ob)"][0] - op["v(inb)"][0])),
        "swing_low": low,
        "swing_high": high,
        "settling": m.settling_time(t, out, T_STEP, final, SETTLE_TOLERANCE * OPAMP_STEP),
        "tia_error": transresistance / TIA_RF - 1.0,
        "supply_current": _supply(op, "vddb"),
        "tia_noise": noise_rms(plots, NOISE_F_LOW, NOISE_F_HIGH),
        "tia_noise_current": noise_rms(plots, NOISE_F_LOW, NOISE_F_HIGH) / TIA_RF,
    }


def _tanh_fit(x: np.ndarray, y: np.ndarray) -> float:
    """Largest deviation (V) of ``y`` from the least-squares fit ``a * tanh(b * x) + c``."""
    from scipy.optimize import curve_fit

    def model(x, a, b, c):
        return a * np.tanh(b * x) + c

    a0 = 0.5 * (y.max() - y.min())
    b0 = max(m.slope_at(x, y, 0.0) / a0, 1e-3) if a0 > 0 else 1.0
    try:
        params, _ = curve_fit(model, x, y, p0=(a0, b0, 0.0), maxfev=5000)
    except RuntimeError:
        return float("nan")
    return float(np.max(np.abs(model(x, *params) - y)))


def measure_neuron(plots: dict) -> tuple[dict, np.ndarray]:
    """Neuron figures and transfer table from the plots of :func:`~.testbenches.neuron_testbench`."""
    op, ac, dc, tr = plots["operating"], plots["ac"], plots["dc"], plots["transient"]
    x = np.real(dc["v(in)"]) - VCM
    y = np.real(dc["v(oa)"]) - VCM
    t, out = tr["time"], tr["v(ob)"]
    final = m.value_at(t, out, t[-1])
    step = final - m.value_at(t, out, T_STEP)
    values = {
        "gain": m.slope_at(x, y, 0.0),
        "bandwidth": m.bandwidth_3db(ac["frequency"], ac["v(oa)"]),
        "offset": float(np.real(op["v(oa)"][0]) - VCM),
        "out_low": float(y.min()),
        "out_high": float(y.max()),
        "tanh_error": _tanh_fit(x, y),
        "settling": m.settling_time(t, out, T_STEP, final, SETTLE_TOLERANCE * abs(step)),
        "supply_current": _supply(op, "vdda"),
        "noise": noise_rms(plots, NOISE_F_LOW, NOISE_F_HIGH),
    }
    return values, np.column_stack([x, y])


def measure_sample_hold(plots: dict) -> dict:
    """Sample-and-hold figures from the plots of :func:`~.testbenches.sample_hold_testbench`."""
    op, tr = plots["operating"], plots["transient"]
    s = SH_TIMES
    t = tr["time"]
    values, droops, feedthroughs = {}, [], []
    for k in range(len(SH_LEVELS)):
        out = tr[f"v(o{k})"]
        before = m.value_at(t, out, s["hold"] - 10e-9)
        values[f"pedestal_{k}"] = m.value_at(t, out, s["droop_from"]) - before
        droop = m.slope(t, out, s["droop_from"], s["droop_to"])
        droops.append(droop)
        held_before = m.value_at(t, out, s["droop_to"])
        held_after = m.value_at(t, out, s["track"] - 10e-9)
        drift = droop * (s["track"] - 10e-9 - s["droop_to"])
        feedthroughs.append(abs(held_after - held_before - drift) / SH_FEEDTHROUGH_STEP)
    mid = SH_LEVELS.index(VCM) if VCM in SH_LEVELS else 0
    out = tr[f"v(o{mid})"]
    final = m.value_at(t, out, t[-1])
    values["droop"] = max(droops, key=abs)
    values["feedthrough"] = max(feedthroughs)
    values["offset"] = float(np.real(op[f"v(o{mid})"][0] - op[f"v(in{mid})"][0]))
    values["acquisition"] = m.settling_time(t, out, s["track"], final, SETTLE_TOLERANCE * SH_FEEDTHROUGH_STEP)
    values["supply_current"] = _supply(op, f"vdd{mid}")
    values["noise"] = noise_rms(plots, NOISE_F_LOW, NOISE_F_HIGH)
    return values


def measure_clock(plots: dict) -> dict:
    """Clock-generator figures from the plots of :func:`~.testbenches.clock_testbench`."""
    tr = plots["transient"]
    t = tr["time"]
    half = VDD / 2
    clk, p1, p2 = tr["v(clk)"], tr["v(phi1)"], tr["v(phi2)"]
    clk_rise = m.crossing(t, clk, half, True)
    clk_fall = m.crossing(t, clk, half, False, after=clk_rise)
    p2_fall = m.crossing(t, p2, half, False, after=clk_rise - 1e-12)
    p1_rise = m.crossing(t, p1, half, True, after=clk_rise - 1e-12)
    p1_fall = m.crossing(t, p1, half, False, after=clk_fall - 1e-12)
    p2_rise = m.crossing(t, p2, half, True, after=clk_fall - 1e-12)

    def edge(y, rising, after):
        lo, hi = 0.1 * VDD, 0.9 * VDD
        a = m.crossing(t, y, lo if rising else hi, rising, after)
        b = m.crossing(t, y, hi if rising else lo, rising, after=a)
        return b - a

    start = t >= clk_rise - PHASE / 4
    i_mean = float(-np.trapezoid(tr["i(vdd)"][start], t[start]) / (t[start][-1] - t[start][0]))
    return {
        "gap_12": p2_rise - p1_fall,
        "gap_21": p1_rise - p2_fall,
        "rise": max(edge(p1, True, clk_rise - 1e-12), edge(p2, True, clk_fall - 1e-12)),
        "fall": max(edge(p1, False, clk_fall - 1e-12), edge(p2, False, clk_rise - 1e-12)),
        "delay": max(p1_rise - clk_rise, p2_rise - clk_fall),
        "supply_current": i_mean,
    }


def measure(cell: str, plots: dict) -> tuple[dict, np.ndarray | None]:
    """(figures, neuron transfer table or None) of ``cell`` from its testbench's plots."""
    check_cell(cell)
    if cell == "neuron":
        return measure_neuron(plots)
    return {"opamp": measure_opamp, "sample_hold": measure_sample_hold, "clock": measure_clock}[cell](plots), None


def characterise_one(cell: str, corner: str = "tt", temp: float = 27.0, quick: bool = False,
                     executable: str | None = None, children: ChildProcesses | None = None) -> CellResult:
    """Run ``cell``'s testbench at ``corner`` and ``temp`` (degC) and measure it (``children``:
    see :func:`run_testbench`)."""
    import time

    start = time.perf_counter()
    plots = run_testbench(testbench(cell, corner, temp, quick), cell, corner, executable=executable,
                          children=children)
    values, transfer = measure(cell, plots)
    return CellResult(cell, corner, float(temp), values, transfer, time.perf_counter() - start)


def check_temperatures(temps) -> tuple[float, ...]:
    """``temps`` as floats inside TEMPERATURE_RANGE, else a one-line :class:`ConfigError`."""
    temps = tuple(float(t) for t in temps)
    if not temps:
        raise ConfigError("temperatures must name at least one value in degC, got none")
    lo, hi = TEMPERATURE_RANGE
    for t in temps:
        if not lo <= t <= hi:
            raise ConfigError(f"temperature must be in [{lo:g}, {hi:g}] degC, got {t:g}")
    return temps


def characterise(cells=CELLS, corners=("tt", "ss", "ff"), temps=(-40.0, 27.0, 125.0), *, quick: bool = False,
                 workers: int = 2, show_progress: bool = True, executable: str | None = None) -> list[CellResult]:
    """Characterise every cell at every corner and temperature (ngspice runs on ``workers``
    processes at once); results ordered by cell, corner, temperature."""
    cells = tuple(check_cell(c) for c in cells)
    corners, temps = check_corners(corners), check_temperatures(temps)
    if not isinstance(workers, int) or workers < 1:
        raise ConfigError(f"workers must be an integer >= 1, got {workers!r}")
    jobs = [(c, k, t) for c in cells for k in corners for t in temps]
    from tqdm import tqdm

    from .termination import terminate_cleanly

    children = ChildProcesses()
    with terminate_cleanly("characterise", "no datasheet written; its ngspice runs were stopped"), \
            tqdm(total=len(jobs), desc="characterise", unit="run", disable=None if show_progress else True) as bar:
        pool = ThreadPoolExecutor(max_workers=workers)
        try:
            futures = [pool.submit(characterise_one, c, k, t, quick, executable, children) for c, k, t in jobs]
            results = []
            for future in futures:
                results.append(future.result())
                bar.update(1)
        finally:
            # whatever ended the loop (done, an error, Ctrl-C, SIGTERM): nothing of the job keeps running
            children.stop()
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def machine_line() -> str:
    """CPU count, load average and ngspice path: the conditions a timing was taken under."""
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    return f"{os.uname().sysname} {os.uname().machine}, {os.cpu_count()} CPUs, load average {load}"
