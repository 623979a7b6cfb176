"""The netlist sub-command module, driven through argparse as the CLI will drive it."""

import argparse

import numpy as np
import pytest

from recirc_analog.cli_args import ArgumentParser
from recirc_analog.commands import netlist as command
from recirc_analog.engines.readout import read_activity, read_held
from recirc_analog.errors import ConfigError, OutputError, UsageError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation, run_cycles
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.spec import CircuitSpec


def parse(argv) -> argparse.Namespace:
    parser = ArgumentParser(prog="recirc-analog")
    command.add_parser(parser.add_subparsers(dest="command", parser_class=ArgumentParser))
    return parser.parse_args(["netlist"] + argv)


def test_command_writes_a_netlist_that_ngspice_runs(tmp_path, ngspice):
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "linear"), seed=4)
    net.save(tmp_path / "w.npz")
    x = np.random.default_rng(0).uniform(0, 1, size=(2, 6))
    np.save(tmp_path / "x.npy", x)
    out = tmp_path / "n.cir"
    args = parse(["--weights", str(tmp_path / "w.npz"), "--inputs", str(tmp_path / "x.npy"), "--mode", "rcc",
                  "--lam", "0.25", "--form", "tran", "-o", str(out)])
    assert args.handler(args) == 0
    vectors = ngspice.run_file(out)
    recirculation = Recirculation("rcc", 0.25)
    node_map = build_circuit(net, CircuitSpec(recirculation=recirculation, form="tran"), x).node_map
    expected = run_cycles(net, x, recirculation)
    # default sample-and-hold: relative tracking error r_on C / phase = 1e-4
    np.testing.assert_allclose(read_activity(vectors, node_map, 2, 1), expected[1][2], atol=1e-3)
    np.testing.assert_allclose(read_held(vectors, node_map, 1), expected[0][1], atol=1e-3)


def test_command_rejects_bad_mode():
    with pytest.raises(UsageError, match="--mode"):
        parse(["--mode", "xyz", "-o", "x.cir"])


def test_a_failed_write_leaves_the_previous_netlist_whole(tmp_path, monkeypatch):
    """-o replaces the file only once the new netlist is complete (atomic write)."""
    from recirc_analog.netlist_writers.writer import SpiceWriter

    out = tmp_path / "n.cir"
    out.write_text("previous netlist\n")

    def fail_half_way(self, circuit, handle):
        handle.write("* half a netlist\n")
        raise OSError("disk full")

    monkeypatch.setattr(SpiceWriter, "write_circuit", fail_half_way)
    args = parse(["--sizes", "4,2,4", "-o", str(out)])
    with pytest.raises(OutputError, match="disk full"):
        args.handler(args)
    assert out.read_text() == "previous netlist\n"
    assert [p.name for p in tmp_path.iterdir()] == ["n.cir"]


@pytest.mark.parametrize("extra, fragment", [
    (["--sizes", "8,4,8"], "--sizes 8,4,8 contradicts --weights"),
    (["--act", "tanh,linear"], "--act tanh,linear contradicts --weights"),
])
def test_options_that_contradict_the_weights_are_refused(extra, fragment, tmp_path):
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "tanh"), seed=1)
    net.save(tmp_path / "w.npz")
    with pytest.raises(UsageError, match=fragment):
        command.run(parse(["--weights", str(tmp_path / "w.npz"), "-o", str(tmp_path / "x.cir"), *extra]))
    assert not (tmp_path / "x.cir").exists()
    # The same values as the weights are no contradiction.
    command.run(parse(["--weights", str(tmp_path / "w.npz"), "--sizes", "6,3,6", "--act", "tanh",
                       "-o", str(tmp_path / "x.cir")]))
    assert (tmp_path / "x.cir").exists()


def test_weights_no_circuit_can_represent_are_refused_naming_the_layer(tmp_path):
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "tanh"), seed=1)
    net.weights[1] = net.weights[1] * 1e300
    net.save(tmp_path / "w.npz")
    with pytest.raises(ConfigError, match=r"^layer 2: largest \|w\| = .* \(\|w\| <= 1e\+06"):
        command.run(parse(["--weights", str(tmp_path / "w.npz"), "-o", str(tmp_path / "x.cir")]))
    assert not (tmp_path / "x.cir").exists()
