"""The tests' own ngspice runner (the ``ngspice`` fixture of conftest.py) against closed forms."""

import numpy as np


def test_reader_matches_a_resistor_divider(ngspice, tmp_path):
    text = "divider\nV1 a 0 dc 0\nR1 a b 3e3\nR2 b 0 1e3\n.save v(b)\n.dc V1 0 2 0.5\n.end\n"
    vectors = ngspice.simulate(text, tmp_path)
    np.testing.assert_allclose(vectors["v(v-sweep)"], [0, 0.5, 1, 1.5, 2])
    np.testing.assert_allclose(vectors["v(b)"], vectors["v(v-sweep)"] / 4, rtol=1e-12, atol=1e-15)
