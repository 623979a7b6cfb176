"""Input tables shared by both forms: one behavioural source per input neuron."""

from functools import lru_cache

import numpy as np

from recirc_analog.schematic.elements import TableSource


def input_tables(x: np.ndarray, v_unit: float, control: str) -> tuple[TableSource, ...]:
    """Sources ``in_<j>`` with ``v(in_j) = v_unit * x[b, j]`` (V) when ``v(control) = b``.

    ``x`` has shape (batch, N0); a batch of one gets a flat two-point table. The tables share
    one read-only abscissa array (0..B-1) and their values are the rows of one read-only
    (N0, B) array (:meth:`TableSource.many`: no Python floats, no check per table, since the
    co-simulation rebinds them every minibatch).
    """
    batch = x.shape[0]
    volts = v_unit * (x if batch > 1 else np.repeat(x, 2, axis=0))
    names, positions = _names(x.shape[1])
    return TableSource.many(names, positions, control, np.arange(max(batch, 2), dtype=np.float64), volts.T)


@lru_cache(maxsize=8)
def _names(inputs: int) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(source names, node names) of ``inputs`` input tables."""
    return tuple(f"Bin_{j}" for j in range(inputs)), tuple(f"in_{j}" for j in range(inputs))
