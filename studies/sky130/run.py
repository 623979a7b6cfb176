"""sky130 periphery (issue 12): REC co-simulations with the SkyWater 130 nm cells against the ideal
circuit and the lock-step reference, at tt and at the corners; writes results.csv, the plots and the
tables REPORT.md quotes.

One command, from the repository root:

    nice -n 10 .venv/bin/python studies/sky130/run.py [--batches 25] [--out DIR] [--jobs 3]

runs every point of :data:`POINTS` (16-4-16 Lowrank, tanh / linear, REC, batch 4, dc form, v_unit 0.1 V)
through the real ``recirc-analog cosim`` command into ``DIR/<name>`` (default ``runs/``, not committed;
a finished point is skipped), ``--jobs`` at a time, then writes ``results.csv`` (one row per point:
final losses, largest weight divergence, the measured activation's gain and swing, seconds),
``loss.png`` and ``divergence.png`` beside this file. ``--report-only`` redraws from existing runs.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent

LOWRANK = ["--sizes", "16,4,16", "--act", "tanh,linear", "--data", "lowrank", "--mode", "pr",
           "--batch-size", "1", "--lr", "0.01", "--headroom", "4", "--test-samples", "8", "--v-unit", "0.025",
           "--seed", "0", "--checkpoint-every", "5", "--ngspice-timeout", "3600"]
"""16-4-16 Lowrank REC, online (batch 1) at lr 0.01, v_unit 0.025 V. The column stages carry each column
line's whole current (up to ~14 units of activity on Lowrank's large inputs), the differential pair only the
difference: the lock-step reference with the measured tt curve predicts a largest stage output of 0.34 V
over 300 updates at 0.025 V (48 % of the op-amp's +-0.7 V swing), 0.69 V at 0.05 V and 1.3 V at 0.1 V (the
first study stopped at 0.74 V after 13 updates). At 0.025 V the pair saturates at +-6 units, so the hidden
layer is nearly linear (gain 0.92); lr 0.05 diverges with that curve (measured: the circuit's loss passed
2000 in 10 updates and a stage 0.92 V), lr 0.01 learns. Headroom 4 keeps every weight inside the
conductance window (at 2 devices clip from update ~30 and even the ideal circuit departs from the reference)."""

DATA = ROOT.parent / "shared" / "data"
"""The MNIST files (``../shared/data`` beside the repository, as the README's commands expect)."""

MNIST = ["--sizes", "49,10,49", "--act", "tanh,linear", "--data", "mnist", "--data-dir", str(DATA), "--downsample", "4",
         "--mode", "pr",
         "--batch-size", "1", "--lr", "0.01", "--headroom", "4", "--test-samples", "8", "--v-unit", "0.1",
         "--seed", "0", "--checkpoint-every", "5", "--ngspice-timeout", "3600"]
"""49-10-49 MNIST 7x7 REC, online at lr 0.01; v_unit 0.1 V (pixels in [0, 1]: the predicted column stages stay
below 0.3 V)."""

POINTS = {
    "ideal": LOWRANK + ["--periphery", "ideal"],
    "sky130-tt-27C": LOWRANK + ["--periphery", "sky130", "--corner", "tt", "--temp", "27"],
    "sky130-ff--40C": LOWRANK + ["--periphery", "sky130", "--corner", "ff", "--temp", "-40"],
    "mnist-ideal": MNIST + ["--periphery", "ideal"],
    "mnist-sky130-tt-27C": MNIST + ["--periphery", "sky130", "--corner", "tt", "--temp", "27"],
}
"""Name -> the options of one co-simulation. ff / -40 C is the worst corner of the first 13-update study
(largest divergence from its reference, 6.3 %; neuron gain 1.08 V/V)."""


def run_point(name: str, options: list[str], out: Path, batches: int) -> Path:
    """One co-simulation into ``out/name``: skipped when finished, resumed from its checkpoint when one
    exists (a run stopped by a timeout or a kill continues where it was)."""
    folder = out / name
    summary = folder / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return folder
    resume = ["--resume"] if (folder / "checkpoint.npz").is_file() else ["--overwrite"]
    command = [sys.executable, "-m", "recirc_analog.cli", "cosim", *options, "--batches", str(batches),
               "--out", str(folder), *resume]
    with open(out / f"{name}.log", "a") as log:
        subprocess.run(command, check=True, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    return folder


def rows_of(folder: Path) -> list[dict]:
    with open(folder / "metrics.csv") as handle:
        return [{k: float(v) if v not in ("", None) else None for k, v in row.items()}
                for row in csv.DictReader(handle)]


def tran_check(out: Path, batch: int = 2) -> dict:
    """The tran form (sky130 holds, clock, real time steps) against the dc form of the same 16-4-16 circuit
    (v_unit 0.1 V, tt, 27 degC, the study's initial weights): largest |difference| of the held cycle-0 and the
    cycle-1 activities per layer (mV), and the CPU seconds of each; written to ``out/tran_check.json``."""
    import time

    import numpy as np

    from recirc_analog.data import load_dataset
    from recirc_analog.engines.batch import BatchEngine
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.schematic.builder import build_circuit
    from recirc_analog.schematic.spec import CircuitSpec, NeuronConfig

    path = out / "tran_check.json"
    if path.is_file():
        return json.loads(path.read_text())
    dataset = load_dataset("lowrank", None, seed=0, dim=16)
    net = CircularAutoencoder.random((16, 4, 16), ("tanh", "linear"), seed=0, data_mean=dataset.train_mean)
    x = dataset.test[8:8 + batch]
    engine = BatchEngine(timeout=7200)
    result = {"batch": batch}
    runs = {}
    for form in ("dc", "tran"):
        spec = CircuitSpec(form=form, neuron=NeuronConfig(kind="sky130"), v_unit=0.1)
        circuit = build_circuit(net, spec, x)
        start = time.perf_counter()
        run = engine.readings(circuit, (0, 1), f"tran check {form}")
        runs[form] = (run.readings, circuit.node_map)
        result[f"{form}_seconds"] = run.seconds
        result[f"{form}_wall_seconds"] = time.perf_counter() - start
    (dc, dc_map), (tran, _) = runs["dc"], runs["tran"]
    for h in range(3):
        volts = dc_map.scale(h)
        result[f"held_L{h}_max_mV"] = float(np.abs(tran.held[h] - dc.held[h]).max() * volts * 1e3)
        result[f"cycle1_L{h}_max_mV"] = float(np.abs(tran.late[h] - dc.late[h]).max() * volts * 1e3)
        result[f"range_L{h}_mV"] = float(np.abs(dc.held[h]).max() * volts * 1e3)
    path.write_text(json.dumps(result, indent=1))
    return result


def _option(options: list[str], name: str, default=None):
    return options[options.index(name) + 1] if name in options else default


def corner_table() -> list[dict]:
    """Per sky130 point the stages measured at zero common current (r_f 10 kohm): the hidden neuron's gain at
    0 and output range, the static powers, and the periphery energy of one sample and of one update (the
    point's batch size) of its network."""
    from recirc_analog.cosim.measured_activation import measure_transfer, periphery_energy
    from recirc_analog.schematic.spec import CircuitSpec, NeuronConfig

    table = []
    for name, options in POINTS.items():
        if "sky130" not in options:
            continue
        corner, temp = _option(options, "--corner"), float(_option(options, "--temp"))
        sizes = tuple(int(n) for n in _option(options, "--sizes").split(","))
        hidden = measure_transfer("tanh", 10e3, 0.0, corner, temp)
        output = measure_transfer("linear", 10e3, 0.0, corner, temp)
        records = [{"stage_power_W": t.stage_power, "hold_power_W": t.hold_power} for t in (hidden, output)]
        spec = CircuitSpec(neuron=NeuronConfig(kind="sky130"), corner=corner, temp=temp)
        energy = periphery_energy(sizes, records, spec)
        slope = np.gradient(hidden.y, hidden.x)[np.argmin(np.abs(hidden.x))]
        table.append({"point": name, "sizes": "-".join(map(str, sizes)), "hidden_gain_at_0": float(slope),
                      "hidden_out_low_V": float(hidden.y.min()), "hidden_out_high_V": float(hidden.y.max()),
                      "output_gain_at_0": float(np.gradient(output.y, output.x)[np.argmin(np.abs(output.x))]),
                      "stage_power_tanh_W": hidden.stage_power, "hold_power_W": hidden.hold_power,
                      "periphery_power_W": energy["periphery_power_W"],
                      "energy_per_sample_J": energy["energy_per_sample_J"],
                      "energy_per_update_J": int(_option(options, "--batch-size")) * energy["energy_per_sample_J"]})
    return table


WINDOW = 20
"""Updates in the running means of the plots (single-sample losses spread over a factor of 10; the first
points average fewer)."""


def running_mean(values, window: int = WINDOW) -> np.ndarray:
    """Mean of the last ``window`` values at every index (fewer at the start)."""
    values = np.asarray(values, dtype=float)
    sums = np.cumsum(np.insert(values, 0, 0.0))
    index = np.arange(1, len(values) + 1)
    low = np.maximum(index - window, 0)
    return (sums[index] - sums[low]) / (index - low)


def summarise(name: str, rows: list[dict], folder: Path) -> dict:
    """One results.csv row of a point (finished or still running)."""
    n_layers = sum(1 for key in rows[0] if key.startswith("weight_rel_diff_A"))
    head, tail = rows[:WINDOW], rows[-WINDOW:]
    summary = json.loads((folder / "summary.json").read_text()) if (folder / "summary.json").is_file() else {}
    row = {"point": name, "updates": len(rows), "finished": summary.get("status") == "completed",
           f"cosim_loss_first{WINDOW}": float(np.mean([r["cosim_loss"] for r in head])),
           f"cosim_loss_last{WINDOW}": float(np.mean([r["cosim_loss"] for r in tail])),
           f"reference_loss_first{WINDOW}": float(np.mean([r["reference_loss"] for r in head])),
           f"reference_loss_last{WINDOW}": float(np.mean([r["reference_loss"] for r in tail])),
           "weight_rel_diff_last": rows[-1]["weight_rel_diff_max"],
           "weight_rel_diff_max": max(r["weight_rel_diff_max"] for r in rows)}
    for h in range(n_layers + 1):
        snr = [r[f"signal_rms_L{h}"] / r[f"noise_rms_L{h}"] for r in rows]
        row[f"snr_L{h}_first{WINDOW}"] = float(np.median(snr[:WINDOW]))
        row[f"snr_L{h}_last{WINDOW}"] = float(np.median(snr[-WINDOW:]))
        row[f"snr_L{h}_min"] = float(min(snr))
        row[f"snr_L{h}_share_below_10"] = float(np.mean(np.array(snr) < 10))
    for h in range(1, n_layers + 1):
        row[f"stage_peak_V_L{h}_max"] = max(r[f"stage_peak_V_L{h}"] for r in rows)
    row["ngspice_seconds_per_update"] = float(np.mean([r["ngspice_seconds"] for r in rows]))
    row["wall_seconds_per_update"] = float(np.mean([r["seconds"] for r in rows]))
    return row


def report(out: Path) -> list[dict]:
    """results.csv and the plots from the run folders under ``out`` (partial runs included)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from recirc_analog.schematic.periphery import SKY130_SWING
    from recirc_analog.schematic.voltage_budget import SWING_MARGIN

    results, curves = [], {}
    for name in POINTS:
        folder = out / name
        if not (folder / "metrics.csv").is_file() or not rows_of(folder):
            continue
        curves[name] = rows_of(folder)
        results.append(summarise(name, curves[name], folder))
    if not results:
        return results
    with open(HERE / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(dict.fromkeys(k for r in results for k in r)))
        writer.writeheader()
        writer.writerows(results)
    groups = {"Lowrank 16-4-16": [n for n in curves if not n.startswith("mnist")],
              "MNIST 7x7 49-10-49": [n for n in curves if n.startswith("mnist")]}
    groups = {title: names for title, names in groups.items() if names}

    def panels(path, ylabel, draw, suptitle, extra=None):
        fig, axes = plt.subplots(1, len(groups), figsize=(6 * len(groups), 4), squeeze=False)
        for ax, (title, names) in zip(axes[0], groups.items()):
            for name in names:
                draw(ax, name, np.array([r["batch"] for r in curves[name]]), curves[name])
            if extra:
                extra(ax)
            ax.set_xlabel("update (batch 1)")
            ax.set_ylabel(ylabel)
            ax.set_title(title)
            ax.legend(fontsize=7)
        fig.suptitle(suptitle, fontsize=10)
        fig.tight_layout()
        fig.savefig(path, dpi=110)
        plt.close(fig)

    def losses(ax, name, batches, rows):
        line, = ax.semilogy(batches, running_mean([r["cosim_loss"] for r in rows]), label=f"{name} circuit")
        ax.semilogy(batches, running_mean([r["reference_loss"] for r in rows]), "--", color=line.get_color(),
                    label=f"{name} reference")

    def divergence(ax, name, batches, rows):
        ax.semilogy(batches, [max(r["weight_rel_diff_max"], 1e-17) for r in rows], label=name)

    def snr(ax, name, batches, rows):
        n_layers = sum(1 for key in rows[0] if key.startswith("weight_rel_diff_A"))
        for h, style in zip(range(n_layers + 1), ("-", "--", ":")):
            ratio = [r[f"signal_rms_L{h}"] / r[f"noise_rms_L{h}"] for r in rows]
            ax.semilogy(batches, running_mean(ratio), style, label=f"{name} L{h}")

    def peaks(ax, name, batches, rows):
        n_layers = sum(1 for key in rows[0] if key.startswith("weight_rel_diff_A"))
        for h, style in zip(range(1, n_layers + 1), ("-", "--")):
            ax.plot(batches, [r[f"stage_peak_V_L{h}"] for r in rows], style, label=f"{name} L{h}")

    def swing(ax):
        ax.axhline(SKY130_SWING, color="k", lw=0.8)
        ax.axhline((1 - SWING_MARGIN) * SKY130_SWING, color="k", lw=0.8, ls=":")

    panels(HERE / "loss.png", f"minibatch loss, running mean of {WINDOW}", losses,
           "REC on sky130 periphery: circuit (solid) vs its lock-step reference (dashed); ideal = ideal periphery")
    panels(HERE / "divergence.png", "max_h ||A_circuit - A_ref|| / ||A_ref||", divergence,
           "weight divergence from the lock-step reference (the sky130 reference uses the measured curves)")
    panels(HERE / "snr.png", f"signal_rms / noise_rms, running mean of {WINDOW}", snr,
           "learning signal (held minus live) over the closed-form noise floor (kT/C + 4kTG; not injected)")
    panels(HERE / "stage_peaks.png", "largest column-stage output (V)", peaks,
           "column stages (TIA outputs) per update; sky130 op-amp swing 0.7 V (solid), plan limit 80 % (dotted)",
           swing)
    return results


PLAN_SWEEP = [(v, lr) for v in (0.025, 0.05, 0.1) for lr in (0.01, 0.05)]
"""(v_unit V, lr) pairs of :func:`plan_sweep`."""


def plan_sweep(updates: int = 300) -> list[dict]:
    """The design choice of v_unit and lr before any ngspice co-simulation: the lock-step reference with the
    sky130 stages measured at tt, 27 degC (r_f of the run, zero common current) trains 16-4-16 Lowrank REC
    online for ``updates`` updates on the study's data order; per (v_unit, lr) the mean loss of the first and
    last 30 updates and the voltage budget's largest predicted column-stage output (V) on the devices the
    weights map to (clipped to the window), and the first update where it passes 80 % of the swing."""
    from recirc_analog.cosim.measured_activation import MeasuredNetwork, measure_transfer
    from recirc_analog.data import load_dataset
    from recirc_analog.reference.network import CircularAutoencoder
    from recirc_analog.reference.rules import RecirculationRule
    from recirc_analog.reference.training import TrainConfig, Trainer
    from recirc_analog.schematic.mapping import ConductanceMapping, choose_r_f
    from recirc_analog.schematic.periphery import SKY130_SWING
    from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig
    from recirc_analog.schematic.voltage_budget import SWING_MARGIN, plan, stage_peaks

    data = load_dataset("lowrank", None, seed=0, dim=16)
    start = CircularAutoencoder.random((16, 4, 16), ("tanh", "linear"), seed=0, data_mean=data.train_mean)
    crossbar = CrossbarConfig(headroom=4.0)
    r_f = choose_r_f(start.weights, start.biases, crossbar)
    mapping = ConductanceMapping(crossbar, r_f)
    span = mapping.max_weight
    curves = {act: measure_transfer(act, r_f, 0.0, "tt", 27.0) for act in ("tanh", "linear")}
    table = []
    for v_unit, lr in PLAN_SWEEP:
        spec = CircuitSpec(neuron=NeuronConfig(kind="sky130"), v_unit=v_unit)
        measured = [curves["tanh"].activation(v_unit, "tanh"), curves["linear"].activation(v_unit, "linear")]
        net = MeasuredNetwork(start.sizes, start.activations, start.weights, start.biases, measured)
        trainer = Trainer(net, RecirculationRule(spec.recirculation),
                          TrainConfig(batch_size=1, layer_lrs=(lr, lr), seed=0, track_angles=False))
        stream = data.train_batches(1, np.random.default_rng([0, 0]))
        losses, peaks = [], []
        with np.errstate(over="ignore", invalid="ignore"):
            for _ in range(updates):
                x = next(stream)
                now = trainer.net
                devices = [mapping.to_conductances(np.clip(w, -span, span), np.clip(b, -span, span))
                           for w, b in zip(now.weights, now.biases)]
                peaks.append(max(v[0] for v in stage_peaks(plan(now, x, spec), devices, r_f).values()))
                losses.append(trainer.step(x).loss)
        over = [k for k, v in enumerate(peaks, start=1) if v > (1 - SWING_MARGIN) * SKY130_SWING]
        table.append({"v_unit_V": v_unit, "lr": lr, "loss_first30": float(np.mean(losses[:30])),
                      "loss_last30": float(np.mean(losses[-30:])), "stage_peak_V_max": float(max(peaks)),
                      "first_update_over_80pct_swing": over[0] if over else ""})
    return table


def write_table(path: Path, table: list[dict]) -> None:
    """Write ``table`` (rows with the same keys) as CSV to ``path`` and print its rows."""
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    for row in table:
        print(row)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=25, help="minibatches per point (default 25)")
    parser.add_argument("--out", default=str(HERE / "runs"), help="folder of the run folders (default runs/)")
    parser.add_argument("--jobs", type=int, default=2, help="points run at a time (default 2)")
    parser.add_argument("--only", default=None, help="comma-separated point names (default all)")
    parser.add_argument("--report-only", action="store_true", help="redraw from existing runs")
    parser.add_argument("--plan-sweep", action="store_true",
                        help="only the reference's prediction of loss and stage peaks per v_unit and lr "
                             "(plan_sweep.csv; no co-simulation)")
    parser.add_argument("--skip-corners", action="store_true",
                        help="do not re-measure the stages for corners.csv (about a minute of ngspice)")
    parser.add_argument("--tran-check", action="store_true",
                        help="only the tran-form check (tran_check.json): the sky130 holds and clock in time "
                             "against the dc form of the same circuit")
    args = parser.parse_args()
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    points = {k: v for k, v in POINTS.items() if args.only is None or k in args.only.split(",")}
    os.environ.setdefault("RECIRC_ANALOG_CACHE", str(out / ".cache"))
    if args.tran_check:
        print(tran_check(out))
        return 0
    if args.plan_sweep:
        table = plan_sweep()
        write_table(HERE / "plan_sweep.csv", table)
        return 0
    if not args.report_only:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for folder in pool.map(lambda item: run_point(item[0], item[1], out, args.batches), points.items()):
                print(f"done: {folder}", flush=True)
    for row in report(out):
        print(row)
    if args.skip_corners:
        return 0
    table = corner_table()
    write_table(HERE / "corners.csv", table)
    if (out / "tran_check.json").is_file():
        (HERE / "tran_check.json").write_text((out / "tran_check.json").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
