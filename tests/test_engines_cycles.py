"""One ngspice analysis per recirculation cycle or per layer read (engines.circuit_run, schematic.dc_cycles).

Oracles: the unrolled netlist run by ngspice as one analysis (every saved voltage), and
the NumPy reference's ``run_cycles`` (every activity of every cycle). The split is exact,
so the only allowed difference is ngspice's own Newton tolerance.
"""

import dataclasses

import numpy as np
import pytest

from recirc_analog.engines import BatchEngine, get_engine
from recirc_analog.engines.circuit_run import (
    SPLIT_DEVICES,
    devices_per_cycle,
    ngspice_readings,
    per_cycle_vectors,
    stage_plans,
)
from recirc_analog.engines.readout import node_vector, read_activity, read_held
from recirc_analog.errors import ConfigError, UsageError
from recirc_analog.netlist_writers import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import MODE_NAMES, Recirculation, run_cycles
from recirc_analog.reference.tied import tie_weights
from recirc_analog.schematic import dc_cycles
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.dc_cycles import plan_stages
from recirc_analog.schematic.elements import Block, Resistor
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, NeuronConfig, ideal_sample_hold

WRITER = get_writer("ngspice")
DEFAULT_SPLIT_FAN_IN = dc_cycles.SPLIT_FAN_IN


@pytest.fixture(autouse=True)
def split_every_read(monkeypatch):
    """Cut every layer read from its activations (the default does so only for high fan-in reads, which
    these small networks do not have), so the per-layer tests check that cut too."""
    monkeypatch.setattr(dc_cycles, "SPLIT_FAN_IN", 0)


@pytest.fixture(scope="module")
def unrolled():
    with BatchEngine(cycle_mode="unrolled") as engine:
        yield engine


@pytest.fixture(scope="module")
def per_cycle():
    with BatchEngine(cycle_mode="per-cycle") as engine:
        yield engine


def network(sizes=(8, 5, 8), architecture="conjoined", seed=3):
    net = CircularAutoencoder.random(sizes, ("tanh",) * (len(sizes) - 2) + ("logistic",), seed=seed)
    rng = np.random.default_rng(seed)
    net.biases = [rng.normal(0, 0.3, b.shape) for b in net.biases]
    return tie_weights(net) if architecture == "bidirectional" else net


def circuit_of(net, mode="pr", cycles=(0, 1), mapping="differential", batch=4, form="dc", **spec):
    recirculation = Recirculation(mode, lam=0.3, cycles=cycles)
    spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold(),
                       crossbar=CrossbarConfig(mapping=mapping), **spec)
    x = np.random.default_rng(7).uniform(0, 1, (batch, net.sizes[0]))
    return build_circuit(net, spec, x), x, recirculation


def worst_difference(circuit, unrolled_engine, per_cycle_engine, per="cycle") -> float:
    """Largest difference of any saved voltage, relative to max(|v|, v_unit)."""
    whole = unrolled_engine.run(WRITER.get_netlist(circuit), label="unrolled").vectors
    (split, _, relaxed, _), = per_cycle_vectors(per_cycle_engine, [circuit], ["split"], per=per)
    assert relaxed is None
    floor = circuit.node_map.v_unit
    names = [node_vector(n) for n in circuit.saves]
    assert set(names) <= set(split)
    return max(float(np.max(np.abs(split[n] - whole[n]) / np.maximum(np.abs(whole[n]), floor))) for n in names)


def check_against_reference(circuit, net, x, recirculation, engine, per, atol=1e-6):
    (vectors, *_), = per_cycle_vectors(engine, [circuit], ["ref"], per=per)
    node_map = circuit.node_map
    for k, layers in enumerate(run_cycles(net, x, recirculation)):
        for h, expected in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), expected, rtol=0, atol=atol,
                                       err_msg=f"O^{h}({k})")
    for h, expected in enumerate(run_cycles(net, x, recirculation)[0]):
        np.testing.assert_allclose(read_held(vectors, node_map, h), expected, rtol=0, atol=atol)


@pytest.mark.parametrize("per", ["cycle", "layer"])
@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
@pytest.mark.parametrize("mode", MODE_NAMES)
def test_every_mode_and_mapping_equals_unrolled_and_reference(mode, mapping, per, unrolled, per_cycle):
    net = network()
    circuit, x, recirculation = circuit_of(net, mode, mapping=mapping)
    assert worst_difference(circuit, unrolled, per_cycle, per) <= 1e-6
    check_against_reference(circuit, net, x, recirculation, per_cycle, per)


CLASSES = {
    "pr cycles 0..3": dict(mode="pr", cycles=(1, 3)),
    "ccrcc cycles 0..2, shared reference": dict(mode="ccrcc", cycles=(0, 2), mapping="shared_reference"),
    "rwcc cycles 0..3": dict(mode="rwcc", cycles=(1, 3)),
    "error, op-amp neurons": dict(mode="error", neuron=NeuronConfig(kind="opamp", gain=300.0)),
    "rcc, op-amp neurons, shared reference": dict(mode="rcc", neuron=NeuronConfig(kind="opamp", gain=1e3),
                                                  mapping="shared_reference"),
    "bidirectional ccr": dict(mode="ccr", architecture="bidirectional"),
    "bidirectional error, shared reference": dict(mode="error", architecture="bidirectional",
                                                  mapping="shared_reference"),
    "three layers, batch of one": dict(mode="ccr", sizes=(9, 4, 6, 9), batch=1),
}


@pytest.mark.parametrize("per", ["cycle", "layer"])
@pytest.mark.parametrize("name", list(CLASSES))
def test_more_cycles_neurons_and_architectures_equal_unrolled(name, per, unrolled, per_cycle):
    options = dict(CLASSES[name])
    net = network(options.pop("sizes", (8, 5, 8)), options.get("architecture", "conjoined"))
    circuit, _, _ = circuit_of(net, **options)
    # tight tolerances: then the split must agree far below the default 1e-6
    tight = dataclasses.replace(circuit, reltol=1e-10, vntol=1e-14)
    assert worst_difference(tight, unrolled, per_cycle, per) <= 1e-9, name
    assert worst_difference(circuit, unrolled, per_cycle, per) <= 1e-6, name


def test_engine_readings_split_across_workers_equal_unrolled(unrolled, per_cycle):
    net = network()
    circuits = [circuit_of(net, "ccr", batch=b)[0] for b in (3, 2)]
    labels = ["part 1", "part 2"]
    split = ngspice_readings(per_cycle, circuits, (0, 1), labels, workers=2)
    whole = ngspice_readings(unrolled, circuits, (0, 1), labels, workers=2)
    for ours, theirs in zip(split, whole):
        assert ours.netlist is None and theirs.netlist is not None   # the exported text stays the unrolled one
        for field in ("held", "early", "late"):
            for a, b in zip(getattr(ours.readings, field), getattr(theirs.readings, field)):
                np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_shared_engine_per_cycle_equals_unrolled(unrolled):
    net = network()
    circuit, _, _ = circuit_of(net, "rcc")
    with get_engine("shared", cycle_mode="per-layer") as engine:
        ours = engine.readings(circuit, (0, 1), "shared").readings
    theirs = unrolled.readings(circuit, (0, 1), "batch").readings
    for a, b in zip(ours.late + ours.held, theirs.late + theirs.held):
        np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)


def test_tran_form_runs_unrolled(per_cycle, unrolled):
    net = network()
    circuit, _, _ = circuit_of(net, "ccr", form="tran", batch=2)
    run = per_cycle.readings(circuit, (0, 1), "tran")
    assert run.netlist is not None and ".tran" in run.netlist
    with pytest.raises(UsageError, match="tran form"):
        plan_stages(circuit)


def test_plan_carries_only_earlier_cycles_activities():
    net = network()
    circuit, _, _ = circuit_of(net, "ccr", cycles=(0, 2))
    plans = plan_stages(circuit)
    assert [p.cycle for p in plans] == [0, 1, 2]
    assert plans[0].carried == ()
    node_map = circuit.node_map
    earlier = lambda k: {n for (h, c), nodes in node_map.activity_nodes.items() if c < k for n in nodes}  # noqa: E731
    for plan in plans[1:]:
        assert plan.carried and set(plan.carried) <= earlier(plan.cycle)
    # per layer: L reads per cycle, each followed by its activations (and mixers); the error mode's
    # layer-0 subtractors go with the read after them
    per_layer = plan_stages(circuit, "layer")
    assert [p.cycle for p in per_layer] == [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2]
    assert all(p.blocks[-1].comment.endswith("(crossbar read and TIAs)") for p in per_layer[0::2])
    assert all(p.blocks[-1].comment.endswith("(activations)") for p in per_layer[1::2])
    error, _, _ = circuit_of(net, "error")
    first_of_cycle_1 = plan_stages(error, "layer")[4]
    assert first_of_cycle_1.cycle == 1 and "error" in first_of_cycle_1.blocks[-2].comment
    # every saved node is computed in exactly one cycle
    saved = [n for p in plans for n in p.saves]
    assert len(saved) == len(set(saved)) and set(circuit.saves) <= set(saved)


def test_plan_refuses_a_carried_node_no_ideal_source_holds():
    net = network()
    circuit, _, _ = circuit_of(net, "pr")
    # the pre-activation node: current mirrors into r_f, not an ideal source, though declared one for the graph checks
    node = next(n for e in circuit.blocks[2].elements for n in getattr(e, "nodes", ()) if n.startswith("s1_c0"))
    loaded = Block("cycle 1 loads a cycle-0 node", (Resistor("Rload", node, "0", 1e3),), cycle=1)
    message = f"node '{node}' of stage 0, which is not an activity an ideal voltage source holds"
    with pytest.raises(UsageError, match=message):
        plan_stages(dataclasses.replace(circuit, blocks=circuit.blocks + (loaded,)))


def test_layer_read_split_from_its_activations_is_linear_and_falls_back_when_not_exact(unrolled, per_cycle):
    """The read stage holds crossbars and TIAs only; its activations (and the mixers reading them) come
    next, holding the pre-activations as tables. An activation part that loads its input is not cut off."""
    net = network()
    circuit, _, _ = circuit_of(net, "ccr")
    cells = {"act1_tanh", "act1_logistic", "mixer"}
    for plan in plan_stages(circuit, "layer"):
        kinds = {getattr(e, "cell", "") for e in plan.blocks[-1].elements}
        if plan.blocks[-1].comment.endswith("(activations)"):   # carries pre-activations and held activities
            assert kinds <= cells and all(n[0] in "so" for n in plan.carried)
        else:
            assert not kinds & cells
    # a resistor between a pre-activation and its activation's output: the split would not be exact
    read = next(b for b in circuit.blocks if b.cycle == 1 and "layer 1" in b.comment)
    act = next(e for e in read.elements if getattr(e, "cell", "") == "act1_tanh")
    loaded = dataclasses.replace(read, elements=read.elements + (Resistor("Rloop", act.nodes[0], act.nodes[-1], 1e6),))
    altered = dataclasses.replace(circuit, blocks=tuple(loaded if b is read else b for b in circuit.blocks))
    plans = plan_stages(altered, "layer")
    assert [p.cycle for p in plans] == [0, 0, 0, 0, 1, 1, 1]   # cycle 1, layer 1: one stage again
    assert worst_difference(altered, unrolled, per_cycle, "layer") <= 1e-6


def test_bad_cycle_mode_is_one_clear_error():
    message = r"cycle_mode must be one of \('auto', 'per-layer', 'per-cycle', 'unrolled'\), got 'fast'"
    with pytest.raises(ConfigError, match=message):
        BatchEngine(cycle_mode="fast")


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_auto_splits_large_dc_circuits_only(mapping, monkeypatch):
    monkeypatch.setattr(dc_cycles, "SPLIT_FAN_IN", DEFAULT_SPLIT_FAN_IN)
    small, _, _ = circuit_of(network((8, 5, 8)), mapping=mapping)
    large, _, _ = circuit_of(network((150, 40, 150)), mapping=mapping, batch=2)
    tran, _, _ = circuit_of(network((150, 40, 150)), mapping=mapping, batch=2, form="tran")
    # one copy: N1 x (N0 + 1) and N0 x (N1 + 1) weights and biases, two devices each or one plus a reference
    count = lambda n0, n1: (2 * (n1 * (n0 + 1) + n0 * (n1 + 1)) if mapping == "differential"  # noqa: E731
                            else n1 * (n0 + 1) + n0 * (n1 + 1) + (n0 + 1) + (n1 + 1))
    assert devices_per_cycle(small) == count(8, 5) < SPLIT_DEVICES
    assert devices_per_cycle(large) == count(150, 40) >= SPLIT_DEVICES
    assert stage_plans("auto", [small]) is None and stage_plans("auto", [tran]) is None
    # per layer: the 150 x 40 read (300 devices per activation or more), its activations, the 40 x 150 read
    # with its activations (about 80 per activation: below SPLIT_FAN_IN), for each cycle
    plans = stage_plans("auto", [large])[0]
    assert [p.cycle for p in plans] == [0, 0, 0, 1, 1, 1]
    assert plans[1].blocks[-1].comment.endswith("(activations)") and "layer 2" in plans[2].blocks[-1].comment
    assert not plans[2].blocks[-1].comment.endswith(")")
    assert len(stage_plans("per-cycle", [small])[0]) == 2 and stage_plans("unrolled", [large]) is None


def test_lockstep_training_per_layer_tracks_the_reference():
    """20 co-simulated updates with the engine cutting every batch per layer read: the local updates
    from those readings reproduce the reference's weights (the ideal circuit is exact)."""
    from recirc_analog.cosim.lockstep import CosimConfig, LockStep
    from recirc_analog.data import load_dataset
    from recirc_analog.devices import DeviceConfig

    config = CosimConfig(sizes=(16, 6, 16), activations=("tanh", "linear"), batch_size=8, lr=0.02, seed=1)
    spec = CircuitSpec(recirculation=Recirculation("ccrcc", 0.5), sample_hold=ideal_sample_hold())
    data = load_dataset("lowrank", seed=1, dim=16)
    with BatchEngine(cycle_mode="per-layer") as engine:
        lockstep = LockStep.create(config, spec, DeviceConfig(), engine, data.train_mean)
        rows = [lockstep.step(x / 4.0, label=f"batch {k}")
                for k, x in zip(range(20), data.train_batches(8, np.random.default_rng(0)))]
        netlist = lockstep.controller.last_netlist
    assert max(r[f"weight_rel_diff_A{h}"] for r in rows for h in (1, 2)) <= 1e-5
    assert "_c1" in netlist and "Bk_" not in netlist     # the saved netlist is the whole unrolled circuit
