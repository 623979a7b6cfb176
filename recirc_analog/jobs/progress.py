"""A progress bar for long jobs (tqdm): samples/s and ETA; silent when disabled or not on a terminal."""

from __future__ import annotations

import sys
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress_bar(total: int, description: str, *, enabled: bool = True, unit: str = "sample"):
    """A tqdm bar counting ``unit``s (rate and ETA shown); yields the bar (``update(n)``, ``set_postfix``).

    The bar is shown only when stderr is a terminal (tqdm's ``disable=None``),
    so logs and CI output stay clean.
    """
    bar = tqdm(total=total, desc=description, unit=unit, unit_scale=True, dynamic_ncols=True,
               disable=None if enabled else True, file=sys.stderr, leave=False)
    try:
        yield bar
    finally:
        bar.close()
