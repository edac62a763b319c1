"""site_moves and article_events on real databases (SQLite and PostgreSQL): a move is one row
however often it is seen, and a known article's URL turning into a notice keeps the article."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from scraper.types import Article
from storage import moves, repo
from storage.models import Article as ArticleRow
from storage.models import ArticleEvent, ArticleUrl, ArticleVersion
from tests.support.archive import migrated

NOW = datetime(2025, 7, 1, 1, 0, tzinfo=UTC)
STORY = " ".join(
    f"Câu {i}: tỉnh Bình Phước khánh thành cầu mới nối hai huyện biên giới." for i in range(40)
)
NOTICE = "Báo Bình Phước đã sáp nhập vào Báo Đồng Nai. Mời bạn đọc truy cập địa chỉ mới."


@pytest.fixture
def sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    engine, factory = migrated(db_url)
    yield factory
    engine.dispose()


def test_a_move_is_one_row_seen_again_and_the_latest_is_where_the_site_is(
    sessions: sessionmaker[Session],
) -> None:
    with sessions.begin() as s:
        site = repo.ensure_site(s, "baobinhphuoc", "https://baobinhphuoc.com.vn/", NOW).id
        other = repo.ensure_site(s, "baolangson", "https://baolangson.vn/", NOW).id
        assert moves.latest_move(s, site) is None
        first = moves.record_move(
            s, site, from_host="baobinhphuoc.com.vn", to_host="www.baodongnai.com.vn",
            evidence_url="https://baobinhphuoc.com.vn/rss/home.rss", source_kind="feed", now=NOW,
        )  # fmt: skip
        assert first
    later = NOW + timedelta(days=3)
    with sessions.begin() as s:
        again = moves.record_move(
            s, site, from_host="baobinhphuoc.com.vn", to_host="www.baodongnai.com.vn",
            evidence_url="https://baobinhphuoc.com.vn/news/1/2/x", source_kind="article",
            now=later,
        )  # fmt: skip
        assert not again
    with sessions() as s:
        move = moves.latest_move(s, site)
        assert move is not None
        assert (move.to_host, move.since, move.last_seen) == ("www.baodongnai.com.vn", NOW, later)
        # the first sighting is the evidence
        assert (move.source_kind, move.evidence_url) == (
            "feed",
            "https://baobinhphuoc.com.vn/rss/home.rss",
        )
        assert moves.moved_domains(s, site) == {"baodongnai.com.vn"}
        assert moves.latest_move(s, other) is None
        assert set(moves.latest_moves_by_name(s)) == {"baobinhphuoc"}


def _store(s: Session, site_id: int, url: str, title: str, text: str) -> repo.Stored:
    article = Article(url=url, title=title, text=text)
    return repo.store_article(
        s, site_id=site_id, article=article, urls={url: "fetched"}, page_id=None, now=NOW,
        extractor_version="t",
    )  # fmt: skip


def test_a_notice_at_a_known_url_keeps_the_article_and_an_edit_changes_it(
    sessions: sessionmaker[Session],
) -> None:
    url = "https://baobinhphuoc.com.vn/news/32/153777/cau-moi"
    with sessions.begin() as s:
        site = repo.ensure_site(s, "baobinhphuoc", "https://baobinhphuoc.com.vn/", NOW).id
        assert _store(s, site, url, "Khánh thành cầu mới", STORY).outcome == "new"
    with sessions.begin() as s:
        stored = _store(s, site, url, "Thông báo", NOTICE)
        assert stored.outcome == "notice"
    with sessions() as s:
        row = s.scalars(select(ArticleRow)).one()
        assert (row.title, row.text) == ("Khánh thành cầu mới", STORY)
        (event,) = s.scalars(select(ArticleEvent)).all()
        assert (event.article_id, event.url, event.kind) == (row.id, url, "notice")
        assert "đã sáp nhập" in (event.detail or "")
        assert len(s.scalars(select(ArticleVersion)).all()) == 1
    # a real edit (a corrected sentence) still updates the article
    edited = STORY.replace("Câu 3:", "Câu 3 (đã sửa):")
    with sessions.begin() as s:
        assert _store(s, site, url, "Khánh thành cầu mới", edited).outcome == "changed"
    with sessions() as s:
        assert s.scalars(select(ArticleRow.text)).one() == edited
        assert len(s.scalars(select(ArticleVersion)).all()) == 2


def test_events_are_recorded_only_for_urls_of_archived_articles(
    sessions: sessionmaker[Session],
) -> None:
    url = "https://baobinhphuoc.com.vn/news/1/2/x"
    with sessions.begin() as s:
        site = repo.ensure_site(s, "baobinhphuoc", "https://baobinhphuoc.com.vn/", NOW).id
        art = _store(s, site, url, "Tiêu đề", STORY).article_id
    with sessions.begin() as s:
        kept = repo.record_article_event(
            s, url, kind="gone", detail="HTTP 410", page_id=None, now=NOW
        )
        unknown = repo.record_article_event(
            s, "https://baobinhphuoc.com.vn/never-seen", kind="gone", detail=None, page_id=None,
            now=NOW,
        )  # fmt: skip
        assert (kept, unknown) == (art, None)
    with sessions() as s:
        assert [(e.url, e.kind) for e in s.scalars(select(ArticleEvent))] == [(url, "gone")]
        assert s.scalars(select(ArticleUrl.url)).all() == [url]
