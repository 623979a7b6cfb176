"""Device models against their defining formulas."""

import numpy as np
import pytest

from recirc_analog.devices import DeviceArray, DeviceConfig, ideal, reram_like
from recirc_analog.errors import ConfigError


def test_ideal_device_realises_change_exactly_inside_window():
    g0 = np.full((3, 4), 50e-6)
    dev = DeviceArray(ideal(), g0, seed=1)
    dg = np.linspace(-10e-6, 10e-6, 12).reshape(3, 4)
    np.testing.assert_array_equal(dev.apply(dg), g0 + dg)


def test_window_clips_at_bounds():
    dev = DeviceArray(ideal(1e-6, 100e-6), np.array([2e-6, 99e-6]))
    np.testing.assert_array_equal(dev.apply(np.array([-5e-6, 5e-6])), [1e-6, 100e-6])


def test_quantised_levels_are_on_grid():
    cfg = DeviceConfig(levels=11, g_min=0.0 + 1e-6, g_max=11e-6)
    dev = DeviceArray(cfg, np.array([3.3e-6]))
    step = 1e-6
    k = (dev.conductances - 1e-6) / step
    np.testing.assert_allclose(k, np.round(k), atol=1e-9)


def test_asymmetry_scales_up_and_down_steps():
    cfg = DeviceConfig(up_gain=0.5, down_gain=2.0)
    dev = DeviceArray(cfg, np.array([50e-6, 50e-6]))
    np.testing.assert_allclose(dev.apply(np.array([4e-6, -4e-6])), [52e-6, 42e-6])


def test_noise_is_reproducible_from_seed_and_has_requested_scale():
    cfg = DeviceConfig(write_noise=0.1)
    g0 = np.full(20000, 50e-6)
    a = DeviceArray(cfg, g0, seed=7).apply(np.full(20000, 1e-6))
    b = DeviceArray(cfg, g0, seed=7).apply(np.full(20000, 1e-6))
    np.testing.assert_array_equal(a, b)
    rel = (a - g0) / 1e-6 - 1.0
    assert abs(rel.std() - 0.1) < 0.005


def test_stuck_devices_never_move():
    cfg = DeviceConfig(stuck_fraction=0.3)
    dev = DeviceArray(cfg, np.full(1000, 50e-6), seed=3)
    g = dev.apply(np.full(1000, 1e-6))
    assert np.all(g[dev.stuck] == 50e-6) and np.all(g[~dev.stuck] == 51e-6)
    assert 0.25 < dev.stuck.mean() < 0.35


@pytest.mark.parametrize("kwargs, match", [
    (dict(g_min=-1.0), "g_min"), (dict(g_max=1e-7), "g_max"), (dict(levels=1), "levels"),
    (dict(write_noise=-0.1), "write_noise"), (dict(stuck_fraction=1.5), "stuck_fraction"),
])
def test_bad_config_names_the_parameter(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        DeviceConfig(**kwargs)


def test_wrong_shape_or_nan_update_is_refused():
    dev = DeviceArray(reram_like(), np.full(3, 50e-6))
    with pytest.raises(ConfigError, match="shape"):
        dev.apply(np.zeros(4))
    with pytest.raises(ConfigError, match="NaN"):
        dev.apply(np.array([np.nan, 0, 0]))
