"""Driver of in-circuit learning (issue 13): Python clocks the samples, feeds the data and reads the
losses; the circuit computes both phases and programs its own memristors.

One sample is one ``.tran`` analysis (:func:`~recirc_analog.netlist_writers.in_circuit.write_in_circuit`).
The device states carry over between analyses through the subcircuits' initial condition ``x0``:
the state read at the end of one analysis is the next one's ``x0``. Nothing in the update is
computed here; the driver only *reads* the held voltages afterwards to report what the rule
intended (``pre x post-difference``, the oracle of the realised change) and the loss.

Two comparisons run the same online rule (one update per sample, PR recirculation, biases when the network
has bias rows, its activation):
``controller`` (the same circuit with the write drivers off; Python computes the rule's change from
the held voltages and sets the states, as today's co-simulation controller does) and ``reference``
(the NumPy network, no circuit at all). Their learning rate is the circuit's nominal one at
``x_ref`` (:func:`nominal_rate`).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from ..errors import ConfigError
from ..netlist_writers.in_circuit import held_nodes, reference_node, state_node, write_in_circuit
from ..schematic.in_circuit import InCircuitNetwork

UPDATES = ("in-circuit", "controller", "reference")
"""The three runs of :func:`online_run`."""

UPDATE_KINDS = ("controller", "in-circuit")
"""Who computes the devices' updates (the command line's ``cosim --update``): today's Python controller
(minibatches, the lock-step co-simulation), or the circuit's own write phase (this module)."""


@dataclass(frozen=True)
class StepResult:
    """What one sample's analysis did."""

    net: InCircuitNetwork
    """The network with the states at the end of the analysis (the next sample's start)."""
    held: dict
    """Held activities read from ngspice (unitless): ``data`` O^0(0), ``h1`` O^1(0), ``out`` O^2(0), ``l1`` O^1(1)."""
    loss: float
    """Squared reconstruction error sum_k (data_k - O^2_k(0))^2 before the update (unitless)."""
    intended: tuple[np.ndarray, np.ndarray]
    """The rule's direction post x pre per device, from the held voltages (activities, shapes of the states;
    with bias rows one more column, the last, for the bias devices: pre = 1)."""
    realised: tuple[np.ndarray, np.ndarray]
    """The realised state change per device in the direction that raises the weight (unitless; the state
    change times the law's polarity, so VTEAM's falling x, a rising conductance, counts as positive; shapes of
    ``intended``)."""
    reference_drift: float
    """Largest state change of a reference-column device (always half-selected; ideally 0)."""
    reference_moved: int
    """Reference-column devices whose state moved by more than 1e-9."""


def nominal_rate(net: InCircuitNetwork) -> float:
    """State change per unit of pre x post-difference (activity^2) the write makes at ``x_ref``, in the
    direction that raises the weight (1/activity^2): ``tw * slope * gain * v_unit``, ``slope`` the law's
    ``reference_slope`` (Yakopcic: ``A_n e^{V_n} f_down(x_ref)``; both directions alike)."""
    slope = net.law.reference_slope(net.x_ref)
    return net.scheme.tw * slope * net.scheme.gain * net.v_unit


def program_states(net: InCircuitNetwork, change: tuple[np.ndarray, np.ndarray]) -> InCircuitNetwork:
    """The controller's ideal programming: every weight moves by ``w_scale * change`` exactly (``change`` in
    states at ``x_ref``, as :func:`nominal_rate`), read back through the law (Yakopcic: ``x + change``), then
    clipped to [0, 1]."""
    new = [net.law.program(s, c, net.x_ref) for s, c in zip((net.states1, net.states2), change)]
    return replace(net, states1=np.clip(new[0], 0, 1), states2=np.clip(new[1], 0, 1))


def intended_change(held: dict[str, np.ndarray], v_unit: float) -> tuple[np.ndarray, np.ndarray]:
    """(post x pre of crossbar 1 (N1, N0), of crossbar 2 (N0, N1)) from the held voltages (V) of
    :func:`~recirc_analog.netlist_writers.in_circuit.held_nodes`, in activities."""
    a = {k: np.asarray(v) / v_unit for k, v in held.items()}
    return np.outer(a["h1"] - a["l1"], a["data"]), np.outer(a["data"] - a["out"], a["h1"])


def step(engine, net: InCircuitNetwork, data, label: str = "in-circuit step") -> StepResult:
    """Run one sample ``data`` (N0 activities in [0, 1], [-1, 1] for tanh) through ``net`` on ``engine`` (a batch
    engine)."""
    data = np.asarray(data, dtype=float)
    n0, n1 = net.sizes
    low = -1.0 if net.signed else 0.0
    if data.shape != (n0,) or not np.all(np.isfinite(data)) or data.min() < low or data.max() > 1:
        raise ConfigError(f"data must be {n0} activities in [{low:g}, 1], got shape {data.shape}")
    result = engine.run(write_in_circuit(net, data), label=label)
    if result.relaxed:
        raise ConfigError(f"{label}: ngspice only converged with relaxed tolerances; refusing its states")
    held = {k: np.array([result.get(n)[-1] for n in names]) for k, names in held_nodes(n0, n1).items()}
    end1 = np.array([[result.get(state_node(1, i, j))[-1] for j in range(n0)] for i in range(n1)])
    end2 = np.array([[result.get(state_node(2, k, i))[-1] for i in range(n1)] for k in range(n0)])
    refs = np.array([result.get(reference_node(1, j))[-1] for j in range(n0)]
                    + [result.get(reference_node(2, i))[-1] for i in range(n1)])
    out = held["out"] / net.v_unit
    new = replace(net, states1=np.clip(end1, 0.0, 1.0), states2=np.clip(end2, 0.0, 1.0))
    intended = intended_change(held, net.v_unit)
    realised = (net.law.polarity * (end1 - net.states1), net.law.polarity * (end2 - net.states2))
    if net.biases:
        new, intended, realised, refs = _with_bias_rows(result, net, new, held, intended, realised, refs)
    return StepResult(net=new,
                      held={k: v / net.v_unit for k, v in held.items()},
                      loss=float(np.sum((data - out) ** 2)),
                      intended=intended,
                      realised=realised,
                      reference_drift=float(np.max(np.abs(refs - net.x_ref))),
                      reference_moved=int(np.sum(np.abs(refs - net.x_ref) > 1e-9)))


def reconstruct(engine, net: InCircuitNetwork, samples: np.ndarray) -> np.ndarray:
    """The circuit's reconstructions O^2(0) (n, N0) of ``samples`` (n, N0) on ``net``'s states, write off."""
    net = replace(net, write=False)
    return np.array([step(engine, net, x, label=f"reconstruction {k}").held["out"] for k, x in enumerate(samples)])


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def reference_step(a1: np.ndarray, a2: np.ndarray, data: np.ndarray, rate: float):
    """One online PR step of the NumPy network (weights only): (new A1, new A2, loss before)."""
    h1 = _sigmoid(a1 @ data)
    out = _sigmoid(a2 @ h1)
    l1 = _sigmoid(a1 @ out)
    loss = float(np.sum((data - out) ** 2))
    return a1 + rate * np.outer(h1 - l1, data), a2 + rate * np.outer(data - out, h1), loss


def correlation(intended, realised) -> float:
    """Pearson correlation over all devices of both crossbars (nan if either is constant)."""
    x = np.concatenate([np.ravel(v) for v in intended])
    y = np.concatenate([np.ravel(v) for v in realised])
    if np.std(x) == 0 or np.std(y) == 0:
        return float("nan")
    return float(np.corrcoef(x, y)[0, 1])


def realised_gain(intended: np.ndarray, realised: np.ndarray, rate: float) -> float:
    """Least-squares slope of ``realised`` on ``rate * intended`` over one crossbar's devices (1 = the
    nominal rate; nan if the rule asks for no change)."""
    x = rate * np.ravel(intended)
    norm = float(np.dot(x, x))
    return float(np.dot(x, np.ravel(realised)) / norm) if norm > 0 else float("nan")


def disturbed(intended, realised, zero: float = 1e-7, tolerance: float = 1e-9) -> tuple[int, int]:
    """(devices whose rule change is below ``zero`` (a pre-synaptic or post-synaptic value of 0, up to the
    holds' leakage) but whose state moved by more than ``tolerance``, such devices)."""
    x = np.concatenate([np.ravel(v) for v in intended])
    y = np.concatenate([np.ravel(v) for v in realised])
    idle = np.abs(x) < zero
    return int(np.sum(np.abs(y[idle]) > tolerance)), int(np.sum(idle))


def wrong_sign(intended, realised, zero: float = 1e-6) -> int:
    """Devices whose rule change exceeds ``zero`` but whose state moved the other way or not at all."""
    x = np.concatenate([np.ravel(v) for v in intended])
    y = np.concatenate([np.ravel(v) for v in realised])
    big = np.abs(x) > zero
    return int(np.sum(np.sign(y[big]) != np.sign(x[big])))


def online_run(engine, net: InCircuitNetwork, samples: np.ndarray, update: str = "in-circuit",
               progress: bool = False) -> tuple[list[dict], InCircuitNetwork]:
    """Train ``net`` online on ``samples`` (n, N0) with ``update`` (one of :data:`UPDATES`); one row per
    sample: loss before the update, correlation of realised with intended change (both crossbars, then
    ``corr1`` / ``corr2`` per crossbar), ``gain1`` / ``gain2`` (:func:`realised_gain`), ``disturbed`` of the
    ``half_selected`` devices checked (the reference columns' and those whose rule change is 0; in-circuit
    only), devices changed against the rule's sign, the reference columns' largest drift; and the network
    with the final states (the reference's: its weights mapped back to states, unclipped)."""
    if update not in UPDATES:
        raise ConfigError(f"update must be one of {', '.join(UPDATES)}, got {update!r}")
    from tqdm import tqdm

    rate = nominal_rate(net)
    rows = []
    if update == "reference" and (net.signed or net.biases):
        return _reference_run(net, samples, rate, progress)
    if update == "reference":
        a1, a2 = net.weights()
        for data in tqdm(samples, desc="reference", disable=not progress):
            a1, a2, loss = reference_step(a1, a2, data, rate * net.w_scale)
            rows.append({"loss": loss})
        law = net.law
        return rows, replace(net, states1=np.clip(law.states_of(a1 / net.w_scale, net.x_ref), 0, 1),
                             states2=np.clip(law.states_of(a2 / net.w_scale, net.x_ref), 0, 1))
    net = replace(net, write=update == "in-circuit")
    for k, data in enumerate(tqdm(samples, desc=update, disable=not progress)):
        result = step(engine, net, data, label=f"{update} sample {k}")
        if update == "in-circuit":
            realised = result.realised
            moved, idle = disturbed(result.intended, realised)
            moved, idle = moved + result.reference_moved, idle + net.sizes[0] + net.sizes[1] + 2 * net.biases
            net = result.net
        else:                                   # the controller: the rule in Python, programmed ideally
            realised = tuple(rate * d for d in result.intended)
            moved, idle = 0, 0
            net = _programmed(net, realised)
        per_layer = {}
        for k, (intended, change) in enumerate(zip(result.intended, realised), start=1):
            per_layer[f"corr{k}"] = correlation([intended], [change])
            per_layer[f"gain{k}"] = realised_gain(intended, change, rate)
        rows.append({"loss": result.loss, "corr": correlation(result.intended, realised), **per_layer,
                     "disturbed": moved, "half_selected": idle,
                     "wrong_sign": wrong_sign(result.intended, realised), "ref_drift": result.reference_drift})
    return rows, net


def _with_bias_rows(result, net: InCircuitNetwork, new: InCircuitNetwork, held: dict, intended, realised, refs):
    """Add the bias rows to one step's outcome: the network with the bias devices' end states, ``intended`` and
    ``realised`` with a last column for the bias devices (pre-synaptic activity 1, so the intended change is
    the post-synaptic difference), and the reference states with the bias rows' reference devices."""
    n0, n1 = net.sizes
    end1 = np.array([result.get(state_node(1, i, "b"))[-1] for i in range(n1)])
    end2 = np.array([result.get(state_node(2, k, "b"))[-1] for k in range(n0)])
    a = {k: np.asarray(v) / net.v_unit for k, v in held.items()}
    posts = (a["h1"] - a["l1"], a["data"] - a["out"])
    intended = tuple(np.column_stack([m, p]) for m, p in zip(intended, posts))
    realised = (np.column_stack([realised[0], end1 - net.bias_states1]),
                np.column_stack([realised[1], end2 - net.bias_states2]))
    refs = np.concatenate([refs, [result.get(reference_node(1, "b"))[-1], result.get(reference_node(2, "b"))[-1]]])
    new = replace(new, bias_states1=np.clip(end1, 0.0, 1.0), bias_states2=np.clip(end2, 0.0, 1.0))
    return new, intended, realised, refs


def _programmed(net: InCircuitNetwork, change) -> InCircuitNetwork:
    """``net`` with the changes ``change`` (shapes of :attr:`StepResult.realised`) programmed by
    :func:`program_states`, the bias rows' (Yakopcic only) added; all clipped to [0, 1] (the controller-driven
    run's ideal programming)."""
    n0, n1 = net.sizes
    net = program_states(net, (change[0][:, :n0], change[1][:, :n1]))
    if net.biases:
        net = replace(net, bias_states1=np.clip(net.bias_states1 + change[0][:, n0], 0, 1),
                      bias_states2=np.clip(net.bias_states2 + change[1][:, n1], 0, 1))
    return net


def activation_function(name: str):
    """The NumPy activation of :data:`~recirc_analog.schematic.in_circuit.ACTIVATIONS` ``name``."""
    return np.tanh if name == "tanh" else _sigmoid


def biased_reference_step(weights, biases, data: np.ndarray, rate: float, activation: str = "logistic"):
    """One online PR step (cycles (0, 1)) of the NumPy network with biases and ``activation``:
    ``((A1, A2), (b1, b2), loss before)``; ``biases`` None: a network without biases (None returned). The
    reference package's ``RecirculationRule`` at batch 1:
    ``dA^1 = (O^1(0) - O^1(1)) O^0(0)^T``, ``db^1 = O^1(0) - O^1(1)``, ``dA^2 = (O^0(0) - O^2(0)) O^1(0)^T``,
    ``db^2 = O^0(0) - O^2(0)`` (tests/test_in_circuit_signed.py checks it against that rule)."""
    f = activation_function(activation)
    a1, a2 = weights
    b1, b2 = (0.0, 0.0) if biases is None else biases
    h1 = f(a1 @ data + b1)
    out = f(a2 @ h1 + b2)
    l1 = f(a1 @ out + b1)
    loss = float(np.sum((data - out) ** 2))
    new = None if biases is None else (b1 + rate * (h1 - l1), b2 + rate * (data - out))
    return (a1 + rate * np.outer(h1 - l1, data), a2 + rate * np.outer(data - out, h1)), new, loss


def reference_forward(weights, biases, x: np.ndarray, activation: str = "logistic") -> np.ndarray:
    """The NumPy network's reconstructions O^2(0) (n, N0) of ``x`` (n, N0); ``biases`` None: none."""
    f = activation_function(activation)
    (a1, a2), (b1, b2) = weights, ((0.0, 0.0) if biases is None else biases)
    return f(f(x @ a1.T + b1) @ a2.T + b2)


def _reference_run(net: InCircuitNetwork, samples: np.ndarray, rate: float, progress: bool):
    """:func:`online_run`'s reference with tanh or bias rows: :func:`biased_reference_step` on ``net``'s weights
    and biases (zero without bias rows), the final weights mapped back to states (clipped)."""
    from tqdm import tqdm

    weights, biases = net.weights(), (net.bias_weights() if net.biases else None)
    rows = []
    for data in tqdm(samples, desc="reference", disable=not progress):
        weights, biases, loss = biased_reference_step(weights, biases, data, rate * net.w_scale, net.activation)
        rows.append({"loss": loss})
    final = replace(net, states1=np.clip(weights[0] / net.w_scale + net.x_ref, 0, 1),
                    states2=np.clip(weights[1] / net.w_scale + net.x_ref, 0, 1))
    if net.biases:
        final = replace(final, bias_states1=np.clip(biases[0] / net.w_scale + net.x_ref, 0, 1),
                        bias_states2=np.clip(biases[1] / net.w_scale + net.x_ref, 0, 1))
    return rows, final
