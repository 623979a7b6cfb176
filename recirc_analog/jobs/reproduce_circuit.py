"""The circuit panels of ``recirc-analog reproduce --circuit``: two paper panels through the co-simulation.

REC (plain recirculation) of a Lowrank panel (Fig. 4, left: 100-20-100, linear, lr 0.001)
and of an MNIST panel (Fig. 5, linear, one hidden layer of 20, lr 0.01) is trained by the
circuit (:func:`recirc_analog.jobs.cosim.run_cosim`) in lock-step with the NumPy
reference, at reduced scale: a few hundred minibatches instead of epochs, and MNIST
pooled to 14 x 14 (196-20-196) so the panel takes minutes. What is ideal: the devices
(default :class:`~recirc_analog.devices.DeviceConfig`, continuous, noiseless) and every
active block (ARCHITECTURE.md §1); the paper's weight cap of 2.0 is absent (the
co-simulation has none), so the reference beside the circuit has none either.

Writes ``circuit.csv`` (panel, batch, circuit_loss, reference_loss, weight_rel_diff_max),
``circuit.png``, ``circuit.md`` (the report section) and the co-simulation run folders
under ``circuit-runs/``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from pathlib import Path

from ..cosim.lockstep import CosimConfig
from ..devices import DeviceConfig
from ..fileio import atomic_open
from ..reference.recirculation import Recirculation
from ..schematic.spec import CircuitSpec
from .cosim import run_cosim


@dataclass(frozen=True)
class CircuitPanel:
    """One paper panel re-run in the circuit."""

    key: str
    """Name in circuit.csv and of the run folder."""
    title: str
    """Panel title, with the paper panel it reduces."""
    data: str
    """lowrank or mnist."""
    sizes: tuple[int, ...]
    """Layer widths."""
    lr: float
    """Learning rate (the paper's for that panel)."""
    downsample: int | None = None
    """Image pooling factor (2: 14 x 14)."""


CIRCUIT_PANELS = (
    CircuitPanel("lowrank", "Fig. 4 left: Lowrank 100-20-100, linear", "lowrank", (100, 20, 100), 0.001),
    CircuitPanel("mnist", "Fig. 5 top left at 14x14: MNIST 196-20-196", "mnist", (196, 20, 196), 0.01,
                 downsample=2),
)
"""The panels re-run through the co-simulation."""

AUDIT_EVERY = 25
"""With the direct engine, ngspice re-simulates every this many minibatches (the run stops on a deviation)."""


def draw_circuit(out) -> Path:
    """circuit.png from ``out``/circuit.csv: per panel the circuit's minibatch loss beside the reference's."""
    from ..report.paper_figures import plot_circuit_panel

    titles = {panel.key: panel.title for panel in CIRCUIT_PANELS}
    curves: dict[str, dict[str, list[float]]] = {}
    with open(Path(out) / "circuit.csv", encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            panel = curves.setdefault(titles.get(row["panel"], row["panel"]),
                                      {"REC, reference": [], "REC, circuit": []})
            panel["REC, reference"].append(float(row["reference_loss"]))
            panel["REC, circuit"].append(float(row["circuit_loss"]))
    return plot_circuit_panel(Path(out) / "circuit.png", curves,
                              title="REC in the co-simulated circuit beside the reference")


def circuit_panels(out, data_dir, *, batches: int, engine: str = "direct", seed: int = 0,
                   show_progress: bool = True, command: str = "recirc-analog reproduce --circuit") -> list[str]:
    """Co-simulate :data:`CIRCUIT_PANELS` for ``batches`` minibatches each; write circuit.csv / .png / .md.

    Returns the lines of circuit.md, the REPORT.md section comparing the circuit with its reference.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    rows, table = [], []
    for panel in CIRCUIT_PANELS:
        config = CosimConfig(sizes=panel.sizes, activations=("linear", "linear"), data=panel.data,
                             batches=batches, batch_size=100, lr=panel.lr, seed=seed, engine=engine,
                             audit_every=min(AUDIT_EVERY, batches) if engine == "direct" else 0,
                             checkpoint_every=max(batches, 1), test_samples=100, downsample=panel.downsample,
                             data_dir=data_dir)
        spec = CircuitSpec(recirculation=Recirculation("pr"), form="dc")
        summary = run_cosim(config, spec, DeviceConfig(), out / "circuit-runs" / panel.key,
                            show_progress=show_progress, overwrite=True)
        with open(out / "circuit-runs" / panel.key / "metrics.csv", encoding="utf-8", newline="") as handle:
            metrics = list(csv.DictReader(handle))
        rows += [[panel.key, m["batch"], m["cosim_loss"], m["reference_loss"], m["weight_rel_diff_max"]]
                 for m in metrics]
        audit = summary.get("audit_max_deviation")
        clipped = [int(m["clipped_devices"] or 0) for m in metrics]
        first_clip = next((m["batch"] for m, c in zip(metrics, clipped) if c), "none")
        table.append(f"| {panel.title} | {batches} | {float(metrics[0]['cosim_loss']):.4g} -> "
                     f"{summary['final_cosim_loss']:.4g} | {summary['final_reference_loss']:.4g} | "
                     f"{summary['final_test_loss_cosim']:.4g} / {summary['final_test_loss_reference']:.4g} | "
                     f"{summary['weight_rel_diff_max']:.2g} | "
                     f"{'n/a' if audit is None else f'{audit:.2g}'} | {first_clip} ({max(clipped)}) | "
                     f"{summary['wall_seconds']:.0f} |")
    with atomic_open(out / "circuit.csv", "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["panel", "batch", "circuit_loss", "reference_loss", "weight_rel_diff_max"])
        writer.writerows(rows)
    draw_circuit(out)
    lines = ["## Circuit panels (co-simulation, reduced scale)", "", f"Run: `{command}`", "",
            f"REC trained by the circuit ({engine} engine"
            + (f", every {AUDIT_EVERY}th minibatch re-simulated by ngspice" if engine == "direct" else "")
            + f") in lock-step with the NumPy reference, {batches} minibatches of 100, dc netlist form, "
            "ideal devices and ideal active blocks, no weight cap (the co-simulation has none). MNIST is pooled "
            "to 14 x 14. Paper's claim being tested: the local rule computed from the circuit's node voltages "
            "is the reference's rule, so the circuit's curve lies on the reference's.", "",
            "| panel | minibatches | circuit minibatch loss first -> last | reference last | test loss circuit "
            "/ reference (100 samples) | largest relative weight difference | ngspice audit deviation | "
            "first minibatch with a device at its conductance bound (most in one minibatch) | seconds |",
            "|---|---|---|---|---|---|---|---|---|", *table, "",
            "Until a device reaches the bound of its conductance window (r_f leaves a headroom of 2 over the "
            "largest initial weight), the circuit's weights equal the reference's to round-off; from then on "
            "the device model clips the update the reference applies, and the curves part by that much. The "
            "reference has no such bound; the paper's cap of 2.0 on each neuron's incoming weight norm is a "
            "different constraint that the co-simulation does not implement.", "",
            "Curves: `circuit.csv`; panel: `circuit.png`", "", "![circuit panels](circuit.png)", ""]
    with atomic_open(out / "circuit.md", "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return lines
