"""SIGTERM as an exception: a job stops where it is, cleans up and exits with one line.

Inside :func:`terminate_cleanly` a SIGTERM raises
:class:`~recirc_analog.errors.Terminated` in the main thread. It unwinds like
any error: the batch in flight is dropped (its ngspice process is killed by
``subprocess``, its temporary folder removed), the checkpoint stays the last
good one, and the command line prints one line and exits with 143 (128 +
SIGTERM, the shell's convention). ``--resume`` then continues exactly.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from ..errors import Terminated


@contextmanager
def terminate_cleanly(what: str, note: str = "the last checkpoint is kept, --resume continues") -> Iterator[None]:
    """Turn SIGTERM into :class:`Terminated` for the duration of the block (main thread only);
    its message is ``"<what>: terminated (SIGTERM); <note>"``."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(signum, frame):
        raise Terminated(f"{what}: terminated (SIGTERM); {note}")

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
