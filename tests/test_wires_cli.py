"""The wire options of ``recirc-analog netlist`` and ``cosim``: values reach the circuit, bad ones are refused."""

import json

import numpy as np
import pytest

from recirc_analog.cli import build_parser, main
from recirc_analog.commands.cosim import build_configs


def test_netlist_with_wires_and_tiles_runs_in_ngspice(tmp_path, ngspice):
    ideal, wired = tmp_path / "ideal.cir", tmp_path / "wired.cir"
    common = ["netlist", "--sizes", "32,8,32", "--seed", "3"]
    assert main([*common, "-o", str(ideal)]) == 0
    assert main([*common, "--r-wire", "1", "--tile", "32", "-o", str(wired)]) == 0
    text = wired.read_text()
    assert "* wire resistance per tile (ohm): r_row 1, r_col 1, r_driver 0, r_sense 0" in text
    assert ".subckt xbar1_1_0 " in text  # 33 rows (32 inputs and the bias) in tiles of 32
    assert "\nRwr_0_0 " in text and "\nRwc_0_0 " in text and "\nRdrv_" not in text and "\nRsns_" not in text
    a, b = ngspice.run_file(ideal), ngspice.run_file(wired)
    outputs = [name for name in a if name.startswith("v(o2_c0_")]
    assert len(outputs) == 32
    difference = max(np.abs(a[name] - b[name]).max() for name in outputs)
    assert 1e-6 < difference < 0.05  # 1 ohm segments next to >= 10 kohm devices: a small IR drop


def test_row_and_column_options_override_the_wire_option():
    args = build_parser().parse_args(["cosim", "--out", "x", "--r-wire", "2", "--r-col", "0.5", "--r-driver", "3",
                                      "--r-sense", "4", "--tile", "16"])
    crossbar = build_configs(args)[1].crossbar
    assert (crossbar.r_row, crossbar.r_col, crossbar.r_driver, crossbar.r_sense) == (2.0, 0.5, 3.0, 4.0)
    assert (crossbar.tile_rows, crossbar.tile_neurons) == (16, 16)
    default = build_configs(build_parser().parse_args(["cosim", "--out", "x"]))[1].crossbar
    assert (default.r_row, default.r_col, default.r_driver, default.r_sense) == (0.0, 0.0, 0.0, 0.0)
    assert (default.tile_rows, default.tile_neurons) == (256, 128)


@pytest.mark.parametrize("command", ["netlist", "cosim"])
@pytest.mark.parametrize("option", ["--r-wire", "--r-row", "--r-col", "--r-driver", "--r-sense", "--tile"])
@pytest.mark.parametrize("value", ["-1", "nan", "inf", "x"])
def test_bad_values_are_one_line_errors_naming_the_option(command, option, value, tmp_path, capsys):
    argv = [command, f"{option}={value}"] + (["-o", str(tmp_path / "n.cir")] if command == "netlist"
                                             else ["--out", str(tmp_path / "run")])
    assert main(argv) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and option in error, error
    assert not any(tmp_path.iterdir())


def test_cosim_with_wires_runs_two_batches(tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["cosim", "--sizes", "16,4,16", "--data", "lowrank", "--batches", "2", "--batch-size", "8",
                 "--test-samples", "8", "--r-wire", "0.5", "--quiet", "--out", str(out)]) == 0
    summary = json.loads((out / "summary.json").read_text())
    crossbar = summary["spec"]["crossbar"]
    assert (crossbar["r_row"], crossbar["r_col"], crossbar["r_driver"], crossbar["r_sense"]) == (0.5, 0.5, 0, 0)
    assert summary["batches_done"] == 2
    assert np.isfinite(summary["final_cosim_loss"])
    # the circuit with wires is not the reference any more, but 0.5 ohm wires barely matter here
    assert 0 < summary["weight_rel_diff_max"] < 1e-2
    assert "r_row 0.5, r_col 0.5" in next(out.glob("*.cir")).read_text()
