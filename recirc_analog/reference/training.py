"""Minibatch training of the reference network with any learning rule (Section 7).

Each step computes the rule's eta-free :class:`~.updates.Update` on one
minibatch, scales layer h by its rate (``lr * lr_decay**(L-h)`` unless
``layer_lrs`` is given; REC' of Fig. 8 uses ``lr_decay = 0.5``), adds it, and
caps each neuron's incoming weight-row norm at ``max_norm`` (the paper uses
2.0 for linear networks; biases are not capped). For every rule other than
BP the angle between its update and the exact gradient is measured per layer.
A NaN / inf or a loss above ``divergence_bound`` raises
:class:`DivergenceError` after restoring a good state: :meth:`Trainer.step`
restores the weights before the step whose loss was acceptable, and
:meth:`Trainer.fit` the weights at the end of the last finished epoch, the
state its last history row (and so a run's summary) describes.
"""

import math
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from recirc_analog.errors import ConfigError, DivergenceError, check_range
from recirc_analog.limits import MAX_BATCH_SIZE
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.rules import BackpropRule
from recirc_analog.reference.updates import LearningRule, Update, angles_degrees


def _check_rate(name: str, rate) -> None:
    """Raise ConfigError unless ``rate`` is a finite number >= 0."""
    check_range(name, rate, 0, None)
    if not math.isfinite(float(rate)):
        raise ConfigError(f"{name} must be a finite number >= 0, got {rate!r}")


@dataclass(frozen=True)
class TrainConfig:
    """Hyper-parameters of a training run (all rates dimensionless)."""

    epochs: int = 10
    """Number of passes over the training set (0 only evaluates the untrained network)."""
    batch_size: int = 100
    """Samples per minibatch, at most :data:`~recirc_analog.limits.MAX_BATCH_SIZE`; the paper uses 100."""
    lr: float = 0.01
    """Base learning rate; the paper uses 0.01 (0.001 for three hidden layers, 1e-4 on Lowrank)."""
    layer_lrs: tuple[float, ...] | None = None
    """Explicit rate of each layer 1..L; overrides ``lr`` and ``lr_decay`` when given."""
    lr_decay: float = 1.0
    """Layer h learns at ``lr * lr_decay**(L - h)``: 1.0 for REC, 0.5 for REC' (Fig. 8)."""
    max_norm: float | None = None
    """Cap on the Euclidean norm of each neuron's incoming weight row (biases excluded); None: no cap."""
    seed: int = 0
    """Seed of the minibatch order and of the row-0 training-loss pass."""
    divergence_bound: float = 1e12
    """A minibatch or test loss (per sample) above this in magnitude counts as divergence."""
    track_angles: bool = True
    """Measure the angle of each non-BP update to the exact gradient (costs one BP pass per batch)."""

    def __post_init__(self):
        for name in ("epochs", "batch_size", "seed"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)):
                raise ConfigError(f"{name} must be an integer, got {value!r}")
        check_range("epochs", self.epochs, 0, None)
        check_range("batch_size", self.batch_size, 1, MAX_BATCH_SIZE)
        _check_rate("lr", self.lr)
        check_range("lr_decay", self.lr_decay, 0, None, low_open=True)
        check_range("divergence_bound", self.divergence_bound, 0, None, low_open=True)
        if self.max_norm is not None:
            check_range("max_norm", self.max_norm, 0, None, low_open=True)
        if self.layer_lrs is not None:
            object.__setattr__(self, "layer_lrs", tuple(self.layer_lrs))
            for rate in self.layer_lrs:
                _check_rate("layer_lrs entry", rate)

    def layer_rates(self, n_layers: int) -> np.ndarray:
        """Learning rate of each layer 1..L, shape (L,)."""
        if self.layer_lrs is None:
            return self.lr * self.lr_decay ** np.arange(n_layers - 1, -1, -1, dtype=float)
        if len(self.layer_lrs) != n_layers:
            raise ConfigError(
                f"layer_lrs must have {n_layers} entries (layers 1..{n_layers}), got {len(self.layer_lrs)}")
        return np.array(self.layer_lrs, dtype=float)


@dataclass(frozen=True)
class EpochMetrics:
    """One row of the training history (row 0 is the untrained network)."""

    epoch: int
    """Epochs completed."""
    train_loss: float
    """Mean per-sample loss over the epoch's minibatches, each measured before its update."""
    test_loss: float
    """Mean per-sample loss on the test set after the epoch."""
    weight_norms: tuple[float, ...]
    """Frobenius norm of A^1..A^L after the epoch."""
    angles: tuple[float, ...] | None
    """Mean over the epoch's batches of the angle (degrees) between the rule's dA^h and
    BP's, per layer; NaN where undefined (zero update); None for BP and for row 0."""
    seconds: float
    """Wall-clock time of the epoch (s)."""


@dataclass(frozen=True)
class StepResult:
    """What one minibatch step did."""

    loss: float
    """Mean per-sample loss of the batch before the update."""
    applied: Update
    """The update added to the weights (rates included, before the norm cap)."""
    angles: np.ndarray | None
    """Angle (degrees) to BP per layer, shape (L,); None for BP."""


def cap_row_norms(weights: np.ndarray, max_norm: float) -> np.ndarray:
    """``weights`` with every row longer than ``max_norm`` scaled down to it."""
    norms = np.linalg.norm(weights, axis=1, keepdims=True)
    return weights * np.minimum(1.0, max_norm / np.maximum(norms, np.finfo(float).tiny))


class Trainer:
    """Trains ``net`` in place with ``rule`` according to ``config``.

    ``progress(n)`` is called with the number of samples after every minibatch
    (for a progress bar); ``on_epoch(metrics)`` after every history row.
    :meth:`step` is public so a co-simulation can train the reference in
    lock-step with the circuit on the same minibatches.
    """

    def __init__(self, net: CircularAutoencoder, rule: LearningRule, config: TrainConfig = TrainConfig(),
                 progress: Callable[[int], None] | None = None,
                 on_epoch: Callable[[EpochMetrics], None] | None = None):
        if not isinstance(net, CircularAutoencoder):
            raise ConfigError(f"net must be a CircularAutoencoder, got {type(net).__name__}")
        if not isinstance(rule, LearningRule):
            raise ConfigError(f"rule must be a LearningRule (see get_rule), got {type(rule).__name__}")
        self.net = net
        self.rule = rule
        self.config = config
        self.progress = progress
        self.on_epoch = on_epoch
        self.rates = config.layer_rates(net.n_layers)
        self.loss = loss_for(net)
        self.history: list[EpochMetrics] = []
        self._gradient = None if isinstance(rule, BackpropRule) or not config.track_angles else BackpropRule()
        snapshot = net.copy()
        # Weights and biases before the present step. step() replaces the arrays
        # instead of changing them in place, so keeping references is a snapshot.
        self._last_good = (snapshot.weights, snapshot.biases)
        # The weights the last history row describes (the untrained ones before row 0).
        self._epoch_state = self._last_good
        self._divergence = ""
        self._evaluation_rng, self._training_rng = np.random.default_rng(config.seed).spawn(2)
        rule.prepare(net)

    def evaluate(self, x) -> float:
        """Mean per-sample loss of the current network on ``x`` (batch, N0)."""
        outputs, preactivations = self.net.forward_with_preactivations(x)
        return self.loss.value(outputs[0], outputs[-1], preactivations[-1])

    def _diverged(self, what: str) -> DivergenceError:
        self._divergence = what
        self._restore(self._last_good)
        completed = self.history[-1].epoch if self.history else 0
        return DivergenceError(
            f"training diverged ({what}) after {completed} "
            f"epoch(s) with rule {self.rule.name!r}; restored the last good weights "
            f"(try a smaller lr or a max_norm)")

    def _restore(self, state) -> None:
        self.net.weights = [w.copy() for w in state[0]]
        self.net.biases = [b.copy() for b in state[1]]

    def _check_loss(self, loss: float, where: str) -> None:
        # abs: a cross-entropy on targets outside [0, 1] is unbounded below.
        if not np.isfinite(loss) or abs(loss) > self.config.divergence_bound:
            raise self._diverged(f"{where} loss {loss:.6g}, bound {self.config.divergence_bound:g}")

    def step(self, x) -> StepResult:
        """Train on one minibatch ``x`` of shape (batch, N0)."""
        # Overflow is expected while a run diverges and is reported as divergence.
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            return self._step(x)

    def _step(self, x) -> StepResult:
        forward = self.net.forward_with_preactivations(x)
        x = forward[0][0]
        loss = self.loss.value(x, forward[0][-1], forward[1][-1])
        self._check_loss(loss, "minibatch")
        self._last_good = (self.net.weights, self.net.biases)
        direction = self.rule.directions(self.net, x, forward)
        angles = None
        if self._gradient is not None:
            angles = angles_degrees(direction, self._gradient.directions(self.net, x, forward))
        applied = direction.scaled(self.rates)
        weights, biases = self.updated(applied)
        # A NaN or inf anywhere makes the total non-finite: one reduction per array.
        if not math.isfinite(sum(float(a.sum()) for a in weights + biases)):
            raise self._diverged("NaN or inf in the weights")
        self.net.weights, self.net.biases = weights, biases
        self.rule.after_update(applied)
        return StepResult(loss, applied, angles)

    def targets(self, applied: Update) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The weights and biases ``applied`` asks for: the present ones plus the update, each
        weight row capped at ``config.max_norm``."""
        weights = [w + dw for w, dw in zip(self.net.weights, applied.weights)]
        if self.config.max_norm is not None:
            weights = [cap_row_norms(w, self.config.max_norm) for w in weights]
        return weights, [b + db for b, db in zip(self.net.biases, applied.biases)]

    def updated(self, applied: Update) -> tuple[list[np.ndarray], list[np.ndarray]]:
        """The new (weights, biases) after ``applied``: :meth:`targets` here; a hardware-aware
        trainer programs the change into devices and reads back what they realise
        (:class:`recirc_analog.cosim.hardware_aware.HardwareAwareTrainer`). New arrays, never
        the present ones changed in place."""
        return self.targets(applied)

    def _record(self, epoch, train_loss, dataset, angles, seconds) -> EpochMetrics:
        test_loss = self.evaluate(dataset.test)
        self._check_loss(test_loss, "test")
        metrics = EpochMetrics(epoch, train_loss, test_loss, tuple(self.net.weight_norms().tolist()),
                               angles, seconds)
        self.history.append(metrics)
        self._epoch_state = (self.net.weights, self.net.biases)
        if self.on_epoch is not None:
            self.on_epoch(metrics)
        return metrics

    def fit(self, dataset) -> list[EpochMetrics]:
        """Train for ``config.epochs`` epochs on ``dataset``; return the history rows.

        ``dataset`` offers ``train_batches(batch_size, rng)``, ``test`` (n_test, N0)
        and ``dim`` (see :class:`recirc_analog.data.base.Dataset`). On divergence
        the weights at the end of the last finished epoch (those of the last
        history row) are restored before :class:`DivergenceError` propagates.
        """
        if dataset.dim != self.net.sizes[0]:
            raise ConfigError(f"data set {dataset.name!r} has dim {dataset.dim}, "
                              f"but the network's N0 is {self.net.sizes[0]}")
        try:
            with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
                self._fit(dataset)
        except DivergenceError:
            self._restore(self._epoch_state)
            if not self.history:
                raise
            last = self.history[-1]
            raise DivergenceError(
                f"training diverged ({self._divergence}) in epoch {last.epoch + 1} with rule "
                f"{self.rule.name!r}; restored the last good weights, those of epoch {last.epoch} "
                f"(test loss {last.test_loss:.6g}) (try a smaller lr or a max_norm)") from None
        return self.history

    def _fit(self, dataset) -> None:
        if not self.history:
            start = time.perf_counter()
            batches = dataset.train_batches(self.config.batch_size, self._evaluation_rng)
            losses = [self.evaluate(x) for x in batches]
            self._check_loss(float(np.mean(losses)), "initial training")
            self._record(0, float(np.mean(losses)), dataset, None, time.perf_counter() - start)
        for _ in range(self.config.epochs):
            start = time.perf_counter()
            losses, angles = [], []
            for x in dataset.train_batches(self.config.batch_size, self._training_rng):
                result = self.step(x)
                losses.append(result.loss)
                if result.angles is not None:
                    angles.append(result.angles)
                if self.progress is not None:
                    self.progress(len(x))
            self._record(self.history[-1].epoch + 1, float(np.mean(losses)), dataset,
                         _mean_angles(angles), time.perf_counter() - start)


def _mean_angles(angles: list[np.ndarray]) -> tuple[float, ...] | None:
    """Per-layer mean of the finite angles over the batches; NaN for a layer with none."""
    if not angles:
        return None
    stacked = np.array(angles)
    finite = np.isfinite(stacked)
    sums = np.where(finite, stacked, 0.0).sum(axis=0)
    counts = finite.sum(axis=0)
    return tuple(float(s / c) if c else float("nan") for s, c in zip(sums, counts))
