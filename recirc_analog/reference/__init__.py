"""Exact NumPy reference of every learning rule of Baldi & Sadowski (2018).

It is the oracle the circuit and the co-simulation are checked against:

- :mod:`.activations`: transfer functions and derivatives;
- :mod:`.network`: the circular autoencoder, its forward pass (Eq. 5) and
  the weights.npz format;
- :mod:`.recirculation`: cycles 0..m of PR / CCR / RCC / CCRCC / RWCC / error
  recirculation (Tables 1-4, Section 5);
- :mod:`.losses`: losses matched to the output activation (Eq. 8);
- :mod:`.updates`: the Hebbian update form and the backward recursion (Eq. 6-7);
- :mod:`.rules`: BP, RBP, SRBP, ARBP, TOP and recirculation rules by name;
- :mod:`.standard_channels`: the standard autoencoder's channels (Table 5);
- :mod:`.training`: minibatch training with per-layer rates and norm caps;
- :mod:`.linear_dynamics`: Section 6's linear ODEs, Theorems 6.1-6.4 checked.
"""

from recirc_analog._exports import lazy_exports

_EXPORTS = {
    "CircularAutoencoder": "network",
    "ACTIVATION_NAMES": "activations",
    "get_activation": "activations",
    "loss_for": "losses",
    "MODE_NAMES": "recirculation",
    "MODES": "recirculation",
    "MAX_REFERENCE_CYCLES": "recirculation",
    "cycle_pair": "recirculation",
    "Recirculation": "recirculation",
    "run_cycles": "recirculation",
    "RULES": "rules",
    "RULE_NAMES": "rules",
    "get_rule": "rules",
    "StandardChannels": "standard_channels",
    "tie_weights": "tied",
    "EpochMetrics": "training",
    "TrainConfig": "training",
    "Trainer": "training",
    "LearningRule": "updates",
    "Update": "updates",
}
"""Public name -> the module defining it (imported on first use)."""

__all__, __getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
