"""IDX reader: layout checks, checksums and gzip errors on crafted files."""

import gzip
import hashlib
import struct

import numpy as np
import pytest

from recirc_analog.data.idx import PUBLISHED_MD5, get_published_md5, read_idx
from recirc_analog.errors import DataError


def idx_bytes(array: np.ndarray, type_code: int) -> bytes:
    """Encode ``array`` as IDX by hand: magic, big-endian uint32 dims, big-endian data."""
    big_endian = array.dtype.newbyteorder(">")
    header = struct.pack(">BBBB", 0, 0, type_code, array.ndim)
    header += struct.pack(f">{array.ndim}I", *array.shape)
    return header + array.astype(big_endian).tobytes()


@pytest.fixture
def rng():
    return np.random.default_rng(1234)


@pytest.mark.parametrize("dtype, type_code", [
    (np.uint8, 0x08), (np.int8, 0x09), (np.int16, 0x0B), (np.int32, 0x0C),
    (np.float32, 0x0D), (np.float64, 0x0E)])
@pytest.mark.parametrize("compressed", [False, True])
def test_round_trip_of_every_type(tmp_path, rng, dtype, type_code, compressed):
    array = (rng.standard_normal((3, 4, 5)) * 100).astype(dtype)
    content = idx_bytes(array, type_code)
    path = tmp_path / ("data.idx.gz" if compressed else "data.idx")
    path.write_bytes(gzip.compress(content) if compressed else content)
    result = read_idx(path, expected_md5=hashlib.md5(content).hexdigest())
    assert result.shape == (3, 4, 5)
    assert result.dtype == np.dtype(dtype)
    np.testing.assert_array_equal(result, array)


def test_one_dimensional_labels_file(tmp_path):
    labels = np.arange(10, dtype=np.uint8)
    path = tmp_path / "labels"
    path.write_bytes(idx_bytes(labels, 0x08))
    np.testing.assert_array_equal(read_idx(path), labels)


@pytest.mark.parametrize("magic, what", [
    (b"\x01\x00\x08\x03", "nonzero first byte"),
    (b"\x00\x00\x07\x03", "unknown type code"),
    (b"\x00\x00\x08\x00", "zero dimensions"),
    (b"\x89PNG", "another format")])
def test_bad_magic_number(tmp_path, magic, what):
    path = tmp_path / "train-images-idx3-ubyte"
    path.write_bytes(magic + struct.pack(">3I", 1, 2, 2) + bytes(4))
    with pytest.raises(DataError, match=rf"^train-images-idx3-ubyte: bad magic number 0x{magic.hex()}"):
        read_idx(path)


def test_truncated_data_names_header_and_size(tmp_path):
    content = idx_bytes(np.zeros((60000, 28, 28), dtype=np.uint8), 0x08)[:16 + 1000]
    path = tmp_path / "train-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    with pytest.raises(DataError) as error:
        read_idx(path)
    assert str(error.value) == ("train-images-idx3-ubyte.gz: truncated: header says "
                                "60000x28x28 = 47040000 bytes, file has 1000")


def test_truncated_header(tmp_path):
    path = tmp_path / "short"
    path.write_bytes(b"\x00\x00\x08\x03" + struct.pack(">I", 5))
    with pytest.raises(DataError, match=r"^short: truncated: header of 3 dimensions needs 16 bytes, file has 8$"):
        read_idx(path)


def test_empty_file(tmp_path):
    path = tmp_path / "empty"
    path.write_bytes(b"")
    with pytest.raises(DataError, match=r"^empty: truncated: 0 bytes"):
        read_idx(path)


def test_trailing_bytes(tmp_path):
    path = tmp_path / "long"
    path.write_bytes(idx_bytes(np.zeros((2, 3), dtype=np.int16), 0x0B) + b"xyz")
    with pytest.raises(DataError, match=r"^long: trailing bytes: header says 2x3 = 12 bytes, file has 15$"):
        read_idx(path)


def test_checksum_mismatch_reports_both_values(tmp_path):
    content = idx_bytes(np.ones((2, 2, 2), dtype=np.uint8), 0x08)
    path = tmp_path / "t10k-images-idx3-ubyte.gz"
    path.write_bytes(gzip.compress(content))
    published = PUBLISHED_MD5[("mnist", "t10k-images-idx3-ubyte")]
    with pytest.raises(DataError) as error:
        read_idx(path, expected_md5=published)
    message = str(error.value)
    assert message.startswith("t10k-images-idx3-ubyte.gz: checksum mismatch")
    assert hashlib.md5(content).hexdigest() in message and published in message


def test_corrupt_gzip_crc(tmp_path):
    compressed = bytearray(gzip.compress(idx_bytes(np.zeros((4, 4), np.uint8), 0x08)))
    compressed[-8] ^= 0xFF                      # CRC32 field of the gzip trailer
    path = tmp_path / "crc.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(DataError, match=r"^crc.gz: corrupt gzip data: .*CRC"):
        read_idx(path)


def test_corrupt_gzip_stream(tmp_path, rng):
    compressed = bytearray(gzip.compress(rng.integers(0, 255, 5000, dtype=np.uint8).tobytes()))
    compressed[20:60] = bytes(40)
    path = tmp_path / "stream.gz"
    path.write_bytes(bytes(compressed))
    with pytest.raises(DataError, match=r"^stream.gz: corrupt gzip data"):
        read_idx(path)


def test_cut_gzip_file(tmp_path):
    compressed = gzip.compress(idx_bytes(np.zeros((100, 100), np.uint8), 0x08))
    path = tmp_path / "cut.gz"
    path.write_bytes(compressed[: len(compressed) // 2])
    with pytest.raises(DataError, match=r"^cut.gz: corrupt gzip data"):
        read_idx(path)


def test_not_gzip_despite_suffix(tmp_path):
    path = tmp_path / "plain.gz"
    path.write_bytes(idx_bytes(np.zeros(3, np.uint8), 0x08))
    with pytest.raises(DataError, match=r"^plain.gz: corrupt gzip data"):
        read_idx(path)


def test_missing_file_names_path(tmp_path):
    path = tmp_path / "nowhere" / "train-images-idx3-ubyte.gz"
    with pytest.raises(DataError, match=rf"^{path}: file not found$"):
        read_idx(path)


def test_published_checksums_match_the_shared_list(data_dir):
    listed = {}
    for line in (data_dir / "MD5SUMS.uncompressed").read_text().splitlines():
        md5, name = line.split()
        dataset, file_name = name.split("/")
        listed[(dataset, file_name.removesuffix(".gz"))] = md5
    assert PUBLISHED_MD5 == listed


def test_get_published_md5_by_name():
    mnist = PUBLISHED_MD5[("mnist", "train-images-idx3-ubyte")]
    assert get_published_md5("mnist", "/a/b/train-images-idx3-ubyte.gz") == mnist
    assert get_published_md5("mnist", "train-images-idx3-ubyte") == mnist
    assert get_published_md5("fashion", "train-images-idx3-ubyte") != mnist
    assert get_published_md5("mnist", "my-images.gz") is None
