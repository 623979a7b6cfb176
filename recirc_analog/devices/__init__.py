"""Device models: ideal first, non-ideal ones behind the same interface.

:class:`DeviceArray` takes target conductance changes and returns realised
conductances, using its own seeded random stream.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "DeviceConfig": "parameters",
    "ideal": "parameters",
    "reram_like": "parameters",
    "DeviceArray": "array",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
