"""Private ngspice runner for the netlist tests (the lead will switch these to recirc_analog.engines).

``simulate(netlist_text, tmp_path)`` runs ``ngspice -b -r out.raw`` and returns
the binary raw file's vectors as a dict ``name -> float64 array``.
"""

import shutil
import subprocess
from pathlib import Path

import numpy as np

from recirc_analog.errors import SetupError, SimulationError

CIRCUITS = Path(__file__).resolve().parents[1] / "circuits"


def read_raw(path) -> dict:
    """Vectors of a real binary ngspice raw file (one plot)."""
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


def run_file(path, cwd=None) -> dict:
    """Run ngspice in batch mode on ``path``; the vectors of its raw file."""
    if shutil.which("ngspice") is None:
        raise SetupError("ngspice is not on PATH; run `make setup`")
    path = Path(path)
    raw = path.with_suffix(".raw")
    result = subprocess.run(["ngspice", "-b", "-r", str(raw), str(path)], capture_output=True, text=True,
                            cwd=cwd or path.parent, timeout=300)
    errors = [line for line in (result.stdout + result.stderr).splitlines() if "error" in line.lower()]
    if result.returncode != 0 or errors or not raw.exists():
        raise SimulationError(f"ngspice failed on {path}: {errors[:3] or result.stderr[-300:]}")
    return read_raw(raw)


def simulate(text: str, tmp_path, name: str = "circuit") -> dict:
    """Write ``text`` to ``tmp_path/name.cir`` and run it."""
    path = Path(tmp_path) / f"{name}.cir"
    path.write_text(text)
    return run_file(path)


def test_reader_matches_a_resistor_divider(tmp_path):
    text = "divider\nV1 a 0 dc 0\nR1 a b 3e3\nR2 b 0 1e3\n.save v(b)\n.dc V1 0 2 0.5\n.end\n"
    vectors = simulate(text, tmp_path)
    np.testing.assert_allclose(vectors["v(v-sweep)"], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(vectors["v(b)"], vectors["v(v-sweep)"] / 4, rtol=1e-12, atol=1e-15)
