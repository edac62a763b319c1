"""Migration 0004 on an archive written before it: escaped JSON becomes readable, the FTS
table is re-declared the way Datasette detects and still finds old articles, SimHash filled."""

from __future__ import annotations

import sqlite3

from storage.db import make_engine, upgrade
from storage.search import search_key

TEXT = "Thành phố Đà Nẵng đón nhiều khách du lịch dịp lễ, các khách sạn kín phòng. " * 8


def test_old_rows_are_rewritten_and_indexed(sqlite_url: str) -> None:
    engine = make_engine(sqlite_url)
    upgrade(engine, "0003")
    path = sqlite_url.removeprefix("sqlite:///")
    conn = sqlite3.connect(path)
    conn.execute(
        "insert into sites(name, base_url, added_at, error_count) "
        "values ('a', 'https://a.vn/', '2026-01-01 00:00:00', 0)"
    )
    conn.execute(
        "insert into articles(site_id, url, title, text, authors, tags, images, content_hash, "
        "first_seen, last_seen, extractor_version, extractor, search_text) values "
        "(1, 'https://a.vn/1', 'Đà Nẵng', ?, ?, '[]', '[]', 'h', '2026-01-01 00:00:00', "
        "'2026-01-01 00:00:00', 'x', 'generic', ?)",
        (TEXT, '["H\\u00e0 Thu"]', search_key("Đà Nẵng", TEXT)),
    )
    conn.commit()
    conn.close()
    upgrade(engine)
    engine.dispose()
    conn = sqlite3.connect(path)
    assert conn.execute("select authors from articles").fetchone() == ('["Hà Thu"]',)
    assert conn.execute("select simhash is not null from articles").fetchone() == (1,)
    sql = conn.execute("select sql from sqlite_master where name = 'articles_fts'").fetchone()[0]
    assert 'content="articles"' in sql  # what Datasette's detect_fts looks for
    hits = conn.execute("select rowid from articles_fts where articles_fts match 'da nang'")
    assert hits.fetchall() == [(1,)]
    assert conn.execute("select site, title from latest_articles").fetchall() == [("a", "Đà Nẵng")]
    conn.close()
