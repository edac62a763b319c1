"""Near-duplicates: precision and recall on edits of the real articles, and links in the
archive (both databases)."""

from __future__ import annotations

import hashlib
from datetime import UTC, datetime, timedelta

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select, text

from scraper.types import Article
from storage import links, neardup, repo
from storage.dedup import content_hash
from storage.keys import article_keys
from storage.models import Article as ArticleRow
from storage.models import ArticleLink
from storage.search import search_key
from tests.support.archive import migrated
from tests.support.neardup_set import EDITS, pairs, republished, stories

NOW = datetime(2026, 3, 7, tzinfo=UTC)


def test_precision_and_recall_on_edited_real_articles() -> None:
    tp = fp = fn = 0
    for a, b, same in pairs():
        found = neardup.near_duplicates(
            neardup.words_of(a.title, a.sapo, a.text), neardup.words_of(b.title, b.sapo, b.text)
        )
        tp += found and same
        fp += found and not same
        fn += same and not found
    positives = len(stories()) * len(EDITS)
    assert tp + fn == positives >= 70
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.95 and recall >= 0.9, (precision, recall)


def test_simhash_is_stable_signed_and_close_for_small_edits() -> None:
    story = stories()[0]
    h = neardup.article_simhash(story.title, story.sapo, story.text)
    assert h is not None and -(2**63) <= h < 2**63
    assert h == neardup.article_simhash(story.title, story.sapo, story.text)
    copy = republished(story)
    h2 = neardup.article_simhash(copy.title, copy.sapo, copy.text)
    assert h2 is not None and neardup.hamming(h, h2) <= neardup.MAX_DISTANCE
    assert neardup.article_simhash("Ngắn", None, "Chỉ vài chữ.") is None
    assert neardup.candidates(5, [(1, 5), (2, 4), (3, ~5)]) == [(1, 0), (2, 1)]


def _reference_simhash(features: list[str]) -> int:
    """The definition, bit by bit (the column counts of ``neardup.simhash`` must agree)."""
    hashes = [
        int.from_bytes(hashlib.blake2b(f.encode("utf-8"), digest_size=8).digest(), "big")
        for f in set(features)
    ]
    return sum(1 << bit for bit in range(64) if 2 * sum(h >> bit & 1 for h in hashes) > len(hashes))


def test_simhash_agrees_with_its_definition_on_real_articles_and_edge_cases() -> None:
    for story in stories():
        words = neardup.words_of(story.title, story.sapo, story.text)
        features = neardup.shingles(words)
        assert neardup.simhash(features) == _reference_simhash(features)
        key = article_keys(story)
        assert key.simhash == neardup.article_simhash(story.title, story.sapo, story.text)
    for features in ([], ["một"], ["một", "một"], [str(i) for i in range(1025)]):
        assert neardup.simhash(features) == _reference_simhash(features)


@given(st.lists(st.text(max_size=6), max_size=300))
def test_simhash_agrees_with_its_definition(features: list[str]) -> None:
    assert neardup.simhash(features) == _reference_simhash(features)


@given(st.lists(st.text(min_size=1, max_size=4), max_size=40), st.integers(1, 5))
def test_shingles_are_the_runs_of_consecutive_words(words: list[str], size: int) -> None:
    expected = (
        [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
        if len(words) >= size
        else [" ".join(words)]
        if words
        else []
    )
    assert neardup.shingles(words, size) == expected


def _store(s, site_id: int, url: str, title: str, sapo: str, body: str, when: datetime):  # type: ignore[no-untyped-def]
    return repo.store_article(
        s,
        site_id=site_id,
        article=Article(url=url, title=title, sapo=sapo, text=body, published_at=when),
        urls={url: "fetched"},
        page_id=None,
        now=NOW,
        extractor_version="t",
    )


def test_a_syndicated_copy_on_another_site_is_linked(db_url: str) -> None:
    engine, sessions = migrated(db_url)
    original, other = stories()[0], stories()[1]
    copy = republished(original)
    when = datetime(2026, 3, 6, 8, tzinfo=UTC)
    with sessions.begin() as s:
        a = repo.ensure_site(s, "baotinh", "https://a.vn/", NOW).id
        b = repo.ensure_site(s, "congso", "https://b.gov.vn/", NOW).id
        first = _store(
            s, a, "https://a.vn/1.html", original.title, original.sapo, original.text, when
        )
        unrelated = _store(s, a, "https://a.vn/2.html", other.title, other.sapo, other.text, when)
        second = _store(
            s,
            b,
            "https://b.gov.vn/x.html",
            copy.title,
            copy.sapo,
            copy.text,
            when + timedelta(hours=5),
        )
        # outside the window: a story republished a month later is not looked for
        late = _store(
            s,
            b,
            "https://b.gov.vn/y.html",
            copy.title + " (đăng lại)",
            copy.sapo,
            copy.text + "\nBổ sung.",
            when + timedelta(days=30),
        )
    assert second.outcome == "new" and first.article_id != second.article_id
    with sessions() as s:
        found = s.scalars(select(ArticleLink)).all()
        assert [(x.article_id, x.other_id, x.relation) for x in found] == [
            (second.article_id, first.article_id, "near_duplicate")
        ]
        assert found[0].distance <= neardup.MAX_DISTANCE
        assert [o.id for _, o in links.near_duplicates_of(s, first.article_id)] == [
            second.article_id
        ]
        assert links.near_duplicates_of(s, unrelated.article_id) == []
        assert links.near_duplicates_of(s, late.article_id) == []
        view = s.execute(text("select site, other_site, distance from duplicates")).all()
        assert [(r[0], r[1]) for r in view] == [("congso", "baotinh")]
    engine.dispose()


def test_the_window_query_reads_the_index_alone(sqlite_url: str) -> None:
    """Migration 0009: without ``ix_articles_window`` every stored article read every article
    row of the archive (the SimHash sits after the text, on SQLite's overflow pages)."""
    engine, sessions = migrated(sqlite_url)
    try:
        with sessions.begin() as s:
            site = repo.ensure_site(s, "baotinh", "https://a.vn/", NOW).id
            story = stories()[0]
            stored = _store(
                s, site, "https://a.vn/1.html", story.title, story.sapo, story.text, NOW
            )
            row = s.get_one(ArticleRow, stored.article_id)
            query = links.near_duplicate_window(row, "sqlite")
            compiled = query.compile(engine, compile_kwargs={"literal_binds": True})
            plan = " ".join(str(r[-1]) for r in s.execute(text(f"EXPLAIN QUERY PLAN {compiled}")))
        assert "USING COVERING INDEX ix_articles_window" in plan, plan
    finally:
        engine.dispose()


def test_the_shingle_cache_builds_each_text_once_and_keeps_the_newest() -> None:
    cache = neardup.ShingleCache(size=2)
    built: list[str] = []

    def words(name: str) -> list[str]:
        built.append(name)
        return f"{name} một hai ba bốn".split()

    a = cache.get("hash-a", lambda: words("a"))
    assert cache.get("hash-a", lambda: words("a")) is a and built == ["a"]
    cache.get("hash-b", lambda: words("b"))
    cache.get("hash-a", lambda: words("a"))  # a is the newest again
    cache.get("hash-c", lambda: words("c"))  # b, the oldest, goes
    cache.get("hash-b", lambda: words("b"))
    assert built == ["a", "b", "c", "b"]
    assert a == neardup.verify_set(["a", "một", "hai", "ba", "bốn"])
    assert neardup.set_containment(a, a) == 1.0 and neardup.set_containment(a, frozenset()) == 0.0


def test_copies_of_one_original_are_all_linked_to_it(db_url: str) -> None:
    """Many syndicated copies: each is confirmed against the original (cached by its content
    hash), and an edit of the original (a new hash) is compared on its new words."""
    engine, sessions = migrated(db_url)
    original = stories()[0]
    when = datetime(2026, 3, 6, 8, tzinfo=UTC)
    try:
        with sessions.begin() as s:
            a = repo.ensure_site(s, "baotinh", "https://a.vn/", NOW).id
            b = repo.ensure_site(s, "congso", "https://b.gov.vn/", NOW).id
            first = _store(
                s, a, "https://a.vn/1.html", original.title, original.sapo, original.text, when
            )
            copy = republished(original)
            stored = [
                _store(
                    s,
                    b,
                    f"https://b.gov.vn/{i}.html",
                    copy.title,
                    copy.sapo,
                    f"{copy.text}\n\nBản sao số {i}.",
                    when,
                )
                for i in range(4)
            ]
            found = s.scalars(select(ArticleLink).order_by(ArticleLink.article_id)).all()
        # each copy is linked once, to the original or to an earlier copy of it
        assert [link.article_id for link in found] == [x.article_id for x in stored]
        assert found[0].other_id == first.article_id
        earlier = {first.article_id}
        for link in found:
            assert link.other_id in earlier
            earlier.add(link.article_id)
    finally:
        engine.dispose()


def test_simhashes_within_the_trusted_distance_decide_without_the_words(db_url: str) -> None:
    """Within ``TRUSTED_DISTANCE`` bits the SimHashes alone link two articles; one bit more and
    the words are compared, and two different stories are not linked."""
    engine, sessions = migrated(db_url)
    base = neardup.to_signed(0x0123_4567_89AB_CDEF)
    one, two, three = stories()[:3]
    try:
        with sessions.begin() as s:
            site = repo.ensure_site(s, "baotinh", "https://a.vn/", NOW).id

            def row(i: int, story: Article, simhash: int) -> ArticleRow:
                new = ArticleRow(
                    site_id=site, url=f"https://a.vn/{i}.html", title=story.title,
                    sapo=story.sapo, text=story.text, authors=[], tags=[], images=[],
                    content_hash=f"{i:064d}", simhash=simhash, first_seen=NOW, last_seen=NOW,
                    published_at=NOW, extractor_version="t", extractor="generic",
                )  # fmt: skip
                s.add(new)
                s.flush()
                return new

            first = row(0, one, base)
            trusted = row(1, two, base ^ 0b111)
            assert links.link_near_duplicate(s, trusted, NOW) == first.id
            checked = row(2, three, base ^ 0b1111000000)  # 4 bits from the first, 7 from two
            assert links.link_near_duplicate(s, checked, NOW) is None
            copy = row(3, republished(one), base ^ (0b1111 << 20))
            assert links.link_near_duplicate(s, copy, NOW) == first.id
    finally:
        engine.dispose()
    a = neardup.words_of(one.title, one.sapo, one.text)
    b = neardup.words_of(two.title, two.sapo, two.text)
    assert not neardup.near_duplicates(a, b) and neardup.near_duplicates(a, a)


def test_the_database_computes_the_same_distance_as_python(db_url: str) -> None:
    """The window query filters by Hamming distance in SQL (PostgreSQL ``bit_count``, SQLite a
    registered function): the same candidates as ``neardup.candidates``, signed values too."""
    engine, sessions = migrated(db_url)
    base = 0xF0F0_F0F0_0F0F_0F0F
    probe = neardup.to_signed(base)
    mask = (1 << 64) - 1
    unsigned = [
        base, ~base & mask, mask, 0, 1 << 63, (1 << 63) - 1, base ^ 0b1,
        base ^ ((1 << 63) | 0x1FFFF), base ^ 0x7FFFF, base ^ (1 << 63),
    ]  # fmt: skip
    values = [neardup.to_signed(v) for v in unsigned]
    try:
        with sessions.begin() as s:
            site = repo.ensure_site(s, "baotinh", "https://a.vn/", NOW).id
            ids = []
            for i, value in enumerate([*values, probe]):
                row = ArticleRow(
                    site_id=site, url=f"https://a.vn/{i}.html", title=str(i), text="x",
                    authors=[], tags=[], images=[], content_hash=f"{i:064d}", simhash=value,
                    first_seen=NOW, last_seen=NOW, published_at=NOW, extractor_version="t",
                    extractor="generic",
                )  # fmt: skip
                s.add(row)
                s.flush()
                ids.append(row.id)
            dialect = s.get_bind().dialect.name
            found = {i for i, _ in s.execute(links.near_duplicate_window(row, dialect))}
        expected = {
            i for i, _ in neardup.candidates(probe, list(zip(ids[:-1], values, strict=True)))
        }
        assert found == expected
        # itself, 1 bit, 18 bits (the sign bit among them), the sign bit; not 19 bits
        assert len(expected) == 4
    finally:
        engine.dispose()


_FOLDABLE = st.text(
    alphabet=st.sampled_from(
        [
            *"qgouaeyQGOUAEY hoàhòaquýthuỷĐđ.,-\n\t",
            *("\u0300", "\u0301", "\u0309", "\u0303", "\u0323", "\u0302", "\u00ad", "\u00a0"),
            *("\u200b", "\ufeff", "ß", "İ", "ﬁ"),
        ]
    ),
    max_size=30,
)


@given(_FOLDABLE, st.none() | _FOLDABLE, _FOLDABLE)
def test_article_keys_fold_each_part_once_and_agree_with_search_key_and_content_hash(
    title: str, sapo: str | None, text: str
) -> None:
    keys = article_keys(Article(url="https://a.vn/1.html", title=title, sapo=sapo, text=text))
    assert keys.search_text == search_key(title, sapo, text)
    assert keys.digest == content_hash(title, text)
