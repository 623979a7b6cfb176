"""Issue 9 (hardening) of ``recirc-analog train``: divergence, defaults, warnings, bad options."""

import json

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.data import load_dataset
from recirc_analog.reference.losses import loss_for
from recirc_analog.reference.network import CircularAutoencoder


def _test_loss(weights_path, seed=0):
    net = CircularAutoencoder.load(weights_path)
    data = load_dataset("lowrank", seed=seed, dim=net.sizes[0])
    return loss_for(net).value(data.test, net.forward(data.test)[-1])


def _one_line(err: str) -> str:
    assert err.count("\n") == 1, err
    return err


# --- item 7: after a divergence, weights.npz is the state summary.json reports -----------------

def test_diverged_run_saves_the_weights_of_the_last_finished_epoch(tmp_path, capsys):
    out = tmp_path / "run"
    # lr 0.003 on 1000 Lowrank samples per epoch finishes 3 epochs, then the loss passes 1e12.
    code = main(["train", "--lr", "0.003", "--epochs", "10", "--max-train", "1000", "--out", str(out), "--quiet"])
    assert code == 1
    err = _one_line(capsys.readouterr().err)
    assert "diverged" in err
    summary = json.loads((out / "summary.json").read_text())
    assert 1 <= summary["epochs_completed"] < 10
    assert summary["diverged"]
    assert f"epoch {summary['epochs_completed']}" in err
    # Oracle: the saved weights reproduce the final test loss the summary reports.
    assert _test_loss(out / "weights.npz") == pytest.approx(summary["final_test_loss"], rel=1e-12)
    assert summary["final_test_loss"] < summary["initial_test_loss"]


# --- item 13: the bare command learns with its defaults ----------------------------------------

def test_bare_train_with_defaults_learns(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["train", "--out", "run"]) == 0        # --out only names the folder
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["diverged"] is None
    assert summary["final_test_loss"] < 1e-3 * summary["initial_test_loss"]
    assert _test_loss(tmp_path / "run" / "weights.npz") == pytest.approx(summary["final_test_loss"], rel=1e-12)
