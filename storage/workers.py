"""Daemon processes in the database: register, heartbeat, stop, and who is alive.

Functions take a Session and never commit, like ``repo``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from storage.models import Worker

#: a worker whose heartbeat is older than this is taken for dead
STALE_AFTER = timedelta(minutes=1)


def register(
    session: Session, *, host: str, pid: int, version: str, now: datetime, command: str = "run"
) -> int:
    """A new ``workers`` row for this process (``command``: run, crawl or backfill)."""
    worker = Worker(
        host=host, pid=pid, version=version, started_at=now, heartbeat_at=now, command=command
    )
    session.add(worker)
    session.flush()
    return worker.id


def heartbeat(session: Session, worker_id: int, now: datetime) -> None:
    worker = session.get(Worker, worker_id)
    if worker is not None:
        worker.heartbeat_at = now


def stop(session: Session, worker_id: int, now: datetime) -> None:
    worker = session.get(Worker, worker_id)
    if worker is not None:
        worker.heartbeat_at = worker.stopped_at = now


def alive(
    session: Session, now: datetime, *, stale_after: timedelta = STALE_AFTER,
    command: str | None = None,
) -> list[Worker]:  # fmt: skip
    """Workers not stopped whose heartbeat is fresh, newest first; only ``command`` ones (run:
    the daemons; crawl and backfill register too) if given."""
    stmt = select(Worker).where(
        Worker.stopped_at.is_(None), Worker.heartbeat_at >= now - stale_after
    )
    if command is not None:
        stmt = stmt.where(Worker.command == command)
    return list(session.scalars(stmt.order_by(Worker.heartbeat_at.desc())))
