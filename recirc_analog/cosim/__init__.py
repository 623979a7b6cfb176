"""The co-simulation controller: phases in ngspice, local conductance updates, the lock-step reference.

- :mod:`.lockstep`: :class:`CosimConfig` and :class:`LockStep` (circuit and reference side by side);
- :mod:`.controller`: :class:`CosimController` (simulate, read, update the devices);
- :mod:`.local_rule`: each device's update from its own pre- and post-synaptic readings;
- :mod:`.crossbar_state`: the devices' conductances; :mod:`.checkpoint`: resumable state.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "CosimConfig": "lockstep",
    "LockStep": "lockstep",
    "CosimController": "controller",
    "CrossbarState": "crossbar_state",
    "local_update": "local_rule",
    "Checkpoint": "checkpoint",
    "load_checkpoint": "checkpoint",
    "save_checkpoint": "checkpoint",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
