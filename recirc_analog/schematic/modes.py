"""How each recirculation mode is wired (see :mod:`recirc_analog.reference.recirculation`)."""

MIXED_INPUT_MODES = ("ccr", "rcc", "ccrcc", "rwcc")
"""Layer 0 receives lam * I + (1 - lam) * O^L(k-1) (a mixer per input neuron)."""

MIXED_LAYER_MODES = ("ccr", "ccrcc", "rwcc")
"""Layers 1..L output lam * O^h(0) + (1 - lam) * fresh (a mixer per neuron)."""

CHAIN_FRESH_MODES = ("ccr", "ccrcc")
"""The next layer reads the fresh (unmixed) activity; in ``rwcc`` it reads the mixed one.
In ``ccr`` layer 1 also reads the unmixed O^L(k-1) rather than the mixed input."""
