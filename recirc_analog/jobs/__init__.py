"""Jobs behind the command line: each runs one experiment and writes its output folder.

- :func:`run_train` (:class:`TrainJob`, :class:`RuleSpec`): the NumPy reference with one rule;
- :func:`run_cosim` (:class:`CosimConfig`): the circuit in ngspice beside the reference;
- :func:`from_record` / :func:`to_record`: a configuration as summary.json holds it, and back.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "RuleSpec": "train",
    "TrainJob": "train",
    "run_train": "train",
    "CosimConfig": "cosim",
    "run_cosim": "cosim",
    "from_record": "records",
    "to_record": "records",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
