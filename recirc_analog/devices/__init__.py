"""Device models: ideal first, non-ideal ones behind the same interface.

- :mod:`.protocol`: :class:`DeviceModel` (program a change or a pulse train,
  read at a time, save/restore state) and :class:`StepModel`;
- :mod:`.window`: :class:`ConductanceWindow`, the crossbar's range, handed to
  a model when it is built;
- :mod:`.steps`: step models (:class:`GainStep`);
- :mod:`.population`: :class:`DevicePopulation`, the model of one crossbar's devices;
- :mod:`.parameters`: :class:`DeviceConfig` (relative parameters; ``build``
  makes the model): ideal, bounded linear, quantised levels, write noise;
- :mod:`.steps` also holds the pulsed step models (:class:`ConstantStep`,
  :class:`LinearStep` / :func:`soft_bounds_step`, :class:`ExponentialStep`,
  :class:`PowerStep`; :class:`PulseStep` protocol);
- :mod:`.drift`: :class:`Drift` (power law, spread of exponents);
- :mod:`.programming`: the schemes :class:`OpenLoopPulses` (deterministic or
  stochastic pulse coincidence) and :class:`WriteVerify`;
- :mod:`.pulsed`: :class:`PulsedDevice` (step, cycle-to-cycle noise,
  :class:`DeviceSpread`, read noise, drift, stuck fractions, levels, scheme);
  its model is :class:`PulsedPopulation` (:mod:`.pulsed_population`);
- :mod:`.presets`: :data:`DEVICE_PRESETS` (ideal, reram-like, reram-hfo2, reram-es, pcm, ecram);
- :mod:`.serialisation`: :func:`device_to_json`, :func:`device_from_json`,
  :func:`load_device` (a preset name or a ``.json`` file).
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
    "PulseStep": "protocol",
    "ConstantStep": "steps",
    "LinearStep": "steps",
    "ExponentialStep": "steps",
    "PowerStep": "steps",
    "soft_bounds_step": "steps",
    "Drift": "drift",
    "OpenLoopPulses": "programming",
    "WriteVerify": "programming",
    "DeviceSpread": "pulsed",
    "PulsedDevice": "pulsed",
    "PulsedPopulation": "pulsed_population",
    "reram_hfo2": "presets",
    "reram_es": "presets",
    "pcm": "presets",
    "ecram": "presets",
    "DEVICE_PRESETS": "presets",
    "device_to_json": "serialisation",
    "device_from_json": "serialisation",
    "load_device": "serialisation",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
