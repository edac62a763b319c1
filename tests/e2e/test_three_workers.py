"""Three `vnnews run` daemons on one PostgreSQL over a 600-article loopback site, one killed with
``kill -9`` midway: every article archived exactly once, few URLs fetched twice, and never two
requests to the host closer than its ``min_delay``, whichever daemons sent them (host slots in
the database). The mirror records when each request arrived.

The killed daemon's leased URLs (the one it was fetching and the pages it had not stored yet)
come back through the survivors' heartbeat recovery (``storage.recovery``: its pid is gone on
this machine), well before their 15-minute lease ends, and the survivors archive them too.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from sqlalchemy import func, select

from storage import frontier, repo
from storage.db import make_engine, session_factory, upgrade
from storage.models import Article, ArticleUrl, Url
from tests.support.big_mirror import BigMirror, site_toml

VNNEWS = str(Path(sys.executable).parent / "vnnews")
N = 600
MIN_DELAY = 0.1
#: what a killed worker may have fetched and not stored: the URL it fetches + the crawler's
#: pipeline of fetched pages (URLs it claimed ahead and never fetched come back unfetched)
MAX_HELD = 1 + 4


def _config(m: BigMirror) -> str:
    return f"""
[fetch]
min_delay = {MIN_DELAY}
delay_factor = 0
allow_hosts = ["127.0.0.1"]
max_retries = 0
[daemon]
jitter = 0
drain_every = "2s"
batch = 1000
cpu_workers = 1
heartbeat = "2s"
worker_stale_after = "6s"
{site_toml(m)}every = "1h"
"""


@pytest.mark.postgres
def test_three_daemons_one_killed_archive_everything_once_politely(
    pg_url: str, tmp_path: Path
) -> None:
    mirror = BigMirror(N).start()
    config = tmp_path / "sources.toml"
    config.write_text(_config(mirror), encoding="utf-8")
    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = session_factory(engine)
    # the frontier a backfill's discovery leaves (a pass discovers only the newest): 600 due
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "big", mirror.url("/"), datetime.now(UTC)).id
        frontier.enqueue(
            s, site_id, [frontier.NewUrl(u) for u in mirror.article_urls()], now=datetime.now(UTC)
        )

    def archived() -> int:
        with sessions() as s:
            return int(s.scalar(select(func.count()).select_from(Article)) or 0)

    logs = [tmp_path / f"worker{i}.log" for i in range(3)]
    procs = []
    for log in logs:
        with log.open("w") as stderr:
            procs.append(
                subprocess.Popen(
                    [VNNEWS, "--db", pg_url, "--config", str(config), "run"],
                    stdout=subprocess.DEVNULL,
                    stderr=stderr,
                )
            )
    start = time.monotonic()
    killed_at: datetime | None = None
    family: list[int] = []
    last, steady_since = -1, time.monotonic()
    try:
        while time.monotonic() - start < 180:
            done = archived()
            if killed_at is None and done >= N // 3:
                family = _tree(procs[0].pid)
                procs[0].send_signal(signal.SIGKILL)  # midway, whatever it is doing
                procs[0].wait(timeout=10)
                killed_at = datetime.now(UTC)
            if done != last:
                last, steady_since = done, time.monotonic()
            # settled: the survivors archived all they could and have nothing left in flight
            if killed_at and done >= N and time.monotonic() - steady_since > 6:
                break
            assert all(p.poll() is None for p in procs[1:]), [log.read_text() for log in logs]
            time.sleep(0.5)
        elapsed = time.monotonic() - start
    finally:
        for p in procs[1:]:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in procs:
            try:
                p.wait(timeout=30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        mirror.stop()
    assert killed_at is not None, "the first worker was never killed: " + logs[0].read_text()
    assert elapsed < 180, f"not settled after {elapsed:.0f} s"
    assert all(p.returncode == 0 for p in procs[1:]), [log.read_text() for log in logs[1:]]

    with sessions() as s:
        fetched_urls = set(
            s.scalars(select(ArticleUrl.url).where(ArticleUrl.relation == "fetched"))
        )
        # the dead worker's leases: never fetched to the end, due a whole lease later
        held = set(
            s.scalars(
                select(Url.url).where(
                    Url.kind == "article", Url.last_fetched_at.is_(None), Url.next_due > killed_at
                )
            )
        )
        unfetched = int(
            s.scalar(
                select(func.count())
                .select_from(Url)
                .where(Url.kind == "article", Url.last_fetched_at.is_(None))
            )
            or 0
        )
        articles = int(s.scalar(select(func.count()).select_from(Article)) or 0)
    engine.dispose()

    every = set(mirror.article_urls())
    # exactly once: one article per URL, no URL archived twice (content hashes are unique)
    assert articles == len(fetched_urls)
    assert fetched_urls | held == every, sorted(every - fetched_urls - held)[:5]
    # the dead worker's leases came back (heartbeat recovery), and were archived by the others
    assert not held, sorted(held)
    assert fetched_urls == every and articles == N
    assert unfetched == 0  # nothing was left behind

    hits = mirror.article_hits()
    twice = [path for path, n in hits.items() if n > 1]
    assert len(twice) <= MAX_HELD, twice  # a page fetched by the dead worker, then again

    times = sorted(seen.at for seen in mirror.server.seen)
    gaps = [b - a for a, b in pairwise(times)]
    assert min(gaps) >= MIN_DELAY, sorted(gaps)[:5]
    # the survivors stopped cleanly; the dead one left nothing running
    for log in logs[1:]:
        assert "Traceback" not in log.read_text()
    assert len(family) > 1, family  # the daemon had its CPU pool running
    _no_orphans(family)


def _tree(pid: int) -> list[int]:
    """``pid`` and its descendants (the CPU pool's forkserver and workers)."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            try:
                todo.extend(int(c) for c in (task / "children").read_text().split())
            except OSError:
                continue
    return out


def _no_orphans(family: list[int]) -> None:
    """The killed daemon's CPU workers exit by themselves (they watch their parent)."""
    deadline = time.monotonic() + 10
    alive = family
    while time.monotonic() < deadline:
        alive = [pid for pid in family if _running(pid)]
        if not alive:
            return
        time.sleep(0.5)
    raise AssertionError(f"processes of the killed worker still running: {alive}")


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ", 1)[1][0]
    except OSError:
        return False
    return state != "Z"
