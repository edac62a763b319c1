"""Leases with holders, atomic claims, and crash recovery on both databases (db_url)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from storage import frontier, recovery, repo, workers
from storage.db import make_engine, session_factory, upgrade
from storage.models import CrawlRun, Url

NOW = datetime(2026, 12, 1, 3, 0, tzinfo=UTC)
LEASE = timedelta(minutes=15)
STALE = timedelta(minutes=1)
HERE = socket.gethostname()


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _site_with_urls(sessions: sessionmaker[Session], n: int) -> int:
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        frontier.enqueue(
            s, site_id, [frontier.NewUrl(f"https://demo.vn/a/{i}.html") for i in range(n)], now=NOW
        )
    return site_id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()  # reaped: the pid is free
    return proc.pid


def test_a_claim_records_its_holder_and_the_outcome_ends_the_lease(
    sessions: sessionmaker[Session],
) -> None:
    site_id = _site_with_urls(sessions, 3)
    with sessions.begin() as s:
        me = workers.register(s, host=HERE, pid=os.getpid(), version="t", now=NOW)
        claimed = frontier.claim_due(s, site_id, now=NOW, limit=2, lease=LEASE, holder=me)
        assert [u.leased_by for u in claimed] == [me, me]
        assert all(u.next_due == NOW + LEASE for u in claimed)
        first, second = claimed
        frontier.mark_fetched(
            s, first.id, status=200, etag=None, last_modified=None, now=NOW, state="fetched"
        )
        frontier.mark_failed(s, second.id, error="x", now=NOW, next_due=NOW + timedelta(hours=1))
    with sessions() as s:
        assert s.scalars(select(Url.leased_by).where(Url.leased_by.is_not(None))).all() == []


def test_a_dead_workers_leases_and_runs_come_back_a_live_ones_do_not(
    sessions: sessionmaker[Session],
) -> None:
    site_id = _site_with_urls(sessions, 8)
    later = NOW + timedelta(seconds=30)
    with sessions.begin() as s:
        me = workers.register(s, host=HERE, pid=os.getpid(), version="t", now=NOW)
        ids = {
            # silent for 30 s on another machine: still alive (stale_after is a minute)
            "remote_alive": workers.register(s, host="elsewhere", pid=1, version="t", now=NOW),
            # silent for 2 minutes on another machine: dead
            "remote_silent": workers.register(
                s, host="elsewhere", pid=2, version="t", now=NOW - timedelta(minutes=2)
            ),
            # this machine, its process gone (kill -9): dead at once, heartbeat fresh or not
            "local_killed": workers.register(s, host=HERE, pid=_dead_pid(), version="t", now=NOW),
            # this machine, our own pid under an older row (a restarted container's pid 1)
            "local_before_me": workers.register(
                s, host=HERE, pid=os.getpid(), version="t", now=NOW
            ),
        }
        for wid in ids.values():
            frontier.claim_due(s, site_id, now=NOW, limit=2, lease=LEASE, holder=wid)
            repo.start_run(s, site_id, "crawl", NOW, worker_id=wid)
        orphan = repo.start_run(s, site_id, "crawl", NOW - timedelta(days=1)).id
        young_orphan = repo.start_run(s, site_id, "crawl", later).id
    with sessions.begin() as s:
        done = recovery.recover(
            s, now=later, stale_after=STALE, me=recovery.Me(me, HERE, os.getpid()),
            orphans_before=NOW - timedelta(minutes=15),
        )  # fmt: skip
    dead = {ids["remote_silent"], ids["local_killed"], ids["local_before_me"]}
    assert set(done.workers) == dead and done.urls == 6 and done.runs == 4
    with sessions() as s:
        holders = Counter(s.scalars(select(Url.leased_by).where(Url.leased_by.is_not(None))))
        assert holders == {ids["remote_alive"]: 2}
        # handed back: due now, not in 15 minutes
        back = s.scalars(select(Url).where(Url.leased_by.is_(None), Url.next_due == later)).all()
        assert len(back) == 6
        runs = {r.worker_id: r for r in s.scalars(select(CrawlRun))}
        for wid in dead:
            assert runs[wid].outcome == "interrupted" and runs[wid].finished_at is not None
        # closed when its worker was last heard of
        assert runs[ids["remote_silent"]].finished_at == NOW
        assert runs[ids["remote_alive"]].finished_at is None
        assert s.get_one(CrawlRun, orphan).outcome == "interrupted"
        assert s.get_one(CrawlRun, young_orphan).finished_at is None
    with sessions.begin() as s:  # nothing left to do: a second pass changes nothing
        again = recovery.recover(
            s, now=later, stale_after=STALE, me=recovery.Me(me, HERE, os.getpid())
        )
        assert not again and again.urls == 0


def test_a_stopped_worker_holding_leases_is_dead(sessions: sessionmaker[Session]) -> None:
    site_id = _site_with_urls(sessions, 1)
    with sessions.begin() as s:
        wid = workers.register(s, host="elsewhere", pid=5, version="t", now=NOW)
        frontier.claim_due(s, site_id, now=NOW, limit=1, lease=LEASE, holder=wid)
        workers.stop(s, wid, NOW)
    with sessions.begin() as s:
        done = recovery.recover(s, now=NOW, stale_after=STALE, me=recovery.Me(None, HERE, 1))
    assert done.workers == (wid,) and done.urls == 1


def test_pid_alive() -> None:
    assert recovery.pid_alive(os.getpid())
    assert not recovery.pid_alive(_dead_pid())
    assert not recovery.pid_alive(0)
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    try:
        deadline = datetime.now(UTC) + timedelta(seconds=30)
        while datetime.now(UTC) < deadline and recovery.pid_alive(proc.pid):
            pass  # exits at once; not reaped yet, it is a zombie: dead all the same
        assert not recovery.pid_alive(proc.pid)
    finally:
        proc.wait()


def test_concurrent_claims_never_hand_out_a_url_twice(db_url: str) -> None:
    """Four connections of their own claim one URL at a time from one site, like a `crawl`
    beside a `run` (SQLite) or daemons sharing PostgreSQL: each URL goes to one of them."""
    engine = make_engine(db_url)
    upgrade(engine)
    site_id = _site_with_urls(session_factory(engine), 200)
    engine.dispose()
    got: list[int] = []
    errors: list[BaseException] = []
    lock = threading.Lock()
    go = threading.Barrier(4)

    def claimer() -> None:
        own = make_engine(db_url)
        sessions = session_factory(own)
        try:
            go.wait()
            while True:
                with sessions.begin() as s:
                    rows = frontier.claim_due(s, site_id, now=NOW, limit=1, lease=LEASE)
                    if not rows:
                        return
                    with lock:
                        got.append(rows[0].id)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=claimer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(got) == 200 and len(set(got)) == 200
