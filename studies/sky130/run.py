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

COMMON = ["--sizes", "16,4,16", "--act", "tanh,linear", "--data", "lowrank", "--mode", "pr",
          "--batch-size", "4", "--lr", "0.01", "--test-samples", "8", "--v-unit", "0.1", "--seed", "0",
          "--checkpoint-every", "5", "--ngspice-timeout", "3600"]
"""Settings every point shares (v_unit 0.1 V keeps every sky130 TIA output inside its +-0.7 V swing)."""

POINTS = {
    "ideal": ["--periphery", "ideal"],
    "sky130-tt-27C": ["--periphery", "sky130", "--corner", "tt", "--temp", "27"],
    "sky130-ss-125C": ["--periphery", "sky130", "--corner", "ss", "--temp", "125"],
    "sky130-ff--40C": ["--periphery", "sky130", "--corner", "ff", "--temp", "-40"],
}
"""Name -> the options of one co-simulation (ss / 125 C and ff / -40 C bracket the neuron's gain,
0.78-1.08 V/V in circuits/DATASHEET.md)."""


def run_point(name: str, options: list[str], out: Path, batches: int) -> Path:
    folder = out / name
    summary = folder / "summary.json"
    if summary.is_file() and json.loads(summary.read_text()).get("status") == "completed":
        return folder
    command = [sys.executable, "-m", "recirc_analog.cli", "cosim", *COMMON, *options, "--batches", str(batches),
               "--out", str(folder), "--overwrite"]
    with open(out / f"{name}.log", "w") as log:
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


def corner_table() -> list[dict]:
    """Per point the sky130 stages measured at zero common current (r_f 10 kohm): the hidden neuron's gain at
    0 and output range, the static powers, and the periphery energy of a 16-4-16 sample / update (batch 4)."""
    from recirc_analog.cosim.measured_activation import measure_transfer, periphery_energy
    from recirc_analog.schematic.spec import CircuitSpec, NeuronConfig

    table = []
    for name, options in POINTS.items():
        if "sky130" not in options:
            continue
        corner, temp = options[options.index("--corner") + 1], float(options[options.index("--temp") + 1])
        hidden = measure_transfer("tanh", 10e3, 0.0, corner, temp)
        output = measure_transfer("linear", 10e3, 0.0, corner, temp)
        records = [{"stage_power_W": t.stage_power, "hold_power_W": t.hold_power} for t in (hidden, output)]
        spec = CircuitSpec(neuron=NeuronConfig(kind="sky130"), corner=corner, temp=temp)
        energy = periphery_energy((16, 4, 16), records, spec)
        slope = np.gradient(hidden.y, hidden.x)[np.argmin(np.abs(hidden.x))]
        table.append({"point": name, "hidden_gain_at_0": float(slope),
                      "hidden_out_low_V": float(hidden.y.min()), "hidden_out_high_V": float(hidden.y.max()),
                      "output_gain_at_0": float(np.gradient(output.y, output.x)[np.argmin(np.abs(output.x))]),
                      "stage_power_tanh_W": hidden.stage_power, "hold_power_W": hidden.hold_power,
                      "energy_per_sample_J": energy["energy_per_sample_J"],
                      "energy_per_update_J": 4 * energy["energy_per_sample_J"]})
    return table


def report(out: Path) -> list[dict]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    results, curves = [], {}
    for name in POINTS:
        folder = out / name
        if not (folder / "metrics.csv").is_file() or not rows_of(folder):
            continue
        rows = rows_of(folder)
        finished = (folder / "summary.json").is_file()
        summary = json.loads((folder / "summary.json").read_text()) if finished else {}
        curves[name] = rows
        measured = summary.get("measured_activations") or []
        results.append({
            "point": name, "batches": len(rows), "finished": finished,
            "first_cosim_loss": rows[0]["cosim_loss"], "final_cosim_loss": rows[-1]["cosim_loss"],
            "final_reference_loss": rows[-1]["reference_loss"],
            "test_loss_cosim": summary.get("final_test_loss_cosim", ""),
            "test_loss_reference": summary.get("final_test_loss_reference", ""),
            "weight_rel_diff_max": max(r["weight_rel_diff_max"] for r in rows),
            "hidden_gain_at_0": measured[0]["gain_at_0"] if measured else "",
            "hidden_swing_V": (f"{measured[0]['output_low_V']:.4f}..{measured[0]['output_high_V']:.4f}"
                               if measured else ""),
            "output_gain_at_0": measured[1]["gain_at_0"] if len(measured) > 1 else "",
            "ngspice_seconds": sum(r["ngspice_seconds"] for r in rows),
        })
    if not results:
        return results
    with open(HERE / "results.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(results[0]))
        writer.writeheader()
        writer.writerows(results)
    def figure(path, ylabel, title, draw):
        fig, ax = plt.subplots(figsize=(7, 4))
        for name, rows in curves.items():
            draw(ax, name, [r["batch"] for r in rows], rows)
        ax.set_xlabel("minibatch (4 samples)")
        ax.set_ylabel(ylabel)
        ax.set_title(title)
        ax.legend(fontsize=7)
        fig.tight_layout()
        fig.savefig(path, dpi=120)
        plt.close(fig)

    def losses(ax, name, batches, rows):
        line, = ax.plot(batches, [r["cosim_loss"] for r in rows], label=f"{name} circuit")
        ax.plot(batches, [r["reference_loss"] for r in rows], "--", color=line.get_color(), label=f"{name} reference")

    def divergence(ax, name, batches, rows):
        ax.semilogy(batches, [max(r["weight_rel_diff_max"], 1e-17) for r in rows], label=name)

    figure(HERE / "loss.png", "minibatch loss (before update)",
           "REC 16-4-16 Lowrank: circuit (solid) vs its lock-step reference (dashed)", losses)
    figure(HERE / "divergence.png", "max_h ||A_circuit - A_ref|| / ||A_ref||",
           "weight divergence from the lock-step reference", divergence)
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=25, help="minibatches per point (default 25)")
    parser.add_argument("--out", default=str(HERE / "runs"), help="folder of the run folders (default runs/)")
    parser.add_argument("--jobs", type=int, default=2, help="points run at a time (default 2)")
    parser.add_argument("--only", default=None, help="comma-separated point names (default all)")
    parser.add_argument("--report-only", action="store_true", help="redraw from existing runs")
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
    if not args.report_only:
        with ThreadPoolExecutor(max_workers=args.jobs) as pool:
            for folder in pool.map(lambda item: run_point(item[0], item[1], out, args.batches), points.items()):
                print(f"done: {folder}", flush=True)
    for row in report(out):
        print(row)
    table = corner_table()
    with open(HERE / "corners.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(table[0]))
        writer.writeheader()
        writer.writerows(table)
    for row in table:
        print(row)
    if (out / "tran_check.json").is_file():
        (HERE / "tran_check.json").write_text((out / "tran_check.json").read_text())
    return 0


if __name__ == "__main__":
    sys.exit(main())
