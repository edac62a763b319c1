"""Several daemons on one PostgreSQL database share the frontier: no URL is fetched twice.

Two crawlers, each with its own engine, fetcher and event loop (threads, like two processes),
drain the same site concurrently; claims use SELECT ... FOR UPDATE SKIP LOCKED.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select

from jobs.app import build_fetcher
from jobs.config import parse_config
from jobs.crawl import Crawler
from jobs.revisit import LEASE
from jobs.runs import RunStats
from storage import frontier, repo
from storage.db import make_engine, session_factory, upgrade
from storage.models import Article
from tests.support.big_mirror import BigMirror, config_text


@pytest.fixture
def mirror(request: pytest.FixtureRequest) -> Iterator[BigMirror]:
    m = BigMirror(getattr(request, "param", 120)).start()
    yield m
    m.stop()


@pytest.mark.postgres
def test_two_daemons_share_one_frontier_without_double_fetches(
    pg_url: str, mirror: BigMirror
) -> None:
    config = parse_config(config_text(mirror))
    site = config.sites[0]
    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, datetime.now(UTC)).id
        frontier.enqueue(
            s, site_id, [frontier.NewUrl(u) for u in mirror.article_urls()], now=datetime.now(UTC)
        )
    results: list[RunStats] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def daemon() -> None:
        own = make_engine(pg_url)
        try:

            async def drain() -> RunStats:
                stats = RunStats()
                async with build_fetcher(config) as fetcher:
                    crawler = Crawler(fetcher, session_factory(own), batch=10)
                    start.wait()
                    while True:  # small batches, so the two daemons interleave their claims
                        before = stats.fetched + stats.errors
                        await crawler.drain(site, site_id, stats)
                        if stats.fetched + stats.errors == before:
                            return stats

            results.append(asyncio.run(drain()))
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=daemon) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not errors, errors
    assert len(results) == 2
    hits = mirror.article_hits()
    assert len(hits) == 120 and set(hits.values()) == {1}, hits.most_common(3)
    assert sum(r.fetched for r in results) == 120
    assert all(r.fetched > 0 for r in results), [r.fetched for r in results]  # both did work
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(Article)) == 120
    engine.dispose()


@pytest.mark.parametrize("mirror", [5], indirect=True)
def test_a_slow_drain_keeps_the_lease_on_every_url_it_will_fetch(
    db_url: str, mirror: BigMirror
) -> None:
    """Fetches slower than LEASE / batch: another daemon must never get a URL this one still fetches."""
    config = parse_config(config_text(mirror))
    site = config.sites[0]
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = [datetime.now(UTC)]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, now[0]).id
        frontier.enqueue(
            s, site_id, [frontier.NewUrl(u) for u in mirror.article_urls()], now=now[0]
        )
    taken_by_other: set[str] = set()

    def slow_fetch_then_other_daemon_claims(_site: str, _url: str) -> None:
        now[0] += LEASE * 2 / 3  # each fetch took 10 minutes
        with sessions.begin() as s:
            taken_by_other.update(
                u.url for u in frontier.claim_due(s, site_id, now=now[0], limit=10, lease=LEASE)
            )

    async def drain() -> RunStats:
        stats = RunStats()
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(
                fetcher,
                sessions,
                clock=lambda: now[0],
                batch=5,
                on_progress=slow_fetch_then_other_daemon_claims,
                # the simulated 10 minutes pass at an instant, when a page is counted: each
                # commits as soon as the loop turns, as a real 10-minute fetch would let it
                commit_wait=0,
            )
            await crawler.drain(site, site_id, stats)
        return stats

    stats = asyncio.run(drain())
    engine.dispose()
    fetched = {mirror.url(path) for path in mirror.article_hits()}
    assert stats.fetched == len(fetched) >= 1
    assert not fetched & taken_by_other, sorted(fetched & taken_by_other)


@pytest.mark.parametrize("mirror", [6], indirect=True)
def test_urls_claimed_ahead_are_handed_back_when_the_drain_stops(
    db_url: str, mirror: BigMirror
) -> None:
    """The drain leases a few URLs at a time (``Crawler.pipeline``); those it did not fetch
    when it stops are due again at once, for this daemon or another, not after the lease."""
    config = parse_config(config_text(mirror))
    site = config.sites[0]
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = datetime.now(UTC)
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, now).id
        frontier.enqueue(s, site_id, [frontier.NewUrl(u) for u in mirror.article_urls()], now=now)

    async def drain() -> RunStats:
        stats = RunStats()
        async with build_fetcher(config) as fetcher:
            # after the first page the host asks for an hour's pause (a Retry-After): the
            # drain stops with URLs claimed and not fetched
            def pause(_site: str, _url: str) -> None:
                fetcher._politeness.pause("127.0.0.1", 3600)

            crawler = Crawler(fetcher, sessions, clock=lambda: now, pipeline=4, on_progress=pause)
            await crawler.drain(site, site_id, stats)
        return stats

    stats = asyncio.run(drain())
    fetched = {mirror.url(path) for path in mirror.article_hits()}
    assert 1 <= stats.fetched == len(fetched) < 4
    with sessions.begin() as s:
        rest = {u.url for u in frontier.claim_due(s, site_id, now=now, limit=10, lease=LEASE)}
    assert rest == set(mirror.article_urls()) - fetched
    engine.dispose()
