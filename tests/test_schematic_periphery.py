"""One periphery strategy per neuron kind chooses the TIA and activation cells of every read."""

import dataclasses

import numpy as np
import pytest

from recirc_analog.errors import ConfigError
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.schematic import periphery
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Instance
from recirc_analog.schematic.periphery import PERIPHERIES, IdealPeriphery, OpampPeriphery, get_periphery
from recirc_analog.schematic.spec import NEURON_KINDS, CircuitSpec, CrossbarConfig, NeuronConfig


def test_registry_covers_the_neuron_kinds_and_copies_the_config():
    assert tuple(PERIPHERIES) == NEURON_KINDS
    opamp = get_periphery(NeuronConfig("opamp", gain=1e4, offset=1e-3, swing=2.0), 1e3, 0.2)
    assert opamp == OpampPeriphery(1e3, 0.2, 1e4, 1e-3, 2.0)
    assert opamp.column_stage() == ("tia_opamp", (("rf", 1e3), ("gain", 1e4), ("vos", 1e-3), ("vsat", 2.0)))
    assert get_periphery(NeuronConfig(), 5e3, 0.1).column_stage() == ("tia_ideal", (("rf", 5e3),))
    with pytest.raises(ConfigError, match="neuron kind must be one of ideal, opamp, sky130, got 'bipolar'"):
        get_periphery(dataclasses.replace(NeuronConfig(), kind="bipolar"), 1e3, 0.1)


@dataclasses.dataclass(frozen=True)
class _OpampStages(IdealPeriphery):
    """Ideal kind, but every column through an op-amp stage of gain 1e5: both architectures must follow."""

    kind = "ideal"

    def column_stage(self):
        return "tia_opamp", (("rf", self.r_f), ("gain", 1e5), ("vos", 0.0), ("vsat", 5.0))

    neurons = periphery.Periphery.neurons


@pytest.mark.parametrize("architecture", ["conjoined", "bidirectional"])
@pytest.mark.parametrize("mapping", ["differential", "shared_reference"])
def test_both_architectures_take_every_cell_from_the_periphery(monkeypatch, architecture, mapping):
    net = CircularAutoencoder.random((4, 3, 4), ("tanh", "tanh"), seed=5)
    net.weights[1] = net.weights[0].T.copy()
    x = np.random.default_rng(5).uniform(-1, 1, size=(2, 4))
    spec = CircuitSpec(architecture=architecture, crossbar=CrossbarConfig(mapping=mapping))
    cells = {e.cell for b in build_circuit(net, spec, x).blocks for e in b.elements if isinstance(e, Instance)}
    assert "tia_opamp" not in cells
    monkeypatch.setitem(PERIPHERIES, "ideal", _OpampStages)
    circuit = build_circuit(net, spec, x)
    stages = [e for b in circuit.blocks for e in b.elements if isinstance(e, Instance) and e.cell.startswith("tia")]
    assert stages and all(e.cell == "tia_opamp" and dict(e.params)["gain"] == 1e5 for e in stages)
    # one stage per sensed line and read, two reads (cycles 0 and 1) in the dc form
    expected = {("conjoined", "differential"): 6 + 8, ("conjoined", "shared_reference"): (3 + 1) + (4 + 1),
                ("bidirectional", "differential"): 6 + 4, ("bidirectional", "shared_reference"): (3 + 1) + (4 + 1)}
    assert len(stages) == 2 * expected[(architecture, mapping)]
