"""Figures drawn like the panels of Baldi & Sadowski (2018), Section 7.

- :func:`plot_paper_panels`: a grid of panels, each the test loss per epoch of several
  learning rules (Fig. 4-6, 8-10: rows linear / non-linear, columns one / three hidden
  layers), one colour per rule across panels, log y axis when the losses span a decade;
- :func:`plot_circuit_panel`: a circuit run beside its lock-step reference (minibatch
  loss per batch), one panel per network.

matplotlib is imported when a figure is drawn (see :mod:`.plots`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np

from recirc_analog.errors import ConfigError
from recirc_analog.report.plots import DPI, _new_figure, _save

PANEL_INCHES = (4.2, 3.2)
"""Size of one panel (inches, width x height)."""

MIN_TITLED_WIDTH = 6.4
"""Least width of a figure with a title (inches), so a one-panel figure's title fits."""

LOG_SPAN = 10.0
"""A panel's y axis is logarithmic when its positive losses span more than this factor (else linear)."""

RULE_COLOURS = {"BP": "C0", "RBP": "C1", "SRBP": "C2", "REC": "C3", "TOP": "C7", "REC'": "C4",
                "PR": "C3", "CCR": "C0", "RCC": "C1", "CCRCC": "C2", "RWCC": "C4"}
"""Colour of each rule label, the same in every panel; other labels take the next free colour."""


def plot_paper_panels(path: str | os.PathLike, panels: Mapping[str, Mapping[str, object]], *,
                      title: str | None = None, columns: int = 2, xlabel: str = "epoch",
                      ylabel: str = "test loss (per sample)", logy: bool = True, dpi: int = DPI,
                      styles: Mapping[str, Mapping] | None = None) -> Path:
    """Draw ``panels[panel title][curve label]`` (values per epoch 0..E) as a grid of ``columns``.

    ``styles[label]``, if given, are matplotlib line properties of that curve (e.g. markers only,
    so a curve lying on another stays visible).
    NaN points (after a divergence) are left out; ``logy`` draws a log axis where the
    losses span more than :data:`LOG_SPAN`. Returns the path written.
    """
    if not panels:
        raise ConfigError("panels must hold at least one panel, got none")
    if isinstance(columns, bool) or not isinstance(columns, int) or columns < 1:
        raise ConfigError(f"columns must be an integer >= 1, got {columns!r}")
    columns = min(columns, len(panels))
    rows = -(-len(panels) // columns)
    width = max(PANEL_INCHES[0] * columns, MIN_TITLED_WIDTH if title else 0.0)
    figure = _new_figure((width, PANEL_INCHES[1] * rows + (0.4 if title else 0)), dpi)
    colours = dict(RULE_COLOURS)
    spare = iter(f"C{i}" for i in range(10) if f"C{i}" not in {"C3", "C7"})
    for index, (name, curves) in enumerate(panels.items()):
        axes = figure.add_subplot(rows, columns, index + 1)
        if not curves:
            raise ConfigError(f"panel {name!r} must hold at least one curve, got none")
        for label, values in curves.items():
            y = np.asarray(values, dtype=float)
            if y.ndim != 1:
                raise ConfigError(f"curve {label!r} of panel {name!r} must be 1-d, got shape {y.shape}")
            if label not in colours:
                colours[label] = next(spare, None)
            style = {"linewidth": 1.5, "marker": "o" if y.size <= 30 else None, "markersize": 2.5,
                     **dict((styles or {}).get(label, {}))}
            axes.plot(np.arange(y.size), y, label=str(label), color=colours[label], **style)
        positive = np.concatenate([np.asarray(v, float) for v in curves.values()])
        positive = positive[np.isfinite(positive) & (positive > 0)]
        if logy and positive.size and positive.max() > LOG_SPAN * positive.min():
            axes.set_yscale("log")
        axes.set_title(str(name), fontsize=10)
        axes.set_xlabel(xlabel)
        axes.set_ylabel(ylabel)
        axes.grid(True, which="major", alpha=0.3)
        axes.legend(frameon=False, fontsize=8)
    if title:
        figure.suptitle(title)
    figure.tight_layout()
    return _save(figure, path, dpi)


def plot_circuit_panel(path: str | os.PathLike, panels: Mapping[str, Mapping[str, object]], *,
                       title: str | None = None, dpi: int = DPI) -> Path:
    """The co-simulated circuit beside its reference: ``panels[title][label]`` = minibatch loss per batch.

    Labels ending in "circuit" are drawn as markers only, over the reference's line they lie on.
    """
    labels = {label for curves in panels.values() for label in curves}
    styles = {label: {"linestyle": "none", "marker": "o", "markersize": 3.0, "markerfacecolor": "none"}
              for label in labels if str(label).endswith("circuit")}
    return plot_paper_panels(path, panels, title=title, columns=2, xlabel="minibatch",
                             ylabel="minibatch loss (per sample)", dpi=dpi, styles=styles)
