"""Running ngspice: batch subprocess and shared library, raw files, errors.

- ``engine``: the one interface (:class:`Engine`, :func:`get_engine`) and
  where ngspice is found (:func:`find_ngspice`, :func:`ngspice_version`).
- ``batch``: :class:`BatchEngine`, one ``ngspice -b`` process per run.
- ``shared``: :class:`SharedEngine`, libngspice in this process.
- ``rawfile``: :func:`read_raw` for binary and ASCII raw files.
- ``result``: :class:`SimulationResult`, what every engine returns.
- ``readout``: ngspice's vector names and where each activity is read (through a NodeMap).
- ``readings``: :class:`Readings`, the activities the co-simulation's update uses.
- ``convergence``: the fallback ladder tried on non-convergence.
- ``console``: reading ngspice's console output (failures, quotes).
- ``libngspice``: the ctypes binding used by the shared engine.
"""

from .batch import BatchEngine
from .convergence import ConvergenceLadder, FallbackStep, default_ladder
from .engine import ENGINE_KINDS, Engine, get_engine
from .locate import find_libngspice, find_ngspice, ngspice_version
from .rawfile import read_raw
from .result import SimulationResult
from .shared import SharedEngine

__all__ = ["BatchEngine", "ConvergenceLadder", "ENGINE_KINDS", "Engine", "FallbackStep",
           "SharedEngine", "SimulationResult", "default_ladder", "find_libngspice",
           "find_ngspice", "get_engine", "ngspice_version", "read_raw"]
