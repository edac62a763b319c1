"""Group commit: the pages fetched together are stored in one transaction, and a page that
breaks its store fails alone (the others of its transaction are stored again, one by one).

Real pages over a loopback socket into a real SQLite file; the failure is the database's own
(a trigger refuses one URL), not a stand-in for our code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import event, select, text

from jobs.app import build_fetcher
from jobs.config import parse_config
from jobs.crawl import Crawler
from jobs.runs import RunStats
from storage.models import Article, Url
from tests.support.archive import migrated
from tests.support.loopback import LoopbackServer
from tests.support.mirror import MirrorSite

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


def _crawl(sqlite_url: str, site: MirrorSite, on_engine: Any = None) -> tuple[RunStats, Any]:
    config = parse_config(f"""
[fetch]
min_delay = 0
max_retries = 0
allow_hosts = ["127.0.0.1"]
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
        assert conn.execute(select(Article.id)).all().__len__() == len(PAGES)


def test_a_page_that_breaks_the_store_fails_alone(sqlite_url: str, site: MirrorSite) -> None:
    def refuse_one(engine: Any) -> None:
        with engine.begin() as conn:
            conn.execute(
                text(
                    "CREATE TRIGGER refuse_one BEFORE INSERT ON article_urls "
                    "WHEN NEW.url LIKE '%dau-bung%' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by a trigger'); END"
                )
            )

    stats, (engine, _) = _crawl(sqlite_url, site, refuse_one)
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
