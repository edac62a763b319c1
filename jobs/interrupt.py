"""SIGTERM as Ctrl-C for the commands that run a pass and exit (``crawl``, ``backfill``).

``timeout 1h vnnews crawl``, cron wrappers and service managers stop a command with SIGTERM,
whose default kills it on the spot: no summary, the passes left open until the next start
recovers them, and multiprocessing's warnings about leaked semaphores. Inside
``sigterm_as_interrupt`` a SIGTERM is turned into the SIGINT that ``asyncio.run`` handles: the
command stops the way Ctrl-C stops it (what was archived is kept and said) and exits 143.
"""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

_terminated = False


def terminated() -> bool:
    """Whether a SIGTERM turned into the interrupt being handled."""
    return _terminated


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _terminated
    _terminated = True
    signal.raise_signal(signal.SIGINT)


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM raises SIGINT while the block runs (main thread only, like any handler)."""
    global _terminated
    _terminated = False  # a process may run several commands (tests do)
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
