"""Array-valued input tables (issue 10): ``TableSource`` holds read-only float64 arrays.

Oracles: the netlist text a table of Python floats has always produced (``repr`` of each
float, written out here by hand), element equality with tables made one by one from tuples,
and the graph checks' finite-number rule.
"""

import dataclasses
import pickle

import numpy as np
import pytest

from recirc_analog.errors import NetlistError
from recirc_analog.netlist_writers.api import get_writer
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import TableSource
from recirc_analog.schematic.graph import validate
from recirc_analog.schematic.sources import input_tables
from recirc_analog.schematic.spec import CircuitSpec

WRITER = get_writer("ngspice")


def test_table_holds_read_only_float64_copies():
    xs, ys = np.array([0.0, 1.0, 2.0]), np.array([0.1, -0.2, 0.3])
    table = TableSource("Bin_0", "in_0", "sel", xs, ys)
    ys[0] = 9.0                                          # the caller's array is not the element's
    assert table.ys.tolist() == [0.1, -0.2, 0.3]
    for array in (table.xs, table.ys):
        assert array.dtype == np.float64 and array.ndim == 1 and not array.flags.writeable
        with pytest.raises(ValueError):
            array[0] = 1.0
    from_tuples = TableSource("Bin_0", "in_0", "sel", (0, 1, 2), (0.1, -0.2, 0.3))
    assert from_tuples == table and hash(from_tuples) == hash(table)
    assert from_tuples != dataclasses.replace(table, ys=(0.1, -0.2, 0.30000000000000004))
    assert from_tuples != dataclasses.replace(table, pos="in_1")
    again = pickle.loads(pickle.dumps(table))
    assert again == table and not again.ys.flags.writeable


def test_a_read_only_array_is_kept_a_writeable_base_is_not():
    frozen = np.arange(3.0)
    frozen.flags.writeable = False
    assert TableSource("B", "n", "sel", frozen, frozen).xs is frozen
    base = np.arange(6.0)
    view = base[:3]
    view.flags.writeable = False                         # read-only, but its memory is writeable
    table = TableSource("B", "n", "sel", view, view)
    assert table.xs is not view
    base[0] = 5.0
    assert table.xs[0] == 0.0


@pytest.mark.parametrize("xs, ys, fragment", [
    ((0, 1), (0.1, "volts"), "table values of Bin_0 must be a sequence of numbers, got 'volts'"),
    ((0, 1), 3.0, "table values of Bin_0 must be a one-dimensional sequence of numbers, got shape ()"),
    ((0, 1), ((1, 2), (3, 4)), "table values of Bin_0 must be a one-dimensional sequence of numbers, got shape (2, 2)"),
    ((0, 1, 2), (0.1, 0.2), "table of Bin_0 must have as many values as abscissae, got 2 values for 3"),
])
def test_bad_tables_are_refused_in_one_line(xs, ys, fragment):
    with pytest.raises(NetlistError) as error:
        TableSource("Bin_0", "in_0", "sel", xs, ys)
    assert fragment in str(error.value) and "\n" not in str(error.value)


def test_many_tables_equal_tables_made_one_by_one():
    rng = np.random.default_rng(0)
    x = rng.random((5, 4))
    made = input_tables(x, 0.2, "sel")
    one_by_one = tuple(TableSource(f"Bin_{j}", f"in_{j}", "sel", tuple(float(b) for b in range(5)),
                                   tuple((0.2 * x[:, j]).tolist())) for j in range(4))
    assert made == one_by_one
    assert all(t.xs is made[0].xs and not t.ys.flags.writeable for t in made)
    before = made[0].ys[0]
    x[0, 0] = 7.0                                        # the minibatch array is not the tables'
    assert made[0].ys[0] == before
    single = input_tables(x[:1], 0.2, "sel")             # a batch of one: a flat two-point table
    assert single[0].xs.tolist() == [0.0, 1.0] and single[0].ys.tolist() == [0.2 * 7.0] * 2
    with pytest.raises(NetlistError, match=r"2 tables on 3 abscissae need values of shape \(2, 3\)"):
        TableSource.many(("B0", "B1"), ("n0", "n1"), "sel", (0, 1, 2), np.zeros((2, 2)))


def test_writer_prints_each_value_as_its_python_float():
    """Oracle: the text of a table of Python floats (``repr`` of each), as the writer always wrote it."""
    ys = np.array([0.1 + 0.2, -1e-300, 0.2 * 0.7, 3.0])
    card = WRITER.format_table_source(TableSource("Bin_3", "in_3", "sel", np.arange(4.0), ys))
    expected = ("Bin_3 in_3 0 V = pwl(v(sel), 0.0,0.30000000000000004, 1.0,-1e-300, "
                "2.0,0.13999999999999999, 3.0,3.0)")
    assert " ".join(line.removeprefix("+ ") for line in card.split("\n")) == expected


def test_the_graph_checks_still_refuse_a_non_finite_table_value():
    net = CircularAutoencoder.random((4, 2, 4), ("tanh", "logistic"), seed=0)
    circuit = build_circuit(net, CircuitSpec(recirculation=Recirculation("pr")), np.full((3, 4), 0.5))
    blocks = list(circuit.blocks)
    k = next(k for k, b in enumerate(blocks) if b.elements and isinstance(b.elements[0], TableSource))
    bad = dataclasses.replace(blocks[k].elements[1], ys=(0.1, float("nan"), 0.1))
    blocks[k] = dataclasses.replace(blocks[k], elements=(blocks[k].elements[0], bad) + blocks[k].elements[2:])
    with pytest.raises(NetlistError, match="table value of Bin_1 must be finite, got nan"):
        validate(dataclasses.replace(circuit, blocks=tuple(blocks)))
