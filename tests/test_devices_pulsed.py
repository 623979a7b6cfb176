"""Pulsed device models against their closed forms: one pulse, saturation, drift, read noise, schemes, presets."""

import json
import math
from types import SimpleNamespace

import numpy as np
import pytest

from recirc_analog.cosim.controller import CosimController
from recirc_analog.cosim.crossbar_state import CrossbarState
from recirc_analog.devices import (
    DEVICE_PRESETS,
    ConductanceWindow,
    ConstantStep,
    DeviceConfig,
    DeviceModel,
    DeviceSpread,
    Drift,
    ExponentialStep,
    LinearStep,
    OpenLoopPulses,
    PowerStep,
    PulsedDevice,
    PulsedPopulation,
    PulseStep,
    WriteVerify,
    device_from_json,
    device_to_json,
    load_device,
    soft_bounds_step,
)
from recirc_analog.errors import ConfigError, DataError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.builder import get_conductances
from recirc_analog.schematic.mapping import ConductanceMapping
from recirc_analog.schematic.spec import CircuitSpec, CrossbarConfig

WINDOW = ConductanceWindow(1e-6, 101e-6)
SPAN = 100e-6
N = 40000


def _one_pulse(device, g0, up=True, seed=0):
    pop = device.build(WINDOW, g0, seed=seed)
    ones, zeros = np.ones(g0.shape, int), np.zeros(g0.shape, int)
    return pop.program_pulses(ones if up else zeros, zeros if up else ones, 0.0) - g0


@pytest.mark.parametrize("up", [True, False])
def test_constant_step_pulse_has_the_closed_form_mean_and_variance(up):
    step = ConstantStep(dw_min=0.01, up_down=0.2)
    change = _one_pulse(PulsedDevice(step=step, dw_min_std=0.3), np.full(N, 51e-6), up)
    size = SPAN * 0.01 * (1.2 if up else 0.8)
    sign = 1 if up else -1
    assert abs(change.mean() - sign * size) < 4 * 0.3 * size / math.sqrt(N)
    assert change.std() == pytest.approx(0.3 * size, rel=0.02)


def test_device_to_device_spread_of_step_and_asymmetry_has_the_requested_size():
    device = PulsedDevice(step=ConstantStep(dw_min=0.01, up_down=0.1), spread=DeviceSpread(dw_min=0.5, up_down=0.05))
    pop = device.build(WINDOW, np.full(N, 51e-6), seed=4)
    scale = (pop.dw_up + pop.dw_down) / 2 / 0.01                 # mean-1 log-normal factor
    assert scale.mean() == pytest.approx(1.0, abs=0.01) and scale.std() == pytest.approx(0.5, rel=0.03)
    assert np.all(scale > 0)
    asymmetry = (pop.dw_up - pop.dw_down) / (pop.dw_up + pop.dw_down)
    assert asymmetry.mean() == pytest.approx(0.1, abs=0.002) and asymmetry.std() == pytest.approx(0.05, rel=0.03)
    change = pop.program_pulses(np.ones(N, int), np.zeros(N, int), 0.0) - 51e-6
    np.testing.assert_allclose(change, SPAN * pop.dw_up, rtol=1e-9)   # no cycle-to-cycle noise: exactly the own step


def test_linear_step_saturates_at_one_over_gamma_with_the_geometric_law():
    """c_{n+1} = c_n + 2 dw (1 - gamma c_n)  =>  1/gamma - c_n = (1 - 2 dw gamma)^n (1/gamma - c_0)."""
    dw, gamma, c0 = 0.01, 2.0, -1.0
    for n in (1, 7, 40, 1000):
        pop = PulsedDevice(step=LinearStep(dw_min=dw, gamma_up=gamma)).build(WINDOW, np.full(1, 1e-6))
        g = pop.program_pulses(np.array([n]), np.array([0]), 0.0)
        c = 2 * (g[0] - 1e-6) / SPAN - 1
        assert c == pytest.approx(1 / gamma - (1 - 2 * dw * gamma) ** n * (1 / gamma - c0), abs=1e-12)
    assert g[0] == pytest.approx(1e-6 + SPAN * (1 + 1 / gamma) / 2, rel=1e-12)   # the saturation level


def test_soft_bounds_under_alternating_pulses_settle_at_the_symmetry_point():
    """dw (1 + u)(1 - c) = dw (1 - u)(1 + c)  =>  c* = u."""
    pop = PulsedDevice(step=soft_bounds_step(dw_min=0.02, up_down=0.3)).build(WINDOW, np.full(1, 90e-6))
    g = pop.program_pulses(np.array([3000]), np.array([3000]), 0.0)
    assert 2 * (g[0] - 1e-6) / SPAN - 1 == pytest.approx(0.3, abs=0.02)


def test_power_and_exponential_steps_follow_their_formulas():
    x = np.linspace(0.05, 0.95, 7)
    g0 = 1e-6 + SPAN * x
    power = PowerStep(dw_min=0.01, up_down=0.0, gamma_up=1.7, gamma_down=0.6)
    np.testing.assert_allclose(_one_pulse(PulsedDevice(step=power), g0), SPAN * 0.01 * (1 - x) ** 1.7, rtol=1e-9)
    np.testing.assert_allclose(_one_pulse(PulsedDevice(step=power), g0, up=False), -SPAN * 0.01 * x ** 0.6, rtol=1e-9)
    exp = ExponentialStep(dw_min=0.01, up_down=0.2, a=-0.5, b=-0.5, gamma_up=5, gamma_down=5, A_up=-1.2, A_down=-0.08)
    z = -0.5 * (2 * x - 1) - 0.5
    np.testing.assert_allclose(_one_pulse(PulsedDevice(step=exp), g0),
                               SPAN * 0.012 * (1 + 1.2 * np.exp(5 * z)), rtol=1e-9)
    np.testing.assert_allclose(_one_pulse(PulsedDevice(step=exp), g0, up=False),
                               -SPAN * 0.008 * (1 + 0.08 * np.exp(-5 * z)), rtol=1e-9)
    for step in (ConstantStep(), LinearStep(), exp, power):
        assert isinstance(step, PulseStep)


def test_drift_follows_the_power_law_from_each_devices_last_programming_time():
    drift = Drift(nu_mean=0.05, nu_std=0.0, t0=20.0)
    pop = PulsedDevice(drift=drift).build(WINDOW, np.full(2, 60e-6))
    np.testing.assert_array_equal(pop.read(10.0), [60e-6, 60e-6])          # before t0: as programmed
    np.testing.assert_allclose(pop.read(2000.0), 60e-6 * 100.0 ** -0.05, rtol=1e-12)
    pop.program_pulses(np.array([1, 0]), np.array([0, 0]), 1000.0)          # device 0 restarts its clock
    got = pop.read(1000.0 + 200.0)
    assert got[0] == pytest.approx((60e-6 * 50.0 ** -0.05 + SPAN * 1e-3) * 10.0 ** -0.05, rel=1e-12)
    assert got[1] == pytest.approx(60e-6 * 60.0 ** -0.05, rel=1e-12)        # never reprogrammed: one law


def test_drift_exponents_spread_as_requested():
    pop = PulsedDevice(drift=Drift(nu_mean=0.1, nu_std=0.02, t0=1.0)).build(WINDOW, np.full(N, 80e-6), seed=3)
    nu = -np.log(pop.read(1e4) / 80e-6) / np.log(1e4)
    assert nu.mean() == pytest.approx(0.1, abs=0.001) and nu.std() == pytest.approx(0.02, rel=0.03)


def test_read_noise_is_fresh_has_the_closed_form_variance_and_never_changes_programming():
    device = PulsedDevice(read_noise=0.01, dw_min_std=0.5)
    pop = device.build(WINDOW, np.full(N, 50e-6), seed=1)
    a, b = pop.read(0.0), pop.read(0.0)
    assert not np.array_equal(a, b)
    assert (a - 50e-6).std() == pytest.approx(0.01 * SPAN, rel=0.02) and abs((a - 50e-6).mean()) < 2e-8
    quiet = device.build(WINDOW, np.full(N, 50e-6), seed=1)
    request = np.full(N, 3e-6)
    np.testing.assert_array_equal(pop.program(request, 0.0), quiet.program(request, 0.0))


def test_stuck_devices_never_move():
    device = PulsedDevice(step=ConstantStep(dw_min=0.01), stuck_min=0.1, stuck_max=0.2, dw_min_std=0.3,
                          drift=Drift(nu_mean=0.1, t0=1.0))
    pop = device.build(WINDOW, np.full(5000, 50e-6), seed=2)
    stuck = pop.get_state()["stuck"]
    assert 0.08 < (stuck < 0).mean() < 0.12 and 0.18 < (stuck > 0).mean() < 0.22
    for t in (0.0, 10.0, 100.0):
        pop.program(np.full(5000, 5e-6), t)
        pop.program_pulses(np.full(5000, 3), np.full(5000, 1), t)
        g = pop.read(t + 50.0)
        assert np.all(g[stuck < 0] == WINDOW.g_min) and np.all(g[stuck > 0] == WINDOW.g_max)
    assert np.all(g[stuck == 0] != 50e-6)


def test_quantisation_holds_after_every_update():
    device = PulsedDevice(step=ConstantStep(dw_min=0.013), dw_min_std=0.4, levels=17,
                          spread=DeviceSpread(dw_min=0.3, bounds=0.1))
    pop = device.build(WINDOW, np.linspace(2e-6, 99e-6, 300), seed=5)
    level = SPAN / 16
    rng = np.random.default_rng(0)
    for k in range(10):
        if k % 2:
            pop.program(rng.normal(0, 10e-6, 300), float(k))
        else:
            pop.program_pulses(rng.integers(0, 9, 300), rng.integers(0, 9, 300), float(k))
        steps = (pop.read(float(k)) - 1e-6) / level
        np.testing.assert_allclose(steps, np.round(steps), atol=1e-9)


def test_open_loop_counts_come_from_the_request_and_realise_the_models_change():
    step = SPAN * 0.01
    device = PulsedDevice(step=ConstantStep(dw_min=0.01, up_down=0.25))
    pop = device.build(WINDOW, np.full(3, 50e-6))
    got = pop.program(np.array([3.4 * step, -2.6 * step, 0.3 * step]), 0.0)
    np.testing.assert_allclose(got - 50e-6, [3 * 1.25 * step, -3 * 0.75 * step, 0.0], rtol=1e-12)


def test_stochastic_pulse_coincidence_counts_are_binomial():
    scheme = OpenLoopPulses(stochastic=True, bit_length=20)
    counts = scheme.counts(np.full(N, 5.0), 1.0, np.random.default_rng(0))
    assert counts.mean() == pytest.approx(5.0, abs=0.05)
    assert counts.var() == pytest.approx(5.0 * (1 - 5.0 / 20), rel=0.03)
    assert scheme.counts(np.array([100.0]), 1.0, np.random.default_rng(0))[0] == 20     # capped at the train
    device = PulsedDevice(step=ConstantStep(dw_min=0.001), programming=scheme)
    change = device.build(WINDOW, np.full(N, 50e-6), seed=9).program(np.full(N, 5 * SPAN * 0.001), 0.0) - 50e-6
    assert change.mean() == pytest.approx(5 * SPAN * 0.001, rel=0.01)


def test_write_verify_reaches_the_tolerance_that_open_loop_misses():
    noisy = dict(step=ConstantStep(dw_min=0.002, up_down=0.3), dw_min_std=0.5, read_noise=0.0)
    g0, request = np.full(2000, 30e-6), np.full(2000, 20e-6)
    open_loop = PulsedDevice(**noisy).build(WINDOW, g0).program(request, 0.0)
    verified = PulsedDevice(**noisy, programming=WriteVerify(max_iterations=20, tolerance=0.005)).build(WINDOW, g0)
    got = verified.program(request, 0.0)
    assert np.abs(open_loop - 50e-6).max() > 0.05 * SPAN
    assert np.abs(got - 50e-6).max() <= 0.005 * SPAN
    once = PulsedDevice(**noisy, programming=WriteVerify(max_iterations=1)).build(WINDOW, g0).program(request, 0.0)
    np.testing.assert_array_equal(once, open_loop)                              # one round is open loop


def test_seeds_reproduce_and_state_restores_every_stream():
    device = PulsedDevice(step=LinearStep(dw_min=0.01), dw_min_std=0.3, read_noise=0.01,
                          spread=DeviceSpread(dw_min=0.3, up_down=0.05, gamma=0.1, bounds=0.05),
                          drift=Drift(nu_mean=0.05, nu_std=0.01, t0=1.0), stuck_min=0.05,
                          programming=OpenLoopPulses(stochastic=True))
    g0, request = np.linspace(10e-6, 90e-6, 64).reshape(8, 8), np.full((8, 8), 2e-6)
    a, b, c = (device.build(WINDOW, g0, seed=s) for s in (3, 3, 4))
    np.testing.assert_array_equal(a.program(request, 1.0), b.program(request, 1.0))
    assert not np.array_equal(a.read(5.0), c.read(5.0))
    b.read(5.0)                                                     # keep the read streams in step
    d = device.build(WINDOW, g0, seed=99)
    d.set_state(a.get_state())
    for t in (10.0, 20.0):
        np.testing.assert_array_equal(a.program(-request, t), d.program(-request, t))
        np.testing.assert_array_equal(a.read(t), d.read(t))
    assert d.get_state()["t_last"] == 20.0
    with pytest.raises(ConfigError, match="'read_rng'"):
        d.set_state({k: v for k, v in a.get_state().items() if k != "read_rng"})


def test_population_follows_the_protocol_and_refuses_bad_input():
    pop = PulsedDevice().build(WINDOW, np.full((2, 3), 50e-6))
    assert isinstance(pop, PulsedPopulation) and isinstance(pop, DeviceModel) and pop.shape == (2, 3)
    with pytest.raises(ConfigError, match="shape"):
        pop.program(np.zeros(4), 0.0)
    with pytest.raises(ConfigError, match="NaN"):
        pop.program(np.full((2, 3), np.nan), 0.0)
    with pytest.raises(ConfigError, match="down must hold non-negative integer"):
        pop.program_pulses(np.zeros((2, 3)), np.full((2, 3), 0.5), 0.0)
    with pytest.raises(ConfigError, match=r"t must be a time"):
        pop.read(-1.0)


@pytest.mark.parametrize("make, match", [
    (lambda: ConstantStep(dw_min=0.0), r"dw_min must be in \(0.0, 1.0\]"),
    (lambda: LinearStep(up_down=1.0), "up_down"),
    (lambda: PowerStep(gamma_up=-1), "gamma_up"),
    (lambda: Drift(t0=0), "t0"),
    (lambda: DeviceSpread(bounds=-0.1), "bounds"),
    (lambda: PulsedDevice(stuck_min=0.6, stuck_max=0.6), "stuck_min \\+ stuck_max"),
    (lambda: PulsedDevice(levels=1), "levels"),
    (lambda: PulsedDevice(step=DeviceConfig()), "step must be one of"),
    (lambda: PulsedDevice(programming="open"), "programming must be one of"),
    (lambda: OpenLoopPulses(bit_length=0), "bit_length"),
    (lambda: OpenLoopPulses(stochastic=1), "stochastic"),
    (lambda: WriteVerify(max_iterations=2.5), "max_iterations"),
])
def test_bad_records_name_the_parameter(make, match):
    with pytest.raises(ConfigError, match=match):
        make()


@pytest.mark.parametrize("name", sorted(DEVICE_PRESETS))
def test_presets_round_trip_through_json_and_build(name, tmp_path):
    record = DEVICE_PRESETS[name]()
    text = json.dumps(device_to_json(record))
    assert device_from_json(json.loads(text)) == record
    path = tmp_path / f"{name}.json"
    path.write_text(text)
    assert load_device(str(path)) == record == load_device(name)
    pop = record.build(WINDOW, np.full((4, 5), 50e-6), seed=1)
    assert isinstance(pop, DeviceModel)
    pop.program(np.full((4, 5), 1e-6), 1.0)
    assert np.all((pop.read(2.0) >= WINDOW.g_min) & (pop.read(2.0) <= WINDOW.g_max))


def test_presets_cite_their_source_and_the_ideal_one_is_todays_device():
    assert DEVICE_PRESETS["ideal"]() == DeviceConfig()
    for name in ("reram-hfo2", "reram-es", "pcm", "ecram"):
        doc = DEVICE_PRESETS[name].__doc__
        assert "Source" in doc or "Step:" in doc
        assert any(year in doc for year in ("2018", "2019", "2020", "2022"))


def test_load_device_refuses_bad_input_in_one_line(tmp_path):
    with pytest.raises(ConfigError, match="ideal, reram-like, reram-hfo2, reram-es, pcm, ecram") as info:
        load_device("memristor")
    assert "\n" not in str(info.value)
    with pytest.raises(DataError, match="does not exist"):
        load_device(str(tmp_path / "none.json"))
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    with pytest.raises(DataError, match="not valid JSON"):
        load_device(str(bad))
    bad.write_text(json.dumps({"kind": "PulsedDevice", "read_noise": -1}))
    with pytest.raises(ConfigError, match="read_noise must be in"):
        load_device(str(bad))
    bad.write_text(json.dumps({"kind": "PulsedDevice", "g_max": 1e-4}))
    with pytest.raises(ConfigError, match="no field 'g_max'"):
        load_device(str(bad))
    bad.write_text(json.dumps({"kind": "Memristor"}))
    with pytest.raises(ConfigError, match="kind must be one of"):
        load_device(str(bad))


def _state(device, seed=0):
    crossbar = CrossbarConfig(g_min=1e-6, g_max=1e-4, r_f=1e5)
    net = CircularAutoencoder.random((6, 3, 6), ("tanh", "linear"), seed=2)
    spec = CircuitSpec(crossbar=crossbar)
    return CrossbarState(get_conductances(net, spec), ConductanceMapping(crossbar, crossbar.r_f), device, seed)


def test_crossbar_state_programs_pulsed_devices_and_resumes_its_clock():
    device = load_device("pcm")
    state = _state(device)
    (w1, w2), _ = state.weights()
    update = Update((np.full(w1.shape, 0.01), np.full(w2.shape, -0.01)), (np.zeros(3), np.zeros(6)))
    state.advance(1e-3)
    state.apply(update)
    assert state.t == 1e-3
    saved = state.get_state()
    fresh = _state(device, seed=5)
    fresh.set_state(saved)
    assert fresh.t == 1e-3
    for t in (30.0, 300.0):
        state.advance(t), fresh.advance(t)
        state.apply(update), fresh.apply(update)
        for a, b in zip(state.all_conductances(), fresh.all_conductances()):
            np.testing.assert_array_equal(a.plus, b.plus)
    with pytest.raises(ConfigError, match="seconds"):
        state.advance(-1.0)


def test_the_controller_advances_the_clock_by_the_phase_time_of_a_batch():
    spec = CircuitSpec()
    fake = SimpleNamespace(spec=spec)
    assert CosimController.batch_seconds(fake, 8) == 8 * (1 + spec.cycles) * spec.clock.phase


def test_a_cosimulation_with_drift_and_read_noise_resumes_exactly(tmp_path):
    """The device clock, the drift clocks and all three streams survive a checkpoint (pcm preset)."""
    from recirc_analog.cosim.lockstep import CosimConfig
    from recirc_analog.jobs.cosim import run_cosim
    from recirc_analog.reference.recirculation import Recirculation

    config = CosimConfig(sizes=(16, 6, 16), activations=("tanh", "linear"), batches=4, batch_size=8, lr=0.002,
                         seed=4, checkpoint_every=1, test_samples=8)
    spec = CircuitSpec(recirculation=Recirculation("pr"))
    device = load_device("pcm")
    run_cosim(config, spec, device, tmp_path / "full", show_progress=False)
    run_cosim(config, spec, device, tmp_path / "split", show_progress=False, stop_after=2)
    run_cosim(config, spec, device, tmp_path / "split", resume=True, show_progress=False)
    a = CircularAutoencoder.load(tmp_path / "full" / "weights_cosim.npz")
    b = CircularAutoencoder.load(tmp_path / "split" / "weights_cosim.npz")
    for x, y in zip(a.weights + a.biases, b.weights + b.biases):
        np.testing.assert_array_equal(x, y)
