"""The sky130 cells in ngspice at tt, 27 degC, against their datasheet limits, the definitions
of what they measure, and ngspice's own measurements."""

import re
import subprocess

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.errors import ConfigError
from recirc_analog.jobs import characterise, datasheet
from recirc_analog.pdk import cells, testbenches
from recirc_analog.pdk.models import write_model_library


@pytest.fixture(scope="module")
def tt():
    """Each cell's figures at tt, 27 degC (quick testbenches; about 15 s of CPU for all four),
    measured once for the module; the clock's from its raw plots (kept for the definition test)."""
    results = {cell: characterise.characterise_one(cell, "tt", 27.0, quick=True)
               for cell in ("opamp", "neuron", "sample_hold")}
    plots = characterise.run_testbench(testbenches.clock_testbench("tt", 27.0, quick=True), "clock", "tt")
    results["clock"] = characterise.CellResult("clock", "tt", 27.0, characterise.measure_clock(plots))
    return results, plots


def _figures(tt, cell):
    result = tt[0][cell]
    assert result.failures() == []
    return result


def test_library_copies_and_testbenches_in_circuits_match_the_package(circuits_dir):
    for name in cells.LIBRARY_FILES:
        assert (circuits_dir / "sky130" / name).read_text() == cells.library_text(name), name
    for cell in cells.CELLS:
        assert (circuits_dir / "sky130" / f"tb_sky130_{cell}.cir").read_text() == testbenches.testbench(cell), cell


def test_opamp_gain_bandwidth_phase_margin_offset_at_tt(tt):
    v = _figures(tt, "opamp").values
    assert v["gain_db"] >= 65 and v["ugf"] >= 10e6 and v["phase_margin"] >= 45
    assert abs(v["offset"]) <= 5e-3 and v["settling"] <= testbenches.PHASE / 2
    assert v["swing_low"] <= 0.5 and v["swing_high"] >= 1.3


@pytest.mark.slow
def test_opamp_figures_agree_with_ngspice_meas(tmp_path):
    """DC gain and unity-gain frequency as ngspice's own ``meas`` computes them."""
    text = testbenches.opamp_testbench("tt", 27.0, quick=True).replace(".end\n", "")
    text += (".control\nrun\nsetplot ac1\nmeas ac gain_ng find vdb(oa) at=10\n"
             "meas ac ugf_ng when vdb(oa)=0\n.endc\n.end\n")
    write_model_library(tmp_path / "models.lib", ["tt"])
    (tmp_path / "sky130_opamp.lib").write_text(cells.library_text("sky130_opamp.lib"))
    (tmp_path / "tb.cir").write_text(text)
    done = subprocess.run(["ngspice", "-b", "-n", "tb.cir"], cwd=tmp_path, capture_output=True, text=True,
                          timeout=600)
    meas = {k: float(v) for k, v in re.findall(r"^(\w+_ng)\s*=\s*([-+0-9.eE]+)", done.stdout, re.M)}
    ours = characterise.characterise_one("opamp", "tt", 27.0, quick=True).values
    assert ours["gain_db"] == pytest.approx(meas["gain_ng"], abs=0.01)
    assert ours["ugf"] == pytest.approx(meas["ugf_ng"], rel=0.01)


def test_neuron_transfer_is_monotonic_tanh_like_and_centred(tt):
    r = _figures(tt, "neuron")
    x, y = r.transfer.T
    assert np.all(np.diff(y) > 0)                                   # monotonic
    assert abs(np.interp(0.0, x, y)) < 5e-3                         # centred on ref
    assert y[-1] - y[-2] < 0.05 * (y[len(y) // 2 + 1] - y[len(y) // 2 - 1])   # saturates
    assert abs(y[0] + y[-1]) < 0.2 * (y[-1] - y[0])                  # nearly odd
    assert 0.5 <= r.values["gain"] <= 2.0


def test_sample_hold_pedestal_droop_and_feedthrough_at_tt(tt):
    v = _figures(tt, "sample_hold").values
    for k in range(len(testbenches.SH_LEVELS)):
        assert abs(v[f"pedestal_{k}"]) <= 2e-3
    assert abs(v["droop"]) <= 100 and v["feedthrough"] <= 1e-3 and v["acquisition"] <= testbenches.PHASE


def test_noise_columns_at_tt(tt):
    """The datasheet's noise figures (ngspice .noise, pdk/noise.py; the method's oracles are in
    tests/test_periphery_noise.py): the TIA's input noise is its output noise over rf, and the
    tracking sample-and-hold carries at least its 1 pF's kT/C."""
    opamp = _figures(tt, "opamp").values
    assert opamp["tia_noise_current"] == pytest.approx(opamp["tia_noise"] / testbenches.TIA_RF, rel=1e-12)
    assert 10e-6 < opamp["tia_noise"] < 10e-3
    assert 10e-6 < _figures(tt, "neuron").values["noise"] < 10e-3
    assert _figures(tt, "sample_hold").values["noise"] >= np.sqrt(1.380649e-23 * 300.15 / 1e-12)


def test_clock_phases_never_overlap_and_edges_are_finite(tt):
    """The definition, from the raw vectors: no time point has both phases above half supply;
    each phase passes through mid-supply (a finite edge, not a jump between two samples)."""
    results, plots = tt
    tr = plots["transient"]
    half = testbenches.VDD / 2
    both = (tr["v(phi1)"] > half) & (tr["v(phi2)"] > half)
    assert not np.any(both)
    assert np.any(np.abs(tr["v(phi1)"] - half) < 0.3) and np.any(np.abs(tr["v(phi2)"] - half) < 0.3)
    v = _figures(tt, "clock").values
    assert v["gap_12"] >= 0.5e-9 and v["gap_21"] >= 0.5e-9 and v["rise"] <= 2e-9 and v["fall"] <= 2e-9


@pytest.mark.slow
def test_characterise_command_writes_a_datasheet(tmp_path, capsys):
    out = tmp_path / "DATASHEET.md"
    assert main(["characterise", "--cells", "clock", "--corners", "tt", "--temps", "27", "--quick", "--quiet",
                 "--out", str(out)]) == 0
    text = out.read_text()
    assert "## Non-overlapping two-phase clock" in text and "| tt | 27 |" in text
    assert "recirc-analog characterise --out" in text and "load average" in text


@pytest.mark.parametrize("argv, message", [
    (["--corners", "tt,zz"], "corner must be one of tt, ss, ff, sf, fs, got 'zz'"),
    (["--temps", "27,200"], "temperature must be in [-55, 150] degC, got 200"),
    (["--temps", "hot"], "--temps must be comma-separated finite numbers, got 'hot'"),
    (["--cells", "dac"], "cell must be one of opamp, neuron, sample_hold, clock, got 'dac'")])
def test_characterise_bad_options_are_one_line(argv, message, capsys, tmp_path):
    assert main(["characterise", "--out", str(tmp_path / "d.md"), *argv]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err


def test_transfer_csv_round_trip(tmp_path):
    table = np.column_stack([np.linspace(-0.6, 0.6, 7), 0.15 * np.tanh(np.linspace(-3, 3, 7))])
    path = datasheet.write_transfer(tmp_path / "t.csv", table)
    np.testing.assert_allclose(datasheet.read_transfer(path), table, atol=1e-9)


def test_bad_temperature_and_cell_in_the_api():
    with pytest.raises(ConfigError, match="temperature"):
        testbenches.testbench("opamp", "tt", 400.0)
    with pytest.raises(ConfigError, match="cell must be one of"):
        testbenches.testbench("dac")
