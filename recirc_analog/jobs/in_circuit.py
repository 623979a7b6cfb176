"""The ``cosim --update in-circuit`` job (issue 13): the circuit programs its own memristors, beside the
controller-driven run and the NumPy reference (:mod:`recirc_analog.cosim.in_circuit`).

Network: N0-N1-N0, logistic (or tanh) activations, optional bias rows, PR recirculation with cycles (0, 1),
one update per sample. Data: Lowrank squashed into [0, 1] by a logistic function, or an image set (already in [0, 1]).
Writes ``metrics.csv`` (one row per sample of each run), ``summary.json``, ``in_circuit.png`` (losses, per
crossbar the update correlation and realised / nominal gain), ``states.npz`` (initial and final device
states of each run; the reference's weights as states, clipped) and, for ``reconstructions`` > 0,
``reconstructions.png`` / ``.npz`` (test inputs and each final network's reconstruction).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace

import numpy as np

from ..cosim.in_circuit import nominal_rate, online_run, reconstruct
from ..data.datasets import load_dataset
from ..data.lowrank import LowrankDataset
from ..devices.compact.models import COMPACT_MODELS
from ..errors import ConfigError
from ..fileio import atomic_open, format_csv_value, save_npz_atomic, write_json_atomic
from ..schematic.in_circuit import ACTIVATIONS, InCircuitNetwork, WriteScheme, default_v_unit, operating_state
from ..schematic.write_laws import write_law
from .run_folder import run_folder

OUTPUTS = ("metrics.csv", "summary.json", "in_circuit.png", "states.npz", "reconstructions.png",
           "reconstructions.npz")


@dataclass(frozen=True)
class InCircuitConfig:
    """What ``cosim --update in-circuit`` runs."""

    sizes: tuple[int, int, int]
    """(N0, N1, N0) neurons per layer."""
    memristor: str = "yakopcic"
    """Compact model of every device (a key of ``schematic.write_laws.WRITE_LAWS``: yakopcic or vteam)."""
    samples: int = 100
    """Training samples, one update each."""
    seed: int = 0
    """Seed of the data (Lowrank's basis and codes; the image order) and of the initial states."""
    weight_spread: float = 1.0
    """Std of the initial weights around 0 (unitless; states: ``x_ref + weight_spread / w_scale * N(0, 1)``)."""
    tw: float | None = None
    """Longest write pulse (s): sets the learning rate (with ``gain`` and ``w_scale``; None: the model's
    ``job_tw``, 2.7e-4 s for Yakopcic, 1e-4 s for VTEAM, which at the defaults change a weight by 1.26 and
    1.25 per unit of pre x post-difference at ``x_ref``)."""
    steps: int = 200
    """Time points per ``tw``."""
    read_steps: int = 5
    """Time points per read phase (the neurons are ideal sources and the holds settle in one backward-Euler
    step, so 5 read what 20 do: checked by the controller's loss against the reference's)."""
    x_ref: float | None = None
    """Reference column state (None: ``schematic.in_circuit.operating_state``, 0.6)."""
    w_scale: float | None = None
    """Weight per unit of state (unitless; None: the model's, 40 Yakopcic, 100 VTEAM)."""
    gain: float | None = None
    """Down-direction column gain (V/V; ``WriteScheme.gain``; None: the model's, 0.25 Yakopcic, 1e-3 VTEAM)."""
    dataset: str = "lowrank"
    """``lowrank`` (squashed into [0, 1] by a logistic function) or an image set of ``data.DATASET_NAMES``."""
    data_dir: str | None = None
    """Folder of the image files (image sets only; None: ``RECIRC_ANALOG_DATA``)."""
    downsample: int | None = None
    """Mean-pooling factor of the images (4 gives MNIST 7x7, N0 = 49)."""
    reconstructions: int = 8
    """Test samples reconstructed at the end by each run's final network (0: none)."""
    activation: str = "logistic"
    """Both layers' activation (``schematic.in_circuit.ACTIVATIONS``): tanh runs the four-sub-phase write at
    ``v_unit`` 0.05 V (``default_v_unit``: half the logistic rate per unit of pre x post-difference at the same
    ``tw``) and squashes Lowrank into (-1, 1) with tanh."""
    biases: bool = False
    """A bias row per crossbar (initial biases 0: the bias devices start at ``x_ref``)."""


def make_samples(config: InCircuitConfig, rng) -> tuple[np.ndarray, np.ndarray]:
    """(training samples (samples, N0), test samples (reconstructions, N0)), activities in [0, 1]."""
    n0, n1, _ = config.sizes
    if config.dataset == "lowrank":
        data = LowrankDataset(dim=n0, rank=min(n1, n0), seed=config.seed)
        codes = rng.standard_normal((config.samples + config.reconstructions, data.rank))
        x = np.tanh(codes @ data.basis) if config.activation == "tanh" else 1.0 / (1.0 + np.exp(-codes @ data.basis))
        return x[:config.samples], x[config.samples:]
    data = load_dataset(config.dataset, config.data_dir, downsample=config.downsample)
    if data.dim != n0:
        raise ConfigError(f"sizes must start with the data's dimension {data.dim} for {config.dataset} "
                          f"(downsample {config.downsample}), got N0 = {n0}")
    train = next(data.train_batches(config.samples, rng))
    return train, data.test[:config.reconstructions]


def make_inputs(config: InCircuitConfig) -> tuple[np.ndarray, np.ndarray, InCircuitNetwork]:
    """(training samples, test samples, the initial network) of ``config``, all from ``config.seed``."""
    n0, n1, _ = config.sizes
    rng = np.random.default_rng(config.seed)
    samples, tests = make_samples(config, rng)
    model = COMPACT_MODELS[config.memristor]()
    defaults = write_law(model).defaults
    tw = defaults["job_tw"] if config.tw is None else config.tw
    gain = defaults["gain"] if config.gain is None else config.gain
    base = InCircuitNetwork(states1=np.full((n1, n0), 0.5), states2=np.full((n0, n1), 0.5),
                            model=model, x_ref=config.x_ref, w_scale=config.w_scale,
                            scheme=WriteScheme(tw=tw, steps=config.steps, read_steps=config.read_steps,
                                              gain=gain, v_half=defaults["v_half"]),
                            **_signed_and_bias_options(config))
    sd = config.weight_spread / base.w_scale
    return samples, tests, replace(base, states1=np.clip(base.x_ref + sd * rng.standard_normal((n1, n0)), 0, 1),
                                   states2=np.clip(base.x_ref + sd * rng.standard_normal((n0, n1)), 0, 1))


def run_in_circuit(config: InCircuitConfig, out, *, show_progress: bool = True, overwrite: bool = False,
                   engine=None) -> dict:
    """Run the three online runs of ``config`` into the folder ``out``; the summary (also in summary.json)."""
    from ..engines.batch import BatchEngine

    samples, tests, net = make_inputs(config)
    with run_folder(out, overwrite=overwrite, outputs=OUTPUTS) as folder:
        runs, seconds, finals = {}, {}, {}
        recon = {}
        with (engine or BatchEngine(tmp_root=str(folder.tmp))) as sim:
            for update in ("reference", "in-circuit", "controller"):
                start = time.perf_counter()
                runs[update], finals[update] = online_run(sim, net, samples, update, progress=show_progress)
                seconds[update] = time.perf_counter() - start
            if len(tests):
                # the circuit reads the in-circuit and controller states; the reference's weights are
                # unbounded (its states above are clipped), so its forward pass is NumPy's
                for update in ("in-circuit", "controller"):
                    recon[update] = reconstruct(sim, finals[update], tests)
                if net.signed or net.biases:
                    recon["reference"] = reference_reconstructions(net, samples, tests)
                else:
                    a1, a2 = reference_weights(net, samples)
                    recon["reference"] = _sigmoid(_sigmoid(tests @ a1.T) @ a2.T)
                recon["initial"] = reconstruct(sim, net, tests)
        columns = ["run", "sample", "loss", "corr", "corr1", "corr2", "gain1", "gain2", "disturbed",
                   "half_selected", "wrong_sign", "ref_drift"]
        with atomic_open(folder.path / "metrics.csv") as handle:
            handle.write(",".join(columns) + "\n")
            for update, rows in runs.items():
                for k, row in enumerate(rows):
                    values = {"run": update, "sample": k, **row}
                    handle.write(",".join(format_csv_value(values.get(c)) for c in columns) + "\n")
        window = max(config.samples // 5, 1)
        ours = runs["in-circuit"]
        summary = {
            "sizes": list(config.sizes), "memristor": config.memristor, "samples": config.samples,
            "seed": config.seed, "dataset": config.dataset, "downsample": config.downsample,
            "tw": net.scheme.tw, "steps": config.steps, "read_steps": config.read_steps, "x_ref": net.x_ref,
            "gain_down": net.scheme.gain,
            "gain_up": net.gain_up, "weight_spread": config.weight_spread,
            "weight_change_per_unit": nominal_rate(net) * net.w_scale,
            "state_change_per_unit": nominal_rate(net),
            "final_states_in_circuit": _state_stats(finals["in-circuit"]),
            "final_states_controller": _state_stats(finals["controller"]), "w_scale": net.w_scale, "window": window,
            "activation": net.activation, "biases": net.biases, "v_unit": net.v_unit,
            "loss_first": {u: float(np.mean([r["loss"] for r in rows[:window]])) for u, rows in runs.items()},
            "loss_last": {u: float(np.mean([r["loss"] for r in rows[-window:]])) for u, rows in runs.items()},
            "corr_median": float(np.nanmedian([r["corr"] for r in ours])),
            "corr_min": float(np.nanmin([r["corr"] for r in ours])),
            **{f"{key}_median_{part}": float(np.nanmedian([r[key] for r in rows]))
               for key in ("corr1", "corr2", "gain1", "gain2")
               for part, rows in (("first", ours[:window]), ("last", ours[-window:]))},
            "disturbed": int(sum(r["disturbed"] for r in ours)),
            "half_selected_checked": int(sum(r["half_selected"] for r in ours)),
            "wrong_sign": int(sum(r["wrong_sign"] for r in ours)),
            "reference_column_drift_max": float(max(r["ref_drift"] for r in ours)),
            "seconds": seconds,
        }
        write_json_atomic(folder.path / "summary.json", summary)
        save_npz_atomic(folder.path / "states.npz", initial1=net.states1, initial2=net.states2,
                        **{f"{u.replace('-', '_')}{k}": getattr(n, f"states{k}")
                           for u, n in finals.items() for k in (1, 2)}, **_bias_arrays(net, finals))
        if recon:
            summary["reconstruction_error"] = {u: float(np.mean(np.sum((tests - r) ** 2, axis=1)))
                                               for u, r in recon.items()}
            write_json_atomic(folder.path / "summary.json", summary)
            save_npz_atomic(folder.path / "reconstructions.npz", inputs=tests,
                            **{u.replace("-", "_"): r for u, r in recon.items()})
            _plot_reconstructions(tests, recon, folder.path / "reconstructions.png")
        _plot(runs, window, folder.path / "in_circuit.png")
    return summary


def reference_weights(net: InCircuitNetwork, samples: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The reference run's final weights (A1, A2), unbounded (the same online rule as ``online_run``)."""
    from ..cosim.in_circuit import reference_step

    a1, a2 = net.weights()
    for x in samples:
        a1, a2, _ = reference_step(a1, a2, x, nominal_rate(net) * net.w_scale)
    return a1, a2


def _signed_and_bias_options(config: InCircuitConfig) -> dict:
    """The ``InCircuitNetwork`` keywords of ``config.activation`` and ``config.biases`` (none for the logistic
    network without biases, which is built as before)."""
    if config.activation not in ACTIVATIONS:
        raise ConfigError(f"activation must be one of {', '.join(ACTIVATIONS)}, got {config.activation!r}")
    if (config.activation != "logistic" or config.biases) and config.memristor != "yakopcic":
        raise ConfigError(f"tanh and biases are built for the yakopcic memristor only, got memristor "
                          f"{config.memristor!r} with activation {config.activation!r} and biases {config.biases}")
    options = {}
    if config.activation != "logistic":
        options.update(activation=config.activation, v_unit=default_v_unit(config.activation))
    if config.biases:
        x_ref = operating_state(COMPACT_MODELS[config.memristor]()) if config.x_ref is None else config.x_ref
        n0, n1, _ = config.sizes
        options.update(bias_states1=np.full(n1, x_ref), bias_states2=np.full(n0, x_ref))
    return options


def _bias_arrays(net, finals) -> dict:
    """states.npz's bias-row states (``initial_bias1`` ..., ``<run>_bias2``); none without bias rows."""
    if not net.biases:
        return {}
    runs = {"initial": net, **finals}
    return {f"{u.replace('-', '_')}_bias{k}": getattr(n, f"bias_states{k}") for u, n in runs.items() for k in (1, 2)}


def reference_reconstructions(net: InCircuitNetwork, samples: np.ndarray, tests: np.ndarray) -> np.ndarray:
    """The reference run's reconstructions of ``tests`` after training on ``samples``, with its biases and
    activation (unbounded weights: the same online rule as ``online_run``)."""
    from ..cosim.in_circuit import biased_reference_step, reference_forward

    weights, biases = net.weights(), (net.bias_weights() if net.biases else None)
    for x in samples:
        weights, biases, _ = biased_reference_step(weights, biases, x, nominal_rate(net) * net.w_scale,
                                                   net.activation)
    return reference_forward(weights, biases, tests, net.activation)


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def _state_stats(net) -> dict:
    """Where the states ended: their range and how many sit within 0.05 of a bound or of the windows' soft
    bounds (Yakopcic's down rate is below 1/4 of its x_ref value for x < 0.3)."""
    x = np.concatenate([net.states1.ravel(), net.states2.ravel()])
    return {"min": float(x.min()), "max": float(x.max()), "std": float(x.std()),
            "below_0.3": int(np.sum(x < 0.3)), "above_0.7": int(np.sum(x > 0.7)), "devices": int(x.size)}


def _plot(runs, window, path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, (left, mid, right) = plt.subplots(1, 3, figsize=(14, 3.8))
    kernel = np.ones(window) / window
    for update, rows in runs.items():
        loss = np.array([r["loss"] for r in rows])
        left.plot(np.arange(window - 1, len(loss)), np.convolve(loss, kernel, "valid"), label=update)
    left.set(xlabel="sample", ylabel=f"loss before the update (mean of {window})")
    left.legend()
    ours = runs["in-circuit"]
    for k in (1, 2):
        mid.plot([r[f"corr{k}"] for r in ours], ".", ms=3, label=f"crossbar {k}")
        right.plot([r[f"gain{k}"] for r in ours], ".", ms=3, label=f"crossbar {k}")
    mid.set(xlabel="sample", ylabel="corr(realised dx, pre x post-difference)")
    right.axhline(1.0, color="grey", lw=0.8)
    right.set(xlabel="sample", ylabel="realised / nominal change (LS slope)")
    mid.legend()
    right.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def _plot_reconstructions(inputs, recon, path) -> None:
    """A row per test sample: the input and each run's reconstruction (images when N0 is a square)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = ["input", *recon]
    side = int(round(np.sqrt(inputs.shape[1])))
    square = side * side == inputs.shape[1]
    low = -1.0 if float(np.min(inputs)) < 0 else 0.0        # tanh data: grey is 0
    fig, axes = plt.subplots(len(inputs), len(names), figsize=(1.6 * len(names), 1.5 * len(inputs)),
                             squeeze=False)
    for i, x in enumerate(inputs):
        for ax, name in zip(axes[i], names):
            v = x if name == "input" else recon[name][i]
            if square:
                ax.imshow(v.reshape(side, side), cmap="gray", vmin=low, vmax=1)
            else:
                ax.bar(np.arange(len(v)), v, width=1.0)
                ax.set_ylim(low, 1)
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(name, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
