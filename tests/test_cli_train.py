"""The ``recirc-analog train`` command: outputs that agree with the network they describe, and bad input."""

import csv
import json
import subprocess
import sys

import pytest

from recirc_analog.cli import main
from recirc_analog.data import load_dataset
from recirc_analog.jobs import RuleSpec, TrainJob, from_record
from recirc_analog.reference import Recirculation, TrainConfig
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder


def test_train_writes_consistent_outputs(tmp_path, capsys):
    out = tmp_path / "run"
    code = main(["train", "--rule", "rec", "--mode", "pr", "--sizes", "100,20,100", "--act", "linear,linear",
                 "--data", "lowrank", "--epochs", "2", "--lr", "0.001", "--max-norm", "2", "--seed", "3",
                 "--out", str(out), "--quiet"])
    assert code == 0
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert list(rows[0])[:3] == ["epoch", "train_loss", "test_loss"]
    assert [int(r["epoch"]) for r in rows] == [0, 1, 2]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["rule"]["name"] == "rec"
    assert summary["wall_seconds"] > 0
    # Oracle: the saved weights reproduce the reported final test loss.
    net = CircularAutoencoder.load(out / "weights.npz")
    data = load_dataset("lowrank", seed=3)
    recomputed = loss_for(net).value(data.test, net.forward(data.test)[-1])
    assert summary["final_test_loss"] == pytest.approx(recomputed, rel=1e-12)
    assert float(rows[-1]["test_loss"]) == pytest.approx(recomputed, rel=1e-12)
    assert recomputed < 1e-3 * float(rows[0]["test_loss"])
    assert (out / "loss.png").stat().st_size > 1000


def test_train_on_mnist_subset_via_data_dir(tmp_path, data_dir):
    out = tmp_path / "mnist"
    code = main(["train", "--rule", "bp", "--sizes", "196,10,196", "--act", "tanh,logistic", "--data", "mnist",
                 "--data-dir", str(data_dir), "--downsample", "2", "--max-train", "1000", "--epochs", "1",
                 "--out", str(out), "--quiet"])
    assert code == 0
    summary = json.loads((out / "summary.json").read_text())
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    # Oracle: the saved weights on the downsampled MNIST test set give the reported loss.
    net = CircularAutoencoder.load(out / "weights.npz")
    data = load_dataset("mnist", data_dir, downsample=2)
    recomputed = loss_for(net).value(data.test, net.forward(data.test)[-1])
    assert summary["final_test_loss"] == pytest.approx(recomputed, rel=1e-10)
    assert float(rows[0]["test_loss"]) == pytest.approx(summary["initial_test_loss"], rel=1e-12)
    assert summary["final_test_loss"] < summary["initial_test_loss"]


def test_summary_config_rebuilds_the_job(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--rule", "rec", "--mode", "ccr", "--lam", "0.25", "--cycles", "1,2", "--sizes", "12,4,12",
                 "--act", "tanh,linear", "--epochs", "1", "--batch-size", "50", "--lr", "0.002", "--lr-decay", "0.5",
                 "--max-norm", "2", "--max-train", "200", "--seed", "5", "--out", str(out), "--quiet"]) == 0
    summary = json.loads((out / "summary.json").read_text())
    expected = TrainJob(sizes=(12, 4, 12), activations=("tanh", "linear"),
                        rule=RuleSpec("rec", Recirculation("ccr", 0.25, (1, 2)), None, 1.0, 5),
                        train=TrainConfig(epochs=1, batch_size=50, lr=0.002, lr_decay=0.5, max_norm=2.0, seed=5),
                        data="lowrank", max_train=200, init_seed=5, out=str(out))
    assert from_record(TrainJob, summary["config"]) == expected


@pytest.mark.parametrize("argv, fragment", [
    (["--sizes", "100,20,90"], "same size"),
    (["--sizes", "100,x,100"], "comma-separated integers"),
    (["--lam", "1.5"], "--lam must be in [0, 1], got 1.5"),
    (["--rule", "magic"], "invalid choice: 'magic'"),
    (["--act", "tanh,tanh,tanh"], "--act needs 2 activations"),
    (["--act", "sigmoidal"], "unknown activation"),
    (["--epochs", "0"], "--epochs must be >= 1"),
    (["--lr", "-1"], "--lr must be"),
    (["--cycles", "3,1"], "--cycles must be"),
    (["--data", "mnist", "--data-dir", "/nonexistent/dir"], "/nonexistent/dir"),
    (["--rule", "standard", "--c2", "none"], "optimal learning impossible"),
    (["--rule", "rec", "--mode", "error", "--cycles", "2"], "error"),
    (["--top-layer", "eq51"], "invalid choice: 'eq51'"),
])
def test_bad_arguments_give_one_line_and_exit_2_or_1(argv, fragment, capsys, tmp_path):
    code = main(["train", "--epochs", "1", "--max-train", "200", "--quiet", *argv])
    err = capsys.readouterr().err
    assert code in (1, 2)
    assert code == (1 if "nonexistent" in fragment else 2)
    assert fragment in err
    assert err.count("\n") == 1 and "Traceback" not in err


def test_console_script_reports_errors_without_traceback():
    proc = subprocess.run([sys.executable, "-m", "recirc_analog.cli", "train", "--sizes", "5,3,4"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 2
    assert proc.stderr.startswith("recirc-analog: ") and "Traceback" not in proc.stderr

