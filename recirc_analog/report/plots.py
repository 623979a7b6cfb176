"""Figures of a run: loss curves, weight differences, angles, reconstructions.

matplotlib is an optional dependency, imported when a figure is drawn.
Figures are drawn on their own Agg canvas (no pyplot, no global backend
switch), so plotting works headless and leaves the caller's matplotlib
state alone. Each function writes one file atomically (PNG, PDF or SVG by
the path's suffix) and returns its path. Raster files are exactly
``figsize * dpi`` pixels.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from recirc_analog.errors import ConfigError, SetupError, check_range
from recirc_analog.fileio import atomic_open

DPI = 120
"""Default resolution of raster figures (dots per inch)."""

LINE_FIGSIZE = (6.4, 4.0)
"""Default size of line plots (inches, width x height)."""

FORMATS = {".png": "png", ".pdf": "pdf", ".svg": "svg"}
"""Accepted file suffixes and the matplotlib format each selects."""

GRID_LABEL_INCHES = 1.3
"""Left margin of a reconstruction grid, for the row labels (inches)."""

GRID_TITLE_INCHES = 0.35
"""Top margin of a reconstruction grid, for the title (inches)."""


def plot_loss_curves(path: str | os.PathLike, x, series: Mapping[str, object],
                     xlabel: str = "epoch", ylabel: str = "test loss", logy: bool = True,
                     title: str | None = None, *, figsize=LINE_FIGSIZE, dpi: int = DPI) -> Path:
    """Plot one curve per entry of ``series`` (label -> values, same length as ``x``).

    ``logy`` uses a logarithmic y axis when some value is positive (NaN and
    non-positive points are left out of a log plot).
    """
    return _line_plot(path, x, series, xlabel=xlabel, ylabel=ylabel, logy=logy, title=title,
                      figsize=figsize, dpi=dpi)


def plot_weight_difference(path: str | os.PathLike, x, per_layer: Mapping[str, object],
                           xlabel: str = "batch",
                           ylabel: str = "max |A_circuit - A_reference|",
                           title: str | None = "Circuit vs NumPy reference weights", *,
                           figsize=LINE_FIGSIZE, dpi: int = DPI) -> Path:
    """Plot a per-layer weight difference (layer name -> values per ``x``) on a log y axis."""
    return _line_plot(path, x, per_layer, xlabel=xlabel, ylabel=ylabel, logy=True, title=title,
                      figsize=figsize, dpi=dpi)


def plot_angles(path: str | os.PathLike, epochs, angles_per_layer: Mapping[str, object],
                xlabel: str = "epoch", ylabel: str = "angle to the BP gradient (degrees)",
                title: str | None = None, *, figsize=LINE_FIGSIZE, dpi: int = DPI) -> Path:
    """Plot angles in degrees (layer name -> values per epoch) with the 90 degree line.

    An update within 90 degrees of the gradient direction is a descent
    direction; the dashed line marks that limit.
    """
    return _line_plot(path, epochs, angles_per_layer, xlabel=xlabel, ylabel=ylabel, logy=False,
                      title=title, figsize=figsize, dpi=dpi, right_angle_line=True)


def reconstruction_grid(originals, reconstructions: Mapping[str, object],
                        image_shape: tuple[int, int], pad: int = 1) -> tuple[np.ndarray, list[str]]:
    """Tile images into one array: row 0 the originals, then one row per source.

    ``originals`` (k, d) and every ``reconstructions[name]`` (k, d), with
    d = rows * cols of ``image_shape``. Returns the float array
    (n_rows * (rows + pad) - pad, k * (cols + pad) - pad), NaN in the ``pad``
    pixel gaps, and the row labels ("original", then the source names).
    """
    originals = _as_matrix("originals", originals)
    k, d = originals.shape
    if len(image_shape) != 2 or image_shape[0] * image_shape[1] != d:
        raise ConfigError(f"image_shape must be (rows, cols) with rows * cols = {d} "
                          f"(the originals' width), got {image_shape!r}")
    sources = {"original": originals}
    for name, images in reconstructions.items():
        sources[name] = _as_matrix(f"reconstructions[{name!r}]", images)
        if sources[name].shape != (k, d):
            raise ConfigError(f"reconstructions[{name!r}] must have the originals' shape "
                              f"{(k, d)}, got {sources[name].shape}")
    rows, cols = image_shape
    grid = np.full((len(sources) * (rows + pad) - pad, k * (cols + pad) - pad), np.nan)
    for i, images in enumerate(sources.values()):
        for j, image in enumerate(images):
            top, left = i * (rows + pad), j * (cols + pad)
            grid[top:top + rows, left:left + cols] = image.reshape(rows, cols)
    return grid, list(sources)


def plot_reconstructions(path: str | os.PathLike, originals, reconstructions: Mapping[str, object],
                         image_shape: tuple[int, int], title: str | None = None, *,
                         cell_inches: float = 0.6, dpi: int = DPI) -> Path:
    """Draw :func:`reconstruction_grid` like Fig. 7 of the paper: one labelled row per source.

    Grey levels span the originals' range (black = min, white = max); a
    reconstruction outside it is clipped to black / white. The figure is
    ``GRID_LABEL_INCHES + k * cell_inches`` wide and
    ``n_rows * cell_inches + GRID_TITLE_INCHES`` high.
    """
    check_range("cell_inches", cell_inches, 0.0, low_open=True)
    grid, labels = reconstruction_grid(originals, reconstructions, image_shape)
    rows, k = image_shape[0], len(originals)
    width = GRID_LABEL_INCHES + k * cell_inches
    height = len(labels) * cell_inches + GRID_TITLE_INCHES
    figure = _new_figure((width, height), dpi)
    axes = figure.add_axes((GRID_LABEL_INCHES / width, 0.0,
                            k * cell_inches / width, len(labels) * cell_inches / height))
    low, high = np.nanmin(grid[:rows]), np.nanmax(grid[:rows])
    axes.imshow(grid, cmap="gray", vmin=low, vmax=high if high > low else low + 1.0,
                interpolation="nearest", aspect="auto")
    axes.set_xticks([])
    axes.set_yticks(np.arange(len(labels)) * (rows + 1) + (rows - 1) / 2, labels)
    axes.tick_params(length=0)
    for spine in axes.spines.values():
        spine.set_visible(False)
    if title:
        figure.suptitle(title, y=1.0 - 0.05 / height, va="top")
    return _save(figure, path, dpi)


def _line_plot(path, x, series: Mapping[str, object], *, xlabel: str, ylabel: str, logy: bool,
               title: str | None, figsize, dpi: int, right_angle_line: bool = False) -> Path:
    """One axes of labelled curves sharing ``x``; the implementation of the line plots."""
    x = np.asarray(x, dtype=float)
    if x.ndim != 1 or x.size == 0:
        raise ConfigError(f"x must be a non-empty 1-d array, got shape {x.shape}")
    if not series:
        raise ConfigError("series must hold at least one curve, got none")
    curves = {}
    for label, values in series.items():
        curves[label] = np.asarray(values, dtype=float)
        if curves[label].shape != x.shape:
            raise ConfigError(f"curve {label!r} must have one value per x ({x.size}), "
                              f"got shape {curves[label].shape}")
    figure = _new_figure(figsize, dpi)
    axes = figure.add_subplot()
    marker = "o" if x.size <= 30 else None
    for label, y in curves.items():
        axes.plot(x, y, label=str(label), linewidth=1.6, marker=marker, markersize=3.5)
    if logy and any(np.any(np.isfinite(y) & (y > 0)) for y in curves.values()):
        axes.set_yscale("log")
    if right_angle_line:
        axes.axhline(90.0, color="0.4", linestyle="--", linewidth=1.0, label="90 degrees")
        axes.set_ylim(0.0, max(95.0, np.nanmax([np.nanmax(y) for y in curves.values()]) * 1.05))
    axes.set_xlabel(xlabel)
    axes.set_ylabel(ylabel)
    if title:
        axes.set_title(title)
    axes.grid(True, which="major", alpha=0.3)
    axes.legend(frameon=False)
    figure.tight_layout()
    return _save(figure, path, dpi)


def _as_matrix(name: str, values) -> np.ndarray:
    """``values`` as a non-empty float array (k, d), or ConfigError naming ``name``."""
    array = np.asarray(values, dtype=float)
    if array.ndim != 2 or array.size == 0:
        raise ConfigError(f"{name} must be a non-empty 2-d array (k, d), got shape {array.shape}")
    return array


def _new_figure(figsize, dpi: int):
    """A matplotlib Figure on its own Agg canvas; SetupError when matplotlib is missing."""
    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError:
        raise SetupError("plots need matplotlib: pip install recirc-analog[plot]") from None
    figure = Figure(figsize=figsize, dpi=dpi)
    FigureCanvasAgg(figure)
    return figure


def _save(figure, path: str | os.PathLike, dpi: int) -> Path:
    """Write ``figure`` atomically in the format named by ``path``'s suffix."""
    path = Path(path)
    file_format = FORMATS.get(path.suffix.lower())
    if file_format is None:
        raise ConfigError(f"plot path must end in one of {', '.join(FORMATS)}, got {str(path)!r}")
    with atomic_open(path, "wb") as handle:
        figure.savefig(handle, format=file_format, dpi=dpi)
    return path

