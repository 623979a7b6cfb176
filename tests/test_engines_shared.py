"""Shared-library engine: load a crossbar, run, load the next one.

Oracle: the crossbar's transfer v_out = R_f (G+ - G-) v_in computed with
NumPy from the same conductances, and the batch engine on the same netlist. Tests that leave libngspice
unusable (ngspice's
own ``quit``) or need a fresh process run in a subprocess.
"""

import subprocess
import sys
import textwrap

import numpy as np
import pytest
from numpy.testing import assert_allclose

from recirc_analog.engines import BatchEngine, ConvergenceLadder, FallbackStep, SharedEngine
from recirc_analog.errors import NetlistError, UsageError

R_FEEDBACK = 1e4


def crossbar(g_plus: np.ndarray, g_minus: np.ndarray, inputs: np.ndarray) -> str:
    """One differential crossbar layer with ideal TIAs; ``inputs`` (samples, n_in) in V.

    Resistor ``Rp_<j>_<i>`` / ``Rn_<j>_<i>`` has conductance g_plus[j, i] / g_minus[j, i] (S).
    """
    samples, n_in = inputs.shape
    lines = ["crossbar", "Vsel sel 0 0"]
    for i in range(n_in):
        table = ", ".join(f"{k},{float(inputs[k, i])!r}" for k in range(samples))
        lines.append(f"Bx{i} x{i} 0 V=pwl(v(sel), {table})")
    for j in range(g_plus.shape[0]):
        lines += [f"Vp{j} sp{j} 0 0", f"Vn{j} sn{j} 0 0",
                  f"Bo{j} o{j} 0 V={R_FEEDBACK!r}*(i(vp{j})-i(vn{j}))"]
        for i in range(n_in):
            lines.append(f"Rp_{j}_{i} x{i} sp{j} {float(1 / g_plus[j, i])!r}")
            lines.append(f"Rn_{j}_{i} x{i} sn{j} {float(1 / g_minus[j, i])!r}")
    lines += [f".dc Vsel 0 {samples - 1} 1", ".end"]
    return "\n".join(lines) + "\n"


def outputs(result, n_out: int) -> np.ndarray:
    """Output voltages, shape (samples, n_out)."""
    return np.stack([result.get(f"v(o{j})") for j in range(n_out)], axis=1)


@pytest.fixture(scope="module")
def shared():
    with SharedEngine() as engine:
        yield engine


@pytest.fixture
def layer():
    rng = np.random.default_rng(7)
    g_plus = rng.uniform(1e-6, 1e-4, size=(3, 4))
    g_minus = rng.uniform(1e-6, 1e-4, size=(3, 4))
    inputs = rng.uniform(-0.2, 0.2, size=(5, 4))
    return g_plus, g_minus, inputs


def test_each_netlist_is_loaded_and_matches_the_closed_form(shared, layer):
    g_plus, g_minus, inputs = layer
    before = outputs(shared.run(crossbar(g_plus, g_minus, inputs), label="before"), 3)
    assert_allclose(before, R_FEEDBACK * inputs @ (g_plus - g_minus).T, rtol=1e-9, atol=1e-15)
    g_plus[1, 2] = 1 / 2e4
    after = outputs(shared.run(crossbar(g_plus, g_minus, inputs), label="after"), 3)
    assert_allclose(after, R_FEEDBACK * inputs @ (g_plus - g_minus).T, rtol=1e-9, atol=1e-15)
    assert not np.allclose(before[:, 1], after[:, 1])
    assert_allclose(outputs(shared.run(label="rerun"), 3), after, rtol=1e-12)


def test_shared_run_equals_batch_run(shared, layer):
    g_plus, g_minus, inputs = layer
    netlist = crossbar(g_plus, g_minus, inputs)
    loaded = shared.run(netlist, label="shared")
    batch = BatchEngine().run(netlist, label="batch")
    assert loaded.names == batch.names
    assert (loaded.plot_name, loaded.title) == (batch.plot_name, batch.title)
    for name in loaded.names:
        assert_allclose(loaded.get(name), batch.get(name), rtol=1e-12, atol=1e-18)


def test_fallback_does_not_outlive_its_batch(shared, monkeypatch):
    monkeypatch.setattr(shared, "ladder", ConvergenceLadder(steps=(FallbackStep("shunt", "gshunt=1e-3"),)))
    netlist = "no solution\nI1 0 a dc 2\nB1 a 0 I=0.5*tanh(v(a))\n.op\n.end\n"
    result = shared.run(netlist, label="shunted")
    assert result.attempts == ("as written", "shunt") and not result.relaxed
    # 2 A = 0.5 tanh(v) + 1e-3 v with tanh saturated
    assert_allclose(result.get("v(a)"), [1.5e3], rtol=1e-9)
    assert shared.run(label="again").attempts == ("as written", "shunt")


def test_run_without_circuit_and_second_engine_are_usage_errors(shared):
    shared.reset()
    with pytest.raises(UsageError, match="no circuit loaded"):
        shared.run(label="x")
    with pytest.raises(UsageError, match="already open in this process"):
        SharedEngine()


def test_external_sources_are_refused_before_they_crash_ngspice(shared):
    with pytest.raises(NetlistError, match="'external'.*V1 a 0 dc 0 external"):
        shared.load("ext\nV1 a 0 dc 0 external\nR1 a 0 1k\n.op\n.end\n")


def test_analysis_time_is_per_run(shared, layer):
    shared.load(crossbar(*layer))
    first = shared.run(label="1").analysis_seconds
    second = shared.run(label="2").analysis_seconds
    assert first is not None and second is not None and 0 <= second < 1 and 0 <= first < 1


def run_isolated(code: str) -> str:
    """Run ``code`` in a fresh Python process (own libngspice); return its stdout."""
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_engines_can_follow_one_another_in_one_process():
    out = run_isolated("""
        from recirc_analog.engines import SharedEngine
        net = "d\\nV1 a 0 dc 1\\nR1 a b 1k\\nR2 b 0 {}\\n.op\\n.end\\n"
        for r in ("1k", "3k"):
            with SharedEngine() as engine:
                print(engine.run(net.format(r), label=r).get("v(b)")[0])
        dropped = SharedEngine()          # never closed: held weakly, so not a lock
        print(dropped.run(net.format("1k"), label="dropped").get("v(b)")[0])
        del dropped
        print(SharedEngine().run(net.format("9k"), label="after").get("v(b)")[0])
        """)
    assert [float(v) for v in out.split()] == pytest.approx([0.5, 0.75, 0.5, 0.9], rel=1e-12)


def test_ngspice_quit_detaches_library_without_killing_python():
    out = run_isolated("""
        from recirc_analog.errors import SimulationError
        from recirc_analog.engines import get_engine
        engine = get_engine("shared")
        for net in ("q\\nV1 a 0 1\\nR1 a 0 1k\\n.op\\n.control\\nrun\\nquit\\n.endc\\n.end\\n",
                    "d\\nV1 a 0 1\\nR1 a 0 1k\\n.op\\n.end\\n"):
            try:
                engine.run(net, label="q")
            except SimulationError as exc:
                print("SimulationError:", exc)
        engine.close()
        print("alive")
        """)
    lines = out.splitlines()
    assert len(lines) == 3 and lines[-1] == "alive"
    assert all("asked to exit" in line and "cannot be used again" in line for line in lines[:2])
