"""Input tables shared by both forms: one behavioural source per input neuron."""

import numpy as np

from recirc_analog.schematic.elements import TableSource


def input_tables(x: np.ndarray, v_unit: float, control: str) -> tuple[TableSource, ...]:
    """Sources ``in_<j>`` with ``v(in_j) = v_unit * x[b, j]`` when ``v(control) = b``.

    ``x`` has shape (batch, N0); a batch of one gets a flat two-point table.
    """
    batch = x.shape[0]
    xs = tuple(float(b) for b in range(max(batch, 2)))
    volts = v_unit * (x if batch > 1 else np.repeat(x, 2, axis=0))
    columns = volts.T.tolist()
    return tuple(TableSource(f"Bin_{j}", f"in_{j}", control, xs, tuple(columns[j])) for j in range(x.shape[1]))
