"""Data sets: the paper's Lowrank generator and MNIST / Fashion-MNIST from IDX files.

Use :func:`load_dataset`; every data set implements :class:`Dataset`.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "Dataset": "base",
    "DATASET_NAMES": "datasets",
    "DATA_DIR_ENV": "datasets",
    "load_dataset": "datasets",
    "find_image_folder": "datasets",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
