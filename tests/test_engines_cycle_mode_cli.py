"""``--cycle-mode`` on the command line reaches the ngspice engines (engines.circuit_run.CYCLE_MODES).

Oracles: the engine objects the run creates (spied on in ``jobs.cosim``), the stage plans those
engines make of the run's circuits, and argparse's choices, which come from CYCLE_MODES.
"""

import pytest

import recirc_analog.engines.circuit_run as circuit_run
import recirc_analog.jobs.cosim as cosim_job
from recirc_analog.cli import main
from recirc_analog.cosim.lockstep import CosimConfig
from recirc_analog.devices import DeviceConfig
from recirc_analog.errors import ConfigError
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.spec import CircuitSpec

ARGV = ["cosim", "--sizes", "12,5,12", "--act", "tanh,linear", "--batches", "1", "--batch-size", "4",
        "--test-samples", "4", "--quiet"]


@pytest.fixture
def spied(monkeypatch):
    """Every engine the cosim job creates, and the cycle mode of every stage plan made while it ran."""
    engines, modes = [], []
    real_get_engine, real_stage_plans = cosim_job.get_engine, circuit_run.stage_plans

    def get_engine(kind, **options):
        engine = real_get_engine(kind, **options)
        engines.append((kind, engine))
        return engine

    def stage_plans(cycle_mode, circuits):
        modes.append(cycle_mode)
        return real_stage_plans(cycle_mode, circuits)

    monkeypatch.setattr(cosim_job, "get_engine", get_engine)
    monkeypatch.setattr(circuit_run, "stage_plans", stage_plans)
    return engines, modes


@pytest.mark.parametrize("engine, mode", [("batch", "per-cycle"), ("shared", "per-layer"), ("batch", "unrolled")])
def test_cycle_mode_reaches_the_ngspice_engine(engine, mode, spied, tmp_path):
    engines, modes = spied
    assert main(ARGV + ["--engine", engine, "--cycle-mode", mode, "--out", str(tmp_path / "run")]) == 0
    assert [(kind, e.cycle_mode) for kind, e in engines] == [(engine, mode)]
    assert modes and set(modes) == {mode}


def test_cycle_mode_reaches_the_direct_engines_audit(spied, tmp_path):
    engines, modes = spied
    argv = ARGV + ["--engine", "direct", "--audit-every", "1", "--cycle-mode", "per-cycle", "--out", str(tmp_path)]
    assert main(argv) == 0
    audits = [e for kind, e in engines if kind == "batch"]
    assert len(audits) == 1 and audits[0].cycle_mode == "per-cycle" and set(modes) == {"per-cycle"}


def test_default_is_auto(spied, tmp_path):
    engines, _ = spied
    assert main(ARGV + ["--out", str(tmp_path)]) == 0
    assert [e.cycle_mode for _, e in engines] == ["auto"]


@pytest.mark.parametrize("command", [["cosim", "--out", "unused"], ["demo"]])
def test_bad_cycle_mode_is_one_line_naming_the_choices(command, capsys):
    assert main(command + ["--cycle-mode", "fast"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1
    assert "--cycle-mode: invalid choice: 'fast'" in err
    assert all(repr(mode) in err for mode in circuit_run.CYCLE_MODES)


def test_run_cosim_refuses_a_bad_cycle_mode_before_running(tmp_path):
    config = CosimConfig(sizes=(12, 5, 12), activations=("tanh", "linear"), batches=1, batch_size=4, test_samples=4)
    with pytest.raises(ConfigError, match=r"cycle_mode must be one of \('auto', 'per-layer', 'per-cycle', "
                                          r"'unrolled'\), got 'fast'"):
        cosim_job.run_cosim(config, CircuitSpec(recirculation=Recirculation("pr")), DeviceConfig(), tmp_path / "x",
                            show_progress=False, cycle_mode="fast")
    assert not (tmp_path / "x").exists()
