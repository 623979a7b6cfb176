"""Upper bounds on sizes, checked before anything is allocated.

Every size a user can choose or a file can claim is compared with a limit
here before memory is reserved for it, so a typo or a hostile file gives a
one-line error instead of a traceback minutes later or an exhausted machine.
The limits are generous for the paper's experiments (widths up to 784,
minibatches of 100, ten hidden layers). Counts that belong to one concept
live next to it: the recirculation cycles in
:mod:`recirc_analog.reference.recirculation` (``MAX_REFERENCE_CYCLES``) and
:mod:`recirc_analog.schematic.spec` (``MAX_CIRCUIT_CYCLES``).
"""

from recirc_analog.errors import ConfigError

MAX_LAYER_WIDTH = 4096
"""Largest layer width N_h (a 4096 x 4096 float64 weight matrix is 128 MiB)."""

MAX_WEIGHTS = 1 << 25
"""Largest total number of weights, sum of N_h * N_{h-1} (256 MiB of float64)."""

MAX_BATCH_SIZE = 10_000
"""Largest minibatch (the paper uses 100); activations take batch x width x 8 bytes per layer."""

MAX_ARRAY_BYTES = 1 << 30
"""Largest array (1 GiB) that a .npy / .npz member or an IDX file may claim in its header."""


def check_layer_widths(sizes, name: str = "sizes") -> None:
    """Raise ConfigError if a width exceeds MAX_LAYER_WIDTH or the weights exceed MAX_WEIGHTS.

    ``sizes`` are positive ints; ``name`` is the parameter named in the message.
    """
    widest = max(sizes)
    if widest > MAX_LAYER_WIDTH:
        raise ConfigError(f"{name}: layer widths must be in [1, {MAX_LAYER_WIDTH}], got {widest}")
    weights = sum(a * b for a, b in zip(sizes[:-1], sizes[1:]))
    if weights > MAX_WEIGHTS:
        raise ConfigError(f"{name}: the network must have at most {MAX_WEIGHTS} weights in total, "
                          f"got {weights}")
