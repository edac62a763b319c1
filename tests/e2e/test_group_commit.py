"""Group commit: the pages fetched together are stored in one transaction, and a page that
breaks its store fails alone (the others of its transaction are stored again, one by one).

Real pages over a loopback socket into a real SQLite file; the failure is the database's own
(a trigger refuses one URL), not a stand-in for our code."""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import create_engine, event, select, text
from sqlalchemy.exc import DBAPIError

from jobs.app import build_fetcher
from jobs.config import parse_config
from jobs.crawl import Claim, Crawler, _Write
from jobs.runs import RunStats, SitePass
from scraper.fetched import FetchResult
from storage import frontier, repo
from storage.models import Article, Page, Url
from tests.support.archive import migrated
from tests.support.loopback import LoopbackServer, Response
from tests.support.mirror import Item, MirrorSite
from tests.support.paths import REAL

PAGES = [
    ("/tin/cach-cac-nuoc-doi-pho.html", "vnexpress.net/meth04-article.html"),
    ("/tin/dau-bung-keo-dai.html", "vnexpress.net/article-dau-bung-keo-dai-4954454.html"),
    ("/tin/chien-su-day-gia-hoa.html", "tuoitre.vn/meth04-article.html"),
    ("/tin/bai-dan-tri.html", "dantri.com.vn/meth04-article.html"),
]


@pytest.fixture
def site() -> Iterator[MirrorSite]:
    mirror = MirrorSite(LoopbackServer()).start()
    for path, fixture in PAGES:
        mirror.real_page(path, fixture)
        mirror.add_item(path, path)
    yield mirror
    mirror.stop()


def _crawl(
    sqlite_url: str, site: MirrorSite, on_engine: Any = None, allow: str = '"127.0.0.1"'
) -> tuple[RunStats, Any]:
    config = parse_config(f"""
[fetch]
min_delay = 0
max_retries = 0
allow_hosts = [{allow}]
[[site]]
name = "mirror"
base_url = "{site.base_url}"
feeds = ["{site.url("/rss.xml")}"]
article_pattern = '/tin/'
""")
    engine, sessions = migrated(sqlite_url)
    if on_engine:
        on_engine(engine)
    pages_in: list[int] = []  # pages rows written by each committed transaction
    writing = [0]

    @event.listens_for(engine, "before_cursor_execute")
    def count(conn: Any, cursor: Any, statement: str, *args: Any) -> None:
        if statement.startswith("INSERT INTO pages"):
            writing[0] += 1

    @event.listens_for(engine, "commit")
    def committed(conn: Any) -> None:
        pages_in.append(writing[0])
        writing[0] = 0

    @event.listens_for(engine, "rollback")
    def rolled_back(conn: Any) -> None:
        writing[0] = 0

    async def crawl() -> RunStats:
        async with build_fetcher(config) as fetcher:
            # a generous wait: the four pages are fetched well within it
            crawler = Crawler(fetcher, sessions, commit_wait=1.0)
            return await crawler.crawl_site(config.sites[0])

    try:
        return asyncio.run(crawl()), (engine, [n for n in pages_in if n])
    finally:
        engine.dispose()


def test_pages_fetched_together_share_one_commit(sqlite_url: str, site: MirrorSite) -> None:
    stats, (engine, pages_in) = _crawl(sqlite_url, site)
    assert stats.new_articles == len(PAGES) and stats.errors == 0
    # the feed's page is its own transaction (discovery); the four articles share one
    assert max(pages_in) == len(PAGES), pages_in
    with engine.connect() as conn:
        assert len(conn.execute(select(Article.id)).all()) == len(PAGES)


def _refusing(when: str = "") -> Callable[[Any], None]:
    """What sets up the database's own refusal: a trigger failing each article_urls insert
    (``when``: those whose condition holds)."""

    def create(engine: Any) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    f"CREATE TRIGGER refuse BEFORE INSERT ON article_urls {when} "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )
            )

    return create


def test_a_page_that_breaks_the_store_fails_alone(sqlite_url: str, site: MirrorSite) -> None:
    stats, (engine, _) = _crawl(sqlite_url, site, _refusing("WHEN NEW.url LIKE '%dau-bung%'"))
    assert stats.new_articles == len(PAGES) - 1
    assert stats.errors == 1
    assert any("refused by a trigger" in line for line in stats.error_log), stats.error_log
    with engine.connect() as conn:
        rows = dict(conn.execute(select(Url.url, Url.state).where(Url.kind == "article")).all())
        stored = len(conn.execute(select(Article.id)).all())
    assert stored == len(PAGES) - 1
    bad = site.url("/tin/dau-bung-keo-dai.html")
    assert rows.pop(bad) == "failed"
    assert set(rows.values()) == {"fetched"}, rows


def test_a_replayed_batch_announces_a_site_move_once(
    sqlite_url: str, site: MirrorSite, caplog: pytest.LogCaptureFixture
) -> None:
    """A batch written again page by page (every article refused) holds a page redirecting to
    another domain, read first: the move's WARNING comes once, after the commit that keeps it,
    not once per attempt (the rolled-back attempt recorded it too)."""
    moved = "/tin/chuyen-nha.html"
    other = f"http://127.0.0.2:{site.server.port}/tin/chuyen-nha.html"
    site.server.routes[moved] = Response(status=301, headers={"location": other})
    site.items.insert(0, Item(moved, moved))  # read first: in the batch before the refused page

    with caplog.at_level(logging.WARNING):
        # every article refused: whichever share the move's transaction, the first one after
        # it fails it. 127.0.0.2 allowed: the redirect is held as a move, not refused
        stats, (engine, _) = _crawl(sqlite_url, site, _refusing(), '"127.0.0.1", "127.0.0.2"')
    assert stats.new_articles == 0 and stats.errors == len(PAGES)
    announced = [r.getMessage() for r in caplog.records if " moved: " in r.getMessage()]
    assert len(announced) == 1, announced
    assert "127.0.0.2" in announced[0]
    with engine.connect() as conn:
        moves = conn.execute(text("SELECT from_host, to_host FROM site_moves")).all()
    assert [m.to_host for m in moves] == ["127.0.0.2"], moves


# --- the queue itself: the real store on a real SQLite file, the waiters' timing by hand ---


def _queue(sqlite_url: str, n: int) -> tuple[Crawler, SitePass, list[Claim], list[FetchResult]]:
    """A crawler on a fresh archive with ``n`` claimed URLs and a real fetched page for each
    (the PAGES' bodies, as the fetcher returns them)."""
    config = parse_config(
        '[[site]]\nname = "q"\nbase_url = "http://127.0.0.1:9/"\nlistings = ["http://127.0.0.1:9/"]\n'
    )
    site = config.sites[0]
    _, sessions = migrated(sqlite_url)
    now = datetime.now(UTC)
    urls = [f"http://127.0.0.1:9/tin/{i}.html" for i in range(n)]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, now).id
        frontier.enqueue(s, site_id, [frontier.NewUrl(u) for u in urls], now=now)
    crawler = Crawler(fetcher=None, sessions=sessions, commit_wait=60)  # type: ignore[arg-type]
    claims = sorted(crawler._claim(site_id, n), key=lambda c: c.url)
    html = {"content-type": "text/html; charset=utf-8"}
    bodies = [(REAL / PAGES[i % len(PAGES)][1]).read_bytes() for i in range(n)]
    results = [
        FetchResult(c.url, c.url, 200, html, body, now, (), 0.01)
        for c, body in zip(claims, bodies, strict=True)
    ]
    return crawler, SitePass(site, site_id, None, RunStats()), claims, results


def _url_rows(crawler: Crawler) -> dict[str, tuple[str, int | None]]:
    with crawler.sessions() as s:
        return {u.url: (u.state, u.leased_by) for u in s.scalars(select(Url))}


def _pages(crawler: Crawler) -> int:
    with crawler.sessions() as s:
        return len(s.scalars(select(Page.id)).all())


def test_a_page_whose_waiter_is_cancelled_before_the_commit_is_not_written(
    sqlite_url: str,
) -> None:
    crawler, p, claims, results = _queue(sqlite_url, 3)

    async def go() -> list[BaseException | None]:
        tasks = [
            asyncio.create_task(crawler._keep(p, c, r))
            for c, r in zip(claims, results, strict=True)
        ]
        await asyncio.sleep(0)  # each page prepared (inline) and waiting for its commit
        tasks[1].cancel()  # a shutdown's cancel, in the same loop turn as the flush
        crawler._flush()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [x if isinstance(x, BaseException) else None for x in done]

    outcome = asyncio.run(go())
    assert outcome[0] is None and outcome[2] is None
    assert isinstance(outcome[1], asyncio.CancelledError)
    assert _pages(crawler) == 2 and p.stats.new_articles == 2
    rows = _url_rows(crawler)
    assert rows[claims[1].url] == ("new", None)  # handed back, due again
    assert rows[claims[0].url][0] == rows[claims[2].url][0] == "fetched"


def test_a_page_cancelled_after_its_commit_counts_and_keeps_its_state(sqlite_url: str) -> None:
    crawler, p, claims, results = _queue(sqlite_url, 2)

    async def go() -> BaseException | None:
        tasks = [
            asyncio.create_task(crawler._keep(p, c, r))
            for c, r in zip(claims, results, strict=True)
        ]
        await asyncio.sleep(0)
        crawler._flush()  # both committed; the first waiter is cancelled before it resumes
        tasks[0].cancel()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return done[0] if isinstance(done[0], BaseException) else None

    assert isinstance(asyncio.run(go()), asyncio.CancelledError)
    assert p.stats.new_articles == 2  # the cancelled one is counted: it is archived
    rows = _url_rows(crawler)
    # not handed back: a stored page's URL is not fetched again at once
    assert rows[claims[0].url] == ("fetched", None)
    with crawler.sessions() as s:
        due = s.scalar(select(Url.next_due).where(Url.url == claims[0].url))
    # its revisit schedule (none for an old story), not "due now" as a handed-back URL is
    assert due is None or due > datetime.now(UTC) + timedelta(minutes=10)


def test_a_page_failing_at_commit_in_the_replay_fails_alone(sqlite_url: str) -> None:
    crawler, p, claims, results = _queue(sqlite_url, 3)

    async def keep(pairs: list[tuple[Claim, FetchResult]]) -> list[BaseException | None]:
        tasks = [asyncio.create_task(crawler._commit(_Write(p, c, r, None))) for c, r in pairs]
        await asyncio.sleep(0)
        crawler._flush()
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [x if isinstance(x, BaseException) else None for x in done]

    async def first() -> None:
        tasks = [asyncio.create_task(crawler._keep(p, claims[0], results[0]))]
        await asyncio.sleep(0)
        crawler._flush()
        await asyncio.gather(*tasks)

    asyncio.run(first())  # the first URL holds an archived article
    with crawler.sessions.begin() as s:
        s.execute(
            text(
                "CREATE TRIGGER no_events BEFORE INSERT ON article_events "
                "BEGIN SELECT RAISE(ABORT, 'events refused'); END"
            )
        )
    gone = replace(results[0], status=410, body=b"gone")
    # the article's URL now answers 410: its event row is written by the session's flush at
    # COMMIT, which the trigger refuses; the two other pages are new articles
    outcome = asyncio.run(
        keep([(claims[0], gone), (claims[1], results[1]), (claims[2], results[2])])
    )
    assert outcome[1] is None and outcome[2] is None, outcome
    assert outcome[0] is not None and "events refused" in str(outcome[0])
    assert _pages(crawler) == 3  # the first fetch, then the two new articles; not the 410


def test_a_batch_that_loses_a_deadlock_is_written_again_page_by_page(pg_url: str) -> None:
    """Another worker holds the second page's URL row, then asks for the first one's, which
    the batch has just locked: PostgreSQL breaks the deadlock by aborting the batch (the first
    to wait checks first). Its pages are written again one by one, and both are archived."""
    crawler, p, claims, results = _queue(pg_url, 2)
    first, second = claims
    engine = create_engine(pg_url)
    watcher = engine.connect().execution_options(isolation_level="AUTOCOMMIT")
    other = engine.connect()
    lock = text("SELECT id FROM urls WHERE id = :id FOR UPDATE")
    other.begin()
    other.execute(lock, {"id": second.row_id})
    outcome: list[str] = []

    def other_worker() -> None:
        deadline = time.monotonic() + 30
        waiting = text(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        while time.monotonic() < deadline and not watcher.execute(waiting).scalar_one():
            time.sleep(0.02)  # until the batch waits for the second page's row
        try:
            other.execute(lock, {"id": first.row_id})
            outcome.append("granted")
        except DBAPIError as exc:
            outcome.append(f"aborted: {exc.orig}")
        other.rollback()

    async def go() -> list[BaseException | None]:
        tasks = [
            asyncio.create_task(crawler._keep(p, c, r))
            for c, r in zip(claims, results, strict=True)
        ]
        await asyncio.sleep(0)  # both pages prepared and waiting for their commit
        crawler._flush()  # blocks on the second page's row until the deadlock is broken
        done = await asyncio.gather(*tasks, return_exceptions=True)
        return [x if isinstance(x, BaseException) else None for x in done]

    thread = threading.Thread(target=other_worker)
    thread.start()
    try:
        errors = asyncio.run(go())
    finally:
        thread.join(60)
        other.close()
        watcher.close()
        engine.dispose()
    rows = _url_rows(crawler)
    crawler.sessions.kw["bind"].dispose()  # before the test's database is dropped
    assert outcome == ["granted"], outcome  # the batch, not the other worker, was aborted
    assert errors == [None, None], errors
    assert p.stats.new_articles == 2 and p.stats.errors == 0, p.stats.error_log
    assert rows[first.url][0] == rows[second.url][0] == "fetched"
