"""Work that one worker at a time does: a site's discovery, under a PostgreSQL advisory lock.

``pg_try_advisory_lock`` on a hash of the site's name, held on a connection of its own for the
length of the work: another worker that asks meanwhile is told no at once (it drains instead),
and a worker that dies drops its connection and with it the lock. SQLite serves one daemon per
file: the lock is always granted.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine, text

#: the first key of every vnnews advisory lock ("vnns"), so other users of the database's
#: advisory locks do not collide with ours
NAMESPACE = 0x766E6E73


def lock_key(name: str) -> int:
    """A stable signed 32-bit key for ``name`` (the second key of the lock)."""
    return int.from_bytes(hashlib.sha256(name.encode("utf-8")).digest()[:4], "big", signed=True)


@contextmanager
def exclusive(engine: Engine, name: str) -> Iterator[bool]:
    """``with exclusive(engine, "discover:site") as mine:`` — ``mine`` is False when another
    worker holds it; the lock is released on leaving."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    key = lock_key(name)
    with engine.connect() as conn:
        got = bool(
            conn.execute(
                text("SELECT pg_try_advisory_lock(:ns, :key)"), {"ns": NAMESPACE, "key": key}
            ).scalar()
        )
        conn.commit()  # session-level lock: it outlives the transaction, not the connection
        try:
            yield got
        finally:
            if got:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:ns, :key)"), {"ns": NAMESPACE, "key": key}
                )
                conn.commit()
