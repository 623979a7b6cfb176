"""``recirc-analog reproduce``: the experiment figures of Baldi & Sadowski (2018), Section 7.

Every figure is a :class:`FigureDef`: panels of curves (one learning rule each), the
settings with the place in the paper that states them, and the paper's claim as
checks on the measured curves. :func:`run_figures` trains each curve with the exact
NumPy reference (:class:`~recirc_analog.reference.training.Trainer`), sharing runs
that have identical settings (REC of Fig. 5 is PR of Fig. 9 and REC 1 of Fig. 10),
and writes per figure ``figNN.csv`` (the curves), ``figNN.png`` (drawn like the
paper's panel) and the final test losses, then ``REPORT.md``.

Settings (Section 7.1-7.2 unless said otherwise):

- epoch 60,000 samples, 10,000 test samples ("a training epoch consisted of 60,000
  examples, with another 10,000 examples used for testing", 7.1);
- minibatch 100, learning rate 0.01, divided by 10 with three hidden layers and by
  another 10 on Lowrank (7.2). Read as: MNIST / Fashion 0.01 (1 hidden) and 0.001
  (3 hidden); Lowrank 0.001 (1 hidden) and 0.0001 (3 hidden);
- Glorot ("scaled uniform [11]") initial weights, the random feedback matrices the same
  way, output bias the expectation of the training data (7.2);
- linear networks: linear units, squared error, each neuron's incoming weight norm
  capped at 2.0 (7.2); non-linear: tanh hidden units, logistic output, cross-entropy
  (7.1, 7.2);
- Lowrank d = 100, r = 20 (7.1); compressive 20-unit code: one hidden layer of 20 or
  three of 100-20-100 (captions of Fig. 4-6);
- Fig. 8: ten hidden tanh layers of 100, lr 0.01, REC' with 0.01 / 2**n in the n-th
  layer below the output (caption of Fig. 8);
- Fig. 9: PR, CCR, RCC, CCRCC, RWCC (7.3); Fig. 10: PR with cycle pairs (0, m), m = 1..5 (7.3).

Where the paper is silent (stated in the report): the number of epochs (the figures'
axes are not in the text; :data:`FULL_EPOCHS`), lambda of the mixed modes (0.5, the
reference's default), the seeds (one seed for the weights, the batch order and the
feedback matrices). Figures 1-3 and 11-16 are diagrams or the Section 6 vector field,
not experiments; the vector field is :data:`SECTION6_FIGURE`.
"""

from __future__ import annotations

import csv
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from ..data import load_dataset
from ..errors import ConfigError, DivergenceError
from ..fileio import atomic_open
from ..reference.network import CircularAutoencoder
from ..reference.recirculation import Recirculation
from ..reference.rules import get_rule
from ..reference.training import TrainConfig, Trainer
from .progress import progress_bar

FULL_EPOCHS = 20
"""Epochs of a full run. The paper does not state it (its figures' axes are not in the text)."""

QUICK = {"epochs": 3, "max_train": 3000, "max_test": 1000, "deep_hidden": 10}
"""Reduced size of ``--quick``: epochs, training samples per epoch, test samples, Fig. 8's hidden layers."""

PAPER_TRAIN = 60_000
"""Training samples per epoch (Section 7.1)."""

PAPER_TEST = 10_000
"""Test samples (Section 7.1)."""

LINEAR_MAX_NORM = 2.0
"""Cap on each neuron's incoming weight norm in linear networks (Section 7.2)."""

LAM = 0.5
"""lambda of CCR / RCC / CCRCC / RWCC; the paper does not state it."""


@dataclass(frozen=True)
class Curve:
    """One curve of a panel: a learning rule and its parameters."""

    label: str
    """Legend label, as in the paper (BP, RBP, SRBP, REC, TOP, PR, REC 2, ...)."""
    rule: str
    """Registry name of the rule (:data:`recirc_analog.reference.rules.RULE_NAMES`)."""
    recirculation: Recirculation = field(default_factory=Recirculation)
    """Mode, lambda and cycle pair of ``rec`` (ignored by the other rules)."""
    lr_decay: float = 1.0
    """Layer h learns at lr * lr_decay**(L - h) (0.5 for REC' of Fig. 8)."""
    rule_params: tuple[tuple[str, object], ...] = ()
    """Extra keyword arguments of the rule, as (name, value) pairs."""


@dataclass(frozen=True)
class Panel:
    """One panel of a figure: one network trained with several rules."""

    key: str
    """Short name used in the CSV (e.g. ``linear-1``)."""
    title: str
    """Panel title."""
    data: str
    """lowrank, mnist or fashion."""
    hidden: tuple[int, ...]
    """Hidden layer widths (the 20-unit code in the middle)."""
    linear: bool
    """Linear units and squared error, else tanh hidden, logistic output, cross-entropy."""
    lr: float
    """Learning rate of the top layer (dimensionless)."""
    curves: tuple[Curve, ...]
    """The rules compared."""


@dataclass(frozen=True)
class Check:
    """One claim of the paper about a figure, tested on the measured final losses."""

    claim: str
    """The paper's claim, with where it says so."""
    test: Callable[[dict], tuple[bool, str]]
    """``test(results)`` -> (holds, what was measured); ``results[panel][label]`` is a :class:`RunResult`."""


@dataclass(frozen=True)
class FigureDef:
    """An experiment figure of the paper."""

    number: int
    """Figure number in the paper."""
    title: str
    """What the figure shows (from its caption)."""
    panels: tuple[Panel, ...]
    """Its panels, in the paper's order (rows linear / non-linear, columns 1 / 3 hidden layers)."""
    checks: tuple[Check, ...] = ()
    """The paper's claims about it."""
    notes: tuple[str, ...] = ()
    """Settings of this figure and the paper's places for them; choices where it is silent."""
    reconstructions: bool = False
    """Draw reconstructed test images (Fig. 7) instead of loss curves."""


@dataclass(frozen=True)
class RunSpec:
    """Everything one training run depends on (equal specs are trained once)."""

    data: str
    sizes: tuple[int, ...]
    activations: tuple[str, ...]
    rule: str
    recirculation: Recirculation
    rule_params: tuple[tuple[str, object], ...]
    lr: float
    lr_decay: float
    max_norm: float | None
    epochs: int
    seed: int


@dataclass
class RunResult:
    """The curve of one run."""

    test_loss: np.ndarray
    """Test loss per sample after epochs 0..E (NaN after a divergence)."""
    train_loss: np.ndarray
    """Mean minibatch loss of epochs 0..E (row 0: the untrained network; NaN after a divergence)."""
    diverged: int | None
    """Epoch in which training diverged, or None."""
    net: CircularAutoencoder
    """The trained network (the last good weights after a divergence)."""
    seconds: float
    """Wall time of the run."""
    largest_norm: tuple[float, float] = (math.nan, math.nan)
    """Largest Frobenius norm of any layer's weights, untrained and at the end."""

    @property
    def final(self) -> float:
        """The last finite test loss."""
        finite = self.test_loss[np.isfinite(self.test_loss)]
        return float(finite[-1]) if finite.size else math.nan


def panel_network(panel: Panel, dim: int) -> tuple[tuple[int, ...], tuple[str, ...]]:
    """(sizes, activations) of ``panel`` for data of dimension ``dim``."""
    sizes = (dim, *panel.hidden, dim)
    n_layers = len(sizes) - 1
    acts = ("linear",) * n_layers if panel.linear else ("tanh",) * (n_layers - 1) + ("logistic",)
    return sizes, acts


def train_curve(spec: RunSpec, dataset, progress=None) -> RunResult:
    """Train ``spec`` on ``dataset`` from the seed's Glorot weights (output bias = training mean).

    A divergence ends the run: the losses after it are NaN, ``diverged`` its epoch.
    """
    net = CircularAutoencoder.random(spec.sizes, spec.activations, seed=spec.seed, data_mean=dataset.train_mean)
    params = dict(spec.rule_params)
    if spec.rule == "rec":
        params["recirculation"] = spec.recirculation
    elif spec.rule in ("rbp", "srbp", "arbp"):
        params["seed"] = spec.seed
    rule = get_rule(spec.rule, **params)
    trainer = Trainer(net, rule, TrainConfig(epochs=spec.epochs, lr=spec.lr, lr_decay=spec.lr_decay,
                                             max_norm=spec.max_norm, seed=spec.seed, track_angles=False),
                      progress=progress)
    start = time.perf_counter()
    diverged = None
    initial_norm = float(max(net.weight_norms()))
    try:
        trainer.fit(dataset)
    except DivergenceError:
        diverged = trainer.history[-1].epoch + 1 if trainer.history else 0
    pad = [math.nan] * (spec.epochs + 1 - len(trainer.history))
    return RunResult(np.array([row.test_loss for row in trainer.history] + pad),
                     np.array([row.train_loss for row in trainer.history] + pad),
                     diverged, trainer.net, time.perf_counter() - start,
                     (initial_norm, float(max(trainer.net.weight_norms()))))


# --------------------------------------------------------------------------- figures

def _standard_curves() -> tuple[Curve, ...]:
    return (Curve("REC", "rec"), Curve("RBP", "rbp"), Curve("SRBP", "srbp"), Curve("BP", "bp"),
            Curve("TOP", "top"))


def _grid(data: str, curves: tuple[Curve, ...], linear_too: bool = True, nonlinear: bool = True,
          base_lr: float = 0.01) -> tuple[Panel, ...]:
    """The paper's 2 x 2 layout: rows linear / non-linear, columns one / three hidden layers."""
    panels = []
    for linear in (True, False):
        if (linear and not linear_too) or (not linear and not nonlinear):
            continue
        kind = "linear" if linear else "non-linear"
        panels.append(Panel(f"{kind}-1", f"{kind}, hidden 20", data, (20,), linear, base_lr, curves))
        panels.append(Panel(f"{kind}-3", f"{kind}, hidden 100-20-100", data, (100, 20, 100), linear,
                            base_lr / 10, curves))
    return tuple(panels)


def _finals(results: dict, panel: str) -> dict[str, float]:
    return {label: run.final for label, run in results[panel].items()}


def _diverged(results: dict, panel_keys) -> list[str]:
    """'panel label (epoch N)' for every run of ``panel_keys`` that diverged."""
    return [f"{key} {label} (epoch {run.diverged})" for key in panel_keys
            for label, run in results[key].items() if run.diverged is not None]


def _trains_through(check: Check, panel_keys: tuple[str, ...]) -> Check:
    """``check``, failing also when a run of ``panel_keys`` diverged (its last finite loss then compares
    an earlier epoch with the others' last)."""

    def test(results):
        holds, measured = check.test(results)
        diverged = _diverged(results, panel_keys)
        return holds and not diverged, measured + (f" -- diverged: {', '.join(diverged)}" if diverged else "")

    return Check(check.claim + "; every run trains to the end without diverging", test)


def _below_top(panel_keys: tuple[str, ...], labels=("BP", "RBP", "SRBP", "REC")) -> Check:
    """Every deep rule ends below TOP in every panel (7.2: 'deep learning is needed')."""

    def test(results):
        bad, shown = [], []
        for key in panel_keys:
            finals = _finals(results, key)
            shown.append(f"{key}: TOP {finals['TOP']:.4g}, " + ", ".join(f"{k} {finals[k]:.4g}" for k in labels))
            bad += [f"{key} {k}" for k in labels if not finals[k] < finals["TOP"]]
        return not bad, "; ".join(shown) + (f" -- not below TOP: {', '.join(bad)}" if bad else "")

    return Check("BP, RBP, SRBP and REC learn representations TOP cannot: each ends below TOP "
                 "(Section 7.2, 'deep learning is needed to find good low-dimensional representations')", test)


CONVERGED = 1e-3
"""A final loss below this fraction of the untrained loss counts as converged (to zero, on Lowrank)."""


def _rec_near(reference: str, panel_keys: tuple[str, ...], factor: float) -> Check:
    """REC's final loss within ``factor`` of ``reference``'s in every panel, or both converged to ~0."""

    def test(results):
        shown, ok = [], True
        for key in panel_keys:
            rec, ref = results[key]["REC"], results[key][reference]
            ratio = rec.final / ref.final
            converged = max(rec.final / rec.test_loss[0], ref.final / ref.test_loss[0]) <= CONVERGED
            ok &= ratio <= factor or converged
            shown.append(f"{key} {ratio:.3f}" + (" (both converged)" if converged else ""))
        return ok, f"REC / {reference} final test loss: {', '.join(shown)}"

    return Check(f"REC learns 'useful intermediate representations' comparable to {reference}: "
                 f"REC's final test loss at most {factor:g} x {reference}'s, or both below {CONVERGED:g} x "
                 f"their untrained loss (Section 7.2; the thresholds are ours)", test)


def _near_zero(panel_keys: tuple[str, ...], fraction: float) -> Check:
    def test(results):
        shown = []
        ok = True
        for key in panel_keys:
            run = results[key]["REC"]
            ratio = run.final / run.test_loss[0]
            ok &= ratio <= fraction
            shown.append(f"{key}: {run.test_loss[0]:.4g} -> {run.final:.4g} ({ratio:.2%})")
        return ok, "REC test loss untrained -> final: " + "; ".join(shown)

    return Check(f"REC 'quickly learns the relevant latent subspace ... and achieves near-zero reconstruction "
                 f"error' (Section 7.2): final loss below {fraction:.0%} of the untrained loss (threshold ours)", test)


def _similar(panel_keys: tuple[str, ...], spread: float, what: str) -> Check:
    def test(results):
        shown, ok = [], True
        for key in panel_keys:
            finals = _finals(results, key)
            ratio = max(finals.values()) / min(finals.values())
            ok &= ratio <= spread
            shown.append(f"{key}: " + ", ".join(f"{k} {v:.4g}" for k, v in finals.items()) + f" (max/min {ratio:.3f})")
        return ok, "; ".join(shown)

    return Check(f"{what}: largest / smallest final test loss at most {spread:g} in each panel (threshold ours)",
                 test)


def _deep_checks() -> tuple[Check, ...]:
    def tracks(results):
        runs = results["deep"]
        ratio = runs["REC"].test_loss[1] / runs["BP"].test_loss[1]
        return abs(ratio - 1) <= 0.05, f"after epoch 1: REC {runs['REC'].test_loss[1]:.4g}, BP " \
                                       f"{runs['BP'].test_loss[1]:.4g} (ratio {ratio:.3f})"

    def rises(results):
        run = results["deep"]["REC"]
        best = int(np.nanargmin(run.test_loss))
        return run.final > 1.05 * run.test_loss[best], \
            f"REC best {run.test_loss[best]:.4g} at epoch {best}, last {run.final:.4g}" + \
            (f", diverged in epoch {run.diverged}" if run.diverged else "")

    def alleviates(results):
        runs = results["deep"]
        rec_prime, rec = runs["REC'"].final, runs["REC"].final
        return rec_prime < rec, f"last test loss REC' {rec_prime:.4g}, REC {rec:.4g}"

    return (Check("'At the beginning of learning, the loss trajectory of REC closely tracks that of BP' "
                  "(caption of Fig. 8): epoch-1 losses within 5% (threshold ours)", tracks),
            Check("'then the loss increases and doesn't recover' (caption of Fig. 8): REC's last loss more "
                  "than 5% above its best (threshold ours)", rises),
            Check("'Using smaller learning rates in the deeper layers alleviates this problem' (caption of "
                  "Fig. 8): REC' ends below REC", alleviates))


SECTION6_FIGURE = "studies/linear-dynamics/run.py"
"""Section 6 (Fig. 3, the linear dynamics) has no training curves: its vector field and the checks of
Theorems 6.1-6.4 come from :mod:`recirc_analog.reference.linear_dynamics`, regenerated by this script
and reported in docs/LINEAR_DYNAMICS.md."""


def _figures() -> dict[int, FigureDef]:
    std = _standard_curves()
    grid = ("linear-1", "linear-3", "non-linear-1", "non-linear-3")
    lr_note = ("lr 0.01 with one hidden layer, 0.001 with three (Section 7.2: 'a learning rate of 0.01, which "
               "was decreased by a factor of 10 for architectures with three hidden layers')")
    lin_note = ("linear: linear units, squared error, incoming weight norm <= 2.0; non-linear: tanh hidden, "
                "logistic output, cross-entropy (Section 7.1, 7.2)")
    lowrank = (Panel("linear-1", "Lowrank, hidden 20", "lowrank", (20,), True, 0.001, std),
               Panel("linear-3", "Lowrank, hidden 100-20-100", "lowrank", (100, 20, 100), True, 0.0001, std))
    modes = tuple(Curve(mode.upper(), "rec", Recirculation(mode, LAM)) for mode in ("pr", "ccr", "rcc", "ccrcc",
                                                                                     "rwcc"))
    cycles = tuple(Curve(f"REC {m}", "rec", Recirculation("pr", LAM, (0, m), top_layer="gradient"))
                   for m in range(1, 6))
    deep_curves = (Curve("BP", "bp"), Curve("REC", "rec"), Curve("REC'", "rec", lr_decay=0.5), Curve("TOP", "top"))
    deep = (Panel("deep", "MNIST, 10 hidden tanh layers of 100", "mnist", (100,) * 10, False, 0.01, deep_curves),)
    recon = (Panel("linear-3", "MNIST, linear, hidden 100-20-100", "mnist", (100, 20, 100), True, 0.001,
                   (Curve("BP", "bp"), Curve("SRBP", "srbp"), Curve("REC", "rec"))),)
    figures = [
        FigureDef(4, "Lowrank, linear compressive autoencoders", lowrank,
                  (_trains_through(_below_top(("linear-1", "linear-3")), ("linear-1", "linear-3")),
                   _near_zero(("linear-1", "linear-3"), 0.05),
                   _trains_through(_rec_near("BP", ("linear-1", "linear-3"), 2.0), ("linear-1", "linear-3"))),
                  ("Lowrank d = 100, rank 20, a fresh U per minibatch (Section 7.1)",
                   "lr 0.001 (one hidden layer) and 0.0001 (three): 0.01 divided by 10 for Lowrank and by "
                   "another 10 for three hidden layers (Section 7.2)", "linear units, squared error, incoming "
                   "weight norm <= 2.0 (Section 7.2)")),
        FigureDef(5, "MNIST, linear and non-linear compressive autoencoders", _grid("mnist", std),
                  (_trains_through(_below_top(grid), grid), _trains_through(_rec_near("BP", grid, 1.25), grid)),
                  (lr_note, lin_note)),
        FigureDef(6, "Fashion, linear and non-linear compressive autoencoders", _grid("fashion", std),
                  (_trains_through(_below_top(grid), grid), _trains_through(_rec_near("BP", grid, 1.25), grid)),
                  (lr_note, lin_note)),
        FigureDef(7, "Reconstructed MNIST digits, linear 100-20-100 (BP, SRBP, REC)", recon,
                  (_trains_through(_similar(("linear-3",), 1.25, "REC's reconstructions are comparable to BP's "
                                                                 "and SRBP's (Fig. 7 shows them side by side)"),
                                   ("linear-3",)),),
                  ("the Fig. 5 linear three-hidden-layer networks (same settings, so the same runs)",
                   "the first 10 test images"), reconstructions=True),
        FigureDef(8, "MNIST, ten hidden tanh layers: REC, REC', BP, TOP", deep, _deep_checks(),
                  ("784-100x10-784, tanh hidden, logistic output, cross-entropy (caption of Fig. 8, Section 7.2)",
                   "lr 0.01 for every rule; REC' 0.01 / 2**n in the n-th layer below the output (caption of "
                   "Fig. 8)", "no weight cap (the cap is for linear networks, Section 7.2)")),
        FigureDef(9, "MNIST, recirculation modes PR, CCR, RCC, CCRCC, RWCC", _grid("mnist", modes),
                  (_trains_through(_similar(grid, 1.25, "the five modes 'perform very similarly' (Section 7.3)"),
                                   grid),),
                  (lr_note, lin_note, f"lambda = {LAM} for every mixed mode (the paper does not state it); "
                   "CCR and CCRCC scale the update by (1 - lambda) or (1 - lambda)^2 (Eq. 26, 30), an "
                   "effectively smaller learning rate")),
        FigureDef(10, "MNIST, multiple recirculation cycles (REC 1-5)", _grid("mnist", cycles),
                  (_trains_through(_similar(grid, 1.25, "'all variants seem to perform well' (Section 7.3)"), grid),),
                  (lr_note, lin_note, "REC m compares cycles 0 and m (Section 7.3, Eq. 48); the top layer "
                   "is trained by gradient descent 'in every case' (Section 7.3; Recirculation.top_layer "
                   "'gradient', the reference's default; Eq. 48's I - O^L(m-1) is top_layer 'eq48', see "
                   "docs/LINEAR_DYNAMICS.md)")),
    ]
    return {figure.number: figure for figure in figures}


FIGURES = _figures()
"""The paper's experiment figures by number."""

FIGURE_NUMBERS = tuple(FIGURES)
"""Numbers accepted by ``--figure``."""


# --------------------------------------------------------------------------- running

@dataclass(frozen=True)
class Settings:
    """Size of a reproduce run."""

    epochs: int = FULL_EPOCHS
    """Epochs of every run (Fig. 8 included)."""
    max_train: int = PAPER_TRAIN
    """Training samples per epoch (the first ``max_train`` images; Lowrank's epoch length)."""
    max_test: int = PAPER_TEST
    """Test samples (the first ``max_test``)."""
    deep_hidden: int = 10
    """Hidden layers of Fig. 8."""
    seed: int = 0
    """Seed of the weights, feedback matrices, batch order and Lowrank's V."""

    def __post_init__(self):
        for name in ("epochs", "max_train", "max_test", "deep_hidden"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ConfigError(f"{name} must be an integer >= 1, got {value!r}")


def quick_settings(seed: int = 0) -> Settings:
    """The reduced size of ``--quick``."""
    return Settings(seed=seed, **QUICK)


def run_specs(figure: FigureDef, settings: Settings, dims: dict[str, int]) -> dict[str, dict[str, RunSpec]]:
    """``specs[panel.key][curve.label]``: the runs of ``figure`` at ``settings`` (``dims``: data set -> N0)."""
    specs = {}
    for panel in figure.panels:
        hidden = panel.hidden if panel.key != "deep" else (panel.hidden[0],) * settings.deep_hidden
        sizes, acts = panel_network(replace(panel, hidden=hidden), dims[panel.data])
        specs[panel.key] = {
            curve.label: RunSpec(panel.data, sizes, acts, curve.rule,
                                 curve.recirculation if curve.rule == "rec" else Recirculation(),
                                 curve.rule_params, panel.lr, curve.lr_decay,
                                 LINEAR_MAX_NORM if panel.linear else None, settings.epochs, settings.seed)
            for curve in panel.curves}
    return specs


class _Subset:
    """A data set restricted to its first ``max_test`` test samples (the training stream unchanged)."""

    def __init__(self, dataset, max_test: int):
        self._dataset = dataset
        self.test = dataset.test[:max_test]

    def __getattr__(self, name):
        return getattr(self._dataset, name)


def load_data(names, settings: Settings, data_dir) -> dict:
    """The data sets ``names`` at ``settings`` (Lowrank's V and test set from the seed)."""
    return {name: _Subset(load_dataset(name, data_dir, seed=settings.seed, max_train=settings.max_train),
                          settings.max_test) for name in names}


def run_figures(numbers, settings: Settings, data_dir, show_progress: bool = True,
                datasets: dict | None = None, done: dict | None = None) -> dict[int, dict]:
    """Train every run of the figures ``numbers``; ``results[number][panel][label]`` is a RunResult.

    Runs with equal :class:`RunSpec` are trained once and shared; ``done`` (RunSpec -> RunResult),
    if given, holds runs trained earlier (they are not trained again) and receives the new ones.
    """
    figures = [get_figure(n) for n in numbers]
    names = sorted({panel.data for figure in figures for panel in figure.panels})
    datasets = datasets or load_data(names, settings, data_dir)
    dims = {name: datasets[name].dim for name in names}
    specs = {figure.number: run_specs(figure, settings, dims) for figure in figures}
    unique = list(dict.fromkeys(spec for per in specs.values() for panel in per.values()
                                for spec in panel.values()))
    done = {} if done is None else done
    unique = [spec for spec in unique if spec not in done]
    total = sum(spec.epochs * datasets[spec.data].batches_per_epoch(100) * 100 for spec in unique)
    with progress_bar(total, "reproduce", enabled=show_progress) as bar:
        for spec in unique:
            bar.set_postfix_str(f"{spec.data} {'-'.join(map(str, spec.sizes))} {spec.rule}")
            done[spec] = train_curve(spec, datasets[spec.data], progress=bar.update)
    return {number: {key: {label: done[spec] for label, spec in panel.items()} for key, panel in per.items()}
            for number, per in specs.items()}


def get_figure(number) -> FigureDef:
    """The figure ``number`` (an int in :data:`FIGURE_NUMBERS`), else ConfigError."""
    if isinstance(number, bool) or not isinstance(number, (int, np.integer)) or number not in FIGURES:
        raise ConfigError(f"figure must be one of {', '.join(map(str, FIGURE_NUMBERS))}, got {number!r}")
    return FIGURES[int(number)]


# --------------------------------------------------------------------------- outputs

CSV_COLUMNS = ("panel", "curve", "epoch", "test_loss", "train_loss")
"""Columns of figNN.csv: one row per panel, curve and epoch (losses per sample)."""


def write_curves_csv(path, results: dict) -> Path:
    """Write one figure's ``results[panel][label]`` as CSV (:data:`CSV_COLUMNS`)."""
    path = Path(path)
    with atomic_open(path, "w") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(CSV_COLUMNS)
        for key, runs in results.items():
            for label, run in runs.items():
                for epoch, (test, train) in enumerate(zip(run.test_loss, run.train_loss)):
                    writer.writerow([key, label, epoch, repr(float(test)), repr(float(train))])
    return path


def read_curves_csv(path, column: str = "test_loss") -> dict[str, dict[str, np.ndarray]]:
    """``curves[panel][label]``: the ``column`` (test_loss or train_loss) per epoch of a figNN.csv."""
    curves: dict[str, dict[str, list]] = {}
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            curves.setdefault(row["panel"], {}).setdefault(row["curve"], []).append(float(row[column]))
    return {k: {label: np.array(v) for label, v in runs.items()} for k, runs in curves.items()}


def results_from_csv(path) -> dict[str, dict[str, RunResult]]:
    """``results[panel][label]`` rebuilt from a figNN.csv (no network; a NaN marks a divergence)."""
    tests, trains = read_curves_csv(path), read_curves_csv(path, "train_loss")
    results = {}
    for key, runs in tests.items():
        results[key] = {}
        for label, test in runs.items():
            missing = np.flatnonzero(~np.isfinite(test))
            results[key][label] = RunResult(test, trains[key][label], int(missing[0]) if missing.size else None,
                                            None, math.nan)
    return results


def recheck(out) -> list[dict]:
    """Re-evaluate the claims of every figNN.csv in ``out`` without training; rewrite figNN.md, the curve
    panels (figNN.png; Fig. 7's digits need the trained networks and stay), circuit.png and REPORT.md.

    The run line of each figNN.md (the command and size that made the CSV) is kept.
    """
    out = Path(out)
    entries = []
    for number in FIGURE_NUMBERS:
        stem = out / f"fig{number:02d}"
        if not stem.with_suffix(".csv").is_file():
            continue
        figure, results = FIGURES[number], results_from_csv(stem.with_suffix(".csv"))
        old = stem.with_suffix(".md").read_text(encoding="utf-8") if stem.with_suffix(".md").is_file() else ""
        run_line = next((line for line in old.splitlines() if line.startswith("Run: ")), "Run: unknown")
        entry = {"figure": figure, "csv": stem.with_suffix(".csv"), "png": stem.with_suffix(".png"),
                 "line": final_losses_line(figure, results), "checks": evaluate_checks(figure, results)}
        if not figure.reconstructions:
            draw_curves(figure, results, stem.with_suffix(".png"))
        write_section(stem.with_suffix(".md"), entry, run_line=run_line)
        entries.append(entry)
    if (out / "circuit.csv").is_file():
        from .reproduce_circuit import draw_circuit

        draw_circuit(out)
    assemble_report(out)
    return entries


def final_losses_line(figure: FigureDef, results: dict) -> str:
    """'Figure N: panel: label loss, ...; panel: ...' (the last finite test loss of each curve)."""
    parts = []
    for panel in figure.panels:
        runs = results[panel.key]
        parts.append(f"{panel.key}: " + ", ".join(
            f"{label} {run.final:.4g}" + (f" (diverged ep. {run.diverged})" if run.diverged else "")
            for label, run in runs.items()))
    return f"Figure {figure.number} final test loss: " + "; ".join(parts)


def evaluate_checks(figure: FigureDef, results: dict) -> list[tuple[str, bool, str]]:
    """(claim, holds, measured) for each check of ``figure``."""
    return [(check.claim, bool(holds), measured) for check in figure.checks
            for holds, measured in [check.test(results)]]


def draw_curves(figure: FigureDef, results: dict, path) -> Path:
    """figNN.png of a loss-curve figure: its panels in the paper's layout."""
    from ..report.paper_figures import plot_paper_panels

    curves = {panel.title: {label: run.test_loss for label, run in results[panel.key].items()}
              for panel in figure.panels}
    return plot_paper_panels(path, curves, title=f"Fig. {figure.number}: {figure.title}",
                             columns=1 if len(figure.panels) == 1 else 2)


def write_figure(figure: FigureDef, results: dict, out: Path, datasets: dict) -> dict:
    """Write figNN.csv and figNN.png for ``figure``; return its report entry."""
    from ..report.plots import plot_reconstructions

    stem = f"fig{figure.number:02d}"
    csv_path = write_curves_csv(out / f"{stem}.csv", results)
    if figure.reconstructions:
        panel = figure.panels[0]
        dataset = datasets[panel.data]
        originals = dataset.test[:10]
        recon = {label: results[panel.key][label].net.forward(originals)[-1] for label in results[panel.key]}
        png = plot_reconstructions(out / f"{stem}.png", originals, recon, dataset.image_shape,
                                        f"Fig. {figure.number}: {figure.title}")
    else:
        png = draw_curves(figure, results, out / f"{stem}.png")
    return {"figure": figure, "csv": csv_path, "png": png, "line": final_losses_line(figure, results),
            "checks": evaluate_checks(figure, results)}


def size_line(settings: Settings) -> str:
    """The size of a run in words."""
    return (f"{settings.epochs} epochs of {settings.max_train} training samples, {settings.max_test} test samples, "
            f"Fig. 8 with {settings.deep_hidden} hidden layers, seed {settings.seed}")


def write_section(path, entry: dict, settings: Settings | None = None, command: str = "", seconds: float = 0.0,
                  run_line: str | None = None) -> Path:
    """figNN.md: one figure's settings, the paper's claims beside the measurements, its files.

    The "Run:" line names ``command``, ``settings`` and ``seconds``, or is ``run_line`` when given.
    """
    figure = entry["figure"]
    if run_line is None:
        run_line = (f"Run: `{command}` ({size_line(settings)}; {seconds / 60:.1f} min from that command's start "
                    "to this figure).")
    lines = [f"## Figure {figure.number}: {figure.title}", "", run_line, "", "Settings:", ""]
    lines += [f"- {note}" for note in figure.notes]
    lines += ["", "| paper's claim | measured | holds |", "|---|---|---|"]
    for claim, holds, measured in entry["checks"]:
        lines.append(f"| {claim} | {measured} | {'yes' if holds else '**no**'} |")
    lines += ["", entry["line"], "",
              f"Curves: `{entry['csv'].name}`; panel: `{entry['png'].name}`", "",
              f"![Figure {figure.number}]({entry['png'].name})", ""]
    with atomic_open(Path(path), "w") as handle:
        handle.write("\n".join(lines) + "\n")
    return Path(path)


REPORT_HEADER = [
    "# Reproducing Baldi & Sadowski (2018), Section 7", "",
    "Every curve is the exact NumPy reference (`recirc_analog.reference`): test loss per sample after each epoch "
    "(epoch 0: untrained), squared error for linear networks, cross-entropy for non-linear ones (Section 7.1). "
    "Each figure names the command and size it was run at; the paper's full size is 60,000 training and 10,000 "
    "test samples per epoch (Section 7.1).", "",
    f"Where the paper is silent: the number of epochs (its figures' axes are not in the text; default "
    f"{FULL_EPOCHS}), lambda of the mixed modes ({LAM}), the seeds. The thresholds of the checks are ours.", ""]
"""The opening of REPORT.md."""


def assemble_report(out) -> Path:
    """REPORT.md in ``out``: the header, every figNN.md there (by number), circuit.md, then READING.md.

    Figures run by separate commands into one folder thus share one report; READING.md
    (hand-written, optional) holds the interpretation.
    """
    out = Path(out)
    parts = ["\n".join(REPORT_HEADER) + "\n"]
    sections = sorted(out.glob("fig[0-9][0-9].md")) + [out / "circuit.md", out / "READING.md"]
    parts += [path.read_text(encoding="utf-8") for path in sections if path.is_file()]
    with atomic_open(out / "REPORT.md", "w") as handle:
        handle.write("\n".join(parts))
    return out / "REPORT.md"


def reproduce(numbers, settings: Settings, out, data_dir=None, show_progress: bool = True,
              command: str = "recirc-analog reproduce") -> list[dict]:
    """Run the figures ``numbers`` at ``settings`` and write ``out``: figNN.csv / .png / .md, REPORT.md
    (which also takes in figures of earlier commands in ``out``, see :func:`assemble_report`).

    Each figure is written (and REPORT.md re-assembled) as soon as its runs are done, so a long
    command stopped part way leaves its finished figures; runs shared by figures are trained once.
    The time in a figure's "Run:" line is the command's, from its start to that figure.
    """
    out = Path(out)
    numbers = [get_figure(n).number for n in dict.fromkeys(numbers)]
    out.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    names = sorted({panel.data for n in numbers for panel in FIGURES[n].panels})
    datasets = load_data(names, settings, data_dir)
    done: dict[RunSpec, RunResult] = {}
    entries = []
    for number in numbers:
        results = run_figures([number], settings, data_dir, show_progress, datasets, done)
        entry = write_figure(FIGURES[number], results[number], out, datasets)
        write_section(out / f"fig{number:02d}.md", entry, settings, command, time.perf_counter() - start)
        assemble_report(out)
        entries.append(entry)
    return entries
