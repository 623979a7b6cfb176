"""The cosim command and run loop: output files, resume exactness, interrupted checkpoints."""

import csv
import json
import signal
import subprocess
import sys
import time

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.cosim.lockstep import CosimConfig
from recirc_analog.devices import DeviceConfig
from recirc_analog.jobs.cosim import run_cosim
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.spec import CircuitSpec

SMALL = CosimConfig(sizes=(16, 6, 16), activations=("tanh", "linear"), batches=6, batch_size=8, lr=0.002,
                    seed=4, checkpoint_every=1, test_samples=8)
SPEC = CircuitSpec(recirculation=Recirculation("pr"))


def weights_of(folder):
    net = CircularAutoencoder.load(folder / "weights_cosim.npz")
    return net.weights + net.biases


def test_resume_continues_exactly(tmp_path):
    full, split = tmp_path / "full", tmp_path / "split"
    run_cosim(SMALL, SPEC, DeviceConfig(), full, show_progress=False)
    run_cosim(SMALL, SPEC, DeviceConfig(), split, show_progress=False, stop_after=2)
    summary = run_cosim(SMALL, SPEC, DeviceConfig(), split, resume=True, show_progress=False)
    assert summary["batches_done"] == 6
    for a, b in zip(weights_of(full), weights_of(split)):
        np.testing.assert_array_equal(a, b)
    with open(split / "metrics.csv") as handle:
        assert [int(r["batch"]) for r in csv.DictReader(handle)] == [1, 2, 3, 4, 5, 6]


def test_checkpoint_interrupted_midwrite_keeps_previous(tmp_path, monkeypatch):
    """A failure while writing checkpoint 3 leaves checkpoint 2 intact and resumable."""
    out = tmp_path / "run"
    real_savez = np.savez
    calls = {"n": 0}

    def dying_savez(handle, **arrays):
        if "batches_done" in arrays:
            calls["n"] += 1
            if calls["n"] == 3:
                handle.write(b"PK\x03\x04 partial")
                raise KeyboardInterrupt("killed while writing")
        return real_savez(handle, **arrays)

    monkeypatch.setattr(np, "savez", dying_savez)
    with pytest.raises(KeyboardInterrupt):
        run_cosim(SMALL, SPEC, DeviceConfig(), out, show_progress=False)
    monkeypatch.setattr(np, "savez", real_savez)
    with np.load(out / "checkpoint.npz") as data:
        assert int(data["batches_done"]) == 2
    run_cosim(SMALL, SPEC, DeviceConfig(), out, resume=True, show_progress=False)
    full = tmp_path / "full"
    run_cosim(SMALL, SPEC, DeviceConfig(), full, show_progress=False)
    for a, b in zip(weights_of(full), weights_of(out)):
        np.testing.assert_array_equal(a, b)


def test_process_killed_then_resumed_gives_same_weights(tmp_path, repo_root):
    argv = [sys.executable, "-m", "recirc_analog.cli", "cosim", "--sizes", "16,6,16", "--act", "tanh,linear",
            "--batches", "40", "--batch-size", "8", "--lr", "0.002", "--seed", "4", "--checkpoint-every", "1",
            "--test-samples", "8", "--quiet"]
    killed = tmp_path / "killed"
    proc = subprocess.Popen(argv + ["--out", str(killed)], cwd=repo_root)
    deadline = time.time() + 120
    while time.time() < deadline and not (killed / "checkpoint.npz").exists():
        time.sleep(0.05)
    time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    with np.load(killed / "checkpoint.npz") as data:
        assert 1 <= int(data["batches_done"]) < 40, "the run was not interrupted"
    assert subprocess.run(argv + ["--out", str(killed), "--resume"], cwd=repo_root).returncode == 0
    whole = tmp_path / "whole"
    assert subprocess.run(argv + ["--out", str(whole)], cwd=repo_root).returncode == 0
    for a, b in zip(weights_of(whole), weights_of(killed)):
        np.testing.assert_array_equal(a, b)


def test_cli_writes_every_output(tmp_path, capsys, data_dir):
    out = tmp_path / "cli"
    code = main(["cosim", "--sizes", "196,8,196", "--act", "tanh,logistic", "--data", "mnist", "--data-dir",
                 str(data_dir), "--downsample", "2", "--batches", "2", "--batch-size", "10",
                 "--test-samples", "4", "--out", str(out), "--quiet"])
    assert code == 0
    for name in ("metrics.csv", "summary.json", "weights_cosim.npz", "weights_reference.npz",
                 "conductances.npz", "netlist.cir", "loss.png", "weight_difference.png", "reconstructions.png"):
        assert (out / name).stat().st_size > 0, name
    with open(out / "metrics.csv") as handle:
        header = handle.readline().strip().split(",")
    assert header[:6] == ["batch", "samples", "cosim_loss", "reference_loss", "weight_rel_diff_max", "seconds"]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["ngspice_version"].startswith("3") or summary["ngspice_version"].isdigit()
    assert 0 < summary["ngspice_seconds"] <= summary["wall_seconds"]
    # The saved conductances map back to the saved circuit weights.
    with np.load(out / "conductances.npz") as g:
        w1 = g["r_f"] * (g["Gplus_1"] - g["Gminus_1"])
    net = CircularAutoencoder.load(out / "weights_cosim.npz")
    np.testing.assert_allclose(w1[:, :-1], net.weights[0], rtol=1e-12, atol=1e-15)
    assert "circuit" in capsys.readouterr().out


@pytest.mark.parametrize("argv, fragment", [
    (["--sizes", "100,20,90"], "same size"),
    (["--lam", "2"], "--lam must be in [0, 1]"),
    (["--form", "ac"], "invalid choice"),
    (["--engine", "shared", "--workers", "2"], "workers > 1 needs engine 'batch'"),
    (["--g-min", "1e-3", "--g-max", "1e-4"], "--g-max must be > --g-min"),
    (["--resume"], "no checkpoint"),
])
def test_cli_bad_arguments(argv, fragment, tmp_path, capsys):
    code = main(["cosim", "--out", str(tmp_path / "x"), "--quiet", *argv])
    err = capsys.readouterr().err
    assert code == 2 and fragment in err and err.count("\n") == 1


def test_noisy_devices_make_the_circuit_depart_and_are_reproducible(tmp_path):
    """Write noise is a property of the devices only: the reference is unaffected, the circuit departs,
    and the same seed gives the same conductances."""
    noisy = DeviceConfig(write_noise=0.2)
    a = run_cosim(SMALL, SPEC, noisy, tmp_path / "a", show_progress=False)
    run_cosim(SMALL, SPEC, noisy, tmp_path / "b", show_progress=False)
    assert a["weight_rel_diff_max"] > 1e-3
    with np.load(tmp_path / "a" / "conductances.npz") as ga, np.load(tmp_path / "b" / "conductances.npz") as gb:
        np.testing.assert_array_equal(ga["Gplus_1"], gb["Gplus_1"])
