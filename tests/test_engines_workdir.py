"""ngspice runs in a private folder: the files it writes unasked (``bsim4v5.out`` of the sky130
FETs) never land in the user's directory, and relative includes still resolve there."""

import os
import subprocess
import sys
import textwrap

import pytest

from recirc_analog.engines import find_ngspice
from recirc_analog.engines.batch import BatchEngine
from recirc_analog.engines.workdir import absolute_includes, working_directory
from recirc_analog.errors import ConfigError
from recirc_analog.pdk.models import corner_section


@pytest.fixture
def pfet_netlist():
    """A sky130 pfet (w = 2, l = 0.15 um, the sample-and-hold's switch) at ff: its BSIM4 4.5 model
    check writes ``bsim4v5.out`` into ngspice's working directory (measured on ngspice 39)."""
    return "\n".join(["* sky130 pfet at ff", *corner_section("ff"), "V1 d 0 -1.8", "V2 g 0 -1.8",
                      "X1 d g 0 0 sky130_fd_pr__pfet_01v8 w=2 l=0.15", ".op", ".end"]) + "\n"


def test_plain_ngspice_writes_bsim4v5_out_in_its_directory(pfet_netlist, tmp_path):
    """Control: the file is real, so the engine tests below can fail."""
    (tmp_path / "p.cir").write_text(pfet_netlist)
    subprocess.run([find_ngspice(), "-b", "-n", "p.cir"], cwd=tmp_path, capture_output=True,
                   stdin=subprocess.DEVNULL, timeout=120, check=False)
    assert (tmp_path / "bsim4v5.out").exists()


def test_batch_engine_leaves_no_file_in_the_current_directory(pfet_netlist, tmp_path, monkeypatch):
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    result = BatchEngine().run(pfet_netlist, label="pfet")
    assert result.get("i(v1)")[0] > 0            # the pfet conducts: i(v1) flows into d from ground
    assert sorted(os.listdir(work)) == []
    result = BatchEngine(workdir=str(work)).run(pfet_netlist, label="pfet")
    assert sorted(os.listdir(work)) == []


def test_shared_engine_leaves_no_file_in_the_current_directory(pfet_netlist, tmp_path):
    """In a fresh process (libngspice loads once per process)."""
    work = tmp_path / "work"
    work.mkdir()
    script = textwrap.dedent(f"""
        import os
        from recirc_analog.engines import get_engine
        with get_engine("shared") as engine:
            result = engine.run({pfet_netlist!r}, label="pfet")
            assert result.get("i(v1)")[0] > 0, result.get("i(v1)")
            assert os.getcwd() == {str(work)!r}
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=work, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.stdout.strip().endswith("ok"), done.stderr[-500:]
    assert sorted(os.listdir(work)) == []


def test_relative_includes_become_absolute_against_the_base():
    text = ('t\n.include cells/half.lib\n.INC "a b.lib"\n  .lib "models.lib" tt\n.lib tt\n'
            ".include /abs/x.lib\n.lib ~/m.lib ff\nR1 a b 1k\n.endl tt\n")
    assert absolute_includes(text, "/base dir").splitlines() == [
        "t", '.include "/base dir/cells/half.lib"', '.INC "/base dir/a b.lib"', '  .lib "/base dir/models.lib" tt',
        ".lib tt", ".include /abs/x.lib", ".lib ~/m.lib ff", "R1 a b 1k", ".endl tt"]
    plain = "t\nR1 a b 1k\n.op\n.end\n"
    assert absolute_includes(plain, "/x") is plain
    with pytest.raises(ConfigError, match="double quote or control character"):
        absolute_includes(".include x.lib\n", '/bad"dir')


def test_shared_engine_resolves_relative_includes_in_the_callers_directory(tmp_path):
    (tmp_path / "half.lib").write_text(".subckt half a b\nR1 a b 1k\nR2 b 0 1k\n.ends\n")
    netlist = "include\n.include half.lib\nV1 a 0 dc 2\nX1 a b half\n.op\n.end\n"
    script = textwrap.dedent(f"""
        from recirc_analog.engines import get_engine
        with get_engine("shared") as engine:
            print(engine.run({netlist!r}, label="include").get("v(b)")[0])
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=120,
                          check=False)
    assert float(done.stdout.strip().splitlines()[-1]) == pytest.approx(1.0, rel=1e-12), done.stderr[-300:]


def test_working_directory_comes_back_after_an_error(tmp_path):
    before = os.getcwd()
    with pytest.raises(RuntimeError), working_directory(tmp_path):
        assert os.getcwd() == str(tmp_path)
        raise RuntimeError("inside")
    assert os.getcwd() == before
