"""``run_cosim``: the co-simulation loop with metrics, checkpoints and the output folder.

Output folder::

    metrics.csv              one row per batch: batch,samples,cosim_loss,reference_loss,
                             weight_rel_diff_max,seconds,... (per-layer differences, engine time;
                             relaxed_tolerance 1 if ngspice converged only with loosened tolerances;
                             audit_deviation: with --engine direct --audit-every K, every K-th batch the
                             largest relative difference of any read voltage from ngspice, else empty;
                             signal_rms_L<h> (held minus live), noise_rms_L<h> (the closed-form noise
                             floor, recorded whether or not noise is injected) and stage_peak_V_L<h>
                             (largest column-stage output): cosim/learning_signal.py)
    summary.json             configuration (config, spec, device: each rebuilt by
                             records.from_record), final losses, largest weight difference,
                             with --periphery sky130 measured_activations (per layer the in-situ
                             measured stage the reference uses: cosim/measured_activation.py),
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
from ..cosim.learning_signal import signal_columns
from ..cosim.lockstep import CosimConfig, LockStep, fingerprint
from ..data import load_dataset
from ..devices import DeviceConfig
from ..engines import get_engine
from ..engines.circuit_run import check_cycle_mode
from ..errors import DataError, DivergenceError, RecircError, SimulationError, UsageError, check_range
from ..fileio import MetricsWriter, atomic_open, save_npz_atomic, write_json_atomic
from ..schematic.spec import CircuitSpec
from .progress import progress_bar
from .records import to_record
from .run_folder import run_folder
from .termination import terminate_cleanly

BASE_COLUMNS = ["batch", "samples", "cosim_loss", "reference_loss", "weight_rel_diff_max", "seconds",
                "ngspice_seconds", "netlist_seconds", "clipped_devices", "relaxed_tolerance", "audit_deviation"]




def metric_columns(n_layers: int) -> list[str]:
    """Header of metrics.csv: the learning signal against the closed-form noise floor and the stage
    peaks are in every run (cosim/learning_signal.py)."""
    return (BASE_COLUMNS + [f"weight_rel_diff_A{h}" for h in range(1, n_layers + 1)]
            + signal_columns(n_layers))


OUTPUTS = ("metrics.csv", "summary.json", "weights_cosim.npz", "weights_reference.npz", "conductances.npz",
           "netlist.cir", "loss.png", "weight_difference.png", "reconstructions.png")
"""Files of a run, removed before a new run writes into the folder (see :mod:`.run_folder`)."""

TIMEOUT_FLOOR = 120.0
"""Seconds every ngspice analysis may take at least, however small the job."""

SKY130_TIMEOUT_FLOOR = 3600.0
"""The same floor for the sky130 periphery: every neuron is tens of BSIM4 transistors (a 16-4-16
dc-form batch of 4 takes 10-40 s CPU, and minutes of wall time on a shared machine)."""


def default_ngspice_timeout(config: CosimConfig, spec: CircuitSpec) -> float:
    """Seconds one ngspice analysis may take: generous, scaled to the job.

    ngspice's time grows with the devices times the samples of one analysis
    (one worker's share of the batch) times the recirculation cycles. The demo
    (196-20-196, 50 samples per worker) measures about 0.4 us per
    device-sample-cycle; 100 us is a 250x margin, and nothing is killed
    before :data:`TIMEOUT_FLOOR`.
    """
    sizes = config.sizes
    devices = 2 * sum((a + 1) * b for a, b in zip(sizes[:-1], sizes[1:]))
    samples = -(-config.batch_size // config.workers)
    cycles = spec.recirculation.cycles[1] + 1
    floor = SKY130_TIMEOUT_FLOOR if spec.neuron.kind == "sky130" else TIMEOUT_FLOOR
    return max(floor, 1e-4 * devices * samples * cycles)


def run_cosim(config: CosimConfig, spec: CircuitSpec, device: DeviceConfig, out, *, resume: bool = False,
              show_progress: bool = True, stop_after: int | None = None, overwrite: bool = False,
              ngspice_timeout: float | None = None,
              accept_relaxed: bool = False, cycle_mode: str = "auto") -> dict:
    """Run (or continue) a co-simulation; write the output folder ``out``; return the summary.

    ``stop_after`` ends the run after that many batches in this call (tests use
    it to interrupt a run); the checkpoint then holds everything to resume.
    ``accept_relaxed``: use batches ngspice solved only with loosened tolerances
    (flagged in the ``relaxed_tolerance`` column) instead of stopping with a SimulationError.
    ``overwrite`` lets a new run replace a folder that holds a resumable run.
    ``ngspice_timeout``: seconds one ngspice analysis may take (None:
    :func:`default_ngspice_timeout`). ``cycle_mode``: how the ngspice engines (and the direct
    engine's audit) simulate a dc-form circuit (``engines.circuit_run.CYCLE_MODES``).
    The folder is locked for the run (see
    :mod:`.run_folder`); SIGTERM stops it cleanly (see :mod:`.termination`).
    On divergence the last good state is written (weights, conductances,
    summary.json with status "diverged") before the error propagates.
    """
    out = Path(out)
    if resume and not (out / CHECKPOINT_NAME).is_file():
        raise UsageError(f"--resume: no checkpoint in {out}")
    if ngspice_timeout is not None:
        check_range("ngspice_timeout", ngspice_timeout, 0, None, low_open=True)
    check_cycle_mode(cycle_mode)
    dataset = load_dataset(config.data, config.data_dir, seed=config.seed, downsample=config.downsample,
                           dim=config.sizes[0], max_train=config.max_train)
    if dataset.dim != config.sizes[0]:
        raise UsageError(f"--sizes must start with the data dimension {dataset.dim} for {config.data}"
                         f"{' with --downsample ' + str(config.downsample) if config.downsample else ''}, "
                         f"got {config.sizes[0]}")
    per_epoch = dataset.batches_per_epoch(config.batch_size)
    per_epoch = min(per_epoch, config.batches) if config.batches else per_epoch
    total = per_epoch * config.epochs
    timeout = ngspice_timeout if ngspice_timeout is not None else default_ngspice_timeout(config, spec)
    with run_folder(out, resume=resume, overwrite=overwrite, checkpoint=CHECKPOINT_NAME, outputs=OUTPUTS,
                    finished=_finished) as folder, \
            terminate_cleanly("cosim"):
        options = {"timeout": timeout, "tmp_root": str(folder.tmp)} if config.engine == "batch" else {}
        options.update({"cycle_mode": cycle_mode} if config.engine in ("batch", "shared") else {})
        engine = get_engine(config.engine, **options)
        audit = _Audit(config, {"timeout": timeout, "tmp_root": str(folder.tmp), "cycle_mode": cycle_mode})
        try:
            return _run(config, spec, device, out, engine, dataset, per_epoch, total, resume, show_progress,
                        stop_after, accept_relaxed, audit)
        finally:
            engine.close()
            audit.close()


def _run(config, spec, device, out: Path, engine, dataset, per_epoch, total, resume, show_progress,
         stop_after, accept_relaxed, audit) -> dict:
    lockstep = LockStep.create(config, spec, device, engine, dataset.train_mean)
    lockstep.controller.accept_relaxed = accept_relaxed
    lockstep.controller.audit_engine = audit.engine
    key = fingerprint(config, lockstep.controller.spec, device)
    done = 0
    if resume:
        checkpoint = load_checkpoint(out, key)
        restore_checkpoint(checkpoint, lockstep, out / CHECKPOINT_NAME, total)
        done = checkpoint.batches_done
    n_layers = len(config.sizes) - 1
    start = time.perf_counter()
    ngspice_total = 0.0
    columns = metric_columns(n_layers)
    with MetricsWriter(out / "metrics.csv", columns, keep_rows=done if resume else None) as writer, \
            progress_bar(total * config.batch_size, "cosim", enabled=show_progress) as bar:
        bar.update(done * config.batch_size)
        ran = 0
        for index, x in _batches(dataset, config, per_epoch, done):
            if stop_after is not None and ran >= stop_after:
                break
            tick = time.perf_counter()
            good = _snapshot(lockstep)
            lockstep.controller.audit_next = audit.due(index + 1)
            try:
                row = lockstep.step(x, label=f"batch {index + 1}")
            except DivergenceError as error:
                _restore(lockstep, good)
                wall = time.perf_counter() - start
                _finish(out, config, device, lockstep, dataset, engine, done, total, wall, ngspice_total, audit,
                        status="diverged", extra={"diverged_at_batch": index + 1, "error": str(error)},
                        evaluate=False)
                raise DivergenceError(f"{error}; the last good state (after {done} batches) is written to "
                                      f"{str(out)!r} (weights, conductances, summary.json) and the checkpoint "
                                      "is kept") from None
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
    status = "completed" if done == total else "stopped"
    return _finish(out, config, device, lockstep, dataset, engine, done, total, wall, ngspice_total, audit,
                   status=status)


def restore_checkpoint(checkpoint: Checkpoint, lockstep: LockStep, path: Path, total: int) -> None:
    """Check ``checkpoint`` against this run and load it into ``lockstep``, or raise DataError naming ``path``.

    Everything is checked before anything is changed on disk (metrics.csv is
    only rewritten after this returns): the counter, the reference's shapes and
    values, and the device state through the device models' own validation.
    """
    where = f"checkpoint {str(path)!r}"
    if not 0 <= checkpoint.batches_done <= total:
        raise DataError(f"{where}: batches_done must be in [0, {total}], got {checkpoint.batches_done}")
    ref = lockstep.reference.net
    for name, saved, current in (("A", checkpoint.reference_weights, ref.weights),
                                 ("b", checkpoint.reference_biases, ref.biases)):
        if len(saved) != len(current):
            raise DataError(f"{where}: {len(saved)} reference {name} arrays, expected {len(current)}")
        for h, (s, c) in enumerate(zip(saved, current), start=1):
            if np.shape(s) != c.shape or not np.issubdtype(np.asarray(s).dtype, np.floating):
                raise DataError(f"{where}: reference {name}{h} must be a float array of shape {c.shape}, "
                                f"got {np.asarray(s).dtype} {np.shape(s)}")
            if not np.all(np.isfinite(s)):
                raise DataError(f"{where}: reference {name}{h} holds NaN or infinite values")
    try:
        lockstep.controller.state.set_state(checkpoint.device_state)
    except (RecircError, ValueError, TypeError, KeyError) as error:
        raise DataError(f"{where}: device state is unusable: {error}") from None
    ref.weights = [np.array(w, dtype=np.float64) for w in checkpoint.reference_weights]
    ref.biases = [np.array(b, dtype=np.float64) for b in checkpoint.reference_biases]


def _finished(folder: Path) -> bool:
    """True if summary.json says the run in ``folder`` completed every planned batch."""
    import json

    try:
        summary = json.loads((folder / "summary.json").read_text())
        return summary.get("status") == "completed" and summary["batches_done"] == summary["batches_planned"]
    except (OSError, ValueError, KeyError, TypeError, AttributeError):
        return False


def _snapshot(lockstep: LockStep):
    ref = lockstep.reference.net
    return (lockstep.controller.state.get_state(), [w.copy() for w in ref.weights], [b.copy() for b in ref.biases])


def _restore(lockstep: LockStep, snapshot) -> None:
    device_state, weights, biases = snapshot
    lockstep.controller.state.set_state(device_state)
    lockstep.reference.net.weights = weights
    lockstep.reference.net.biases = biases


class _Audit:
    """ngspice re-simulating every ``config.audit_every``-th batch of the direct engine (issue 10)."""

    def __init__(self, config: CosimConfig, options: dict):
        self.every = config.audit_every
        self.engine = None
        self.tolerance = None
        if self.every:
            self.engine = get_engine("batch", **options)

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


def _finish(out, config, device, lockstep, dataset, engine, done, total, wall, ngspice_total, audit, *, status: str,
            extra: dict | None = None, evaluate: bool = True) -> dict:
    """Final evaluation on test samples, weight files, netlist, plots and summary.json.

    ``evaluate`` False (after a divergence) skips the test simulation and the plots.
    """
    controller, reference = lockstep.controller, lockstep.reference
    test = dataset.test[:config.test_samples]
    cosim_net = controller.network()
    cosim_test = reference_test = None
    if evaluate:
        readings, _, _ = controller.simulate(test, label="test")
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
    if controller.last_netlist is not None:
        with atomic_open(out / "netlist.cir") as handle:
            handle.write(controller.last_netlist)
    rows = _read_rows(out / "metrics.csv") if (out / "metrics.csv").exists() else []
    plots = (_plots(out, rows, test, readings.output, reference.net.forward(test)[-1], dataset.image_shape)
             if evaluate else [])
    summary = {
        "status": status,
        "config": to_record(config),
        "spec": to_record(controller.spec),  # as simulated: r_f chosen, the run's headroom
        "device": to_record(device),        # kind-tagged (device_to_json)
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
        **(_energy(config, controller.spec, lockstep.activations) if lockstep.activations else {}),
        **(extra or {}),
        **audit.summary(rows),
    }
    write_json_atomic(out / "summary.json", summary)
    return summary


def _energy(config: CosimConfig, spec: CircuitSpec, activations: list) -> dict:
    """summary.json's entries of a sky130 run: the measured activations and the periphery's energy
    (cosim/measured_activation.py, :func:`periphery_energy`), per sample and per update (one minibatch)."""
    from ..cosim.measured_activation import periphery_energy

    energy = periphery_energy(config.sizes, activations, spec)
    energy["energy_per_update_J"] = energy["energy_per_sample_J"] * config.batch_size
    return {"measured_activations": activations, **energy}


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
