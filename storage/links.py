"""Near-duplicate links in the archive: which earlier article a new one is a copy of.

The pure part (SimHash, shingles, containment) is ``storage.neardup``; this module asks the
database for the candidates (the SimHashes of the week around the article, within
``neardup.MAX_DISTANCE`` bits, from the covering index of migration 0009) and records the link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial
from typing import Protocol

from sqlalchemy import BigInteger, Connection, Select, bindparam, cast, func, or_, select
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from storage import neardup
from storage.models import Article, ArticleLink
from storage.sql import table


class NearKeyed(Protocol):
    """What the near-duplicate link reads of an article: a stored ``Article`` row, or the
    values the store has just inserted (``storage.repo``)."""

    @property
    def id(self) -> int: ...
    @property
    def simhash(self) -> int | None: ...
    @property
    def published_at(self) -> datetime | None: ...
    @property
    def first_seen(self) -> datetime: ...
    @property
    def content_hash(self) -> str: ...
    @property
    def title(self) -> str | None: ...
    @property
    def sapo(self) -> str | None: ...
    @property
    def text(self) -> str: ...
    @property
    def search_text(self) -> str | None: ...


#: the closest candidates confirmed on their words, at most (syndicated copies of one story
#: can number hundreds in a week: the rest are no closer)
CANDIDATES = 5


def _window(dialect: str) -> Select[int, int | None]:
    when = func.coalesce(Article.published_at, Article.first_seen)
    mine = bindparam("simhash", type_=BigInteger)
    if dialect == "postgresql":
        distance = func.bit_count(cast(Article.simhash.op("#")(mine), BIT(64)))
    else:
        distance = getattr(func, neardup.SQLITE_HAMMING)(Article.simhash, mine)
    lo, hi = (bindparam(name, type_=table(Article).c.first_seen.type) for name in ("lo", "hi"))
    return (
        select(Article.id, Article.simhash)
        .where(
            Article.simhash.is_not(None),
            Article.id < bindparam("id"),
            when.between(lo, hi),
            distance <= neardup.MAX_DISTANCE,
        )
        .order_by(distance, Article.id)
        .limit(CANDIDATES)
    )


# prebuilt, one a dialect: the store runs them once per article
_WINDOW = {name: _window(name) for name in ("postgresql", "sqlite")}
_KEYS = select(Article.id, Article.content_hash, Article.sapo).where(
    Article.id.in_(bindparam("ids", expanding=True))
)
_LINK = {
    name: insert(table(ArticleLink)).on_conflict_do_nothing(
        index_elements=["article_id", "other_id"]
    )
    for name, insert in (("postgresql", pg_insert), ("sqlite", sqlite_insert))
}


def _window_params(article: NearKeyed) -> dict[str, object]:
    center = article.published_at or article.first_seen
    window = timedelta(days=neardup.WINDOW_DAYS)
    return {
        "simhash": article.simhash, "id": article.id, "lo": center - window,
        "hi": center + window,
    }  # fmt: skip


def near_duplicate_window(article: NearKeyed, dialect: str) -> Select[int, int | None]:
    """The (id, simhash) of the earlier articles published within the window of ``article``
    whose SimHash is within ``neardup.MAX_DISTANCE`` bits of its own, the ``CANDIDATES``
    closest (then the oldest) first. The expression index
    ``ix_articles_window`` (migration 0009) answers it alone, and the distance is computed by
    the database (PostgreSQL's ``bit_count``; on SQLite ``neardup.sql_hamming``), so only the
    candidates come back, not the week's every SimHash."""
    return _WINDOW[dialect].params(_window_params(article))


_SHINGLES = neardup.ShingleCache()


def link_near_duplicate(session: Session, article: NearKeyed, now: datetime) -> int | None:
    """Link ``article`` to the earlier article it is a near-copy of (storage/neardup.py):
    SimHash candidates published within the window, confirmed on their words unless within
    ``neardup.TRUSTED_DISTANCE`` bits. The other article's id, if linked."""
    if article.simhash is None:
        return None
    # plain Core rows: the ORM's row loading costs several times as much, once per article
    conn = session.connection()
    dialect = conn.dialect.name
    others = conn.execute(_WINDOW[dialect], _window_params(article))
    found = neardup.candidates(article.simhash, [(i, h) for i, h in others if h is not None])
    if not found:
        return None
    if found[0][1] <= neardup.TRUSTED_DISTANCE:
        return _link(conn, article, *found[0], now)  # the closest, near enough to decide alone
    # each candidate's shingles come from the cache, else from its stored search key (the
    # folded words: the texts are not folded again). The key is what the words are made of:
    # the content hash (title and text) and the sapo
    keys = {
        row.id: _cache_key(row.content_hash, row.sapo)
        for row in conn.execute(_KEYS, {"ids": [i for i, _ in found]})
    }
    mine = _SHINGLES.get(_cache_key(article.content_hash, article.sapo), lambda: _words(article))
    for other_id, distance in found:
        shingles = _SHINGLES.get(keys[other_id], partial(_stored_words, conn, other_id))
        if neardup.set_containment(mine, shingles) >= neardup.MIN_CONTAINMENT:
            return _link(conn, article, other_id, distance, now)
    return None


def _link(conn: Connection, article: NearKeyed, other_id: int, distance: int, now: datetime) -> int:
    conn.execute(
        _LINK[conn.dialect.name],
        {"article_id": article.id, "other_id": other_id, "relation": "near_duplicate",
         "distance": distance, "created_at": now},
    )  # fmt: skip
    return other_id


def _cache_key(digest: str, sapo: str | None) -> str:
    return f"{digest}\n{sapo or ''}"


_SEARCH_TEXT = select(Article.search_text).where(Article.id == bindparam("id"))


def _stored_words(conn: Connection, article_id: int) -> list[str]:
    key = conn.scalar(_SEARCH_TEXT, {"id": article_id})
    if key is not None:
        return list(key.split())
    row = conn.execute(
        select(Article.title, Article.sapo, Article.text).where(Article.id == article_id)
    ).one()
    return neardup.words_of(row.title, row.sapo, row.text)


def _words(row: NearKeyed) -> list[str]:
    if row.search_text is not None:
        return row.search_text.split()
    return neardup.words_of(row.title, row.sapo, row.text)


def near_duplicates_of(session: Session, article_id: int) -> list[tuple[ArticleLink, Article]]:
    """The links of an article either way, with the article at the other end."""
    links = session.scalars(
        select(ArticleLink)
        .where(or_(ArticleLink.article_id == article_id, ArticleLink.other_id == article_id))
        .order_by(ArticleLink.id)
    ).all()
    out = []
    for link in links:
        other = link.other_id if link.article_id == article_id else link.article_id
        out.append((link, session.get_one(Article, other)))
    return out
