"""SIGTERM as Ctrl-C for every command (``jobs.cli``), ``crawl`` and ``backfill`` above all.

``timeout 1h vnnews crawl``, cron wrappers and service managers stop a command with SIGTERM,
whose default kills it on the spot: no summary, the passes left open until the next start
recovers them, and multiprocessing's warnings about leaked semaphores. Inside
``sigterm_as_interrupt`` a SIGTERM does what SIGINT does (``asyncio.run`` cancels the pass and
raises KeyboardInterrupt): the command stops the way Ctrl-C stops it, what was archived is kept
and said, and the interrupt leaves the block as ``Terminated`` (the CLI exits 143).
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class Terminated(KeyboardInterrupt):
    """The interrupt a SIGTERM caused (exit status 143, 128 + 15)."""


_terminated = False


def _on_term(signum: int, frame: FrameType | None) -> None:
    global _terminated
    _terminated = True
    # what SIGINT would run: asyncio's handler (cancel the main task) or the default one
    # (KeyboardInterrupt); a process started with SIGINT ignored (``cmd &`` in a script,
    # nohup) has neither, and must stop all the same
    handler = signal.getsignal(signal.SIGINT)
    if callable(handler):
        handler(signal.SIGINT, frame)
    else:
        raise KeyboardInterrupt


@contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """SIGTERM interrupts the block as SIGINT would; the interrupt leaves it as ``Terminated``.
    Outside the main thread (where no signal handler can be set) the block runs as it is."""
    global _terminated
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    _terminated = False
    previous = signal.signal(signal.SIGTERM, _on_term)
    try:
        yield
    except KeyboardInterrupt as exc:
        if _terminated and not isinstance(exc, Terminated):
            raise Terminated from exc
        raise
    finally:
        signal.signal(signal.SIGTERM, previous)
        _terminated = False
