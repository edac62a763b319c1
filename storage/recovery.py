"""Recovery after a crash: a dead worker's leases go back to the queue, its runs are closed.

A worker (a ``workers`` row: ``vnnews run``, ``crawl`` or ``backfill``) is dead when it stopped,
when its heartbeat is older than ``stale_after`` (one minute by default: it may run on another
machine, sharing PostgreSQL), or, on this machine, when its process no longer exists (so a
daemon restarted after ``kill -9`` takes its URLs back at once, not after a minute). Its leased
URLs (``urls.leased_by``) become due now and its open ``crawl_runs`` are closed with outcome
``interrupted``. Every process that claims URLs runs ``recover`` at start and with each
heartbeat. Functions take a Session and never commit.
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.frontier import release_held_by
from storage.models import CrawlRun, HostSlot, Url, Worker

INTERRUPTED = "interrupted"


def pid_alive(pid: int) -> bool:
    """Does process ``pid`` run on this machine (a zombie does not count)?"""
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # Linux: a killed child nobody has reaped yet is a zombie ("Z"): dead
        stat = Path(f"/proc/{pid}/stat").read_text()
        return stat.rsplit(")", 1)[1].split()[0] != "Z"
    except (OSError, IndexError):
        return True


@dataclass(frozen=True)
class Me:
    """The process running recovery: its worker id, host and pid."""

    worker_id: int | None
    host: str
    pid: int

    @classmethod
    def here(cls, worker_id: int | None) -> Me:
        return cls(worker_id, socket.gethostname(), os.getpid())


def is_dead(
    worker: Worker,
    *,
    now: datetime,
    stale_after: timedelta,
    me: Me,
    alive: Callable[[int], bool] = pid_alive,
) -> bool:
    """Pure but for ``alive``: is this worker gone (its leases free to take)?"""
    if worker.id == me.worker_id:
        return False
    if worker.stopped_at is not None:
        return True
    # on this machine: gone, or our own pid under another row (the process before us: a
    # container's pid 1, restarted)
    if worker.host == me.host and (worker.pid == me.pid or not alive(worker.pid)):
        return True
    return worker.heartbeat_at < now - stale_after


@dataclass(frozen=True)
class Recovered:
    workers: tuple[int, ...] = ()
    urls: int = 0
    runs: int = 0

    def __bool__(self) -> bool:
        return bool(self.urls or self.runs)


def recover(
    session: Session,
    *,
    now: datetime,
    stale_after: timedelta,
    me: Me,
    orphans_before: datetime | None = None,
    alive: Callable[[int], bool] = pid_alive,
) -> Recovered:
    """Release the leases and host slots, and close the open runs, of dead workers.

    ``orphans_before``: also close open runs that name no worker (written before leases had
    holders) started before then. Only workers that hold leases or open runs are looked at, so
    this stays cheap however many dead rows ``workers`` collects.
    """
    holders = set(session.scalars(select(Url.leased_by).where(Url.leased_by.is_not(None))))
    runners = set(
        session.scalars(
            select(CrawlRun.worker_id).where(
                CrawlRun.finished_at.is_(None), CrawlRun.worker_id.is_not(None)
            )
        )
    )
    candidates = {w for w in holders | runners if w is not None and w != me.worker_id}
    dead = [
        w
        for w in session.scalars(select(Worker).where(Worker.id.in_(candidates)))
        if is_dead(w, now=now, stale_after=stale_after, me=me, alive=alive)
    ]
    ids = [w.id for w in dead]
    urls = release_held_by(session, ids, now)
    if dead:  # a host slot a dead worker held mid-request (PostgreSQL host_slots) is free now
        session.execute(
            update(HostSlot)
            .where(HostSlot.holder.in_([f"{w.host}:{w.pid}" for w in dead]))
            .values(holder=None, held_until=None)
        )
    runs = 0
    last_seen = {w.id: w.heartbeat_at for w in dead}
    if ids:
        for run in session.scalars(
            select(CrawlRun).where(CrawlRun.worker_id.in_(ids), CrawlRun.finished_at.is_(None))
        ):
            # it ended when its process was last heard of
            seen = last_seen[run.worker_id] if run.worker_id is not None else now
            run.finished_at = max(seen, run.started_at)
            run.outcome = INTERRUPTED
            runs += 1
    if orphans_before is not None:
        result = session.execute(
            update(CrawlRun)
            .where(
                CrawlRun.worker_id.is_(None),
                CrawlRun.finished_at.is_(None),
                CrawlRun.started_at < orphans_before,
            )
            .values(finished_at=CrawlRun.started_at, outcome=INTERRUPTED)
            .execution_options(synchronize_session=False)
        )
        runs += int(getattr(result, "rowcount", 0) or 0)
    return Recovered(tuple(ids), urls, runs)
