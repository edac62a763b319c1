"""Daemon processes in the database: registered, heartbeating, stopped, stale (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from storage import workers
from storage.db import make_engine, session_factory, upgrade

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)


def test_alive_means_fresh_heartbeat_and_not_stopped(db_url: str) -> None:
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        a = workers.register(s, host="h1", pid=10, version="0.1.0", now=NOW)
        b = workers.register(s, host="h2", pid=11, version="0.1.0", now=NOW)
        c = workers.register(s, host="h3", pid=12, version="0.1.0", now=NOW)
    later = NOW + timedelta(minutes=5)
    with sessions.begin() as s:
        workers.heartbeat(s, a, later)  # a lives on
        workers.stop(s, c, later)  # c stopped cleanly; b went silent (killed)
    with sessions() as s:
        assert [w.id for w in workers.alive(s, later)] == [a]
        assert {w.id for w in workers.alive(s, NOW)} == {a, b}  # at start all were fresh
    engine.dispose()
