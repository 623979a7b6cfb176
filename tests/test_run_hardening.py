"""Issue 9 (runs): one run per folder, OS errors, inconsistent checkpoints, --max-train,
ngspice timeouts, SIGTERM / SIGKILL, divergence. Real processes where the defect needs them."""

from __future__ import annotations

import csv
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.cosim.lockstep import CosimConfig
from recirc_analog.devices import DeviceConfig
from recirc_analog.jobs.cosim import TIMEOUT_FLOOR, default_ngspice_timeout, run_cosim
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.spec import CircuitSpec

SMALL = ["cosim", "--sizes", "16,4,16", "--act", "tanh,linear", "--batch-size", "5", "--lr", "0.002",
         "--seed", "3", "--test-samples", "5", "--checkpoint-every", "1", "--quiet"]
CONFIG = CosimConfig(sizes=(16, 4, 16), activations=("tanh", "linear"), batches=4, batch_size=5, lr=0.002,
                     seed=3, checkpoint_every=1, test_samples=5)
SPEC = CircuitSpec(recirculation=Recirculation("pr"))


def cli(*argv):
    return [sys.executable, "-m", "recirc_analog.cli", *argv]


def fake_bin(tmp_path: Path, body: str) -> dict:
    """An environment whose PATH starts with a folder holding an ``ngspice`` shell script."""
    folder = tmp_path / "bin"
    folder.mkdir(exist_ok=True)
    script = folder / "ngspice"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(0o755)
    env = dict(os.environ)
    env["PATH"] = f"{folder}{os.pathsep}{env['PATH']}"
    env.pop("RECIRC_ANALOG_DATA", None)
    return env


def slow_ngspice(tmp_path: Path, seconds: float = 0.4) -> dict:
    """The real ngspice, each analysis delayed by ``seconds`` (so a run can be caught mid-way)."""
    real = shutil.which("ngspice")
    return fake_bin(tmp_path, f'if [ "$1" = "-v" ]; then exec {real} "$@"; fi\nsleep {seconds}\nexec {real} "$@"\n')


def gated_ngspice(tmp_path: Path, gate: Path) -> dict:
    """The real ngspice, each analysis waiting until the file ``gate`` exists."""
    real = shutil.which("ngspice")
    return fake_bin(tmp_path, f'if [ "$1" = "-v" ]; then exec {real} "$@"; fi\n'
                              f'while [ ! -e "{gate}" ]; do sleep 0.05; done\nexec {real} "$@"\n')


def wait_for(condition, timeout=60.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


def batches_done(folder: Path) -> int:
    try:
        with np.load(folder / "checkpoint.npz") as data:
            return int(data["batches_done"])
    except (OSError, ValueError, KeyError, EOFError):
        return 0


def weights_of(folder: Path):
    net = CircularAutoencoder.load(folder / "weights_cosim.npz")
    ref = CircularAutoencoder.load(folder / "weights_reference.npz")
    return net.weights + net.biases + ref.weights + ref.biases


def metric_batches(folder: Path) -> list[int]:
    with open(folder / "metrics.csv") as handle:
        return [int(row["batch"]) for row in csv.DictReader(handle)]


# ---- item 2: two runs on one folder

def test_second_run_on_a_busy_folder_stops_at_once(tmp_path):
    out, gate = tmp_path / "run", tmp_path / "gate"
    env = gated_ngspice(tmp_path, gate)
    first = subprocess.Popen(cli(*SMALL, "--batches", "6", "--out", str(out)), cwd=tmp_path, env=env,
                             stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: (out / "metrics.csv").exists()), "the first run did not start"
        for second_argv in (SMALL + ["--batches", "2", "--out", str(out)],
                            ["train", "--epochs", "1", "--lr", "0.001", "--quiet", "--out", str(out)]):
            tick = time.time()
            second = subprocess.run(cli(*second_argv), cwd=tmp_path, env=env, capture_output=True, text=True,
                                    timeout=60)
            assert time.time() - tick < 20
            assert second.returncode == 1, second.stderr
            assert second.stderr.count("\n") == 1 and "in use by another run" in second.stderr
            assert repr(str(out)) in second.stderr
        assert first.poll() is None, "the first run ended before the second started"
        gate.write_text("go\n")
        assert first.wait(timeout=120) == 0, first.stderr.read()
    finally:
        first.kill()
        first.wait()
    assert metric_batches(out) == [1, 2, 3, 4, 5, 6]
    summary = json.loads((out / "summary.json").read_text())
    assert summary["batches_done"] == 6 and summary["status"] == "completed"


def test_new_run_refuses_to_replace_a_resumable_run(tmp_path, capsys):
    out = tmp_path / "run"
    run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False, stop_after=2)
    before = {name: (out / name).read_bytes() for name in ("checkpoint.npz", "metrics.csv")}
    code = main([*SMALL, "--batches", "4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1
    assert "--overwrite" in err and "--resume" in err and repr(str(out)) in err
    assert {name: (out / name).read_bytes() for name in before} == before
    # --resume continues it; --overwrite replaces it explicitly
    assert main([*SMALL, "--batches", "4", "--out", str(out), "--resume"]) == 0
    assert metric_batches(out) == [1, 2, 3, 4]
    run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False, stop_after=1, overwrite=True)
    assert metric_batches(out) == [1] and batches_done(out) == 1


def test_a_finished_run_may_be_run_again(tmp_path):
    out = tmp_path / "run"
    first = run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False)
    again = run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False)
    assert first["status"] == again["status"] == "completed"
    assert metric_batches(out) == [1, 2, 3, 4]


def test_new_train_run_removes_the_earlier_runs_files(tmp_path):
    out = tmp_path / "run"
    assert main(["train", "--epochs", "2", "--lr", "0.001", "--quiet", "--out", str(out)]) == 0
    assert (out / "loss.png").exists()
    assert main(["train", "--epochs", "1", "--lr", "0.001", "--batch-size", "7", "--quiet",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["config"]["train"]["batch_size"] == 7
    with open(out / "metrics.csv") as handle:
        assert [int(r["epoch"]) for r in csv.DictReader(handle)] == [0, 1]


# ---- item 5: OS errors on outputs

@pytest.mark.parametrize("command", [SMALL + ["--batches", "1"], ["train", "--epochs", "1", "--quiet"]],
                         ids=["cosim", "train"])
@pytest.mark.parametrize("layout", ["file", "below a file"])
def test_out_that_the_os_refuses_is_one_line(command, layout, tmp_path, capsys):
    (tmp_path / "old.txt").write_text("keep me\n")
    out = tmp_path / "old.txt" if layout == "file" else tmp_path / "old.txt" / "run"
    code = main([*command, "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "old.txt" in err, err
    assert (tmp_path / "old.txt").read_text() == "keep me\n"


def test_full_disk_on_resume_keeps_the_checkpoint(tmp_path):
    out = tmp_path / "run"
    run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False, stop_after=2)
    before = (out / "checkpoint.npz").read_bytes()

    def limit():
        import resource

        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    proc = subprocess.run(cli(*SMALL, "--batches", "4", "--out", str(out), "--resume"), cwd=tmp_path,
                          capture_output=True, text=True, timeout=120, preexec_fn=limit)
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr, proc.stderr
    assert "cannot write" in proc.stderr
    assert (out / "checkpoint.npz").read_bytes() == before
    run_cosim(CONFIG, SPEC, DeviceConfig(), out, resume=True, show_progress=False)
    whole = tmp_path / "whole"
    run_cosim(CONFIG, SPEC, DeviceConfig(), whole, show_progress=False)
    for a, b in zip(weights_of(whole), weights_of(out)):
        np.testing.assert_array_equal(a, b)


# ---- item 6: checkpoints that load but are inconsistent

def _edit(name, change):
    def apply(arrays):
        arrays[name] = change(arrays[name]) if change is not None else None
        if arrays[name] is None:
            del arrays[name]
    return apply


CORRUPTIONS = {
    "missing reference A1": _edit("ref__A1", None),
    "missing batches_done": _edit("batches_done", None),
    "reference of the wrong shape": _edit("ref__A1", lambda a: a[:, :-1]),
    "nan reference": _edit("ref__b2", lambda b: np.full_like(b, np.nan)),
    "negative counter": _edit("batches_done", lambda n: np.array(-3)),
    "counter beyond the run": _edit("batches_done", lambda n: np.array(99)),
    "bad rng state": _edit("dev__rng_plus_1", lambda r: np.array('{"bit_generator": "nonsense"}')),
    "rng not json": _edit("dev__rng_plus_1", lambda r: np.array("not json")),
    "nan conductances": _edit("dev__g_plus_1", lambda g: np.where(g > 0, np.nan, g)),
    "negative conductances": _edit("dev__g_minus_2", lambda g: -g),
    "device state of the wrong shape": _edit("dev__g_plus_2", lambda g: g[:-1]),
    "missing device state": _edit("dev__stuck_plus_1", None),
}


@pytest.mark.parametrize("corruption", CORRUPTIONS, ids=list(CORRUPTIONS))
def test_inconsistent_checkpoint_is_refused_before_anything_changes(corruption, tmp_path, capsys):
    out = tmp_path / "run"
    run_cosim(CONFIG, SPEC, DeviceConfig(), out, show_progress=False, stop_after=3)
    path = out / "checkpoint.npz"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    CORRUPTIONS[corruption](arrays)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    metrics = (out / "metrics.csv").read_bytes()
    code = main([*SMALL, "--batches", "4", "--out", str(out), "--resume"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert err.count("\n") == 1 and repr(str(path)) in err, err
    assert (out / "metrics.csv").read_bytes() == metrics


# ---- item 8: --max-train

def test_cosim_honours_max_train(tmp_path):
    out = tmp_path / "run"
    assert main([*SMALL, "--max-train", "10", "--epochs", "2", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["batches_planned"] == 4 and metric_batches(out) == [1, 2, 3, 4]


def test_max_train_truncates_the_stream_to_its_first_samples(tmp_path, monkeypatch, data_dir):
    """Two epochs over --max-train 10 see the same 10 images (not 20 of the 60000)."""
    from recirc_analog.cosim import lockstep as lockstep_module

    seen = []
    real_step = lockstep_module.LockStep.step

    def recording_step(self, x, label):
        seen.extend(tuple(row) for row in np.asarray(x))
        return real_step(self, x, label)

    monkeypatch.setattr(lockstep_module.LockStep, "step", recording_step)
    config = CosimConfig(sizes=(196, 4, 196), activations=("tanh", "logistic"), data="mnist", downsample=2,
                         data_dir=str(data_dir), batch_size=5, max_train=10, epochs=2, lr=0.01, test_samples=5)
    run_cosim(config, SPEC, DeviceConfig(), tmp_path / "run", show_progress=False)
    assert len(seen) == 20 and len(set(seen)) == 10


def test_demo_honours_max_train(tmp_path, data_dir):
    out = tmp_path / "demo"
    assert main(["demo", "--data-dir", str(data_dir), "--max-train", "100", "--workers", "1", "--quiet",
                 "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["batches_planned"] == 1 and summary["config"]["max_train"] == 100


# ---- item 9: a hanging ngspice

def test_hanging_ngspice_times_out_naming_the_batch(tmp_path):
    env = fake_bin(tmp_path, 'if [ "$1" = "-v" ]; then echo "** ngspice-39 : Circuit level simulation program"; '
                             'exit 0; fi\nexec sleep 600\n')
    tick = time.time()
    proc = subprocess.run(cli(*SMALL, "--batches", "2", "--ngspice-timeout", "0.5", "--out", "run"),
                          cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert time.time() - tick < 30
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1, proc.stderr
    assert "batch 1" in proc.stderr and "0.5 s" in proc.stderr
    assert not list((tmp_path / "run").glob(".tmp/*"))


def test_default_timeout_is_scaled_with_a_floor():
    small = default_ngspice_timeout(CONFIG, SPEC)
    big = CosimConfig(sizes=(784, 20, 784), activations=("tanh", "logistic"), batch_size=1000)
    assert small == TIMEOUT_FLOOR
    assert default_ngspice_timeout(big, SPEC) > 10 * TIMEOUT_FLOOR
    halves = CosimConfig(**{**vars(big), "workers": 2})
    assert default_ngspice_timeout(halves, SPEC) < default_ngspice_timeout(big, SPEC)


# ---- item 16: SIGTERM and SIGKILL

def test_sigterm_stops_cleanly_and_resume_is_exact(tmp_path):
    out, whole = tmp_path / "run", tmp_path / "whole"
    argv = SMALL + ["--batches", "8"]
    proc = subprocess.Popen(cli(*argv, "--out", str(out)), cwd=tmp_path, env=slow_ngspice(tmp_path),
                            stderr=subprocess.PIPE, text=True)
    try:
        assert wait_for(lambda: batches_done(out) >= 2), "no checkpoint"
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    err = proc.stderr.read()
    assert code == 143 and err.count("\n") == 1 and "SIGTERM" in err and "Traceback" not in err, err
    assert 2 <= batches_done(out) < 8
    assert not (out / ".tmp").exists()
    assert subprocess.run(cli(*argv, "--out", str(out), "--resume"), cwd=tmp_path).returncode == 0
    assert subprocess.run(cli(*argv, "--out", str(whole)), cwd=tmp_path).returncode == 0
    for a, b in zip(weights_of(whole), weights_of(out)):
        np.testing.assert_array_equal(a, b)
    assert metric_batches(out) == list(range(1, 9))


def test_sigkill_leftovers_are_removed_by_the_next_run(tmp_path):
    out = tmp_path / "run"
    argv = SMALL + ["--batches", "8"]
    proc = subprocess.Popen(cli(*argv, "--out", str(out)), cwd=tmp_path, env=slow_ngspice(tmp_path, 2.0),
                            start_new_session=True)
    try:
        assert wait_for(lambda: batches_done(out) >= 1 and list(out.glob(".tmp/recirc-ngspice-*"))), \
            "no temporary ngspice folder inside the run folder"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    assert list(out.glob(".tmp/recirc-ngspice-*")), "the kill left nothing to clean"
    resumed = subprocess.run(cli(*argv, "--out", str(out), "--resume"), cwd=tmp_path)
    assert resumed.returncode == 0
    assert not (out / ".tmp").exists()
    assert metric_batches(out) == list(range(1, 9))


# ---- item 18: divergence writes the last good state

def test_divergence_writes_the_last_good_state(tmp_path, capsys):
    out = tmp_path / "run"
    code = main([*SMALL, "--batches", "6", "--lr", "1e4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 1 and err.count("\n") == 1 and "last good state" in err, err
    summary = json.loads((out / "summary.json").read_text())
    assert summary["status"] == "diverged"
    good = summary["batches_done"]
    assert summary["diverged_at_batch"] == good + 1
    assert batches_done(out) == good and metric_batches(out) == list(range(1, good + 1))
    for array in weights_of(out):
        assert np.all(np.isfinite(array))
    with np.load(out / "checkpoint.npz") as data:
        saved = CircularAutoencoder.load(out / "weights_reference.npz")
        np.testing.assert_array_equal(data["ref__A1"], saved.weights[0])
    with np.load(out / "conductances.npz") as g:
        np.testing.assert_allclose(g["r_f"] * (g["Gplus_1"] - g["Gminus_1"])[:, :-1],
                                   CircularAutoencoder.load(out / "weights_cosim.npz").weights[0], rtol=1e-12)
    # the checkpoint is resumable (and protected from a new run)
    assert main([*SMALL, "--batches", "6", "--lr", "1e4", "--out", str(out)]) == 1
    assert "--overwrite" in capsys.readouterr().err


def test_a_timeout_the_shared_engine_cannot_honour_is_refused(tmp_path, capsys):
    """libngspice runs in-process: a timeout there would be a promise the run cannot keep."""
    code = main(["cosim", "--sizes", "16,4,16", "--batches", "1", "--batch-size", "5", "--engine", "shared",
                 "--ngspice-timeout", "5", "--out", str(tmp_path / "run"), "--quiet"])
    err = capsys.readouterr().err
    assert code == 2 and "--ngspice-timeout needs --engine batch" in err and err.count("\n") == 1
    assert not (tmp_path / "run").exists()
