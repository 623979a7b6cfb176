"""Reading activities out of ngspice's vectors through a NodeMap (engines.readout).

Oracle: hand-made vectors whose values encode (sample, cycle), so every read
can be checked against the index it must have come from.
"""

import numpy as np
import pytest

from recirc_analog.engines.readout import ABSCISSA, read_activity, read_held, rows
from recirc_analog.errors import SimulationError, UsageError
from recirc_analog.schematic.node_map import NodeMap

SLOT = 1e-6


def node_map(form: str, batch: int = 3, cycles: int = 2, lead_in: int = 2) -> NodeMap:
    """A 2-1-2 map whose layer-h node at cycle k is ``o<h>_<k>`` (held: ``hd<h>``)."""
    sizes = (2, 1, 2)
    return NodeMap(form=form, sizes=sizes, cycles=cycles, batch=batch, v_unit=0.5,
                   activity_nodes={(h, k): tuple(f"o{h}_{k}_{i}" for i in range(n))
                                   for h, n in enumerate(sizes) for k in range(cycles + 1)},
                   held_nodes={h: tuple(f"hd{h}_{i}" for i in range(n)) for h, n in enumerate(sizes)},
                   copies=("",), device_prefixes={"plus": "Rp", "minus": "Rn"}, tile_shape=(4, 4),
                   slot=SLOT if form == "tran" else None, lead_in=lead_in if form == "tran" else 0)


def test_tran_reads_the_last_time_point_of_each_phase():
    nm = node_map("tran")
    phases = nm.batch * (nm.cycles + 1)
    # two time points per phase, the second at 0.9 of the slot after the centre's start
    starts = (nm.lead_in + np.arange(phases) - 0.5) * SLOT
    time = np.concatenate([[0.0], np.stack([starts + 0.4 * SLOT, starts + 0.9 * SLOT], axis=1).ravel()])
    at = rows(nm, time)
    assert at.shape == (3, 3)
    np.testing.assert_allclose(time[at], (starts + 0.9 * SLOT).reshape(3, 3))
    vectors = {ABSCISSA["tran"]: time}
    for name in {n for nodes in nm.activity_nodes.values() for n in nodes} | {"hd1_0"}:
        vectors[f"v({name})"] = np.arange(len(time)) * 0.5        # value / v_unit = row index
    np.testing.assert_array_equal(read_activity(vectors, nm, 2, 1), np.repeat(at[:, [1]], 2, axis=1))
    np.testing.assert_array_equal(read_held(vectors, nm, 1), at[:, [2]])


def test_a_phase_without_time_point_and_a_short_sweep_are_errors():
    nm = node_map("tran")
    time = np.array([0.0, 3.0, 4.0, 30.0]) * SLOT
    with pytest.raises(SimulationError, match="a phase of the tran run holds no time point"):
        rows(nm, time)
    with pytest.raises(SimulationError, match="expected 3 sweep points, got 2"):
        rows(node_map("dc"), np.array([0.0, 1.0]))
    with pytest.raises(UsageError, match="only the tran form has phases in time"):
        node_map("dc").phase_bounds()


def test_dc_reads_one_sweep_point_per_sample_and_names_missing_vectors():
    nm = node_map("dc")
    vectors = {ABSCISSA["dc"]: np.arange(3.0), "v(o0_2_0)": np.array([0.5, 1.0, 1.5]),
               "v(o0_2_1)": np.zeros(3)}
    np.testing.assert_array_equal(read_activity(vectors, nm, 0, 2), [[1, 0], [2, 0], [3, 0]])
    with pytest.raises(KeyError, match=r"v\(o1_1_0\)"):
        read_activity(vectors, nm, 1, 1)
