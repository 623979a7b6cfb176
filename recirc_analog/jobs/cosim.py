"""``run_cosim``: the co-simulation loop with metrics, checkpoints and the output folder.

Output folder::

    metrics.csv              one row per batch: batch,samples,cosim_loss,reference_loss,
                             weight_rel_diff_max,seconds,... (per-layer differences, engine time;
                             relaxed_tolerance 1 if ngspice converged only with loosened tolerances;
                             audit_deviation: with --engine direct --audit-every K, every K-th batch the
                             largest relative difference of any read voltage from ngspice, else empty)
    summary.json             configuration (config, spec, device: each rebuilt by
                             records.from_record), final losses, largest weight difference,
                             ngspice version, wall time and ngspice's share of it, and with an audit
                             audit_max_deviation, audit_tolerance and audited_batches
    weights_cosim.npz        the circuit's effective weights (weights.npz format)
    weights_reference.npz    the lock-step reference's weights
    conductances.npz         every device's conductance (S): G{plus,minus}_<h>
    netlist.cir              the netlist of the last simulated batch
    loss.png, weight_difference.png, reconstructions.png (image data)
    checkpoint.npz           resumable state (every --checkpoint-every batches)
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np

from ..cosim.checkpoint import CHECKPOINT_NAME, Checkpoint, load_checkpoint, save_checkpoint
from ..cosim.lockstep import CosimConfig, LockStep, fingerprint
from ..data import load_dataset
from ..devices import DeviceConfig
from ..engines import get_engine
from ..errors import SimulationError, UsageError
from ..fileio import MetricsWriter, atomic_open, save_npz_atomic, write_json_atomic
from ..schematic.spec import CircuitSpec
from .progress import progress_bar
from .records import to_record

BASE_COLUMNS = ["batch", "samples", "cosim_loss", "reference_loss", "weight_rel_diff_max", "seconds",
                "ngspice_seconds", "netlist_seconds", "clipped_devices", "relaxed_tolerance", "audit_deviation"]




def metric_columns(n_layers: int) -> list[str]:
    """Header of metrics.csv."""
    return BASE_COLUMNS + [f"weight_rel_diff_A{h}" for h in range(1, n_layers + 1)]


def run_cosim(config: CosimConfig, spec: CircuitSpec, device: DeviceConfig, out, *, resume: bool = False,
              show_progress: bool = True, stop_after: int | None = None, accept_relaxed: bool = False) -> dict:
    """Run (or continue) a co-simulation; write the output folder ``out``; return the summary.

    ``stop_after`` ends the run after that many batches in this call (tests use
    it to interrupt a run); the checkpoint then holds everything to resume.
    ``accept_relaxed``: use batches ngspice solved only with loosened tolerances
    (flagged in the ``relaxed_tolerance`` column) instead of stopping with a SimulationError.
    """
    out = Path(out)
    if resume and not (out / CHECKPOINT_NAME).exists():
        raise UsageError(f"--resume: no checkpoint in {out}")
    dataset = load_dataset(config.data, config.data_dir, seed=config.seed, downsample=config.downsample,
                           dim=config.sizes[0])
    if dataset.dim != config.sizes[0]:
        raise UsageError(f"--sizes must start with the data dimension {dataset.dim} for {config.data}"
                         f"{' with --downsample ' + str(config.downsample) if config.downsample else ''}, "
                         f"got {config.sizes[0]}")
    per_epoch = dataset.batches_per_epoch(config.batch_size)
    per_epoch = min(per_epoch, config.batches) if config.batches else per_epoch
    total = per_epoch * config.epochs
    out.mkdir(parents=True, exist_ok=True)
    engine = get_engine(config.engine)
    audit = _Audit(config, spec)
    try:
        lockstep = LockStep.create(config, spec, device, engine, dataset.train_mean)
        lockstep.controller.accept_relaxed = accept_relaxed
        lockstep.controller.audit_engine = audit.engine
        key = fingerprint(config, lockstep.controller.spec, device)
        done = 0
        if resume:
            checkpoint = load_checkpoint(out, key)
            lockstep.controller.state.set_state(checkpoint.device_state)
            lockstep.reference.net.weights = [np.array(w) for w in checkpoint.reference_weights]
            lockstep.reference.net.biases = [np.array(b) for b in checkpoint.reference_biases]
            done = checkpoint.batches_done
        n_layers = len(config.sizes) - 1
        start = time.perf_counter()
        ngspice_total = 0.0
        kept = done if resume else None
        with MetricsWriter(out / "metrics.csv", metric_columns(n_layers), keep_rows=kept) as writer, \
                progress_bar(total * config.batch_size, "cosim", enabled=show_progress) as bar:
            bar.update(done * config.batch_size)
            ran = 0
            for index, x in _batches(dataset, config, per_epoch, done):
                if stop_after is not None and ran >= stop_after:
                    break
                tick = time.perf_counter()
                lockstep.controller.audit_next = audit.due(index + 1)
                row = lockstep.step(x, label=f"batch {index + 1}")
                row.update(batch=index + 1, samples=(index + 1) * config.batch_size,
                           seconds=time.perf_counter() - tick,
                           relaxed_tolerance=int(lockstep.controller.last_relaxed),
                           audit_deviation=lockstep.controller.last_audit_deviation)
                writer.write_row(row)
                audit.check(lockstep.controller.last_audit_deviation, index + 1, lockstep.controller.last_circuit)
                ngspice_total += row["ngspice_seconds"]
                ran += 1
                done = index + 1
                bar.update(len(x))
                bar.set_postfix(cosim=f"{row['cosim_loss']:.4g}", ref=f"{row['reference_loss']:.4g}",
                                diff=f"{row['weight_rel_diff_max']:.1e}")
                if done % config.checkpoint_every == 0 or done == total:
                    _checkpoint(out, lockstep, key, done)
        wall = time.perf_counter() - start
        summary = _finish(out, config, device, lockstep, dataset, engine, done, total, wall, ngspice_total,
                          audit)
    finally:
        engine.close()
        audit.close()
    return summary


class _Audit:
    """ngspice re-simulating every ``config.audit_every``-th batch of the direct engine (issue 10)."""

    def __init__(self, config: CosimConfig, spec: CircuitSpec):
        self.every = config.audit_every
        self.engine = None
        self.tolerance = None
        if self.every:
            self.engine = get_engine("batch")

    def due(self, batch: int) -> bool:
        """Whether batch number ``batch`` (1-based) is audited."""
        return bool(self.every) and batch % self.every == 0

    def check(self, deviation: float | None, batch: int, circuit) -> None:
        """Record ``deviation`` of ``circuit``; SimulationError above its tolerance
        (:func:`recirc_analog.engines.direct.audit_tolerance`: 1e-6 dc, the hold's bound tran)."""
        if deviation is None:
            return
        from ..engines.direct import audit_tolerance

        tolerance = audit_tolerance(circuit)
        self.tolerance = max(self.tolerance or 0.0, tolerance)
        if not deviation <= tolerance:
            raise SimulationError(f"audit of batch {batch}: the direct engine differs from ngspice by {deviation:.3g} "
                                  f"(relative, largest read voltage) > tolerance {tolerance:g}; stopped")

    def summary(self, rows) -> dict:
        """The audit's entries of summary.json, over every row of metrics.csv (a resumed run included)."""
        if not self.every:
            return {}
        deviations = [r["audit_deviation"] for r in rows if r.get("audit_deviation") is not None]
        return {"audit_every": self.every, "audit_tolerance": self.tolerance,
                "audited_batches": len(deviations), "audit_max_deviation": max(deviations, default=None)}

    def close(self) -> None:
        if self.engine is not None:
            self.engine.close()


def _batches(dataset, config: CosimConfig, per_epoch: int, done: int):
    """(global index, batch) for every batch after the first ``done``; each epoch's order comes from
    the seed and the epoch number only, so a resumed run sees the same batches."""
    for epoch in range(config.epochs):
        stream = dataset.train_batches(config.batch_size, np.random.default_rng([config.seed, epoch]))
        for k, x in zip(range(per_epoch), stream):
            index = epoch * per_epoch + k
            if index >= done:
                yield index, x


def _checkpoint(out: Path, lockstep: LockStep, key: str, done: int) -> None:
    ref = lockstep.reference.net
    save_checkpoint(out, Checkpoint(done, key, lockstep.controller.state.get_state(),
                                    [w.copy() for w in ref.weights], [b.copy() for b in ref.biases]))


def _finish(out, config, device, lockstep, dataset, engine, done, total, wall, ngspice_total, audit) -> dict:
    """Final evaluation on test samples, weight files, netlist, plots and summary.json."""
    controller, reference = lockstep.controller, lockstep.reference
    test = dataset.test[:config.test_samples]
    readings, _, _ = controller.simulate(test, label="test")
    cosim_net = controller.network()
    cosim_test = controller.loss.value(test, readings.output)
    reference_test = reference.evaluate(test)
    cosim_net.save(out / "weights_cosim.npz")
    reference.net.save(out / "weights_reference.npz")
    conductances = {}
    for h, c in enumerate(controller.state.all_conductances(), start=1):
        conductances[f"Gplus_{h}"] = c.plus
        if c.minus is not None:
            conductances[f"Gminus_{h}"] = c.minus
        if c.reference is not None:
            conductances[f"Gref_{h}"] = c.reference
    save_npz_atomic(out / "conductances.npz", r_f=np.array(controller.mapping.r_f), **conductances)
    with atomic_open(out / "netlist.cir", "w") as handle:
        handle.write(controller.last_netlist)
    rows = _read_rows(out / "metrics.csv")
    plots = _plots(out, rows, test, readings.output, reference.net.forward(test)[-1], dataset.image_shape)
    summary = {
        "config": to_record(config),
        "spec": to_record(controller.spec),  # as simulated: r_f chosen, the run's headroom
        "device": to_record(device),
        "batches_done": done, "batches_planned": total,
        "final_cosim_loss": rows[-1]["cosim_loss"] if rows else None,
        "final_reference_loss": rows[-1]["reference_loss"] if rows else None,
        "final_test_loss_cosim": cosim_test, "final_test_loss_reference": reference_test,
        "test_samples": len(test),
        "weight_rel_diff_max": max((r["weight_rel_diff_max"] for r in rows), default=0.0),
        "ngspice_version": engine.version, "engine": engine.name,
        "wall_seconds": wall, "ngspice_seconds": ngspice_total,
        "ngspice_share": ngspice_total / wall if wall > 0 else None,
        "r_f_ohm": controller.mapping.r_f,
        "plots": [str(p) for p in plots],
        **audit.summary(rows),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


def _read_rows(path: Path) -> list[dict]:
    import csv

    with open(path) as handle:
        return [{k: float(v) if v != "" else None for k, v in row.items()} for row in csv.DictReader(handle)]


def _plots(out: Path, rows, test, cosim_out, reference_out, image_shape) -> list[Path]:
    from ..report import plots

    written = []
    if rows:
        samples = [r["samples"] for r in rows]
        written.append(plots.plot_loss_curves(
            out / "loss.png", samples, {"co-simulation (ngspice)": [r["cosim_loss"] for r in rows],
                                        "NumPy reference": [r["reference_loss"] for r in rows]},
            xlabel="training samples", ylabel="minibatch loss (before update)", title="circuit vs reference"))
        layers = sorted(k for k in rows[0] if k.startswith("weight_rel_diff_A"))
        written.append(plots.plot_weight_difference(
            out / "weight_difference.png", [r["batch"] for r in rows],
            {k.replace("weight_rel_diff_", ""): [max(r[k], 1e-17) for r in rows] for k in layers},
            ylabel="||A_circuit - A_reference|| / ||A_reference||"))
    if image_shape is not None:
        k = min(8, len(test))
        written.append(plots.plot_reconstructions(
            out / "reconstructions.png", test[:k],
            {"circuit (ngspice)": cosim_out[:k], "reference": reference_out[:k]}, image_shape))
    return written
