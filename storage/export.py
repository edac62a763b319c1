"""What an export holds: every article field as one flat record, read in a streaming pass.

``article_records`` runs one query of plain columns (no ORM identity map to grow) and yields
one dict per article, fetched ``BATCH`` rows at a time, so an export of 100k articles runs in
constant memory (bench/storage.py --export). The writers live in ``jobs/export.py``.
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
    columns = [getattr(Article, name) for name, _ in FIELDS if name != "site"]
    stmt: Any = select(Site.name.label("site"), *columns).join(Site, Site.id == Article.site_id)
    stmt = _filtered(stmt, site, since, until).order_by(
        func.coalesce(Article.published_at, Article.first_seen), Article.id
    )
    for row in session.execute(stmt.execution_options(yield_per=BATCH)):
        mapping = row._mapping
        yield {name: mapping[name] for name, _ in FIELDS}


def article_pages(
    session: Session, *, site: str | None, since: datetime | None, until: datetime | None
) -> Iterator[tuple[int, Page]]:
    """(article id, the page it was extracted from) for every matching article with one;
    each page is loaded alone and let go after it was yielded."""
    stmt: Any = select(Article.id, Article.page_id).join(Site, Site.id == Article.site_id)
    stmt = _filtered(stmt, site, since, until).where(Article.page_id.is_not(None))
    pairs = [(int(a), int(p)) for a, p in session.execute(stmt.order_by(Article.page_id))]
    for article_id, page_id in pairs:
        page = session.get_one(Page, page_id)
        yield article_id, page
        session.expunge(page)
