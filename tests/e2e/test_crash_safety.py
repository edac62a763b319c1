"""Never stuck, never twice: real `vnnews` processes over loopback sites (both databases).

- ``kill -9`` of a daemon mid-fetch, then a restart: every article archived exactly once, the
  URL that was in flight back in the queue at once (not after the 15-minute lease), the killed
  pass closed as interrupted.
- ``vnnews crawl`` beside ``vnnews run`` on one SQLite file: no URL fetched twice.
- a second ``vnnews run`` on the same SQLite file exits at once naming the first.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import pytest
from sqlalchemy import func, select

from jobs.crawl import Crawler
from storage import frontier, repo
from storage.db import make_engine, session_factory, upgrade
from storage.models import Article, CrawlRun, Page, Url, Worker
from tests.support.big_mirror import BigMirror, site_toml

VNNEWS = str(Path(sys.executable).parent / "vnnews")


def _config(path: Path, m: BigMirror, extra: str = "") -> Path:
    path.write_text(
        f"""
[fetch]
min_delay = 0
timeout = "60s"
allow_hosts = ["127.0.0.1"]
max_retries = 0
[daemon]
jitter = 0
drain_every = "1s"
heartbeat = "1s"
worker_stale_after = "3s"
{extra}
{site_toml(m)}""",
        encoding="utf-8",
    )
    return path


class Gate:
    """Wraps a BigMirror: one article's first request hangs until released; others may be
    slowed down."""

    def __init__(self, m: BigMirror, hang_path: str | None = None, slow: float = 0.0) -> None:
        self.inner = m.server.fallback
        self.hang_path = hang_path
        self.slow = slow
        self.requested = threading.Event()
        self.release = threading.Event()
        m.server.fallback = self

    def __call__(self, req: BaseHTTPRequestHandler) -> None:
        if req.path == self.hang_path and not self.requested.is_set():
            self.requested.set()
            self.release.wait(60)
            return  # the client is gone (killed): answer nothing
        if self.slow and req.path.startswith("/tin-tuc/xa-hoi/"):
            time.sleep(self.slow)
        assert self.inner is not None
        self.inner(req)


@pytest.fixture
def big() -> Iterator[BigMirror]:
    m = BigMirror(20).start()
    yield m
    m.stop()


def _start(db: str, config: Path, log: Path, *args: str) -> subprocess.Popen[bytes]:
    with log.open("a") as stderr:
        return subprocess.Popen(
            [VNNEWS, "--db", db, "--config", str(config), *args],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
        )


def _wait(what: str, check: object, log: Path, seconds: float = 90) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():  # type: ignore[operator]
            return
        time.sleep(0.2)
    raise AssertionError(f"timed out waiting for {what}: " + log.read_text()[-3000:])


def _stop(proc: subprocess.Popen[bytes]) -> int:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            return proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
    return proc.wait()


def test_kill_9_mid_fetch_then_restart_archives_everything_once(
    db_url: str, big: BigMirror, tmp_path: Path
) -> None:
    # SQLite as a plain path to a database that does not exist yet: `run` creates it
    db = str(tmp_path / "vnnews.db") if db_url.startswith("sqlite") else db_url
    hung = big.path(15)  # the 6th newest: five are archived before it
    gate = Gate(big, hang_path=hung)
    config = _config(tmp_path / "sources.toml", big)
    log = tmp_path / "daemon.log"
    first = _start(db, config, log, "run")
    try:
        assert gate.requested.wait(90), log.read_text()
        first.kill()  # kill -9, with the URL in flight
        first.wait()
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    engine = make_engine(db)
    sessions = session_factory(engine)
    try:
        with sessions() as s:
            dead = s.scalars(select(Worker)).one()
            assert dead.stopped_at is None and dead.command == "run"
            leased = s.scalars(select(Url).where(Url.leased_by == dead.id)).all()
            # the URL in flight, the pages the pipeline had fetched but not stored, and the URLs
            # of the latest claim not fetched yet
            held = [u.url for u in leased]
            assert big.url(hung) in held and len(held) <= Crawler.claim_max + Crawler.pipeline
            # the lease alone would keep it for 15 minutes
            assert (leased[0].next_due - datetime.now(UTC)).total_seconds() > 600
            open_runs = s.scalars(select(CrawlRun).where(CrawlRun.finished_at.is_(None))).all()
            assert len(open_runs) == 1 and open_runs[0].worker_id == dead.id
            archived_before = s.scalar(select(func.count()).select_from(Article))
            # the five before it: archived, or fetched and waiting in the pipeline when killed
            assert archived_before is not None and archived_before < 20
            assert archived_before + len(held) - 1 >= 5, (archived_before, held)

        gate.release.set()
        restarted_at = datetime.now(UTC)
        second = _start(db, config, log, "run")
        try:

            def recovered() -> bool:
                with sessions() as s:
                    return not s.scalars(select(Url).where(Url.leased_by == dead.id)).all()

            _wait("the dead daemon's lease to come back", recovered, log, seconds=60)
            _wait(
                "all 20 articles",
                lambda: _count(sessions, Article) == 20 and _count(sessions, Page) >= 22,
                log,
            )
        finally:
            assert _stop(second) == 0, log.read_text()[-3000:]
        assert "recovered from dead workers" in log.read_text()
        with sessions() as s:
            run = s.get_one(CrawlRun, open_runs[0].id)
            assert run.outcome == "interrupted" and run.finished_at is not None
            assert run.finished_at <= restarted_at
            # none twice: one page per article URL, one article per URL
            per_url = dict(
                s.execute(
                    select(Page.url, func.count())
                    .where(Page.url.like("%/tin-tuc/xa-hoi/%.html"))
                    .group_by(Page.url)
                ).all()
            )
            assert sorted(per_url) == sorted(big.article_urls())
            assert set(per_url.values()) == {1}
            assert s.scalar(select(func.count()).select_from(Article)) == 20
            assert s.scalar(select(func.count()).where(CrawlRun.finished_at.is_(None))) == 0
        # answered once each (the gate held the killed request unanswered), except pages the
        # killed daemon had fetched but not stored yet (its pipeline): those, and only those, twice
        hits = big.article_hits()
        twice = {big.url(path) for path, n in hits.items() if n > 1}
        assert len(hits) == 20 and set(hits.values()) <= {1, 2}, hits.most_common(3)
        assert twice <= set(held) - {big.url(hung)}, (twice, held)
    finally:
        engine.dispose()


def _count(sessions: object, model: type) -> int:
    with sessions() as s:  # type: ignore[operator]
        return int(s.scalar(select(func.count()).select_from(model)))


def test_crawl_beside_run_on_one_sqlite_file_fetches_nothing_twice(tmp_path: Path) -> None:
    m = BigMirror(100).start()
    try:
        Gate(m, slow=0.03)  # ~3 s of fetching: the two processes overlap
        db = str(tmp_path / "vnnews.db")
        engine = make_engine(db)
        upgrade(engine)
        sessions = session_factory(engine)
        now = datetime.now(UTC)
        with sessions.begin() as s:
            site_id = repo.ensure_site(s, "big", m.url("/"), now).id
            frontier.enqueue(s, site_id, [frontier.NewUrl(u) for u in m.article_urls()], now=now)
        config = _config(tmp_path / "sources.toml", m)
        log = tmp_path / "both.log"
        daemon = _start(db, config, log, "run")
        try:
            crawl = _start(db, config, log, "crawl", "--no-discover")
            assert crawl.wait(120) == 0, log.read_text()[-3000:]
            _wait("the frontier to drain", lambda: _count(sessions, Article) == 100, log)
        finally:
            assert _stop(daemon) == 0, log.read_text()[-3000:]
        hits = m.article_hits()
        assert len(hits) == 100 and set(hits.values()) == {1}, hits.most_common(3)
        with sessions() as s:
            by = dict(
                s.execute(
                    select(Worker.command, func.sum(CrawlRun.fetched))
                    .join(Worker, Worker.id == CrawlRun.worker_id)
                    .group_by(Worker.command)
                ).all()
            )
        # both really took part: the test proves sharing, not turns
        assert by.get("run", 0) > 0 and by.get("crawl", 0) > 0, by
        assert by["run"] + by["crawl"] == 100
        engine.dispose()
    finally:
        m.stop()


def test_a_second_daemon_on_one_sqlite_file_exits_naming_the_first(
    big: BigMirror, tmp_path: Path
) -> None:
    db = str(tmp_path / "vnnews.db")
    config = _config(tmp_path / "sources.toml", big)
    log = tmp_path / "first.log"
    first = _start(db, config, log, "run")
    try:
        _wait("the first daemon", lambda: "daemon started" in log.read_text(), log)
        second = subprocess.run(
            [VNNEWS, "--db", db, "--config", str(config), "run"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert second.returncode == 1
        assert second.stderr.strip() == (
            f"vnnews: {db}: already in use by a vnnews daemon (pid {first.pid} on "
            f"{__import__('socket').gethostname()}, vnnews run): one 'vnnews run' per SQLite "
            "file (several daemons share a PostgreSQL database)"
        )
        assert first.poll() is None
    finally:
        assert _stop(first) == 0
