"""Image data sets (MNIST, Fashion-MNIST) held as integer pixels, scaled per batch.

A 60,000 x 784 training set is 47 MB as uint8 but 376 MB as float64, so the
pixels stay integers (sums of pixel blocks after downsampling) and each
batch is scaled to [0, 1] float64 when it is drawn.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from recirc_analog.data.base import Dataset, check_int
from recirc_analog.errors import ConfigError, DataError


class ImageDataset(Dataset):
    """Greyscale images flattened to rows of ``dim`` values in [0, 1].

    ``train_pixels`` / ``test_pixels``: uint8 arrays (n, rows, cols) with
    values 0..255 (as read from IDX files). ``downsample``: integer factor f
    dividing rows and cols; each f x f block becomes its mean, so 28 x 28
    images become (28/f) x (28/f). ``max_train``: keep only the first
    ``max_train`` training images (for quick runs). Each epoch visits the
    training images in an order drawn from the generator given to
    :meth:`train_batches`.
    """

    def __init__(self, name: str, train_pixels: np.ndarray, test_pixels: np.ndarray, *,
                 downsample: int | None = None, max_train: int | None = None):
        self.name = name
        for label, pixels in (("train", train_pixels), ("test", test_pixels)):
            if pixels.ndim != 3 or pixels.dtype != np.uint8 or len(pixels) == 0:
                raise DataError(
                    f"{name}: {label} images must be a non-empty uint8 array (n, rows, cols), "
                    f"got {pixels.dtype} with shape {pixels.shape}")
        if train_pixels.shape[1:] != test_pixels.shape[1:]:
            raise DataError(f"{name}: train images are {train_pixels.shape[1:]} but test images "
                            f"are {test_pixels.shape[1:]}")
        rows, cols = train_pixels.shape[1:]
        self.downsample = 1 if downsample is None else check_int("downsample", downsample, 1)
        if rows % self.downsample or cols % self.downsample:
            raise ConfigError(f"downsample must divide the image size {rows}x{cols} "
                              f"(e.g. 2 -> {rows // 2}x{cols // 2}), got {downsample!r}")
        if max_train is not None:
            train_pixels = train_pixels[:check_int("max_train", max_train, 1, len(train_pixels))]
        self.image_shape = (rows // self.downsample, cols // self.downsample)
        self.dim = self.image_shape[0] * self.image_shape[1]
        self.n_train = len(train_pixels)
        self._full_scale = 255.0 * self.downsample**2
        self._train_sums = self._block_sums(train_pixels)
        self.test = self._block_sums(test_pixels) / self._full_scale
        self.train_mean = self._train_sums.sum(axis=0, dtype=np.float64) / (
            self.n_train * self._full_scale)

    def _block_sums(self, pixels: np.ndarray) -> np.ndarray:
        """Sum of each f x f pixel block, rows flattened: integer array (n, dim)."""
        f = self.downsample
        if f == 1:
            return pixels.reshape(len(pixels), self.dim)
        blocks = pixels.reshape(len(pixels), self.image_shape[0], f, self.image_shape[1], f)
        dtype = np.uint16 if 255 * f * f <= np.iinfo(np.uint16).max else np.uint32
        return blocks.sum(axis=(2, 4), dtype=dtype).reshape(len(pixels), self.dim)

    def _iter_epoch(self, batch_size: int, n_batches: int,
                    rng: np.random.Generator) -> Iterator[np.ndarray]:
        """Yield ``n_batches`` batches of images from one random permutation of the set."""
        order = rng.permutation(self.n_train)
        for start in range(0, n_batches * batch_size, batch_size):
            yield self._train_sums[order[start:start + batch_size]] / self._full_scale
