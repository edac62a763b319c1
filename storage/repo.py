"""Repository functions: every read and write the jobs need, one function each.

Functions take a ``Session`` and never open, commit or roll back one: the caller owns the
transaction (``with sessions.begin() as s:``). Writes are idempotent on natural keys (URL,
content hash), so a crashed and restarted pass, or two daemons sharing PostgreSQL, never
duplicate rows.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import (
    bindparam,
    func,
    insert,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from scraper.notices import not_an_edit
from scraper.types import Article as ExtractedArticle
from scraper.urls import SlashMode, WwwMode, canonicalize
from storage.dedup import content_hash
from storage.keys import ArticleKeys, article_keys
from storage.links import link_near_duplicate
from storage.models import (
    Article,
    ArticleEvent,
    ArticleUrl,
    ArticleVersion,
    CrawlRun,
    Page,
    Site,
    Url,
)
from storage.sql import dialect_insert, table

Outcome = Literal["new", "changed", "unchanged", "duplicate", "notice"]


# --- sites -------------------------------------------------------------------------------------


def site_names(session: Session, ids: Iterable[int]) -> dict[int, str]:
    """The names of the sites ``ids``, by id."""
    rows = session.execute(select(Site.id, Site.name).where(Site.id.in_(list(ids))))
    return {site_id: name for site_id, name in rows}


def ensure_site(session: Session, name: str, base_url: str, now: datetime) -> Site:
    site = session.scalar(select(Site).where(Site.name == name))
    if site is None:
        session.execute(
            dialect_insert(session, Site)
            .values(name=name, base_url=base_url, added_at=now, error_count=0)
            .on_conflict_do_nothing(index_elements=["name"])
        )
        site = session.scalars(select(Site).where(Site.name == name)).one()
    elif site.base_url != base_url:
        site.base_url = base_url
    return site


# --- pages -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    article_id: int


# prebuilt statements of the store (one article = a handful of them): a statement built per
# call costs about as much as running it
_ARTICLES, _URLS = table(Article), table(ArticleUrl)
_BY_HASH = select(_ARTICLES.c.id).where(_ARTICLES.c.content_hash == bindparam("digest"))
_URLS_OF = select(_URLS.c.url).where(_URLS.c.article_id == bindparam("article_id"))
_LINKED = select(_URLS.c.url, _URLS.c.article_id).where(
    _URLS.c.url.in_(bindparam("urls", expanding=True))
)
_SEEN = (
    update(_ARTICLES)
    .where(_ARTICLES.c.id == bindparam("b_id"))
    .values(last_seen=bindparam("b_now", type_=_ARTICLES.c.last_seen.type))
)
_VERSION = insert(table(ArticleVersion))


def _by_dialect(make: Callable[[Any], Any]) -> dict[str, Any]:
    return {"postgresql": make(pg_insert), "sqlite": make(sqlite_insert)}


_LINK = _by_dialect(lambda ins: ins(_URLS).on_conflict_do_nothing(index_elements=["url"]))
_NEW_ARTICLE = _by_dialect(
    lambda ins: (
        ins(_ARTICLES)
        .on_conflict_do_nothing(index_elements=["content_hash"])
        .returning(_ARTICLES.c.id)
    )
)
_NEW_VERSION = _by_dialect(
    lambda ins: ins(table(ArticleVersion)).on_conflict_do_nothing(
        index_elements=["article_id", "content_hash"]
    )
)


@dataclass(frozen=True, slots=True)
class _Inserted:
    """The values of an article just inserted that ``link_near_duplicate`` reads."""

    id: int
    simhash: int | None
    published_at: datetime | None
    first_seen: datetime
    content_hash: str
    title: str | None
    sapo: str | None
    text: str
    search_text: str | None


def _link(session: Session, article_id: int, urls: dict[str, str], now: datetime) -> None:
    rows = [
        {"article_id": article_id, "url": u, "relation": rel, "first_seen": now}
        for u, rel in urls.items()
    ]
    if rows:
        conn = session.connection()
        conn.execute(_LINK[conn.dialect.name], rows)


def _fields(a: ExtractedArticle, keys: ArticleKeys) -> dict[str, Any]:
    return {
        "url": a.url,
        "canonical_url": a.canonical_url,
        "title": a.title,
        "sapo": a.sapo,
        "text": a.text,
        "published_at": a.published_at,
        "updated_at": a.updated_at,
        "authors": list(a.authors),
        "category": a.category,
        "tags": list(a.tags),
        "images": [{"url": i.url, "caption": i.caption} for i in a.images],
        "language": a.language,
        "source": a.source,
        "extractor": a.extractor,
        "search_text": keys.search_text,
        "simhash": keys.simhash,
    }


def store_article(
    session: Session,
    *,
    site_id: int,
    article: ExtractedArticle,
    urls: dict[str, str],
    page_id: int | None,
    now: datetime,
    extractor_version: str,
    keys: ArticleKeys | None = None,
) -> Stored:
    """Store an extracted article, deduplicated by content hash.

    ``urls`` maps every URL that led here (fetched, final after redirects, rel=canonical) to its
    relation. Outcomes: ``new``; ``unchanged`` (same content, its fetched or redirected-to URL
    known); ``duplicate`` (same content reached by a new URL: only an ``article_urls`` row is
    added); ``changed`` (a known URL now has new content: the article is updated and a version
    is added); ``notice`` (a known URL now serves something that is no edit of its story,
    ``scraper.notices``: the archived article is kept as it is and an ``article_events`` row
    records the fetch).

    ``keys``: ``article_keys(article)`` when the caller computed them already.
    """
    keys = keys or article_keys(article)
    digest = keys.digest
    conn = session.connection()
    dialect = conn.dialect.name
    same_id = conn.scalar(_BY_HASH, {"digest": digest})
    if same_id is not None:
        known = set(conn.scalars(_URLS_OF, {"article_id": same_id}))
        _link(session, same_id, urls, now)
        conn.execute(_SEEN, {"b_id": same_id, "b_now": now})
        # unchanged: fetched again at a URL it was fetched at; a new URL (another site's
        # copy, even one whose rel=canonical names the original) is a duplicate
        served = {u for u, rel in urls.items() if rel != "canonical"}
        return Stored("unchanged" if served & known else "duplicate", same_id)

    # the URLs the server vouched for (fetched, redirected to) say which article this is, the
    # fetched one first; rel=canonical is the page's own claim, often a home or section page,
    # and must not turn another story into an old version of this one
    own = [u for u, rel in urls.items() if rel != "canonical"]
    linked = {url: article_id for url, article_id in conn.execute(_LINKED, {"urls": own})}
    prior_id = next((linked[u] for u in own if u in linked), None)
    version = {
        "content_hash": digest, "fetched_at": now, "title": article.title,
        "text": article.text, "page_id": page_id,
    }  # fmt: skip
    if prior_id is not None:
        prior = session.get_one(Article, prior_id)
        why = not_an_edit(prior.title, prior.text, article.title, article.text)
        if why is not None:
            fetched = next(iter(urls), article.url)
            record_article_event(
                session, fetched, kind="notice", detail=why, page_id=page_id, now=now
            )
            return Stored("notice", prior.id)
        for key, value in _fields(article, keys).items():
            if key != "url":
                setattr(prior, key, value)
        prior.content_hash = digest
        prior.last_seen = now
        prior.page_id = page_id
        prior.extractor_version = extractor_version
        session.flush()
        # an edit reverted to an earlier content: that version is already recorded
        conn.execute(_NEW_VERSION[dialect], {"article_id": prior.id, **version})
        _link(session, prior.id, urls, now)
        link_near_duplicate(session, prior, now)
        return Stored("changed", prior.id)

    fields = _fields(article, keys)
    # ON CONFLICT: a second daemon may insert the same story between our SELECT and INSERT
    new_id = conn.scalar(
        _NEW_ARTICLE[dialect],
        {
            "site_id": site_id, "content_hash": digest, "first_seen": now, "last_seen": now,
            "page_id": page_id, "extractor_version": extractor_version, **fields,
        },
    )  # fmt: skip
    if new_id is None:  # the other writer won
        same_id = int(conn.execute(_BY_HASH, {"digest": digest}).scalar_one())
        _link(session, same_id, urls, now)
        return Stored("duplicate", same_id)
    conn.execute(_VERSION, {"article_id": new_id, **version})
    _link(session, new_id, urls, now)
    inserted = _Inserted(
        new_id, keys.simhash, article.published_at, now, digest, article.title, article.sapo,
        article.text, keys.search_text,
    )  # fmt: skip
    link_near_duplicate(session, inserted, now)
    return Stored("new", new_id)


def record_article_event(
    session: Session, url: str, *, kind: str, detail: str | None, page_id: int | None,
    now: datetime,
) -> int | None:  # fmt: skip
    """If ``url`` led to an archived article, record that a fetch of it kept the article as it
    was (``kind``: notice, home, no_body, gone, moved) and return the article's id."""
    article_id = session.scalar(select(ArticleUrl.article_id).where(ArticleUrl.url == url))
    if article_id is None:
        return None
    session.add(
        ArticleEvent(
            article_id=article_id, url=url, kind=kind, detail=detail, at=now, page_id=page_id
        )
    )
    return article_id


def _derived(row: Article) -> tuple[Any, ...]:
    """The fields a re-extraction may change (the text is in content_hash)."""
    return (row.content_hash, row.sapo, row.published_at, row.updated_at, row.authors,
            row.category, row.tags, row.images, row.source, row.language)  # fmt: skip


def replace_extraction(
    session: Session, row: Article, article: ExtractedArticle, *, extractor_version: str
) -> Literal["updated", "unchanged", "collision"]:
    """Overwrite an article's derived fields with a new extraction of the same page."""
    digest = content_hash(article.title, article.text)
    other = session.scalar(
        select(Article.id).where(Article.content_hash == digest, Article.id != row.id)
    )
    if other is not None:
        return "collision"
    before = _derived(row)
    for key, value in _fields(article, article_keys(article)).items():
        if key != "url":
            setattr(row, key, value)
    row.content_hash = digest
    row.extractor_version = extractor_version
    after = _derived(row)
    return "unchanged" if before == after else "updated"


# --- crawl runs --------------------------------------------------------------------------------


def start_run(
    session: Session, site_id: int, kind: str, now: datetime, *, worker_id: int | None = None
) -> CrawlRun:
    run = CrawlRun(
        site_id=site_id,
        kind=kind,
        worker_id=worker_id,
        started_at=now,
        error_log=[],
        discovered=0,
        fetched=0,
        new_articles=0,
        changed_articles=0,
        unchanged=0,
        duplicates=0,
        not_modified=0,
        errors=0,
        not_articles=0,
    )
    session.add(run)
    site = session.get_one(Site, site_id)
    site.last_run_at = now
    session.flush()
    return run


def finish_run(
    session: Session, run_id: int, counts: dict[str, Any], now: datetime, *, ok: bool | None
) -> None:
    """Close a run. ``ok``: the pass got good answers (clears the site's errors and failing
    streak); ``False``: it failed (adds its errors, extends the streak); ``None`` (interrupted)
    records its counts but leaves the site's health as it was."""
    run = session.get_one(CrawlRun, run_id)
    for key, value in counts.items():
        setattr(run, key, value)
    run.finished_at = now
    run.outcome = "stopped" if ok is None else "ok" if ok else "failed"
    site = session.get_one(Site, run.site_id)
    if ok is None:
        return
    if ok:
        site.last_success_at = now
        site.error_count = 0
        site.last_error = None
        site.failing_passes = 0
    else:
        # a page with no article is no error of the site (the rot alarm speaks for those)
        failed = int(counts.get("errors", 0)) - int(counts.get("not_articles", 0))
        site.error_count += failed or 1
        site.failing_passes = (site.failing_passes or 0) + 1
        log = counts.get("error_log") or []
        site.last_error = log[0] if log else "run failed"


def drop_idle_run(session: Session, run_id: int) -> None:
    """A pass that had nothing to do leaves no ``crawl_runs`` row, only a count on its site."""
    run = session.get_one(CrawlRun, run_id)
    session.execute(
        update(Site).where(Site.id == run.site_id).values(idle_passes=Site.idle_passes + 1)
    )
    session.delete(run)


# --- queries for the CLI -----------------------------------------------------------------------


#: the largest integer primary key of SQLite and PostgreSQL (bigint)
MAX_ID = 2**63 - 1


def find_article(session: Session, id_or_url: str) -> Article | None:
    if id_or_url.isdigit():
        # "²" is a digit to str.isdigit; 10**22 is no row id (and SQLite raises OverflowError)
        if not id_or_url.isascii() or int(id_or_url) > MAX_ID:
            return None
        return session.get(Article, int(id_or_url))
    for url in _spellings(id_or_url):
        art = session.scalar(select(Article).join(ArticleUrl).where(ArticleUrl.url == url))
        art = art or session.scalar(
            select(Article).where(or_(Article.url == url, Article.canonical_url == url))
        )
        if art is not None:
            return art
    return None


def _spellings(url: str) -> list[str]:
    """``url`` as given, then as the crawler may have stored it (``scraper.urls.canonicalize``:
    the host lower-cased, ``utm_*`` parameters and the ``#fragment`` dropped, and each site's
    own ``www`` and trailing-slash rule): a URL copied from a browser or a share link finds its
    article."""
    out = [url]
    wwws: tuple[WwwMode, ...] = ("keep", "strip", "add")
    slashes: tuple[SlashMode, ...] = ("keep", "strip", "add")
    for www in wwws:
        for slash in slashes:
            try:
                spelled = canonicalize(url, www=www, trailing_slash=slash)
            except ValueError:  # not an http(s) URL: only the exact text can match
                return out
            if spelled not in out:
                out.append(spelled)
    return out


def list_articles(
    session: Session,
    *,
    site: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[tuple[Article, str]]:
    stmt = select(Article, Site.name).join(Site, Site.id == Article.site_id)
    if site:
        stmt = stmt.where(Site.name == site)
    if since:
        stmt = stmt.where(func.coalesce(Article.published_at, Article.first_seen) >= since)
    if until:
        stmt = stmt.where(func.coalesce(Article.published_at, Article.first_seen) <= until)
    stmt = stmt.order_by(
        func.coalesce(Article.published_at, Article.first_seen).desc(), Article.id.desc()
    ).limit(limit)
    return [(row[0], row[1]) for row in session.execute(stmt)]


def article_urls(session: Session, article_id: int) -> list[ArticleUrl]:
    return list(
        session.scalars(
            select(ArticleUrl).where(ArticleUrl.article_id == article_id).order_by(ArticleUrl.id)
        )
    )


def article_versions(session: Session, article_id: int) -> list[ArticleVersion]:
    return list(
        session.scalars(
            select(ArticleVersion)
            .where(ArticleVersion.article_id == article_id)
            .order_by(ArticleVersion.id)
        )
    )


def latest_page_for(session: Session, article: Article) -> Page | None:
    if article.page_id is not None:
        return session.get(Page, article.page_id)
    return None


def stats(session: Session) -> dict[str, int]:
    def count(model: Any) -> int:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)

    raw = session.execute(
        select(
            func.coalesce(func.sum(Page.body_size), 0),
            func.coalesce(func.sum(func.length(Page.body_zstd)), 0),
        )
    ).one()
    by_state = dict(session.execute(select(Url.state, func.count()).group_by(Url.state)).all())
    out = {
        "sites": count(Site),
        "articles": count(Article),
        "article_urls": count(ArticleUrl),
        "article_versions": count(ArticleVersion),
        "urls": count(Url),
        "pages": count(Page),
        "crawl_runs": count(CrawlRun),
        "raw_bytes": int(raw[0]),
        "stored_bytes": int(raw[1]),
    }
    out.update({f"urls_{state}": int(n) for state, n in sorted(by_state.items())})
    return out
