"""The hand-written cells of circuits/, simulated through their testbenches against analytic formulas."""

import re
import shutil

import numpy as np
import pytest


def _params(path) -> dict:
    """The ``.param`` values of a testbench (the oracle uses the same numbers)."""
    text = path.read_text()
    pairs = re.findall(r"(\w+)=([-+0-9.eE]+)", " ".join(re.findall(r"^\.param (.*)$", text, re.M)))
    return {k: float(v) for k, v in pairs}


@pytest.fixture
def bench(tmp_path, circuits_dir, ngspice):
    def run(testbench):
        for path in circuits_dir.glob("*.lib"):
            shutil.copy(path, tmp_path)
        shutil.copy(circuits_dir / testbench, tmp_path)
        return ngspice.run_file(tmp_path / testbench), _params(circuits_dir / testbench)
    return run


def test_sample_hold_droop_is_exponential(bench):
    v, p = bench("tb_sample_hold.cir")
    t, out = v["time"], v["v(out)"]
    r = 1.0 / (1.0 / p["roff"] + 1.0 / p["rleak"])
    tracked = p["vin"] * p["rleak"] / (p["rleak"] + p["ron"])
    late = t > p["thold"] + 1e-6
    expected = tracked * np.exp(-(t[late] - p["thold"]) / (r * p["chold"]))
    np.testing.assert_allclose(out[late], expected, rtol=2e-5)
    assert out[-1] < 0.95 * tracked            # the droop is really there (about 10 %)


def test_opamp_tia_closed_loop_gain_offset_and_swing(bench):
    v, p = bench("tb_opamp_tia.cir")
    current = v["i(i-sweep)"]
    a, rf, vsat = p["gain"], p["rf"], p["vsat"]
    ideal = np.clip(-rf * current * a / (1 + a), -vsat, vsat)
    offset = np.clip(a * (p["vos"] - rf * current) / (1 + a), -vsat, vsat)
    np.testing.assert_allclose(v["v(t0)"], ideal, rtol=1e-9, atol=1e-12)
    np.testing.assert_allclose(v["v(t1)"], offset, rtol=1e-9, atol=1e-12)
    assert np.any(np.abs(v["v(t0)"]) == vsat) and np.any(np.abs(v["v(t0)"]) < vsat)


def test_ideal_neuron_activations(bench):
    """tia_pair + act1_<f> (o..), two tia_ideal + act_<f> (p..) and tia_ref (rlin) all give vu * f(s)."""
    v, p = bench("tb_neuron.cir")
    s = p["rf"] * (v["v(v-sweep)"] / p["rin"] - p["in"]) / p["vu"]
    expected = {"lin": s, "tanh": np.tanh(s), "log": 1 / (1 + np.exp(-s)), "relu": np.maximum(s, 0)}
    nodes = {f"{stage}{name}": value for stage in "op" for name, value in expected.items()}
    for node, value in {**nodes, "rlin": s}.items():
        np.testing.assert_allclose(v[f"v({node})"], p["vu"] * value, rtol=1e-9, atol=1e-12, err_msg=node)


def test_mixer_and_subtract(bench):
    v, p = bench("tb_mixer.cir")
    held = v["v(v-sweep)"]
    np.testing.assert_allclose(v["v(m1)"], p["lam"] * held + (1 - p["lam"]) * p["fresh"], atol=1e-12)
    np.testing.assert_allclose(v["v(m0)"], p["fresh"], atol=1e-12)
    np.testing.assert_allclose(v["v(d)"], held - p["fresh"], atol=1e-12)


def test_package_cells_are_the_circuits_folder(circuits_dir):
    """The cells the writers include (package data) are the files the testbenches above check."""
    from importlib.resources import files

    from recirc_analog.schematic.cells import CELL_PACKAGE, LIBRARY_ORDER, get_library_text

    shipped = sorted(p.name for p in files(CELL_PACKAGE).iterdir() if p.name.endswith(".lib"))
    top_level = sorted(name for name in LIBRARY_ORDER if "/" not in name)   # sky130/: tests/test_sky130_cells.py
    assert shipped == top_level == sorted(p.name for p in circuits_dir.glob("*.lib"))
    for name in LIBRARY_ORDER:
        assert get_library_text(name) == (circuits_dir / name).read_text(), f"{name}: copy circuits/{name} over"
