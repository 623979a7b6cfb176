"""Where ngspice runs: a private temporary folder, never the user's directory.

ngspice writes files nobody asked for into its working directory (measured on 39: BSIM4 4.5
model checks write ``bsim4v5.out`` when the sky130 FETs load at the ff / sf / fs corners), and
reads a ``.spiceinit`` from it (which may run ``shell`` commands). Both engines therefore run
ngspice with its working directory in a folder of their own: the batch engine in each run's
temporary folder, the shared engine (one process-wide current directory) in a private folder
for the duration of each load and run, the caller's directory restored after.

Relative ``.include`` / ``.lib`` paths of a netlist still resolve where the caller says (the
batch engine's ``workdir``, else the current directory): :func:`absolute_includes` rewrites the
top-level cards' relative paths to absolute ones before ngspice reads the text. Paths inside
an included file resolve as ngspice resolves them, relative to that file's folder.
"""

from __future__ import annotations

import contextlib
import os
import re
from pathlib import Path

from ..errors import ConfigError

_INCLUDE = re.compile(r'^(?P<card>\s*\.(?:include|inc)\s+)(?P<path>"[^"]*"|[^\s"]+)(?P<rest>.*)$', re.I)
_LIB = re.compile(r'^(?P<card>\s*\.lib\s+)(?P<path>"[^"]*"|[^\s"]+)(?P<rest>\s+\S.*)$', re.I)
_CANDIDATE = re.compile(r"\.(?:inc|lib)", re.I)


def _quoted(path: Path) -> str:
    text = str(path)
    if any(c == '"' or ord(c) < 32 or ord(c) == 127 for c in text):
        raise ConfigError(f"include path must not hold a double quote or control character, got {text!r}")
    return f'"{text}"'


def absolute_includes(text: str, base) -> str:
    """``text`` with the relative path of each ``.include`` / ``.inc`` card and of each
    ``.lib <file> <section>`` card made absolute against the folder ``base`` (double-quoted);
    absolute paths, ``~`` paths, library section definitions (``.lib <section>``) and every
    other line unchanged."""
    base = Path(base).absolute()
    pieces, done = [], 0
    for hit in _CANDIDATE.finditer(text):          # a C scan; most netlists have no hit at all
        start = text.rfind("\n", 0, hit.start()) + 1
        if start < done:
            continue
        end = text.find("\n", hit.end())
        end = len(text) if end < 0 else end
        line = text[start:end]
        match = _INCLUDE.match(line) or _LIB.match(line)
        path = "" if match is None else match["path"].strip('"')
        if path and not os.path.isabs(path) and not path.startswith("~"):
            pieces += [text[done:start], f"{match['card']}{_quoted(base / path)}{match['rest']}"]
            done = end
    return "".join(pieces + [text[done:]]) if pieces else text


@contextlib.contextmanager
def working_directory(folder):
    """The process's current directory in ``folder`` for the block, then back (even on error)."""
    previous = os.getcwd()
    os.chdir(folder)
    try:
        yield
    finally:
        os.chdir(previous)
