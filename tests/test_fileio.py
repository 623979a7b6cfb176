"""Atomic writers: CSV metrics with resume, JSON with NumPy types, npz."""

import csv
import json
import os
import stat

import numpy as np
import pytest

from recirc_analog.errors import ConfigError, DataError
from recirc_analog.fileio import MetricsWriter, atomic_open, save_npz_atomic, write_json_atomic


def read_rows(path):
    with open(path, newline="") as handle:
        return list(csv.reader(handle))


def leftovers(directory):
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_atomic_open_keeps_the_old_file_when_the_block_fails(tmp_path):
    path = tmp_path / "out.txt"
    path.write_text("old content\n")
    with pytest.raises(RuntimeError, match="boom"):
        with atomic_open(path) as handle:
            handle.write("half of the new")
            raise RuntimeError("boom")
    assert path.read_text() == "old content\n"
    assert leftovers(tmp_path) == []


def test_atomic_open_creates_directories_and_respects_umask(tmp_path):
    path = tmp_path / "a" / "b" / "out.bin"
    with atomic_open(path, "wb") as handle:
        handle.write(b"\x00\x01")
    assert path.read_bytes() == b"\x00\x01"
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE(path.stat().st_mode) == 0o666 & ~umask
    with pytest.raises(ConfigError, match=r"^mode must be 'w' or 'wb', got 'a'$"):
        with atomic_open(path, "a"):
            pass


def test_json_round_trips_numpy_types(tmp_path):
    obj = {"loss": np.float64(0.125), "epochs": np.int64(7), "ok": np.bool_(True),
           "f32": np.float32(0.5), "weights": np.arange(6, dtype=np.float64).reshape(2, 3),
           "sizes": np.array([100, 20, 100]), "path": tmp_path / "x", "nested": [np.int8(-3)],
           "nan": np.float64("nan")}
    path = write_json_atomic(tmp_path / "run.json", obj)
    back = json.loads(path.read_text())
    assert back["loss"] == 0.125 and back["epochs"] == 7 and back["ok"] is True
    assert back["f32"] == 0.5 and back["nested"] == [-3]
    assert back["weights"] == [[0.0, 1.0, 2.0], [3.0, 4.0, 5.0]]
    assert back["sizes"] == [100, 20, 100] and back["path"] == str(tmp_path / "x")
    assert np.isnan(back["nan"])


def test_json_failure_midway_leaves_the_old_file(tmp_path):
    path = tmp_path / "summary.json"
    write_json_atomic(path, {"epoch": 1})
    with pytest.raises(TypeError, match="cannot write object to JSON"):
        write_json_atomic(path, {"epoch": 2, "long": list(range(10000)), "bad": object()})
    assert json.loads(path.read_text()) == {"epoch": 1}
    assert leftovers(tmp_path) == []


def test_npz_round_trip_and_failure_leaves_old_file(tmp_path):
    path = tmp_path / "weights.npz"
    a1 = np.random.default_rng(0).standard_normal((20, 100))
    save_npz_atomic(path, A1=a1, sizes=np.array([100, 20, 100]), activations=np.array(["linear", "tanh"]))
    with np.load(path, allow_pickle=False) as saved:
        np.testing.assert_array_equal(saved["A1"], a1)
        assert list(saved["activations"]) == ["linear", "tanh"]
    with pytest.raises(ConfigError, match=r"^bad cannot be saved as an array"):
        save_npz_atomic(path, A1=np.zeros(3), bad=[[1.0], [1.0, 2.0]])
    with pytest.raises(ConfigError, match=r"^obj must be numeric, bool or str"):
        save_npz_atomic(path, obj=np.array([{}, None], dtype=object))
    with np.load(path, allow_pickle=False) as saved:
        np.testing.assert_array_equal(saved["A1"], a1)
    assert leftovers(tmp_path) == []


def test_metrics_rows_are_flushed_as_written(tmp_path):
    path = tmp_path / "metrics.csv"
    writer = MetricsWriter(path, ["epoch", "loss", "mode"])
    writer.write_row({"epoch": 1, "loss": np.float64(0.1) + 0.2, "mode": "pr"})
    assert read_rows(path) == [["epoch", "loss", "mode"], ["1", "0.30000000000000004", "pr"]]
    writer.write_row({"epoch": np.int64(2), "loss": float("nan")})
    assert read_rows(path)[2] == ["2", "nan", ""]
    writer.close()
    assert float(read_rows(path)[1][1]) == 0.1 + 0.2


def test_metrics_new_file_replaces_the_old_one(tmp_path):
    path = tmp_path / "metrics.csv"
    with MetricsWriter(path, ["a"]) as writer:
        writer.write_row({"a": 1})
    with MetricsWriter(path, ["a", "b"]):
        pass
    assert read_rows(path) == [["a", "b"]]


def test_metrics_resume_truncates_to_the_given_row_count(tmp_path):
    path = tmp_path / "metrics.csv"
    with MetricsWriter(path, ["epoch", "loss"]) as writer:
        for epoch in range(1, 6):
            writer.write_row({"epoch": epoch, "loss": 1.0 / epoch})
    with MetricsWriter(path, ["epoch", "loss"], keep_rows=3) as writer:
        assert [row[0] for row in read_rows(path)] == ["epoch", "1", "2", "3"]
        writer.write_row({"epoch": 4, "loss": 0.0})
    assert read_rows(path) == [["epoch", "loss"], ["1", "1.0"], ["2", "0.5"],
                               ["3", str(1.0 / 3)], ["4", "0.0"]]


def test_metrics_resume_errors(tmp_path):
    path = tmp_path / "metrics.csv"
    with pytest.raises(DataError, match=r"cannot resume .*metrics.csv: file not found, expected 2 rows"):
        MetricsWriter(path, ["epoch"], keep_rows=2)
    with MetricsWriter(path, ["epoch"], keep_rows=0) as writer:
        writer.write_row({"epoch": 1})
    with pytest.raises(DataError, match=r"it has 1 rows, expected at least 2$"):
        MetricsWriter(path, ["epoch"], keep_rows=2)
    with pytest.raises(DataError, match=r"header is \['epoch'\], expected \['epoch', 'loss'\]$"):
        MetricsWriter(path, ["epoch", "loss"], keep_rows=1)
    assert read_rows(path) == [["epoch"], ["1"]]
    with pytest.raises(ConfigError, match=r"^keep_rows must be an integer >= 0 or None, got -1$"):
        MetricsWriter(path, ["epoch"], keep_rows=-1)


def test_metrics_bad_columns_and_rows(tmp_path):
    with pytest.raises(ConfigError, match=r"^columns must be non-empty and unique"):
        MetricsWriter(tmp_path / "m.csv", ["a", "a"])
    with MetricsWriter(tmp_path / "m.csv", ["a"]) as writer:
        with pytest.raises(ConfigError, match=r"row has columns \['b'\] not in the file's columns \['a'\]"):
            writer.write_row({"a": 1, "b": 2})
