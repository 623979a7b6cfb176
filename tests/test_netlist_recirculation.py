"""Recirculation cycles read from ngspice against the reference's run_cycles (Tables 1-4, RWCC, error)."""

import numpy as np
import pytest

from recirc_analog.engines.readout import read_activity, read_held
from recirc_analog.reference.recirculation import MODE_NAMES, Recirculation, run_cycles
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig, ideal_sample_hold

SIZES, ACTIVATIONS = (8, 5, 8), ("tanh", "logistic")


def _check_all_cycles(node_map, vectors, expected, atol):
    for k, layers in enumerate(expected):
        for h, value in enumerate(layers):
            np.testing.assert_allclose(read_activity(vectors, node_map, h, k), value, rtol=0, atol=atol,
                                       err_msg=f"O^{h}({k})")
    for h, value in enumerate(expected[0]):
        np.testing.assert_allclose(read_held(vectors, node_map, h), value, rtol=0, atol=atol,
                                   err_msg=f"held O^{h}(0)")


@pytest.mark.parametrize("form", ["dc", "tran"])
@pytest.mark.parametrize("mode", MODE_NAMES)
def test_every_mode_matches_reference(random_network, run_circuit, mode, form, tmp_path):
    net, rng = random_network(SIZES, ACTIVATIONS, seed=11)
    x = rng.uniform(0, 1, size=(3, SIZES[0]))
    recirculation = Recirculation(mode, lam=0.3)
    spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold())
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    _check_all_cycles(node_map, vectors, run_cycles(net, x, recirculation), atol=1e-6)


@pytest.mark.parametrize("form", ["dc", "tran"])
@pytest.mark.parametrize("mode", ["pr", "ccr", "rwcc"])
def test_several_cycles_match_reference(random_network, run_circuit, mode, form, tmp_path):
    net, rng = random_network(SIZES, ACTIVATIONS, seed=12)
    x = rng.uniform(0, 1, size=(2, SIZES[0]))
    recirculation = Recirculation(mode, lam=0.4, cycles=(1, 3))
    spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold(),
                       crossbar=CrossbarConfig(mapping="shared_reference"))
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    _check_all_cycles(node_map, vectors, run_cycles(net, x, recirculation), atol=1e-6)


def test_tran_and_dc_forms_agree(random_network, run_circuit, tmp_path):
    net, rng = random_network((16, 6, 16), ("tanh", "tanh"), seed=13)
    x = rng.uniform(-1, 1, size=(3, 16))
    recirculation = Recirculation("ccrcc", lam=0.6)
    results = []
    for form in ("dc", "tran"):
        spec = CircuitSpec(recirculation=recirculation, form=form, sample_hold=ideal_sample_hold())
        (tmp_path / form).mkdir()
        node_map, vectors = run_circuit(net, spec, x, tmp_path / form)
        results.append([read_activity(vectors, node_map, h, 1) for h in range(3)])
    for dc, tran in zip(*results):
        np.testing.assert_allclose(tran, dc, rtol=0, atol=1e-6)


def test_realistic_hold_tracking_error_is_bounded(random_network, run_circuit, tmp_path):
    """Default S&H (r_on 100 ohm, 1 pF, 1 us phase): one backward-Euler step leaves a
    relative tracking error r_on * C / step = 1e-4 in the held value."""
    net, rng = random_network(SIZES, ACTIVATIONS, seed=14)
    x = rng.uniform(0, 1, size=(2, SIZES[0]))
    spec = CircuitSpec(form="tran")
    node_map, vectors = run_circuit(net, spec, x, tmp_path)
    expected = net.forward(x)
    ratio = spec.sample_hold.r_on * spec.sample_hold.c_hold / spec.clock.phase
    for h in range(len(SIZES)):
        error = np.abs(read_held(vectors, node_map, h) - expected[h])
        assert error.max() <= 3 * ratio * np.abs(expected[h]).max() + 1e-9
