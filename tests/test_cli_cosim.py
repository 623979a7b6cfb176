"""``recirc-analog cosim`` from the command line: its files agree with each other and with the reference."""

import csv
import dataclasses
import json

import numpy as np
import pytest

from recirc_analog.cli import build_parser, main
from recirc_analog.commands.cosim import build_configs
from recirc_analog.data import load_dataset
from recirc_analog.devices import DeviceConfig
from recirc_analog.jobs import CosimConfig, from_record
from recirc_analog.reference import CircularAutoencoder, Recirculation, loss_for
from recirc_analog.schematic import CircuitSpec, CrossbarConfig, NeuronConfig

ARGV = ["cosim", "--sizes", "12,4,12", "--act", "tanh,linear", "--mode", "rcc", "--lam", "0.3", "--batches", "3",
        "--batch-size", "6", "--lr", "0.004", "--seed", "2", "--test-samples", "5", "--mapping", "shared_reference",
        "--g-min", "2e-6", "--g-max", "5e-5", "--levels", "64", "--headroom", "3", "--checkpoint-every", "2"]


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    out = tmp_path_factory.mktemp("cosim") / "run"
    assert main([*ARGV, "--out", str(out), "--quiet"]) == 0
    return out, json.loads((out / "summary.json").read_text())


def test_summary_parses_back_into_the_configuration(run):
    out, summary = run
    config = from_record(CosimConfig, summary["config"])
    device = from_record(DeviceConfig, summary["device"])
    spec = from_record(CircuitSpec, summary["spec"])
    assert config == CosimConfig(sizes=(12, 4, 12), activations=("tanh", "linear"), batches=3, batch_size=6,
                                 lr=0.004, seed=2, test_samples=5, headroom=3.0, checkpoint_every=2)
    assert device.levels == 64 and device.write_noise == 0.0
    # the spec as simulated: the command line's, with the run's headroom and the r_f it chose
    given = CircuitSpec(recirculation=Recirculation("rcc", 0.3),
                        crossbar=CrossbarConfig(g_min=2e-6, g_max=5e-5, mapping="shared_reference"),
                        neuron=NeuronConfig(kind="ideal"))
    crossbar = dataclasses.replace(given.crossbar, headroom=3.0, r_f=summary["r_f_ohm"])
    assert spec == dataclasses.replace(given, crossbar=crossbar)
    # and what the command built from the same arguments
    args = build_parser(ARGV).parse_args([*ARGV, "--out", str(out)])
    built_config, _, built_device = build_configs(args)
    assert (config, device) == (built_config, built_device)


def test_metrics_have_one_row_per_batch(run):
    out, summary = run
    with open(out / "metrics.csv") as handle:
        rows = list(csv.DictReader(handle))
    assert [int(r["batch"]) for r in rows] == [1, 2, 3]
    assert [int(r["samples"]) for r in rows] == [6, 12, 18]
    assert summary["batches_done"] == summary["batches_planned"] == 3
    assert float(rows[-1]["cosim_loss"]) == summary["final_cosim_loss"]
    assert max(float(r["weight_rel_diff_max"]) for r in rows) == summary["weight_rel_diff_max"]


def test_final_test_losses_follow_from_the_saved_weights(run):
    out, summary = run
    test = load_dataset("lowrank", seed=2, dim=12).test[:5]
    for side in ("reference", "cosim"):
        net = CircularAutoencoder.load(out / f"weights_{side}.npz")
        recomputed = loss_for(net).value(test, net.forward(test)[-1])
        # the circuit's loss is read from ngspice's voltages: equal to the weights' loss to solver precision
        rel = 1e-12 if side == "reference" else 1e-5
        assert summary[f"final_test_loss_{side}"] == pytest.approx(recomputed, rel=rel), side


def test_netlist_is_the_last_simulated_circuit(run):
    out, _ = run
    text = (out / "netlist.cir").read_text()
    assert text.rstrip().endswith(".end")
    assert not list(out.glob(".netlist.cir.*"))  # no temporary file of the atomic write left over
    with np.load(out / "conductances.npz") as g:
        assert set(g.files) >= {"Gplus_1", "Gref_1", "r_f"}


def test_top_layer_option_reaches_the_circuit_rule(tmp_path):
    """--top-layer on cosim: each reading's circuit run tracks its own reference (oracle: the
    lock-step reference with the same Recirculation), and the two readings train differently."""
    argv = ["cosim", "--sizes", "8,4,8", "--act", "tanh,linear", "--cycles", "0,2", "--batches", "3",
            "--batch-size", "5", "--lr", "0.05", "--seed", "1", "--test-samples", "5", "--engine", "direct", "--quiet"]
    losses = {}
    for reading in ("gradient", "eq48"):
        out = tmp_path / reading
        assert main([*argv, "--top-layer", reading, "--out", str(out)]) == 0
        summary = json.loads((out / "summary.json").read_text())
        assert summary["weight_rel_diff_max"] < 1e-6
        with open(out / "metrics.csv") as handle:
            losses[reading] = [float(row["reference_loss"]) for row in csv.DictReader(handle)]
    assert losses["gradient"][0] == losses["eq48"][0]          # the same first minibatch, before any update
    assert losses["gradient"][-1] != losses["eq48"][-1]
