"""Plain aligned text tables for the terminal (per-epoch and per-batch metrics)."""

from __future__ import annotations

import numbers
from collections.abc import Mapping, Sequence

import numpy as np

from recirc_analog.errors import ConfigError

COLUMN_GAP = "  "
"""Text between two columns."""


def format_table(rows: Sequence[Mapping[str, object]], columns: Sequence[str]) -> str:
    """Return ``rows`` as a text table with a header line and a dashed rule.

    Each row maps column name -> value; a missing or None value is left
    blank. Columns whose values are all numbers are right-aligned, others
    left-aligned. Floats are written with 4 significant digits (fixed or
    scientific, whichever is shorter), integers in full. No trailing spaces.
    """
    columns = [str(column) for column in columns]
    if not columns:
        raise ConfigError("columns must name at least one column, got none")
    cells = [[format_cell(row.get(column)) for column in columns] for row in rows]
    numeric = [all(_is_number(row.get(column)) for row in rows if row.get(column) is not None)
               for column in columns]
    widths = [max([len(column)] + [len(line[i]) for line in cells])
              for i, column in enumerate(columns)]

    def join(texts: Sequence[str]) -> str:
        padded = [text.rjust(width) if right else text.ljust(width)
                  for text, width, right in zip(texts, widths, numeric)]
        return COLUMN_GAP.join(padded).rstrip()

    lines = [join(columns), join(["-" * width for width in widths])]
    lines.extend(join(line) for line in cells)
    return "\n".join(lines)


def format_cell(value) -> str:
    """Text of one table cell: "" for None, 4 significant digits for floats."""
    if value is None:
        return ""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _is_number(value) -> bool:
    """True for ints and floats (Python or NumPy), False for bools and everything else."""
    return isinstance(value, (numbers.Number, np.number)) and not isinstance(value, (bool, np.bool_))
