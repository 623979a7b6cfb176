"""Local rules of the co-simulation: one arithmetic shared with the reference, a rule object in the controller."""

import numpy as np
import pytest

from recirc_analog.cosim.controller import CosimController
from recirc_analog.cosim.local_rule import LocalRule, ReadingsNeeded, RecirculationLocalRule, check_rule, rule_for
from recirc_analog.devices import DeviceConfig
from recirc_analog.engines import get_engine
from recirc_analog.engines.readings import Readings
from recirc_analog.errors import ConfigError
from recirc_analog.reference import rules as reference_rules
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation, run_cycles
from recirc_analog.reference.rules import RecirculationRule
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

SCHEMES = [Recirculation("pr"), Recirculation("ccr", 0.3), Recirculation("rcc", 0.4, (0, 2)),
           Recirculation("ccrcc", 0.5), Recirculation("rwcc", 0.2, (1, 3)), Recirculation("error"),
           Recirculation("pr", 0.5, (2, 4)), Recirculation("rcc", 0.4, (0, 2), "eq48"),
           Recirculation("pr", 0.5, (2, 4), "eq48")]


def _readings_of(net, x, recirculation):
    """What an exact circuit would read: held = cycle 0, early = cycle n, late = cycle m."""
    cycles = run_cycles(net, x, recirculation)
    n, m = recirculation.cycles
    return Readings(tuple(cycles[0]), tuple(cycles[n]), tuple(cycles[m]))


@pytest.mark.parametrize("recirculation", SCHEMES, ids=lambda r: f"{r.mode}{r.cycles}{r.top_layer}")
def test_circuit_rule_and_reference_rule_give_identical_arrays(recirculation):
    net = CircularAutoencoder.random((9, 5, 4, 9), ("tanh", "tanh", "linear"), seed=2)
    x = np.random.default_rng(3).normal(size=(6, 9))
    local = rule_for(recirculation).directions(_readings_of(net, x, recirculation))
    reference = RecirculationRule(recirculation).directions(net, x)
    for got, want in zip(local.weights + local.biases, reference.weights + reference.biases):
        np.testing.assert_array_equal(got, want)


def test_both_paths_call_the_one_shared_function(monkeypatch):
    """A change to reference.rules.recirculation_directions reaches the circuit and the reference alike."""
    calls = []
    real = reference_rules.recirculation_directions

    def marked(mode, held, early, late, **options):
        calls.append(mode)
        update = real(mode, held, early, late, **options)
        return Update(tuple(2.0 * w for w in update.weights), update.biases)

    monkeypatch.setattr(reference_rules, "recirculation_directions", marked)
    recirculation = Recirculation("ccr", 0.25)
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "linear"), seed=0)
    x = np.random.default_rng(1).normal(size=(4, 6))
    local = RecirculationLocalRule(recirculation).directions(_readings_of(net, x, recirculation))
    reference = RecirculationRule(recirculation).directions(net, x)
    assert calls == ["ccr", "ccr"]
    monkeypatch.setattr(reference_rules, "recirculation_directions", real)
    plain = RecirculationRule(recirculation).directions(net, x)
    for a, b, c in zip(local.weights, reference.weights, plain.weights):
        np.testing.assert_array_equal(a, b)
        np.testing.assert_array_equal(a, 2.0 * c)


def test_error_mode_reads_the_held_and_late_voltages_only():
    needs = RecirculationLocalRule(Recirculation("error")).needs
    assert set(needs.kinds) == {"held", "late"}
    assert set(RecirculationLocalRule(Recirculation("pr", 0.5, (1, 2), "eq48")).needs.kinds) == {"early", "late"}
    # Section 7.3's gradient top layer reads the held cycle-0 voltages too.
    assert set(RecirculationLocalRule(Recirculation("pr", 0.5, (1, 2))).needs.kinds) == {"held", "early", "late"}


def test_a_rule_whose_cycles_the_circuit_does_not_read_is_refused():
    rule = rule_for(Recirculation("pr", 0.5, (0, 2)))
    with pytest.raises(ConfigError, match=r"needs readings at cycles \(0, 2\).*reads cycles \(0, 1\)"):
        check_rule(rule, Recirculation("pr"))
    with pytest.raises(ConfigError, match="rule must be a local rule"):
        check_rule(RecirculationRule(), Recirculation("pr"))
    # A rule that reads only the held and late voltages does not care about n.
    assert check_rule(rule_for(Recirculation("error")), Recirculation("error")).name == "rec"
    assert ReadingsNeeded(("held", "late"), (0, 1)).satisfied_by((3, 1))
    with pytest.raises(ConfigError, match="kinds"):
        ReadingsNeeded(("held", "fresh"), (0, 1))


class FrozenRule:
    """A local rule that never changes anything: the controller must program a zero update."""

    name = "frozen"
    needs = ReadingsNeeded(("held",), (0, 1))

    def __init__(self):
        self.seen = []

    def directions(self, readings):
        self.seen.append(readings.batch)
        return Update(tuple(np.zeros((a.shape[1], b.shape[1])) for a, b in zip(readings.held[1:] + readings.held[:1],
                                                                                  readings.held[:-1])),
                      tuple(np.zeros(a.shape[1]) for a in readings.held[1:] + readings.held[:1]))


def test_controller_programs_the_update_of_the_rule_it_is_given():
    net = CircularAutoencoder.random((8, 3, 8), ("tanh", "linear"), seed=1)
    spec = CircuitSpec(crossbar=CrossbarConfig(r_f=5e4))
    engine = get_engine("batch")
    try:
        frozen = FrozenRule()
        assert isinstance(frozen, LocalRule)
        controller = CosimController(net, spec, DeviceConfig(), engine,
                                     np.full(2, 0.1), rule=frozen)
        before, _ = controller.weights()
        controller.step(np.random.default_rng(0).normal(scale=0.2, size=(5, 8)), "one batch")
        after, _ = controller.weights()
        assert frozen.seen == [5]
        for a, b in zip(before, after):      # unchanged up to the pair's re-centring round-off
            np.testing.assert_allclose(b, a, rtol=0, atol=1e-12 * np.abs(a).max())
        default = CosimController(net, spec, DeviceConfig(), engine,
                                  np.full(2, 0.1))
        assert default.rule == RecirculationLocalRule(spec.recirculation)
    finally:
        engine.close()
