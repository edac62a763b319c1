"""Sites that moved: the ``site_moves`` rows, written when a site's page redirects from its own
registrable domain to another, and read by ``vnnews sites`` and by the crawl (which domains a
site that follows its moves now owns).

Like ``repo``, functions take a Session and never commit. ``record_move`` is idempotent on
(site, from host, to host) and safe under two daemons: the first writer inserts, every later
sighting only moves ``last_seen``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from scraper.urls import registrable_domain
from storage.models import Site, SiteMove
from storage.sql import dialect_insert

__all__ = [
    "Move",
    "latest_move",
    "latest_moves",
    "latest_moves_by_name",
    "moved_domains",
    "record_move",
]


@dataclass(frozen=True)
class Move:
    """Where a site went, and since when (``since`` is the first sighting)."""

    site_id: int
    from_host: str
    to_host: str
    since: datetime
    last_seen: datetime
    evidence_url: str
    source_kind: str


def _move(row: SiteMove) -> Move:
    return Move(
        row.site_id, row.from_host, row.to_host, row.first_seen, row.last_seen,
        row.evidence_url, row.source_kind,
    )  # fmt: skip


def record_move(
    session: Session,
    site_id: int,
    *,
    from_host: str,
    to_host: str,
    evidence_url: str,
    source_kind: str,
    now: datetime,
) -> bool:
    """Record a sighting of the move; True the first time it is seen (so the caller warns once)."""
    inserted = session.execute(
        dialect_insert(session, SiteMove)
        .values(
            site_id=site_id,
            from_host=from_host,
            to_host=to_host,
            first_seen=now,
            last_seen=now,
            evidence_url=evidence_url,
            source_kind=source_kind,
        )
        .on_conflict_do_nothing(index_elements=["site_id", "from_host", "to_host"])
        .returning(SiteMove.id)
    ).scalar()
    if inserted is not None:
        return True
    session.execute(
        update(SiteMove)
        .where(
            SiteMove.site_id == site_id,
            SiteMove.from_host == from_host,
            SiteMove.to_host == to_host,
            SiteMove.last_seen < now,
        )
        .values(last_seen=now)
    )
    return False


def latest_move(session: Session, site_id: int) -> Move | None:
    """The site's most recently seen move (where it is now), or None if it never moved."""
    row = session.scalar(
        select(SiteMove)
        .where(SiteMove.site_id == site_id)
        .order_by(SiteMove.last_seen.desc(), SiteMove.id.desc())
        .limit(1)
    )
    return _move(row) if row is not None else None


def latest_moves(session: Session) -> dict[int, Move]:
    """``latest_move`` of every site that moved, by site id (one query, for ``vnnews sites``)."""
    out: dict[int, Move] = {}
    for row in session.scalars(select(SiteMove).order_by(SiteMove.last_seen, SiteMove.id)):
        out[row.site_id] = _move(row)  # the last one wins
    return out


def latest_moves_by_name(session: Session) -> dict[str, Move]:
    """``latest_moves`` keyed by site name."""
    names: dict[int, str] = {row[0]: row[1] for row in session.execute(select(Site.id, Site.name))}
    return {names[site_id]: move for site_id, move in latest_moves(session).items()}


def moved_domains(session: Session, site_id: int) -> set[str]:
    """The registrable domains the site was seen moving to."""
    hosts = session.scalars(select(SiteMove.to_host).where(SiteMove.site_id == site_id))
    return {registrable_domain(h) for h in hosts}
