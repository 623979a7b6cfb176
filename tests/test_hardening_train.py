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


# --- item 17: no sub-command is a usage error: one line on stderr, exit 2 ----------------------

def test_no_subcommand_is_one_line_on_stderr_and_exit_2(capsys):
    assert main([]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    err = _one_line(captured.err)
    assert "train" in err and "--help" in err


def test_help_goes_to_stdout_with_exit_0(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    assert "train" in capsys.readouterr().out


# --- item 12: complex inputs and non-finite rates are refused, naming the option ---------------

@pytest.mark.parametrize("value", ["inf", "0.001,inf", "nan", "-inf"])
def test_non_finite_layer_lrs_are_refused(capsys, value):
    rates = value if "," in value else f"0.001,{value}"
    assert main(["train", "--layer-lrs", rates, "--quiet"]) == 2
    err = _one_line(capsys.readouterr().err)
    assert "--layer-lrs" in err and "finite" in err


def test_train_config_refuses_non_finite_rates():
    from recirc_analog.errors import ConfigError
    from recirc_analog.reference.training import TrainConfig

    for kwargs in (dict(layer_lrs=(0.01, float("inf"))), dict(lr=float("inf"))):
        with pytest.raises(ConfigError, match="finite"):
            TrainConfig(**kwargs)


def test_complex_inputs_are_refused(tmp_path, capsys):
    path = tmp_path / "complex.npy"
    np.save(path, np.full((2, 64), 0.5 + 0.5j))
    assert main(["netlist", "--inputs", str(path), "-o", str(tmp_path / "x.cir")]) == 1
    err = _one_line(capsys.readouterr().err)
    assert "--inputs" in err and "complex" in err
    assert not (tmp_path / "x.cir").exists()
    from recirc_analog.errors import ConfigError

    net = CircularAutoencoder.random((4, 2, 4), ("linear", "linear"), seed=0)
    with pytest.raises(ConfigError, match="complex"):
        net.forward(np.ones((1, 4)) * 1j)
    with pytest.raises(ConfigError, match="complex"):
        CircularAutoencoder((4, 2, 4), ("linear", "linear"), weights=[np.ones((2, 4)) * 1j, np.ones((4, 2))])


# --- item 11: one line on stderr, even for NumPy warnings and paths with newlines ---------------

@pytest.mark.parametrize("options", [["--lr", "1e300"], ["--layer-lrs", "1e308,1e308"],
                                     ["--act", "tanh,logistic", "--lr", "1e300"]])
def test_overflow_during_divergence_prints_one_line(options):
    """A real process: pytest would capture the warnings otherwise."""
    import subprocess
    import sys

    result = subprocess.run([sys.executable, "-m", "recirc_analog.cli", "train", "--epochs", "1",
                             "--max-train", "1000", "--quiet", *options], capture_output=True, text=True)
    assert result.returncode == 1
    err = _one_line(result.stderr)
    assert "diverged" in err and "Warning" not in err


def test_numpy_warnings_become_one_line(capsys, monkeypatch):
    import warnings

    from recirc_analog.commands import train

    def warn(args):
        warnings.warn("overflow encountered\nin matmul", RuntimeWarning, stacklevel=1)
        return 0

    monkeypatch.setattr(train, "run", warn)
    assert main(["train"]) == 0
    err = _one_line(capsys.readouterr().err)
    assert "RuntimeWarning" in err and "overflow" in err


def test_paths_with_newlines_stay_on_one_line(tmp_path, capsys):
    folder = tmp_path / "evil\nname"
    assert main(["train", "--data", "mnist", "--data-dir", str(folder), "--quiet"]) == 1
    err = _one_line(capsys.readouterr().err)
    assert repr(str(folder)) in err
    weights = tmp_path / "w\nx.npz"
    assert main(["netlist", "--weights", str(weights), "-o", str(tmp_path / "x.cir")]) == 1
    assert repr(str(weights)) in _one_line(capsys.readouterr().err)
