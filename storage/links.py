"""Near-duplicate links in the archive: which earlier article a new one is a copy of.

The pure part (SimHash, shingles, containment) is ``storage.neardup``; this module asks the
database for the candidates (the SimHashes of the week around the article, within
``neardup.MAX_DISTANCE`` bits, from the covering index of migration 0009) and records the link.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from functools import partial

from sqlalchemy import BigInteger, Connection, Select, cast, func, literal, or_, select
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.orm import Session

from storage import neardup
from storage.models import Article, ArticleLink
from storage.sql import dialect_insert


def near_duplicate_window(article: Article, dialect: str) -> Select[int, int | None]:
    """The (id, simhash) of the earlier articles published within the window of ``article``
    whose SimHash is within ``neardup.MAX_DISTANCE`` bits of its own. The expression index
    ``ix_articles_window`` (migration 0009) answers it alone, and the distance is computed by
    the database (PostgreSQL's ``bit_count``; on SQLite ``neardup.sql_hamming``), so only the
    candidates come back, not the week's every SimHash."""
    when = func.coalesce(Article.published_at, Article.first_seen)
    center = article.published_at or article.first_seen
    window = timedelta(days=neardup.WINDOW_DAYS)
    mine = literal(article.simhash, BigInteger)
    if dialect == "postgresql":
        distance = func.bit_count(cast(Article.simhash.op("#")(mine), BIT(64)))
    else:
        distance = getattr(func, neardup.SQLITE_HAMMING)(Article.simhash, mine)
    return select(Article.id, Article.simhash).where(
        Article.simhash.is_not(None),
        Article.id < article.id,
        when.between(center - window, center + window),
        distance <= neardup.MAX_DISTANCE,
    )


_SHINGLES = neardup.ShingleCache()


def link_near_duplicate(session: Session, article: Article, now: datetime) -> ArticleLink | None:
    """Link ``article`` to the earlier article it is a near-copy of (storage/neardup.py):
    SimHash candidates published within the window, confirmed on their words."""
    if article.simhash is None:
        return None
    # plain Core rows: the ORM's row loading costs several times as much, once per article
    dialect = session.get_bind().dialect.name
    others = session.connection().execute(near_duplicate_window(article, dialect))
    found = neardup.candidates(article.simhash, [(i, h) for i, h in others if h is not None])
    if not found:
        return None
    # each candidate's shingles come from the cache, else from its stored search key (the
    # folded words: the texts are not folded again). The key is what the words are made of:
    # the content hash (title and text) and the sapo
    found = found[:5]
    conn = session.connection()
    keys = {
        row.id: _cache_key(row.content_hash, row.sapo)
        for row in conn.execute(
            select(Article.id, Article.content_hash, Article.sapo).where(
                Article.id.in_([i for i, _ in found])
            )
        )
    }
    mine = _SHINGLES.get(_cache_key(article.content_hash, article.sapo), lambda: _words(article))
    for other_id, distance in found:
        shingles = _SHINGLES.get(keys[other_id], partial(_stored_words, conn, other_id))
        if neardup.set_containment(mine, shingles) >= neardup.MIN_CONTAINMENT:
            session.execute(
                dialect_insert(session, ArticleLink)
                .values(article_id=article.id, other_id=other_id, relation="near_duplicate",
                        distance=distance, created_at=now)
                .on_conflict_do_nothing(index_elements=["article_id", "other_id"])
            )  # fmt: skip
            return session.scalars(
                select(ArticleLink).where(
                    ArticleLink.article_id == article.id, ArticleLink.other_id == other_id
                )
            ).one()
    return None


def _cache_key(digest: str, sapo: str | None) -> str:
    return f"{digest}\n{sapo or ''}"


def _stored_words(conn: Connection, article_id: int) -> list[str]:
    key = conn.scalar(select(Article.search_text).where(Article.id == article_id))
    if key is not None:
        return list(key.split())
    row = conn.execute(
        select(Article.title, Article.sapo, Article.text).where(Article.id == article_id)
    ).one()
    return neardup.words_of(row.title, row.sapo, row.text)


def _words(row: Article) -> list[str]:
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
