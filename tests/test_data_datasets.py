"""load_dataset on the real MNIST / Fashion-MNIST files and on crafted directories."""

import gzip
import hashlib
import os
import re
import struct
from pathlib import Path

import numpy as np
import pytest

from recirc_analog.data import DATASET_NAMES, Dataset, load_dataset
from recirc_analog.data.images import ImageDataset
from recirc_analog.errors import ConfigError, DataError


def decode_images(path: Path) -> np.ndarray:
    """Independent decoder for the real files: skip the 16-byte header, 28x28 uint8 images."""
    content = gzip.decompress(path.read_bytes())
    return np.frombuffer(content, dtype=np.uint8, offset=16).reshape(-1, 28, 28)


def write_images(path: Path, images: np.ndarray) -> None:
    """Write uint8 images (n, rows, cols) as a gzip IDX file."""
    header = struct.pack(">BBBB3I", 0, 0, 0x08, 3, *images.shape)
    path.write_bytes(gzip.compress(header + images.astype(np.uint8).tobytes()))


@pytest.fixture
def crafted():
    """Small random 8x8 uint8 images: (train (30, 8, 8), test (5, 8, 8))."""
    rng = np.random.default_rng(7)
    return (rng.integers(0, 256, size=(30, 8, 8), dtype=np.uint8),
            rng.integers(0, 256, size=(5, 8, 8), dtype=np.uint8))


def link_mnist(folder: Path, data_dir: Path) -> Path:
    """A folder holding symbolic links to the real MNIST image files of ``data_dir``."""
    folder.mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        os.symlink(data_dir / "mnist" / name, folder / name)
    return folder


@pytest.fixture(scope="module")
def mnist_test_rows(data_dir):
    """The real MNIST test images scaled to [0, 1], decoded independently: (10000, 784)."""
    return decode_images(data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").reshape(10000, 784) / 255.0


@pytest.mark.parametrize("name", ["mnist", "fashion"])
def test_real_files_load_with_shapes_ranges_and_checksums(name, data_dir):
    md5sums = dict(reversed(line.split()) for line in
                   (data_dir / "MD5SUMS.uncompressed").read_text().splitlines())
    for file_name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        content = gzip.decompress((data_dir / name / file_name).read_bytes())
        assert hashlib.md5(content).hexdigest() == md5sums[f"{name}/{file_name}"]
    data = load_dataset(name, data_dir)
    assert isinstance(data, Dataset)
    assert (data.name, data.dim, data.n_train, data.image_shape) == (name, 784, 60000, (28, 28))
    assert data.test.shape == (10000, 784) and data.test.dtype == np.float64
    assert data.test.min() == 0.0 and data.test.max() == 1.0
    test_images = decode_images(data_dir / name / "t10k-images-idx3-ubyte.gz")
    np.testing.assert_array_equal(data.test, test_images.reshape(10000, 784) / 255.0)
    train_images = decode_images(data_dir / name / "train-images-idx3-ubyte.gz")
    expected_mean = train_images.reshape(60000, 784).mean(axis=0) / 255.0
    np.testing.assert_allclose(data.train_mean, expected_mean, rtol=1e-12, atol=1e-15)


def test_mnist_epoch_is_a_permutation_of_the_training_images(data_dir):
    data = load_dataset("mnist", data_dir, max_train=1000)
    batches = list(data.train_batches(64, np.random.default_rng(3)))
    assert len(batches) == 1000 // 64 == data.batches_per_epoch(64)
    assert all(batch.shape == (64, 784) and batch.dtype == np.float64 for batch in batches)
    seen = np.concatenate(batches)
    first = decode_images(data_dir / "mnist" / "train-images-idx3-ubyte.gz")[:1000]
    pool = first.reshape(1000, 784) / 255.0
    matches = [np.flatnonzero((pool == row).all(axis=1)) for row in seen]
    assert all(len(m) >= 1 for m in matches)
    assert len({int(m[0]) for m in matches}) == len(seen)      # no image twice
    np.testing.assert_allclose(data.train_mean, pool.mean(axis=0), rtol=1e-12, atol=1e-15)


def test_real_mnist_downsample_by_two(mnist_test_rows, data_dir):
    data = load_dataset("mnist", data_dir, downsample=2)
    images = mnist_test_rows.reshape(10000, 28, 28)
    pooled = (images[:, 0::2, 0::2] + images[:, 1::2, 0::2]
              + images[:, 0::2, 1::2] + images[:, 1::2, 1::2]) / 4
    assert data.image_shape == (14, 14) and data.test.shape == (10000, 196)
    np.testing.assert_allclose(data.test, pooled.reshape(10000, 196), rtol=1e-14, atol=1e-16)
    batch = next(data.train_batches(100, np.random.default_rng(0)))
    assert batch.shape == (100, 196) and 0.0 <= batch.min() and batch.max() <= 1.0


@pytest.mark.parametrize("factor", [2, 4, 8])
def test_downsample_equals_independent_mean_pool(crafted, factor):
    train, test = crafted
    data = ImageDataset("tiny", train, test, downsample=factor)
    size = 8 // factor
    expected = np.zeros((len(test), size, size))
    for i in range(size):
        for j in range(size):
            block = test[:, i * factor:(i + 1) * factor, j * factor:(j + 1) * factor]
            expected[:, i, j] = block.astype(float).mean(axis=(1, 2)) / 255.0
    assert data.image_shape == (size, size) and data.dim == size * size
    np.testing.assert_allclose(data.test, expected.reshape(len(test), -1), rtol=1e-14)
    expected_mean = np.stack([train[:, i::factor, j::factor] for i in range(factor)
                              for j in range(factor)]).astype(float).mean(axis=(0, 1)) / 255.0
    np.testing.assert_allclose(data.train_mean, expected_mean.ravel(), rtol=1e-13)


@pytest.mark.parametrize("factor", [3, 5, 0, 2.0, True])
def test_bad_downsample_is_config_error(crafted, factor):
    with pytest.raises(ConfigError, match=r"^downsample must"):
        ImageDataset("tiny", *crafted, downsample=factor)


def test_downsample_must_divide_28(data_dir):
    with pytest.raises(ConfigError, match=r"^downsample must divide the image size 28x28 .*got 3$"):
        load_dataset("mnist", data_dir, downsample=3)


def test_batches_are_reproducible_and_drop_the_partial_batch(crafted):
    train, test = crafted
    data = ImageDataset("tiny", train, test)
    first = list(data.train_batches(7, np.random.default_rng(11)))
    again = list(data.train_batches(7, np.random.default_rng(11)))
    other = list(data.train_batches(7, np.random.default_rng(12)))
    assert len(first) == 30 // 7
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert any(not np.array_equal(a, b) for a, b in zip(first, other))
    rows = [tuple(row) for row in (train.reshape(30, 64) / 255.0)]
    seen = [tuple(row) for batch in first for row in batch]
    assert len(set(seen)) == len(seen) == 28 and set(seen) <= set(rows)


def test_max_train_keeps_the_first_samples(crafted):
    train, test = crafted
    data = ImageDataset("tiny", train, test, max_train=10)
    assert data.n_train == 10
    np.testing.assert_allclose(data.train_mean, train[:10].reshape(10, 64).mean(axis=0) / 255.0,
                               rtol=1e-14)
    with pytest.raises(ConfigError, match=r"^max_train must be in \[1, 30\], got 31$"):
        ImageDataset("tiny", train, test, max_train=31)


def test_bad_batch_size_and_rng(crafted):
    data = ImageDataset("tiny", *crafted)
    with pytest.raises(ConfigError, match=r"^batch_size must be in \[1, 30\], got 0$"):
        data.train_batches(0, np.random.default_rng(0))
    with pytest.raises(ConfigError, match=r"^rng must be a numpy.random.Generator"):
        data.train_batches(5, 42)


def test_wrong_array_shapes_are_data_errors(crafted):
    train, test = crafted
    with pytest.raises(DataError, match=r"^tiny: test images must be a non-empty uint8 array"):
        ImageDataset("tiny", train, test.reshape(5, 64))
    with pytest.raises(DataError, match=r"^tiny: train images are \(8, 8\) but test images are \(4, 16\)$"):
        ImageDataset("tiny", train, test.reshape(5, 4, 16))


def test_parent_directory_and_own_folder_both_work(tmp_path, mnist_test_rows, data_dir):
    own_folder = link_mnist(tmp_path / "parent" / "mnist", data_dir)
    other_name = link_mnist(tmp_path / "my-copy", data_dir)
    for folder in (tmp_path / "parent", own_folder, other_name):
        np.testing.assert_array_equal(load_dataset("mnist", folder).test, mnist_test_rows)


def test_uncompressed_files_are_found(tmp_path, mnist_test_rows, data_dir):
    for name in ("train-images-idx3-ubyte", "t10k-images-idx3-ubyte"):
        content = gzip.decompress((data_dir / "mnist" / f"{name}.gz").read_bytes())
        (tmp_path / name).write_bytes(content)
    np.testing.assert_array_equal(load_dataset("mnist", tmp_path).test, mnist_test_rows)


def test_environment_variable_gives_the_directory(monkeypatch, tmp_path, mnist_test_rows, data_dir):
    monkeypatch.setenv("RECIRC_ANALOG_DATA", str(data_dir))
    np.testing.assert_array_equal(load_dataset("mnist").test, mnist_test_rows)
    missing = tmp_path / "missing"
    monkeypatch.setenv("RECIRC_ANALOG_DATA", str(missing))
    with pytest.raises(DataError, match=rf"^data directory {re.escape(repr(str(missing)))} "
                                        r"\(from RECIRC_ANALOG_DATA\) does not exist"):
        load_dataset("mnist")


def test_no_directory_at_all_says_what_to_do(monkeypatch):
    monkeypatch.delenv("RECIRC_ANALOG_DATA", raising=False)
    with pytest.raises(DataError, match=r"pass --data-dir or set RECIRC_ANALOG_DATA"):
        load_dataset("mnist")


def test_missing_directory_names_it(tmp_path):
    with pytest.raises(DataError, match=rf"^data directory {re.escape(repr(str(tmp_path / 'none')))} "
                                        r"\(from --data-dir\) does not exist"):
        load_dataset("mnist", tmp_path / "none")


def test_missing_files_name_the_places_searched(tmp_path, data_dir):
    with pytest.raises(DataError, match=rf"^mnist: train-images-idx3-ubyte.gz not found in "
                       rf"{re.escape(repr(str(tmp_path / 'mnist')))} or {re.escape(repr(str(tmp_path)))}$"):
        load_dataset("mnist", tmp_path)
    folder = link_mnist(tmp_path / "mnist", data_dir)
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    missing_file = repr(str(folder / "t10k-images-idx3-ubyte") + ".gz")
    with pytest.raises(DataError, match=rf"^{re.escape(missing_file)} not found"):
        load_dataset("mnist", tmp_path)


def test_known_file_names_are_checksummed(tmp_path):
    """Well-formed but different content under MNIST's real names fails the published MD5."""
    folder = tmp_path / "mnist"
    folder.mkdir()
    write_images(folder / "train-images-idx3-ubyte.gz", np.zeros((60000, 28, 28), np.uint8))
    write_images(folder / "t10k-images-idx3-ubyte.gz", np.zeros((10000, 28, 28), np.uint8))
    with pytest.raises(DataError, match=r"^train-images-idx3-ubyte.gz: checksum mismatch"):
        load_dataset("mnist", tmp_path)


def test_fashion_files_are_not_accepted_as_mnist(tmp_path, data_dir):
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        os.symlink(data_dir / "fashion" / name, folder / name)
    with pytest.raises(DataError, match=r"checksum mismatch"):
        load_dataset("mnist", folder)


def test_one_flipped_pixel_in_a_real_file_is_detected(tmp_path, data_dir):
    folder = link_mnist(tmp_path / "mnist", data_dir)
    content = bytearray(gzip.decompress((data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()))
    content[5000] ^= 0x01
    (folder / "t10k-images-idx3-ubyte.gz").unlink()
    (folder / "t10k-images-idx3-ubyte.gz").write_bytes(gzip.compress(bytes(content), compresslevel=1))
    with pytest.raises(DataError, match=r"^t10k-images-idx3-ubyte.gz: checksum mismatch"):
        load_dataset("mnist", folder)


def test_a_changed_file_is_read_again(tmp_path, mnist_test_rows, data_dir):
    folder = link_mnist(tmp_path / "mnist", data_dir)
    target = folder / "t10k-images-idx3-ubyte.gz"
    content = (data_dir / "mnist" / "t10k-images-idx3-ubyte.gz").read_bytes()
    target.unlink()
    target.write_bytes(content)
    np.testing.assert_array_equal(load_dataset("mnist", folder).test, mnist_test_rows)
    target.write_bytes(content[:-30])
    with pytest.raises(DataError, match=r"^t10k-images-idx3-ubyte.gz: corrupt gzip data"):
        load_dataset("mnist", folder)


def test_names_and_default():
    assert DATASET_NAMES == ("lowrank", "mnist", "fashion")
    assert load_dataset().name == "lowrank" and load_dataset(None).name == "lowrank"
    with pytest.raises(ConfigError, match=r"^dataset must be one of lowrank, mnist, fashion, got 'cifar'$"):
        load_dataset("cifar")
    with pytest.raises(ConfigError, match=r"^downsample applies to image data sets only"):
        load_dataset("lowrank", downsample=2)
