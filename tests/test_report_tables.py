"""Text tables: aligned columns and compact numbers."""

import numpy as np
import pytest

from recirc_analog.errors import ConfigError
from recirc_analog.report import format_table
from recirc_analog.report.tables import format_cell

ROWS = [{"epoch": 1, "mode": "pr", "loss": 0.0123456, "angle": np.float64(45.25)},
        {"epoch": 100, "mode": "ccrcc", "loss": 1.5e-7, "angle": None},
        {"epoch": np.int64(7), "mode": "error", "loss": float("nan"), "extra": "ignored"}]
COLUMNS = ["epoch", "mode", "loss", "angle"]


def test_columns_line_up():
    lines = format_table(ROWS, COLUMNS).splitlines()
    assert len(lines) == 2 + len(ROWS)
    header, rule, *body = lines
    assert set(rule.replace(" ", "")) == {"-"}
    # every column is one run of dashes in the rule; cells sit inside those spans
    spans, start = [], 0
    for dashes in rule.split("  "):
        spans.append((start, start + len(dashes)))
        start += len(dashes) + 2
    assert len(spans) == len(COLUMNS)
    for line, row in zip(body, ROWS):
        for (left, right), column in zip(spans, COLUMNS):
            cell = format_cell(row.get(column))
            text = line.ljust(right)[left:right]
            if column == "mode":                        # text column: left-aligned
                assert text == cell.ljust(right - left)
            else:                                       # number column: right-aligned
                assert text == cell.rjust(right - left)
    assert [header[left:right].strip() for left, right in spans] == COLUMNS
    assert all(line == line.rstrip() for line in lines)


def test_numbers_are_compact():
    assert format_cell(0.0123456) == "0.01235"
    assert format_cell(1.5e-7) == "1.5e-07"
    assert format_cell(123456789.0) == "1.235e+08"
    assert format_cell(np.float32(2.5)) == "2.5"
    assert format_cell(60000) == "60000"
    assert format_cell(float("nan")) == "nan"
    assert format_cell(None) == ""
    assert format_cell(True) == "True"
    assert float(format_cell(np.pi)) == pytest.approx(np.pi, rel=1e-3)


def test_empty_rows_give_the_header_only():
    assert format_table([], ["a", "bb"]).splitlines() == ["a  bb", "-  --"]
    with pytest.raises(ConfigError, match=r"^columns must name at least one column"):
        format_table(ROWS, [])
