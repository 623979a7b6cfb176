"""Weight <-> conductance mapping and the circuit configuration checks."""

import numpy as np
import pytest

from recirc_analog.errors import ConfigError
from recirc_analog.schematic.mapping import ConductanceMapping, choose_r_f
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, SampleHoldConfig


@pytest.mark.parametrize("kind", ["differential", "shared_reference"])
def test_round_trip_and_range(kind):
    rng = np.random.default_rng(0)
    config = CrossbarConfig(mapping=kind)
    w, b = rng.normal(size=(5, 7)), rng.normal(size=5)
    r_f = choose_r_f([w], [b], config)
    mapping = ConductanceMapping(config, r_f)
    cond = mapping.to_conductances(w, b)
    back_w, back_b = mapping.to_weights(cond)
    np.testing.assert_allclose(back_w, w, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(back_b, b, rtol=1e-12, atol=1e-12)
    for g in (cond.plus, cond.minus, cond.reference):
        if g is not None:
            assert g.min() >= config.g_min and g.max() <= config.g_max * (1 + 1e-12)
    largest = max(np.abs(w).max(), np.abs(b).max())
    assert mapping.max_weight == pytest.approx(largest)     # the largest weight uses the full range


def test_weights_beyond_the_range_name_the_largest_and_the_limit():
    config = CrossbarConfig(r_f=1e4)                        # |w| <= 1e4 * 99e-6 = 0.99
    mapping = ConductanceMapping(config, config.r_f)
    with pytest.raises(ConfigError, match=r"largest \|w\| = 1\.5 .*\|w\| <= 0\.99"):
        mapping.to_conductances(np.array([[0.5, -1.5]]), np.zeros(1))


def test_headroom_scales_r_f():
    w = [np.array([[2.0]])]
    assert choose_r_f(w, [np.zeros(1)], CrossbarConfig(headroom=2)) == pytest.approx(
        2 * choose_r_f(w, [np.zeros(1)], CrossbarConfig()))


@pytest.mark.parametrize("make, message", [
    (lambda: CrossbarConfig(g_min=2e-4), r"g_max must be in \(0\.0002, inf\), got 0\.0001"),
    (lambda: CrossbarConfig(mapping="triple"), r"mapping must be one of differential, shared_reference"),
    (lambda: SampleHoldConfig(c_hold=0), r"c_hold must be in \(0, inf\), got 0"),
    (lambda: CircuitSpec(form="ac"), r"form must be one of dc, tran, got 'ac'"),
    (lambda: CircuitSpec(v_unit=-1), r"v_unit must be in \(0, 10\], got -1"),
])
def test_config_messages_name_parameter_range_and_value(make, message):
    with pytest.raises(ConfigError, match=message):
        make()
