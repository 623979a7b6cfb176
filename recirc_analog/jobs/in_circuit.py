"""The ``cosim --update in-circuit`` job (issue 13): the circuit programs its own memristors, beside the
controller-driven run and the NumPy reference (:mod:`recirc_analog.cosim.in_circuit`).

Network: N0-N1-N0, sigmoid activations, no biases, PR recirculation with cycles (0, 1), one update per
sample. Data: Lowrank squashed into [0, 1] by a logistic function, or an image set (already in [0, 1]).
Writes ``metrics.csv`` (one row per sample of each run), ``summary.json``, ``in_circuit.png`` and
``states.npz`` (initial and final device states of each run; the reference's weights as states, clipped).
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import numpy as np

from ..cosim.in_circuit import UPDATES, nominal_rate, online_run
from ..data.lowrank import LowrankDataset
from ..devices.compact.models import COMPACT_MODELS
from ..fileio import atomic_open, format_csv_value, save_npz_atomic, write_json_atomic
from ..schematic.in_circuit import InCircuitNetwork, WriteScheme
from .run_folder import run_folder

OUTPUTS = ("metrics.csv", "summary.json", "in_circuit.png", "states.npz")


@dataclass(frozen=True)
class InCircuitConfig:
    """What ``cosim --update in-circuit`` runs."""

    sizes: tuple[int, int, int]
    """(N0, N1, N0) neurons per layer."""
    memristor: str = "yakopcic"
    """Compact model of every device (a key of ``COMPACT_MODELS``; only yakopcic is programmable in-circuit)."""
    samples: int = 100
    """Training samples, one update each."""
    seed: int = 0
    """Seed of the data and of the initial states."""
    spread: float = 0.05
    """Std of the initial states around the reference column's state (unitless)."""
    tw: float = 4e-4
    """Longest write pulse (s): sets the learning rate."""
    steps: int = 200
    """Time points per ``tw``."""


def run_in_circuit(config: InCircuitConfig, out, *, show_progress: bool = True, overwrite: bool = False,
                   engine=None) -> dict:
    """Run the three online runs of ``config`` into the folder ``out``; the summary (also in summary.json)."""
    from ..engines.batch import BatchEngine

    n0, n1, _ = config.sizes
    model = COMPACT_MODELS[config.memristor]()
    rng = np.random.default_rng(config.seed)
    data = LowrankDataset(dim=n0, rank=min(n1, n0), seed=config.seed)
    samples = 1.0 / (1.0 + np.exp(-rng.standard_normal((config.samples, data.rank)) @ data.basis))
    x_ref = InCircuitNetwork(states1=np.full((n1, n0), 0.5), states2=np.full((n0, n1), 0.5), model=model).x_ref
    net = InCircuitNetwork(states1=np.clip(x_ref + config.spread * rng.standard_normal((n1, n0)), 0, 1),
                           states2=np.clip(x_ref + config.spread * rng.standard_normal((n0, n1)), 0, 1),
                           model=model, scheme=WriteScheme(tw=config.tw, steps=config.steps))
    with run_folder(out, overwrite=overwrite, outputs=OUTPUTS) as folder:
        runs, seconds, finals = {}, {}, {}
        with (engine or BatchEngine(tmp_root=str(folder.tmp))) as sim:
            for update in UPDATES[::-1]:
                start = time.perf_counter()
                runs[update], finals[update] = online_run(sim, net, samples, update, progress=show_progress)
                seconds[update] = time.perf_counter() - start
        columns = ["run", "sample", "loss", "corr", "disturbed", "half_selected", "wrong_sign", "ref_drift"]
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
            "seed": config.seed, "tw": config.tw, "steps": config.steps, "x_ref": net.x_ref,
            "state_change_per_unit": nominal_rate(net),
            "final_states_in_circuit": _state_stats(finals["in-circuit"]),
            "final_states_controller": _state_stats(finals["controller"]), "w_scale": net.w_scale, "window": window,
            "loss_first": {u: float(np.mean([r["loss"] for r in rows[:window]])) for u, rows in runs.items()},
            "loss_last": {u: float(np.mean([r["loss"] for r in rows[-window:]])) for u, rows in runs.items()},
            "corr_median": float(np.nanmedian([r["corr"] for r in ours])),
            "corr_min": float(np.nanmin([r["corr"] for r in ours])),
            "disturbed": int(sum(r["disturbed"] for r in ours)),
            "half_selected_checked": int(sum(r["half_selected"] for r in ours)),
            "wrong_sign": int(sum(r["wrong_sign"] for r in ours)),
            "reference_column_drift_max": float(max(r["ref_drift"] for r in ours)),
            "seconds": seconds,
        }
        write_json_atomic(folder.path / "summary.json", summary)
        save_npz_atomic(folder.path / "states.npz", initial1=net.states1, initial2=net.states2,
                        **{f"{u.replace('-', '_')}{k}": getattr(n, f"states{k}")
                           for u, n in finals.items() for k in (1, 2)})
        _plot(runs, window, folder.path / "in_circuit.png")
    return summary


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

    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 3.8))
    kernel = np.ones(window) / window
    for update, rows in runs.items():
        loss = np.array([r["loss"] for r in rows])
        left.plot(np.arange(window - 1, len(loss)), np.convolve(loss, kernel, "valid"), label=update)
    left.set(xlabel="sample", ylabel=f"loss before the update (mean of {window})")
    left.legend()
    right.plot([r["corr"] for r in runs["in-circuit"]], ".")
    right.set(xlabel="sample", ylabel="corr(realised dx, pre x post-difference)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
