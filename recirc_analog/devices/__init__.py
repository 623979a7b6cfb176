"""Device models: ideal first, non-ideal ones behind the same interface.

- :mod:`.protocol`: :class:`DeviceModel` (program a change or a pulse train,
  read at a time, save/restore state) and :class:`StepModel`;
- :mod:`.window`: :class:`ConductanceWindow`, the crossbar's range, handed to
  a model when it is built;
- :mod:`.steps`: step models (:class:`GainStep`);
- :mod:`.population`: :class:`DevicePopulation`, the model of one crossbar's devices;
- :mod:`.parameters`: :class:`DeviceConfig` (relative parameters; ``build``
  makes the model) and the presets.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "ConductanceWindow": "window",
    "DeviceModel": "protocol",
    "StepModel": "protocol",
    "GainStep": "steps",
    "DevicePopulation": "population",
    "DeviceConfig": "parameters",
    "ideal": "parameters",
    "reram_like": "parameters",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
