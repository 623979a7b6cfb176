"""Issue 9 (hardening): counts and sizes have documented upper bounds, checked before anything is
allocated; every refusal is one line naming the parameter, the range and the value."""

import pytest

from recirc_analog.cli import main
from recirc_analog.errors import ConfigError
from recirc_analog.reference.recirculation import MAX_REFERENCE_CYCLES, Recirculation
from recirc_analog.schematic.spec import MAX_CIRCUIT_CYCLES, CircuitSpec


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    return captured.err


# --- item 3: cycles --------------------------------------------------------------------------

def test_circuit_cycles_are_bounded_by_the_spec():
    CircuitSpec(recirculation=Recirculation("pr", cycles=(0, MAX_CIRCUIT_CYCLES)))
    with pytest.raises(ConfigError, match=rf"cycles m must be in \[1, {MAX_CIRCUIT_CYCLES}\].*, got 17$"):
        CircuitSpec(recirculation=Recirculation("pr", cycles=(3, 17)))


@pytest.mark.parametrize("command, value, limit", [
    (["train", "--epochs", "1"], "10000000", MAX_REFERENCE_CYCLES),
    (["netlist", "-o", "never.cir"], "100000", MAX_CIRCUIT_CYCLES),
    (["cosim"], "100000", MAX_CIRCUIT_CYCLES),
])
def test_cli_refuses_huge_cycles_at_once(tmp_path, capsys, monkeypatch, command, value, limit):
    monkeypatch.chdir(tmp_path)
    assert main(command + ["--cycles", value]) == 2
    err = _one_line_error(capsys)
    assert "cycles" in err and f"{limit}" in err and value in err
    assert not (tmp_path / "never.cir").exists()


# --- item 4: memory guards ----------------------------------------------------------------

import gzip  # noqa: E402
import struct  # noqa: E402
import tracemalloc  # noqa: E402
import zipfile  # noqa: E402

import numpy as np  # noqa: E402

from recirc_analog import limits  # noqa: E402
from recirc_analog.data import load_dataset  # noqa: E402
from recirc_analog.data.idx import read_idx  # noqa: E402
from recirc_analog.data.lowrank import LowrankDataset  # noqa: E402
from recirc_analog.errors import DataError  # noqa: E402
from recirc_analog.fileio import load_npy, load_npz  # noqa: E402
from recirc_analog.reference.network import CircularAutoencoder  # noqa: E402
from recirc_analog.reference.training import TrainConfig  # noqa: E402

HUGE_SHAPE = (10**6, 10**6)          # 8 TB of float64: never allocated


def _npy_header(shape, descr="<f8") -> bytes:
    """A .npy file that is nothing but a header claiming ``shape`` (128 bytes)."""
    import io

    buffer = io.BytesIO()
    np.lib.format.write_array_header_1_0(buffer, {"descr": descr, "fortran_order": False, "shape": shape})
    return buffer.getvalue()


def _bomb_npz(path, key="A1"):
    good = CircularAutoencoder.random((4, 2, 4), ("linear", "linear"), seed=0).to_arrays()
    with zipfile.ZipFile(path, "w") as archive:
        for name, array in good.items():
            if name != key:
                import io

                buffer = io.BytesIO()
                np.save(buffer, array)
                archive.writestr(f"{name}.npy", buffer.getvalue())
        archive.writestr(f"{key}.npy", _npy_header(HUGE_SHAPE))
    return path


def test_layer_widths_are_bounded_before_any_allocation(capsys):
    with pytest.raises(ConfigError, match=rf"sizes.*{limits.MAX_LAYER_WIDTH}.*100000"):
        CircularAutoencoder((100000, 10, 100000), ("linear", "linear"))
    with pytest.raises(ConfigError, match=rf"dim must be in \[1, {limits.MAX_LAYER_WIDTH}\], got 100000"):
        LowrankDataset(dim=100000)
    assert main(["train", "--sizes", "100000,10,100000", "--quiet"]) == 2
    err = _one_line_error(capsys)
    assert "--sizes" in err and str(limits.MAX_LAYER_WIDTH) in err and "100000" in err


def test_total_weights_are_bounded():
    width = limits.MAX_LAYER_WIDTH
    n_layers = limits.MAX_WEIGHTS // (width * width) + 2
    with pytest.raises(ConfigError, match=rf"at most {limits.MAX_WEIGHTS} weights"):
        CircularAutoencoder((width,) * (n_layers + 1), ("linear",) * n_layers)


def test_batch_size_is_bounded(capsys):
    with pytest.raises(ConfigError, match=rf"batch_size must be in \[1, {limits.MAX_BATCH_SIZE}\]"):
        TrainConfig(batch_size=limits.MAX_BATCH_SIZE + 1)
    assert main(["train", "--batch-size", "1000000000", "--max-train", "2000000000", "--quiet"]) == 2
    err = _one_line_error(capsys)
    assert "--batch-size" in err and str(limits.MAX_BATCH_SIZE) in err and "1000000000" in err


def test_npz_member_claiming_a_huge_shape_is_refused_from_its_header(tmp_path, capsys):
    path = _bomb_npz(tmp_path / "bomb.npz")
    assert path.stat().st_size < 4096
    with pytest.raises(DataError, match=r"A1.*1000000, 1000000.*bytes.*limit"):
        load_npz(path, "weights file")
    with pytest.raises(DataError, match=r"A1.*limit"):
        CircularAutoencoder.load(path)
    assert main(["netlist", "--weights", str(path), "-o", str(tmp_path / "x.cir")]) == 1
    assert "limit" in _one_line_error(capsys)


def test_npy_inputs_claiming_a_huge_shape_are_refused(tmp_path, capsys):
    path = tmp_path / "inputs.npy"
    path.write_bytes(_npy_header(HUGE_SHAPE))
    with pytest.raises(DataError, match=r"limit"):
        load_npy(path, "--inputs")
    assert main(["netlist", "--inputs", str(path), "-o", str(tmp_path / "x.cir")]) == 1
    err = _one_line_error(capsys)
    assert "--inputs" in err and "limit" in err


def test_npy_round_trip_still_works(tmp_path):
    array = np.arange(12.0).reshape(3, 4)
    np.save(tmp_path / "ok.npy", array)
    np.testing.assert_array_equal(load_npy(tmp_path / "ok.npy", "--inputs"), array)


def _idx_header(type_code, shape) -> bytes:
    return struct.pack(">BBBB", 0, 0, type_code, len(shape)) + struct.pack(f">{len(shape)}I", *shape)


def test_gzip_bomb_is_stopped_after_the_size_the_header_allows(tmp_path):
    """A .gz whose IDX header claims 10 images but which inflates to 50 MB of zeros."""
    path = tmp_path / "mnist" / "train-images-idx3-ubyte.gz"
    path.parent.mkdir()
    with gzip.open(path, "wb", compresslevel=9) as handle:
        handle.write(_idx_header(0x08, (10, 28, 28)))
        zeros = bytes(1 << 20)
        for _ in range(50):
            handle.write(zeros)
    assert path.stat().st_size < 200_000
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"trailing bytes: header says 10x28x28 = 7840 bytes"):
            read_idx(path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20                       # far below the 50 MB it would inflate to
    (path.parent / "t10k-images-idx3-ubyte.gz").write_bytes(path.read_bytes())
    with pytest.raises(DataError, match="published file has 47040016"):  # a known file: refused at once
        load_dataset("mnist", tmp_path)


def test_idx_header_claiming_more_than_the_limit_is_refused_before_reading(tmp_path):
    path = tmp_path / "huge-idx3-ubyte.gz"
    with gzip.open(path, "wb") as handle:
        handle.write(_idx_header(0x0E, (60000, 4096, 4096)))
    with pytest.raises(DataError, match=r"header says 60000x4096x4096 = .* bytes, more than the limit"):
        read_idx(path)


def test_known_file_whose_header_disagrees_with_the_published_size_is_refused_before_reading(tmp_path):
    from recirc_analog.data.idx import get_published_size

    assert get_published_size("mnist", "train-images-idx3-ubyte.gz") == 16 + 60000 * 28 * 28
    folder = tmp_path / "mnist"
    folder.mkdir()
    for name in ("train-images-idx3-ubyte.gz", "t10k-images-idx3-ubyte.gz"):
        with gzip.open(folder / name, "wb") as handle:   # claims 600 MB; holds nothing
            handle.write(_idx_header(0x08, (600000, 1000)))
    tracemalloc.start()
    try:
        with pytest.raises(DataError, match=r"header says 600000x1000 = 600000012 bytes .*published file has 47040016"):
            load_dataset("mnist", tmp_path)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 8 << 20
