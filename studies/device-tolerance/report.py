"""Device tolerance (issue 11): REPORT.md tables, tolerance.png and results/*.csv from the sweep folders.

``write_report(out, cosim_out, study_folder, max_train)`` reads ``out/results.csv`` (and each
point's ``summary.json`` for its initial test loss), ``cosim_out/results.csv`` when present,
and writes into ``study_folder``:

- ``results/results.csv``: one row per training point with its axis, value, initial and final
  test loss and the *retained learning* ``(L0 - L) / (L0 - L_ideal)``: the fraction of the
  ideal device's loss decrease (same rule, same seed, same initial weights) the device keeps
  (1: as ideal; 0: no learning; < 0: worse than the untrained network). ``L0`` is the intended
  untrained network's loss (the ideal device's epoch 0): a device whose initial weights are
  already off (stuck devices) starts from its own, higher ``initial_test_loss``;
- ``results/cosim.csv``: the circuit-level points (when run);
- ``tolerance.png``: retained learning against each non-ideality, one line per rule, mean and
  spread (min..max) over the seeds;
- ``REPORT.md``: the tables the text cites (its prose is written from them, by hand, between the
  ``<!-- prose -->`` markers, which a rerun keeps).
"""

from __future__ import annotations

import csv
import json
import math
from collections import defaultdict
from pathlib import Path

from axes import AXES, AXIS_LABELS, device_files

RULES = ("bp", "rec", "top")
THRESHOLD = 0.5
"""A device "stops learning" for a rule where its mean retained learning falls below this."""
PROSE_START, PROSE_END = "<!-- prose -->", "<!-- /prose -->"
Y_FLOOR = -3.0
"""Lowest retained learning a panel shows (the tables have every value)."""


def _float(text) -> float:
    try:
        return float(text)
    except (TypeError, ValueError):
        return math.nan


def _device_key(device: str) -> tuple[str, float | None]:
    """(axis, value) of a results.csv device cell (a preset name or an absolute path)."""
    if not device.endswith(".json"):
        return device, None
    name = "devices/" + Path(device).name
    axis, value, _ = device_files()[name]
    return axis, value


def load_points(out: Path) -> list[dict]:
    """The training points with their axis, value, losses and retained learning."""
    with open(out / "results.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    points = []
    for row in rows:
        axis, value = _device_key(row["device"])
        summary_path = out / "points" / row["hash"] / "summary.json"
        initial = math.nan
        if summary_path.exists():
            initial = _float(json.loads(summary_path.read_text()).get("initial_test_loss"))
        points.append({"seed": int(row["seed"]), "rule": row["rule"], "axis": axis, "value": value,
                       "initial_test_loss": initial, "final_test_loss": _float(row["final_test_loss"]),
                       "wall_seconds": _float(row["wall_seconds"]), "status": row["status"],
                       "error": row.get("error", "")})
    ideal = {(p["rule"], p["seed"]): p for p in points if p["axis"] == "ideal"}
    for p in points:
        reference = ideal.get((p["rule"], p["seed"]))
        p["ideal_initial_test_loss"] = reference["initial_test_loss"] if reference else math.nan
        start = p["ideal_initial_test_loss"]
        gain = start - reference["final_test_loss"] if reference else math.nan
        p["retained"] = (start - p["final_test_loss"]) / gain if gain > 0 else math.nan
    return points


def _stats(values) -> tuple[float, float, float, int]:
    """(mean, min, max, n) of the finite values (nan, nan, nan, 0 when none)."""
    finite = [v for v in values if math.isfinite(v)]
    if not finite:
        return math.nan, math.nan, math.nan, 0
    return sum(finite) / len(finite), min(finite), max(finite), len(finite)


def summarise(points) -> dict:
    """(axis, value, rule) -> {'loss': stats, 'retained': stats, 'failed': count}."""
    groups = defaultdict(list)
    for p in points:
        groups[(p["axis"], p["value"], p["rule"])].append(p)
    table = {}
    for key, members in groups.items():
        ok = [p for p in members if p["status"] == "ok"]
        table[key] = {"loss": _stats(p["final_test_loss"] for p in ok),
                      "initial": _stats(p["initial_test_loss"] for p in ok),
                      "retained": _stats(p["retained"] for p in ok),
                      "failed": sum(p["status"] == "failed" for p in members),
                      "pending": sum(p["status"] not in ("ok", "failed") for p in members)}
    return table


def tolerance(table, axis: str, rule: str) -> str:
    """The worst swept value at which the rule keeps >= THRESHOLD of the ideal learning (values in
    order of increasing non-ideality; levels decrease), or a phrase when none or all do."""
    values = sorted(AXES[axis][1], reverse=axis == "levels")
    kept = [v for v in values if table.get((axis, v, rule), {}).get("retained", (math.nan,))[0] >= THRESHOLD]
    if not kept:
        return "none"
    worst = kept[-1]
    return f"all ({worst:g})" if worst == values[-1] else f"{worst:g}"


def _fmt(stats, digits=1) -> str:
    mean, low, high, n = stats
    if n == 0:
        return "-"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def write_csv(points, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = ["axis", "value", "rule", "seed", "ideal_initial_test_loss", "initial_test_loss", "final_test_loss",
               "retained",
               "wall_seconds", "status", "error"]
    with open(path, "w", newline="") as handle:
        writer = csv.DictWriter(handle, columns, lineterminator="\n", extrasaction="ignore")
        writer.writeheader()
        for p in sorted(points, key=lambda p: (p["axis"], p["value"] or 0, p["rule"], p["seed"])):
            writer.writerow({k: ("" if p[k] is None else p[k]) for k in columns})


def plot(table, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 4, figsize=(17, 8), constrained_layout=True)
    colours = {"bp": "tab:blue", "rec": "tab:red", "top": "tab:green"}
    for ax, axis in zip(axes.flat, AXES):
        values = AXES[axis][1]
        for k, rule in enumerate(RULES):
            xs, mean, low, high = [], [], [], []
            for v in values:
                m, lo, hi, n = table.get((axis, v, rule), {}).get("retained", (math.nan,) * 3 + (0,))
                if n:
                    xs.append(v), mean.append(m), low.append(m - lo), high.append(hi - m)
            if xs:
                shift = 1.0 + 0.04 * (k - 1)                  # separate the error bars a little
                ax.errorbar([x * shift for x in xs], mean, yerr=[low, high], marker="o", capsize=3,
                            color=colours[rule], label=rule.upper())
            base = table.get(("base", None, rule), {}).get("retained", (math.nan,))[0]
            if math.isfinite(base):
                ax.axhline(base, color=colours[rule], lw=0.8, ls=":")
        ax.axhline(THRESHOLD, color="grey", lw=0.8, ls="--")
        ax.axhline(0.0, color="black", lw=0.6)
        ax.set_xscale("log")
        ax.set_xticks(values, [f"{v:g}" for v in values])
        ax.minorticks_off()
        low = min((table.get((axis, v, r), {}).get("retained", (math.nan,))[0] for v in values for r in RULES),
                  default=0.0)
        if low < Y_FLOOR:                                   # stuck and coarse levels reach -800: clip, say so
            ax.set_ylim(Y_FLOOR, 1.5)
            ax.text(0.02, 0.03, f"clipped at {Y_FLOOR:g}; lowest {low:.0f} (REPORT.md)", transform=ax.transAxes,
                    fontsize=8)
        if axis == "levels":
            ax.invert_xaxis()
        ax.set_xlabel(AXIS_LABELS[axis])
        ax.set_ylabel("retained learning (1 = ideal device)")
        ax.set_title(axis.replace("_", " "))
        ax.grid(alpha=0.3)
    axes.flat[0].legend()
    last = axes.flat[-1]
    last.axis("off")
    last.text(0.0, 0.5, "dotted: the baseline device (1e-4 span steps,\nstochastic pulses, no other non-ideality)\n"
              "dashed: the 'stops learning' threshold 0.5\nbars: min..max over the seeds",
              fontsize=10, va="center")
    fig.suptitle("MNIST 784-20-784 (tanh, logistic), hardware-aware reference: learning kept per non-ideality")
    fig.savefig(path, dpi=110)
    plt.close(fig)


def load_cosim(cosim_out: Path) -> list[dict]:
    path = cosim_out / "results.csv"
    if not path.exists():
        return []
    with open(path, newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        row["axis"], row["value"] = _device_key(row["device"])
        summary_path = cosim_out / "points" / row["hash"] / "summary.json"
        row["summary"] = json.loads(summary_path.read_text()) if summary_path.exists() else {}
    return rows


def _device_label(axis: str, value) -> str:
    return axis if value is None else f"{axis} {value:g}"


def markdown(points, table, cosim, max_train) -> str:
    n_ok = sum(p["status"] == "ok" for p in points)
    seeds = sorted({p["seed"] for p in points})
    scale = (f"the first {max_train:,} training samples ({max_train // 100} minibatches of 100) per point"
             if max_train else "one full epoch (60,000 samples) per point")
    lines = ["# Device tolerance: REC against BP and TOP on the same non-ideal synapses", "",
             f"Generated by `studies/device-tolerance/run.py` ({n_ok} of {len(points)} training points ok; "
             f"seeds {', '.join(map(str, seeds))}; {scale}; test loss on the 10,000 MNIST test images).", "",
             PROSE_START, PROSE_END, "",
             "## Tolerance: the worst swept value that keeps >= 50 % of the ideal device's learning", "",
             "| non-ideality | " + " | ".join(r.upper() for r in RULES) + " |",
             "|---|" + "---|" * len(RULES)]
    for axis in AXES:
        lines.append(f"| {AXIS_LABELS[axis]} | " + " | ".join(tolerance(table, axis, r) for r in RULES) + " |")
    lines += ["", "## Retained learning and final test loss per device", "",
              "Each cell: mean [min, max] over the seeds. Retained learning = (L0 - L) / (L0 - L_ideal) with "
              "L0 the intended untrained network's test loss (the ideal device's, before training) and L_ideal "
              "the ideal device's final loss (same rule and seed): 1 as ideal, 0 no learning, < 0 worse than "
              "untrained.",
              "", "| device | " + " | ".join(f"{r.upper()} retained" for r in RULES) + " | "
              + " | ".join(f"{r.upper()} final loss" for r in RULES) + " |",
              "|---|" + "---|" * (2 * len(RULES))]
    keys = [("ideal", None), ("base", None)] + [(a, v) for a in AXES for v in AXES[a][1]]
    for axis, value in keys:
        cells = [_fmt(table.get((axis, value, r), {}).get("retained", (math.nan, 0, 0, 0)), 2) for r in RULES]
        cells += [_fmt(table.get((axis, value, r), {}).get("loss", (math.nan, 0, 0, 0)), 1) for r in RULES]
        failed = sum(table.get((axis, value, r), {}).get("failed", 0) for r in RULES)
        pending = sum(table.get((axis, value, r), {}).get("pending", 0) for r in RULES)
        note = (f" ({failed} failed)" if failed else "") + (f" ({pending} not run)" if pending else "")
        lines.append(f"| {_device_label(axis, value)}{note} | " + " | ".join(cells) + " |")
    initial = _stats(p["initial_test_loss"] for p in points if p["status"] == "ok" and p["axis"] == "ideal")
    lines += ["", f"Untrained test loss L0: {_fmt(initial, 1)} (the seeds' intended initial networks). The "
              "initial loss as the devices hold the network (before any update) is in results/results.csv "
              "(initial_test_loss); it differs from L0 only for stuck devices.", ""]
    failures = [p for p in points if p["status"] == "failed"]
    if failures:
        lines += ["Failed points:", ""] + [f"- {p['rule']} seed {p['seed']} {_device_label(p['axis'], p['value'])}: "
                                           f"{p['error']}" for p in failures] + [""]
    walls = [p["wall_seconds"] for p in points if p["status"] == "ok" and math.isfinite(p["wall_seconds"])]
    if walls:
        lines += [f"Wall time per point: {min(walls):.0f}-{max(walls):.0f} s (mean {sum(walls) / len(walls):.0f} s), "
                  "two Dask workers on the shared 2-vCPU machine.", ""]
    if cosim:
        lines += ["## Circuit level: the co-simulation (direct engine) with the same devices", "",
                  "`recirc-analog cosim --engine direct --mode pr` (REC-PR), 784-20-784, lr 0.01, seed 0, the first "
                  "2,000 training samples (20 minibatches), 1,000 test samples, 128-row tiles; `reference` is the "
                  "plain (ideal-device, ideal-wire) NumPy reference run in lock-step from the weights the devices "
                  "hold at the start (so a stuck device's reference starts from its stuck weights).", "",
                  "| device | r_wire (ohm) | circuit test loss | reference test loss | circuit / reference | "
                  "largest weight difference | status |", "|---|---|---|---|---|---|---|"]
        for row in cosim:
            s = row["summary"]
            c, r = _float(row.get("final_test_loss_cosim")), _float(row.get("final_test_loss_reference"))
            ratio = f"{c / r:.3f}" if math.isfinite(c) and math.isfinite(r) and r else "-"
            diff = s.get("weight_rel_diff_max", s.get("final_weight_rel_diff_max", "-"))
            diff = f"{diff:.2g}" if isinstance(diff, float) else "-"
            lines.append(f"| {_device_label(row['axis'], row['value'])} | {row['r_wire']} | {c:.2f} | {r:.2f} | "
                         f"{ratio} | {diff} | {row['status']} |")
        lines.append("")
    return "\n".join(lines) + "\n"


def write_report(out, cosim_out, study_folder, max_train=None) -> None:
    """REPORT.md, tolerance.png and results/*.csv in ``study_folder`` (module docstring)."""
    out, cosim_out, study_folder = Path(out), Path(cosim_out), Path(study_folder)
    points = load_points(out)
    table = summarise(points)
    write_csv(points, study_folder / "results" / "results.csv")
    cosim = load_cosim(cosim_out)
    if cosim:
        columns = ["device", "r_wire", "final_test_loss_cosim", "final_test_loss_reference", "wall_seconds",
                   "status", "error"]
        with open(study_folder / "results" / "cosim.csv", "w", newline="") as handle:
            writer = csv.DictWriter(handle, columns, lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            for row in cosim:
                writer.writerow({**row, "device": _device_label(row["axis"], row["value"])})
    plot(table, study_folder / "tolerance.png")
    text = markdown(points, table, cosim, max_train)
    report = study_folder / "REPORT.md"
    if report.exists():                                      # keep the hand-written prose
        old = report.read_text()
        if PROSE_START in old and PROSE_END in old:
            prose = old[old.index(PROSE_START):old.index(PROSE_END) + len(PROSE_END)]
            text = text.replace(PROSE_START + "\n" + PROSE_END, prose)
    report.write_text(text)
