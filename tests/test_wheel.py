"""The package works outside the checkout: build the wheel, install it into a fresh venv, run it elsewhere.

Offline and quick: the wheel is built without build isolation (setuptools from the
dev extra), installed with ``--no-deps --no-index`` into a venv without pip, and
the venv finds NumPy, SciPy, networkx, tqdm and matplotlib through a ``.pth`` line
naming the folders they are installed in here (not this checkout: the installed
``recirc_analog`` must come from the wheel, which the test checks).
"""

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import matplotlib
import networkx
import numpy as np
import pytest
import scipy
import tqdm

from recirc_analog.reference import CircularAutoencoder, Recirculation, run_cycles
from recirc_analog.schematic import CircuitSpec


def sh(argv, **kwargs) -> subprocess.CompletedProcess:
    proc = subprocess.run([str(a) for a in argv], capture_output=True, text=True, timeout=300, **kwargs)
    assert proc.returncode == 0, f"{argv[:3]} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-2000:]}"
    return proc


@pytest.fixture(scope="module")
def wheel(repo_root, tmp_path_factory) -> Path:
    """The wheel built from a copy of the checkout's package files."""
    source = tmp_path_factory.mktemp("source")
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(repo_root / name, source)
    shutil.copytree(repo_root / "recirc_analog", source / "recirc_analog",
                    ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("wheels")
    sh([sys.executable, "-m", "pip", "wheel", "--quiet", "--no-deps", "--no-build-isolation", "--no-index",
        "-w", out, source], cwd=source)
    (path,) = out.glob("recirc_analog-*.whl")
    return path


@pytest.fixture(scope="module")
def installed(wheel, tmp_path_factory) -> dict:
    """A fresh venv with only the wheel installed; returns the environment to run its commands in."""
    venv = tmp_path_factory.mktemp("venv") / "env"
    sh([sys.executable, "-m", "venv", "--without-pip", venv])
    python = venv / "bin" / "python"
    sh([sys.executable, "-m", "pip", "--python", python, "install", "--quiet", "--no-deps", "--no-index", wheel])
    site = Path(sh([python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"]).stdout.strip())
    folders = {str(Path(module.__file__).resolve().parents[1]) for module in (np, scipy, networkx, tqdm, matplotlib)}
    (site / "dependencies.pth").write_text("\n".join(sorted(folders)) + "\n")
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTHON")}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    return {"venv": venv, "env": env}


def test_wheel_ships_the_cell_library(wheel, circuits_dir):
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        prefix = "recirc_analog/cell_library/"
        libraries = sorted(n for n in names if n.startswith(prefix) and n.endswith(".lib"))
        # the cells, the memristor models (issue 13) and the sky130 cells (issue 12) mirror circuits/;
        # circuits/sky130/models.lib is written by bootstrap for the local PDK install, not shipped.
        copies = [*circuits_dir.glob("*.lib"), *circuits_dir.glob("memristors/*.lib"),
                  *circuits_dir.glob("sky130/sky130_*.lib")]
        assert [n.removeprefix(prefix) for n in libraries] == sorted(p.relative_to(circuits_dir).as_posix()
                                                                     for p in copies)
        for name in libraries:
            assert archive.read(name).decode() == (circuits_dir / name.removeprefix(prefix)).read_text(), name
        assert not any(n.startswith(("tests/", "netlists/", "benchmarks/")) for n in names)


def test_installed_package_is_the_wheels(installed, tmp_path):
    proc = sh([installed["venv"] / "bin" / "python", "-c", "import recirc_analog; print(recirc_analog.__file__)"],
              cwd=tmp_path, env=installed["env"])
    assert Path(proc.stdout.strip()).is_relative_to(installed["venv"])


def test_netlist_command_outside_the_checkout_simulates_the_reference(installed, tmp_path, ngspice):
    sh(["recirc-analog", "netlist", "--sizes", "6,3,6", "--act", "tanh,linear", "--mode", "pr", "--batch", "3",
        "--seed", "7", "-o", "n.cir"], cwd=tmp_path, env=installed["env"])
    vectors = ngspice.run_file(tmp_path / "n.cir")
    # the command's random network and inputs: CircularAutoencoder.random(seed), inputs U[0, 1) from the seed
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "linear"), seed=7)
    x = np.random.default_rng(7).uniform(0, 1, size=(3, 6))
    expected = run_cycles(net, x, Recirculation("pr"))
    v_unit = CircuitSpec().v_unit
    for k in (0, 1):
        got = np.stack([vectors[f"v(o{h}_c{k}_{i})"] for h in (1, 2) for i in range(net.sizes[h])], axis=1)
        np.testing.assert_allclose(got / v_unit, np.concatenate(expected[k][1:], axis=1), atol=1e-6)


def test_cosim_command_outside_the_checkout(installed, tmp_path):
    sh(["recirc-analog", "cosim", "--sizes", "16,4,16", "--data", "lowrank", "--batches", "2", "--batch-size", "10",
        "--test-samples", "4", "--out", "run", "--quiet"], cwd=tmp_path, env=installed["env"])
    summary = json.loads((tmp_path / "run" / "summary.json").read_text())
    assert summary["batches_done"] == 2
    assert summary["weight_rel_diff_max"] < 1e-4


def test_missing_data_folder_is_one_line_naming_both_ways(installed, tmp_path):
    env = {k: v for k, v in installed["env"].items() if k != "RECIRC_ANALOG_DATA"}
    proc = subprocess.run(["recirc-analog", "train", "--data", "mnist", "--epochs", "1"], cwd=tmp_path, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1
    assert proc.stderr.count("\n") == 1 and "--data-dir" in proc.stderr and "RECIRC_ANALOG_DATA" in proc.stderr
