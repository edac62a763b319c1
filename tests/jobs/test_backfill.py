"""Discovery at scale on a 500-article loopback site: backfill, resume, and the daemon's schedule.

The site has a sitemap index (from robots.txt) with gzipped sitemaps, a paginated listing and an
RSS feed of the newest 20; see tests/big_mirror.py.
"""

from __future__ import annotations

import asyncio
import dataclasses
from datetime import timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import select

from jobs.app import build_fetcher
from jobs.backfill import backfill
from jobs.cli import cli
from jobs.config import Config, load_config, parse_config
from jobs.crawl import Crawler
from jobs.daemon import Daemon
from storage.db import make_engine, session_factory, upgrade
from storage.models import Article, CrawlRun, Site, Url
from tests.support.archive import count_rows
from tests.support.big_mirror import BigMirror, config_text


def setup(m: BigMirror, tmp_path: Path, db_url: str) -> tuple[Path, Config]:
    path = tmp_path / "sources.toml"
    path.write_text(config_text(m), encoding="utf-8")
    engine = make_engine(db_url)
    upgrade(engine)
    engine.dispose()
    return path, load_config(path)


def test_backfill_archives_every_article_requesting_each_once(
    mirror: BigMirror, tmp_path: Path, sqlite_url: str
) -> None:
    path, _ = setup(mirror, tmp_path, sqlite_url)
    result = CliRunner().invoke(
        cli, ["--db", sqlite_url, "--config", str(path), "-q", "backfill", "big"]
    )
    assert result.exit_code == 0, result.output
    assert "big: backfill discovered 500, fetched 500, new 500" in result.output
    hits = mirror.article_hits()
    assert len(hits) == 500 and set(hits.values()) == {1}, hits.most_common(3)
    # the sitemap index came from robots.txt, its gzipped children were read
    assert mirror.hits["/sitemap.xml"] == 1 and all(
        mirror.hits[f"/sitemap-{k}.xml.gz"] == 1 for k in range(5)
    )
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as s:
        arts = {a.url: a for a in s.scalars(select(Article))}
        assert set(arts) == set(mirror.article_urls())
        a = arts[mirror.url(mirror.path(123))]
        assert a.title == "Hội nghị tổng kết công tác số 123"
        assert a.published_at == mirror.published(123)
        assert a.extractor.startswith("profile:nukeviet@")  # chosen by CMS fingerprint
        assert a.text.startswith("Đoạn 1 của bài số 123") and "Tổng số điểm" not in a.text
        assert s.scalars(select(CrawlRun.kind)).all() == ["backfill"]
    engine.dispose()
    # the daemon's next pass finds nothing to do: the feed's 20 are known
    result = CliRunner().invoke(cli, ["--db", sqlite_url, "--config", str(path), "-q", "crawl"])
    assert "big: discovered 0, fetched 0, new 0" in result.output
    assert set(mirror.article_hits().values()) == {1}


def test_backfill_since_stops_at_the_date(
    mirror: BigMirror, tmp_path: Path, sqlite_url: str
) -> None:
    path, _ = setup(mirror, tmp_path, sqlite_url)
    since = mirror.published(450).date().isoformat()
    result = CliRunner().invoke(
        cli, ["--db", sqlite_url, "--config", str(path), "-q", "backfill", "big", "--since", since]
    )
    assert result.exit_code == 0, result.output
    engine = make_engine(sqlite_url)
    with session_factory(engine)() as s:
        published = sorted(s.scalars(select(Article.published_at)))
    engine.dispose()
    wanted = {mirror.published(i) for i in range(450, 501)}
    assert wanted <= set(published)
    # older articles are fetched only from the last listing page walked (20 per page)
    assert len(published) - len(wanted) <= 2 * 20
    assert mirror.hits["/tin-tuc/xa-hoi?page=5"] == 0  # the walk stopped near the date
    # sitemaps last modified before the date were never read
    assert [mirror.hits[f"/sitemap-{k}.xml.gz"] for k in range(5)] == [0, 0, 0, 0, 1]
    assert set(mirror.article_hits().values()) == {1}


@pytest.mark.parametrize("mirror", [200], indirect=True)
def test_backfill_resumes_after_an_interrupt(
    mirror: BigMirror, tmp_path: Path, db_url: str
) -> None:
    _, config = setup(mirror, tmp_path, db_url)
    engine = make_engine(db_url)
    sessions = session_factory(engine)
    site = config.site("big")

    async def interrupted() -> None:
        async with build_fetcher(config) as fetcher:
            task: asyncio.Task[object] | None = None
            done = [0]

            def progress(_site: str, _url: str) -> None:
                done[0] += 1
                if done[0] == 60 and task is not None:
                    task.cancel()  # what Ctrl-C does to the running pass

            crawler = Crawler(fetcher, sessions, on_progress=progress)
            task = asyncio.ensure_future(backfill(crawler, site))
            with pytest.raises(asyncio.CancelledError):
                await task

    asyncio.run(interrupted())
    first = count_rows(db_url)
    assert 55 <= first < 200
    with sessions() as s:  # an interrupted pass is not a site error
        (site_row,) = s.scalars(select(Site)).all()
        assert site_row.error_count == 0 and site_row.last_error is None
        assert s.scalars(select(CrawlRun.finished_at)).one() is not None
    with sessions() as s:  # nothing left leased: the unfetched URLs are due now
        leased = s.scalars(select(Url).where(Url.kind == "article", Url.state == "new")).all()
        assert leased and all(u.next_due is not None for u in leased)

    async def resume() -> None:
        async with build_fetcher(config) as fetcher:
            await backfill(Crawler(fetcher, sessions), site)

    asyncio.run(resume())
    assert count_rows(db_url) == 200
    hits = mirror.article_hits()
    assert len(hits) == 200 and sum(hits.values()) <= 201  # at most the one in flight twice
    engine.dispose()


def test_the_claim_size_follows_the_drains_pace() -> None:
    crawler = Crawler(fetcher=None, sessions=None)  # type: ignore[arg-type]
    assert crawler.lease == timedelta(minutes=15) and crawler.claim_max == 32
    assert crawler._claim_size(timedelta(milliseconds=5)) == 32  # politeness off: the most
    assert crawler._claim_size(timedelta(seconds=5)) == 32  # 45 fit in 225 s
    assert crawler._claim_size(timedelta(seconds=30)) == 7  # a slow host: fewer at once
    assert crawler._claim_size(timedelta(minutes=10)) == 1
    assert crawler._claim_size(timedelta(0)) == 32


@pytest.mark.parametrize("mirror", [120], indirect=True)
def test_a_fast_drain_claims_more_urls_at_once_and_fetches_each_once(
    mirror: BigMirror, tmp_path: Path, sqlite_url: str
) -> None:
    _, config = setup(mirror, tmp_path, sqlite_url)
    engine = make_engine(sqlite_url)
    sizes: list[int] = []

    class Recording(Crawler):
        def _claim(self, site_id: int, limit: int = 1) -> list:  # type: ignore[type-arg]
            claimed = super()._claim(site_id, limit)
            sizes.append(len(claimed))
            return claimed

    async def run() -> None:
        async with build_fetcher(config) as fetcher:
            await backfill(Recording(fetcher, session_factory(engine)), config.site("big"))

    asyncio.run(run())
    # the first claim takes ``pipeline`` URLs; at loopback pace the next ones take the most
    assert sizes[0] == 4 and max(sizes) == 32 and sum(sizes) == 120, sizes
    assert len([n for n in sizes if n]) == 5  # 4, 32, 32, 32, 20: not 30 claims of four
    hits = mirror.article_hits()
    assert len(hits) == 120 and set(hits.values()) == {1}
    assert count_rows(sqlite_url) == 120
    engine.dispose()


@pytest.mark.parametrize("mirror", [30], indirect=True)
def test_daemon_archives_a_new_article_within_one_interval(
    mirror: BigMirror, tmp_path: Path, sqlite_url: str
) -> None:
    _, config = setup(mirror, tmp_path, sqlite_url)
    every = 3.0
    config = dataclasses.replace(
        config, sites=tuple(dataclasses.replace(s, every=every) for s in config.sites)
    )
    engine = make_engine(sqlite_url)
    sessions = session_factory(engine)

    async def scenario() -> float:
        async with build_fetcher(config) as fetcher:
            daemon = Daemon(config, Crawler(fetcher, sessions))
            runner = asyncio.create_task(daemon.run())
            loop = asyncio.get_running_loop()
            try:
                while count_rows(sqlite_url) < 20:  # the feed's newest 20
                    await asyncio.sleep(0.1)
                (new_url,) = mirror.publish()
                published_at = loop.time()
                while True:
                    with sessions() as s:
                        if s.scalar(select(Article.id).where(Article.url == new_url)):
                            return loop.time() - published_at
                    if loop.time() - published_at > 4 * every:
                        raise AssertionError("new article not archived")
                    await asyncio.sleep(0.1)
            finally:
                daemon.stop()
                await runner

    waited = asyncio.run(scenario())
    # the next scheduled pass (at most one interval away) picked it up
    assert waited <= every + 2.0, waited
    engine.dispose()
    assert parse_config(config_text(mirror))  # the file form stays valid


@pytest.mark.parametrize(
    ("mirror", "robots_sitemaps", "expected"),
    [(40, True, 30), (40, False, 20)],
    indirect=["mirror"],
)
def test_scheduled_discovery_reads_the_sitemaps_robots_txt_names(
    mirror: BigMirror, tmp_path: Path, sqlite_url: str, robots_sitemaps: bool, expected: int
) -> None:
    """Feed (newest 20) + robots.txt's sitemap index, within a 30-day horizon: 30 of 40 articles."""
    from datetime import timedelta

    config = parse_config(f"""
[fetch]
min_delay = 0
allow_hosts = ["127.0.0.1"]
[[site]]
name = "big"
base_url = "{mirror.url("/")}"
feeds = ["{mirror.url("/rss.xml")}"]
article_pattern = '-\\d+\\.html$'
horizon = "30d"
robots_sitemaps = {str(robots_sitemaps).lower()}
""")
    engine = make_engine(sqlite_url)
    upgrade(engine)
    sessions = session_factory(engine)
    now = mirror.published(40) + timedelta(days=1)  # the horizon reaches back to article 11

    async def crawl() -> int:
        async with build_fetcher(config) as fetcher:
            stats = await Crawler(fetcher, sessions, clock=lambda: now).crawl_site(config.sites[0])
            return stats.discovered

    assert asyncio.run(crawl()) == expected
    assert count_rows(sqlite_url) == expected
    assert (mirror.hits["/sitemap.xml"] == 1) is robots_sitemaps
    assert set(mirror.article_hits().values()) == {1}
    engine.dispose()
