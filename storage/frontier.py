"""The frontier: every URL we know, when it is due, and who holds it.

``enqueue`` adds URLs (idempotent on the URL), ``claim_due`` leases the next due article URLs
in one atomic ``UPDATE ... RETURNING`` (SQLite takes its write lock for the whole statement;
PostgreSQL selects with ``FOR UPDATE SKIP LOCKED``), so a ``vnnews crawl`` beside ``vnnews run``,
or several daemons on one PostgreSQL, never fetch a URL twice. The lease records its holder
(``urls.leased_by``, a ``workers`` row): ``release_held_by`` hands a dead worker's URLs back (see
``storage.recovery``). ``release`` hands leases back on shutdown, and ``mark_fetched`` /
``mark_failed`` record the outcome of a fetch with the state and next due time that
``jobs.revisit`` decided, ending the lease. Like ``repo``, functions take a Session and never
commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import BindParameter, Row, bindparam, func, select, update
from sqlalchemy.orm import Session

from storage.models import Url, UrlKind, UrlState
from storage.sql import dialect_insert, table

_URLS = table(Url)


@dataclass(frozen=True)
class NewUrl:
    url: str
    source_date: datetime | None = None
    #: when the site says the page last changed (a sitemap's ``<lastmod>``): an archived
    #: article changed since its fetch is due again (``refetch_changed``)
    lastmod: datetime | None = None


@dataclass(frozen=True)
class Enqueued:
    """What ``add_urls`` did: how many URLs were new, and how many of the others belong to
    another site (by its id): a URL is one site's, the first to find it."""

    new: int
    elsewhere: dict[int, int]


def enqueue(
    session: Session,
    site_id: int,
    items: Iterable[NewUrl],
    *,
    now: datetime,
    kind: str = UrlKind.ARTICLE,
    priority: int = 0,
    via: str | None = None,
) -> int:
    """Add URLs not yet known, due now. Returns how many were new."""
    return add_urls(session, site_id, items, now=now, kind=kind, priority=priority, via=via).new


def add_urls(
    session: Session,
    site_id: int,
    items: Iterable[NewUrl],
    *,
    now: datetime,
    kind: str = UrlKind.ARTICLE,
    priority: int = 0,
    via: str | None = None,
) -> Enqueued:
    """``enqueue``, also counting the known URLs that another site holds."""
    by_url = {item.url: item for item in items}
    if not by_url:
        return Enqueued(0, {})
    known: set[str] = set()
    elsewhere: dict[int, int] = {}
    urls = list(by_url)
    for i in range(0, len(urls), 500):
        chunk = urls[i : i + 500]
        for url, owner in session.execute(select(Url.url, Url.site_id).where(Url.url.in_(chunk))):
            known.add(url)
            if owner != site_id:
                elsewhere[owner] = elsewhere.get(owner, 0) + 1
    rows = [
        {
            "url": u,
            "site_id": site_id,
            "kind": kind,
            "state": UrlState.NEW,
            "priority": priority,
            "next_due": now,
            "attempts": 0,
            "discovered_at": now,
            "discovered_via": via,
            "source_date": item.source_date,
        }
        for u, item in by_url.items()
        if u not in known
    ]
    if rows:
        session.execute(
            dialect_insert(session, Url).on_conflict_do_nothing(index_elements=["url"]), rows
        )
    return Enqueued(len(rows), elsewhere)


#: a lastmod must pass the last fetch by this much (a clock or a time zone slightly off is no
#: edit), and one sitemap read makes at most ``REFETCH_LIMIT`` articles due (the newest
#: lastmods first: a site that re-saved its archive in bulk is not fetched in full at once)
REFETCH_SLACK = timedelta(hours=1)
REFETCH_LIMIT = 100
_ARCHIVED = (UrlState.FETCHED, UrlState.NOT_MODIFIED)


def refetch_changed(
    session: Session, site_id: int, items: Iterable[NewUrl], *, now: datetime, lease: timedelta
) -> int:
    """Make the archived articles among ``items`` whose ``lastmod`` passed their last fetch due
    now: an edit the recrawl schedule would miss (it stops 7 days after publication). A
    ``lastmod`` in the future is no evidence; a URL leased to a worker, or due within a lease
    anyway, is left alone. Returns how many came due."""
    lastmods = {i.url: i.lastmod for i in items if i.lastmod is not None and i.lastmod <= now}
    changed: list[tuple[datetime, int]] = []
    urls = list(lastmods)
    for i in range(0, len(urls), 500):
        rows = session.execute(
            select(Url.id, Url.url, Url.last_fetched_at, Url.next_due, Url.leased_by).where(
                Url.site_id == site_id,
                Url.kind == UrlKind.ARTICLE,
                Url.state.in_(_ARCHIVED),
                Url.url.in_(urls[i : i + 500]),
            )
        )
        for row in rows:
            lastmod = lastmods[row.url]
            if (
                row.leased_by is None
                and row.last_fetched_at is not None
                and lastmod > row.last_fetched_at + REFETCH_SLACK
                and (row.next_due is None or row.next_due > now + lease)
            ):
                changed.append((lastmod, row.id))
    ids = [row_id for _, row_id in sorted(changed, reverse=True)[:REFETCH_LIMIT]]
    if ids:
        session.execute(update(Url).where(Url.id.in_(ids)).values(next_due=now))
    return len(ids)


def source_url(session: Session, site_id: int, url: str, kind: str, now: datetime) -> Url:
    """The frontier row of a feed/sitemap/listing URL (it carries the ETag for conditional GET)."""
    row = session.scalar(select(Url).where(Url.url == url))
    if row is None:
        session.execute(
            dialect_insert(session, Url)
            .values(
                url=url,
                site_id=site_id,
                kind=kind,
                state=UrlState.NEW,
                priority=0,
                attempts=0,
                discovered_at=now,
            )
            .on_conflict_do_nothing(index_elements=["url"])
        )
        row = session.scalars(select(Url).where(Url.url == url)).one()
    return row


def claim_due(
    session: Session,
    site_id: int,
    *,
    now: datetime,
    limit: int,
    lease: timedelta,
    holder: int | None = None,
) -> list[Row[Any]]:
    """Take up to ``limit`` due article URLs, highest priority first, and lease them to
    ``holder`` (a ``workers.id``).

    One statement picks and leases: ``UPDATE urls SET next_due = now + lease, leased_by = holder
    WHERE id IN (SELECT ... LIMIT n [FOR UPDATE SKIP LOCKED]) RETURNING *``. A SELECT followed
    by an UPDATE would let two SQLite connections read the same due row before either wrote.
    The lease moves ``next_due`` forward, so the URL of a worker that dies comes due again at
    the latest when the lease runs out; recovery hands it back sooner (``release_held_by``).
    """
    due = (
        select(_URLS.c.id)
        .where(
            _URLS.c.site_id == site_id,
            _URLS.c.kind == UrlKind.ARTICLE,
            _URLS.c.next_due.is_not(None),
            _URLS.c.next_due <= now,
        )
        .order_by(_URLS.c.priority.desc(), _URLS.c.next_due, _URLS.c.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    # Core rows (the columns, by name): loading ORM objects cost more than the claim itself
    stmt = (
        update(_URLS)
        .where(_URLS.c.id.in_(due.scalar_subquery()))
        .values(next_due=now + lease, leased_by=holder)
        .returning(*_URLS.c)
    )
    rows = list(session.connection().execute(stmt))
    rows.sort(key=lambda r: (-r.priority, r.id))  # RETURNING order is unspecified
    return rows


def release(session: Session, url_ids: Sequence[int], now: datetime) -> None:
    """Give leased URLs back (shutdown): due again now."""
    if url_ids:
        session.execute(update(Url).where(Url.id.in_(url_ids)).values(next_due=now, leased_by=None))


def release_held_by(session: Session, worker_ids: Sequence[int], now: datetime) -> int:
    """Hand the leases of (dead) workers back to the queue, due now. Returns how many."""
    if not worker_ids:
        return 0
    result = session.execute(
        update(Url)
        .where(Url.leased_by.in_(list(worker_ids)))
        .values(next_due=now, leased_by=None)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(result, "rowcount", 0) or 0)


_ID = _URLS.c.id == bindparam("b_id")


def _param(name: str, column: str) -> BindParameter[Any]:
    return bindparam(name, type_=_URLS.c[column].type)


_DONE = {
    "leased_by": None,
    "last_fetched_at": _param("b_now", "last_fetched_at"),
    "next_due": _param("b_due", "next_due"),
}
_FETCHED = {
    **_DONE,
    "state": bindparam("b_state"),
    "last_status": bindparam("b_status"),
    "attempts": 0,
    "last_error": None,
    "source_date": func.coalesce(_URLS.c.source_date, _param("b_source_date", "source_date")),
}
# prebuilt (the hot path runs one per fetched URL): built per call, each cost as much as its run
_MARK_FETCHED = update(_URLS).where(_ID).values(_FETCHED)
_MARK_FETCHED_VALIDATORS = (
    update(_URLS)
    .where(_ID)
    .values({**_FETCHED, "etag": bindparam("b_etag"), "last_modified": bindparam("b_lm")})
)
_MARK_FAILED = (
    update(_URLS)
    .where(_ID)
    .values(
        {
            **_DONE,
            "state": bindparam("b_state"),
            "attempts": _URLS.c.attempts + 1,
            "last_error": bindparam("b_error"),
            "last_status": func.coalesce(_param("b_status", "last_status"), _URLS.c.last_status),
        }
    )
)


def mark_fetched(
    session: Session,
    url_id: int,
    *,
    status: int,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
    state: str,
    next_due: datetime | None = None,
    source_date: datetime | None = None,
) -> None:
    """Record a fetch that answered: the lease ends, the attempts restart. The validators are
    kept when the answer gave none (a 304); ``source_date`` fills a missing one (the article's
    date)."""
    params = {
        "b_id": url_id, "b_now": now, "b_due": next_due, "b_state": str(state),
        "b_status": status, "b_source_date": source_date,
    }  # fmt: skip
    stmt = _MARK_FETCHED
    if etag is not None or last_modified is not None:
        stmt, params["b_etag"], params["b_lm"] = _MARK_FETCHED_VALIDATORS, etag, last_modified
    session.connection().execute(stmt, params)


def mark_failed(
    session: Session,
    url_id: int,
    *,
    error: str,
    now: datetime,
    status: int | None = None,
    next_due: datetime | None,
    state: str = UrlState.FAILED,
) -> None:
    """Record a failure; ``next_due=None`` means never again (gone, not an article)."""
    session.connection().execute(
        _MARK_FAILED,
        {
            "b_id": url_id, "b_now": now, "b_due": next_due, "b_state": str(state),
            "b_error": error[:2000], "b_status": status,
        },
    )  # fmt: skip
