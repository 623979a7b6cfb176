"""The only gate between user-supplied text and the netlist.

Element and node names must match ``[A-Za-z0-9_]+`` (ground is ``0``); free
text (titles, comments) is reduced to one line of printable characters with
nothing that could end a comment or start a SPICE card or a ``.control`` line.
"""

import math
import re

from recirc_analog.errors import NetlistError

_NAME = re.compile(r"[A-Za-z0-9_]+")
_UNSAFE_TEXT = re.compile(r"[^A-Za-z0-9 _.,:=+\-*/()\[\]<>'\"#%&|@!?^~]")


def check_name(name: str, what: str = "name") -> str:
    """Return ``name`` if it is legal, else raise NetlistError naming it."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise NetlistError(f"illegal {what} {name!r}: only letters, digits and '_' are allowed")
    return name


def check_number(value, what: str = "value") -> float:
    """Return ``value`` as a finite float, else raise NetlistError naming it."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise NetlistError(f"{what} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise NetlistError(f"{what} must be finite, got {value!r}")
    return number


def clean_text(text: str) -> str:
    """``text`` as one safe line: newlines and other control characters become spaces,
    every character outside a small printable set (``$``, ``;``, ``{``, ``}``, ``\\``
    and non-ASCII among them) becomes ``_``, and the line starts with a letter or digit
    (so it can never begin with ``.``, ``+`` or ``*``)."""
    one_line = _UNSAFE_TEXT.sub("_", re.sub(r"\s+", " ", str(text)))
    return re.sub(r"^[^A-Za-z0-9]+", "", one_line).rstrip()
