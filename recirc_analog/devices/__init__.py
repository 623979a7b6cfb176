"""Device models: ideal first, non-ideal ones behind the same interface.

:class:`DeviceArray` takes target conductance changes and returns realised
conductances, using its own seeded random stream.
"""

from .parameters import DeviceConfig, ideal, reram_like
from .array import DeviceArray

__all__ = ["DeviceArray", "DeviceConfig", "ideal", "reram_like"]
