"""A result from the "relaxed tolerances" rung is marked, refused by the co-simulation by
default, accepted with --accept-relaxed, and flagged in metrics.csv.

The ladder is forced: a wrapper around the batch engine's single attempt reports a
convergence failure for every text without the relaxed rung's ``reltol=1e-3``, so the
result really is ngspice's run with the relaxed options. Oracles: a resistor divider
(closed form) and the co-simulation's own metrics file.
"""

import csv

import pytest
from numpy.testing import assert_allclose

from recirc_analog.cli import main
from recirc_analog.cosim.lockstep import CosimConfig
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines import BatchEngine, ConvergenceLadder, FallbackStep, default_ladder
from recirc_analog.engines.console import Failure
from recirc_analog.errors import SimulationError
from recirc_analog.jobs import cosim as cosim_job
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.spec import CircuitSpec

DIVIDER = "divider\nV1 a 0 dc 1\nR1 a b 3k\nR2 b 0 1k\n.op\n.end\n"
RELAXED_MARK = "reltol=1e-3"


def forced_to_last_rung(engine: BatchEngine, monkeypatch) -> list[str]:
    """Make every attempt without the relaxed rung's options fail to converge; returns the texts tried."""
    real, tried = engine._attempt, []

    def attempt(text, label):
        tried.append(text)
        if RELAXED_MARK not in text:
            return Failure("convergence", "no convergence (forced by the test)", "no convergence")
        return real(text, label)

    monkeypatch.setattr(engine, "_attempt", attempt)
    return tried


def test_only_tolerance_steps_relax():
    flags = {step.name: step.relaxes_tolerances for step in default_ladder().steps}
    assert flags == {"more iterations": False, "gmin stepping": False, "source stepping": False,
                     "relaxed tolerances": True}
    assert FallbackStep("loose v", "VNTOL=1e-3").relaxes_tolerances
    assert not FallbackStep("shunt", "gshunt=1e-9").relaxes_tolerances


def test_result_of_the_last_rung_is_marked_relaxed(monkeypatch):
    engine = BatchEngine()
    tried = forced_to_last_rung(engine, monkeypatch)
    result = engine.run(DIVIDER, label="forced")
    assert result.relaxed
    assert result.attempts == ("as written", "more iterations", "gmin stepping", "source stepping",
                               "relaxed tolerances")
    assert len(tried) == 5 and RELAXED_MARK in tried[-1]
    assert_allclose(result.get("v(b)"), [0.25], rtol=1e-9)
    assert not BatchEngine().run(DIVIDER, label="as written").relaxed


def test_a_rung_that_keeps_tolerances_is_not_relaxed(monkeypatch):
    engine = BatchEngine(ladder=ConvergenceLadder(steps=(FallbackStep("iterations", "itl1=500 gmin=1e-12"),)))
    real = engine._attempt
    monkeypatch.setattr(engine, "_attempt", lambda text, label: (
        real(text, label) if "itl1=500" in text else Failure("convergence", "forced", "forced")))
    result = engine.run(DIVIDER, label="iterations")
    assert result.attempts == ("as written", "iterations") and not result.relaxed


SMALL = CosimConfig(sizes=(16, 6, 16), activations=("tanh", "linear"), batches=2, batch_size=8, lr=0.002,
                    seed=4, checkpoint_every=1, test_samples=8)
SPEC = CircuitSpec(recirculation=Recirculation("pr"))


@pytest.fixture
def forced_engine(monkeypatch):
    engine = BatchEngine()
    forced_to_last_rung(engine, monkeypatch)
    monkeypatch.setattr(cosim_job, "get_engine", lambda kind, **options: engine)
    return engine


def relaxed_column(out) -> list[str]:
    with open(out / "metrics.csv") as handle:
        return [row["relaxed_tolerance"] for row in csv.DictReader(handle)]


def test_cosim_refuses_a_relaxed_batch_by_default(forced_engine, tmp_path):
    with pytest.raises(SimulationError) as caught:
        cosim_job.run_cosim(SMALL, SPEC, DeviceConfig(), tmp_path / "run", show_progress=False)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("batch 'batch 1': ngspice converged only with 'relaxed tolerances'")
    assert "--accept-relaxed" in message


def test_accepted_relaxed_batches_are_flagged_in_the_metrics(forced_engine, tmp_path):
    cosim_job.run_cosim(SMALL, SPEC, DeviceConfig(), tmp_path / "run", show_progress=False, accept_relaxed=True)
    assert relaxed_column(tmp_path / "run") == ["1", "1"]


def test_cli_accept_relaxed_reaches_the_run(forced_engine, tmp_path, capsys):
    argv = ["cosim", "--sizes", "16,6,16", "--batches", "1", "--batch-size", "8", "--test-samples", "4",
            "--quiet", "--out"]
    assert main(argv + [str(tmp_path / "refused")]) != 0
    assert "--accept-relaxed" in capsys.readouterr().err
    assert main(argv + [str(tmp_path / "accepted"), "--accept-relaxed"]) == 0
    assert relaxed_column(tmp_path / "accepted") == ["1"]


def test_a_normal_run_is_flagged_zero(tmp_path):
    cosim_job.run_cosim(SMALL, SPEC, DeviceConfig(), tmp_path / "run", show_progress=False)
    assert relaxed_column(tmp_path / "run") == ["0", "0"]
