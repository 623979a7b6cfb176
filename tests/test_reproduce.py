"""``recirc-analog reproduce``: the paper's figures, checked against the reference trained directly.

Oracles: the NumPy reference trained here with the paper's settings written out by hand
(not through the figure definitions), the paper's robust orderings (BP below TOP on
Lowrank), the co-simulated circuit against its lock-step reference, and the paper's
identity "REC 1 is plain recirculation" (caption of Fig. 10).
"""

import csv

import numpy as np
import pytest

from recirc_analog.cli import main
from recirc_analog.data import load_dataset
from recirc_analog.jobs import reproduce as rp
from recirc_analog.reference.network import CircularAutoencoder
from recirc_analog.reference.recirculation import Recirculation
from recirc_analog.reference.rules import get_rule
from recirc_analog.reference.training import TrainConfig, Trainer

TINY = rp.Settings(epochs=2, max_train=1000, max_test=500)


def _direct(rule, sizes, acts, lr, max_norm, dataset, epochs, **params):
    """Test loss per epoch of the reference trained directly (settings spelled out, seed 0)."""
    net = CircularAutoencoder.random(sizes, acts, seed=0, data_mean=dataset.train_mean)
    trainer = Trainer(net, get_rule(rule, **params), TrainConfig(epochs=epochs, lr=lr, max_norm=max_norm, seed=0,
                                                                 track_angles=False))
    trainer.fit(dataset)
    return np.array([row.test_loss for row in trainer.history])


@pytest.fixture(scope="module")
def lowrank_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("fig4")
    entries = rp.reproduce([4], TINY, out, show_progress=False)
    return out, entries


def test_figure4_csv_matches_the_reference_trained_directly(lowrank_run):
    out, _ = lowrank_run
    curves = rp.read_curves_csv(out / "fig04.csv")
    assert set(curves) == {"linear-1", "linear-3"}
    assert set(curves["linear-1"]) == {"BP", "RBP", "SRBP", "REC", "TOP"}
    data = load_dataset("lowrank", seed=0, max_train=1000)
    data.test = data.test[:500]
    # Section 7.2: lr 0.01 / 10 (Lowrank), / 10 again for three hidden layers; weight cap 2.0 (linear).
    for key, sizes, lr in (("linear-1", (100, 20, 100), 1e-3), ("linear-3", (100, 100, 20, 100, 100), 1e-4)):
        acts = ("linear",) * (len(sizes) - 1)
        for label, rule, params in (("BP", "bp", {}), ("REC", "rec", {}), ("SRBP", "srbp", {"seed": 0})):
            expected = _direct(rule, sizes, acts, lr, 2.0, data, 2, **params)
            np.testing.assert_allclose(curves[key][label], expected, rtol=1e-12, err_msg=f"{key} {label}")


def test_figure4_bp_ends_below_top_as_in_the_paper(lowrank_run):
    out, entries = lowrank_run
    curves = rp.read_curves_csv(out / "fig04.csv")
    for key in ("linear-1", "linear-3"):
        assert curves[key]["BP"][-1] < 0.95 * curves[key]["TOP"][-1], key
        assert curves[key]["BP"][-1] < curves[key]["BP"][0], key
    assert entries[0]["line"].startswith("Figure 4 final test loss: linear-1: REC ")


def test_report_and_panel_are_written(lowrank_run):
    out, entries = lowrank_run
    report = (out / "REPORT.md").read_text()
    assert "## Figure 4: Lowrank" in report and "fig04.png" in report and (out / "fig04.md").is_file()
    assert report.count("| yes |") + report.count("| **no** |") == len(entries[0]["checks"])
    assert (out / "fig04.png").read_bytes()[:4] == b"\x89PNG"


def test_a_check_can_fail():
    """The claims are tests: REC above TOP breaks 'each ends below TOP'."""
    def run(final):
        return rp.RunResult(np.array([10.0, final]), np.array([10.0, final]), None, None, 0.0)

    figure = rp.FIGURES[4]
    results = {key: {"BP": run(1.0), "RBP": run(1.0), "SRBP": run(1.0), "REC": run(9.0), "TOP": run(5.0)}
               for key in ("linear-1", "linear-3")}
    verdicts = rp.evaluate_checks(figure, results)
    assert [holds for _, holds, _ in verdicts] == [False, False, False]
    results = {key: {"BP": run(1.0), "RBP": run(1.0), "SRBP": run(1.0), "REC": run(0.1), "TOP": run(5.0)}
               for key in ("linear-1", "linear-3")}
    assert all(holds for _, holds, _ in rp.evaluate_checks(figure, results))
    results["linear-3"]["REC"] = rp.RunResult(np.array([10.0, 0.1, np.nan]), np.array([10.0, 0.1, np.nan]), 2,
                                              None, 0.0)
    verdicts = rp.evaluate_checks(figure, results)
    assert [holds for _, holds, _ in verdicts] == [False, True, False]
    assert "diverged: linear-3 REC (epoch 2)" in verdicts[0][2]


def test_equal_settings_share_one_run_and_rec1_is_plain_recirculation(data_dir):
    """Fig. 10's REC 1 is PR of Fig. 9 and REC of Fig. 5 (the caption of Fig. 10 says REC 1 is PR)."""
    settings = rp.Settings(epochs=1, max_train=300, max_test=200)
    specs = {n: rp.run_specs(rp.FIGURES[n], settings, {"mnist": 784}) for n in (5, 9, 10)}
    assert specs[5]["linear-1"]["REC"] == specs[9]["linear-1"]["PR"] == specs[10]["linear-1"]["REC 1"]
    assert specs[10]["linear-1"]["REC 2"].recirculation.cycles == (0, 2)
    assert specs[5]["linear-3"]["BP"].lr == 0.001 and specs[5]["non-linear-1"]["BP"].max_norm is None
    assert specs[5]["non-linear-3"]["BP"].activations == ("tanh", "tanh", "tanh", "logistic")


def test_figure8_rec_prime_halves_the_rate_per_layer():
    spec = rp.run_specs(rp.FIGURES[8], TINY, {"mnist": 784})["deep"]["REC'"]
    assert spec.sizes == (784,) + (100,) * 10 + (784,)
    rates = TrainConfig(lr=spec.lr, lr_decay=spec.lr_decay).layer_rates(len(spec.sizes) - 1)
    np.testing.assert_allclose(rates, 0.01 / 2.0 ** np.arange(10, -1, -1))


def test_figure7_reconstructions_from_the_trained_networks(tmp_path, data_dir):
    settings = rp.Settings(epochs=1, max_train=500, max_test=200)
    rp.reproduce([7], settings, tmp_path, data_dir, show_progress=False)
    curves = rp.read_curves_csv(tmp_path / "fig07.csv")
    data = load_dataset("mnist", data_dir, max_train=500)
    data.test = data.test[:200]
    expected = _direct("rec", (784, 100, 20, 100, 784), ("linear",) * 4, 1e-3, 2.0, data, 1,
                       recirculation=Recirculation())
    np.testing.assert_allclose(curves["linear-3"]["REC"], expected, rtol=1e-12)
    assert (tmp_path / "fig07.png").stat().st_size > 1000


def test_circuit_panels_lie_on_the_reference(tmp_path, data_dir):
    from recirc_analog.jobs.reproduce_circuit import circuit_panels

    lines = circuit_panels(tmp_path, data_dir, batches=3, show_progress=False)
    with open(tmp_path / "circuit.csv", newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert {row["panel"] for row in rows} == {"lowrank", "mnist"} and len(rows) == 6
    for row in rows:
        assert float(row["circuit_loss"]) == pytest.approx(float(row["reference_loss"]), rel=1e-9)
    assert any(line.startswith("| Fig. 4 left") for line in lines)


@pytest.mark.parametrize("argv, fragment", [
    (["--figure", "3"], "--figure must be one of 4, 5, 6, 7, 8, 9, 10 (the paper's experiment figures), got 3"),
    (["--figure", "four"], "--figure must be one of 4, 5, 6, 7, 8, 9, 10, got 'four'"),
    (["--figure", "4", "--epochs", "0"], "--epochs must be >= 1, got 0"),
    (["--circuit-batches", "5"], "--circuit-batches needs --circuit"),
    (["--circuit-only", "--figure", "4"], "--circuit-only and --figure exclude each other"),
])
def test_bad_arguments_are_one_line(argv, fragment, capsys, tmp_path):
    assert main(["reproduce", "--out", str(tmp_path), *argv]) == 2
    err = capsys.readouterr().err
    assert fragment in err and err.count("\n") == 1


@pytest.mark.slow
def test_complete_quick_run(tmp_path, data_dir, capsys):
    assert main(["reproduce", "--quick", "--circuit", "--quiet", "--data-dir", str(data_dir),
                 "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    report = (tmp_path / "REPORT.md").read_text()
    for number in rp.FIGURE_NUMBERS:
        assert f"Figure {number} final test loss" in out
        assert (tmp_path / f"fig{number:02d}.png").is_file() and f"## Figure {number}:" in report
        curves = rp.read_curves_csv(tmp_path / f"fig{number:02d}.csv")
        assert all(np.isfinite(c[0]) for runs in curves.values() for c in runs.values())
    assert "## Circuit panels" in report


def test_report_gathers_the_figures_of_separate_commands(tmp_path):
    (tmp_path / "fig10.md").write_text("## Figure 10: later\n")
    (tmp_path / "fig04.md").write_text("## Figure 4: first\n")
    (tmp_path / "READING.md").write_text("## Reading\n")
    (tmp_path / "fig4.md").write_text("not a section\n")
    text = rp.assemble_report(tmp_path).read_text()
    assert text.index("Figure 4: first") < text.index("Figure 10: later") < text.index("## Reading")
    assert "not a section" not in text


def test_paper_panels_refuse_bad_input_and_draw_the_grid(tmp_path):
    from recirc_analog.errors import ConfigError
    from recirc_analog.report.paper_figures import plot_paper_panels

    with pytest.raises(ConfigError, match="panels must hold at least one panel"):
        plot_paper_panels(tmp_path / "a.png", {})
    with pytest.raises(ConfigError, match="columns must be an integer >= 1, got 0"):
        plot_paper_panels(tmp_path / "a.png", {"p": {"BP": [1.0, 0.5]}}, columns=0)
    path = plot_paper_panels(tmp_path / "a.png", {"p": {"BP": [1.0, 0.5]}, "q": {"REC": [2.0, np.nan]}}, dpi=50)
    assert path.read_bytes()[:4] == b"\x89PNG"


def test_recheck_from_the_csv_gives_the_same_section(lowrank_run, tmp_path, capsys):
    out, _ = lowrank_run
    for name in ("fig04.csv", "fig04.md", "fig04.png"):
        (tmp_path / name).write_bytes((out / name).read_bytes())
    assert main(["reproduce", "--recheck", "--out", str(tmp_path)]) == 0
    assert (tmp_path / "fig04.md").read_text() == (out / "fig04.md").read_text()
    assert "Figure 4 final test loss" in capsys.readouterr().out
    assert main(["reproduce", "--recheck", "--out", str(tmp_path / "empty")]) == 2


def test_each_figure_is_written_when_its_runs_are_done_and_shared_runs_train_once(tmp_path, data_dir,
                                                                                 monkeypatch):
    trained = []
    real = rp.train_curve

    def counting(spec, dataset, progress=None):
        trained.append(spec)
        if spec.data == "fashion":
            raise KeyboardInterrupt  # the command is stopped while Fig. 6 trains
        return real(spec, dataset, progress)

    monkeypatch.setattr(rp, "train_curve", counting)
    settings = rp.Settings(epochs=1, max_train=200, max_test=100)
    with pytest.raises(KeyboardInterrupt):
        rp.reproduce([5, 7, 6], settings, tmp_path, data_dir, show_progress=False)
    assert (tmp_path / "fig05.md").is_file() and (tmp_path / "fig07.md").is_file()
    assert not (tmp_path / "fig06.md").exists()
    report = (tmp_path / "REPORT.md").read_text(encoding="utf-8")
    assert "## Figure 5" in report and "## Figure 7" in report
    mnist = [spec for spec in trained if spec.data == "mnist"]
    assert len(mnist) == len(set(mnist)) == 20  # Fig. 7's three runs are Fig. 5's, not trained again
