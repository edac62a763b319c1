"""Full-text search over the archive, insensitive to case, tone marks and đ; ranked, with
snippets.

Every article keeps ``search_text``: its title, sapo and text folded by ``fold_key`` (NFC, one
tone-mark convention, case) and stripped of diacritics (``Đà Nẵng`` → ``da nang``); a query is
folded the same way, so ``"Da Nang"``, ``"đà nẵng"`` and ``"ĐÀ NẴNG"`` find the same articles.

- SQLite: the FTS5 table ``articles_fts`` (kept in step by triggers, migrations 0002/0004)
  indexes it with the original title, sapo and text (Datasette's search box uses it too);
  matches are ranked by ``bm25``.
- PostgreSQL: ``articles.search_tsv``, a generated ``tsvector`` over ``search_text`` (the
  'simple' configuration: no stemming or stop words, the folding is ours) with a GIN index;
  matches are ranked by ``ts_rank_cd``.

On both, the best ``POOL`` matches are then re-ordered in Python so that articles holding the
query with its own accents come first (``Đà Nẵng`` before ``đa năng``, which folds the same),
then those holding the query's words together as typed (``da nang`` the place before an article
that merely has "đã" and "năng" somewhere),
and each hit gets a snippet of its text with the matched words between ``**``: the same pure
functions for both databases, so both give the same answers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, literal_column, select, text
from sqlalchemy.orm import Session

from scraper.vietnamese import fold_key, strip_diacritics
from storage.models import Article, Site
from storage.searchkey import WORD_RE
from storage.searchkey import search_key as search_key  # re-exported: migrations import it here

#: a term: a quoted phrase or a word, either after a "-" (left out: ``-FLC``, ``-"giá vàng"``)
_TERM_RE = re.compile(r'(-?)"([^"]+)"|(-?)(\S+)')
#: how many ranked matches the accent re-ordering looks at (at least)
POOL = 100
MARK = "**"


def _phrases(query: str, *, left_out: bool = False) -> list[str]:
    """The query's phrases and words as typed: those it asks for, or (``left_out``) those
    after a "-"."""
    out = []
    for minus_q, phrase, minus_w, word in _TERM_RE.findall(query):
        minus = minus_q if phrase else minus_w
        if bool(minus) == left_out:
            out.append(phrase or word)
    return out


def query_terms(query: str) -> list[str]:
    """Folded terms of a query: ``"quoted words"`` stay one phrase, other words are ANDed;
    a word or phrase after "-" is left out (``excluded_terms``)."""
    return [t for t in (search_key(p) for p in _phrases(query)) if t]


def excluded_terms(query: str) -> list[str]:
    """Folded terms after a "-": articles holding any of them do not match (``-FLC``)."""
    return [t for t in (search_key(p) for p in _phrases(query, left_out=True)) if t]


def fts5_match(query: str) -> str:
    """The FTS5 MATCH expression of a query on ``articles_fts``: its folded terms, each a quoted
    phrase of the ``search_text`` column, ANDed, then NOT any excluded one. Folded terms are
    words of letters and digits only, so nothing the user typed reaches FTS5's syntax; a query
    without a word to find matches nothing. Shared by ``search`` and the ``vnnews_match`` SQL
    function of ``vnnews ui``."""
    return _fts5(query_terms(query), excluded_terms(query))


def _fts5(terms: list[str], excluded: list[str] | None = None) -> str:
    wanted = "(" + " AND ".join(f'"{t}"' for t in (terms or [""])) + ")"
    if excluded:
        wanted = f"({wanted} NOT (" + " OR ".join(f'"{t}"' for t in excluded) + "))"
    return f"search_text : {wanted}"


def _accented_terms(query: str) -> list[list[str]]:
    """The query's terms folded but keeping their marks: what "exact accents" compares."""
    return [w for w in (WORD_RE.findall(fold_key(p)) for p in _phrases(query)) if w]


def _contains(words: list[str], phrase: list[str]) -> bool:
    n = len(phrase)
    return any(words[i : i + n] == phrase for i in range(len(words) - n + 1))


def accent_score(query: str, *parts: str | None) -> int:
    """How many of the query's terms appear in ``parts`` with the query's own accents; 0 for a
    query typed without any (``da nang`` prefers nothing)."""
    terms = _accented_terms(query)
    if all(t == [strip_diacritics(w) for w in t] for t in terms):
        return 0
    words = WORD_RE.findall(fold_key(" ".join(p for p in parts if p)))
    return sum(_contains(words, t) for t in terms)


def snippet(body: str, terms: list[str], *, width: int = 24, mark: str = MARK) -> str:
    """About ``width`` words of ``body`` around the densest match of the folded ``terms``,
    each matched word between ``mark``s; the start of ``body`` when nothing matches. Pure."""
    spans = [m.span() for m in WORD_RE.finditer(body)]
    if not spans:
        return ""
    folded = [search_key(body[a:b]) for a, b in spans]
    hit = [False] * len(spans)
    starts = []
    for term in terms:
        phrase = term.split()
        for i in range(len(folded) - len(phrase) + 1):
            if folded[i : i + len(phrase)] == phrase:
                starts.append(i)
                for k in range(i, i + len(phrase)):
                    hit[k] = True
    first = 0
    if starts:  # the window holding the most match starts, its first match a few words in
        best = max(sorted(set(starts)), key=lambda s: sum(s <= x < s + width for x in starts))
        first = max(0, best - width // 4)
    last = min(len(spans), first + width) - 1
    out, pos = [], spans[first][0]
    for k in range(first, last + 1):
        a, b = spans[k]
        out.append(body[pos:a])
        out.append(f"{mark}{body[a:b]}{mark}" if hit[k] else body[a:b])
        pos = b
    if last == len(spans) - 1:
        out.append(body[pos:])  # the closing punctuation
    text_ = " ".join("".join(out).split())
    return ("… " if first > 0 else "") + text_ + (" …" if last < len(spans) - 1 else "")


@dataclass(frozen=True)
class Hit:
    article: Article
    site: str
    snippet: str
    #: position in the database's own ranking (0 is best), before the accent re-ordering
    rank: int


def phrase_score(query: str, *parts: str | None) -> int:
    """1 when the query's words stand together, in order, in ``parts`` (folded): Vietnamese words
    are often two syllables, so ``da nang`` as a phrase is Đà Nẵng where "đã ... năng" is not."""
    words = search_key(" ".join(_phrases(query))).split()
    if len(words) < 2:
        return 0
    return int(_contains(search_key(*parts).split(), words))


def search(
    session: Session,
    query: str,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[Hit]:
    """Articles matching every term and none of the excluded ones, best first, with snippets."""
    terms, excluded = query_terms(query), excluded_terms(query)
    if not terms:
        return []
    stmt = select(Article, Site.name).join(Site, Site.id == Article.site_id)
    if site:
        stmt = stmt.where(Site.name == site)
    when = func.coalesce(Article.published_at, Article.first_seen)
    if since:
        stmt = stmt.where(when >= since)
    if until:
        stmt = stmt.where(when <= until)
    pool = max(POOL, limit * 2)
    params: dict[str, Any] = {}
    if session.get_bind().dialect.name == "sqlite":
        params["match"] = _fts5(terms, excluded)
        ranked = (
            select(
                literal_column("rowid").label("id"),
                literal_column("bm25(articles_fts)").label("rank"),
            )
            .select_from(text("articles_fts"))
            .where(text("articles_fts MATCH :match"))
            .subquery()
        )
        stmt = stmt.join(ranked, ranked.c.id == Article.id).order_by(ranked.c.rank, Article.id)
    else:
        tsv: Any = literal_column("articles.search_tsv")
        tsquery: Any = None
        for i, term in enumerate(terms):
            params[f"t{i}"] = term
            q = func.phraseto_tsquery(literal_column("'simple'"), text(f":t{i}"))
            tsquery = q if tsquery is None else tsquery.op("&&")(q)
        stmt = stmt.where(tsv.op("@@")(tsquery)).order_by(
            func.ts_rank_cd(tsv, tsquery).desc(), Article.id
        )
        for i, term in enumerate(excluded):
            params[f"x{i}"] = term
            left_out = func.phraseto_tsquery(literal_column("'simple'"), text(f":x{i}"))
            stmt = stmt.where(~tsv.op("@@")(left_out))
    rows = [(row[0], row[1]) for row in session.execute(stmt.limit(pool), params)]
    scored = sorted(
        enumerate(rows),
        key=lambda x: (
            -accent_score(query, x[1][0].title, x[1][0].sapo, x[1][0].text),
            -phrase_score(query, x[1][0].title, x[1][0].sapo, x[1][0].text),
            x[0],
        ),
    )
    hits = []
    for rank, (art, site_name) in scored[:limit]:
        body = "\n".join(p for p in (art.sapo, art.text) if p)
        if not any(term in search_key(body) for term in terms):
            body = art.title or body
        hits.append(Hit(art, site_name, snippet(body, terms), rank))
    return hits


def search_articles(
    session: Session, query: str, *, site: str | None = None, limit: int = 20
) -> list[tuple[Article, str]]:
    """``search`` without snippets: (article, site name), best first."""
    return [(h.article, h.site) for h in search(session, query, site=site, limit=limit)]
