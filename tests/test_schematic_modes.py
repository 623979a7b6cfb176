"""The one vocabulary of recirculation modes: the MODES table drives the reference and the netlists alike.

Numerical parity of every mode with the reference is in test_netlist_recirculation.py
(ngspice) and test_reference_recirculation.py (the paper's tables by hand); here the
table itself and how the dc form's wiring follows each flag.
"""

import numpy as np
import pytest

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import MODE_NAMES, MODES, Recirculation
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Instance
from recirc_analog.schematic.spec import CircuitSpec


def test_mode_names_are_the_table_keys_and_every_wiring_differs():
    assert MODE_NAMES == tuple(MODES)
    assert MODE_NAMES == ("pr", "ccr", "rcc", "ccrcc", "rwcc", "error")
    flags = [tuple(vars(w).values())[1:] for w in MODES.values()]
    assert len(set(flags)) == len(flags)
    assert all(MODES[name].name == name for name in MODE_NAMES)
    with pytest.raises(ConfigError, match="mode must be one of pr, ccr, rcc, ccrcc, rwcc, error, got 'ccx'"):
        Recirculation("ccx")


@pytest.mark.parametrize("mode", MODE_NAMES)
def test_dc_form_wiring_follows_the_flags(mode):
    net = CircularAutoencoder.random((4, 3, 4), ("tanh", "tanh"), seed=1)
    x = np.random.default_rng(1).uniform(-1, 1, size=(2, 4))
    wiring = Recirculation(mode, 0.4).wiring
    circuit = build_circuit(net, CircuitSpec(recirculation=Recirculation(mode, 0.4)), x)
    instances = {e.name: e for b in circuit.blocks for e in b.elements if isinstance(e, Instance)}
    assert ("Xmo0_c1_0" in instances) == wiring.blends_data_into_layer0
    assert ("Xeo0_c1_0" in instances) == wiring.recirculates_error
    assert ("Xmo1_c1_0" in instances) == ("Xmo2_c1_0" in instances) == wiring.blends_held_into_layers
    layer1_rows = instances["Xxbar1_0_0_c1"].nodes[:4]
    expected = ("o2_c0" if wiring.layer1_reads_previous_output or not (wiring.blends_data_into_layer0
                                                                      or wiring.recirculates_error) else "o0_c1")
    assert layer1_rows == tuple(f"{expected}_{j}" for j in range(4))
    layer2_rows = instances["Xxbar2_0_0_c1"].nodes[:3]
    reads_fresh = wiring.blends_held_into_layers and wiring.next_layer_reads_fresh
    assert layer2_rows == tuple(f"{'f' if reads_fresh else 'o'}1_c1_{i}" for i in range(3))
