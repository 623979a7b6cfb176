"""A progress bar for long jobs (tqdm), silent when disabled or not on a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool = True, unit: str = "sample"):
    """A tqdm bar counting ``unit``s (rate and ETA shown); yields the bar (``update(n)``, ``set_postfix``)."""
    bar = tqdm(total=total, desc=description, unit=unit, unit_scale=True, dynamic_ncols=True,
               disable=not enabled, file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()
