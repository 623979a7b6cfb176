"""Figures of a sweep: final loss against each swept parameter, and heat maps of parameter pairs.

Rows are results.csv rows (dicts); points that did not finish are left out.
Parameter values are drawn as categories in the order they first appear
(the study's grid order), so numbers and names are handled alike.
"""

from __future__ import annotations

import itertools
from pathlib import Path

import numpy as np

from .plots import DPI, LINE_FIGSIZE, _new_figure, _save


def _categories(rows, param) -> list:
    seen = []
    for row in rows:
        if row[param] not in seen:
            seen.append(row[param])
    return seen


def _losses(rows, loss) -> list[dict]:
    return [r for r in rows if r.get("status") == "ok" and r.get(loss) is not None
            and np.isfinite(float(r[loss]))]


def plot_loss_vs_parameter(path, rows, param: str, others, loss: str, *, dpi: int = DPI) -> Path:
    """Mean final ``loss`` over seeds against ``param``, one line per setting of the ``others``,
    with a bar from the smallest to the largest seed's loss."""
    done = _losses(rows, loss)
    xs = _categories(rows, param)
    figure = _new_figure(LINE_FIGSIZE, dpi)
    axes = figure.add_subplot()
    groups = {}
    for row in done:
        groups.setdefault(tuple(row[o] for o in others), []).append(row)
    for n, (setting, members) in enumerate(groups.items()):
        x, mean, low, high = [], [], [], []
        for i, value in enumerate(xs):
            losses = [float(r[loss]) for r in members if r[param] == value]
            if losses:
                x.append(i + 0.04 * (n - (len(groups) - 1) / 2))
                mean.append(np.mean(losses))
                low.append(mean[-1] - min(losses))
                high.append(max(losses) - mean[-1])
        label = ", ".join(f"{o}={v}" for o, v in zip(others, setting)) or loss
        axes.errorbar(x, mean, yerr=[low, high], marker="o", markersize=3.5, capsize=3, linewidth=1.4, label=label)
    axes.set_xticks(range(len(xs)), [str(v) for v in xs])
    if done and all(float(r[loss]) > 0 for r in done):
        axes.set_yscale("log")
    axes.set_xlabel(param)
    axes.set_ylabel(f"{loss} (mean, min-max over seeds)")
    axes.grid(True, alpha=0.3)
    if len(groups) > 1 or others:
        axes.legend(frameon=False, fontsize="small")
    figure.tight_layout()
    return _save(figure, path, dpi)


def plot_heat_map(path, rows, x_param: str, y_param: str, loss: str, *, dpi: int = DPI) -> Path:
    """Mean final ``loss`` (over seeds and any other swept parameter) for each pair of values."""
    done = _losses(rows, loss)
    xs, ys = _categories(rows, x_param), _categories(rows, y_param)
    grid = np.full((len(ys), len(xs)), np.nan)
    for i, y in enumerate(ys):
        for j, x in enumerate(xs):
            values = [float(r[loss]) for r in done if r[x_param] == x and r[y_param] == y]
            if values:
                grid[i, j] = np.mean(values)
    figure = _new_figure((1.6 + 0.9 * len(xs), 1.4 + 0.6 * len(ys)), dpi)
    axes = figure.add_subplot()
    image = axes.imshow(grid, cmap="viridis", aspect="auto")
    for i, j in itertools.product(range(len(ys)), range(len(xs))):
        text = "failed" if np.isnan(grid[i, j]) else f"{grid[i, j]:.3g}"
        light = not np.isnan(grid[i, j]) and image.norm(grid[i, j]) > 0.6  # viridis is light at the top
        axes.text(j, i, text, ha="center", va="center", fontsize="small", color="k" if light else "w")
    axes.set_xticks(range(len(xs)), [str(v) for v in xs])
    axes.set_yticks(range(len(ys)), [str(v) for v in ys])
    axes.set_xlabel(x_param)
    axes.set_ylabel(y_param)
    axes.set_title(f"{loss}, mean over seeds and other parameters", fontsize="small")
    figure.colorbar(image, ax=axes)
    figure.tight_layout()
    return _save(figure, path, dpi)


def plot_sweep(out, rows, params, loss: str) -> list[Path]:
    """``loss_vs_<param>.png`` for every swept parameter and ``heatmap_<a>_<b>.png`` for every pair."""
    out = Path(out)
    paths = []
    for param in params:
        others = [p for p in params if p != param]
        paths.append(plot_loss_vs_parameter(out / f"loss_vs_{param}.png", rows, param, others, loss))
    for a, b in itertools.combinations(params, 2):
        paths.append(plot_heat_map(out / f"heatmap_{a}_{b}.png", rows, a, b, loss))
    return paths
