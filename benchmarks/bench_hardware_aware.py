"""Epoch time of the hardware-aware reference (``train --device``) against the plain reference.

Run:  .venv/bin/python benchmarks/bench_hardware_aware.py [--data-dir ../shared/data] [--max-train N]
      [--repeats 3] [--rule rec] [--lr 0.01] [--batch-seconds S] [--devices ideal,pcm,reram-hfo2]
      [--read-stream sfc64|pcg64] [--draws] [--powers] [--breakdown] [--write]

784-20-784 (tanh, logistic) on MNIST, minibatch 100, lr 0.01, no angle diagnostics, one
BLAS thread (OPENBLAS_NUM_THREADS=1 is set here before NumPy is imported). Each round
trains one epoch of the plain reference and one of the hardware-aware reference per
device (the same initial weights and batches), interleaved; the table shows each
contender's fastest epoch, and the hardware-aware / plain ratio of every round
(target <= 2x with the richest preset, pcm: pulsed exponential steps, device-to-device
spreads, cycle-to-cycle noise, read noise and drift). A device ``NAME-no-FIELD[-FIELD]``
is preset NAME without those effects (``read_noise``, ``drift`` or ``dw_min_std`` set to
none), to see what each costs; ``--draws`` adds a row timing only the random numbers pcm's
read noise needs (one normal per device per read, four device arrays per minibatch), the
floor of any implementation of that model, and ``--powers`` one timing only the power law of
pcm's drift (one ``x^(-nu)`` per device per minibatch, the floor of the drift model). Each
epoch also counts the pulses the devices were given. ``--breakdown`` adds a table of where a
minibatch's time goes (CPU ms per minibatch of the step, the device update and its parts,
the read-back and its parts; each part timed by a wrapper, median over the rounds). The data folder is --data-dir, else
$RECIRC_ANALOG_DATA, else ../shared/data. With --write the table is appended to
benchmarks/RESULTS.md.
"""

from __future__ import annotations

import os

os.environ["OPENBLAS_NUM_THREADS"] = "1"     # before NumPy is imported (here or by the package)

import argparse  # noqa: E402
import dataclasses  # noqa: E402
import time  # noqa: E402

import numpy as np  # noqa: E402
from bench_reference import header, publish  # noqa: E402

from recirc_analog.cosim.hardware_aware import HardwareAwareTrainer  # noqa: E402
from recirc_analog.data import load_dataset  # noqa: E402
from recirc_analog.devices import DEVICE_PRESETS, load_device, pulsed_population  # noqa: E402
from recirc_analog.reference.network import CircularAutoencoder  # noqa: E402
from recirc_analog.reference.recirculation import Recirculation  # noqa: E402
from recirc_analog.reference.rules import get_rule  # noqa: E402
from recirc_analog.reference.training import TrainConfig, Trainer  # noqa: E402

SIZES, ACTS, LR = (784, 20, 784), ("tanh", "logistic"), 0.01
WITHOUT = {"read_noise": 0.0, "drift": None, "dw_min_std": 0.0}
"""Fields a ``NAME-no-FIELD`` device switches off, and the value that does it."""
DRAWS = "pcm read-noise normals alone"
POWERS = "pcm drift power law alone"
STREAMS = {"sfc64": np.random.SFC64, "pcg64": np.random.PCG64}
"""``--read-stream`` choices: the bit generator of the read-noise stream."""


def device_record(name: str):
    """The preset ``name``, or ``PRESET-no-FIELD[-FIELD...]``: the preset without those effects."""
    if name in DEVICE_PRESETS:
        return load_device(name)
    preset, _, fields = name.partition("-no-")
    record = load_device(preset)
    return dataclasses.replace(record, **{field: WITHOUT[field] for field in fields.split("-")})


def check_device(name: str) -> str | None:
    """None if ``name`` is a device this bench can build, else why not."""
    if name in DEVICE_PRESETS or name == DRAWS:
        return None
    preset, _, fields = name.partition("-no-")
    if preset not in DEVICE_PRESETS or not fields:
        return f"unknown {name!r}; choose from {', '.join(DEVICE_PRESETS)} (optionally PRESET-no-FIELD)"
    unknown = [f for f in fields.split("-") if f not in WITHOUT]
    if unknown or not dataclasses.is_dataclass(load_device(preset)) or not all(
            hasattr(load_device(preset), f) for f in fields.split("-")):
        return f"{name!r}: a PRESET-no-FIELD device switches off fields of {', '.join(WITHOUT)} of a pulsed preset"
    return None


def count_pulses() -> list[int]:
    """Wrap the devices' pulse loop to count the pulses it gives (a one-item list, reset per epoch)."""
    counter = [0]
    train = pulsed_population._pulse_train

    def counted(now, params, is_up, counts, *rest):
        counter[0] += int(counts.sum())
        return train(now, params, is_up, counts, *rest)

    pulsed_population._pulse_train = counted
    return counter


PULSES = count_pulses()
PARTS = (("step", "recirc_analog.reference.training", "Trainer", "_step"),
         ("update (plain: targets)", "recirc_analog.reference.training", "Trainer", "updated"),
         ("update (devices)", "recirc_analog.cosim.hardware_aware", "HardwareAwareTrainer", "updated"),
         ("  programming (apply)", "recirc_analog.cosim.crossbar_state", "CrossbarState", "apply"),
         ("    peek (pulsed; drift law included)", "recirc_analog.devices.pulsed_population", "PulsedPopulation",
          "peek"),
         ("    may_pulse", "recirc_analog.devices.pulsed_population", "PulsedPopulation", "may_pulse"),
         ("    program_pair_at (pulse loop)", "recirc_analog.devices.pulsed_population", "PulsedPopulation",
          "program_pair_at"),
         ("  read-back (weights)", "recirc_analog.cosim.crossbar_state", "CrossbarState", "weights"),
         ("    read (pulsed; normals included)", "recirc_analog.devices.pulsed_population", "PulsedPopulation",
          "read"),
         ("    to_weights", "recirc_analog.schematic.mapping", "ConductanceMapping", "to_weights"))
"""``--breakdown``'s parts: (label, module, class, method), each timed by a wrapper."""


def time_parts() -> dict[str, int]:
    """Wrap the methods of :data:`PARTS` to add their CPU time (ns, this thread) to the returned dict,
    keyed by label (the caller resets it per epoch). Each wrapper costs ~1 us per call."""
    import importlib
    spent: dict[str, int] = {}

    def wrapped(label, method):
        def timed(*args, **kwargs):
            start = time.thread_time_ns()
            try:
                return method(*args, **kwargs)
            finally:
                spent[label] = spent.get(label, 0) + time.thread_time_ns() - start
        return timed

    for label, module, owner, name in PARTS:
        cls = getattr(importlib.import_module(module), owner)
        setattr(cls, name, wrapped(label, cls.__dict__[name]))
    return spent


def time_draws(dataset, seed: int = 0) -> tuple[float, float, float]:
    """(wall, None, CPU) seconds of drawing only pcm's read noise for every minibatch of an epoch:
    one standard normal per device of the four arrays (G+ and G- of both layers)."""
    rng = np.random.Generator(pulsed_population.READ_BIT_GENERATOR(seed))   # the read stream's generator
    shapes = [(SIZES[1], SIZES[0] + 1), (SIZES[2], SIZES[1] + 1)] * 2
    start, cpu = time.perf_counter(), time.process_time()
    for _ in dataset.train_batches(100, np.random.default_rng(seed)):
        for shape in shapes:
            rng.standard_normal(shape)
    return time.perf_counter() - start, float("nan"), time.process_time() - cpu


def time_powers(dataset, seed: int = 0) -> tuple[float, float, float]:
    """(wall, None, CPU) seconds of only the power law pcm's drift needs once it runs, for every
    minibatch of an epoch: one ``x^(-nu)`` per device of the four arrays, with pcm's exponents
    (``|N(0.05, 0.01)|``) and elapsed times of 1 to 10 t0 (the floor of the drift model: every
    device's factor changes with the clock, each with its own exponent)."""
    rng = np.random.default_rng(seed)
    shapes = [(SIZES[1], SIZES[0] + 1), (SIZES[2], SIZES[1] + 1)] * 2
    drift = load_device("pcm").drift
    arrays = [(1.0 + 9.0 * rng.random(shape), -drift.exponents(rng, shape)) for shape in shapes]
    start, cpu = time.perf_counter(), time.process_time()
    for _ in dataset.train_batches(100, np.random.default_rng(seed)):
        for x, minus_nu in arrays:
            np.power(x, minus_nu)
    return time.perf_counter() - start, float("nan"), time.process_time() - cpu


def time_epoch(rule_name: str, device_name: str | None, dataset, seed: int = 0, lr: float = LR,
               batch_seconds: float | None = None) -> tuple[float, float, float]:
    """(wall seconds, test loss, CPU seconds of this process) of one epoch: the plain reference
    (``device_name`` None) or the hardware-aware one with that device. The CPU time is what a
    shared machine's load does not inflate (one BLAS thread: the epoch runs on this thread)."""
    if device_name == DRAWS:
        return time_draws(dataset, seed)
    if device_name == POWERS:
        return time_powers(dataset, seed)
    net = CircularAutoencoder.random(SIZES, ACTS, seed=seed, data_mean=dataset.train_mean)
    params = {"recirculation": Recirculation("pr")} if rule_name == "rec" else {}
    config = TrainConfig(epochs=1, lr=lr, seed=seed, track_angles=False)
    if device_name is None:
        trainer = Trainer(net, get_rule(rule_name, **params), config)
    else:
        trainer = HardwareAwareTrainer(net, get_rule(rule_name, **params), config,
                                       device=device_record(device_name), device_seed=seed,
                                       batch_seconds=batch_seconds)
    PULSES[0] = 0
    start, cpu = time.perf_counter(), time.process_time()
    for x in dataset.train_batches(100, np.random.default_rng(seed)):
        trainer.step(x)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    return seconds, trainer.evaluate(dataset.test), cpu


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--data-dir", default=os.environ.get("RECIRC_ANALOG_DATA", "../shared/data"),
                        help="folder holding mnist/ (default: $RECIRC_ANALOG_DATA, else ../shared/data)")
    parser.add_argument("--max-train", type=int, default=None, help="training samples per epoch (default all)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved rounds (default 3)")
    parser.add_argument("--rule", default="rec", help="learning rule (default rec, output recirculation pr)")
    parser.add_argument("--lr", type=float, default=LR, help=f"learning rate (default {LR})")
    parser.add_argument("--devices", default="ideal,pcm,reram-hfo2",
                        help=f"devices to time: presets of {', '.join(DEVICE_PRESETS)}, or PRESET-no-FIELD[-FIELD] "
                             f"with FIELD of {', '.join(WITHOUT)} (default ideal,pcm,reram-hfo2)")
    parser.add_argument("--batch-seconds", type=float, default=None,
                        help="device time (s) per minibatch (default: the co-simulation's clock, 200 us at "
                             "minibatch 100, so pcm's drift, t0 = 20 s, never starts within an epoch)")
    parser.add_argument("--read-stream", choices=tuple(STREAMS), default="sfc64",
                        help="bit generator of the devices' read-noise stream (default sfc64, the package's; "
                             "pcg64 draws the streams of the code before it, for a same-trajectory comparison)")
    parser.add_argument("--draws", action="store_true",
                        help="add a row timing only the normals pcm's read noise draws per epoch")
    parser.add_argument("--powers", action="store_true",
                        help="add a row timing only the power law pcm's drift computes per epoch once it runs")
    parser.add_argument("--breakdown", action="store_true",
                        help="add a table of CPU ms per minibatch of the step's parts (wrappers, ~1 us per call)")
    parser.add_argument("--write", action="store_true", help="append the table to benchmarks/RESULTS.md")
    args = parser.parse_args(argv)
    devices = [d for d in args.devices.split(",") if d]
    for device in devices:
        problem = check_device(device)
        if problem:
            parser.error(f"--devices: {problem}")
    if not args.lr > 0:
        parser.error(f"--lr must be > 0, got {args.lr!r}")
    if args.batch_seconds is not None and not args.batch_seconds >= 0:
        parser.error(f"--batch-seconds must be >= 0, got {args.batch_seconds!r}")
    pulsed_population.READ_BIT_GENERATOR = STREAMS[args.read_stream]
    dataset = load_dataset("mnist", args.data_dir, max_train=args.max_train)
    contenders = {"plain": None, **{d: d for d in devices}, **({DRAWS: DRAWS} if args.draws else {}),
                  **({POWERS: POWERS} if args.powers else {})}
    runs = {name: [] for name in contenders}
    pulses = {}
    spent = time_parts() if args.breakdown else None
    parts = {name: [] for name in contenders}
    for round_ in range(max(1, args.repeats)):
        for name, device in contenders.items():
            if spent is not None:
                spent.clear()
            runs[name].append(time_epoch(args.rule, device, dataset, lr=args.lr, batch_seconds=args.batch_seconds))
            if spent is not None:
                parts[name].append(dict(spent))
            pulses[name] = PULSES[0] / -(-dataset.n_train // 100)
            print(f"round {round_ + 1}: {name} {runs[name][-1][0]:.2f} s, CPU {runs[name][-1][2]:.2f} s", flush=True)
    plain = min(s for s, _, _ in runs["plain"])
    lines = [*header(),
             f"784-20-784 (tanh, logistic), MNIST, {dataset.n_train} "
             f"training samples, minibatch 100, lr {args.lr}, rule {args.rule}, device time per minibatch "
             f"{'the co-simulation clock' if args.batch_seconds is None else f'{args.batch_seconds:g} s'}, "
             f"read-noise stream {args.read_stream}, "
             f"OPENBLAS_NUM_THREADS={os.environ['OPENBLAS_NUM_THREADS']}; fastest of {args.repeats} "
             "interleaved rounds; ratio = hardware-aware / plain epoch time of the same round; CPU = this "
             "process's CPU seconds (time.process_time), which the machine's load does not inflate; "
             "pulses = pulses given per minibatch (all arrays).",
             "",
             "| contender | epoch wall (s) | / plain | wall ratio per round | epoch CPU (s) | CPU / plain "
             "| CPU ratio per round | pulses per minibatch | test loss after 1 epoch |",
             "|---|---|---|---|---|---|---|---|---|"]
    plain_cpu = min(c for _, _, c in runs["plain"])
    for name, results in runs.items():
        seconds, cpu = min(s for s, _, _ in results), min(c for _, _, c in results)
        ratios = ", ".join(f"{s / p:.2f}" for (s, _, _), (p, _, _) in zip(results, runs["plain"]))
        cpu_ratios = ", ".join(f"{c / p:.2f}" for (_, _, c), (_, _, p) in zip(results, runs["plain"]))
        label = {"plain": "plain reference", DRAWS: DRAWS, POWERS: POWERS}.get(name, f"hardware-aware, {name}")
        count = "" if name in ("plain", DRAWS, POWERS) else f"{pulses[name]:.0f}"
        loss = "" if name in (DRAWS, POWERS) else f"{results[0][1]:.2f}"
        lines.append(f"| {label} | {seconds:.2f} | {seconds / plain:.2f} | {ratios} | {cpu:.2f} | "
                     f"{cpu / plain_cpu:.2f} | {cpu_ratios} | {count} | {loss} |")
    if spent is not None:
        batches = -(-dataset.n_train // 100)
        shown = [name for name in contenders if name not in (DRAWS, POWERS)]
        lines += ["", "CPU ms per minibatch (median over the rounds; each part includes the parts indented "
                  "below it; evaluation excluded):", "",
                  "| part | " + " | ".join(shown) + " |", "|---|" + "---|" * len(shown)]
        for label, *_ in PARTS:
            cells = []
            for name in shown:
                values = [p[label] for p in parts[name] if label in p]
                cells.append(f"{np.median(values) / batches / 1e6:.3f}" if values else "")
            if any(cells):
                lines.append(f"| {label} | " + " | ".join(cells) + " |")
    publish(lines, "Hardware-aware reference: time per MNIST epoch (issue 11)", args.write)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
