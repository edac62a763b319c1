"""Host slots in the database: one request at a time per host across every worker.

``take`` either gives the caller the host's slot or says how long to wait; ``give_back`` frees it
and sets when the next request may start; ``pause`` pushes that time back (Retry-After). The row
is read ``FOR UPDATE SKIP LOCKED`` (PostgreSQL): a worker never blocks on another's transaction,
it just tries again shortly. A worker killed while holding a slot blocks the host only until
``held_until``. Functions take a Session and never commit, like ``repo``.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from storage.models import HostSlot
from storage.sql import dialect_insert

#: how soon to look again when the row is locked by another worker's (short) transaction
BUSY_RETRY = 0.02


def take(
    session: Session,
    host: str,
    *,
    holder: str,
    now: datetime,
    hold: timedelta,
    delay: float = 0.0,
) -> float | None:
    """Take ``host``'s slot: None if it is now ours, else the seconds to wait before asking
    again: until the host's next allowed time, or, while another worker holds it, ``delay``
    (the caller's delay for the host: the slot cannot be free sooner after that request)."""
    mine = select(HostSlot).where(HostSlot.host == host).with_for_update(skip_locked=True)
    row = session.scalar(mine)
    if row is None:  # a new host, or locked by another worker right now
        session.execute(
            dialect_insert(session, HostSlot)
            .values(host=host, next_allowed_at=now, requests=0)
            .on_conflict_do_nothing(index_elements=["host"])
        )
        row = session.scalar(mine)
    if row is None:
        return BUSY_RETRY
    if row.holder is not None and row.held_until is not None and row.held_until > now:
        return max(BUSY_RETRY, min(delay, (row.held_until - now).total_seconds()))
    if row.next_allowed_at > now:
        return (row.next_allowed_at - now).total_seconds()
    row.holder, row.held_until = holder, now + hold
    row.requests += 1
    return None


def give_back(
    session: Session,
    host: str,
    *,
    holder: str,
    next_allowed_at: datetime,
    last_elapsed: float | None,
) -> None:
    """Free the slot (if still ours) and set the next allowed time (never earlier than a
    pause set meanwhile)."""
    row = session.scalar(select(HostSlot).where(HostSlot.host == host).with_for_update())
    if row is None:
        return
    if row.holder == holder:
        row.holder, row.held_until = None, None
    row.next_allowed_at = max(row.next_allowed_at, next_allowed_at)
    if last_elapsed is not None:
        row.last_elapsed = last_elapsed


def pause(session: Session, host: str, until: datetime) -> None:
    """No request to ``host`` before ``until`` (Retry-After), from any worker."""
    session.execute(
        update(HostSlot)
        .where(HostSlot.host == host, HostSlot.next_allowed_at < until)
        .values(next_allowed_at=until)
    )


def last_elapsed(session: Session, host: str) -> float | None:
    return session.scalar(select(HostSlot.last_elapsed).where(HostSlot.host == host))
