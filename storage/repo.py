"""Repository functions: every read and write the jobs need, one function each.

Functions take a ``Session`` and never open, commit or roll back one: the caller owns the
transaction (``with sessions.begin() as s:``). Writes are idempotent on natural keys (URL,
content hash), so a crashed and restarted pass, or two daemons sharing PostgreSQL, never
duplicate rows.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import partial
from typing import Any, Literal, Protocol

import zstandard
from sqlalchemy import (
    BigInteger,
    Connection,
    Select,
    cast,
    func,
    insert,
    literal,
    or_,
    select,
    update,
)
from sqlalchemy.dialects.postgresql import BIT
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, object_session

from scraper.notices import not_an_edit
from scraper.types import Article as ExtractedArticle
from storage import neardup
from storage.dedup import body_sha256, content_hash
from storage.models import (
    Article,
    ArticleEvent,
    ArticleLink,
    ArticleUrl,
    ArticleVersion,
    CrawlRun,
    Page,
    Site,
    Url,
    ZstdDict,
)
from storage.search import search_key
from storage.sql import dialect_insert

#: bench/storage.py: level 3 costs ~1 ms a page (level 10: ~5 ms) for 10% more bytes; a
#: site's dictionary (``vnnews db compact``) saves far more than a higher level would
ZSTD_LEVEL = 3
# a zstd context is not thread-safe (two daemons in one process crashed sharing one): one a thread
_zstd = threading.local()


def _dict(data: bytes | None) -> zstandard.ZstdCompressionDict | None:
    if not data:
        return None
    return zstandard.ZstdCompressionDict(data, dict_type=zstandard.DICT_TYPE_RAWCONTENT)


def _compressor(dict_id: int | None, dict_bytes: bytes | None) -> zstandard.ZstdCompressor:
    cache = _zstd.__dict__.setdefault("compressors", {})
    if dict_id not in cache:
        cache[dict_id] = zstandard.ZstdCompressor(level=ZSTD_LEVEL, dict_data=_dict(dict_bytes))
    return cache[dict_id]  # type: ignore[no-any-return]


def _decompressor(dict_id: int | None, dict_bytes: bytes | None) -> zstandard.ZstdDecompressor:
    cache = _zstd.__dict__.setdefault("decompressors", {})
    if dict_id not in cache:
        cache[dict_id] = zstandard.ZstdDecompressor(dict_data=_dict(dict_bytes))
    return cache[dict_id]  # type: ignore[no-any-return]


def compress(body: bytes, dict_id: int | None = None, dict_bytes: bytes | None = None) -> bytes:
    """A zstd frame of ``body``, with the dictionary ``dict_id`` when given."""
    return bytes(_compressor(dict_id, dict_bytes).compress(body))


def decompress(frame: bytes, dict_id: int | None = None, dict_bytes: bytes | None = None) -> bytes:
    return bytes(_decompressor(dict_id, dict_bytes).decompress(frame))


def _site_dict(session: Session, url_id: int | None) -> tuple[int, bytes] | None:
    """The newest dictionary of the site ``url_id`` belongs to."""
    if url_id is None:
        return None
    row = session.execute(
        select(ZstdDict.id, ZstdDict.dict)
        .join(Url, Url.site_id == ZstdDict.site_id)
        .where(Url.id == url_id)
        .order_by(ZstdDict.id.desc())
        .limit(1)
    ).first()
    return (row[0], row[1]) if row else None


@dataclass(frozen=True)
class PackedBody:
    """A raw body as the ``pages`` row stores it: compressed (no dictionary), with its size and
    sha256."""

    zstd: bytes
    size: int
    sha256: str


def pack_body(body: bytes) -> PackedBody:
    """The CPU half of ``record_page`` (pure): a crawler runs it in a worker process."""
    return PackedBody(compress(body), len(body), body_sha256(body))


Outcome = Literal["new", "changed", "unchanged", "duplicate", "notice"]


# --- sites -------------------------------------------------------------------------------------


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


class FetchedPage(Protocol):
    """What ``record_page`` stores of a fetch (``scraper.fetch.FetchResult`` is one)."""

    @property
    def url(self) -> str: ...
    @property
    def final_url(self) -> str: ...
    @property
    def status(self) -> int: ...
    @property
    def headers(self) -> dict[str, str]: ...
    @property
    def body(self) -> bytes: ...
    @property
    def fetched_at(self) -> datetime: ...


def record_page(
    session: Session, fetched: FetchedPage, *, url_id: int | None, packed: PackedBody | None = None
) -> Page:
    """Archive one HTTP exchange with its raw body (none for a 304) before anything parses it.

    A body already archived (same sha256: an unchanged feed, a listing polled again) is not
    stored twice: ``body_zstd`` stays NULL and ``page_body`` (or the ``page_bodies`` view)
    reads the earlier copy. ``packed`` is ``pack_body(fetched.body)`` when the caller computed
    it already, off the event loop (used unless the site has a dictionary)."""
    body = fetched.body if fetched.status != 304 else None
    digest = (packed.sha256 if packed else body_sha256(body)) if body else None
    frame: bytes | None = None
    dict_id: int | None = None
    if body and not _body_stored(session, digest):
        site_dict = _site_dict(session, url_id)
        if site_dict is not None:
            dict_id = site_dict[0]
        if site_dict is None and packed is not None:
            frame = packed.zstd
        else:
            frame = compress(body, dict_id, site_dict[1] if site_dict else None)
    page = Page(
        url_id=url_id, url=fetched.url, final_url=fetched.final_url, status=fetched.status,
        headers=fetched.headers, fetched_at=fetched.fetched_at,
        body_zstd=frame, body_dict_id=dict_id,
        body_size=len(body) if body else 0,
        body_sha256=digest,
    )  # fmt: skip
    session.add(page)
    session.flush()
    return page


def _body_stored(session: Session, digest: str | None) -> bool:
    return (
        digest is not None
        and session.scalar(
            select(Page.id).where(Page.body_sha256 == digest, Page.body_zstd.is_not(None)).limit(1)
        )
        is not None
    )


def page_body(page: Page) -> bytes:
    """The raw body of a stored fetch (from the earlier identical one when it was not stored)."""
    session = object_session(page)
    frame, dict_id = page.body_zstd, page.body_dict_id
    if frame is None and page.body_sha256 and session is not None:
        holder = session.execute(
            select(Page.body_zstd, Page.body_dict_id)
            .where(Page.body_sha256 == page.body_sha256, Page.body_zstd.is_not(None))
            .order_by(Page.id)
            .limit(1)
        ).first()
        if holder is not None:
            frame, dict_id = holder[0], holder[1]
    if frame is None:
        return b""
    dict_bytes = None
    if dict_id is not None:
        if session is None:
            raise ValueError(f"page {page.id}: a detached page cannot load its dictionary")
        dict_bytes = session.scalar(select(ZstdDict.dict).where(ZstdDict.id == dict_id))
    return decompress(frame, dict_id, dict_bytes)


# --- articles ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Stored:
    outcome: Outcome
    article_id: int


def _link(session: Session, article_id: int, urls: dict[str, str], now: datetime) -> None:
    rows = [
        {"article_id": article_id, "url": u, "relation": rel, "first_seen": now}
        for u, rel in urls.items()
    ]
    if rows:
        session.execute(
            dialect_insert(session, ArticleUrl).on_conflict_do_nothing(index_elements=["url"]), rows
        )


@dataclass(frozen=True, slots=True)
class ArticleKeys:
    """What the archive derives from an article's text, computed once (by the crawler off the
    event loop: ``jobs.prepare``): its content hash, search key and SimHash."""

    digest: str
    search_text: str
    simhash: int | None


def article_keys(a: ExtractedArticle) -> ArticleKeys:
    search = search_key(a.title, a.sapo, a.text)
    return ArticleKeys(content_hash(a.title, a.text), search, neardup.simhash_of_key(search))


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
    relation. Outcomes: ``new``; ``unchanged`` (same content, URL known); ``duplicate`` (same
    content reached by a new URL: only an ``article_urls`` row is added); ``changed`` (a known
    URL now has new content: the article is updated and a version is added); ``notice`` (a
    known URL now serves something that is no edit of its story, ``scraper.notices``: the
    archived article is kept as it is and an ``article_events`` row records the fetch).

    ``keys``: ``article_keys(article)`` when the caller computed them already.
    """
    keys = keys or article_keys(article)
    digest = keys.digest
    same_id = session.scalar(select(Article.id).where(Article.content_hash == digest))
    if same_id is not None:
        known = set(session.scalars(select(ArticleUrl.url).where(ArticleUrl.article_id == same_id)))
        _link(session, same_id, urls, now)
        session.execute(update(Article).where(Article.id == same_id).values(last_seen=now))
        return Stored("unchanged" if set(urls) & known else "duplicate", same_id)

    # the URLs the server vouched for (fetched, redirected to) say which article this is, the
    # fetched one first; rel=canonical is the page's own claim, often a home or section page,
    # and must not turn another story into an old version of this one
    own = [u for u, rel in urls.items() if rel != "canonical"]
    linked = dict(
        session.execute(
            select(ArticleUrl.url, ArticleUrl.article_id).where(ArticleUrl.url.in_(own))
        ).all()
    )
    prior_id = next((linked[u] for u in own if u in linked), None)
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
        # an edit reverted to an earlier content: that version is already recorded
        session.execute(
            dialect_insert(session, ArticleVersion)
            .values(
                article_id=prior.id,
                content_hash=digest,
                fetched_at=now,
                title=article.title,
                text=article.text,
                page_id=page_id,
            )
            .on_conflict_do_nothing(index_elements=["article_id", "content_hash"])
        )
        _link(session, prior.id, urls, now)
        session.flush()
        link_near_duplicate(session, prior, now)
        return Stored("changed", prior.id)

    # a savepoint: a second daemon may insert the same story between our SELECT and INSERT
    try:
        with session.begin_nested():
            new_id = session.execute(
                insert(Article)
                .values(
                    site_id=site_id,
                    content_hash=digest,
                    first_seen=now,
                    last_seen=now,
                    page_id=page_id,
                    extractor_version=extractor_version,
                    **_fields(article, keys),
                )
                .returning(Article.id)
            ).scalar_one()
    except IntegrityError:  # on content_hash: the other writer won
        same_id = session.scalars(select(Article.id).where(Article.content_hash == digest)).one()
        _link(session, same_id, urls, now)
        return Stored("duplicate", same_id)
    session.execute(
        insert(ArticleVersion).values(
            article_id=new_id,
            content_hash=digest,
            fetched_at=now,
            title=article.title,
            text=article.text,
            page_id=page_id,
        )
    )
    _link(session, new_id, urls, now)
    link_near_duplicate(session, session.get_one(Article, new_id), now)
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
    # each candidate's shingles come from the cache by content hash, else from its stored
    # search key (the folded words: the texts are not folded again)
    found = found[:5]
    conn = session.connection()
    hashes = dict(
        conn.execute(
            select(Article.id, Article.content_hash).where(Article.id.in_([i for i, _ in found]))
        ).all()
    )
    mine = _SHINGLES.get(article.content_hash, lambda: _words(article))
    for other_id, distance in found:
        shingles = _SHINGLES.get(hashes[other_id], partial(_stored_words, conn, other_id))
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
        not_modified=0,
        errors=0,
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
        site.error_count += int(counts.get("errors", 0)) or 1
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
    art = session.scalar(select(Article).join(ArticleUrl).where(ArticleUrl.url == id_or_url))
    return art or session.scalar(
        select(Article).where(or_(Article.url == id_or_url, Article.canonical_url == id_or_url))
    )


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
