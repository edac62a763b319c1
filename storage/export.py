"""What an export holds: every article field as one flat record, read in a streaming pass.

``article_records`` runs one query and yields one dict per article (the ORM rows are fetched
``BATCH`` at a time and not kept), so an export of 100k articles runs in constant memory
(bench/storage.py --export). The writers live in ``jobs/export.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from storage.models import Article, Page, Site

BATCH = 500

#: every field of an exported article, in order, with its kind (for CSV and Parquet)
FIELDS: tuple[tuple[str, str], ...] = (
    ("id", "int"), ("site", "str"), ("url", "str"), ("canonical_url", "str"), ("title", "str"),
    ("sapo", "str"), ("text", "str"), ("published_at", "time"), ("updated_at", "time"),
    ("authors", "strs"), ("category", "str"), ("tags", "strs"), ("images", "images"),
    ("language", "str"), ("source", "str"), ("content_hash", "str"), ("simhash", "int"),
    ("first_seen", "time"), ("last_seen", "time"), ("extractor", "str"),
    ("extractor_version", "str"), ("page_id", "int"),
)  # fmt: skip


def record(art: Article, site: str) -> dict[str, Any]:
    """One article as a flat record (times stay aware UTC datetimes)."""
    out: dict[str, Any] = {"site": site}
    for name, _kind in FIELDS:
        if name != "site":
            out[name] = getattr(art, name)
    return out


def _filtered(stmt: Any, site: str | None, since: datetime | None, until: datetime | None) -> Any:
    when = func.coalesce(Article.published_at, Article.first_seen)
    if site:
        stmt = stmt.where(Site.name == site)
    if since:
        stmt = stmt.where(when >= since)
    if until:
        stmt = stmt.where(when <= until)
    return stmt


def count_articles(
    session: Session, *, site: str | None, since: datetime | None, until: datetime | None
) -> int:
    stmt = select(func.count()).select_from(Article).join(Site, Site.id == Article.site_id)
    return int(session.scalar(_filtered(stmt, site, since, until)) or 0)


def article_records(
    session: Session, *, site: str | None, since: datetime | None, until: datetime | None
) -> Iterator[dict[str, Any]]:
    """Every matching article, oldest first, as ``record``s."""
    stmt: Any = select(Article, Site.name).join(Site, Site.id == Article.site_id)
    stmt = _filtered(stmt, site, since, until).order_by(
        func.coalesce(Article.published_at, Article.first_seen), Article.id
    )
    result = session.execute(stmt.execution_options(yield_per=BATCH))
    for n, (art, site_name) in enumerate(result, 1):
        yield record(art, site_name)
        if n % BATCH == 0:
            session.expunge_all()  # the identity map would keep every article


def article_pages(
    session: Session, *, site: str | None, since: datetime | None, until: datetime | None
) -> Iterator[tuple[int, Page]]:
    """(article id, the page it was extracted from) for every matching article with one."""
    stmt: Any = select(Article.id, Page).join(Page, Page.id == Article.page_id)
    stmt = stmt.join(Site, Site.id == Article.site_id)
    stmt = _filtered(stmt, site, since, until).order_by(Page.id)
    result = session.execute(stmt.execution_options(yield_per=50))
    for n, (article_id, page) in enumerate(result, 1):
        yield article_id, page
        if n % 50 == 0:
            session.expunge_all()
