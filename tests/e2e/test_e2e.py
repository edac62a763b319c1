"""End to end over real sockets: loopback mirrors of real pages → `vnnews crawl` → the database.

Runs on SQLite and PostgreSQL (``db_url``). The mirror serves robots.txt, an RSS feed with
ETags, real article pages, a copy of one under a second URL, a robots-disallowed URL and a 404.
"""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from jobs.app import build_fetcher
from jobs.config import load_config
from jobs.crawl import Crawler
from scraper.dates import parse_iso8601
from storage import bodies, repo
from storage.db import make_engine, session_factory
from storage.models import Article, ArticleUrl, CrawlRun, Page, Url
from tests.support.loopback import LoopbackServer
from tests.support.mirror import MirrorSite, dead_port
from tests.support.paths import REAL, golden
from tests.support.sites import TT_PAGES, VNX_PAGES, invoke, one_site_config, write_config

SITEMAP_NS = "http://www.sitemaps.org/schemas/sitemap/0.9"


def test_crawl_archives_real_pages_end_to_end(
    db_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    vnx, tt = mirrors
    config = write_config(tmp_path / "sources.toml", vnx, tt)
    assert invoke(db_url, config, "db", "upgrade")[0] == 0

    code, out = invoke(db_url, config, "crawl")
    assert code == 0, out
    assert (
        "vnx: discovered 5, fetched 4, new 2, changed 0, unchanged 0, duplicates 1, "
        "not modified 0, not articles 0, errors 2" in out
    )
    assert "tt: discovered 1, fetched 1, new 1" in out

    engine = make_engine(db_url)
    sessions = session_factory(engine)
    with sessions() as s:
        articles = {a.url: a for a in s.scalars(select(Article))}
        assert len(articles) == 3
        for site, pages in ((vnx, VNX_PAGES), (tt, TT_PAGES)):
            for path, fixture in pages:
                expected = golden(fixture)
                art = articles[site.url(path)]
                assert art.title == expected["title"]
                assert art.published_at == parse_iso8601(str(expected["published"]))
                paragraphs = art.text.split("\n\n")
                assert paragraphs[0] == expected["first_paragraph"]
                assert paragraphs[-1] == expected["last_paragraph"]
                assert art.extractor.startswith("profile:")
                # the raw HTML is archived byte for byte
                page = s.get_one(Page, art.page_id)
                assert bodies.page_body(page) == (REAL / fixture).read_bytes()
        # the copy is an alias of the first story
        first = articles[vnx.url(VNX_PAGES[0][0])]
        aliases = set(s.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == first.id)))
        assert vnx.url("/copy/same-story.html") in aliases
        # robots.txt and the 404 are recorded on their urls rows, with the reason
        states = {u.url: (u.state, u.last_error) for u in s.scalars(select(Url))}
        assert states[vnx.url("/private/secret.html")][0] == "blocked"
        assert "robots" in (states[vnx.url("/private/secret.html")][1] or "")
        assert states[vnx.url("/gone.html")] == ("gone", "HTTP 404")
        assert not vnx.server.requests_for("/private/secret.html")
        runs = s.scalars(select(CrawlRun)).all()
        assert {r.kind for r in runs} == {"crawl"} and all(r.finished_at for r in runs)
        assert sum(r.errors for r in runs) == 2
        # the copy at a new URL is a duplicate (its rel=canonical names the original)
        assert sum(r.duplicates for r in runs) == 1 and sum(r.unchanged for r in runs) == 0

    # a second pass stores nothing new, and the unchanged feed costs no body (304)
    feed_gets = len(vnx.server.requests_for("/rss.xml"))
    code, out = invoke(db_url, config, "crawl")
    assert code == 0, out
    assert (
        "vnx: discovered 0, fetched 0, new 0, changed 0, unchanged 0, duplicates 0, "
        "not modified 1, not articles 0, errors 0" in out
    )
    assert len(vnx.server.requests_for("/rss.xml")) == feed_gets + 1
    assert vnx.server.requests_for("/rss.xml")[-1].headers.get("if-none-match")
    with sessions() as s:
        assert len(s.scalars(select(Article)).all()) == 3
    engine.dispose()

    # the CLI reads it back
    code, out = invoke(db_url, config, "articles", "--site", "vnx")
    assert code == 0 and str(golden(VNX_PAGES[0][1])["title"]) in out
    code, out = invoke(db_url, config, "show", vnx.url("/copy/same-story.html"), "--json")
    assert code == 0 and json.loads(out)["title"] == golden(VNX_PAGES[0][1])["title"]
    code, out = invoke(db_url, config, "show", "1", "--raw")
    assert code == 0 and "<html" in out.lower()
    code, out = invoke(db_url, config, "sites")
    assert code == 0 and "vnx" in out and "tt" in out
    # search without diacritics finds the real page by its title words
    from scraper.vietnamese import strip_diacritics

    title = str(golden(TT_PAGES[0][1])["title"])
    code, out = invoke(
        db_url, config, "search", strip_diacritics(" ".join(title.split()[:3])).upper()
    )
    assert code == 0 and title in out
    code, out = invoke(db_url, config, "stats", "--json")
    assert code == 0 and json.loads(out)["articles"] == 3


def test_a_changed_page_becomes_a_new_version(
    db_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    """Recrawled an hour after publication, an edited page updates its article and adds a version."""
    import asyncio

    from jobs.app import build_fetcher
    from jobs.config import load_config
    from jobs.crawl import Crawler
    from storage.db import upgrade

    vnx, tt = mirrors
    config = load_config(write_config(tmp_path / "sources.toml", vnx, tt))
    site = config.site("tt")
    path, fixture = TT_PAGES[0]
    published = parse_iso8601(str(golden(fixture)["published"]))
    assert published is not None
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = [published + timedelta(minutes=20)]

    async def crawl(discover: bool) -> None:
        async with build_fetcher(config) as fetcher:
            await Crawler(fetcher, sessions, clock=lambda: now[0]).crawl_site(
                site, discover=discover
            )

    asyncio.run(crawl(True))
    with sessions() as s:
        (art,) = s.scalars(select(Article)).all()
        assert s.scalars(
            select(Url.next_due).where(Url.url == tt.url(path))
        ).one() == published + timedelta(hours=1)
    last = str(golden(fixture)["last_paragraph"])
    original = (REAL / fixture).read_bytes()
    edited = original.replace(last.encode()[:40], "ĐÃ SỬA: ".encode() + last.encode()[:40], 1)
    assert edited != original
    tt.page(path, edited)

    now[0] = published + timedelta(hours=2)
    asyncio.run(crawl(False))
    with sessions() as s:
        (again,) = s.scalars(select(Article)).all()
        assert again.id == art.id and again.content_hash != art.content_hash
        assert "ĐÃ SỬA: " in again.text
        assert len(repo.article_versions(s, art.id)) == 2
        # next recrawl: 6 h after publication
        assert s.scalars(
            select(Url.next_due).where(Url.url == tt.url(path))
        ).one() == published + timedelta(hours=6)
    engine.dispose()
    code, out = invoke(db_url, tmp_path / "sources.toml", "show", str(art.id), "--versions")
    assert code == 0 and "version 2" in out and "+ĐÃ SỬA: " in out.replace("+ ", "+")


def test_an_edit_announced_by_the_sitemap_lastmod_is_fetched_after_the_recrawls_end(
    db_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    """A week after publication the recrawl schedule is over; a sitemap whose <lastmod> for the
    article moves past its last fetch brings it back, and the edit becomes a version. A lastmod
    before the fetch brings nothing."""
    import asyncio

    from jobs.app import build_fetcher
    from jobs.config import load_config
    from jobs.crawl import Crawler
    from storage.db import upgrade

    vnx, tt = mirrors
    sitemap = tt.url("/sitemap.xml")
    config = load_config(
        write_config(tmp_path / "sources.toml", vnx, tt, extra=f'sitemaps = ["{sitemap}"]')
    )
    site = config.site("tt")
    path, fixture = TT_PAGES[0]
    published = parse_iso8601(str(golden(fixture)["published"]))
    assert published is not None

    def serve_sitemap(lastmod: datetime) -> None:
        entries = "".join(  # each page its own lastmod: a sitemap that dates its pages
            f"<url><loc>{tt.url(p)}</loc><lastmod>{(lastmod - k * timedelta(days=9)).isoformat()}"
            "</lastmod></url>"
            for k, p in enumerate((path, "/other-1.html", "/other-2.html"))
        )
        body = f'<?xml version="1.0"?><urlset xmlns="{SITEMAP_NS}">{entries}</urlset>'
        tt.page("/sitemap.xml", body.encode(), content_type="application/xml")

    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = [published + timedelta(days=8)]

    async def crawl() -> None:
        async with build_fetcher(config) as fetcher:
            await Crawler(fetcher, sessions, clock=lambda: now[0]).crawl_site(site)

    serve_sitemap(published)
    asyncio.run(crawl())
    with sessions() as s:
        (art,) = s.scalars(select(Article)).all()
        row = s.scalars(select(Url).where(Url.url == tt.url(path))).one()
        assert row.next_due is None  # the schedule (1 h, 6 h, 24 h, 7 d) is over
    fetched_at = now[0]
    last = str(golden(fixture)["last_paragraph"])
    original = (REAL / fixture).read_bytes()
    tt.page(path, original.replace(last.encode()[:40], "ĐÃ SỬA: ".encode() + last.encode()[:40], 1))

    now[0] = fetched_at + timedelta(days=1)
    serve_sitemap(fetched_at - timedelta(hours=1))  # older than the fetch: no evidence
    asyncio.run(crawl())
    with sessions() as s:
        assert len(repo.article_versions(s, art.id)) == 1

    now[0] = fetched_at + timedelta(days=2)
    serve_sitemap(fetched_at + timedelta(days=1, hours=12))
    asyncio.run(crawl())
    with sessions() as s:
        (again,) = s.scalars(select(Article)).all()
        assert "ĐÃ SỬA: " in again.text
        assert len(repo.article_versions(s, art.id)) == 2
        row = s.scalars(select(Url).where(Url.url == tt.url(path))).one()
        assert row.next_due is None
    engine.dispose()


def test_dead_site_is_recorded_and_others_go_on(
    sqlite_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    vnx, tt = mirrors
    port = dead_port()
    config = write_config(
        tmp_path / "sources.toml",
        vnx,
        tt,
        f"""
[[site]]
name = "dead"
base_url = "http://127.0.0.1:{port}/"
feeds = ["http://127.0.0.1:{port}/rss.xml", "http://127.0.0.1:{port}/rss2.xml"]
listings = ["http://127.0.0.1:{port}/tin-moi"]
every = "15m"
""",
    )
    assert invoke(sqlite_url, config, "db", "upgrade")[0] == 0
    code, out = invoke(sqlite_url, config, "crawl")
    # the others are archived; the dead one makes the status 1, as when it is crawled alone
    assert code == 1, out
    assert "tt: discovered 1, fetched 1, new 1" in out
    assert (
        "dead: discovered 0, fetched 0, new 0, changed 0, unchanged 0, duplicates 0, "
        "not modified 0, not articles 0, errors 1" in out
    )
    assert "vnnews: 1 of 3 sites failed: dead" in out
    assert f"127.0.0.1:{port}/rss.xml" in out
    code, out = invoke(sqlite_url, config, "sites")
    dead_line = next(line for line in out.splitlines() if line.startswith("dead"))
    assert " 1 " in dead_line and "never" in dead_line  # one error, never succeeded
    assert invoke(sqlite_url, config, "crawl", "dead")[0] == 1


def test_scheduled_discovery_skips_items_older_than_the_horizon(
    sqlite_url: str, tmp_path: Path
) -> None:
    """An old item in a feed is skipped before any fetch; a known one is not queued twice."""
    import asyncio
    from datetime import UTC

    from jobs.app import build_fetcher
    from jobs.config import load_config
    from jobs.crawl import Crawler
    from storage.db import upgrade

    site = MirrorSite(LoopbackServer()).start()
    try:
        now = datetime(2026, 3, 7, 12, 0, tzinfo=UTC)
        path, fixture = TT_PAGES[0]
        site.real_page(path, fixture)
        site.add_item(path, "new", published=now - timedelta(days=1))
        site.add_item("/old/story-1.htm", "old", published=now - timedelta(days=90))
        config_path = tmp_path / "sources.toml"
        config_path.write_text(
            f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
[[site]]
name = "h"
base_url = "{site.base_url}"
feeds = ["{site.url("/rss.xml")}"]
article_pattern = '\\.htm$'
horizon = "30d"
""",
            encoding="utf-8",
        )
        config = load_config(config_path)
        engine = make_engine(sqlite_url)
        upgrade(engine)
        sessions = session_factory(engine)

        async def crawl() -> tuple[int, int]:
            async with build_fetcher(config) as fetcher:
                crawler = Crawler(fetcher, sessions, clock=lambda: now)
                first = await crawler.crawl_site(config.sites[0])
                site.items.append(site.items.pop(0))  # the feed changes order: new ETag, same items
                second = await crawler.crawl_site(config.sites[0])
                return first.discovered, second.discovered

        assert asyncio.run(crawl()) == (1, 0)
        assert not site.server.requests_for("/old/story-1.htm")
        with sessions() as s:
            assert {u.url for u in s.scalars(select(Url)) if u.kind == "article"} == {
                site.url(path)
            }
            assert s.scalars(
                select(Url.source_date).where(Url.url == site.url(path))
            ).one() == now - timedelta(days=1)
        engine.dispose()
    finally:
        site.stop()


def test_a_listing_in_the_feed_is_no_error_in_the_summary(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A feed item that is a listing page (the real vnexpress one): the site answered it, so
    the summary line counts it apart ("not articles 1, errors 0") and says why in the words
    ``vnnews extract`` uses."""
    site = MirrorSite(LoopbackServer()).start()
    try:
        for path, fixture in [*TT_PAGES, ("/tin-moi.htm", "vnexpress.net/meth04-list.html")]:
            site.real_page(path, fixture)
            site.add_item(path, path)
        config = one_site_config(tmp_path / "sources.toml", site)
        assert invoke(sqlite_url, config, "db", "upgrade")[0] == 0
        with caplog.at_level(logging.INFO, logger="vnnews.crawl"):
            code, out = invoke(sqlite_url, config, "crawl")
        assert code == 0, out
        assert "tt: discovered 2, fetched 2, new 1," in out
        said = [r.getMessage() for r in caplog.records if "/tin-moi.htm" in r.getMessage()]
        assert said == [f"site=tt url={site.url('/tin-moi.htm')} not an article: too little "
                        "body text (a listing, home or section page?)"], said  # fmt: skip
        assert "not modified 0, not articles 1, errors 0" in out, out
        listing = site.url("/tin-moi.htm")
        assert f"  skipped: {listing}: not an article: too little body text" in out, out
        # and `sites` does not count it among the site's errors of the day
        code, out = invoke(sqlite_url, config, "sites", "--json")
        assert code == 0, out
        (row,) = json.loads(out)
        assert (row["errors_24h"], row["not_articles_24h"]) == (0, 1), row
        code, out = invoke(sqlite_url, config, "sites")
        assert out.splitlines()[1].split()[6] == "0", out  # the "err 24h" column
    finally:
        site.stop()


def test_two_sites_on_one_host_say_whose_urls_they_are(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Two [[site]]s on one host (a paper's sections configured apart) whose feeds share an
    article: a URL is archived for the site that found it first, and the other site says so
    rather than discovering nothing without a word."""
    site = MirrorSite(LoopbackServer()).start()
    try:
        path, fixture = TT_PAGES[0]
        site.real_page(path, fixture)
        site.add_item(path, "a")
        site.page("/rss-b.xml", site.feed_xml(), "application/rss+xml")
        config = one_site_config(tmp_path / "sources.toml", site, name="a")
        config.write_text(
            config.read_text(encoding="utf-8")
            + f'[[site]]\nname = "b"\nbase_url = "{site.base_url}"\n'
            f'feeds = ["{site.url("/rss-b.xml")}"]\n',
            encoding="utf-8",
        )
        assert invoke(sqlite_url, config, "db", "upgrade")[0] == 0
        code, out = invoke(sqlite_url, config, "crawl", "a")
        assert code == 0 and "a: discovered 1, fetched 1, new 1," in out, out
        with caplog.at_level(logging.INFO, logger="vnnews.crawl"):
            code, out = invoke(sqlite_url, config, "crawl", "b")
        assert code == 0 and "b: discovered 0, fetched 0, new 0," in out, out
        said = [r.getMessage() for r in caplog.records if "already to site" in r.getMessage()]
        assert said == [
            f"site=b url={site.url('/rss-b.xml')}: 1 URL belongs already to site a, which found "
            "it first: not queued for b"
        ], said
        # a daemon's passes: said once at INFO, then at DEBUG
        caplog.clear()
        cfg = load_config(config)
        engine = make_engine(sqlite_url)

        async def two_passes() -> None:
            async with build_fetcher(cfg) as fetcher:
                crawler = Crawler(fetcher, session_factory(engine))
                for _ in range(2):
                    await crawler.crawl_site(cfg.site("b"))

        with caplog.at_level(logging.DEBUG, logger="vnnews.crawl"):
            asyncio.run(two_passes())
        engine.dispose()
        levels = [r.levelname for r in caplog.records if "already to site" in r.getMessage()]
        assert levels == ["INFO", "DEBUG"], levels
    finally:
        site.stop()


def test_a_feed_older_than_the_horizon_is_said_and_backfill_archives_it(
    sqlite_url: str, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    # a new user's feed of items older than the horizon (30 days): the crawl archived nothing
    # and said nothing; the feed then answered 304, and backfill did not read feeds: only a new
    # database brought them back
    site = MirrorSite(LoopbackServer()).start()
    try:
        path, fixture = TT_PAGES[0]
        site.real_page(path, fixture)
        site.add_item(path, "a", published=datetime.now(UTC) - timedelta(days=90))
        config = one_site_config(tmp_path / "sources.toml", site)
        assert invoke(sqlite_url, config, "db", "upgrade")[0] == 0
        with caplog.at_level(logging.INFO, logger="vnnews.crawl"):
            code, out = invoke(sqlite_url, config, "crawl", "tt")
        assert code == 0 and "tt: discovered 0, fetched 0, new 0," in out, out
        assert out.splitlines()[0].endswith(", errors 0, out of window 1"), out  # even with -q
        said = [r for r in caplog.records if "older than the horizon" in r.getMessage()]
        assert len(said) == 1 and said[0].levelname == "INFO", caplog.text
        assert said[0].getMessage() == (
            f"site=tt url={site.url('/rss.xml')}: its 1 article(s) are all older than the "
            "horizon (30d): not queued; `vnnews backfill tt` archives them (or raise the "
            "site's horizon)"
        )
        code, out = invoke(sqlite_url, config, "crawl", "tt")
        assert code == 0 and "not modified 1" in out, out  # the feed is unchanged: 304
        caplog.clear()
        with caplog.at_level(logging.INFO, logger="vnnews.backfill"):
            code, out = invoke(sqlite_url, config, "backfill", "tt")
        assert code == 0 and "tt: backfill discovered 1, fetched 1, new 1" in out, out
        said = [r for r in caplog.records if "nothing to walk back through" in r.getMessage()]
        assert len(said) == 1 and said[0].levelname == "WARNING", caplog.text
        assert "only its feeds are read, which hold the newest items" in said[0].getMessage()
    finally:
        site.stop()
