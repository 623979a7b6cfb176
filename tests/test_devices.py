"""Device models against their defining formulas."""

import numpy as np
import pytest

from recirc_analog.devices import (
    ConductanceWindow,
    DeviceConfig,
    DeviceModel,
    DevicePopulation,
    GainStep,
    ideal,
    reram_like,
)
from recirc_analog.errors import ConfigError

WINDOW = ConductanceWindow(1e-6, 100e-6)


def test_ideal_device_realises_change_exactly_inside_window():
    g0 = np.full((3, 4), 50e-6)
    dev = ideal().build(WINDOW, g0, seed=1)
    dg = np.linspace(-10e-6, 10e-6, 12).reshape(3, 4)
    np.testing.assert_array_equal(dev.program(dg, 0.0), g0 + dg)
    np.testing.assert_array_equal(dev.read(0.0), g0 + dg)


def test_window_clips_at_bounds():
    dev = ideal().build(WINDOW, np.array([2e-6, 99e-6]))
    np.testing.assert_array_equal(dev.program(np.array([-5e-6, 5e-6]), 0.0), [1e-6, 100e-6])


def test_the_window_comes_from_the_caller_not_the_device_parameters():
    """The same DeviceConfig in two windows clips at each window's own bounds."""
    cfg = DeviceConfig()
    narrow = cfg.build(ConductanceWindow(10e-6, 20e-6), np.array([15e-6, 15e-6]))
    wide = cfg.build(ConductanceWindow(1e-6, 100e-6), np.array([15e-6, 15e-6]))
    request = np.array([-10e-6, 10e-6])
    np.testing.assert_array_equal(narrow.program(request, 0.0), [10e-6, 20e-6])
    np.testing.assert_allclose(wide.program(request, 0.0), [5e-6, 25e-6], rtol=1e-15)


def test_quantised_levels_are_on_grid():
    dev = DeviceConfig(levels=11).build(ConductanceWindow(1e-6, 11e-6), np.array([3.3e-6]))
    step = 1e-6
    k = (dev.read(0.0) - 1e-6) / step
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)
    assert dev.read(0.0)[0] == pytest.approx(3e-6, rel=1e-12)


def test_asymmetry_scales_up_and_down_steps():
    dev = DeviceConfig(up_gain=0.5, down_gain=2.0).build(WINDOW, np.array([50e-6, 50e-6]))
    np.testing.assert_allclose(dev.program(np.array([4e-6, -4e-6]), 0.0), [52e-6, 42e-6])


def test_noise_is_reproducible_from_seed_and_has_requested_scale():
    cfg = DeviceConfig(write_noise=0.1)
    g0 = np.full(20000, 50e-6)
    a = cfg.build(WINDOW, g0, seed=7).program(np.full(20000, 1e-6), 0.0)
    b = cfg.build(WINDOW, g0, seed=7).program(np.full(20000, 1e-6), 0.0)
    np.testing.assert_array_equal(a, b)
    rel = (a - g0) / 1e-6 - 1.0
    assert abs(rel.std() - 0.1) < 0.005


def test_stuck_devices_never_move():
    dev = DeviceConfig(stuck_fraction=0.3).build(WINDOW, np.full(1000, 50e-6), seed=3)
    g = dev.program(np.full(1000, 1e-6), 0.0)
    stuck = dev.get_state()["stuck"]
    assert np.all(g[stuck] == 50e-6) and np.all(g[~stuck] == 51e-6)
    assert 0.25 < stuck.mean() < 0.35


def test_pulses_move_a_device_one_level_each_with_its_direction_gain():
    window = ConductanceWindow(1e-6, 11e-6)                       # 11 levels: 1 uS apart
    dev = DeviceConfig(levels=11, up_gain=1.0, down_gain=2.0).build(window, np.array([5e-6, 5e-6, 5e-6]))
    got = dev.program_pulses(np.array([3, 0, 2]), np.array([0, 1, 1]), 0.0)
    np.testing.assert_allclose(got, [8e-6, 3e-6, 5e-6], rtol=1e-12)


def test_pulses_need_levels_and_integer_counts():
    analog = ideal().build(WINDOW, np.full(2, 50e-6))
    with pytest.raises(ConfigError, match="levels"):
        analog.program_pulses(np.ones(2), np.zeros(2), 0.0)
    quantised = DeviceConfig(levels=8).build(WINDOW, np.full(2, 50e-6))
    with pytest.raises(ConfigError, match="up must hold non-negative integer"):
        quantised.program_pulses(np.array([0.5, 1]), np.zeros(2), 0.0)
    with pytest.raises(ConfigError, match="down must hold non-negative integer"):
        quantised.program_pulses(np.zeros(2), np.array([-1, 0]), 0.0)


def test_state_restores_conductances_stuck_devices_and_the_random_stream():
    cfg = DeviceConfig(write_noise=0.1, stuck_fraction=0.2, levels=200)
    g0 = np.linspace(10e-6, 90e-6, 50)
    a = cfg.build(WINDOW, g0, seed=11)
    a.program(np.full(50, 2e-6), 0.0)
    b = cfg.build(WINDOW, g0, seed=99)                     # another seed: another stuck mask and stream
    b.set_state(a.get_state())
    for _ in range(3):
        np.testing.assert_array_equal(a.program(np.full(50, -1e-6), 1.0), b.program(np.full(50, -1e-6), 1.0))


def test_state_of_another_shape_is_refused():
    a = ideal().build(WINDOW, np.full(3, 50e-6))
    with pytest.raises(ConfigError, match="shape"):
        a.set_state(ideal().build(WINDOW, np.full(4, 50e-6)).get_state())
    with pytest.raises(ConfigError, match="'rng'"):
        a.set_state({"g": np.full(3, 5e-5), "stuck": np.zeros(3, bool)})


def test_population_follows_the_device_model_protocol():
    dev = reram_like().build(WINDOW, np.full((2, 3), 50e-6))
    assert isinstance(dev, DevicePopulation) and isinstance(dev, DeviceModel)
    assert dev.shape == (2, 3)


def test_write_noise_does_not_depend_on_the_stuck_fraction():
    """The stuck mask is always drawn first, so a stuck fraction changes which devices move, not their noise."""
    g0 = np.full(500, 50e-6)
    free = DeviceConfig(write_noise=0.1).build(WINDOW, g0, seed=5).program(np.full(500, 1e-6), 0.0)
    some = DeviceConfig(write_noise=0.1, stuck_fraction=0.5).build(WINDOW, g0, seed=5)
    got = some.program(np.full(500, 1e-6), 0.0)
    moving = ~some.get_state()["stuck"]
    np.testing.assert_array_equal(got[moving], free[moving])


@pytest.mark.parametrize("kwargs, match", [
    (dict(levels=1), "levels"), (dict(levels=True), "levels"), (dict(write_noise=-0.1), "write_noise"),
    (dict(stuck_fraction=1.5), "stuck_fraction"), (dict(up_gain=0.0), "up_gain"), (dict(down_gain=-1), "down_gain"),
])
def test_bad_config_names_the_parameter(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DeviceConfig(**kwargs)


@pytest.mark.parametrize("g_min, g_max, match", [(-1.0, 1e-4, "g_min"), (1e-6, 1e-7, "g_max must be > g_min"),
                                                 (1e-6, 1e-6, "g_max must be > g_min")])
def test_bad_window_names_the_parameter(g_min, g_max, match):
    with pytest.raises(ConfigError, match=match):
        ConductanceWindow(g_min, g_max)


def test_device_parameters_hold_no_window():
    with pytest.raises(TypeError):
        DeviceConfig(g_min=1e-6)                            # the window is the crossbar's


def test_wrong_shape_nan_update_or_bad_time_is_refused():
    dev = reram_like().build(WINDOW, np.full(3, 50e-6))
    with pytest.raises(ConfigError, match="shape"):
        dev.program(np.zeros(4), 0.0)
    with pytest.raises(ConfigError, match="NaN"):
        dev.program(np.array([np.nan, 0, 0]), 0.0)
    with pytest.raises(ConfigError, match=r"t must be a time in \[0, inf\) s"):
        dev.read(-1.0)


def test_gain_step_is_the_request_scaled_by_its_direction():
    step = GainStep(up_gain=0.5, down_gain=3.0)
    np.testing.assert_array_equal(step.realised(np.zeros(3), np.array([2.0, -1.0, 0.0])), [1.0, -3.0, 0.0])
    np.testing.assert_array_equal(step.pulsed(np.zeros(2), np.array([2, 0]), np.array([1, 1]), 0.5),
                                  [0.5 * (1.0 - 3.0), -1.5])
