"""A co-simulation run: the circuit and the NumPy reference trained in lock-step, with outputs.

Both start from the same weights (the initial weights passed through the
conductance mapping and back), see the same minibatches in the same order,
and use the same per-layer rates. Per batch it records the circuit's loss,
the reference's loss and the relative weight difference per layer.

Bidirectional architecture: the initial network is tied (A^2 := (A^1)^T) and
the reference trains it with the summed update of a shared device
(:class:`~recirc_analog.reference.tied.TiedRule`), the circuit's equivalent.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field

import numpy as np

from ..devices import DeviceConfig, device_to_json
from ..errors import ConfigError, check_range
from ..reference.network import CircularAutoencoder
from ..reference.rules import RecirculationRule
from ..reference.tied import TiedRule, tie_weights
from ..reference.training import TrainConfig, Trainer
from ..schematic.bidirectional import check_network
from ..schematic.mapping import choose_r_f
from ..schematic.spec import CircuitSpec, CrossbarConfig
from .controller import CosimController
from .learning_signal import noise_row, signal_row


@dataclass(frozen=True)
class CosimConfig:
    """Training settings of a co-simulation (the circuit itself is a :class:`CircuitSpec`)."""

    sizes: tuple[int, ...] = (100, 20, 100)
    """Layer widths (N0, ..., N0)."""
    activations: tuple[str, ...] = ("tanh", "linear")
    """Activation of layers 1..L."""
    data: str = "lowrank"
    """Data set name (lowrank, mnist, fashion)."""
    epochs: int = 1
    """Passes over the (truncated) training stream."""
    batches: int | None = None
    """Minibatches per epoch; None for the whole epoch."""
    batch_size: int = 100
    """Samples per minibatch (one ngspice analysis)."""
    lr: float = 0.001
    """Learning rate of every layer (dimensionless)."""
    lr_decay: float = 1.0
    """Layer h learns at lr * lr_decay**(L - h)."""
    seed: int = 0
    """Seed of the initial weights, the data order and the device model."""
    headroom: float = 2.0
    """r_f is chosen so the largest initial |w| uses 1 / headroom of the conductance range."""
    workers: int = 1
    """Processes each minibatch is split across (batch engine)."""
    engine: str = "batch"
    """Engine: ngspice as a batch subprocess or libngspice (shared), or the direct evaluator
    (exact closed forms; issue 10)."""
    audit_every: int = 0
    """Direct engine: every this many minibatches ngspice (batch engine) re-simulates the same
    circuit and the run stops if a read voltage differs by more than the tolerance; 0: never."""
    checkpoint_every: int = 10
    """Write a checkpoint every this many minibatches."""
    test_samples: int = 100
    """Test samples simulated at the end for the final losses and the reconstruction figure."""
    downsample: int | None = None
    """Image mean-pooling factor (2: 14x14)."""
    data_dir: str | None = None
    """Folder of the IDX files (or $RECIRC_ANALOG_DATA)."""
    max_train: int | None = None
    """Training samples per epoch: the first ``max_train`` of the stream (None: all)."""

    def __post_init__(self):
        for name in ("epochs", "batch_size", "workers", "checkpoint_every", "test_samples"):
            check_range(name, getattr(self, name), 1, None)
        if self.batches is not None:
            check_range("batches", self.batches, 1, None)
        if self.max_train is not None:
            check_range("max_train", self.max_train, 1, None)
        check_range("lr", self.lr, 0, None, low_open=True)
        check_range("lr_decay", self.lr_decay, 0, None, low_open=True)
        check_range("headroom", self.headroom, 1, None)
        from ..engines.engine import ENGINE_KINDS

        if self.engine not in ENGINE_KINDS:
            raise ConfigError(f"engine must be one of {', '.join(ENGINE_KINDS)}, got {self.engine!r}")
        if self.engine == "shared" and self.workers > 1:
            raise ConfigError("workers > 1 needs engine 'batch' (libngspice holds one circuit per process)")
        if self.engine == "direct" and self.workers > 1:
            raise ConfigError("workers > 1 needs engine 'batch' (the direct engine evaluates a minibatch at once)")
        check_range("audit_every", self.audit_every, 0, None)
        if self.audit_every and self.engine != "direct":
            raise ConfigError(f"audit_every audits the direct engine against ngspice; engine is {self.engine!r}")

    def rates(self) -> np.ndarray:
        """Learning rate of each layer 1..L, shape (L,)."""
        return TrainConfig(lr=self.lr, lr_decay=self.lr_decay).layer_rates(len(self.sizes) - 1)


SPEC_FIELDS_SINCE_BUDGET = {"read_voltage": 0.2, "noise": False, "temperature": 300.0, "noise_seed": 0,
                            "corner": "tt", "temp": 27.0}
"""CircuitSpec fields added with the voltage budget, noise and the sky130 models, at their defaults (left out
of the fingerprint)."""


def fingerprint(config: CosimConfig, spec: CircuitSpec, device: DeviceConfig) -> str:
    """JSON of everything that must match for ``--resume`` (not epochs or workers).

    The conductance window is in ``spec`` (``crossbar.g_min``, ``g_max``) only: the
    device record holds relative parameters and is built inside that window.
    """
    settings = asdict(config)
    for free in ("epochs", "workers", "engine", "audit_every", "data_dir"):
        settings.pop(free)
    if settings["max_train"] is None:
        settings.pop("max_train")    # checkpoints written before max_train existed stay resumable
    settings["spec"] = asdict(spec)
    for name, default in SPEC_FIELDS_SINCE_BUDGET.items():
        if settings["spec"][name] == default:
            settings["spec"].pop(name)   # checkpoints written before the voltage budget stay resumable
    settings["device"] = device_to_json(device)         # kind-tagged, nested records included
    return json.dumps(settings, sort_keys=True, default=str)


@dataclass
class LockStep:
    """The circuit controller and the reference trainer, side by side."""

    controller: CosimController
    reference: Trainer
    history: list = field(default_factory=list)
    activations: list = field(default_factory=list)
    """sky130 runs: per layer the record of the measured activation the reference uses
    (:func:`~recirc_analog.cosim.measured_activation.measured_reference`); else empty."""

    @classmethod
    def create(cls, config: CosimConfig, spec: CircuitSpec, device: DeviceConfig, engine, data_mean):
        """Both learners from the same initial weights (mapped to conductances and back)."""
        net = CircularAutoencoder.random(config.sizes, config.activations, seed=config.seed, data_mean=data_mean)
        bidirectional = spec.architecture == "bidirectional"
        if bidirectional:
            check_network(net, tied=False)
            net = tie_weights(net)
        if spec.crossbar.r_f is None:
            crossbar = CrossbarConfig(**{**asdict(spec.crossbar), "headroom": config.headroom})
            r_f = choose_r_f(net.weights, net.biases, crossbar)
            spec = CircuitSpec(**{**_shallow(spec), "crossbar": CrossbarConfig(**{**asdict(crossbar), "r_f": r_f})})
        controller = CosimController(net, spec, device, engine, config.rates(), config.workers, config.seed)
        reference_net = controller.network()
        activations = []
        if spec.neuron.kind == "sky130":
            # The reference shares the circuit's activation curve: each layer's sky130 stage measured in
            # situ at this run's corner, temperature and common mode (cosim/measured_activation.py).
            from .measured_activation import measured_reference

            x_mean = (np.zeros((1, net.sizes[0])) if data_mean is None
                      else np.asarray(data_mean, dtype=float).reshape(1, -1))
            scales = controller.circuit(x_mean).node_map.scales or (spec.v_unit,) * (net.n_layers + 1)
            reference_net, activations = measured_reference(reference_net, spec, controller.state.all_conductances(),
                                                            spec.crossbar.r_f, scales, x_mean)
        rule = RecirculationRule(spec.recirculation)
        if bidirectional:
            rule = TiedRule(rule, config.rates())
        reference = Trainer(reference_net, rule,
                            TrainConfig(epochs=config.epochs, batch_size=config.batch_size,
                                        layer_lrs=tuple(config.rates()), seed=config.seed, track_angles=False))
        return cls(controller, reference, activations=activations)

    def step(self, x: np.ndarray, label: str) -> dict:
        """One minibatch for both; returns the metrics row (without batch bookkeeping)."""
        record = self.controller.step(x, label)
        floor = noise_row(self.controller, x)  # of the reading before the update; closed form, injected or not
        reference_loss = self.reference.step(x).loss
        cosim_w, cosim_b = self.controller.weights()
        ref = self.reference.net
        differences = relative_difference(
            [np.concatenate([w, b[:, None]], axis=1) for w, b in zip(cosim_w, cosim_b)],
            [np.concatenate([w, b[:, None]], axis=1) for w, b in zip(ref.weights, ref.biases)])
        row = {"cosim_loss": record.loss, "reference_loss": reference_loss,
               "weight_rel_diff_max": float(differences.max()),
               "ngspice_seconds": record.ngspice_seconds, "netlist_seconds": record.netlist_seconds,
               "clipped_devices": record.clipped}
        row.update({f"weight_rel_diff_A{h}": float(d) for h, d in enumerate(differences, start=1)})
        row.update(floor, **signal_row(record.readings))
        return row


def relative_difference(a: list[np.ndarray], b: list[np.ndarray]) -> np.ndarray:
    """Per layer ||a_h - b_h|| / ||b_h|| (Frobenius), shape (L,); 0 where both are zero."""
    out = []
    for x, y in zip(a, b):
        scale = np.linalg.norm(y)
        diff = np.linalg.norm(x - y)
        out.append(diff / scale if scale > 0 else diff)
    return np.array(out)


def _shallow(spec: CircuitSpec) -> dict:
    """The spec's fields as a dict without recursing into nested configs."""
    return {name: getattr(spec, name) for name in spec.__dataclass_fields__}
