"""The catalogue of hostile inputs and faults: every one must be handled cleanly.

Run it alone to see the count the README's reliability section quotes::

    .venv/bin/python -m pytest tests/test_hostile_inputs.py -q

"Cleanly" means: the command ends by itself within its time limit and a
4 GiB address-space limit, with exit code 2 (bad arguments or configuration)
or 1 (a failure while running: data, files, ngspice), exactly one line on
stderr that starts with ``recirc-analog:`` and holds no traceback, and the
case's own check of what it must not destroy (an earlier output, a
checkpoint) passes. Each case runs the real command in a fresh process, in
an empty working directory.
"""

from __future__ import annotations

import gzip
import os
import resource
import signal
import subprocess
import sys
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pytest

MEMORY_LIMIT = 4 << 30
"""Address space (bytes) a case may use: a command that tries to allocate more fails the case."""


@dataclass
class Case:
    """One hostile input: the command line, what to prepare, what must hold afterwards."""

    name: str
    argv: list[str]
    exit_code: int | None = None
    """Expected exit code (1 or 2), or None for either."""
    prepare: object = None
    """``prepare(folder) -> None``: writes the files the command line refers to."""
    check: object = None
    """``check(folder) -> None``: asserts what must hold afterwards (nothing destroyed)."""
    file_size_limit: int | None = None
    """RLIMIT_FSIZE (bytes) for the command: a full disk."""
    timeout: float = 120.0
    env: dict = field(default_factory=dict)
    stderr_fragment: str | None = None


def _limits(file_size_limit):
    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (MEMORY_LIMIT, MEMORY_LIMIT))
        if file_size_limit is not None:
            signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
            resource.setrlimit(resource.RLIMIT_FSIZE, (file_size_limit, file_size_limit))
    return apply


def _npy_header_bomb(path: Path) -> None:
    """A 128-byte .npy file whose header claims a (10^6, 10^6) float64 array."""
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': (1000000, 1000000), }"
    header = header + " " * (118 - len(header)) + "\n"
    path.write_bytes(b"\x93NUMPY\x01\x00" + len(header).to_bytes(2, "little") + header.encode())


def _npz_header_bomb(path: Path) -> None:
    """A weights.npz whose A1 member claims an enormous shape."""
    inner = path.parent / "A1.npy"
    _npy_header_bomb(inner)
    with zipfile.ZipFile(path, "w") as archive:
        archive.write(inner, "A1.npy")
    inner.unlink()


def _gzip_bomb(folder: Path) -> None:
    """mnist/ whose training-image file inflates to 400 MB of zeros behind a tiny IDX header."""
    mnist = folder / "data" / "mnist"
    mnist.mkdir(parents=True)
    header = bytes([0, 0, 8, 3]) + (60000).to_bytes(4, "big") + (28).to_bytes(4, "big") + (28).to_bytes(4, "big")
    with gzip.open(mnist / "train-images-idx3-ubyte.gz", "wb", compresslevel=9) as out:
        out.write(header)
        chunk = bytes(1 << 20)
        for _ in range(400):
            out.write(chunk)


def _weights(folder: Path, scale: float = 1.0, sizes=(16, 4, 16)) -> Path:
    from recirc_analog.reference.network import CircularAutoencoder

    net = CircularAutoencoder.random(sizes, ("tanh", "tanh"), seed=0)
    net.weights = [w * scale for w in net.weights]
    path = folder / "weights.npz"
    net.save(path)
    return path


def _existing_netlist(folder: Path) -> None:
    (folder / "old.cir").write_text("* an earlier netlist that must survive\n.end\n")


def _old_netlist_intact(folder: Path) -> None:
    assert (folder / "old.cir").read_text() == "* an earlier netlist that must survive\n.end\n"


def _resumable_run(folder: Path) -> None:
    """run/: a co-simulation of SMALL_COSIM stopped after 1 of 2 batches, and a copy of its checkpoint."""
    from recirc_analog.cosim.lockstep import CosimConfig
    from recirc_analog.devices import DeviceConfig
    from recirc_analog.jobs.cosim import run_cosim
    from recirc_analog.reference.recirculation import Recirculation
    from recirc_analog.schematic.spec import CircuitSpec

    config = CosimConfig(sizes=(16, 4, 16), activations=("tanh", "linear"), batches=2, batch_size=5,
                         test_samples=5, checkpoint_every=1)
    run_cosim(config, CircuitSpec(recirculation=Recirculation("pr")), DeviceConfig(), folder / "run",
              show_progress=False, stop_after=1)
    (folder / "checkpoint.copy").write_bytes((folder / "run" / "checkpoint.npz").read_bytes())
    (folder / "metrics.copy").write_bytes((folder / "run" / "metrics.csv").read_bytes())


def _corrupt_resumable_run(folder: Path) -> None:
    """run/ as in _resumable_run, its checkpoint's first conductances replaced by NaN."""
    _resumable_run(folder)
    path = folder / "run" / "checkpoint.npz"
    with np.load(path) as data:
        arrays = {k: data[k] for k in data.files}
    arrays["dev__g_plus_1"] = np.full_like(arrays["dev__g_plus_1"], np.nan)
    with open(path, "wb") as handle:
        np.savez(handle, **arrays)
    (folder / "checkpoint.copy").write_bytes(path.read_bytes())


def _run_intact(folder: Path) -> None:
    assert (folder / "run" / "checkpoint.npz").read_bytes() == (folder / "checkpoint.copy").read_bytes()
    assert (folder / "run" / "metrics.csv").read_bytes() == (folder / "metrics.copy").read_bytes()


def _checkpoint_intact(folder: Path) -> None:
    assert (folder / "run" / "checkpoint.npz").read_bytes() == (folder / "checkpoint.copy").read_bytes()


def _hanging_ngspice(folder: Path) -> None:
    """bin/ngspice: answers -v like ngspice 39, otherwise hangs."""
    (folder / "bin").mkdir()
    script = folder / "bin" / "ngspice"
    script.write_text('#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-39 : Circuit level simulation '
                      'program"; exit 0; fi\nexec sleep 600\n')
    script.chmod(0o755)


SMALL_COSIM = ["cosim", "--sizes", "16,4,16", "--act", "tanh,linear", "--batches", "2", "--batch-size", "5",
               "--test-samples", "5", "--quiet"]


CASES = [
    # ---- arguments that would exhaust the machine
    Case("huge layer", ["train", "--sizes", "100000,10,100000", "--epochs", "1", "--quiet"], 2),
    Case("huge batch", ["train", "--batch-size", "1000000000", "--epochs", "1", "--quiet"], 2),
    Case("ten million cycles", ["train", "--sizes", "16,4,16", "--cycles", "10000000", "--quiet"], 2),
    Case("netlist unrolls 1000 cycles", ["netlist", "--sizes", "8,4,8", "--cycles", "1000", "-o", "x.cir"], 2),
    Case("cosim unrolls 1000 cycles", SMALL_COSIM + ["--cycles", "1000", "--out", "run"], 2),
    Case("netlist huge batch", ["netlist", "--sizes", "8,4,8", "--batch", "100000000", "-o", "x.cir"], 2),
    # ---- numbers that are not numbers
    Case("lr nan", ["train", "--lr", "nan"], 2),
    Case("lr inf", ["train", "--lr", "inf"], 2),
    Case("layer-lrs inf", ["train", "--layer-lrs", "inf,0.01"], 2),
    Case("layer-lrs nan", ["train", "--layer-lrs", "0.01,nan"], 2),
    Case("lam nan", ["train", "--lam", "nan"], 2),
    Case("negative sizes", ["train", "--sizes", "-1,2,-1"], 2),
    Case("empty sizes", ["train", "--sizes", ""], 2),
    Case("newline in activation", ["train", "--act", "tanh\nlogistic"], 2),
    Case("newline in data dir", ["train", "--data", "mnist", "--data-dir", "no\nsuch\ndir", "--quiet"], 1),
    Case("unknown sub-command", ["fly"], 2),
    # ---- crafted files
    Case("npy header bomb as inputs", ["netlist", "--sizes", "8,4,8", "--inputs", "bomb.npy", "-o", "x.cir"],
         None, lambda f: _npy_header_bomb(f / "bomb.npy")),
    Case("npz header bomb as weights", ["netlist", "--weights", "bomb.npz", "-o", "x.cir"],
         None, lambda f: _npz_header_bomb(f / "bomb.npz")),
    Case("gzip bomb in the data folder", ["train", "--data", "mnist", "--data-dir", "data", "--sizes",
                                          "784,10,784", "--quiet"], 1, _gzip_bomb),
    Case("complex inputs", ["netlist", "--sizes", "8,4,8", "--inputs", "c.npy", "-o", "x.cir"], None,
         lambda f: np.save(f / "c.npy", np.ones((2, 8)) * (1 + 1j))),
    Case("nan inputs", ["netlist", "--sizes", "8,4,8", "--inputs", "n.npy", "-o", "x.cir"], 2,
         lambda f: np.save(f / "n.npy", np.full((2, 8), np.nan))),
    Case("inputs of the wrong width", ["netlist", "--sizes", "8,4,8", "--inputs", "w.npy", "-o", "x.cir"], 2,
         lambda f: np.save(f / "w.npy", np.ones((2, 9)))),
    Case("pickled inputs", ["netlist", "--sizes", "8,4,8", "--inputs", "p.npy", "-o", "x.cir"], 1,
         lambda f: np.save(f / "p.npy", np.array([{"a": 1}], dtype=object), allow_pickle=True)),
    Case("weights scaled by 1e300", ["netlist", "--weights", "weights.npz", "-o", "x.cir"], None,
         lambda f: _weights(f, 1e300), stderr_fragment="layer"),
    Case("weights that contradict --sizes", ["netlist", "--weights", "weights.npz", "--sizes", "8,4,8",
                                             "-o", "x.cir"], 2, lambda f: _weights(f)),
    Case("weights file is text", ["netlist", "--weights", "weights.npz", "-o", "x.cir"], 1,
         lambda f: (f / "weights.npz").write_text("not a zip\n")),
    # ---- outputs the OS refuses
    Case("netlist -o is a folder", ["netlist", "--sizes", "8,4,8", "-o", "folder"], 1,
         lambda f: (f / "folder").mkdir()),
    Case("netlist -o below a file", ["netlist", "--sizes", "8,4,8", "-o", "old.cir/x.cir"], 1,
         _existing_netlist, _old_netlist_intact),
    Case("netlist on a full disk keeps the old file", ["netlist", "--sizes", "64,16,64", "-o", "old.cir"], 1,
         _existing_netlist, _old_netlist_intact, file_size_limit=4096),
    Case("train --out is a file", ["train", "--epochs", "1", "--quiet", "--out", "old.cir"], 1,
         _existing_netlist, _old_netlist_intact),
    Case("train on a full disk", ["train", "--epochs", "1", "--quiet", "--out", "run"], 1,
         file_size_limit=2048),
    Case("cosim --out is a file", SMALL_COSIM + ["--out", "old.cir"], 1, _existing_netlist, _old_netlist_intact),
    Case("cosim on a full disk", SMALL_COSIM + ["--out", "run"], 1, file_size_limit=4096),
    Case("cosim --resume without a checkpoint", SMALL_COSIM + ["--out", "run", "--resume"], 2),
    Case("cosim --out below a file", SMALL_COSIM + ["--out", "old.cir/run"], 1, _existing_netlist,
         _old_netlist_intact),
    Case("train --out below a file", ["train", "--epochs", "1", "--lr", "0.001", "--quiet", "--out", "old.cir/run"],
         1, _existing_netlist, _old_netlist_intact),
    Case("cosim new run into a resumable run", SMALL_COSIM + ["--out", "run"], 1, _resumable_run, _run_intact,
         stderr_fragment="--overwrite"),
    Case("cosim resume on a full disk keeps the checkpoint",
         SMALL_COSIM + ["--checkpoint-every", "1", "--out", "run", "--resume"], 1,
         _resumable_run, _checkpoint_intact, file_size_limit=1024),
    Case("cosim resume from NaN conductances", SMALL_COSIM + ["--checkpoint-every", "1", "--out", "run", "--resume"], 1,
         _corrupt_resumable_run, _run_intact, stderr_fragment="checkpoint.npz"),
    Case("cosim with a hanging ngspice", SMALL_COSIM + ["--out", "run", "--ngspice-timeout", "0.5"], 1,
         _hanging_ngspice, timeout=30, env={"PATH": "bin" + os.pathsep + os.environ.get("PATH", "")},
         stderr_fragment="batch 1"),
    # ---- data
    Case("data folder missing", ["train", "--data", "mnist", "--data-dir", "nowhere", "--quiet"], 1),
    Case("truncated IDX file", ["train", "--data", "mnist", "--data-dir", "data", "--quiet"], 1,
         lambda f: ((f / "data" / "mnist").mkdir(parents=True),
                    (f / "data" / "mnist" / "train-images-idx3-ubyte").write_bytes(b"\x00\x00\x08\x03"))),
    Case("demo without data", ["demo", "--out", "run", "--quiet"], 1),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_hostile_input_is_handled_cleanly(case: Case, tmp_path):
    if case.prepare is not None:
        case.prepare(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "RECIRC_ANALOG_DATA"}
    env.update(case.env)
    try:
        proc = subprocess.run([sys.executable, "-m", "recirc_analog.cli", *case.argv], cwd=tmp_path, env=env,
                              capture_output=True, text=True, timeout=case.timeout, stdin=subprocess.DEVNULL,
                              preexec_fn=_limits(case.file_size_limit))
    except subprocess.TimeoutExpired:
        pytest.fail(f"did not finish within {case.timeout:g} s")
    err = proc.stderr
    assert "Traceback" not in err, err[-2000:]
    assert proc.returncode in ((1, 2) if case.exit_code is None else (case.exit_code,)), (proc.returncode, err)
    assert err.count("\n") == 1 and err.startswith("recirc-analog: "), err
    if case.stderr_fragment:
        assert case.stderr_fragment in err
    if case.check is not None:
        case.check(tmp_path)
