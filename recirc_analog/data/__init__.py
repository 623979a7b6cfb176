"""Data sets: the paper's Lowrank generator and MNIST / Fashion-MNIST from IDX files.

Use :func:`load_dataset`; every data set implements :class:`Dataset`.
"""

from recirc_analog.data.base import Dataset
from recirc_analog.data.datasets import DATASET_NAMES, load_dataset

__all__ = ["DATASET_NAMES", "Dataset", "load_dataset"]
