"""The hardware-aware hot path's shortcuts against the general code they replace (issue 11).

Oracles: each shortcut is checked against the general path on an identically seeded twin,
so that any difference in a conductance, a programming time, a clipped count or a random
stream shows: the sparse programming of deterministic pulses (``program_at``) against
``program`` with the full request, the counts of the pulsed devices (``pulsed``) against
the full ``counts`` (same values, same draws), the pair policy on the synapses that may
pulse against the policy on every synapse, and the clipped count taken when asked against
the count of the held conductances and the policy's requests before programming.
"""

import dataclasses
import json

import numpy as np
import pytest

from recirc_analog.cosim.crossbar_state import CrossbarState, _in_siemens, pair_requests
from recirc_analog.devices import (
    ConductanceWindow,
    DeviceSpread,
    Drift,
    ExponentialStep,
    OpenLoopPulses,
    PulsedDevice,
    WriteVerify,
    load_device,
)
from recirc_analog.errors import ConfigError
from recirc_analog.reference.updates import Update
from recirc_analog.schematic.mapping import ConductanceMapping
from recirc_analog.schematic.spec import CrossbarConfig

WINDOW = ConductanceWindow(1e-6, 101e-6)
SPAN = 100e-6
# Deterministic pulses with everything that takes another code path: spread, cycle-to-cycle
# noise, read noise, drift (t0 short, so it starts), stuck devices both ways, levels.
DETERMINISTIC = PulsedDevice(
    step=ExponentialStep(dw_min=0.01, a=-1.0, b=-1.0, gamma_up=2.5, gamma_down=2.5, A_up=-27.0, A_down=-2.2),
    dw_min_std=0.6, spread=DeviceSpread(dw_min=0.2, up_down=0.05, bounds=0.1), read_noise=0.01,
    drift=Drift(nu_mean=0.05, nu_std=0.01, t0=0.5), stuck_min=0.03, stuck_max=0.02, levels=500)


def _state(population):
    state = population.get_state()
    return {key: (value if value.dtype.kind in "fiub" else str(value)) for key, value in state.items()}


def _assert_same(a, b):
    sa, sb = _state(a), _state(b)
    assert sa.keys() == sb.keys()
    for key in sa:
        np.testing.assert_array_equal(sa[key], sb[key], err_msg=key)


def test_program_at_is_program_with_zeros_elsewhere():
    rng = np.random.default_rng(1)
    initial = WINDOW.g_min + SPAN * rng.random((30, 50))
    full, sparse = DETERMINISTIC.build(WINDOW, initial, seed=3), DETERMINISTIC.build(WINDOW, initial, seed=3)
    t = 0.0
    for k in range(8):
        t += (0.3, 0.0, 2.0, 1e-6)[k % 4]                  # the same time twice; drift on from t0
        request = 4e-6 * rng.standard_normal(initial.shape) * (rng.random(initial.shape) < 0.5)
        idx = np.flatnonzero(request)
        got = sparse.program_at(idx, request.ravel()[idx], t)
        np.testing.assert_array_equal(got, full.program(request, t))
        np.testing.assert_array_equal(sparse.read(t), full.read(t))
        np.testing.assert_array_equal(sparse.peek(t + 1.0), full.peek(t + 1.0))
        _assert_same(sparse, full)
    assert np.any(_state(full)["t_prog"] > 0)              # pulses were given


def test_may_pulse_finds_every_device_a_smaller_request_pulses():
    rng = np.random.default_rng(2)
    pop = DETERMINISTIC.build(WINDOW, WINDOW.g_min + SPAN * rng.random(5000), seed=0)
    size = 2e-6 * np.abs(rng.standard_normal(5000))          # 0 to ~6 nominal steps of 1e-6 S
    request = size * rng.uniform(-1.0, 1.0, 5000)            # |request| <= size
    counts = pop.device.programming.counts(request, pop.nominal_step, None)
    assert np.all(np.isin(np.flatnonzero(counts), pop.may_pulse(size)))
    assert 0 < pop.may_pulse(size).size < 5000
    exact = pop.device.programming.counts(size, pop.nominal_step, None)
    np.testing.assert_array_equal(pop.may_pulse(size), np.flatnonzero(exact))


@pytest.mark.parametrize("scheme", [OpenLoopPulses(), OpenLoopPulses(stochastic=True, bit_length=15),
                                    WriteVerify(max_pulses=7)])
def test_pulsed_counts_are_the_nonzero_counts_with_the_same_draws(scheme):
    rng = np.random.default_rng(3)
    request = 3e-6 * rng.standard_normal((40, 60)) * (rng.random((40, 60)) < 0.4)
    a, b = np.random.default_rng(9), np.random.default_rng(9)
    counts = scheme.counts(request, 1e-6, a)
    idx, some = scheme.pulsed(request, 1e-6, b)
    np.testing.assert_array_equal(idx, np.flatnonzero(counts))
    np.testing.assert_array_equal(some, counts.ravel()[idx])
    assert a.random() == b.random()                          # the streams are where they were


def test_program_at_refuses_schemes_that_need_every_request_and_bad_indices():
    for programming in (OpenLoopPulses(stochastic=True), WriteVerify()):
        pop = dataclasses.replace(DETERMINISTIC, programming=programming).build(WINDOW, np.full(4, 50e-6))
        assert not pop.programs_sparsely
        with pytest.raises(ConfigError, match="deterministic open-loop"):
            pop.program_at(np.array([0]), np.array([1e-6]), 0.0)
        with pytest.raises(ConfigError, match="deterministic open-loop"):
            pop.may_pulse(np.ones(4))
    pop = DETERMINISTIC.build(WINDOW, np.full(4, 50e-6))
    for idx in ([2, 1], [0, 4], [-1, 0]):
        with pytest.raises(ConfigError, match="idx must be increasing device indices in \\[0, 4\\)"):
            pop.program_at(np.array(idx), np.array([1e-6, 1e-6]), 0.0)
    with pytest.raises(ConfigError, match="NaN or inf"):
        pop.program_at(np.array([0]), np.array([np.nan]), 0.0)


def test_returned_arrays_are_read_only_snapshots():
    for device in (DETERMINISTIC, load_device("ideal")):
        pop = device.build(WINDOW, np.full((3, 4), 50e-6), seed=0)
        held, bounds = pop.peek(0.0), pop.bounds()
        before = held.copy()
        after = pop.program(np.full((3, 4), 5e-6), 1.0)
        for array in (held, after, *bounds):
            assert not array.flags.writeable
        np.testing.assert_array_equal(held, before)          # programming replaced, did not overwrite
        assert not np.array_equal(after, before)


def _pair(device, seed=0):
    crossbar = CrossbarConfig(g_min=1e-6, g_max=101e-6, r_f=1e4)
    mapping = ConductanceMapping(crossbar, crossbar.r_f)
    rng = np.random.default_rng(seed)
    conductances = [mapping.to_conductances(0.3 * rng.standard_normal((12, 9)), 0.1 * rng.standard_normal(12)),
                    mapping.to_conductances(0.3 * rng.standard_normal((9, 11)), 0.1 * rng.standard_normal(9))]
    return CrossbarState(conductances, mapping, device, seed=seed)


def _random_update(rng, scale: float, widths: tuple[int, int, int]) -> Update:
    """A two-layer update of normal entries times ``scale`` for layer widths ``(N0, N1, N2)``: weight
    changes ``(N0, N1)`` and ``(N1, N2)``, bias changes ``(N0,)`` and ``(N1,)`` (the draw order the
    tests were written with)."""
    n0, n1, n2 = widths
    return Update([scale * rng.standard_normal((n0, n1)), scale * rng.standard_normal((n1, n2))],
                  [scale * rng.standard_normal(n0), scale * rng.standard_normal(n1)])


def _advance_and_apply(states, dt: float, update: Update) -> None:
    """Advance each of the twin states' clocks by ``dt`` seconds, then apply the same update."""
    for state in states:
        state.advance(dt)
        state.apply(update)


def _full_path(state):
    """``state`` with its devices' sparse programming hidden, so it takes the general path."""
    for device in state.plus + state.minus:
        device.__class__ = type("Full", (device.__class__,), {"programs_sparsely": False})
    return state


@pytest.mark.parametrize("name", ["pcm", "ecram", "deterministic"])
def test_the_sparse_pair_path_is_the_full_pair_path(name):
    device = DETERMINISTIC if name == "deterministic" else load_device(name)
    sparse, full = _pair(device), _full_path(_pair(device))
    assert all(d.programs_sparsely for d in sparse.plus) and not any(d.programs_sparsely for d in full.plus)
    rng = np.random.default_rng(4)
    for k in range(6):
        _advance_and_apply((sparse, full), 0.4, _random_update(rng, 0.05, (12, 9, 11)))
        if k % 2:
            assert sparse.clipped == full.clipped
        for a, b in zip(sparse.weights()[0] + sparse.monitor_weights()[0],
                        full.weights()[0] + full.monitor_weights()[0]):
            np.testing.assert_array_equal(a, b)
    for a, b in zip(sparse.plus + sparse.minus, full.plus + full.minus):
        _assert_same(a, b)


@pytest.mark.parametrize("name", ["pcm", "reram-hfo2", "ideal"])
def test_the_clipped_count_taken_when_asked_is_the_count_before_programming(name):
    state = _pair(load_device(name), seed=5)
    rng = np.random.default_rng(6)
    for _ in range(3):
        state.advance(0.1)
        changes = [0.4 * rng.standard_normal((12, 10)), 0.4 * rng.standard_normal((9, 12))]
        expected = 0
        for k, change in enumerate(changes):
            plus, minus = state.plus[k], state.minus[k]
            held_plus, held_minus = plus.peek(state.t).copy(), minus.peek(state.t).copy()
            (low_plus, high_plus), (low_minus, high_minus) = plus.bounds(), minus.bounds()
            d_plus, d_minus = pair_requests(change / state.mapping.r_f, held_plus, held_minus, low_plus, low_minus)
            expected += int(np.count_nonzero((held_plus + d_plus > high_plus) | (held_minus + d_minus > high_minus)))
        state.apply(Update([c[:, :-1] for c in changes], [c[:, -1] for c in changes]))
        assert expected > 0 and state.clipped == expected


@pytest.mark.parametrize("stochastic", [False, True])
def test_the_open_loop_round_on_pulsed_devices_is_the_full_array_round(stochastic):
    """``program`` (pulsed devices only) against the full-array round write-verify still uses
    (``_round`` over every device, then ``_commit``), on an identically seeded twin."""
    device = dataclasses.replace(DETERMINISTIC, programming=OpenLoopPulses(stochastic=stochastic, bit_length=9))
    rng = np.random.default_rng(7)
    initial = WINDOW.g_min + SPAN * rng.random((25, 40))
    fast, general = device.build(WINDOW, initial, seed=8), device.build(WINDOW, initial, seed=8)
    t = 0.0
    for k in range(6):
        t += (0.2, 0.7, 0.0)[k % 3]
        request = 5e-6 * rng.standard_normal(initial.shape) * (rng.random(initial.shape) < 0.5)
        got = fast.program(request, t)
        new, pulsed = general._round(general._present(t), request, device.programming)
        np.testing.assert_array_equal(got, general._commit(new, pulsed, t))
        _assert_same(fast, general)
    assert np.count_nonzero(_state(general)["t_prog"]) > 100


def test_the_sparse_pair_path_is_the_full_pair_path_in_the_bidirectional_architecture():
    """Layer 2's weights are layer 1's devices read backwards; its own array is a bias column."""
    crossbar = CrossbarConfig(g_min=1e-6, g_max=101e-6, r_f=1e4)
    mapping = ConductanceMapping(crossbar, crossbar.r_f)
    rng = np.random.default_rng(0)
    w1 = 0.3 * rng.standard_normal((7, 10))
    conductances = [mapping.to_conductances(w1, 0.1 * rng.standard_normal(7)),
                    mapping.to_conductances(w1.T.copy(), 0.1 * rng.standard_normal(10))]
    sparse, full = (CrossbarState(conductances, mapping, load_device("pcm"), seed=2, architecture="bidirectional")
                    for _ in range(2))
    _full_path(full)
    for _ in range(8):
        _advance_and_apply((sparse, full), 0.5, _random_update(rng, 0.3, (7, 10, 7)))
        assert sparse.clipped == full.clipped
        for a, b in zip(sparse.weights()[0] + sparse.weights()[1], full.weights()[0] + full.weights()[1]):
            np.testing.assert_array_equal(a, b)
    assert np.count_nonzero(_state(sparse.plus[0])["t_prog"]) > 20 and sparse.clipped > 0


def test_the_drifted_present_is_the_drift_law_bit_for_bit():
    """The in-place power law of ``_present`` against ``g * Drift.factor(t - t_prog, nu)``, with
    devices before t0 (factor exactly 1), after it, stuck ones (nu = 0) and just programmed ones."""
    rng = np.random.default_rng(11)
    pop = DETERMINISTIC.build(WINDOW, WINDOW.g_min + SPAN * rng.random((20, 30)), seed=4)
    t, mixed = 0.0, 0
    for k in range(6):
        t += (0.3, 0.45, 1.7)[k % 3]
        request = 3e-6 * rng.standard_normal(pop.shape) * (rng.random(pop.shape) < 0.3)
        pop.program(request, t)
        state = pop.get_state()
        for later in (t, t + 0.2, t + 0.6, t + 40.0):
            expected = state["g"] * DETERMINISTIC.drift.factor(later - state["t_prog"], state["nu"])
            np.testing.assert_array_equal(pop._present(later), expected)
            np.testing.assert_array_equal(pop.peek(later), WINDOW.clip(expected))
            late = later - state["t_prog"] > DETERMINISTIC.drift.t0
            mixed += 0 < np.count_nonzero(late) < late.size
    assert mixed >= 3                                        # devices on both sides of t0 at once
    # Every free device programmed at 10 s, then some at 2 s (the clock is the caller's): the drift
    # test's bound of min(t_prog) must follow it down, or the devices of 2 s would not drift at 2.6 s.
    free = dataclasses.replace(DETERMINISTIC, stuck_min=0.0, stuck_max=0.0)
    pop = free.build(WINDOW, np.full((5, 6), 50e-6), seed=5)
    pop.program(np.full(pop.shape, 5e-6), 10.0)
    pop.set_state(pop.get_state())                           # the bound is worked out afresh: 10 s
    pop._present(10.5)
    pop.program(np.where(rng.random(pop.shape) < 0.5, -5e-6, 0.0), 2.0)
    state = pop.get_state()
    assert state["t_prog"].min() == 2.0 and state["t_prog"].max() == 10.0
    for later in (2.6, 10.2, 11.0):
        expected = state["g"] * free.drift.factor(later - state["t_prog"], state["nu"])
        np.testing.assert_array_equal(pop._present(later), expected)
    assert np.any(pop._present(2.6) != state["g"])


def test_the_rounded_counts_prefilter_keeps_the_rounding_at_half_a_step():
    """Requests within a few ulps of half a step, where floor(|r| / step + 0.5) flips, against the
    counts of the full formula."""
    step = 1e-6
    half = 0.5 * step
    near = np.array([np.nextafter(half, 0.0), half, np.nextafter(half, 1.0), 0.499 * step,
                     np.nextafter(0.499 * step, 0.0), 1.5 * step, np.nextafter(1.5 * step, 0.0), 0.0, 7e-6])
    request = np.concatenate([near, -near])
    scheme = OpenLoopPulses()
    idx, counts = scheme.pulsed(request, step, None)
    full = scheme.counts(request, step, None)
    np.testing.assert_array_equal(idx, np.flatnonzero(full))
    np.testing.assert_array_equal(counts, full[idx])
    assert 0 < idx.size < request.size


def test_the_read_stream_restores_from_a_state_saved_with_pcg64():
    """Read streams are SFC64 now; a state saved when they were PCG64 restores with its own generator
    and continues that stream (the same normals as a PCG64 stream from that state)."""
    device = dataclasses.replace(DETERMINISTIC, stuck_min=0.0, stuck_max=0.0)
    pop = device.build(WINDOW, np.full((4, 5), 50e-6), seed=1)
    assert isinstance(pop.read_rng.bit_generator, np.random.SFC64)
    old = np.random.default_rng(5)
    state = dict(pop.get_state(), read_rng=np.array(json.dumps(old.bit_generator.state)))
    pop.set_state(state)
    assert isinstance(pop.read_rng.bit_generator, np.random.PCG64)
    noise = (pop.read(0.0) - pop.peek(0.0)) / (device.read_noise * SPAN)   # mid-window: no clip
    np.testing.assert_allclose(noise, old.standard_normal((4, 5)), rtol=0, atol=1e-8)
    with pytest.raises(ConfigError, match="'read_rng' is not a saved stream"):
        pop.set_state(dict(state, read_rng=np.array('{"bit_generator": "MT19937"}')))


def test_program_pair_at_is_program_at_on_each_population():
    """One pulse loop over both devices of the pairs against ``program_at`` on each, on seeded twins:
    multi-pulse requests (the loop's shrinking sets), one side without pulses, stuck devices, levels,
    drift; and the fallback for populations of different devices."""
    rng = np.random.default_rng(12)
    initial = WINDOW.g_min + SPAN * rng.random((2, 15, 20))
    plus, minus, plus_twin, minus_twin = (DETERMINISTIC.build(WINDOW, initial[k % 2], seed=3 + k % 2)
                                          for k in range(4))
    t = 0.0
    for k in range(8):
        t += (0.3, 0.0, 0.9, 2.0)[k % 4]
        idx = np.flatnonzero(rng.random(plus.shape[0] * plus.shape[1]) < 0.4)
        request = 5e-6 * rng.standard_normal((2, idx.size))
        if k == 2:
            request[1] = 0.0                                  # the minus side gets no pulse
        got = plus.program_pair_at(minus, idx, request[0], request[1], t)
        expected = plus_twin.program_at(idx, request[0], t), minus_twin.program_at(idx, request[1], t)
        for g, e in zip(got, expected):
            np.testing.assert_array_equal(g, e)
        _assert_same(plus, plus_twin)
        _assert_same(minus, minus_twin)
    assert _state(plus)["t_prog"].max() == t
    with pytest.raises(ConfigError, match="NaN or inf"):
        plus.program_pair_at(minus, np.array([0, 1]), np.array([1e-6, 0.0]), np.array([0.0, np.inf]), t)
    with pytest.raises(ConfigError, match="idx and request must be 1-d arrays of one length"):
        plus.program_pair_at(minus, np.array([0, 1]), np.array([1e-6, 0.0]), np.array([0.0]), t)
    other = dataclasses.replace(DETERMINISTIC, dw_min_std=0.1).build(WINDOW, np.full(plus.shape, 50e-6), seed=5)
    twin = dataclasses.replace(DETERMINISTIC, dw_min_std=0.1).build(WINDOW, np.full(plus.shape, 50e-6), seed=5)
    idx = np.arange(10)
    got = plus.program_pair_at(other, idx, np.full(10, 3e-6), np.full(10, -3e-6), t + 1.0)
    expected = plus_twin.program_at(idx, np.full(10, 3e-6), t + 1.0), twin.program_at(idx, np.full(10, -3e-6), t + 1.0)
    for g, e in zip(got, expected):
        np.testing.assert_array_equal(g, e)
    _assert_same(other, twin)


def test_the_sfc64_read_noise_has_the_normal_closed_form_moments():
    """The read stream's generator changed (SFC64), not the model: the noise of a pair's difference
    ``G+ - G-`` has variance 2 (read_noise span)^2, a normal's fourth moment (3 sigma^4), and
    successive reads and the two devices of a pair are uncorrelated (40,000 draws each; a wrong
    scale, a shared stream or a reused draw fails)."""
    device = dataclasses.replace(DETERMINISTIC, stuck_min=0.0, stuck_max=0.0, drift=None)
    sigma = device.read_noise * SPAN
    plus, minus = (device.build(WINDOW, np.full((12, 9), 40e-6 + 20e-6 * k), seed=3 + k) for k in range(2))
    reads = np.array([(plus.read(0.0) - plus.peek(0.0), minus.read(0.0) - minus.peek(0.0)) for _ in range(400)])
    assert np.abs(reads).max() < 30e-6                       # mid-window: no read was clipped
    difference = (reads[:, 0] - reads[:, 1]).ravel() / sigma
    assert difference.size == 43200
    assert difference.var() == pytest.approx(2.0, rel=0.03) and abs(difference.mean()) < 0.03
    z = reads.reshape(400, 2, -1) / sigma
    assert (z ** 4).mean() == pytest.approx(3.0, rel=0.05)
    assert abs(np.corrcoef(z[:, 0].ravel(), z[:, 1].ravel())[0, 1]) < 0.02
    assert abs(np.corrcoef(z[1:, 0].ravel(), z[:-1, 0].ravel())[0, 1]) < 0.02


def test_peek_looks_at_the_maximum_only_when_drift_might_raise_a_device():
    """``peek`` skips the g_max test when every exponent is >= 0 and g lies in the window (drift can
    only lower a device); a restored state with negative exponents (drift raising devices above
    g_max) must still be clipped, as the general clip of the drift law does."""
    free = dataclasses.replace(DETERMINISTIC, stuck_min=0.0, stuck_max=0.0)
    pop = free.build(WINDOW, np.full((4, 5), 100e-6), seed=6)
    state = pop.get_state()
    for sign in (1.0, -1.0):
        state["nu"] = sign * np.abs(state["nu"])
        pop.set_state(state)
        for later in (2.0, 40.0):                           # past t0: the power law runs
            expected = WINDOW.clip(state["g"] * free.drift.factor(later - state["t_prog"], state["nu"]))
            np.testing.assert_array_equal(pop.peek(later), expected)
            assert pop.peek(later).max() <= WINDOW.g_max
        assert (pop.peek(40.0) == WINDOW.g_max).any() == (sign < 0)   # raised devices met the clip


@pytest.mark.parametrize("device", ["ideal", "reram-like"])
@pytest.mark.parametrize("architecture", ["conjoined", "bidirectional"])
def test_the_read_back_weights_of_noise_free_devices_are_the_weights_of_their_reads(device, architecture):
    """``weights`` takes a noise-free model's snapshot instead of its read's copy: the same (A, b) as
    the mapping of ``all_conductances`` (the reads), new arrays that share no memory with a device."""
    rng = np.random.default_rng(12)
    mapping = ConductanceMapping(CrossbarConfig(), 5e4)
    w1 = 0.3 * rng.standard_normal((3, 5))
    weights = [w1, w1.T.copy()] if architecture == "bidirectional" else [w1, 0.3 * rng.standard_normal((5, 3))]
    initial = [mapping.to_conductances(w, 0.1 * rng.standard_normal(w.shape[0])) for w in weights]
    state = CrossbarState(initial, mapping, load_device(device), seed=3, architecture=architecture)
    for _ in range(3):
        state.apply(Update([0.05 * rng.standard_normal(w.shape) for w in weights],
                           [0.05 * rng.standard_normal(w.shape[0]) for w in weights]))
        fast = state.weights()
        general = [mapping.to_weights(c) for c in state.all_conductances()]
        for h, (w, b) in enumerate(general):
            np.testing.assert_array_equal(fast[0][h], w)
            np.testing.assert_array_equal(fast[1][h], b)
            for array in (fast[0][h], fast[1][h]):
                assert array.flags.writeable
                assert not any(np.shares_memory(array, d._g) for _, _, d in state._devices())


def test_the_change_in_siemens_is_the_concatenated_change_divided():
    """``_in_siemens`` (one division into a new array) against concatenating the weight and bias
    changes and dividing by r_f, bit for bit, over magnitudes from subnormal to large."""
    rng = np.random.default_rng(13)
    for shape, r_f in (((20, 785), 3.7e4), ((784, 21), 1.3e5), ((1, 1), 7.0)):
        dw = rng.standard_normal(shape) * 10.0 ** rng.integers(-310, 5, shape)
        db = rng.standard_normal(shape[0]) * 10.0 ** rng.integers(-310, 5, shape[0])
        expected = np.concatenate([dw, db[:, None]], axis=1) / r_f
        got = _in_siemens(dw, db, r_f)
        np.testing.assert_array_equal(got, expected)
        assert got.flags.c_contiguous and got.shape == (shape[0], shape[1] + 1)
