"""The raw-file reader on real ngspice output (binary and ASCII, several plots).

Oracles: ngspice's own text output of the same vectors (``wrdata``, which
shares no code with our reader), the RC low-pass transfer function
1 / (1 + j w R C), and Ohm's law.
"""

import os
import subprocess

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.engines import find_ngspice, read_raw
from recirc_analog.engines.rawfile import parse_raw
from recirc_analog.errors import SimulationError

R_OHM, C_FARAD = 1e3, 1e-6
FOUR_ANALYSES = f"""four analyses
V1 a 0 dc 1 ac 1
R1 a b {R_OHM}
C1 b 0 {C_FARAD}
R2 b 0 3k
.op
.dc V1 0 1 0.5
.ac dec 2 10 1k
.tran 0.1m 0.5m
.end
"""


@pytest.fixture(scope="module")
def raw_files(tmp_path_factory):
    """(binary path, ascii path) of one ngspice run of FOUR_ANALYSES."""
    folder = tmp_path_factory.mktemp("raw")
    (folder / "four.cir").write_text(FOUR_ANALYSES)
    paths = []
    for name, ascii_flag in (("binary.raw", None), ("ascii.raw", "1")):
        env = {k: v for k, v in os.environ.items() if k != "SPICE_ASCIIRAWFILE"}
        if ascii_flag:
            env["SPICE_ASCIIRAWFILE"] = ascii_flag
        subprocess.run([find_ngspice(), "-b", "-r", name, "four.cir"], cwd=folder, env=env,
                       capture_output=True, check=True, stdin=subprocess.DEVNULL)
        paths.append(folder / name)
    return tuple(paths)


def test_binary_and_ascii_files_hold_the_same_plots(raw_files):
    binary, ascii_ = (read_raw(path) for path in raw_files)
    assert raw_files[0].stat().st_size < raw_files[1].stat().st_size
    assert [p.plot_name for p in binary] == [p.plot_name for p in ascii_]
    assert {p.plot_name for p in binary} == {"Operating Point", "DC transfer characteristic",
                                             "AC Analysis", "Transient Analysis"}
    for b, a in zip(binary, ascii_):
        assert b.names == a.names and b.title == a.title == "four analyses"
        for name in b.names:
            assert b.get(name).dtype == a.get(name).dtype


WRDATA_RUN = f"""rc written three ways
V1 a 0 dc 1 ac 1
R1 a b {R_OHM}
C1 b 0 {C_FARAD}
R2 b 0 3k
.control
set numdgt=17
set wr_vecnames
set wr_singlescale
ac dec 2 10 1k
wrdata ac.txt v(b) i(v1)
write ac_binary.raw v(b) i(v1)
set filetype=ascii
write ac_ascii.raw v(b) i(v1)
set filetype=binary
tran 0.1m 0.5m
wrdata tran.txt v(b) i(v1)
write tran_binary.raw v(b) i(v1)
.endc
.end
"""


def test_reader_agrees_with_ngspice_own_text_output(tmp_path):
    """ngspice's ``wrdata`` (17 significant digits: exact for float64) prints the same vectors
    the raw files hold: an oracle that shares no code with our reader."""
    (tmp_path / "rc.cir").write_text(WRDATA_RUN)
    # Batch mode exits 1 after a .control block ("no simulations run"): check the files instead.
    subprocess.run([find_ngspice(), "-b", "rc.cir"], cwd=tmp_path, capture_output=True, check=False,
                   stdin=subprocess.DEVNULL)
    ac_text = np.loadtxt(tmp_path / "ac.txt", skiprows=1)        # f, Re v(b), Im v(b), Re i(v1), Im i(v1)
    tran_text = np.loadtxt(tmp_path / "tran.txt", skiprows=1)    # t, v(b), i(v1)
    (ac,), (ac_ascii,), (tran,) = (read_raw(tmp_path / name) for name in
                                   ("ac_binary.raw", "ac_ascii.raw", "tran_binary.raw"))
    assert ac.names == ("frequency", "v(b)", "i(v1)") and tran.names == ("time", "v(b)", "i(v1)")
    np.testing.assert_array_equal(ac.get("frequency"), ac_text[:, 0])
    np.testing.assert_array_equal(ac.get("v(b)"), ac_text[:, 1] + 1j * ac_text[:, 2])
    np.testing.assert_array_equal(ac.get("i(v1)"), ac_text[:, 3] + 1j * ac_text[:, 4])
    for name in ac.names:                                         # ASCII raw: 16 significant digits
        assert_allclose(ac_ascii.get(name), ac.get(name), rtol=1e-15, atol=0)
    np.testing.assert_array_equal(tran.get("time"), tran_text[:, 0])
    np.testing.assert_array_equal(tran.get("v(b)"), tran_text[:, 1])
    np.testing.assert_array_equal(tran.get("i(v1)"), tran_text[:, 2])
    assert len(tran_text) > 5
    z = 3e3 / (1 + 2j * np.pi * ac_text[:, 0] * 3e3 * C_FARAD)   # and both match the circuit
    assert_allclose(ac.get("v(b)"), z / (R_OHM + z), rtol=1e-9)


def test_values_match_circuit_theory(raw_files):
    plots = {p.plot_name: p for p in read_raw(raw_files[0])}
    op = plots["Operating Point"]
    assert_allclose(op.get("v(b)"), [3e3 / 4e3], rtol=1e-12)
    dc = plots["DC transfer characteristic"]
    assert_allclose(dc.get("i(v1)"), -dc.get("v(v-sweep)") / 4e3, rtol=1e-12, atol=1e-18)
    ac = plots["AC Analysis"]
    f = ac.get("frequency")
    assert f.dtype == np.float64  # the scale is real even in a complex plot
    assert_allclose(f, np.logspace(1, 3, 5), rtol=1e-12)
    # R1 into (C1 || R2): H = Z / (R1 + Z) with Z = R2 / (1 + j w R2 C1)
    z = 3e3 / (1 + 2j * np.pi * f * 3e3 * C_FARAD)
    assert_allclose(ac.get("v(b)"), z / (R_OHM + z), rtol=1e-9)
    assert plots["Transient Analysis"].get("time")[-1] == pytest.approx(0.5e-3)


def test_truncated_binary_data_is_an_error(raw_files):
    data = raw_files[0].read_bytes()
    with pytest.raises(SimulationError, match="truncated.*need .* bytes of data"):
        parse_raw(data[:-8], source="cut.raw")
    with pytest.raises(SimulationError, match="truncated: header ends"):
        parse_raw(data[:40], source="cut.raw")


def test_truncated_ascii_data_is_an_error(raw_files):
    data = raw_files[1].read_bytes()
    with pytest.raises(SimulationError, match="truncated or garbled"):
        parse_raw(data[: data.rindex(b"\n", 0, len(data) - 2)], source="cut.raw")


def test_garbled_header_is_an_error(raw_files):
    data = raw_files[0].read_bytes()
    with pytest.raises(SimulationError, match="garbled.*No. Points"):
        parse_raw(data.replace(b"No. Points:", b"No. Pts:", 1))
    with pytest.raises(SimulationError, match="garbled: header announces 3 variables, lists 2"):
        parse_raw(_fake_plot(announced=3, listed=2))
    with pytest.raises(SimulationError, match="empty"):
        parse_raw(b"\n")


def _fake_plot(announced: int, listed: int) -> bytes:
    variables = "".join(f"\t{k}\tv(n{k})\tvoltage\n" for k in range(listed))
    return (f"Title: t\nPlotname: p\nFlags: real\nNo. Variables: {announced}\nNo. Points: 0\n"
            f"Variables:\n{variables}Binary:\n").encode()


def test_missing_file_is_an_error(tmp_path):
    with pytest.raises(SimulationError, match="cannot read ngspice raw file"):
        read_raw(tmp_path / "absent.raw")


def test_unknown_vector_lists_available_names(raw_files):
    dc = [p for p in read_raw(raw_files[0]) if p.plot_name.startswith("DC")][0]
    with pytest.raises(SimulationError, match=r"no vector 'v\(nope\)'.*available: v\(v-sweep\), v\(a\)"):
        dc.get("v(nope)")
