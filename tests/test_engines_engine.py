"""Both ngspice engines against analytic circuits, and their error handling.

Every test runs on the real ngspice, once per engine ("batch", "shared").
Oracles: Ohm's law, the RC step response, the pwl table written into the
netlist, and scipy's root finder for a nonlinear node equation.
"""

import logging
import math

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.engines import (
    ConvergenceLadder,
    Engine,
    FallbackStep,
    find_libngspice,
    find_ngspice,
    get_engine,
    ngspice_version,
)
from recirc_analog.engines.locate import parse_version
from recirc_analog.errors import ConfigError, SetupError, SimulationError

DIVIDER_DC = """divider dc sweep
V1 a 0 dc 0
R1 a b 1k
R2 b 0 3k
.dc V1 0 2 0.5
.end
"""

DIVIDER_OP = DIVIDER_DC.replace(".dc V1 0 2 0.5", ".op").replace("dc 0", "dc 1.6")

R_OHM, C_FARAD, V_STEP = 1e3, 1e-9, 1.0
RC_STEP = f"""rc step response
V1 a 0 dc {V_STEP}
R1 a b {R_OHM}
C1 b 0 {C_FARAD} ic=0
.tran 2n 5u 0 2n uic
.end
"""

TABLE = [0.3, -0.7, 1.1, 0.25, 0.0]
PWL_SELECTOR = "pwl selector\nVsel sel 0 0\nB1 x 0 V=pwl(v(sel), {})\nR1 x 0 1k\n.dc Vsel 0 {} 1\n.end\n".format(
    ", ".join(f"{k},{v}" for k, v in enumerate(TABLE)), len(TABLE) - 1)

SYNTAX_ERROR = DIVIDER_DC.replace("R2 b 0 3k", "R2 b 0 xyz")
UNKNOWN_MODEL = DIVIDER_DC.replace("R2 b 0 3k", "D1 b 0 nosuchmodel")
NO_ANALYSIS = DIVIDER_DC.replace(".dc V1 0 2 0.5\n", "")

# 1 A into a node whose only load draws at most 0.5 A: no DC solution exists.
NO_SOLUTION_OP = "no solution\nI1 0 a dc 1\nB1 a 0 I=0.5*tanh(v(a))\n.op\n.end\n"
# The same without a solution once the ramp passes 0.5 A: "Timestep too small".
NO_SOLUTION_TRAN = "no solution tran\nI1 0 a pwl(0 0 1u 1)\nB1 a 0 I=0.5*tanh(v(a))\n.tran 10n 1u\n.end\n"


@pytest.fixture(scope="module", params=["batch", "shared"])
def engine(request):
    with get_engine(request.param) as created:
        yield created


def test_engines_satisfy_the_protocol_and_report_the_executables_version(engine):
    assert isinstance(engine, Engine)
    assert engine.version == ngspice_version()
    assert int(engine.version.split(".")[0]) >= 39          # the version docs/ARCHITECTURE.md §5 was measured on


def test_divider_dc_sweep_follows_ohms_law(engine):
    result = engine.run(DIVIDER_DC, label="divider")
    v_in = result.get("v(v-sweep)")
    assert_allclose(v_in, [0, 0.5, 1, 1.5, 2], atol=1e-15)
    assert_allclose(result.get("v(b)"), v_in * 3e3 / 4e3, rtol=1e-12, atol=1e-15)
    # ngspice's source current flows into the + terminal: -V / (R1 + R2).
    assert_allclose(result.get("i(v1)"), -v_in / 4e3, rtol=1e-12, atol=1e-18)
    assert result.plot_name == "DC transfer characteristic"
    assert result.attempts == ("as written",)
    assert result.label == "divider"


def test_divider_operating_point(engine):
    result = engine.run(DIVIDER_OP, label="op")
    assert result.num_points == 1
    assert_allclose(result.get("V(B)"), [1.6 * 0.75], rtol=1e-12)


def test_rc_step_response_matches_exponential(engine):
    result = engine.run(RC_STEP, label="rc")
    t = result.get("time")
    expected = V_STEP * (1 - np.exp(-t / (R_OHM * C_FARAD)))
    # 2 ns steps on a 1 us time constant: trapezoidal error ~ (dt/tau)^2 / 12 ~ 3e-7
    assert t[-1] == pytest.approx(5e-6)
    assert_allclose(result.get("v(b)"), expected, atol=1e-6)


def test_dc_sweep_over_selector_returns_pwl_table(engine):
    result = engine.run(PWL_SELECTOR, label="table")
    assert_allclose(result.get("v(x)"), TABLE, rtol=1e-12, atol=1e-15)


def test_syntax_error_quotes_offending_line(engine):
    with pytest.raises(SimulationError) as info:
        engine.run(SYNTAX_ERROR, label="batch 7")
    message = str(info.value)
    assert "'batch 7'" in message
    assert "r2 b 0 xyz" in message and "line 4" in message


def test_unknown_model_is_quoted(engine):
    with pytest.raises(SimulationError, match="nosuchmodel.*could not find a valid modelname"):
        engine.run(UNKNOWN_MODEL, label="model")


def test_netlist_without_analysis_is_an_error(engine):
    with pytest.raises(SimulationError, match="'no analysis'"):
        engine.run(NO_ANALYSIS, label="no analysis")


def test_nonconvergence_climbs_whole_ladder_then_names_batch(engine, caplog):
    caplog.set_level(logging.WARNING, logger="recirc_analog.engines")
    with pytest.raises(SimulationError) as info:
        engine.run(NO_SOLUTION_TRAN, label="epoch 2 batch 5")
    message = str(info.value)
    assert message.startswith("batch 'epoch 2 batch 5': ngspice did not converge after 5 attempt(s)")
    assert "as written, more iterations, gmin stepping, source stepping, relaxed tolerances" in message
    assert "Timestep too small" in message
    retries = [r.getMessage() for r in caplog.records if "retrying with" in r.getMessage()]
    assert len(retries) == 4 and "relaxed tolerances" in retries[-1]


def test_operating_point_found_only_by_optran_is_not_accepted(engine):
    # ngspice 39 "finishes successfully" here with v(a) = 5e11 V via its transient-op fallback.
    with pytest.raises(SimulationError, match="source stepping failed"):
        engine.run(NO_SOLUTION_OP, label="op")


def test_fallback_step_that_helps_is_recorded_and_its_result_is_right(engine, monkeypatch):
    shunt = 1e-3
    ladder = ConvergenceLadder(steps=(FallbackStep("shunt to ground", f"gshunt={shunt:g}"),))
    monkeypatch.setattr(engine, "ladder", ladder)
    result = engine.run(NO_SOLUTION_OP, label="shunted")
    assert result.attempts == ("as written", "shunt to ground")
    # KCL with the shunt: 1 = 0.5 tanh(v) + shunt v; tanh saturates, so v = 0.5 / shunt.
    assert_allclose(result.get("v(a)"), [0.5 / shunt], rtol=1e-9)


def test_get_engine_rejects_unknown_kind():
    with pytest.raises(ConfigError, match=r"engine must be one of \('batch', 'shared', 'direct'\), got 'xyce'"):
        get_engine("xyce")


def test_missing_ngspice_is_a_setup_error(tmp_path, monkeypatch):
    with pytest.raises(SetupError, match="ngspice not found.*apt-get install ngspice"):
        find_ngspice(str(tmp_path / "no-such-ngspice"))
    with pytest.raises(SetupError, match="ngspice not found"):
        get_engine("batch", executable=str(tmp_path / "no-such-ngspice"))
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(SetupError, match="make setup"):
        find_ngspice()


def test_missing_shared_library_is_a_setup_error(tmp_path):
    with pytest.raises(SetupError, match="libngspice .*not found.*libngspice0-dev"):
        find_libngspice(str(tmp_path / "libnothing.so"))


def test_version_parser_reads_banner_and_rejects_other_programs():
    assert parse_version("******\n** ngspice-39 : Circuit level simulation program\n") == "39"
    assert parse_version("** ngspice-42.1 shared library") == "42.1"
    with pytest.raises(SetupError, match="does not look like ngspice"):
        parse_version("GNU bash, version 5.2", source="/bin/bash")
    assert math.isfinite(float(ngspice_version()))
