"""Figures: real PNG files of the promised pixel size, the reconstruction grid, errors."""

import sys

import numpy as np
import pytest
from matplotlib.image import imread

from recirc_analog.errors import ConfigError, SetupError
from recirc_analog.report import (
    plot_angles,
    plot_loss_curves,
    plot_reconstructions,
    plot_weight_difference,
    reconstruction_grid,
)
from recirc_analog.report.plots import GRID_LABEL_INCHES, GRID_TITLE_INCHES


def assert_png(path, height, width):
    """The file is a PNG of (height, width) pixels that is not a single flat colour."""
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    image = imread(path)
    assert image.shape[:2] == (height, width)
    assert image[..., :3].std() > 0.01


def test_loss_curves_png_has_the_requested_size(tmp_path):
    x = np.arange(1, 21)
    path = plot_loss_curves(tmp_path / "loss.png", x, {"REC": 1.0 / x, "BP": np.exp(-x / 3.0)},
                            "epoch", "test MSE", title="Lowrank", figsize=(5.0, 3.0), dpi=100)
    assert path == tmp_path / "loss.png"
    assert_png(path, 300, 500)


def test_log_axis_survives_nan_and_zero(tmp_path):
    x = np.arange(5)
    path = plot_loss_curves(tmp_path / "loss.png", x, {"diverged": [1.0, 0.5, np.nan, np.inf, 0.0]})
    assert_png(path, 480, 768)                   # default 6.4 x 4.0 inches at 120 dpi
    path = plot_loss_curves(tmp_path / "zeros.png", x, {"exact": np.zeros(5)})
    assert_png(path, 480, 768)


def test_weight_difference_and_angles(tmp_path):
    x = np.arange(50)
    path = plot_weight_difference(tmp_path / "wd.png", x, {"A1": 1e-9 * (1 + x), "A2": 1e-7 * (1 + x)},
                                  dpi=50)
    assert_png(path, 200, 320)
    path = plot_angles(tmp_path / "angles.png", x, {"layer 1": 30 + 0.1 * x, "layer 2": 80 - 0.2 * x},
                       dpi=50)
    assert_png(path, 200, 320)


def test_svg_and_pdf_by_suffix(tmp_path):
    x = np.arange(3)
    assert plot_loss_curves(tmp_path / "a.svg", x, {"s": x + 1}).read_text().lstrip().startswith("<?xml")
    assert plot_loss_curves(tmp_path / "a.pdf", x, {"s": x + 1}).read_bytes().startswith(b"%PDF")
    with pytest.raises(ConfigError, match=r"^plot path must end in one of .png, .pdf, .svg, got '.*a.jpg'$"):
        plot_loss_curves(tmp_path / "a.jpg", x, {"s": x + 1})


def test_line_plot_input_errors(tmp_path):
    with pytest.raises(ConfigError, match=r"^curve 'REC' must have one value per x \(3\), got shape \(2,\)$"):
        plot_loss_curves(tmp_path / "a.png", [1, 2, 3], {"REC": [1.0, 2.0]})
    with pytest.raises(ConfigError, match=r"^series must hold at least one curve"):
        plot_loss_curves(tmp_path / "a.png", [1, 2, 3], {})
    with pytest.raises(ConfigError, match=r"^x must be a non-empty 1-d array"):
        plot_loss_curves(tmp_path / "a.png", [[1, 2]], {"a": [[1, 2]]})
    assert not (tmp_path / "a.png").exists()


def test_reconstruction_grid_places_every_image():
    rng = np.random.default_rng(0)
    originals = rng.uniform(0, 1, size=(5, 12))
    sources = {"REC": rng.uniform(0, 1, size=(5, 12)), "BP": rng.uniform(0, 1, size=(5, 12))}
    grid, labels = reconstruction_grid(originals, sources, (3, 4))
    assert labels == ["original", "REC", "BP"]
    assert grid.shape == (3 * 4 - 1, 5 * 5 - 1)
    for i, images in enumerate([originals, sources["REC"], sources["BP"]]):
        for j in range(5):
            np.testing.assert_array_equal(grid[4 * i:4 * i + 3, 5 * j:5 * j + 4],
                                          images[j].reshape(3, 4))
    assert np.isnan(grid).sum() == grid.size - 3 * 5 * 12


def test_reconstruction_png_size_follows_the_grid(tmp_path):
    rng = np.random.default_rng(1)
    originals = rng.uniform(0, 1, size=(8, 196))
    path = plot_reconstructions(tmp_path / "rec.png", originals,
                                {"REC": originals * 0.9, "RBP": originals ** 2}, (14, 14),
                                title="MNIST 196-20-196", cell_inches=0.5, dpi=100)
    width = (GRID_LABEL_INCHES + 8 * 0.5) * 100
    height = (3 * 0.5 + GRID_TITLE_INCHES) * 100
    assert_png(path, round(height), round(width))


def test_reconstruction_input_errors(tmp_path):
    originals = np.zeros((4, 784))
    with pytest.raises(ConfigError, match=r"^image_shape must be \(rows, cols\) with rows \* cols = 784"):
        plot_reconstructions(tmp_path / "r.png", originals, {}, (14, 14))
    expected = r"^reconstructions\['REC'\] must have the originals' shape \(4, 784\), got \(3, 784\)$"
    with pytest.raises(ConfigError, match=expected):
        plot_reconstructions(tmp_path / "r.png", originals, {"REC": np.zeros((3, 784))}, (28, 28))
    with pytest.raises(ConfigError, match=r"^originals must be a non-empty 2-d array"):
        reconstruction_grid(np.zeros(784), {}, (28, 28))


def test_missing_matplotlib_is_a_setup_error(tmp_path, monkeypatch):
    for name in [name for name in sys.modules if name.split(".")[0] == "matplotlib"]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.setitem(sys.modules, "matplotlib", None)
    with pytest.raises(SetupError, match=r"^plots need matplotlib: pip install recirc-analog\[plot\]$"):
        plot_loss_curves(tmp_path / "a.png", [1, 2], {"a": [1, 2]})
