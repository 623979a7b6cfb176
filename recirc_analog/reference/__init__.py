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
- :mod:`.training`: minibatch training with per-layer rates and norm caps.
"""

from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import (
    MAX_REFERENCE_CYCLES, RECIRCULATION_MODES, Recirculation, cycle_pair, run_cycles)
from recirc_analog.reference.rules import RULES, get_rule
from recirc_analog.reference.standard_channels import StandardChannels
from recirc_analog.reference.training import EpochMetrics, TrainConfig, Trainer
from recirc_analog.reference.updates import LearningRule, Update

__all__ = [
    "CircularAutoencoder", "MAX_REFERENCE_CYCLES", "RECIRCULATION_MODES", "Recirculation", "cycle_pair",
    "run_cycles", "RULES", "get_rule",
    "StandardChannels", "EpochMetrics", "TrainConfig", "Trainer", "LearningRule", "Update",
]
