"""A provincial paper that moves: its old domain (127.0.0.1) starts redirecting to the merged
paper's (127.0.0.3). Real sockets, real pages, `vnnews` as a user runs it, SQLite and PostgreSQL.

First the old site is archived as it was; then its feed and an article 301 to the new host and
another article turns into a merger notice. With ``follow_moves = false`` the move is recorded and
nothing is asked of the new host; with ``true`` the site's stories are archived once, under the
site, with their old and new URLs.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import select, update

from storage import moves
from storage.db import make_engine, session_factory
from storage.models import Article, ArticleEvent, ArticleUrl, Site, SiteMove, Url
from tests.support.loopback import LoopbackServer, Response
from tests.support.mirror import MirrorSite
from tests.support.paths import golden
from tests.support.sites import TT_PAGES, VNX_PAGES, invoke

# (path on the old host, path on the new host, fixture): three real stories
A = ("/news/1/100/a.html", "/tin/a-100.html", VNX_PAGES[0][1])
B = ("/news/1/101/b.html", "/tin/b-101.html", VNX_PAGES[1][1])
C = (None, "/tin/c-102.html", TT_PAGES[0][1])
NOTICE = (
    "<html><head><title>Thông báo</title></head><body><h1>Thông báo</h1>"
    "<p>Từ ngày 1/7/2025, Báo Bình Phước đã sáp nhập vào Báo Đồng Nai. Mời bạn đọc truy cập "
    "địa chỉ mới để theo dõi tin tức.</p></body></html>"
).encode()


@pytest.fixture
def hosts() -> Iterator[tuple[MirrorSite, MirrorSite]]:
    old = MirrorSite(LoopbackServer("127.0.0.1")).start()
    new = MirrorSite(LoopbackServer("127.0.0.3")).start()
    for old_path, new_path, fixture in (A, B):
        old.real_page(old_path, fixture)
        old.add_item(old_path, str(golden(fixture)["title"]))
        new.real_page(new_path, fixture)
        new.add_item(new_path, str(golden(fixture)["title"]))
    new.real_page(C[1], C[2])
    new.add_item(C[1], str(golden(C[2])["title"]))
    try:
        yield old, new
    finally:
        old.stop()
        new.stop()


def config(path: Path, old: MirrorSite, new: MirrorSite, extra: str = "") -> Path:
    path.write_text(
        f"""
[fetch]
min_delay = 0
timeout = "10s"
allow_hosts = ["127.0.0.1", "127.0.0.3"]
max_retries = 0

[[site]]
name = "oldpaper"
base_url = "{old.base_url}"
feeds = ["{old.url("/rss.xml")}"]
article_pattern = '\\.html$'
{extra}
""",
        encoding="utf-8",
    )
    return path


def move(old: MirrorSite, new: MirrorSite) -> None:
    """1 July: the old feed and story A redirect to the merged paper, story B is a notice."""
    old.server.routes["/rss.xml"] = Response(status=301, headers={"location": new.url("/rss.xml")})
    old.server.routes[A[0]] = Response(status=301, headers={"location": new.url(A[1])})
    old.server.routes[B[0]] = Response(NOTICE, headers={"content-type": "text/html; charset=utf-8"})


def archive_before_the_move(db_url: str, path: Path) -> dict[str, tuple[int, str]]:
    """Crawl the old site as it was; then its stories come due for a recrawl. url → (id, text)."""
    assert invoke(db_url, path, "db", "upgrade")[0] == 0
    code, out = invoke(db_url, path, "crawl")
    assert code == 0 and "oldpaper: discovered 2, fetched 2, new 2" in out, out
    engine = make_engine(db_url)
    with session_factory(engine).begin() as s:
        before = {a.url: (a.id, a.text) for a in s.scalars(select(Article))}
        s.execute(update(Url).where(Url.kind == "article").values(next_due=datetime.now(UTC)))
    engine.dispose()
    return before


def test_a_moved_site_not_followed_is_flagged_and_keeps_its_archive(
    db_url: str, hosts: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    old, new = hosts
    path = config(tmp_path / "sources.toml", old, new)
    before = archive_before_the_move(db_url, path)
    move(old, new)

    code, out = invoke(db_url, path, "crawl")
    assert code == 0, out
    assert not new.server.seen, [s.path for s in new.server.seen]  # nothing asked of the new host

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        site = s.scalars(select(Site)).one()
        rows = s.scalars(select(SiteMove)).all()
        assert [(m.from_host, m.to_host) for m in rows] == [("127.0.0.1", "127.0.0.3")]
        assert rows[0].source_kind == "feed" and rows[0].evidence_url == old.url("/rss.xml")
        latest = moves.latest_move(s, site.id)
        assert latest is not None and latest.to_host == "127.0.0.3"
        # nothing archived changed: same articles, same text
        after = {a.url: (a.id, a.text) for a in s.scalars(select(Article))}
        assert after == before
        states = {u.url: (u.state, u.last_error or "") for u in s.scalars(select(Url))}
        assert states[old.url("/rss.xml")][0] == "moved"
        assert states[old.url(A[0])][0] == "moved"
        assert new.url(A[1]) in states[old.url(A[0])][1]
        assert not any(u.startswith(new.base_url) for u in states)  # nothing enqueued there
        assert states[old.url(B[0])][0] == "not_article"
        events = {(e.url, e.kind) for e in s.scalars(select(ArticleEvent))}
        assert (old.url(A[0]), "moved") in events
        assert any(url == old.url(B[0]) and kind in ("notice", "no_body") for url, kind in events)
    engine.dispose()

    code, out = invoke(db_url, path, "sites")
    assert code == 0 and "moved → 127.0.0.3 since" in out, out
    # the move is seen again on the next pass: one row, its last sighting moves on
    assert invoke(db_url, path, "crawl")[0] == 0
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        (row,) = s.scalars(select(SiteMove)).all()
        assert row.last_seen > row.first_seen
    engine.dispose()
    assert not new.server.seen


def test_a_moved_site_followed_is_archived_once_with_old_and_new_urls(
    db_url: str, hosts: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    old, new = hosts
    path = config(tmp_path / "sources.toml", old, new, "follow_moves = true")
    before = archive_before_the_move(db_url, path)
    move(old, new)

    code, out = invoke(db_url, path, "crawl")
    assert code == 0, out
    assert new.server.requests_for(C[1])  # the new host's own story was fetched

    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        site = s.scalars(select(Site)).one()
        arts = s.scalars(select(Article)).all()
        assert len(arts) == 3 and {a.site_id for a in arts} == {site.id}
        by_id = {a.id: a for a in arts}
        urls: dict[int, set[str]] = {}
        for u in s.scalars(select(ArticleUrl)):
            urls.setdefault(u.article_id, set()).add(u.url)
        a_id, a_text = before[old.url(A[0])]
        assert {old.url(A[0]), new.url(A[1])} <= urls[a_id]  # one story, both addresses
        assert by_id[a_id].text == a_text  # the same story under its new URL: no new version
        b_id, b_text = before[old.url(B[0])]
        assert by_id[b_id].text == b_text  # the notice did not overwrite it
        assert new.url(B[1]) in urls[b_id]
        c = next(a for a in arts if a.id not in (a_id, b_id))
        assert c.title == golden(C[2])["title"] and new.url(C[1]) in urls[c.id]
        (row,) = s.scalars(select(SiteMove)).all()
        assert (row.from_host, row.to_host, row.source_kind) == ("127.0.0.1", "127.0.0.3", "feed")
    engine.dispose()


def test_backfill_of_a_moved_site_walks_the_old_domain_while_it_answers(
    db_url: str, hosts: tuple[MirrorSite, MirrorSite], tmp_path: Path
) -> None:
    old, new = hosts
    # the old sitemap still answers; story A now redirects, story B is still on the old host
    old.page(
        "/sitemap.xml",
        (
            '<?xml version="1.0" encoding="UTF-8"?>'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{old.url(A[0])}</loc></url><url><loc>{old.url(B[0])}</loc></url>"
            "</urlset>"
        ).encode(),
        "application/xml",
    )
    old.server.routes[A[0]] = Response(status=301, headers={"location": new.url(A[1])})
    path = config(tmp_path / "sources.toml", old, new, f'sitemaps = ["{old.url("/sitemap.xml")}"]')
    assert invoke(db_url, path, "db", "upgrade")[0] == 0
    code, out = invoke(db_url, path, "backfill", "oldpaper")
    assert code == 0, out
    assert not new.server.seen
    engine = make_engine(db_url)
    with session_factory(engine)() as s:
        assert [a.url for a in s.scalars(select(Article))] == [old.url(B[0])]
        state = s.scalars(select(Url.state).where(Url.url == old.url(A[0]))).one()
        assert state == "moved"
        row = s.scalars(select(SiteMove)).one()
        assert (row.to_host, row.source_kind, row.evidence_url) == (
            "127.0.0.3",
            "article",
            old.url(A[0]),
        )
    engine.dispose()
