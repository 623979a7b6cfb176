"""Helpers of the memristor tests: run a testbench of circuits/memristors/ with some .params
replaced, its drive as a waveform (the ODE oracle's input), and the reads it makes."""

import re
import shutil
from pathlib import Path

import numpy as np

BENCHES = Path(__file__).resolve().parents[1] / "circuits" / "memristors"


def bench_params(text: str) -> dict:
    """The ``.param`` values of a testbench."""
    pairs = re.findall(r"(\w+)=([-+0-9.eE]+)", " ".join(re.findall(r"^\.param (.*)$", text, re.M)))
    return {k: float(v) for k, v in pairs}


def p_default(model: str, name: str) -> float:
    """A ``.param`` value of the model's pulse testbench."""
    return bench_params((BENCHES / f"tb_{model}_pulses.cir").read_text())[name]


def run_bench(ngspice, circuits_dir, folder, model: str, kind: str, library: str | None = None, **overrides):
    """Run ``tb_<model>_<kind>.cir`` in ``folder`` (with ``library``, default ``<model>.lib``) with
    some ``.param`` values of its first ``.param`` line replaced; (vectors, params)."""
    source = circuits_dir / "memristors"
    shutil.copy(source / (library or f"{model}.lib"), folder)
    text = (source / f"tb_{model}_{kind}.cir").read_text()
    params = {**bench_params(text), **overrides}
    line = ".param " + " ".join(f"{k}={v!r}" for k, v in params.items())
    path = Path(folder) / f"tb_{model}_{kind}.cir"
    path.write_text(re.sub(r"^\.param .*$", line, text, count=1, flags=re.M))
    return ngspice.run_file(path), params


def pulse_waveform(p: dict):
    """The pulse testbench's drive as a piecewise-linear waveform (s, V)."""
    per, tw, tr = p["per"], p["tw"], p["tr"]
    n = int(p["nup"] + p["ndown"])
    ts, vs = [0.0], [0.0]
    for k in range(n):
        amplitude = p["vup"] if k < p["nup"] else p["vdown"]
        for start, a in ((k * per + per / 4, amplitude), (k * per + 3 * per / 4, p["vread"])):
            ts += [start, start + tr, start + tr + tw, start + 2 * tr + tw]
            vs += [0.0, a, a, 0.0]
    return np.array(ts + [n * per]), np.array(vs + [0.0])


def read_times(p: dict) -> np.ndarray:
    """The middle of the read pulse after every programming pulse (s)."""
    k = np.arange(int(p["nup"] + p["ndown"]))
    return k * p["per"] + 3 * p["per"] / 4 + p["tr"] + p["tw"] / 2


def read_states(vectors, p) -> np.ndarray:
    """The state at every read (after each programming pulse)."""
    return np.interp(read_times(p), vectors["time"], vectors["v(x1.x)"])


def read_conductances(vectors, p) -> np.ndarray:
    """The read current / read voltage at every read (S); ``Vs s a`` carries the device current."""
    return np.interp(read_times(p), vectors["time"], vectors["i(vs)"]) / p["vread"]
