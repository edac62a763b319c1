"""Full-text search over the archive, insensitive to case, tone marks and đ.

Every article keeps ``search_text``: its title, sapo and text folded by ``fold_key`` (NFC, one
tone-mark convention, case) and stripped of diacritics (``Đà Nẵng`` → ``da nang``); a query is
folded the same way, so ``"Da Nang"``, ``"đà nẵng"`` and ``"ĐÀ NẴNG"`` find the same articles.
On SQLite the FTS5 table ``articles_fts`` (kept in step by triggers, see migration 0002) indexes
it with the original title, sapo and text, so Datasette's search box works too; PostgreSQL
matches the folded column with LIKE.
"""

from __future__ import annotations

import re

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from scraper.vietnamese import fold_key, strip_diacritics
from storage.models import Article, Site

_TERM_RE = re.compile(r'"([^"]+)"|(\S+)')
#: letters and digits: "_" is a word character to ``re`` but a separator to FTS5's unicode61,
#: so "lao_dong" must fold to "lao dong" for SQLite and PostgreSQL to find the same articles
_WORD_RE = re.compile(r"[^\W_]+")


def search_key(*parts: str | None) -> str:
    """The folded words that search matches: lower-case, no diacritics, no punctuation."""
    return " ".join(_WORD_RE.findall(strip_diacritics(fold_key(" ".join(p for p in parts if p)))))


def query_terms(query: str) -> list[str]:
    """Folded terms of a query: ``"quoted words"`` stay one phrase, other words are ANDed."""
    terms = []
    for phrase, word in _TERM_RE.findall(query):
        folded = search_key(phrase or word)
        if folded:
            terms.append(folded)
    return terms


def search_articles(
    session: Session, query: str, *, site: str | None = None, limit: int = 20
) -> list[tuple[Article, str]]:
    """Articles matching every term, best match first (SQLite) or newest first (PostgreSQL)."""
    terms = query_terms(query)
    if not terms:
        return []
    stmt = select(Article, Site.name).join(Site, Site.id == Article.site_id)
    if site:
        stmt = stmt.where(Site.name == site)
    if session.get_bind().dialect.name == "sqlite":
        match = "search_text : (" + " AND ".join(f'"{t}"' for t in terms) + ")"
        ranked = (
            select(
                literal_column("rowid").label("id"),
                literal_column("bm25(articles_fts)").label("rank"),
            )
            .select_from(text("articles_fts"))
            .where(text("articles_fts MATCH :match"))
            .subquery()
        )
        stmt = stmt.join(ranked, ranked.c.id == Article.id).order_by(ranked.c.rank)
        rows = session.execute(stmt.limit(limit), {"match": match})
    else:
        padded = func.concat(" ", Article.search_text, " ")  # whole words only
        for term in terms:
            stmt = stmt.where(padded.like(f"% {_escape_like(term)} %", escape="\\"))
        order = func.coalesce(Article.published_at, Article.first_seen).desc()
        rows = session.execute(stmt.order_by(order, Article.id.desc()).limit(limit))
    return [(row[0], row[1]) for row in rows]


def _escape_like(value: str) -> str:
    return value.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
