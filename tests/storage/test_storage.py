"""The repository on real databases: SQLite file and PostgreSQL (db_url runs both)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import inspect, select

from scraper.fetch import FetchResult
from scraper.types import Article, Image
from storage import bodies, frontier, repo
from storage.db import (
    check_schema,
    current_revision,
    head_revision,
    make_engine,
    session_factory,
    upgrade,
)
from storage.dedup import content_hash
from storage.models import Article as ArticleRow
from storage.models import ArticleUrl, ArticleVersion, Page, Url

NOW = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)


@pytest.fixture
def sessions(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    yield session_factory(engine)
    engine.dispose()


def _article(url: str, text: str = "Đoạn một.\n\nĐoạn hai.", title: str = "Tiêu đề bài") -> Article:
    return Article(
        url=url,
        title=title,
        text=text,
        sapo="Sapo",
        authors=["KHÁNH CHI"],
        tags=["lao động"],
        images=[Image("https://x.vn/a.jpg", "Chú thích")],
        published_at=datetime(2026, 3, 7, 8, 0, tzinfo=timezone(timedelta(hours=7))),
    )


def test_migrations_are_idempotent_and_create_the_documented_tables(db_url: str) -> None:
    engine = make_engine(db_url)
    with pytest.raises(Exception, match=r"run 'vnnews --db \S+ db upgrade'"):
        check_schema(engine)
    upgrade(engine)
    upgrade(engine)
    check_schema(engine)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {
        "sites",
        "urls",
        "pages",
        "articles",
        "article_urls",
        "article_versions",
        "crawl_runs",
    } <= tables
    cols = {c["name"] for c in inspect(engine).get_columns("articles")}
    assert {
        "id",
        "url",
        "canonical_url",
        "title",
        "sapo",
        "text",
        "published_at",
        "updated_at",
        "authors",
        "category",
        "tags",
        "images",
        "content_hash",
        "first_seen",
        "last_seen",
        "extractor_version",
    } <= cols
    engine.dispose()


def test_enqueue_is_idempotent_and_claim_leases(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site = repo.ensure_site(s, "demo", "https://demo.vn/", NOW)
        items = [frontier.NewUrl(f"https://demo.vn/a-{i}.html") for i in range(5)]
        assert frontier.enqueue(s, site.id, items, now=NOW, priority=30) == 5
        assert (
            frontier.enqueue(
                s, site.id, [*items, frontier.NewUrl("https://demo.vn/new.html")], now=NOW
            )
            == 1
        )
        site_id = site.id
    with sessions.begin() as s:
        first = frontier.claim_due(s, site_id, now=NOW, limit=4, lease=timedelta(minutes=15))
        assert [u.priority for u in first] == [30, 30, 30, 30]
    with sessions.begin() as s:
        # leased URLs are not handed out again until the lease runs out
        second = frontier.claim_due(s, site_id, now=NOW, limit=10, lease=timedelta(minutes=15))
        assert len(second) == 2
        assert not {u.url for u in first} & {u.url for u in second}
        assert (
            frontier.claim_due(
                s, site_id, now=NOW + timedelta(minutes=1), limit=10, lease=timedelta(minutes=15)
            )
            == []
        )
        later = frontier.claim_due(
            s, site_id, now=NOW + timedelta(minutes=16), limit=10, lease=timedelta(minutes=15)
        )
        assert len(later) == 6


LEASE = timedelta(minutes=15)


def test_an_archived_article_whose_lastmod_moved_past_its_fetch_is_due_again(sessions) -> None:  # type: ignore[no-untyped-def]
    url = "https://demo.vn/a-1.html"
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        frontier.enqueue(s, site_id, [frontier.NewUrl(url)], now=NOW)
        row_id = s.scalars(select(Url.id).where(Url.url == url)).one()
        frontier.mark_fetched(
            s, row_id, status=200, etag=None, last_modified=None, now=NOW, state="fetched"
        )
    later = NOW + timedelta(days=9)

    def refetch(lastmod: datetime) -> int:
        with sessions.begin() as s:
            return frontier.refetch_changed(
                s, site_id, [frontier.NewUrl(url, lastmod=lastmod)], now=later, lease=LEASE
            )

    assert refetch(NOW - timedelta(hours=1)) == 0  # changed before the fetch
    assert refetch(NOW + timedelta(minutes=30)) == 0  # within the slack: a clock slightly off
    assert refetch(later + timedelta(days=1)) == 0  # a lastmod in the future is no evidence
    with sessions.begin() as s:  # due, and leased to a worker: it is being fetched already
        frontier.mark_fetched(
            s, row_id, status=200, etag=None, last_modified=None, now=NOW, state="fetched",
            next_due=later,
        )  # fmt: skip
        assert len(frontier.claim_due(s, site_id, now=later, limit=1, lease=LEASE)) == 1
    assert refetch(NOW + timedelta(days=2)) == 0
    with sessions.begin() as s:
        frontier.mark_fetched(
            s, row_id, status=200, etag=None, last_modified=None, now=NOW, state="fetched"
        )
    assert refetch(NOW + timedelta(days=2)) == 1
    with sessions() as s:
        assert s.scalars(select(Url.next_due).where(Url.id == row_id)).one() == later
    assert refetch(NOW + timedelta(days=2)) == 0  # already due


def test_store_article_dedups_by_normalized_content(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        first = repo.store_article(
            s,
            site_id=site_id,
            article=_article("https://demo.vn/a.html"),
            urls={"https://demo.vn/a.html": "fetched"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
        assert first.outcome == "new"
        again = repo.store_article(
            s,
            site_id=site_id,
            article=_article("https://demo.vn/a.html"),
            urls={"https://demo.vn/a.html": "fetched"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
        assert again == repo.Stored("unchanged", first.article_id)
        # the same story, old-style tone marks, NBSP and other case, under another URL: an alias
        copy = _article(
            "https://demo.vn/copy.html", text="ĐOẠN MỘT.\u00a0\n\nĐoạn  hai.", title="Tiêu đề bài"
        )
        dup = repo.store_article(
            s,
            site_id=site_id,
            article=copy,
            urls={"https://demo.vn/copy.html": "fetched"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
        assert dup == repo.Stored("duplicate", first.article_id)
        assert s.scalar(select(ArticleRow).where(ArticleRow.id == first.article_id)) is not None
        assert len(s.scalars(select(ArticleRow)).all()) == 1
        assert {u.url for u in repo.article_urls(s, first.article_id)} == {
            "https://demo.vn/a.html",
            "https://demo.vn/copy.html",
        }
        # another site's copy naming the original as rel=canonical is a duplicate too: its
        # fetched URL is new; fetched again at that URL, it is unchanged
        mirror = {"https://mirror.vn/b.html": "fetched", "https://demo.vn/a.html": "canonical"}
        for outcome in ("duplicate", "unchanged"):
            stored = repo.store_article(
                s,
                site_id=site_id,
                article=_article("https://mirror.vn/b.html"),
                urls=mirror,
                page_id=None,
                now=NOW,
                extractor_version="t",
            )
            assert stored == repo.Stored(outcome, first.article_id)
        # an edit at a known URL: same article, new content hash, a second version
        edited = _article("https://demo.vn/a.html", text="Đoạn một, đã sửa.\n\nĐoạn hai.")
        changed = repo.store_article(
            s,
            site_id=site_id,
            article=edited,
            urls={"https://demo.vn/a.html": "fetched"},
            page_id=None,
            now=NOW + timedelta(hours=1),
            extractor_version="t",
        )
        assert changed == repo.Stored("changed", first.article_id)
        row = s.get_one(ArticleRow, first.article_id)
        assert row.text.startswith("Đoạn một, đã sửa.")
        assert row.content_hash == content_hash(edited.title, edited.text)
        assert len(s.scalars(select(ArticleVersion)).all()) == 2


def test_hash_folds_tone_marks_case_and_spacing() -> None:
    assert content_hash("Thủy lợi", "Hòa  bình\u00a0") == content_hash("THUỶ LỢI", "Hoà bình")
    assert content_hash("Thủy lợi", "Hòa bình") != content_hash("Thủy lợi", "Hòa bình.")


def test_datetimes_round_trip_as_aware_utc(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        stored = repo.store_article(
            s,
            site_id=site_id,
            article=_article("https://demo.vn/t.html"),
            urls={"https://demo.vn/t.html": "fetched"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
    with sessions() as s:
        row = s.get_one(ArticleRow, stored.article_id)
        assert row.published_at == datetime(2026, 3, 7, 1, 0, tzinfo=UTC)
        assert row.published_at.tzinfo is not None and row.published_at.utcoffset() == timedelta(0)
        assert row.images == [{"url": "https://x.vn/a.jpg", "caption": "Chú thích"}]
        assert row.authors == ["KHÁNH CHI"]


def test_raw_pages_are_compressed_and_restorable(sessions) -> None:  # type: ignore[no-untyped-def]
    body = ("<html><body>" + "<p>Tin tức Lào Cai</p>" * 2000 + "</body></html>").encode()
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        frontier.enqueue(s, site_id, [frontier.NewUrl("https://demo.vn/p.html")], now=NOW)
        url_id = s.scalars(select(Url.id)).one()
        fetched = FetchResult(
            url="https://demo.vn/p.html",
            final_url="https://demo.vn/p.html",
            status=200,
            redirects=(),
            elapsed=0.0,
            headers={"content-type": "text/html"},
            body=body,
            fetched_at=NOW,
        )
        page_id = bodies.record_page(s, fetched, url_id=url_id)
    with sessions() as s:
        page = s.get_one(Page, page_id)
        assert page.body_zstd is not None and len(page.body_zstd) < len(body) / 20
        assert bodies.page_body(page) == body
        assert page.body_size == len(body)
        assert repo.stats(s)["raw_bytes"] == len(body)


def test_a_body_is_stored_once_and_after_compaction_with_its_sites_dictionary(sessions) -> None:  # type: ignore[no-untyped-def]
    from storage.maintenance import build_dicts
    from storage.packing import pack_body

    def page(i: int) -> bytes:
        return (
            f"<html><body><h1>Bài {i}</h1>{'<p>Tin tức Lào Cai</p>' * 300}</body></html>".encode()
        )

    def fetched(url: str, body: bytes) -> FetchResult:
        return FetchResult(
            url=url, final_url=url, status=200, redirects=(), elapsed=0.0,
            headers={"content-type": "text/html"}, body=body, fetched_at=NOW,
        )  # fmt: skip

    urls = [f"https://demo.vn/{i}.html" for i in range(4)]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        frontier.enqueue(s, site_id, [frontier.NewUrl(u) for u in urls], now=NOW)
        ids = dict(s.execute(select(Url.url, Url.id)).all())
        first = bodies.record_page(s, fetched(urls[0], page(0)), url_id=ids[urls[0]])
        again = bodies.record_page(
            s, fetched(urls[0], page(0)), url_id=ids[urls[0]], packed=pack_body(page(0))
        )
        other = bodies.record_page(s, fetched(urls[1], page(1)), url_id=ids[urls[1]])
        assert build_dicts(s, NOW) == {site_id: 2}
        # after compaction a new body is packed with the site's dictionary, even when the
        # crawler packed it without one already
        later = bodies.record_page(
            s, fetched(urls[2], page(2)), url_id=ids[urls[2]], packed=pack_body(page(2))
        )
        # and a body stored already is not stored again, dictionary or not
        same = bodies.record_page(s, fetched(urls[3], page(1)), url_id=ids[urls[3]])
    with sessions() as s:
        rows = {i: s.get_one(Page, i) for i in (first, again, other, later, same)}
        assert rows[first].body_zstd is not None and rows[again].body_zstd is None
        assert rows[same].body_zstd is None and rows[same].body_dict_id is None
        assert rows[later].body_dict_id is not None and rows[later].body_zstd is not None
        assert rows[later].body_zstd != pack_body(page(2)).zstd
        for i, body in ((first, page(0)), (again, page(0)), (other, page(1)), (later, page(2)),
                        (same, page(1))):  # fmt: skip
            assert bodies.page_body(rows[i]) == body


def test_naive_datetimes_are_refused(sessions) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Exception, match="naive datetime"), sessions.begin() as s:
        repo.ensure_site(s, "demo", "https://demo.vn/", datetime(2026, 1, 1))


def test_unique_url_per_article(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        a = repo.store_article(
            s,
            site_id=site_id,
            article=_article("https://demo.vn/1.html", text="Một"),
            urls={"https://demo.vn/1.html": "fetched", "https://demo.vn/c.html": "canonical"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
        b = repo.store_article(
            s,
            site_id=site_id,
            article=_article("https://demo.vn/2.html", text="Hai"),
            urls={"https://demo.vn/2.html": "fetched"},
            page_id=None,
            now=NOW,
            extractor_version="t",
        )
        assert a.article_id != b.article_id
        assert len(s.scalars(select(ArticleUrl)).all()) == 3


def _store(
    s,
    site_id: int,
    url: str,
    text: str,
    urls: dict[str, str] | None = None,  # type: ignore[no-untyped-def]
    now: datetime = NOW,
) -> repo.Stored:
    return repo.store_article(
        s,
        site_id=site_id,
        article=_article(url, text=text),
        urls=urls or {url: "fetched"},
        page_id=None,
        now=now,
        extractor_version="t",
    )


def test_an_edit_reverted_to_an_earlier_content_is_stored(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        first = _store(s, site_id, "https://demo.vn/a.html", "Bản đầu.")
        assert _store(s, site_id, "https://demo.vn/a.html", "Bản sửa.").outcome == "changed"
    # the publisher undoes the edit: the article takes the first content back
    with sessions.begin() as s:
        reverted = _store(
            s, site_id, "https://demo.vn/a.html", "Bản đầu.", now=NOW + timedelta(hours=6)
        )
        assert reverted == repo.Stored("changed", first.article_id)
    with sessions() as s:
        assert s.get_one(ArticleRow, first.article_id).text == "Bản đầu."
        assert len(repo.article_versions(s, first.article_id)) == 2


def test_a_canonical_url_of_another_article_does_not_overwrite_it(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        home = _store(s, site_id, "https://demo.vn/", "Trang chủ.")
        # a CMS whose every page says rel=canonical → the home page
        story = _store(
            s,
            site_id,
            "https://demo.vn/b.html",
            "Bài mới.",
            {"https://demo.vn/b.html": "fetched", "https://demo.vn/": "canonical"},
        )
        assert story.outcome == "new" and story.article_id != home.article_id
    with sessions() as s:
        assert s.get_one(ArticleRow, home.article_id).text == "Trang chủ."
        assert [v.text for v in repo.article_versions(s, home.article_id)] == ["Trang chủ."]


def test_the_fetched_url_decides_which_article_changed(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, "demo", "https://demo.vn/", NOW).id
        older = _store(s, site_id, "https://demo.vn/old.html", "Bài cũ.")
        mine = _store(s, site_id, "https://demo.vn/mine.html", "Bài này.")
        # an edit of mine.html whose redirect target is known as the older article's URL
        edited = _store(
            s,
            site_id,
            "https://demo.vn/mine.html",
            "Bài này, đã sửa.",
            {"https://demo.vn/mine.html": "fetched", "https://demo.vn/old.html": "final"},
        )
        assert edited == repo.Stored("changed", mine.article_id)
    with sessions() as s:
        assert s.get_one(ArticleRow, older.article_id).text == "Bài cũ."
