"""The sky130 periphery in the netlist generator (issue 12): spec fields and their one-line errors, what the
writer emits (models, .temp, the tran form's options, holds and clock), the voltage budget's swing check,
the direct engine's refusal, and a generated netlist read by plain ``ngspice -b``."""

import dataclasses
import math
import re
import subprocess

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.engines import get_engine
from recirc_analog.errors import ConfigError, SimulationError
from recirc_analog.netlist_writers.api import get_writer
from recirc_analog.pdk import models
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.schematic.builder import build_circuit
from recirc_analog.schematic.elements import Instance, PdkModels, PhaseClock
from recirc_analog.schematic.spec import PDK_CORNERS, CircuitSpec, NeuronConfig
from recirc_analog.schematic.voltage_budget import BudgetError

SKY130 = NeuronConfig(kind="sky130")


def _net(sizes=(4, 2, 4), seed=0):
    return CircularAutoencoder.random(sizes, ("tanh", "linear"), seed=seed)


def _x(batch=2, n0=4, seed=1):
    return np.random.default_rng(seed).uniform(-1, 1, (batch, n0))


def test_corners_are_the_pdk_corners():
    assert PDK_CORNERS == models.CORNERS


@pytest.mark.parametrize("fields, message", [
    (dict(corner="xx"), "corner must be one of tt, ss, ff, sf, fs, got 'xx'"),
    (dict(temp=200.0), r"temp \(degC\) must be in \[-40.0, 125.0\], got 200.0"),
    (dict(temp="hot"), r"temp must be a number of degC in \[-40, 125\], got 'hot'"),
    (dict(temp=math.nan), r"temp \(degC\) must be in \[-40.0, 125.0\], got nan"),
    (dict(architecture="bidirectional"), "neuron kind sky130 needs architecture conjoined"),
    (dict(form="tran", recirculation=Recirculation("pr", cycles=(0, 2))),
     r"neuron kind sky130 with form tran needs cycles \(n, 1\).*got m = 2"),
])
def test_bad_sky130_settings_are_one_line(fields, message):
    with pytest.raises(ConfigError, match=message) as error:
        CircuitSpec(neuron=SKY130, **fields)
    assert "\n" not in str(error.value)


def test_corner_without_sky130_is_refused():
    with pytest.raises(ConfigError, match="corner and temp set the sky130 models; they need neuron kind sky130"):
        CircuitSpec(corner="ss")


def test_writer_emits_the_corner_models_and_temperature(tmp_path):
    circuit = build_circuit(_net(), CircuitSpec(neuron=SKY130, corner="ss", temp=125.0, v_unit=0.1), _x())
    assert circuit.models == PdkModels("ss", 125.0)
    text = get_writer().get_netlist(circuit)
    assert "parameters_fet_ss.spice" in text and ".temp 125.0" in text and "parameters_fet_tt" not in text
    fet = f'.include "{models.write_fet_models()}"'
    assert text.index("models_global.spice") < text.index(fet) < text.index(".subckt sky130_opamp")
    named = dataclasses.replace(circuit, models=PdkModels("ss", 125.0, str(tmp_path / "a b.lib")))
    assert f'.lib "{tmp_path / "a b.lib"}" ss' in get_writer().get_netlist(named)


def test_a_library_path_ngspice_cannot_quote_is_one_line(tmp_path):
    with pytest.raises(ConfigError, match="model library path must not hold a double quote"):
        models.quoted_path(tmp_path / 'bad"name.lib')
    with pytest.raises(ConfigError, match="model library path must not hold"):
        models.quoted_path(tmp_path / "bad\nname.lib")


def test_tran_form_has_the_sky130_holds_clock_and_options():
    spec = CircuitSpec(neuron=SKY130, form="tran", v_unit=0.1)
    circuit = build_circuit(_net(), spec, _x())
    text = get_writer().get_netlist(circuit)
    tran = [line for line in text.splitlines() if line.startswith(".tran")]
    assert len(tran) == 1 and "uic" not in tran[0]
    assert "gmin=1e-15" in text and "maxord=1" not in text
    elements = [e for b in circuit.blocks for e in b.elements]
    holds = [e for e in elements if isinstance(e, Instance) and e.cell.endswith("sample_hold")]
    assert len(holds) == 4 + 2 + 4 and all(h.cell == "sky130_sample_hold" and h.nodes[2:] ==
                                           ("phi1", "phi1b", "vph", "vnh") for h in holds)
    (clock,) = [e for e in elements if isinstance(e, Instance) and e.cell == "sky130_nonoverlap_clock"]
    assert clock.nodes[:3] == ("hclk", "phi1", "phi1b")
    (hclk,) = [e for e in elements if isinstance(e, PhaseClock) and e.pos == "hclk0"]
    # The hold clock, evaluated as the writer's expression defines it (slot n centred on n * slot), is high
    # exactly in the first 80 % of phase 0 of each sample and low in phase 1.
    period, lead = spec.clock.phase, spec.clock.lead_in
    for fraction, high in ((0.02, True), (0.5, True), (0.78, True), (0.82, False), (0.98, False), (1.5, False)):
        t = (lead - 0.5 + fraction + 2) * period                       # sample 1 (phases 0 and 1)
        s = math.floor(t / hclk.slot + 0.5) - hclk.lead_in
        assert ((s % hclk.phases) in hclk.active) == high, fraction


def test_voltage_budget_rejects_a_tia_output_beyond_the_sky130_swing():
    net = _net((16, 4, 16))
    x = np.full((1, 16), 1.0)
    with pytest.raises(BudgetError, match=r"voltage budget: op-amp output of layer \d \(node t[pn]\d_c0_\d+\) "
                                          r"reaches [0-9.]+ V at sample 0, cycle \d, outside its swing \+-0.7 V"):
        build_circuit(net, CircuitSpec(neuron=SKY130, v_unit=0.2), x)


def test_direct_engine_refuses_sky130_cells():
    circuit = build_circuit(_net(), CircuitSpec(neuron=SKY130, v_unit=0.1), _x())
    with pytest.raises(SimulationError, match="direct engine cannot evaluate cell 'sky130_") as error:
        get_engine("direct").readings(circuit, (0, 1), "b")
    assert "\n" not in str(error.value)


def test_netlist_command_writes_the_library_beside_and_plain_ngspice_reads_it(tmp_path, capsys):
    out = tmp_path / "net.cir"
    assert main(["netlist", "--sizes", "4,2,4", "--act", "tanh,linear", "--periphery", "sky130", "--corner", "ff",
                 "--temp", "-40", "--v-unit", "0.1", "--batch", "2", "-o", str(out)]) == 0
    text = out.read_text()
    assert re.search(rf'^\.lib "{re.escape(str(tmp_path / "sky130_models.lib"))}" ff$', text, re.M)
    assert (tmp_path / models.FET_FILE).is_file() and ".temp -40.0" in text
    done = subprocess.run(["ngspice", "-b", "-r", str(tmp_path / "net.raw"), str(out)], capture_output=True,
                          text=True, cwd=tmp_path, timeout=300)
    assert done.returncode == 0 and (tmp_path / "net.raw").is_file(), done.stderr[-500:]
    assert not re.search(r"^Error", done.stdout + done.stderr, re.M)


def test_neuron_is_still_accepted_as_the_older_name(tmp_path):
    out = tmp_path / "n.cir"
    assert main(["netlist", "--sizes", "4,2,4", "--neuron", "opamp", "-o", str(out)]) == 0
    assert "tia_opamp" in out.read_text()
