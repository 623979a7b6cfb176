"""REPORT.md and ir_drop.png of the IR-drop study from the sweep's results.csv (called by run.py)."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read_rows(results: Path) -> list[dict]:
    with open(results) as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["r_wire"] = float(row["r_wire"])
        row["tile"] = int(row["tile"])
        for key in ("final_test_loss_cosim", "final_test_loss_reference", "wall_seconds"):
            row[key] = float(row[key]) if row.get(key) else None
        summary = results.parent / "points" / row["hash"] / "summary.json"
        row["summary"] = json.loads(summary.read_text()) if summary.exists() else {}
        metrics = results.parent / "points" / row["hash"] / "metrics.csv"
        row["first_loss"] = None
        if metrics.exists():
            with open(metrics) as handle:
                first = next(csv.DictReader(handle), None)
            if first:
                row["first_loss"] = (float(first["cosim_loss"]), float(first["reference_loss"]))
    return rows


def cell(value, fmt="{:.1f}") -> str:
    return "—" if value is None else fmt.format(value)


def gap(value, reference) -> str:
    """The loss and, in brackets, how far above the reference it is (percent)."""
    if value is None:
        return "—"
    if reference is None:
        return f"{value:.1f}"
    percent = 100 * (value - reference) / reference
    return f"{value:.1f} ({0.0 if abs(percent) < 0.05 else percent:+.1f}%)"


def write_report(results: Path, report: Path, plot: Path, max_train: int | None = None) -> None:
    rows = read_rows(results)
    done = [row for row in rows if row["status"] == "ok" and row["final_test_loss_cosim"] is not None]
    wires = sorted({row["r_wire"] for row in rows})
    tiles = sorted({row["tile"] for row in rows})
    by = {(row["r_wire"], row["tile"]): row for row in rows}
    references = [row["final_test_loss_reference"] for row in done]
    ideal = [row["final_test_loss_cosim"] for row in done if row["r_wire"] == 0]
    reference = sum(references) / len(references) if references else None
    ideal_mean = sum(ideal) / len(ideal) if ideal else None
    some = next((row["summary"] for row in done if row["summary"]), {})
    config = some.get("config", {})
    samples = config.get("max_train") or max_train
    batches = some.get("batches_done")
    test_samples = some.get("test_samples")

    lines = ["# IR drop vs tile size (issue 10)", ""]
    lines += ["REC-PR (plain recirculation) on MNIST, circular autoencoder 784-20-784 (tanh, logistic), "
              "minibatch 100, lr 0.05, seed 0, dc form, direct engine (`recirc-analog cosim --engine direct`), "
              "ideal devices, differential mapping; the grid is wire resistance per cell pitch "
              "(`--r-wire`, rows and columns) x tile size (`--tile N`: at most N rows x N neurons per tile; "
              "784 leaves the 785-row first crossbar and the 784-neuron second crossbar in one tile each). "
              "The circuit and the NumPy reference start from the same weights and see the same "
              "minibatches; the reference does not depend on the wires.", ""]
    if samples and samples < 60000:
        lines += [f"**Reduced scale.** Every point trained on the first {samples:,} MNIST training samples "
                  f"({batches} minibatches, {samples / 60000:.0%} of an epoch), the same for every point, "
                  "because the full grid (20 points x 600 minibatches) did not fit the time available on "
                  "this shared 2-vCPU machine. The full-epoch study is the same command without "
                  "`--max-train`.", ""]
    else:
        lines += ["Every point trained one full MNIST epoch (60,000 samples, 600 minibatches).", ""]
    command = "    .venv/bin/python studies/ir-drop/run.py"
    if samples and samples < 60000:
        command += f" --max-train {samples}"
    command += " --workers 2 --out studies/ir-drop/results"
    lines += ["Regenerate (resumable: finished points are skipped; `--report-only` only redraws):", "",
              command, "",
              "It writes `results/study.toml` (this folder's `study.toml` plus the data folder and "
              "`--max-train`) and runs it with `recirc-analog sweep`; `results/results.csv` has one row "
              "per point.", ""]
    lines += [f"## Final test loss of the circuit ({test_samples} MNIST test samples, summed binary "
              "cross-entropy per sample; in brackets: above the reference)", ""]
    lines += ["| r_wire (ohm) \\ tile | " + " | ".join(str(t) for t in tiles) + " |",
              "|---:|" + "---:|" * len(tiles)]
    for r in wires:
        values = [by.get((r, t), {}).get("final_test_loss_cosim") for t in tiles]
        lines.append(f"| {r:g} | " + " | ".join(gap(v, reference) for v in values) + " |")
    lines += ["", f"NumPy reference (same weights, batches, rule): **{cell(reference)}**"
              + (f" (identical in every point: {min(references):.3f} to {max(references):.3f})"
                 if references else ""),
              f"Ideal circuit (r_wire = 0; the tile size does not matter there): **{cell(ideal_mean)}**"
              + (f" ({min(ideal):.3f} to {max(ideal):.3f} over the four tile sizes)" if ideal else ""), ""]
    firsts = [row["first_loss"][1] for row in done if row["first_loss"]]
    lines += ["## Loss of the first minibatch (before any update: the IR drop's read error alone)", "",
              f"Reference (and ideal circuit): {cell(firsts[0] if firsts else None)}. In brackets: above it.", "",
              "| r_wire (ohm) \\ tile | " + " | ".join(str(t) for t in tiles) + " |",
              "|---:|" + "---:|" * len(tiles)]
    for r in wires:
        values = [by.get((r, t), {}).get("first_loss") for t in tiles]
        lines.append(f"| {r:g} | " + " | ".join(gap(v[0], v[1]) if v else "—" for v in values) + " |")
    lines += ["", "## Largest relative weight difference circuit vs reference at the end", "",
              "| r_wire (ohm) \\ tile | " + " | ".join(str(t) for t in tiles) + " |",
              "|---:|" + "---:|" * len(tiles)]
    for r in wires:
        values = [by.get((r, t), {}).get("summary", {}).get("weight_rel_diff_max") for t in tiles]
        lines.append(f"| {r:g} | " + " | ".join(cell(v, "{:.3g}") for v in values) + " |")
    walls = [row["wall_seconds"] for row in done if row["wall_seconds"]]
    lines += ["", "## Wall time per point (s, 2 Dask workers on a shared 2-vCPU machine)", ""]
    if walls and samples:
        lines += [f"Mean {sum(walls) / len(walls):.0f} s per point for {samples:,} samples, i.e. "
                  f"~{sum(walls) / len(walls) * 60000 / samples / 60:.0f} min per point for a full epoch at "
                  "the same load (other jobs share the machine; see README.md for the load during the run).", ""]
    lines += ["| r_wire (ohm) \\ tile | " + " | ".join(str(t) for t in tiles) + " |",
              "|---:|" + "---:|" * len(tiles)]
    for r in wires:
        values = [by.get((r, t), {}).get("wall_seconds") for t in tiles]
        lines.append(f"| {r:g} | " + " | ".join(cell(v, "{:.0f}") for v in values) + " |")
    failed = [row for row in rows if row["status"] != "ok"]
    if failed:
        lines += ["", "Points not finished: " + ", ".join(
            f"r_wire {row['r_wire']:g} tile {row['tile']} ({row['status']}"
            f"{': ' + row['error'] if row['error'] else ''})" for row in failed)]
    lines += ["", "![test loss vs wire resistance](ir_drop.png)", ""]
    report.write_text("\n".join(lines))

    figure, axes = plt.subplots(figsize=(6.4, 4.4))
    for t in tiles:
        points = [(r, by[(r, t)]["final_test_loss_cosim"]) for r in wires
                  if (r, t) in by and by[(r, t)]["final_test_loss_cosim"] is not None]
        if points:
            axes.plot(*zip(*points), marker="o", label=f"circuit, tile {t}")
    if ideal_mean is not None:
        axes.axhline(ideal_mean, color="black", linestyle="--", linewidth=1, label="ideal circuit (0 ohm)")
    if reference is not None:
        axes.axhline(reference, color="grey", linestyle=":", linewidth=1.5, label="NumPy reference")
    axes.set_xlabel("wire resistance per cell pitch (ohm)")
    axes.set_ylabel(f"final test loss ({test_samples} samples)")
    scale = f"{samples:,} samples" if samples and samples < 60000 else "one epoch"
    axes.set_title(f"REC-PR, MNIST 784-20-784, direct engine, {scale}")
    axes.grid(alpha=0.3)
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(plot, dpi=110)
    plt.close(figure)
