"""Memristor compact models (behavioural ngspice subcircuits) and their pulsed-device fits.

- :mod:`.models`: :class:`Vteam` and :class:`Yakopcic`, frozen records of a published
  compact model's parameters, with the model's equations in NumPy (state rate, current,
  read conductance) and :func:`integrate_state`, the model's ODE integrated with SciPy
  (the oracle the ngspice subcircuits are tested against). The SPICE text of each model
  lives only in ``circuits/memristors/<cell>.lib`` (package data copy in
  ``recirc_analog/cell_library/memristors/``).
- :mod:`.fit`: fitting a measured pulse response (state after every pulse of an up and a
  down train) to a :class:`~recirc_analog.devices.pulsed.PulsedDevice` step model;
- :mod:`.presets`: the fitted presets ``vteam-fit`` / ``yakopcic-fit`` (also in
  :data:`recirc_analog.devices.presets.DEVICE_PRESETS`).
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "Vteam": "models",
    "Yakopcic": "models",
    "COMPACT_MODELS": "models",
    "integrate_state": "models",
    "PulseResponse": "fit",
    "FitResult": "fit",
    "fit_pulse_response": "fit",
    "replay": "fit",
    "vteam_fit": "presets",
    "yakopcic_fit": "presets",
    "COMPACT_PRESETS": "presets",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
