"""Running ngspice (batch subprocess and shared library, raw files, errors), and the direct engine.

- ``engine``: the one interface (:class:`Engine`, :func:`get_engine`) and
  where ngspice is found (:func:`find_ngspice`, :func:`ngspice_version`).
- ``batch``: :class:`BatchEngine`, one ``ngspice -b`` process per run.
- ``shared``: :class:`SharedEngine`, libngspice in this process.
- ``direct``: :class:`DirectEngine`, the circuit objects evaluated exactly without ngspice
  (dc form; refuses what it cannot compute exactly), and ``audit_deviation``.
- ``circuit_run``: :class:`CircuitRun`, what ``engine.readings(circuit, cycles, label)`` returns;
  how the ngspice engines cut a dc-form circuit into analyses (``cycle_mode``, :data:`CYCLE_MODES`).
- ``crossbar_solver``: one crossbar tile with wire resistance.
- ``rawfile``: :func:`read_raw` for binary and ASCII raw files.
- ``result``: :class:`SimulationResult`, what every engine returns.
- ``readout``: ngspice's vector names and where each activity is read (through a NodeMap).
- ``readings``: :class:`Readings`, the activities the co-simulation's update uses.
- ``convergence``: the fallback ladder tried on non-convergence.
- ``console``: reading ngspice's console output (failures, quotes).
- ``libngspice``: the ctypes binding used by the shared engine.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "BatchEngine": "batch",
    "CircuitRun": "circuit_run",
    "CYCLE_MODES": "circuit_run",
    "DirectEngine": "direct",
    "audit_deviation": "direct",
    "ConvergenceLadder": "convergence",
    "FallbackStep": "convergence",
    "default_ladder": "convergence",
    "ENGINE_KINDS": "engine",
    "Engine": "engine",
    "get_engine": "engine",
    "find_libngspice": "locate",
    "find_ngspice": "locate",
    "ngspice_version": "locate",
    "read_raw": "rawfile",
    "SimulationResult": "result",
    "SharedEngine": "shared",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
