"""Memristor compact models (issue 13): measure them in ngspice, fit pulsed device models, plot.

One command, from the repository root:

    nice -n 10 .venv/bin/python studies/memristor-fit/run.py

For each model of ``circuits/memristors/`` (VTEAM, Yakopcic) it runs the model's own
testbenches in ngspice (through :class:`recirc_analog.engines.BatchEngine`), with the
``.param`` values of the run replaced:

1. ``tb_<model>_hysteresis.cir``: the pinched hysteresis loop (``circuits/memristors/hysteresis.png``);
2. ``tb_<model>_pulses.cir``, one pulse from mid-range per amplitude and width: the state
   change per pulse against amplitude and width, with the model's ODE (SciPy) beside it
   (``step_vs_pulse.png``, ``results/step_vs_pulse.csv``);
3. ``tb_<model>_pulses.cir`` with the nominal programming pulse (:data:`NOMINAL`): a train
   of up pulses from the low-conductance bound, then down pulses, read between pulses by
   the read current (``results/<model>_pulse_response.csv``); fitted to every step shape of
   :mod:`recirc_analog.devices.compact.fit` (``results/fits.json``, ``pulse_response.png``).

``REPORT.md`` is written by hand from ``results/``; the presets ``vteam-fit`` and
``yakopcic-fit`` (:mod:`recirc_analog.devices.compact.presets`) copy the best fits.
"""

from __future__ import annotations

import argparse
import re
import sys
import time
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent
BENCHES = ROOT / "circuits" / "memristors"

NOMINAL = {
    # up = conductance up (VTEAM: negative v, towards R_on); start at the low-conductance bound
    "vteam": dict(x0=1.0, vup=-0.22, vdown=0.5, tw=1e-9, tr=1e-10, per=6e-9, nup=400, ndown=400, vread=0.01,
                  steps=100),
    "yakopcic": dict(x0=0.0, vup=0.5, vdown=-0.5, tw=1e-5, tr=1e-7, per=6e-5, nup=400, ndown=400, vread=0.1,
                     steps=100),
}
"""The nominal programming pulse of each model and the trains measured with it (testbench .params)."""

SWEEP = {
    "vteam": dict(amplitudes=(-0.5, -0.3, -0.25, -0.22, -0.205, 0.05, 0.1, 0.3, 0.5, 1.0, 1.5),
                  widths=(0.5e-9, 1e-9, 4e-9)),
    "yakopcic": dict(amplitudes=(-1.0, -0.7, -0.5, -0.3, -0.2, 0.2, 0.3, 0.5, 0.7, 1.0),
                     widths=(5e-6, 1e-5, 4e-5)),
}
"""Amplitudes (V) and widths (s) of the single-pulse sweep, from x = 0.5."""


def bench_text(model: str, kind: str, **overrides) -> tuple[str, dict]:
    """The testbench with its .param line replaced and its library inlined; (text, params)."""
    text = (BENCHES / f"tb_{model}_{kind}.cir").read_text()
    line = re.search(r"^\.param (.*)$", text, re.M).group(1)
    params = {k: float(v) for k, v in re.findall(r"(\w+)=([-+0-9.eE]+)", line)}
    params.update(overrides)
    text = text.replace(line, " ".join(f"{k}={v!r}" for k, v in params.items()), 1)
    text = text.replace(f".include {model}.lib", (BENCHES / f"{model}.lib").read_text(), 1)
    return text, params


def read_times(p: dict) -> np.ndarray:
    """Middle of the read pulse after every programming pulse (s)."""
    k = np.arange(int(p["nup"] + p["ndown"]))
    return k * p["per"] + 3 * p["per"] / 4 + p["tr"] + p["tw"] / 2


def measure_response(engine, model: str, **overrides):
    """ngspice: read conductances (S) and states through the nominal trains; (g, x, params)."""
    text, p = bench_text(model, "pulses", **{**NOMINAL[model], **overrides})
    v = engine.run(text, label=f"{model} pulse response").vectors
    t = read_times(p)
    g = np.interp(t, v["time"], v["i(vs)"]) / p["vread"]
    x = np.interp(t, v["time"], v["v(x1.x)"])
    return g, x, p


def run_sweep(engine, model: str) -> list[dict]:
    from recirc_analog.devices.compact import COMPACT_MODELS, integrate_state

    record = COMPACT_MODELS[model]()
    rows = []
    for width in SWEEP[model]["widths"]:
        for amplitude in SWEEP[model]["amplitudes"]:
            tr = width / 10
            text, p = bench_text(model, "pulses", x0=0.5, vup=amplitude, nup=1, ndown=0, tw=width, tr=tr,
                                 per=5 * (width + 2 * tr), steps=1000)
            v = engine.run(text, label=f"{model} {amplitude} V {width} s").vectors
            step = float(np.interp(read_times(p)[0], v["time"], v["v(x1.x)"])) - 0.5
            ts = [0.0, p["per"] / 4, p["per"] / 4 + tr, p["per"] / 4 + tr + width, p["per"] / 4 + 2 * tr + width]
            ode = float(integrate_state(record, ts, [0, 0, amplitude, amplitude, 0], 0.5)[-1]) - 0.5
            rows.append(dict(model=model, amplitude=amplitude, width=width, step_ngspice=step, step_ode=ode))
    return rows


def write_csv(path: Path, header, rows) -> None:
    import csv

    from recirc_analog.fileio import atomic_open

    with atomic_open(path) as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(HERE / "results"), help="folder of the CSV / JSON results")
    parser.add_argument("--models", default="vteam,yakopcic", help="comma-separated models (default both)")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT))
    from recirc_analog.devices.compact import COMPACT_MODELS
    from recirc_analog.devices.compact.fit import PulseResponse, fit_pulse_response
    from recirc_analog.devices.serialisation import device_to_json
    from recirc_analog.engines.batch import BatchEngine
    from recirc_analog.fileio import write_json_atomic

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    models = [m for m in args.models.split(",") if m]
    fits, sweep, loops = {}, [], {}
    with BatchEngine() as engine:
        for model in models:
            record = COMPACT_MODELS[model]()
            start = time.perf_counter()
            text, p = bench_text(model, "hysteresis")
            loops[model] = (engine.run(text, label=f"{model} hysteresis").vectors, p)
            sweep += run_sweep(engine, model)
            g, x, p = measure_response(engine, model)
            n_up = int(p["nup"])
            lo, hi = sorted(float(record.read_conductance(b, p["vread"])) for b in (0.0, 1.0))
            g0 = float(record.read_conductance(p["x0"], p["vread"]))
            response = PulseResponse(np.r_[g0, g[:n_up]], g[n_up - 1:], lo, hi)
            results = fit_pulse_response(response)
            write_csv(out / f"{model}_pulse_response.csv", ["pulse", "direction", "g_read", "state"],
                             [[k + 1, "up" if k < n_up else "down", g[k], x[k]] for k in range(len(g))])
            fits[model] = dict(
                pulse={k: p[k] for k in ("vup", "vdown", "tw", "tr", "vread")}, g_lo=lo, g_hi=hi, x0=p["x0"],
                n_up=n_up, n_down=int(p["ndown"]), seconds=round(time.perf_counter() - start, 1),
                fits=[dict(shape=r.shape, step_rms=r.step_rms, trace_rms=r.trace_rms, trace_max=r.trace_max,
                           device=device_to_json(r.device)) for r in results])
            best = results[0]
            print(f"{model}: best {best.shape}: trace rms {best.trace_rms:.4f}, max {best.trace_max:.4f} of the "
                  f"range, step rms {best.step_rms:.3f} of the mean step ({fits[model]['seconds']} s)")
    write_json_atomic(out / "fits.json", fits)
    write_csv(out / "step_vs_pulse.csv", list(sweep[0]), [list(r.values()) for r in sweep])
    plot(out, models, fits, sweep, loops)
    return 0


def plot(out: Path, models, fits, sweep, loops) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recirc_analog.devices.compact.fit import PulseResponse, replay
    from recirc_analog.devices.serialisation import device_from_json

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        v, p = loops[model]
        ax.plot(v["v(a)"], -v["i(vs)"] * 1e3, lw=1)
        ax.set(title=f"{model}: {p['vamp']:g} V, {p['freq']:g} Hz sinusoid", xlabel="v (V)", ylabel="i (mA)")
        ax.axhline(0, color="0.8", lw=0.5)
        ax.axvline(0, color="0.8", lw=0.5)
    fig.tight_layout()
    fig.savefig(BENCHES / "hysteresis.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        rows = [r for r in sweep if r["model"] == model]
        for width in sorted({r["width"] for r in rows}):
            sel = sorted((r for r in rows if r["width"] == width), key=lambda r: r["amplitude"])
            a = [r["amplitude"] for r in sel]
            line, = ax.plot(a, [r["step_ode"] for r in sel], lw=1, label=f"ODE, {width:g} s")
            ax.plot(a, [r["step_ngspice"] for r in sel], "o", ms=3, color=line.get_color(),
                    label=f"ngspice, {width:g} s")
        ax.set_yscale("symlog", linthresh=1e-5)
        ax.set(title=f"{model}: one pulse from x = 0.5", xlabel="pulse amplitude (V)", ylabel="state change")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "step_vs_pulse.png", dpi=120)
    plt.close(fig)

    fig, axes = plt.subplots(1, len(models), figsize=(5 * len(models), 4), squeeze=False)
    for ax, model in zip(axes[0], models):
        f = fits[model]
        data = np.genfromtxt(out / f"{model}_pulse_response.csv", delimiter=",", names=True, dtype=None,
                             encoding="utf-8")
        g, n_up = data["g_read"], f["n_up"]
        g0 = f["g_lo"] if f["x0"] in (0.0, 1.0) else g[0]
        response = PulseResponse(np.r_[g0, g[:n_up]], g[n_up - 1:], f["g_lo"], f["g_hi"])
        measured = np.r_[response.position(response.g_up), response.position(response.g_down)[1:]]
        ax.plot(measured, "k.", ms=2, label="ngspice (read current)")
        for fit in f["fits"][:3]:
            device = device_from_json(fit["device"])
            trace = np.r_[replay(device, response, "up"), replay(device, response, "down")[1:]]
            ax.plot(trace, lw=1, label=f"{fit['shape']}: rms {fit['trace_rms']:.3f}")
        ax.set(title=f"{model}: {f['pulse']['vup']:g} V / {f['pulse']['vdown']:g} V, {f['pulse']['tw']:g} s pulses",
               xlabel="pulse", ylabel="(g - g_lo) / (g_hi - g_lo)")
        ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(HERE / "pulse_response.png", dpi=120)
    plt.close(fig)


if __name__ == "__main__":
    sys.exit(main())
