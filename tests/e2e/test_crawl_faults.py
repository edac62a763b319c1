"""The fault matrix at the crawl level: each hostile answer lands on its ``urls`` row.

One site's feed lists a URL per fault on a loopback fault server; a healthy site is crawled at
the same time. For every fault: the right state and error on the row, no article and no
half-written rows, the healthy site archives its article, and memory stays bounded.
"""

from __future__ import annotations

import asyncio
import tracemalloc
from collections.abc import Iterator

import pytest
from sqlalchemy import select

from jobs.app import build_fetcher
from jobs.config import Config, parse_config
from jobs.crawl import Crawler
from storage.models import Article, ArticleUrl, Page, Url
from tests.support.archive import migrated
from tests.support.faults import FaultServer
from tests.support.loopback import LoopbackServer
from tests.support.mirror import MirrorSite
from tests.support.paths import REAL, golden
from tests.support.sites import TT_PAGES

MB = 1_000_000

# path → (expected state, a phrase of last_error, retried later?)
EXPECTED: dict[str, tuple[str, str, bool]] = {
    "/a/500.html": ("failed", "HTTP 500", True),
    "/a/503-retry-after.html": ("failed", "HTTP 503", True),
    "/a/429.html": ("failed", "HTTP 429", True),
    "/a/hang.html": ("failed", "timed out", True),
    "/a/drip.html": ("failed", "timed out", True),
    "/a/reset.html": ("failed", "connection broken", True),
    "/a/short.html": ("failed", "connection broken", True),
    "/a/loop.html": ("failed", "redirect", False),
    "/a/to-private.html": ("blocked", "127.0.0.2", False),
    "/a/bomb.html": ("failed", "byte cap (gzip)", False),
    "/a/big.html": ("failed", "byte cap", False),
    "/a/pdf.html": ("failed", "content type", False),
    "/a/random.html": ("not_article", "", False),
    "/a/gone.html": ("gone", "HTTP 410", False),
}


@pytest.fixture
def servers() -> Iterator[tuple[FaultServer, LoopbackServer, MirrorSite]]:
    faults = FaultServer().start()
    private = LoopbackServer("127.0.0.2").start()
    healthy = MirrorSite(LoopbackServer()).start()
    for path, fixture in TT_PAGES:
        healthy.real_page(path, fixture)
        healthy.add_item(path, str(golden(fixture)["title"]))
    r = faults.routes
    r["/robots.txt"] = faults.status(
        200, b"User-agent: *\nAllow: /\n", {"content-type": "text/plain"}
    )
    r["/a/500.html"] = faults.status(500, b"oops")
    # short: a long Retry-After pauses the whole host and ends the site's pass (test_bad_urls)
    r["/a/503-retry-after.html"] = faults.retry_after(503, "1")
    r["/a/429.html"] = faults.retry_after(429, "1")
    r["/a/hang.html"] = faults.hang()
    r["/a/drip.html"] = faults.drip(b"<html><body>" + b"x" * 200 + b"</body></html>", interval=0.5)
    r["/a/reset.html"] = faults.reset_mid_body()
    r["/a/short.html"] = faults.short_body()
    r["/a/loop.html"] = faults.redirect("/a/loop2.html")
    r["/a/loop2.html"] = faults.redirect("/a/loop.html")
    r["/a/to-private.html"] = faults.redirect(private.url("/secret.html"))
    r["/a/bomb.html"] = faults.gzip_bomb(50 * MB)
    r["/a/big.html"] = faults.big_body(50 * MB)
    r["/a/pdf.html"] = faults.status(200, b"%PDF-1.4 ...", {"content-type": "application/pdf"})
    r["/a/random.html"] = faults.random_html()
    r["/a/gone.html"] = faults.status(410, b"gone")
    # a real Vietnamese page whose header lies about its charset
    r["/a/wrong-charset.html"] = faults.status(
        200, (REAL / TT_PAGES[0][1]).read_bytes(), {"content-type": "text/html; charset=iso-8859-1"}
    )
    items = "".join(
        f"<item><title>t</title><link>{faults.url(p)}</link></item>"
        for p in [*EXPECTED, "/a/wrong-charset.html"]
    )
    r["/rss.xml"] = faults.status(
        200,
        f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
        {"content-type": "application/rss+xml"},
    )
    yield faults, private, healthy
    faults.stop()
    private.stop()
    healthy.stop()


def test_every_fault_lands_on_its_row_and_the_other_site_goes_on(
    db_url: str, servers: tuple[FaultServer, LoopbackServer, MirrorSite]
) -> None:
    faults, private, healthy = servers
    config = parse_config(f"""
[fetch]
min_delay = 0
timeout = "2s"
max_bytes = 2_000_000
max_retries = 0
allow_hosts = ["127.0.0.1"]
[[site]]
name = "hostile"
base_url = "{faults.url("/")}"
feeds = ["{faults.url("/rss.xml")}"]
[[site]]
name = "healthy"
base_url = "{healthy.base_url}"
feeds = ["{healthy.url("/rss.xml")}"]
profile = "tuoitre"
article_pattern = '\\.htm$'
""")
    engine, sessions = migrated(db_url)

    async def crawl() -> None:
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(fetcher, sessions)
            await asyncio.gather(*(crawler.crawl_site(s) for s in config.sites))

    tracemalloc.start()
    try:
        asyncio.run(crawl())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    # 2 x 50 MB hostile bodies were offered; the process held a small fraction of that
    assert peak < 40 * MB, f"peak traced memory {peak / MB:.1f} MB"

    with sessions() as s:
        rows = {
            u.url.removeprefix(faults.base_url): u
            for u in s.scalars(select(Url))
            if u.kind == "article"
        }
        for path, (state, phrase, retried) in EXPECTED.items():
            row = rows[path]
            assert row.state == state, (path, row.state, row.last_error)
            assert phrase.lower() in (row.last_error or "").lower(), (path, row.last_error)
            assert (row.next_due is not None) == retried, (path, row.next_due)
            assert row.attempts == 1
        # nothing half written: no article and no alias for any faulty URL
        linked = set(s.scalars(select(ArticleUrl.url)))
        assert not {faults.url(p) for p in EXPECTED} & linked
        # every stored page is a complete response: its body matches its recorded size
        for page in s.scalars(select(Page)):
            assert page.body_size <= 2_000_000
        # the lying charset header did not garble the Vietnamese text
        titles = set(s.scalars(select(Article.title)))
        assert str(golden(TT_PAGES[0][1])["title"]) in titles
        assert rows["/a/wrong-charset.html"].state == "fetched"
    # the healthy site archived its story (the same story as wrong-charset: one article, two URLs)
    with sessions() as s:
        art = s.scalars(select(Article)).one()
        urls = set(s.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == art.id)))
        assert healthy.url(TT_PAGES[0][0]) in urls and faults.url("/a/wrong-charset.html") in urls
    assert not private.seen, "nothing may ever be sent to a blocked address"
    engine.dispose()


def one_feed_site(faults: FaultServer, name: str) -> Config:
    """A site on the fault server whose only source is /rss.xml; no delays, no retries."""
    return parse_config(f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
max_retries = 0
[[site]]
name = "{name}"
base_url = "{faults.url("/")}"
feeds = ["{faults.url("/rss.xml")}"]
""")


def test_robots_server_error_blocks_the_site_for_now(sqlite_url: str) -> None:
    with FaultServer() as faults:
        faults.routes["/robots.txt"] = faults.status(503, b"down")
        faults.routes["/rss.xml"] = faults.status(
            200, b"<rss/>", {"content-type": "application/rss+xml"}
        )
        config = one_feed_site(faults, "r")
        engine, sessions = migrated(sqlite_url)

        async def crawl() -> None:
            async with build_fetcher(config) as fetcher:
                stats = await Crawler(fetcher, sessions).crawl_site(config.sites[0])
                assert stats.errors == 1 and "robots.txt" in stats.error_log[0]

        asyncio.run(crawl())
        assert not faults.requests_for("/rss.xml"), "a 5xx robots.txt means: fetch nothing"
        with sessions() as s:
            feed = s.scalars(select(Url).where(Url.kind == "feed")).one()
            assert feed.state == "failed" and "robots.txt" in (feed.last_error or "")
        engine.dispose()


def test_a_url_that_keeps_failing_is_parked_not_retried_forever(sqlite_url: str) -> None:
    from datetime import UTC, datetime, timedelta

    from jobs.revisit import MAX_ATTEMPTS, PARKED_FOR

    with FaultServer() as faults:
        faults.routes["/robots.txt"] = faults.status(404)
        faults.routes["/a/flaky.html"] = faults.status(503, b"busy")
        faults.routes["/rss.xml"] = faults.status(
            200,
            f'<rss version="2.0"><channel><item><link>{faults.url("/a/flaky.html")}</link></item></channel></rss>'.encode(),
            {"content-type": "application/rss+xml"},
        )
        config = one_feed_site(faults, "flaky")
        engine, sessions = migrated(sqlite_url)
        now = [datetime(2026, 3, 1, tzinfo=UTC)]
        seen: list[tuple[str, int, timedelta | None]] = []

        async def passes() -> None:
            async with build_fetcher(config) as fetcher:
                crawler = Crawler(fetcher, sessions, clock=lambda: now[0])
                for i in range(MAX_ATTEMPTS + 1):
                    await crawler.crawl_site(config.sites[0], discover=i == 0)
                    with sessions() as s:
                        row = s.scalars(select(Url).where(Url.kind == "article")).one()
                        seen.append(
                            (
                                row.state,
                                row.attempts,
                                row.next_due - now[0] if row.next_due else None,
                            )
                        )
                        now[0] = row.next_due or now[0]  # jump to when it is due again

        asyncio.run(passes())
        engine.dispose()
        states = [state for state, _, _ in seen]
        delays = [delay for _, _, delay in seen]
        assert states[: MAX_ATTEMPTS - 1] == ["failed"] * (MAX_ATTEMPTS - 1)
        assert states[MAX_ATTEMPTS - 1] == "parked" and delays[MAX_ATTEMPTS - 1] == PARKED_FOR
        # the retry delays grow, then the URL waits a week between tries
        early = [d for d in delays[: MAX_ATTEMPTS - 1] if d is not None]
        assert early == sorted(early) and early[0] >= timedelta(hours=1)
        assert [a for _, a, _ in seen] == list(range(1, MAX_ATTEMPTS + 2))
        assert len(faults.requests_for("/a/flaky.html")) == MAX_ATTEMPTS + 1
