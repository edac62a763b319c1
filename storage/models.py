"""The archive's tables. The schema is a user interface (sqlite3, Datasette): see the README.

SQLite and PostgreSQL share these models: datetimes are stored in UTC (``UTCDateTime``), JSON
lists use JSON (JSONB on PostgreSQL), raw bodies are zstd-compressed bytes.
"""

from __future__ import annotations

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Dialect,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    TypeDecorator,
    UniqueConstraint,
)
from sqlalchemy import (
    text as sql_text,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out; SQLite keeps naive UTC text."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r}: vnnews stores aware datetimes only")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JSONType = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[Any]: JSONType,
        list[str]: JSONType,
        list[dict[str, Any]]: JSONType,
        bytes: LargeBinary(),
    }


class UrlKind(StrEnum):
    """What a frontier row points at."""

    ARTICLE = "article"
    FEED = "feed"
    SITEMAP = "sitemap"
    LISTING = "listing"


class UrlState(StrEnum):
    """Where a frontier row stands; ``jobs.revisit`` decides every change of it."""

    NEW = "new"
    FETCHED = "fetched"
    NOT_MODIFIED = "not_modified"
    #: failed, to be retried at ``next_due`` (None: given up)
    FAILED = "failed"
    #: failed too often: retried a week later
    PARKED = "parked"
    #: 404/410
    GONE = "gone"
    #: fetched, but no article body in it
    NOT_ARTICLE = "not_article"
    #: refused by robots.txt or the address guard: never requested
    BLOCKED = "blocked"
    #: redirects to another domain the site is not followed to (``follow_moves``)
    MOVED = "moved"


class Site(Base):
    __tablename__ = "sites"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(100), unique=True)
    base_url: Mapped[str] = mapped_column(Text)
    added_at: Mapped[datetime]
    last_run_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)
    #: errors since the last successful run
    error_count: Mapped[int] = mapped_column(default=0)
    #: passes in a row that failed (more fetch errors than good answers); 0 after a good one
    failing_passes: Mapped[int] = mapped_column(default=0, server_default="0")
    #: passes that had nothing to do (no crawl_runs row is written for them)
    idle_passes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Url(Base):
    """The frontier: one row per canonical URL we know, with its fetch schedule and state."""

    __tablename__ = "urls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url: Mapped[str] = mapped_column(Text, unique=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"))
    #: a UrlKind: article | feed | sitemap | listing
    kind: Mapped[str] = mapped_column(String(16), default=UrlKind.ARTICLE)
    #: a UrlState: new | fetched | not_modified | failed | parked | gone | not_article | blocked
    state: Mapped[str] = mapped_column(String(16), default=UrlState.NEW)
    #: higher is fetched first: feed 30 > listing 20 > backfill 10
    priority: Mapped[int] = mapped_column(default=0)
    next_due: Mapped[datetime | None]
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None]
    discovered_at: Mapped[datetime]
    #: the feed/sitemap/listing URL this one was found on
    discovered_via: Mapped[str | None] = mapped_column(Text)
    #: the date the source gave (pubDate, lastmod) before we fetched anything
    source_date: Mapped[datetime | None]
    last_fetched_at: Mapped[datetime | None]
    #: the worker holding the URL's lease (claimed, not yet recorded); None when not leased.
    #: A dead worker's leases go back to the queue (storage/recovery.py)
    leased_by: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", name="fk_urls_leased_by", ondelete="SET NULL"), index=True
    )

    __table_args__ = (
        Index("ix_urls_due", "site_id", "next_due"),
        Index("ix_urls_site_fetched", "site_id", "last_fetched_at"),
    )


class Page(Base):
    """Every HTTP fetch, with the raw body exactly as received (zstd-compressed)."""

    __tablename__ = "pages"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    url_id: Mapped[int | None] = mapped_column(
        ForeignKey("urls.id", ondelete="SET NULL"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    final_url: Mapped[str] = mapped_column(Text)
    status: Mapped[int]
    headers: Mapped[dict[str, Any]]
    fetched_at: Mapped[datetime]
    body_zstd: Mapped[bytes | None]
    body_size: Mapped[int] = mapped_column(BigInteger, default=0)
    body_sha256: Mapped[str | None] = mapped_column(String(64), index=True)
    #: the ``zstd_dicts`` row ``body_zstd`` was compressed with (None: a plain zstd frame)
    body_dict_id: Mapped[int | None]


class ZstdDict(Base):
    """A per-site zstd dictionary (raw content of the site's recent pages): the chrome a site
    repeats on every page is stored once. ``vnnews db compact`` builds them."""

    __tablename__ = "zstd_dicts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]
    #: how many pages it was built from
    pages: Mapped[int]
    dict: Mapped[bytes]


class Article(Base):
    """One story, deduplicated by ``content_hash`` over its normalized title and text."""

    __tablename__ = "articles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(Text)
    canonical_url: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str | None] = mapped_column(Text)
    sapo: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime | None]
    authors: Mapped[list[str]]
    category: Mapped[str | None] = mapped_column(Text)
    tags: Mapped[list[str]]
    #: [{"url": ..., "caption": ...}]
    images: Mapped[list[dict[str, Any]]]
    language: Mapped[str | None] = mapped_column(String(16))
    source: Mapped[str | None] = mapped_column(Text)
    #: title + sapo + text folded for search (no case, tone marks or diacritics): storage/search.py
    search_text: Mapped[str | None] = mapped_column(Text)
    content_hash: Mapped[str] = mapped_column(String(64), unique=True)
    #: 64-bit SimHash of the folded text, signed (storage/neardup.py); None when too short
    simhash: Mapped[int | None] = mapped_column(BigInteger)
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    extractor_version: Mapped[str] = mapped_column(String(32))
    extractor: Mapped[str] = mapped_column(String(100))
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))

    urls: Mapped[list[ArticleUrl]] = relationship(
        back_populates="article", cascade="all, delete-orphan"
    )

    # the near-duplicate window (storage.links.link_near_duplicate) reads this index alone
    __table_args__ = (
        Index(
            "ix_articles_window",
            sql_text("coalesce(published_at, first_seen)"),
            "simhash",
            "id",
            "published_at",
            "first_seen",
        ),
    )


class ArticleUrl(Base):
    """Every URL that led to an article: the fetched one, redirects, rel=canonical, copies."""

    __tablename__ = "article_urls"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text, unique=True)
    #: fetched | final | canonical | duplicate
    relation: Mapped[str] = mapped_column(String(16))
    first_seen: Mapped[datetime]

    article: Mapped[Article] = relationship(back_populates="urls")


class ArticleLink(Base):
    """Two articles that tell the same story: ``article_id`` is the later copy of ``other_id``
    (``relation`` "near_duplicate", ``distance`` the SimHash bits apart)."""

    __tablename__ = "article_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    other_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"), index=True)
    relation: Mapped[str] = mapped_column(String(16))
    distance: Mapped[int]
    created_at: Mapped[datetime]

    __table_args__ = (UniqueConstraint("article_id", "other_id", name="uq_article_links_pair"),)


class ArticleVersion(Base):
    """Each distinct content of an article over time (edits caught by recrawls)."""

    __tablename__ = "article_versions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("articles.id", ondelete="CASCADE"))
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    title: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))

    __table_args__ = (UniqueConstraint("article_id", "content_hash"),)


class ArticleEvent(Base):
    """A fetch of a known article's URL that did not change the article: the page became a
    notice ("Báo đã sáp nhập..."), a home page, an empty page, a 404/410, or moved away. The
    archived text stays; the fetch is in ``pages`` (``page_id``)."""

    __tablename__ = "article_events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[int] = mapped_column(
        ForeignKey("articles.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(Text)
    #: notice | home | no_body | gone | moved
    kind: Mapped[str] = mapped_column(String(16))
    #: why, in one line (the notice phrase, the status, the host moved to)
    detail: Mapped[str | None] = mapped_column(Text)
    at: Mapped[datetime]
    page_id: Mapped[int | None] = mapped_column(ForeignKey("pages.id", ondelete="SET NULL"))


class SiteMove(Base):
    """A site's pages seen redirecting from its own domain to another registrable domain."""

    __tablename__ = "site_moves"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    from_host: Mapped[str] = mapped_column(String(255))
    to_host: Mapped[str] = mapped_column(String(255))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    #: the first URL seen redirecting
    evidence_url: Mapped[str] = mapped_column(Text)
    #: what redirected first: feed | sitemap | listing | article | robots | home
    source_kind: Mapped[str] = mapped_column(String(16))

    __table_args__ = (UniqueConstraint("site_id", "from_host", "to_host"),)


class CrawlRun(Base):
    """One pass over a site: discovery and/or fetching, with counts and errors."""

    __tablename__ = "crawl_runs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    site_id: Mapped[int] = mapped_column(ForeignKey("sites.id", ondelete="CASCADE"), index=True)
    #: crawl (discover + fetch) | drain (fetch due URLs only)
    kind: Mapped[str] = mapped_column(String(16))
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    discovered: Mapped[int] = mapped_column(default=0)
    fetched: Mapped[int] = mapped_column(default=0)
    new_articles: Mapped[int] = mapped_column(default=0)
    changed_articles: Mapped[int] = mapped_column(default=0)
    unchanged: Mapped[int] = mapped_column(default=0)
    #: pages whose article another URL or site holds already (from 0010; before, in unchanged)
    duplicates: Mapped[int] = mapped_column(default=0, server_default="0")
    not_modified: Mapped[int] = mapped_column(default=0)
    errors: Mapped[int] = mapped_column(default=0)
    #: 200 pages with no article in them, counted in ``errors`` too (from 0011; before, only
    #: there)
    not_articles: Mapped[int] = mapped_column(default=0, server_default="0")
    #: the first few errors, one line each: "URL: reason"
    error_log: Mapped[list[str]]
    #: the process that ran the pass (workers.id)
    worker_id: Mapped[int | None] = mapped_column(
        ForeignKey("workers.id", name="fk_crawl_runs_worker_id", ondelete="SET NULL")
    )
    #: None while running; ok | failed | stopped (shutdown, Ctrl-C) | interrupted (the process
    #: died: closed by recovery)
    outcome: Mapped[str | None] = mapped_column(String(16))


class Worker(Base):
    """A running (or dead) daemon process: who it is and when it last said so.

    Each ``vnnews run`` registers a row at start and refreshes ``heartbeat_at`` while it lives;
    ``vnnews health`` reads it, and the leases of a worker whose heartbeat is stale go back to
    the queue (PostgreSQL, several daemons).
    """

    __tablename__ = "workers"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host: Mapped[str] = mapped_column(String(255))
    pid: Mapped[int]
    version: Mapped[str] = mapped_column(String(32))
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime] = mapped_column(index=True)
    #: set on a clean shutdown; None while running (or after a crash)
    stopped_at: Mapped[datetime | None]
    #: what the process is: run (the daemon) | crawl | backfill (one-shot commands that claim
    #: URLs and heartbeat too)
    command: Mapped[str] = mapped_column(String(16), default="run", server_default="run")


class HostSlot(Base):
    """A host's request slot, shared by every worker on one PostgreSQL (``storage/hostslots.py``).

    One request at a time per host across daemons: a worker takes the slot (``holder``, until
    ``held_until`` if it dies meanwhile) once ``next_allowed_at`` has passed, and on giving it
    back sets the next allowed time from the politeness rule (min_delay, Crawl-delay, response
    time) or a Retry-After pause. SQLite archives (one daemon) keep politeness in the process.
    """

    __tablename__ = "host_slots"
    host: Mapped[str] = mapped_column(String(255), primary_key=True)
    next_allowed_at: Mapped[datetime]
    #: "hostname:pid" of the worker holding the slot (None: free)
    holder: Mapped[str | None] = mapped_column(String(255))
    held_until: Mapped[datetime | None]
    #: seconds the host took to answer the last request (Heritrix's delay factor uses it)
    last_elapsed: Mapped[float | None] = mapped_column(Float)
    #: requests sent through the slot, ever
    requests: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
