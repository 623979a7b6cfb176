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

from .window import ConductanceWindow
from .protocol import DeviceModel, StepModel
from .steps import GainStep
from .population import DevicePopulation
from .parameters import DeviceConfig, ideal, reram_like

__all__ = ["ConductanceWindow", "DeviceConfig", "DeviceModel", "DevicePopulation", "GainStep", "StepModel",
           "ideal", "reram_like"]
