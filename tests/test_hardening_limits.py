"""Issue 9 (hardening): counts and sizes have documented upper bounds, checked before anything is
allocated; every refusal is one line naming the parameter, the range and the value."""

import pytest

from recirc_analog.cli import main
from recirc_analog.errors import ConfigError
from recirc_analog.reference.recirculation import MAX_REFERENCE_CYCLES, Recirculation
from recirc_analog.schematic.spec import MAX_CIRCUIT_CYCLES, CircuitSpec


def _one_line_error(capsys) -> str:
    captured = capsys.readouterr()
    assert captured.err.count("\n") == 1, captured.err
    return captured.err


# --- item 3: cycles --------------------------------------------------------------------------

def test_circuit_cycles_are_bounded_by_the_spec():
    CircuitSpec(recirculation=Recirculation("pr", cycles=(0, MAX_CIRCUIT_CYCLES)))
    with pytest.raises(ConfigError, match=rf"cycles m must be in \[1, {MAX_CIRCUIT_CYCLES}\].*, got 17$"):
        CircuitSpec(recirculation=Recirculation("pr", cycles=(3, 17)))


@pytest.mark.parametrize("command, value, limit", [
    (["train", "--epochs", "1"], "10000000", MAX_REFERENCE_CYCLES),
    (["netlist", "-o", "never.cir"], "100000", MAX_CIRCUIT_CYCLES),
    (["cosim"], "100000", MAX_CIRCUIT_CYCLES),
])
def test_cli_refuses_huge_cycles_at_once(tmp_path, capsys, monkeypatch, command, value, limit):
    monkeypatch.chdir(tmp_path)
    assert main(command + ["--cycles", value]) == 2
    err = _one_line_error(capsys)
    assert "cycles" in err and f"{limit}" in err and value in err
    assert not (tmp_path / "never.cir").exists()
