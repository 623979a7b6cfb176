"""The memristor element kind (schematic/elements.py ``Memristor``, writer ``format_memristor``):
through the graph checks, the writer (with its library) and ngspice, against the model's ODE."""

import numpy as np
import pytest

from recirc_analog.devices.compact.models import Vteam, Yakopcic, integrate_state
from recirc_analog.errors import NetlistError
from recirc_analog.netlist_writers.ngspice import NgspiceWriter
from recirc_analog.schematic.elements import Block, Circuit, Memristor, Transient, VoltageSource
from recirc_analog.schematic.graph import validate
from recirc_analog.schematic.node_map import NodeMap


def _circuit(volts: float, memristor: Memristor, stop: float, max_step: float) -> Circuit:
    """A constant source (on from t = 0: ``uic``) across one memristor."""
    block = Block("one memristor", (VoltageSource("V1", "a", "0", volts), memristor))
    return Circuit(title="memristor element", description=(), cells=(memristor.model.cell,), crossbars=(),
                   blocks=(block,), analysis=Transient(max_step, stop, max_step), reltol=1e-6, vntol=1e-10,
                   saves=("a",),
                   node_map=NodeMap(form="dc", sizes=(1, 1, 1), cycles=1, batch=1, v_unit=1.0, device_prefixes={},
                                    activity_nodes={}, held_nodes={}, copies=(), tile_shape=(1, 1)))


def test_writer_includes_the_library_and_every_parameter():
    model = Vteam(r_off=2000.0)
    text = NgspiceWriter().get_netlist(_circuit(0.01, Memristor("Xm1", "a", "0", model, x0=0.25), 1e-9, 1e-11))
    assert ".subckt vteam p n" in text                                 # circuits/memristors/vteam.lib inlined
    assert ("Xm1 a 0 vteam x0=0.25 ron=50.0 roff=2000.0 d=3e-09 koff=0.0005 kon=-10.0 aoff=1.0 aon=3.0 voff=0.02\n"
            "+ von=-0.2 pwin=10.0\n.save v(Xm1.x)\n") in text


@pytest.mark.parametrize("model, volts, x0, stop", [
    (Yakopcic(), 0.5, 0.05, 1e-3),       # through the window region above x_p = 0.3
    (Yakopcic(), -0.5, 0.9, 1e-3),
    (Vteam(), 0.5, 0.2, 1e-7),
])
def test_state_follows_the_ode_in_the_tran_form(ngspice, tmp_path, model, volts, x0, stop):
    """The tran form integrates by backward Euler at one step per max_step (ARCHITECTURE.md §5):
    4000 steps leave the state within 2e-4 of the ODE."""
    memristor = Memristor("X1", "a", "0", model, x0=x0)
    circuit = _circuit(volts, memristor, stop, stop / 4000)
    validate(circuit)
    v = ngspice.simulate(NgspiceWriter().get_netlist(circuit), tmp_path)
    expected = integrate_state(model, [0.0, stop], [volts, volts], x0)[-1]
    assert abs(expected - x0) > 0.05                                    # the state really moved
    assert v[f"v({memristor.state_node})"][-1] == pytest.approx(expected, abs=2e-4)


def test_subthreshold_bias_leaves_the_state(ngspice, tmp_path):
    """0.15 V (threshold 0.16 V) for 10 ms, 30 times longer than a 0.5 V bias takes to move it by 0.3."""
    memristor = Memristor("X1", "a", "0", Yakopcic(), x0=0.3)
    v = ngspice.simulate(NgspiceWriter().get_netlist(_circuit(0.15, memristor, 1e-2, 1e-5)), tmp_path)
    assert np.abs(v["v(x1.x)"] - 0.3).max() < 1e-9


def test_bad_memristors_are_one_line_errors():
    with pytest.raises(NetlistError, match="memristor name must start with X"):
        Memristor("R1", "a", "0", Vteam())
    with pytest.raises(NetlistError, match=r"x0 of memristor X1 must be in \[0, 1\], got 1.5"):
        Memristor("X1", "a", "0", Vteam(), x0=1.5)
    with pytest.raises(NetlistError, match="model of memristor 'X1' must be one of Vteam, Yakopcic, got str"):
        Memristor("X1", "a", "0", "vteam")
    with pytest.raises(NetlistError, match="illegal node 'a b'"):
        NgspiceWriter().format_memristor(Memristor("X1", "a b", "0", Vteam()))
