"""Why 16-4-16 did not learn in-circuit at the balance point: a NumPy emulation of the write, switched
off piece by piece (the window per crossbar, the pulse-width quantisation).

The emulation: the same online PR rule and forward pass as ``cosim.in_circuit.reference_step``; each
device is then written as the V/2 scheme writes it: the compact model's own rate
(``Yakopcic.rate``) at the scheme's voltage (threshold + column gain x v_unit x |post-difference|) for
the row pulse, ``round(pre x steps)`` time steps of ``tw / steps`` (Euler, 4 sub-steps each). "frozen
window" evaluates the rate at ``x_ref`` instead of the device's state (a write whose gain does not
depend on the state). It is checked against ngspice: its full-device rows must reproduce the committed
in-circuit runs' losses (the table prints both); nothing here replaces the circuit.

Run (seconds): .venv/bin/python studies/in-circuit/attribution.py  -> attribution.csv
"""

import csv
from dataclasses import replace
from pathlib import Path

import numpy as np
from run import RUNS

from recirc_analog.cosim.in_circuit import nominal_rate
from recirc_analog.jobs.in_circuit import InCircuitConfig, make_inputs

HERE = Path(__file__).resolve().parent


def _sigmoid(z):
    return 1.0 / (1.0 + np.exp(-z))


def emulated_write(net, states, pre, post, frozen=False, quantise=True, substeps=4):
    """States (post, pre) after the V/2 write of ``pre`` (activities) x ``post`` (differences)."""
    m, s = net.model, net.scheme
    v = np.where(post > 0, m.v_p + net.gain_up * post * net.v_unit, -(m.v_n - s.gain * post * net.v_unit))
    v = np.where(post == 0, 0.0, v)[:, None] * np.ones_like(states)
    steps = np.floor(pre * s.steps + 0.5) if quantise else pre * s.steps
    x = states.copy()
    for k in range(int(np.ceil(steps.max()))):
        on = np.clip(steps - k, 0.0, 1.0)[None, :]
        for _ in range(substeps):
            x = x + on * s.dt / substeps * m.rate(v, net.x_ref if frozen else x)
    return np.clip(x, 0.0, 1.0)


def _gain(change, intended, rate, sign):
    """Realised / nominal slope over the devices the rule moves in direction ``sign`` (nan if none)."""
    mask = np.sign(intended) == sign
    norm = rate * np.sum(intended[mask] ** 2)
    return float(np.sum(change[mask] * intended[mask]) / norm) if norm > 0 else float("nan")


def emulate(net, samples, variant):
    """Per sample: the loss, per crossbar the realised / nominal gain, then per crossbar the gains of the
    devices moved up and of those moved down (up 1, down 1, up 2, down 2), for one ``variant`` (a dict)."""
    x1, x2 = net.states1.copy(), net.states2.copy()
    rate = nominal_rate(net)
    rows = []
    for data in samples:
        a1, a2 = net.w_scale * (x1 - net.x_ref), net.w_scale * (x2 - net.x_ref)
        h1 = _sigmoid(a1 @ data)
        out = _sigmoid(a2 @ h1)
        l1 = _sigmoid(a1 @ out)
        intended = (np.outer(h1 - l1, data), np.outer(data - out, h1))
        if variant["ideal"]:
            new = (np.clip(x1 + rate * intended[0], 0, 1), np.clip(x2 + rate * intended[1], 0, 1))
        else:
            new = (emulated_write(net, x1, data, h1 - l1, variant["frozen1"], variant["quantise"]),
                   emulated_write(net, x2, h1, data - out, variant["frozen2"], variant["quantise"]))
        gains = [float(np.sum((n - x) * i) / (rate * np.sum(i * i))) for n, x, i in zip(new, (x1, x2), intended)]
        split = [_gain(n - x, i, rate, sign) for n, x, i in zip(new, (x1, x2), intended) for sign in (1, -1)]
        rows.append((float(np.sum((data - out) ** 2)), *gains, *split))
        x1, x2 = new
    return np.array(rows)


VARIANTS = {
    "rule (controller)": dict(ideal=True),
    "device write": dict(ideal=False, frozen1=False, frozen2=False, quantise=True),
    "device, no quantisation": dict(ideal=False, frozen1=False, frozen2=False, quantise=False),
    "device, window frozen on crossbar 1": dict(ideal=False, frozen1=True, frozen2=False, quantise=True),
    "device, window frozen on crossbar 2": dict(ideal=False, frozen1=False, frozen2=True, quantise=True),
    "device, window frozen on both": dict(ideal=False, frozen1=True, frozen2=True, quantise=True),
}


def original_draw(net):
    """The first study's 16-4-16 samples and initial states (commit b3dd1fa: 60 codes drawn before the
    states, no test samples), the initial weights placed at ``net``'s operating point."""
    from recirc_analog.data.lowrank import LowrankDataset

    rng = np.random.default_rng(0)
    data = LowrankDataset(dim=16, rank=4, seed=0)
    samples = _sigmoid(rng.standard_normal((60, 4)) @ data.basis)
    w1, w2 = 20 * 0.05 * rng.standard_normal((4, 16)), 20 * 0.05 * rng.standard_normal((16, 4))
    return samples, replace(net, states1=np.clip(net.x_ref + w1 / net.w_scale, 0, 1),
                            states2=np.clip(net.x_ref + w2 / net.w_scale, 0, 1))


def main():
    lines = []
    cases = []
    for run in ("16-4-16-balance", "16-4-16"):
        samples, _, net = make_inputs(InCircuitConfig(**RUNS[run], reconstructions=8))
        cases += [(run, samples, net), (run + " (first study's draw)", *original_draw(net))]
    for run, samples, net in cases:
        window = max(len(samples) // 5, 1)
        for name, variant in VARIANTS.items():
            r = emulate(net, samples, {"frozen1": False, "frozen2": False, "quantise": True, **variant})
            lines.append({"run": run, "x_ref": round(net.x_ref, 4), "w_scale": net.w_scale, "variant": name,
                          "loss_first": r[:window, 0].mean(), "loss_last": r[-window:, 0].mean(),
                          "gain1_median": np.median(r[:, 1]), "gain2_median": np.median(r[:, 2]),
                          "gain1_last_fifth": np.median(r[-window:, 1]), "gain2_last_fifth": np.median(r[-window:, 2]),
                          **{f"{d}{k}_last_fifth": np.nanmedian(r[-window:, c])
                             for c, (d, k) in enumerate((("up", 1), ("down", 1), ("up", 2), ("down", 2)), start=3)}})
            print({k: (round(v, 3) if isinstance(v, float) else v) for k, v in lines[-1].items()}, flush=True)
    with open(HERE / "attribution.csv", "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(lines[0]))
        writer.writeheader()
        writer.writerows({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in row.items()} for row in lines)


if __name__ == "__main__":
    main()
