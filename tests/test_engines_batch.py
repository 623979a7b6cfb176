"""Batch engine specifics: crash isolation, timeouts, parallel runs, options.

ngspice itself does not crash or hang on demand, so those two tests use a
stand-in executable that answers ``-v`` like ngspice and then crashes or
sleeps; everything else runs the real ngspice.
"""

import os
import stat
import time

import pytest
from numpy.testing import assert_allclose

from recirc_analog.engines import BatchEngine
from recirc_analog.errors import ConfigError, SimulationError


def divider(r_top: float, r_bottom: float, v_in: float = 1.0) -> str:
    return f"divider\nV1 a 0 dc {v_in}\nR1 a b {r_top}\nR2 b 0 {r_bottom}\n.op\n.end\n"


def fake_ngspice(folder, body: str) -> str:
    """An executable that prints an ngspice banner for -v and otherwise runs ``body``."""
    path = folder / "fake-ngspice"
    path.write_text('#!/bin/sh\nif [ "$1" = "-v" ]; then echo "** ngspice-39 : fake"; exit 0; fi\n'
                    + body + "\n")
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.fixture(scope="module")
def engine():
    return BatchEngine()


def test_crash_becomes_simulation_error_naming_batch_and_signal(tmp_path):
    exe = fake_ngspice(tmp_path, 'echo "Error: fake trouble before dying" >&2\nkill -SEGV $$')
    with pytest.raises(SimulationError) as info:
        BatchEngine(executable=exe).run(divider(1e3, 1e3), label="batch 3")
    message = str(info.value)
    assert message.startswith("batch 'batch 3': ngspice crashed (SIGSEGV)")
    assert "Error: fake trouble before dying" in message


def test_hung_ngspice_is_killed_after_timeout(tmp_path):
    exe = fake_ngspice(tmp_path, "exec sleep 30")
    start = time.perf_counter()
    with pytest.raises(SimulationError, match="'slow': ngspice did not finish within 0.3 s"):
        BatchEngine(executable=exe, timeout=0.3).run(divider(1e3, 1e3), label="slow")
    assert time.perf_counter() - start < 10


def test_nonzero_exit_without_message_is_an_error(tmp_path):
    exe = fake_ngspice(tmp_path, "exit 3")
    with pytest.raises(SimulationError, match="exited with status 3"):
        BatchEngine(executable=exe).run(divider(1e3, 1e3), label="x")


def test_run_many_keeps_input_order(engine):
    ratios = [(1e3, 1e3), (1e3, 3e3), (3e3, 1e3), (2e3, 2e3), (1e3, 9e3)]
    netlists = [divider(top, bottom) for top, bottom in ratios]
    results = engine.run_many(netlists, labels=[f"r{k}" for k in range(5)], workers=2)
    assert [r.label for r in results] == [f"r{k}" for k in range(5)]
    for (top, bottom), result in zip(ratios, results):
        assert_allclose(result.get("v(b)"), [bottom / (top + bottom)], rtol=1e-12)


def test_run_many_raises_for_failing_batch(engine):
    netlists = [divider(1e3, 1e3), divider(1e3, 1e3).replace("R2 b 0", "R2 b 0 xyz")]
    with pytest.raises(SimulationError, match="'netlist 1'.*r2 b 0 xyz"):
        engine.run_many(netlists)


def test_run_many_validates_arguments(engine):
    with pytest.raises(ConfigError, match="labels must have one entry per netlist"):
        engine.run_many([divider(1, 1)], labels=["a", "b"])
    with pytest.raises(ConfigError, match="workers must be an integer >= 1, got 0"):
        engine.run_many([divider(1, 1)], workers=0)
    assert engine.run_many([]) == []


def test_ascii_raw_format_gives_the_same_result(engine):
    netlist = "sweep\nV1 a 0 dc 0\nR1 a b 1k\nR2 b 0 3k\n.dc V1 0 1 0.1\n.end\n"
    binary = engine.run(netlist, label="binary")
    ascii_ = BatchEngine(raw_format="ascii").run(netlist, label="ascii")
    assert binary.names == ascii_.names
    for name in binary.names:
        assert_allclose(binary.get(name), ascii_.get(name), rtol=1e-15, atol=1e-300)


def test_relative_include_resolves_in_workdir(tmp_path):
    (tmp_path / "cells").mkdir()
    (tmp_path / "cells" / "half.lib").write_text(".subckt half a b\nR1 a b 1k\nR2 b 0 1k\n.ends\n")
    netlist = "include\n.include cells/half.lib\nV1 a 0 dc 2\nX1 a b half\n.op\n.end\n"
    result = BatchEngine(workdir=str(tmp_path)).run(netlist, label="include")
    assert_allclose(result.get("v(b)"), [1.0], rtol=1e-12)
    with pytest.raises(SimulationError, match="Could not find include file"):
        BatchEngine(workdir=os.path.dirname(str(tmp_path))).run(netlist, label="include")


def test_analysis_time_is_reported(engine):
    result = engine.run(divider(1e3, 1e3), label="t")
    assert result.analysis_seconds is not None and 0 <= result.analysis_seconds < 1


def test_constructor_validates_parameters():
    with pytest.raises(ConfigError, match=r"timeout must be in \(0, inf\), got 0"):
        BatchEngine(timeout=0)
    with pytest.raises(ConfigError, match="raw_format must be one of .*got 'hdf5'"):
        BatchEngine(raw_format="hdf5")
    with pytest.raises(ConfigError, match="workdir must be an existing directory, got '/no/such/dir'"):
        BatchEngine(workdir="/no/such/dir")
