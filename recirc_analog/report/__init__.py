"""Reporting: terminal tables and figures.

Plots need the optional matplotlib dependency (``pip install
recirc-analog[plot]``); it is imported only when a figure is drawn. File
formats (atomic CSV / JSON / npz writers) live below every layer in
:mod:`recirc_analog.fileio`.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "plot_angles": "plots",
    "plot_loss_curves": "plots",
    "plot_reconstructions": "plots",
    "plot_weight_difference": "plots",
    "reconstruction_grid": "plots",
    "format_table": "tables",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
