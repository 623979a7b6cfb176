"""Fixtures every test module may ask for: where things are, and a plain ngspice runner.

- ``repo_root``, ``circuits_dir``, ``netlists_dir``: folders of this checkout.
- ``data_dir``: the MNIST / Fashion-MNIST folder: ``$RECIRC_ANALOG_DATA`` if set,
  else ``../shared/data`` beside the checkout (where CI lays it). A test that
  asks for it fails with a clear message when neither exists: the data is part
  of the setup, not something to skip over.
- ``random_network``, ``run_circuit``: a network with random biases, and a
  circuit built, written and simulated in one call (the netlist tests' helpers).
- ``ngspice``: runs netlists with ``ngspice -b`` and reads the binary raw file
  with a reader of its own (independent of :mod:`recirc_analog.engines`, so it
  can serve as their oracle). A missing ngspice fails the test (setup error),
  it never skips.
"""

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]


class NgspiceRunner:
    """``ngspice -b -r out.raw`` on a file; the raw file's vectors as ``name -> float64 array``."""

    timeout = 300

    def __init__(self, executable: str):
        self.executable = executable

    @staticmethod
    def read_raw(path) -> dict:
        """Vectors of a binary ngspice raw file (one plot)."""
        data = Path(path).read_bytes()
        start = data.index(b"Binary:\n")
        lines = data[:start].decode().splitlines()
        header = dict(line.split(":", 1) for line in lines if ":" in line and not line.startswith("\t"))
        n_vars, n_points = int(header["No. Variables"]), int(header["No. Points"])
        first = lines.index("Variables:") + 1
        names = [lines[first + k].split()[1] for k in range(n_vars)]
        values = np.frombuffer(data, dtype="<f8", count=n_vars * n_points, offset=start + 8)
        table = values.reshape(n_points, n_vars)
        return {name: table[:, k].copy() for k, name in enumerate(names)}

    def run_file(self, path, cwd=None) -> dict:
        """Run ngspice in batch mode on ``path`` (in its folder); the vectors of its raw file."""
        path = Path(path)
        raw = path.with_suffix(".raw")
        result = subprocess.run([self.executable, "-b", "-r", str(raw), str(path)], capture_output=True,
                                text=True, cwd=cwd or path.parent, timeout=self.timeout)
        errors = [line for line in (result.stdout + result.stderr).splitlines() if "error" in line.lower()]
        if result.returncode != 0 or errors or not raw.exists():
            pytest.fail(f"ngspice failed on {path}: {errors[:3] or result.stderr[-300:]}")
        return self.read_raw(raw)

    def simulate(self, text: str, folder, name: str = "circuit") -> dict:
        """Write ``text`` to ``folder/name.cir`` and run it."""
        path = Path(folder) / f"{name}.cir"
        path.write_text(text)
        return self.run_file(path)


def find_data_dir() -> Path | None:
    """``$RECIRC_ANALOG_DATA``, else ``../shared/data`` beside the checkout; None if that is no folder."""
    folder = Path(os.environ.get("RECIRC_ANALOG_DATA") or REPO_ROOT.parent / "shared" / "data")
    return folder if folder.is_dir() else None


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def circuits_dir() -> Path:
    return REPO_ROOT / "circuits"


@pytest.fixture(scope="session")
def netlists_dir() -> Path:
    return REPO_ROOT / "netlists"


@pytest.fixture(scope="session")
def data_dir() -> Path:
    folder = find_data_dir()
    if folder is None:
        pytest.fail("no data folder: set RECIRC_ANALOG_DATA or put the data in ../shared/data beside the checkout")
    return folder


@pytest.fixture(scope="session")
def ngspice() -> NgspiceRunner:
    executable = shutil.which("ngspice")
    if executable is None:
        pytest.fail("ngspice is not on PATH; run `make setup` (scripts/bootstrap.sh installs it)")
    return NgspiceRunner(executable)


def _random_network(sizes, activations, seed):
    """A Glorot network of ``sizes`` with N(0, 0.3) biases, and the random stream that drew them."""
    from recirc_analog.reference.network import CircularAutoencoder

    rng = np.random.default_rng(seed)
    net = CircularAutoencoder.random(sizes, activations, seed=seed)
    net.biases = [rng.normal(0, 0.3, b.shape) for b in net.biases]
    return net, rng


@pytest.fixture(scope="session")
def random_network():
    """``random_network(sizes, activations, seed) -> (net, rng)``."""
    return _random_network


@pytest.fixture(scope="session")
def run_circuit(ngspice):
    """``run_circuit(net, spec, x, folder) -> (node_map, vectors)``: build, write (ngspice dialect) and simulate."""
    from recirc_analog.netlist_writers import get_writer
    from recirc_analog.schematic.builder import build_circuit

    def run(net, spec, x, folder):
        circuit = build_circuit(net, spec, x)
        return circuit.node_map, ngspice.simulate(get_writer().get_netlist(circuit), folder)

    return run
