"""Neither engine lets ngspice read a foreign ``.spiceinit`` (which may run ``shell`` commands).

A hostile ``.spiceinit`` in the working directory and another in ``$HOME``
each ``touch`` a marker file. Control: plain ``ngspice -b`` in that directory
does create the markers, so the files are live. Each engine then runs a
divider there, in a fresh Python process (libngspice initialises once per
process), and no marker may appear.
"""

import os
import subprocess
import sys
import textwrap

import pytest

from recirc_analog.engines import find_ngspice

DIVIDER = "divider\nV1 a 0 dc 1\nR1 a b 3k\nR2 b 0 1k\n.op\n.end\n"


@pytest.fixture
def hostile(tmp_path):
    """(working directory, environment, markers): .spiceinit files that touch a marker each."""
    work, home = tmp_path / "work", tmp_path / "home"
    work.mkdir()
    home.mkdir()
    markers = {"cwd": tmp_path / "marker_cwd", "home": tmp_path / "marker_home"}
    (work / ".spiceinit").write_text(f"shell touch {markers['cwd']}\n")
    (home / ".spiceinit").write_text(f"shell touch {markers['home']}\n")
    (work / "divider.cir").write_text(DIVIDER)
    env = {**os.environ, "HOME": str(home)}
    return work, env, markers


def test_plain_ngspice_runs_both_init_files(hostile):
    work, env, markers = hostile
    subprocess.run([find_ngspice(), "-b", "divider.cir"], cwd=work, env=env, capture_output=True,
                   stdin=subprocess.DEVNULL, check=False)
    assert markers["cwd"].exists()
    (work / ".spiceinit").unlink()
    subprocess.run([find_ngspice(), "-b", "divider.cir"], cwd=work, env=env, capture_output=True,
                   stdin=subprocess.DEVNULL, check=False)
    assert markers["home"].exists()


@pytest.mark.parametrize("kind", ["batch", "shared"])
def test_engines_read_no_foreign_init_file(kind, hostile):
    work, env, markers = hostile
    script = textwrap.dedent(f"""
        import os
        from recirc_analog.engines import get_engine
        with get_engine({kind!r}) as engine:
            result = engine.run({DIVIDER!r}, label="divider")
        assert abs(result.get("v(b)")[0] - 0.25) < 1e-12, result.get("v(b)")
        assert os.getcwd() == {str(work)!r} and os.environ["HOME"] == {env["HOME"]!r}
        print("ok")
    """)
    done = subprocess.run([sys.executable, "-c", script], cwd=work, env=env, capture_output=True, text=True,
                          timeout=120, check=False)
    assert done.returncode == 0 and done.stdout.strip().endswith("ok"), done.stderr
    assert not markers["cwd"].exists() and not markers["home"].exists()
