"""The programming policy of a differential pair (``crossbar_state.pair_requests``) and the monitoring read.

Oracles: the policy's arithmetic identities (the pair's difference moves by exactly the
change, the total requested is |change|, nobody is asked below its floor); closed forms of
a constant-step device without noise (k pulses move a device by k steps exactly); a pulse
with cycle-to-cycle noise draws one normal from the programming stream, so an untouched
stream proves a device got no pulse; and the ideal device, which must still give the
mapping of "weight plus change with the smaller device at g_min".
"""

import numpy as np
import pytest

from recirc_analog.cosim.crossbar_state import CrossbarState, pair_requests
from recirc_analog.cosim.hardware_aware import HardwareAwareTrainer
from recirc_analog.data import load_dataset
from recirc_analog.devices import ConstantStep, DeviceConfig, DeviceSpread, OpenLoopPulses, PulsedDevice, load_device
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import RecirculationRule
from recirc_analog.reference.training import TrainConfig
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.mapping import ConductanceMapping, Conductances
from recirc_analog.schematic.spec import CrossbarConfig

CROSSBAR = CrossbarConfig(g_min=1e-6, g_max=101e-6, r_f=1e4)
SPAN = 100e-6
STEP = 0.01 * SPAN


def test_pair_requests_move_the_difference_exactly_and_never_below_a_floor():
    rng = np.random.default_rng(0)
    shape = (200,)
    floor_plus, floor_minus = 1e-6 + 20e-6 * rng.random(shape), 1e-6 + 20e-6 * rng.random(shape)
    plus, minus = floor_plus + 30e-6 * rng.random(shape), floor_minus + 30e-6 * rng.random(shape)
    delta = 40e-6 * rng.standard_normal(shape)
    d_plus, d_minus = pair_requests(delta, plus, minus, floor_plus, floor_minus)
    np.testing.assert_allclose(d_plus - d_minus, delta, rtol=0, atol=1e-18)
    np.testing.assert_allclose(np.abs(d_plus) + np.abs(d_minus), np.abs(delta), rtol=0, atol=1e-18)
    assert np.all(plus + d_plus >= floor_plus - 1e-18) and np.all(minus + d_minus >= floor_minus - 1e-18)
    rise = delta > 0
    assert np.all(d_plus[rise] >= 0) and np.all(d_minus[rise] <= 0)          # G+ up and / or G- down
    assert np.all(d_plus[~rise] <= 0) and np.all(d_minus[~rise] >= 0)
    # the device that is down at its floor is never asked to move down
    at_floor = np.full(shape, 5e-6)
    d_plus, d_minus = pair_requests(delta, at_floor + 10e-6, at_floor, at_floor, at_floor)
    np.testing.assert_array_equal(d_minus[rise], 0.0)


def _pair_state(device, w: float, seed: int = 0) -> CrossbarState:
    """A 1x1 layer (one weight and one bias) whose weight ``w`` sits on one device above its floor."""
    mapping = ConductanceMapping(CROSSBAR, CROSSBAR.r_f)
    conductances = mapping.to_conductances(np.array([[w]]), np.array([0.0]), layer=1)
    return CrossbarState([conductances], mapping, device, seed)


def _update(dw: float) -> Update:
    return Update([np.array([[dw]])], [np.array([0.0])])


def test_the_idle_device_of_a_pair_gets_no_pulse_even_with_floors_above_g_min():
    """Pulses carry cycle-to-cycle noise, so each pulse draws from its device's programming stream:
    the idle G- device's stream must not move, while the old policy (map onto g_min) pulsed it
    towards g_min, below its drawn floor, at every update."""
    device = PulsedDevice(step=ConstantStep(dw_min=0.01), dw_min_std=0.1, spread=DeviceSpread(bounds=0.2),
                          programming=OpenLoopPulses(max_pulses=10_000))
    state = _pair_state(device, w=0.2)
    floor_minus = state.minus[0].bounds()[0][0, 0]
    assert floor_minus > CROSSBAR.g_min                        # a drawn floor above the window's bottom
    before = state.minus[0].program_rng.bit_generator.state
    held_minus = state.minus[0].peek(0.0).copy()
    for _ in range(5):
        state.apply(_update(0.03))
    assert state.minus[0].program_rng.bit_generator.state == before
    np.testing.assert_array_equal(state.minus[0].peek(0.0), held_minus)


def test_a_change_that_crosses_zero_empties_one_device_then_fills_the_other_by_whole_steps():
    """Constant step, no noise, floors at g_min: k steps of change move the pair by exactly k steps."""
    device = PulsedDevice(step=ConstantStep(dw_min=0.01), programming=OpenLoopPulses(max_pulses=10_000))
    state = _pair_state(device, w=3 * STEP * CROSSBAR.r_f)          # G+ three steps above g_min
    plus0 = state.plus[0].peek(0.0)[0, 0]
    assert plus0 == pytest.approx(CROSSBAR.g_min + 3 * STEP, rel=1e-12)
    state.apply(_update(-8 * STEP * CROSSBAR.r_f))                 # down 8 steps: 3 from G+, then 5 on G-
    assert state.plus[0].peek(0.0)[0, 0] == pytest.approx(CROSSBAR.g_min, rel=1e-9)
    assert state.minus[0].peek(0.0)[0, 0] == pytest.approx(CROSSBAR.g_min + 5 * STEP, rel=1e-9)
    (w,), _ = state.weights()
    assert w[0, 0] == pytest.approx(-5 * STEP * CROSSBAR.r_f, rel=1e-9)


def test_a_stuck_device_is_routed_around():
    """G+ stuck (floor = ceiling = its value): a positive change is realised by G- going down to
    its floor, a negative one by G- going up; G+ is never asked to move."""
    device = PulsedDevice(step=ConstantStep(dw_min=0.01), stuck_max=1.0, programming=OpenLoopPulses())
    state = _pair_state(device, w=0.0)
    state.minus[0] = PulsedDevice(step=ConstantStep(dw_min=0.01)).build(state.window, np.full((1, 2), CROSSBAR.g_min))
    state.apply(_update(-4 * STEP * CROSSBAR.r_f))
    assert state.minus[0].peek(0.0)[0, 0] == pytest.approx(CROSSBAR.g_min + 4 * STEP, rel=1e-9)
    state.apply(_update(+3 * STEP * CROSSBAR.r_f))
    assert state.minus[0].peek(0.0)[0, 0] == pytest.approx(CROSSBAR.g_min + STEP, rel=1e-9)
    assert state.plus[0].peek(0.0)[0, 0] == CROSSBAR.g_max and state.clipped == 0


def test_the_ideal_device_realises_weight_plus_change_with_the_smaller_device_at_g_min():
    rng = np.random.default_rng(1)
    mapping = ConductanceMapping(CROSSBAR, CROSSBAR.r_f)
    w, b = 0.3 * rng.standard_normal((5, 4)), 0.3 * rng.standard_normal(5)
    state = CrossbarState([mapping.to_conductances(w, b, layer=1)], mapping, DeviceConfig(), 0)
    dw, db = 0.2 * rng.standard_normal((5, 4)), 0.2 * rng.standard_normal(5)
    state.apply(Update([dw], [db]))
    expected: Conductances = mapping.to_conductances(w + dw, b + db, layer=1)
    got = state.all_conductances()[0]
    np.testing.assert_allclose(got.plus, expected.plus, rtol=1e-12, atol=1e-20)
    np.testing.assert_allclose(got.minus, expected.minus, rtol=1e-12, atol=1e-20)


def _trained(monitor_every: int | None, extra_reads: bool = False):
    data = load_dataset("lowrank", None, seed=0, dim=16, max_train=200)
    net = CircularAutoencoder.random((16, 4, 16), ("tanh", "linear"), seed=0, data_mean=data.train_mean)
    trainer = HardwareAwareTrainer(net, RecirculationRule(Recirculation("pr")),
                                   TrainConfig(batch_size=20, lr=0.01, seed=0, track_angles=False),
                                   device=load_device("pcm"), device_seed=0)
    for k, x in enumerate(data.train_batches(20, np.random.default_rng(0))):
        trainer.step(x)
        if monitor_every and k % monitor_every == 0:
            trainer.state.monitor_weights()
        if extra_reads:
            trainer.state.weights()
    return trainer.state.monitor_weights()


def test_monitoring_reads_never_change_a_run_with_read_noise():
    quiet = _trained(None)
    for looked in (_trained(1), _trained(3)):
        for a, b in zip(looked[0] + looked[1], quiet[0] + quiet[1]):
            np.testing.assert_array_equal(a, b)
    # the training read (fresh read noise) is what monitoring must not be: an extra one changes the run
    noisy = _trained(None, extra_reads=True)
    assert not np.array_equal(noisy[0][0], quiet[0][0])


def test_the_monitoring_read_is_the_held_conductance_and_reads_scatter_around_it():
    device = load_device("pcm")
    state = _pair_state(device, w=0.2)
    held, _ = state.monitor_weights()
    reads = np.array([state.weights()[0][0][0, 0] for _ in range(2000)])
    sigma = device.read_noise * SPAN * np.sqrt(2) * CROSSBAR.r_f        # two devices' independent noise
    assert abs(reads.mean() - held[0][0, 0]) < 4 * sigma / np.sqrt(len(reads))
    assert reads.std() == pytest.approx(sigma, rel=0.1)


def test_initial_pairs_are_placed_on_each_devices_own_floor_so_spread_bounds_add_no_offset():
    """Devices with their own floors (bound spread) clip an initial g_min into their range; the
    state places each pair's intended difference with the smaller device at its own floor, so the
    initial weights are the intended ones (an offset of r_f (floor- - floor+) otherwise)."""
    device = PulsedDevice(step=ConstantStep(dw_min=0.01), spread=DeviceSpread(bounds=0.2))
    mapping = ConductanceMapping(CROSSBAR, CROSSBAR.r_f)
    rng = np.random.default_rng(3)
    w, b = 0.05 * rng.standard_normal((6, 5)), 0.05 * rng.standard_normal(6)
    state = CrossbarState([mapping.to_conductances(w, b, layer=1)], mapping, device, 0)
    (got,), (got_b,) = state.monitor_weights()
    np.testing.assert_allclose(got, w, rtol=0, atol=1e-9)
    np.testing.assert_allclose(got_b, b, rtol=0, atol=1e-9)
    low_plus, low_minus = state.plus[0].bounds()[0], state.minus[0].bounds()[0]
    held_plus, held_minus = state.plus[0].peek(0.0), state.minus[0].peek(0.0)
    assert np.all(np.isclose(held_plus, low_plus, rtol=0, atol=1e-15)
                  | np.isclose(held_minus, low_minus, rtol=0, atol=1e-15))
    assert np.abs(low_plus - low_minus).max() * CROSSBAR.r_f > 2 * np.abs(w).max()   # the offset it would have had
