"""The ``recirc-analog train`` job: train the NumPy reference and write its results.

Output folder::

    metrics.csv    one row per epoch (row 0 = the untrained network):
                   epoch,train_loss,test_loss,seconds,norm_A1..norm_AL,angle_A1..angle_AL
    summary.json   the full configuration (records.from_record(TrainJob, ...) rebuilds it,
                   the device record included), final_test_loss, wall time; with a device
                   also r_f, clipped_devices_last_batch and device_seconds
    weights.npz    the trained network (the format the netlist generator reads)
    loss.png       test loss per epoch; angles.png for rules other than BP
"""

from __future__ import annotations

import time
from contextlib import nullcontext
from dataclasses import dataclass, field
from pathlib import Path

from ..data import load_dataset
from ..devices.parameters import DeviceConfig
from ..devices.pulsed import PulsedDevice
from ..errors import ConfigError, DivergenceError
from ..fileio import MetricsWriter, write_json_atomic
from ..reference.network import CircularAutoencoder
from ..reference.recirculation import Recirculation
from ..reference.rules import get_rule
from ..reference.standard_channels import StandardChannels
from ..reference.training import TrainConfig, Trainer
from .progress import progress_bar
from .records import to_record
from .run_folder import run_folder

OUTPUTS = ("metrics.csv", "summary.json", "weights.npz", "loss.png", "angles.png")
"""Files of a run, removed before a new run writes into the folder (see :mod:`.run_folder`)."""


@dataclass(frozen=True)
class RuleSpec:
    """A learning rule by name with its parameters (see :func:`recirc_analog.reference.rules.get_rule`)."""

    name: str = "rec"
    """bp, rbp, srbp, arbp, top, rec or standard."""
    recirculation: Recirculation = field(default_factory=Recirculation)
    """Mode, lambda and cycle pair of ``rec``."""
    channels: StandardChannels | None = None
    """Channels of ``standard`` (L = 2 only)."""
    feedback_rate: float = 1.0
    """Rate of the feedback matrices of ``arbp``, relative to the forward rate."""
    seed: int = 0
    """Seed of the random feedback matrices (rbp, srbp, arbp, standard)."""

    def build(self):
        """The :class:`~recirc_analog.reference.updates.LearningRule` this spec names."""
        params = {}
        if self.name == "rec":
            params["recirculation"] = self.recirculation
        elif self.name in ("rbp", "srbp", "arbp"):
            params["seed"] = self.seed
            if self.name == "arbp":
                params["feedback_rate"] = self.feedback_rate
        elif self.name == "standard":
            params["channels"] = self.channels or StandardChannels()
            params["seed"] = self.seed
        return get_rule(self.name, **params)

    def label(self) -> str:
        """A short human-readable name, e.g. ``rec-ccr(0.5)``, ``rec-pr[0,3]-top-eq48``."""
        if self.name != "rec":
            return self.name
        r = self.recirculation
        lam = f"({r.lam:g})" if r.mode not in ("pr", "error") else ""
        cyc = f"[{r.cycles[0]},{r.cycles[1]}]" if r.cycles != (0, 1) else ""
        top = "-top-eq48" if r.cycles != (0, 1) and r.top_layer == "eq48" else ""
        return f"rec-{r.mode}{lam}{cyc}{top}"


@dataclass(frozen=True)
class TrainJob:
    """Everything one training run needs."""

    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    rule: RuleSpec
    train: TrainConfig
    data: str = "lowrank"
    data_dir: str | None = None
    downsample: int | None = None
    max_train: int | None = None
    init_seed: int = 0
    out: str | None = None
    device: DeviceConfig | PulsedDevice | None = None
    """A device record (``--device``): train the hardware-aware reference, whose weights are
    device conductances (:class:`~recirc_analog.cosim.hardware_aware.HardwareAwareTrainer`;
    device seed ``init_seed``); None: the plain reference."""
    headroom: float = 2.0
    """With a device: r_f leaves this factor of room for the weights to grow (as ``cosim``)."""
    batch_seconds: float | None = None
    """With a device: device time (s) of one minibatch; None: batch_size * (1 + m) * 1 us."""


def metric_columns(n_layers: int) -> list[str]:
    """Header of metrics.csv for a network with ``n_layers`` weight layers."""
    return (["epoch", "train_loss", "test_loss", "seconds"]
            + [f"norm_A{h}" for h in range(1, n_layers + 1)]
            + [f"angle_A{h}" for h in range(1, n_layers + 1)])


def _row(metrics, n_layers: int) -> dict:
    row = {"epoch": metrics.epoch, "train_loss": metrics.train_loss,
           "test_loss": metrics.test_loss, "seconds": metrics.seconds}
    angles = metrics.angles or (float("nan"),) * n_layers
    for h in range(n_layers):
        row[f"norm_A{h + 1}"] = metrics.weight_norms[h]
        row[f"angle_A{h + 1}"] = angles[h]
    return row


def run_train(job: TrainJob, *, show_progress: bool = True):
    """Train per ``job``; write the output folder when ``job.out`` is set.

    Returns ``(network, history)``. On divergence the weights of the last
    finished epoch (whose test loss the summary reports as final) are written,
    with the reason in the summary's ``diverged``, before the
    :class:`~recirc_analog.errors.DivergenceError` propagates.
    """
    dataset = load_dataset(job.data, job.data_dir, seed=job.init_seed,
                           downsample=job.downsample, max_train=job.max_train, dim=job.sizes[0])
    if dataset.dim != job.sizes[0]:
        hint = " (use --downsample 2 for 196)" if dataset.image_shape and job.downsample is None else ""
        raise ConfigError(f"--sizes must start and end with the data dimension {dataset.dim} of "
                          f"{job.data}{hint}, got {job.sizes[0]}")
    net = CircularAutoencoder.random(job.sizes, job.activations, seed=job.init_seed,
                                     data_mean=dataset.train_mean)
    out = Path(job.out) if job.out else None
    folder = run_folder(out, outputs=OUTPUTS) if out is not None else nullcontext()
    with folder:
        return _train(job, dataset, net, out, show_progress)


def _train(job: TrainJob, dataset, net, out: Path | None, show_progress: bool):
    n_layers = net.n_layers
    writer = None
    if out is not None:
        writer = MetricsWriter(out / "metrics.csv", metric_columns(n_layers))
    total = job.train.epochs * dataset.batches_per_epoch(job.train.batch_size) * job.train.batch_size
    start = time.perf_counter()
    with progress_bar(total, f"train {job.rule.label()}", enabled=show_progress) as bar:
        trainer = _trainer(job, net, progress=bar.update,
                           on_epoch=(lambda m: writer.write_row(_row(m, n_layers))) if writer else None)
        diverged = None
        try:
            history = trainer.fit(dataset)
        except DivergenceError as error:
            diverged = str(error)
            raise
        finally:
            if writer is not None:
                writer.close()
            if out is not None:
                _write_outputs(out, job, net, trainer.history, time.perf_counter() - start, diverged,
                               trainer)
    return net, history


def _trainer(job: TrainJob, net, progress, on_epoch) -> Trainer:
    """The plain reference's Trainer, or with ``job.device`` the hardware-aware one."""
    if job.device is None:
        return Trainer(net, job.rule.build(), job.train, progress=progress, on_epoch=on_epoch)
    from ..cosim.hardware_aware import HardwareAwareTrainer
    from ..schematic.spec import CrossbarConfig

    return HardwareAwareTrainer(net, job.rule.build(), job.train, progress=progress, on_epoch=on_epoch,
                                device=job.device, device_seed=job.init_seed,
                                crossbar=CrossbarConfig(headroom=job.headroom), batch_seconds=job.batch_seconds)


def _write_outputs(out: Path, job: TrainJob, net, history, wall: float, diverged: str | None = None,
                   trainer=None) -> None:
    net.save(out / "weights.npz")
    summary = {
        "diverged": diverged,
        "config": to_record(job),
        "rule_label": job.rule.label(),
        "epochs_completed": history[-1].epoch if history else 0,
        "final_test_loss": history[-1].test_loss if history else None,
        "initial_test_loss": history[0].test_loss if history else None,
        "wall_seconds": wall,
    }
    state = getattr(trainer, "state", None)
    if state is not None:
        summary.update(r_f=state.mapping.r_f, clipped_devices_last_batch=state.clipped, device_seconds=state.t)
    write_json_atomic(out / "summary.json", summary)
    if len(history) > 1:
        _plot(out, job, history)


def _plot(out: Path, job: TrainJob, history) -> None:
    from ..report import plots

    epochs = [m.epoch for m in history]
    plots.plot_loss_curves(out / "loss.png", epochs, {job.rule.label(): [m.test_loss for m in history]},
                           xlabel="epoch", ylabel="test loss", title=f"{job.data} {'-'.join(map(str, job.sizes))}")
    rows = [m for m in history if m.angles is not None]
    if rows:
        per_layer = {f"A{h + 1}": [m.angles[h] for m in rows] for h in range(len(rows[0].angles))}
        plots.plot_angles(out / "angles.png", [m.epoch for m in rows], per_layer)

