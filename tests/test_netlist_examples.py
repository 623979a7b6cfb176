"""The committed example netlists are up to date and run in plain ngspice."""

import numpy as np

from recirc_analog.netlist_writers.examples import EXAMPLES, get_example_texts
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import run_cycles


def test_example_netlists_are_not_stale(netlists_dir):
    expected = get_example_texts()
    committed = {path.name for path in netlists_dir.glob("*.cir")}
    assert committed == set(expected), "netlists/ differs from the example list: run `make netlists`"
    for name, text in expected.items():
        assert (netlists_dir / name).read_text() == text, f"netlists/{name} is stale: run `make netlists`"


def test_an_example_computes_the_reference_cycles(tmp_path, netlists_dir, ngspice):
    """The committed file alone (copied elsewhere, run with plain ngspice -b) gives the reference's cycles."""
    sizes, activations, batch, spec = EXAMPLES["pr_8-4-8_dc"]
    target = tmp_path / "pr_8-4-8_dc.cir"
    target.write_text((netlists_dir / target.name).read_text())
    vectors = ngspice.run_file(target)
    net = CircularAutoencoder.random(sizes, activations, seed=0)
    x = np.random.default_rng(1).uniform(0, 1, size=(batch, sizes[0]))
    expected = run_cycles(net, x, spec.recirculation)
    for k in (0, 1):
        got = np.stack([vectors[f"v(o{h}_c{k}_{i})"] for h in (1, 2) for i in range(sizes[h])], axis=1)
        np.testing.assert_allclose(got / spec.v_unit, np.concatenate(expected[k][1:], axis=1), atol=1e-6)
