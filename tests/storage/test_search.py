"""Search is insensitive to case, tone-mark placement and diacritics, đ included (both databases)."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from scraper.types import Article
from storage import repo
from storage.db import make_engine, session_factory, upgrade
from storage.search import (
    excluded_terms,
    query_terms,
    search,
    search_articles,
    search_key,
    snippet,
)

NOW = datetime(2026, 3, 7, tzinfo=UTC)

STORIES = {
    "dn": ("Đà Nẵng đón khách", "Thành phố Đà Nẵng đón nhiều khách du lịch dịp lễ."),
    "hb": ("Thuỷ điện Hoà Bình", "Nhà máy thủy điện Hòa Bình vận hành an toàn."),
    "lc": ("Lào Cai: lao động việc làm", "Sở Lao động tỉnh Lào Cai tổng kết công tác năm."),
}


@pytest.fixture
def sessions(db_url: str):  # type: ignore[no-untyped-def]
    yield from _archive(db_url)


def _archive(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        a = repo.ensure_site(s, "a", "https://a.vn/", NOW).id
        b = repo.ensure_site(s, "b", "https://b.vn/", NOW).id
        for key, (title, text) in STORIES.items():
            site_id = b if key == "lc" else a
            url = f"https://x.vn/{key}.html"
            repo.store_article(
                s,
                site_id=site_id,
                article=Article(url=url, title=title, text=text),
                urls={url: "fetched"},
                page_id=None,
                now=NOW,
                extractor_version="t",
            )
    yield sessions
    engine.dispose()


def titles(sessions, query: str, **kw: object) -> set[str]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return {a.title for a, _ in search_articles(s, query, **kw)}  # type: ignore[arg-type]


def test_search_folds_case_tones_and_d(sessions) -> None:  # type: ignore[no-untyped-def]
    assert titles(sessions, "da nang") == {"Đà Nẵng đón khách"}
    assert titles(sessions, "ĐÀ NẴNG") == {"Đà Nẵng đón khách"}
    # old and new tone placement (Thuỷ/thủy, Hoà/Hòa) and no marks at all
    assert titles(sessions, "thủy điện hoà bình") == {"Thuỷ điện Hoà Bình"}
    assert titles(sessions, "thuy dien") == {"Thuỷ điện Hoà Bình"}
    # words are ANDed; a quoted phrase must stand together
    assert titles(sessions, "lao dong") == {"Lào Cai: lao động việc làm"}
    assert titles(sessions, '"cai lao"') == {
        "Lào Cai: lao động việc làm"
    }  # "Lào Cai: lao" → phrase across ':'
    assert titles(sessions, '"tong lao"') == set()
    assert titles(sessions, "lao dong", site="a") == set()
    assert titles(sessions, "khach nothere") == set()
    assert titles(sessions, "   ") == set()


def test_search_follows_edits(sessions) -> None:  # type: ignore[no-untyped-def]
    with sessions.begin() as s:
        edited = Article(
            url="https://x.vn/dn.html", title="Đà Nẵng đón khách", text="Hội An cũng đông khách."
        )
        assert (
            repo.store_article(
                s,
                site_id=1,
                article=edited,
                urls={"https://x.vn/dn.html": "fetched"},
                page_id=None,
                now=NOW,
                extractor_version="t",
            ).outcome
            == "changed"
        )
    assert titles(sessions, "hoi an") == {"Đà Nẵng đón khách"}
    assert titles(sessions, "du lich") == set()


def test_query_terms_and_key() -> None:
    assert query_terms('Đà Nẵng "Hòa  Bình"') == ["da", "nang", "hoa binh"]
    assert query_terms('"') == []
    assert search_key("Thuỷ", None, "ĐIỆN") == "thuy dien"


def test_a_word_or_phrase_after_a_minus_is_left_out(sessions) -> None:  # type: ignore[no-untyped-def]
    """``-word`` and ``-"a phrase"`` leave out the articles holding them, folded as every term
    is (``-Hòa`` leaves out "Hoà"); a phrase is left out only as a phrase. Before, the "-" was
    dropped and the word searched for instead."""
    dien = {"Thuỷ điện Hoà Bình"}
    assert titles(sessions, "dien") == dien
    assert titles(sessions, "dien -hoa") == set()
    assert titles(sessions, "thủy -Hòa") == set()
    assert titles(sessions, 'dien -"hoa binh"') == set()
    assert titles(sessions, 'dien -"binh hoa"') == dien  # not these words in this order
    assert titles(sessions, "dien -lao -nang") == dien
    assert titles(sessions, "lao -dong") == set()
    assert query_terms('chung khoan -FLC -"giá vàng" Covid-19') == ["chung", "khoan", "covid 19"]
    assert excluded_terms('chung khoan -FLC -"giá vàng" Covid-19') == ["flc", "gia vang"]
    assert excluded_terms("a -- -") == []


def test_sqlite_index_is_visible_to_any_sqlite_tool(sqlite_url: str) -> None:
    # what Datasette and the sqlite3 shell see: a plain FTS5 table over articles
    for _ in _archive(sqlite_url):
        pass
    conn = sqlite3.connect(sqlite_url.removeprefix("sqlite:///"))
    rows = conn.execute(
        "select a.title from articles a join articles_fts f on f.rowid = a.id where articles_fts match 'nang'"
    ).fetchall()
    conn.close()
    assert rows == [("Đà Nẵng đón khách",)]


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '""',
        '"da nang',
        'da" OR "lao',
        "da OR lao",
        "NOT da",
        "da AND NOT nang",
        "NEAR(da nang)",
        "title:da",
        "search_text:lao",
        "da*",
        "^da",
        "{title} : da",
        "da + nang",
        "'; drop table articles; --",
        "lao_dong",
        "100%",
        r"a\b",
    ],
)
def test_fts_operators_in_a_query_are_plain_words(sessions, query: str) -> None:  # type: ignore[no-untyped-def]
    # the query is folded to words before it reaches MATCH or LIKE: FTS5 syntax cannot break out
    keys = {title: f" {search_key(title, text)} " for title, text in STORIES.values()}
    terms = query_terms(query)
    expected = {
        title for title, key in keys.items() if terms and all(f" {t} " in key for t in terms)
    }
    assert titles(sessions, query) == expected  # the same on SQLite (FTS5) and PostgreSQL (LIKE)
    assert titles(sessions, "da OR lao") == set()  # OR is a word here, and no story has it


RANKED = {
    # "đa năng" (multi-purpose) folds to the same words as "Đà Nẵng"
    "multi": ("Nhà văn hóa đa năng", "Xã xây nhà văn hóa đa năng cho bà con. Đa năng và tiện lợi."),
    "once": ("Tin tổng hợp", "Hội nghị ở Hà Nội. Đoàn công tác cũng ghé Đà Nẵng một ngày."),
    "many": (
        "Đà Nẵng mùa lễ hội",
        "Đà Nẵng đông khách. Pháo hoa Đà Nẵng rực rỡ. Người dân Đà Nẵng vui mừng.",
    ),
}


@pytest.fixture
def ranked(db_url: str):  # type: ignore[no-untyped-def]
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    with sessions.begin() as s:
        site = repo.ensure_site(s, "a", "https://a.vn/", NOW).id
        for i, (key, (title, text)) in enumerate(RANKED.items()):
            url = f"https://a.vn/{key}.html"
            published = datetime(2026, 3, 1 + i, 8, tzinfo=UTC)
            repo.store_article(
                s,
                site_id=site,
                article=Article(url=url, title=title, text=text, published_at=published),
                urls={url: "fetched"},
                page_id=None,
                now=NOW,
                extractor_version="t",
            )
    yield sessions
    engine.dispose()


def keys(sessions, query: str, **kw: object) -> list[str]:  # type: ignore[no-untyped-def]
    with sessions() as s:
        return [h.article.url.rsplit("/", 1)[1][:-5] for h in search(s, query, **kw)]  # type: ignore[arg-type]


def test_ranking_bm25_then_exact_accents_first(ranked) -> None:  # type: ignore[no-untyped-def]
    # typed without marks: the database's ranking alone; the story saying it most comes first
    plain = keys(ranked, "da nang")
    assert set(plain) == {"multi", "once", "many"}
    assert plain[0] == "many"
    # typed with marks: the articles holding "Đà Nẵng" come before "đa năng"
    accented = keys(ranked, "Đà Nẵng")
    assert accented[:2] == ["many", "once"] and accented[2] == "multi"
    assert keys(ranked, "đa năng")[0] == "multi"
    assert keys(ranked, "đa năng", limit=1) == ["multi"]


def test_snippets_highlight_the_matched_words_in_the_original_text(ranked) -> None:  # type: ignore[no-untyped-def]
    with ranked() as s:
        hits = {h.article.url.rsplit("/", 1)[1]: h for h in search(s, "ha noi")}
        assert list(hits) == ["once.html"]
        assert hits["once.html"].snippet == (
            "Hội nghị ở **Hà** **Nội**. Đoàn công tác cũng ghé Đà Nẵng một ngày."
        )
        # a phrase is highlighted as a whole, diacritics and đ folded
        (hit,) = search(s, '"doan cong tac"')
        assert "**Đoàn** **công** **tác**" in hit.snippet
        # a title-only match shows the title
        (hit,) = search(s, "le hoi")
        assert hit.snippet == "Đà Nẵng mùa **lễ** **hội**"


def test_phrase_and_since_until(ranked) -> None:  # type: ignore[no-untyped-def]
    assert keys(ranked, '"nang da"') == []  # not adjacent in that order anywhere
    assert set(keys(ranked, '"van hoa da nang"')) == {"multi"}
    assert set(keys(ranked, "da nang", since=datetime(2026, 3, 2, tzinfo=UTC))) == {"once", "many"}
    assert set(keys(ranked, "da nang", until=datetime(2026, 3, 2, 12, tzinfo=UTC))) == {
        "multi",
        "once",
    }


def test_snippet_is_a_window_around_the_densest_match() -> None:
    body = " ".join(f"w{i}" for i in range(100)) + " Lào Cai mưa lớn ở Lào Cai " + "cuối " * 50
    out = snippet(body, ["lao cai"], width=12)
    assert out.startswith("… ") and out.endswith(" …")
    assert out.count("**Lào** **Cai**") == 2
    assert snippet("Không có gì", ["lao"]) == "Không có gì"
    assert snippet("", ["lao"]) == ""


def test_words_standing_together_come_before_words_scattered(db_url: str) -> None:
    # "đã" ... "năng" far apart fold to "da" and "nang" too: a match, but after the phrase
    engine = make_engine(db_url)
    upgrade(engine)
    sessions = session_factory(engine)
    stories = {
        "scattered": ("Điện năng tăng", "Sản lượng điện năng đã tăng mạnh so với năm ngoái."),
        "place": ("Du lịch miền Trung", "Khách quốc tế đến Da Nang tăng gấp đôi trong quý."),
    }
    with sessions.begin() as s:
        site = repo.ensure_site(s, "a", "https://a.vn/", NOW).id
        for key, (title, text) in stories.items():
            url = f"https://a.vn/{key}.html"
            repo.store_article(
                s, site_id=site, article=Article(url=url, title=title, text=text),
                urls={url: "fetched"}, page_id=None, now=NOW, extractor_version="t",
            )  # fmt: skip
    assert keys(sessions, "da nang") == ["place", "scattered"]
    assert keys(sessions, '"da nang"') == ["place"]  # quoted: the phrase only
    engine.dispose()
