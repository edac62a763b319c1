"""A process that claims URLs: its ``workers`` row, its heartbeat, and crash recovery.

``vnnews run``, ``crawl`` and ``backfill`` each register a worker; its id goes on every URL they
lease (``urls.leased_by``) and every run they open (``crawl_runs.worker_id``). While it lives
the worker heartbeats every ``[daemon] heartbeat`` (15 s) and, with each beat, hands back the
leases and closes the runs of workers that died (``storage.recovery``): on this machine as soon
as their process is gone, elsewhere once silent for ``[daemon] worker_stale_after`` (1 min). So
after a ``kill -9`` every URL is back in the queue when the next process starts, or within about a
minute on PostgreSQL, never after the 15-minute lease.
"""

from __future__ import annotations

import asyncio
import logging
import os
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from importlib.metadata import PackageNotFoundError
from importlib.metadata import version as package_version

from sqlalchemy.orm import Session, sessionmaker

from jobs.config import DaemonConfig
from jobs.runs import Clock
from storage import recovery, workers

log = logging.getLogger("vnnews.worker")


def vnnews_version() -> str:
    try:
        return package_version("vnnews")
    except PackageNotFoundError:
        return "unknown"


class WorkerLife:
    """Register, beat (heartbeat + recovery), stop: synchronous steps the caller schedules."""

    def __init__(
        self, sessions: sessionmaker[Session], cfg: DaemonConfig, command: str, clock: Clock
    ) -> None:
        self.sessions = sessions
        self.cfg = cfg
        self.command = command
        self.clock = clock
        self.worker_id: int | None = None

    @property
    def stale_after(self) -> timedelta:
        return timedelta(seconds=self.cfg.worker_stale_after)

    def start(self) -> int:
        """Register, then recover what dead workers left (the daemon also closes runs that
        name no worker, from before leases had holders)."""
        now = self.clock()
        with self.sessions.begin() as s:
            self.worker_id = workers.register(
                s, host=socket.gethostname(), pid=os.getpid(), version=vnnews_version(),
                now=now, command=self.command,
            )  # fmt: skip
        orphans = now - timedelta(seconds=self.cfg.lease) if self.command == "run" else None
        self._recover(orphans_before=orphans)
        return self.worker_id

    def beat(self) -> recovery.Recovered:
        if self.worker_id is not None:
            with self.sessions.begin() as s:
                workers.heartbeat(s, self.worker_id, self.clock())
        return self._recover()

    def stop(self) -> None:
        if self.worker_id is not None:
            with self.sessions.begin() as s:
                workers.stop(s, self.worker_id, self.clock())

    def _recover(self, orphans_before: datetime | None = None) -> recovery.Recovered:
        with self.sessions.begin() as s:
            done = recovery.recover(
                s, now=self.clock(), stale_after=self.stale_after,
                me=recovery.Me.here(self.worker_id),
                orphans_before=orphans_before,
            )  # fmt: skip
        if done:
            log.warning(
                "recovered from dead workers %s: %d leased URLs back in the queue, "
                "%d runs closed as interrupted",
                ", ".join(map(str, done.workers)) or "-", done.urls, done.runs,
            )  # fmt: skip
        return done

    async def heartbeat_forever(self) -> None:
        """For one-shot commands (the daemon schedules ``beat`` itself)."""
        while True:
            await asyncio.sleep(self.cfg.heartbeat)
            try:
                self.beat()
            except Exception:  # a missed beat is not worth stopping a crawl for
                log.exception("heartbeat failed")


@asynccontextmanager
async def registered(
    sessions: sessionmaker[Session], cfg: DaemonConfig, command: str, clock: Clock
) -> AsyncIterator[WorkerLife]:
    """A registered, heartbeating worker for the duration of a one-shot command."""
    life = WorkerLife(sessions, cfg, command, clock)
    life.start()
    task = asyncio.create_task(life.heartbeat_forever())
    try:
        yield life
    finally:
        task.cancel()
        await asyncio.wait([task])  # never raises the task's CancelledError into ours
        life.stop()
