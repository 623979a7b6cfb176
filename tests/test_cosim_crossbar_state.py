"""The crossbar state: devices behind the device-model protocol, inside the crossbar's one conductance window."""

import json

import numpy as np
import pytest

from recirc_analog.cli import build_parser
from recirc_analog.commands.cosim import build_configs
from recirc_analog.cosim.crossbar_state import CrossbarState
from recirc_analog.cosim.lockstep import fingerprint
from recirc_analog.devices import ConductanceWindow, DeviceConfig, DeviceModel
from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.builder import get_conductances
from recirc_analog.schematic.mapping import ConductanceMapping
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig


def _state(crossbar: CrossbarConfig, device=DeviceConfig(), seed=0, sizes=(6, 3, 6)):
    net = CircularAutoencoder.random(sizes, ("tanh", "linear"), seed=2)
    spec = CircuitSpec(crossbar=crossbar)
    return CrossbarState(get_conductances(net, spec), ConductanceMapping(crossbar, crossbar.r_f), device, seed)


@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_devices_are_bounded_by_the_crossbar_window(mapping):
    crossbar = CrossbarConfig(g_min=2e-6, g_max=20e-6, r_f=2e5, mapping=mapping)
    state = _state(crossbar)
    assert state.window == ConductanceWindow(2e-6, 20e-6)
    big = Update((np.full((3, 6), 50.0), np.full((6, 3), -50.0)), (np.full(3, 50.0), np.full(6, -50.0)))
    state.apply(big)
    assert state.clipped > 0
    devices = np.concatenate([g.ravel() for c in state.all_conductances() for g in (c.plus, c.minus)
                              if g is not None])
    assert devices.min() == pytest.approx(2e-6, rel=1e-12) and devices.max() == pytest.approx(20e-6, rel=1e-12)


def test_the_cli_builds_the_window_from_one_value():
    args = build_parser().parse_args(["cosim", "--g-min", "2e-6", "--g-max", "5e-5", "--levels", "16",
                                      "--out", "unused"])
    config, spec, device = build_configs(args)
    assert (spec.crossbar.g_min, spec.crossbar.g_max) == (2e-6, 5e-5)
    assert not hasattr(device, "g_min") and not hasattr(device, "g_max")
    settings = json.loads(fingerprint(config, spec, device))
    assert settings["spec"]["crossbar"]["g_max"] == 5e-5
    assert "g_max" not in settings["device"] and settings["device"]["kind"] == "DeviceConfig"
    levels = _state(CrossbarConfig(g_min=2e-6, g_max=5e-5, r_f=1e5), device)
    step = (5e-5 - 2e-6) / 15                                   # 16 levels across the crossbar's window
    for c in levels.all_conductances():
        k = (c.plus - 2e-6) / step
        np.testing.assert_allclose(k, np.round(k), atol=1e-9)


class RecordingModel:
    """A device model that is only its protocol: the state must not need anything else."""

    def __init__(self, initial):
        self._g = np.array(initial, dtype=float)
        self.calls = []

    @property
    def shape(self):
        return self._g.shape

    def program(self, request, t):
        self.calls.append(("program", t))
        self._g = self._g + request
        return self._g.copy()

    def program_pulses(self, up, down, t):
        raise AssertionError("not used by the crossbar state")

    def read(self, t):
        self.calls.append(("read", t))
        return self._g.copy()

    def get_state(self):
        return {"g": self._g.copy()}

    def set_state(self, state):
        self._g = np.array(state["g"], dtype=float)


class RecordingDevices:
    """A device record: builds RecordingModel populations (and remembers the window it was given)."""

    def __init__(self):
        self.windows = []

    def build(self, window, initial, seed=0):
        self.windows.append(window)
        return RecordingModel(initial)


def test_the_state_uses_nothing_but_the_device_protocol():
    devices = RecordingDevices()
    crossbar = CrossbarConfig(g_min=1e-6, g_max=1e-4, r_f=1e5)
    state = _state(crossbar, devices)
    assert devices.windows == [ConductanceWindow(1e-6, 1e-4)] * 4       # G+ and G- of two layers
    assert all(isinstance(d, DeviceModel) for d in state.plus + state.minus)
    (w1, w2), _ = state.weights()
    rng = np.random.default_rng(0)
    update = Update((rng.normal(0, 0.01, w1.shape), rng.normal(0, 0.01, w2.shape)), (np.zeros(3), np.zeros(6)))
    state.t = 2.5
    state.apply(update)
    (v1, v2), _ = state.weights()
    np.testing.assert_allclose(v1 - w1, update.weights[0], atol=1e-12)
    assert ("program", 2.5) in state.plus[0].calls and ("read", 2.5) in state.plus[0].calls
    saved = state.get_state()
    assert sorted(saved) == ["g_minus_1", "g_minus_2", "g_plus_1", "g_plus_2"]
    copy = _state(crossbar, RecordingDevices())
    copy.set_state(saved)
    for a, b in zip(copy.all_conductances(), state.all_conductances()):
        np.testing.assert_array_equal(a.plus, b.plus)


def test_a_checkpoint_without_a_population_is_refused():
    crossbar = CrossbarConfig(r_f=1e5)
    saved = _state(crossbar).get_state()
    saved.pop("g_minus_2"), saved.pop("stuck_minus_2"), saved.pop("rng_minus_2")
    with pytest.raises(ConfigError, match="no device state for the minus devices of array 2"):
        _state(crossbar).set_state(saved)
    with pytest.raises(ConfigError, match="device must be a device configuration with build"):
        _state(crossbar, device="ideal")
