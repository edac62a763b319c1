"""The frontier: every URL we know, when it is due, and who holds it.

``enqueue`` adds URLs (idempotent on the URL), ``claim_due`` leases the next due article URL
(``FOR UPDATE SKIP LOCKED`` on PostgreSQL, so several daemons share one frontier), ``release``
hands leases back, and ``mark_fetched`` / ``mark_failed`` record the outcome of a fetch with the
state and next due time that ``jobs.revisit`` decided. Like ``repo``, functions take a Session
and never commit.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from storage.models import Url, UrlKind, UrlState
from storage.sql import dialect_insert


@dataclass(frozen=True)
class NewUrl:
    url: str
    source_date: datetime | None = None


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
    by_url = {item.url: item for item in items}
    if not by_url:
        return 0
    known: set[str] = set()
    urls = list(by_url)
    for i in range(0, len(urls), 500):
        chunk = urls[i : i + 500]
        known.update(session.scalars(select(Url.url).where(Url.url.in_(chunk))))
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
    return len(rows)


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
    session: Session, site_id: int, *, now: datetime, limit: int, lease: timedelta
) -> list[Url]:
    """Take up to ``limit`` due article URLs, highest priority first, and lease them.

    The lease moves ``next_due`` forward so another worker (or daemon sharing PostgreSQL, with
    SKIP LOCKED) does not take the same URL; a worker killed mid-fetch leaves URLs that simply
    come due again when the lease runs out.
    """
    stmt = (
        select(Url)
        .where(
            Url.site_id == site_id,
            Url.kind == UrlKind.ARTICLE,
            Url.next_due.is_not(None),
            Url.next_due <= now,
        )
        .order_by(Url.priority.desc(), Url.next_due, Url.id)
        .limit(limit)
        .with_for_update(skip_locked=True)
    )
    rows = list(session.scalars(stmt))
    for row in rows:
        row.next_due = now + lease
    return rows


def release(session: Session, url_ids: Sequence[int], now: datetime) -> None:
    """Give leased URLs back (shutdown): due again now."""
    if url_ids:
        session.execute(update(Url).where(Url.id.in_(url_ids)).values(next_due=now))


def mark_fetched(
    session: Session,
    row: Url | int,
    *,
    status: int,
    etag: str | None,
    last_modified: str | None,
    now: datetime,
    state: str,
    next_due: datetime | None = None,
    source_date: datetime | None = None,
) -> None:
    """Record a fetch. ``row`` is the loaded row, or its id (one UPDATE, nothing loaded: the
    crawler's hot path). ``source_date`` fills a row that has none."""
    values: dict[str, Any] = {
        "state": state,
        "last_status": status,
        "last_fetched_at": now,
        "attempts": 0,
        "last_error": None,
        "next_due": next_due,
    }
    if etag is not None or last_modified is not None:
        values.update(etag=etag, last_modified=last_modified)
    _set(session, row, values, source_date=source_date)


def mark_failed(
    session: Session,
    row: Url | int,
    *,
    error: str,
    now: datetime,
    status: int | None = None,
    next_due: datetime | None,
    state: str = UrlState.FAILED,
) -> None:
    """Record a failure; ``next_due=None`` means never again (gone, not an article)."""
    values: dict[str, Any] = {
        "state": state,
        "last_error": error[:2000],
        "last_fetched_at": now,
        "next_due": next_due,
    }
    if status is not None:
        values["last_status"] = status
    _set(session, row, values, failed=True)


def _set(
    session: Session,
    row: Url | int,
    values: dict[str, Any],
    *,
    failed: bool = False,
    source_date: datetime | None = None,
) -> None:
    """Write ``values`` on a loaded row, or with one UPDATE by id; a failure counts one more
    attempt, and ``source_date`` fills the row's only if it has none."""
    if isinstance(row, int):
        if failed:
            values["attempts"] = Url.attempts + 1
        if source_date is not None:
            values["source_date"] = func.coalesce(Url.source_date, source_date)
        session.execute(update(Url).where(Url.id == row).values(values))
        return
    for key, value in values.items():
        setattr(row, key, value)
    if failed:
        row.attempts += 1
    if source_date is not None and row.source_date is None:
        row.source_date = source_date
