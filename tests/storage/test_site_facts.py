"""The facts a site's status is judged from, read from real databases (db_url runs both), and
how a pass's end changes them: failing streaks, successes, idle passes that leave no row."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from scraper.types import Article
from storage import frontier, repo
from storage.db import make_engine, session_factory, upgrade
from storage.frontier import NewUrl
from storage.models import CrawlRun, Site, Url
from storage.site_facts import site_facts

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _fetch_article(s: Session, site_id: int, url: str, when: datetime, **fields: object) -> None:
    frontier.enqueue(s, site_id, [NewUrl(url)], now=when - HOUR)
    row = s.scalars(select(Url).where(Url.url == url)).one()
    article = Article(url=url, text=f"Nội dung {url}", **fields)  # type: ignore[arg-type]
    repo.store_article(
        s, site_id=site_id, article=article, urls={url: "fetched"}, page_id=None, now=when,
        extractor_version="t",
    )  # fmt: skip
    frontier.mark_fetched(
        s, row.id, status=200, etag=None, last_modified=None, now=when, state="fetched",
        next_due=when + 24 * HOUR,
    )  # fmt: skip


def _not_article(s: Session, site_id: int, url: str, when: datetime) -> None:
    frontier.enqueue(s, site_id, [NewUrl(url)], now=when - HOUR)
    row = s.scalars(select(Url).where(Url.url == url)).one()
    frontier.mark_failed(
        s, row.id, error="no article body found", now=when, status=200, next_due=None,
        state="not_article",
    )  # fmt: skip


def test_site_facts_read_every_input_of_the_status(sessions: sessionmaker[Session]) -> None:
    with sessions.begin() as s:
        good = repo.ensure_site(s, "good", "https://good.vn/", NOW - 100 * HOUR).id
        bad = repo.ensure_site(s, "bad", "https://bad.vn/", NOW - 100 * HOUR).id
        repo.ensure_site(s, "new", "https://new.vn/", NOW)
        for i in range(8):  # one an hour, newest 1 h ago; the 8th two days ago
            when = NOW - (i + 1) * HOUR if i < 7 else NOW - 48 * HOUR
            _fetch_article(
                s, good, f"https://good.vn/{i}.html", when, title=f"Bài {i}",
                published_at=when - HOUR, extractor="profile:good@1",
            )  # fmt: skip
        _fetch_article(s, bad, "https://bad.vn/ok.html", NOW - 10 * HOUR, extractor="generic")
        for i in range(3):
            _not_article(s, bad, f"https://bad.vn/{i}.html", NOW - i * HOUR)
        run = repo.start_run(s, bad, "crawl", NOW - 2 * HOUR).id
        counts = {"errors": 7, "not_articles": 3, "error_log": ["https://bad.vn/rss: HTTP 500"]}
        repo.finish_run(s, run, counts, NOW - 2 * HOUR, ok=False)
    with sessions() as s:
        facts = {f.name: f for f in site_facts(s, NOW, rot_window=3)}
    assert list(facts) == ["bad", "good", "new"]
    g, b, n = facts["good"], facts["bad"], facts["new"]
    assert g.articles == 8 and g.articles_24h == 7 and g.articles_7d == 8
    assert g.last_new_article_at == NOW - HOUR and g.last_article_fetch_at == NOW - HOUR
    assert len(g.published) == 8 and g.published[0] == NOW - 2 * HOUR  # newest first
    assert [p.url for p in g.pages] == [f"https://good.vn/{i}.html" for i in range(3)]
    assert all(p.article and p.title and p.date for p in g.pages)
    assert g.pages[0].extractor == "profile:good@1"
    # the rot window: the 3 newest pages, newest first, all without a body
    assert [(p.url, p.article) for p in b.pages] == [
        ("https://bad.vn/0.html", False), ("https://bad.vn/1.html", False),
        ("https://bad.vn/2.html", False),
    ]  # fmt: skip
    # of the pass's 7 errors, 3 were pages that answered with no article: not the site's errors
    assert b.errors_24h == 4 and b.failing_passes == 1 and b.error_count == 4
    assert b.not_articles_24h == 3 and g.not_articles_24h == 0
    assert b.last_error == "https://bad.vn/rss: HTTP 500"
    assert b.last_article_fetch_at == NOW - 10 * HOUR
    with sessions() as s:
        wide = {f.name: f for f in site_facts(s, NOW, rot_window=10)}
    ok = wide["bad"].pages[-1]
    assert (ok.article, ok.title, ok.date, ok.extractor) == (True, False, False, "generic")
    assert n.articles == 0 and n.last_new_article_at is None and n.pages == ()
    with sessions() as s:
        (only,) = site_facts(s, NOW, rot_window=3, names=["bad"])
    assert only == b  # one site's facts, as the daemon reads them after that site's pass


def test_a_good_pass_clears_the_streak_and_an_idle_one_leaves_no_row(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        site = repo.ensure_site(s, "s", "https://s.vn/", NOW).id
        for i in range(2):
            run = repo.start_run(s, site, "crawl", NOW + i * HOUR).id
            repo.finish_run(s, run, {"errors": 1, "error_log": []}, NOW, ok=False)
    with sessions() as s:
        row = s.scalars(select(Site)).one()
        assert (row.failing_passes, row.error_count, row.last_success_at) == (2, 2, None)
    with sessions.begin() as s:
        run = repo.start_run(s, site, "drain", NOW + 3 * HOUR).id
        repo.drop_idle_run(s, run)
        run = repo.start_run(s, site, "drain", NOW + 4 * HOUR).id
        repo.drop_idle_run(s, run)
    with sessions() as s:
        row = s.scalars(select(Site)).one()
        # idle passes judge nothing: the streak stands; they are counted, not listed
        assert (row.failing_passes, row.idle_passes, row.last_success_at) == (2, 2, None)
        assert s.scalar(select(func.count()).select_from(CrawlRun)) == 2
    with sessions.begin() as s:
        run = repo.start_run(s, site, "crawl", NOW + 5 * HOUR).id
        repo.finish_run(s, run, {"errors": 0}, NOW + 5 * HOUR, ok=True)
    with sessions() as s:
        row = s.scalars(select(Site)).one()
        assert (row.failing_passes, row.error_count) == (0, 0)
        assert row.last_success_at == NOW + 5 * HOUR
