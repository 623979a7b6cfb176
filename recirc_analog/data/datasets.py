"""``load_dataset``: one entry point for the Lowrank, MNIST and Fashion-MNIST sets.

Image files are looked up in a data directory given as an argument (the
CLI's ``--data-dir``) or by the environment variable ``RECIRC_ANALOG_DATA``.
The directory may be the parent holding ``mnist/`` and ``fashion/`` (like
``../shared/data``) or one data set's own folder. Nothing is ever
downloaded. Decoded files are cached in-process, keyed by path, size and
modification time, so repeated loads are cheap and a changed file is read
again.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

import numpy as np

from recirc_analog.data.base import Dataset, check_int
from recirc_analog.data.idx import get_published_md5, get_published_size, read_idx
from recirc_analog.data.images import ImageDataset
from recirc_analog.data.lowrank import LowrankDataset
from recirc_analog.errors import ConfigError, DataError

DATASET_NAMES = ("lowrank", "mnist", "fashion")
"""Names accepted by :func:`load_dataset`; the first is the default."""

DATA_DIR_ENV = "RECIRC_ANALOG_DATA"
"""Environment variable naming the data directory when none is passed."""

IMAGE_FILES = {"train": "train-images-idx3-ubyte", "test": "t10k-images-idx3-ubyte"}
"""Base names of the image files (found as ``NAME.gz`` or uncompressed ``NAME``)."""


def load_dataset(name: str | None = "lowrank", data_dir: str | os.PathLike | None = None, *,
                 seed: int = 0, downsample: int | None = None,
                 max_train: int | None = None, dim: int | None = None) -> Dataset:
    """Load a data set by name ("lowrank" when ``name`` is None).

    ``data_dir``: directory of the image files (ignored for "lowrank");
    None reads ``RECIRC_ANALOG_DATA``. ``seed``: fixes Lowrank's V and test
    set (image sets are fixed; their shuffling uses the generator passed to
    ``train_batches``). ``downsample``: integer factor for mean pooling of
    images (2 gives 14 x 14 = 196 values). ``max_train``: samples per epoch
    (the first ``max_train`` images; the Lowrank epoch length). ``dim``:
    Lowrank's dimension (default 100, the paper's; the rank is dim / 5,
    the paper's ratio, at least 1); image sets ignore it. Raises
    ConfigError for bad arguments and DataError for missing or corrupt files.
    """
    name = DATASET_NAMES[0] if name is None else name
    if name not in DATASET_NAMES:
        raise ConfigError(f"dataset must be one of {', '.join(DATASET_NAMES)}, got {name!r}")
    if name == "lowrank":
        if downsample is not None:
            raise ConfigError(f"downsample applies to image data sets only, got {downsample!r} "
                              f"for 'lowrank'")
        n_train = 60_000 if max_train is None else check_int("max_train", max_train, 1)
        dim = 100 if dim is None else check_int("dim", dim, 1)
        return LowrankDataset(dim=dim, rank=max(1, dim // 5), seed=seed, n_train=n_train)
    folder = find_image_folder(name, data_dir)
    pixels = {}
    for split, base_name in IMAGE_FILES.items():
        path = _find_file(folder, base_name)
        stat = path.stat()
        pixels[split] = _read_cached(str(path.resolve()), stat.st_size, stat.st_mtime_ns,
                                     get_published_md5(name, path), get_published_size(name, path))
    return ImageDataset(name, pixels["train"], pixels["test"],
                        downsample=downsample, max_train=max_train)


def find_image_folder(name: str, data_dir: str | os.PathLike | None = None) -> Path:
    """The folder holding data set ``name``'s image files.

    Looks in ``data_dir/name`` and then ``data_dir`` itself; ``data_dir``
    None means the ``RECIRC_ANALOG_DATA`` environment variable. Raises
    DataError naming the path when there is no such directory or no files.
    """
    source = "--data-dir"
    if data_dir is None:
        data_dir = os.environ.get(DATA_DIR_ENV) or None
        source = DATA_DIR_ENV
        if data_dir is None:
            raise DataError(f"no data directory for {name!r}: pass --data-dir or set "
                            f"{DATA_DIR_ENV} to a folder holding {name}/")
    root = Path(data_dir).expanduser()
    if not root.is_dir():
        raise DataError(f"data directory {str(root)!r} (from {source}) does not exist or is not a directory")
    candidates = [root / name, root]
    for folder in candidates:
        if any((folder / f"{IMAGE_FILES['train']}{suffix}").is_file() for suffix in (".gz", "")):
            return folder
    raise DataError(f"{name}: {IMAGE_FILES['train']}.gz not found in "
                    f"{' or '.join(repr(str(folder)) for folder in candidates)}")


def _find_file(folder: Path, base_name: str) -> Path:
    """``folder/base_name.gz`` if present, else the uncompressed file; DataError if neither."""
    for candidate in (folder / f"{base_name}.gz", folder / base_name):
        if candidate.is_file():
            return candidate
    raise DataError(f"{str(folder / base_name) + '.gz'!r} not found (nor the uncompressed file)")


@functools.lru_cache(maxsize=4)
def _read_cached(path: str, size: int, mtime_ns: int, expected_md5: str | None,
                 expected_size: int | None) -> np.ndarray:
    """Read-only decoded IDX array; ``size`` and ``mtime_ns`` only key the cache."""
    array = read_idx(path, expected_md5=expected_md5, expected_size=expected_size)
    array.flags.writeable = False
    return array
