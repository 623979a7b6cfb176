"""Reporting: atomic metrics / JSON / npz writers, terminal tables and figures.

Plots need the optional matplotlib dependency (``pip install
recirc-analog[plot]``); it is imported only when a figure is drawn.
"""

from recirc_analog.report.files import (MetricsWriter, atomic_open, save_npz_atomic,
                                        write_json_atomic)
from recirc_analog.report.plots import (plot_angles, plot_loss_curves, plot_reconstructions,
                                        plot_weight_difference, reconstruction_grid)
from recirc_analog.report.tables import format_table

__all__ = ["MetricsWriter", "atomic_open", "format_table", "plot_angles", "plot_loss_curves",
           "plot_reconstructions", "plot_weight_difference", "reconstruction_grid",
           "save_npz_atomic", "write_json_atomic"]
