"""Reporting: terminal tables and figures.

Plots need the optional matplotlib dependency (``pip install
recirc-analog[plot]``); it is imported only when a figure is drawn. File
formats (atomic CSV / JSON / npz writers) live below every layer in
:mod:`recirc_analog.fileio`.
"""

from recirc_analog.report.plots import (plot_angles, plot_loss_curves, plot_reconstructions,
                                        plot_weight_difference, reconstruction_grid)
from recirc_analog.report.tables import format_table

__all__ = ["format_table", "plot_angles", "plot_loss_curves", "plot_reconstructions",
           "plot_weight_difference", "reconstruction_grid"]
