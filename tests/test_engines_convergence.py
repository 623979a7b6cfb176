"""Fallback options are inserted as text and really reach ngspice.

Oracle for "reaches ngspice": a resistor's linear temperature coefficient,
R(T) = R0 (1 + tc1 (T - 27 C)), with the temperature set by the inserted
``.options temp=...`` line overriding the netlist's own.
"""

import pytest
from numpy.testing import assert_allclose

from recirc_analog.engines import BatchEngine, ConvergenceLadder, FallbackStep, default_ladder
from recirc_analog.engines.convergence import insert_options
from recirc_analog.errors import ConfigError

TEMPERATURE_DIVIDER = """temperature divider
.options temp=27
V1 a 0 dc 1
R1 a b 1k tc1=0.01
R2 b 0 1k
.subckt unused p
R9 p 0 1k
.ends
.op
.end
"""


def test_options_go_before_the_final_end_card_only():
    text = insert_options(TEMPERATURE_DIVIDER, "temp=77")
    lines = text.splitlines()
    assert lines[-2:] == [".options temp=77", ".end"]
    assert lines.index(".ends") < lines.index(".options temp=77")
    assert insert_options("t\nR1 a 0 1\n.op", "gmin=1e-12").splitlines()[-1] == ".options gmin=1e-12"
    assert insert_options("t\n.op\n.END  \n", "reltol=1e-3").splitlines()[-2:] == [
        ".options reltol=1e-3", ".END  "]


def test_inserted_option_overrides_the_netlists_own():
    engine = BatchEngine(ladder=ConvergenceLadder())
    hot = engine.run(insert_options(TEMPERATURE_DIVIDER, "temp=77"), label="hot")
    r_hot = 1e3 * (1 + 0.01 * (77 - 27))
    assert_allclose(hot.get("v(b)"), [1e3 / (r_hot + 1e3)], rtol=1e-9)
    cold = engine.run(TEMPERATURE_DIVIDER, label="cold")
    assert_allclose(cold.get("v(b)"), [0.5], rtol=1e-9)


def test_default_ladder_order_and_step_validation():
    names = [step.name for step in default_ladder().steps]
    assert names == ["more iterations", "gmin stepping", "source stepping", "relaxed tolerances"]
    with pytest.raises(ConfigError, match="FallbackStep.options must be 'key=value' words"):
        FallbackStep("bad", "gmin=1\n.end")
    with pytest.raises(ConfigError, match="FallbackStep.name must be a non-empty string"):
        FallbackStep(" ", "gmin=1e-12")
    with pytest.raises(ConfigError, match="ConvergenceLadder.steps must hold FallbackStep"):
        ConvergenceLadder(steps=("gmin=1e-12",))
