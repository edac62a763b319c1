"""Small helpers for tests that open a real archive database."""

from __future__ import annotations

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session, sessionmaker

from storage.db import make_engine, session_factory, upgrade
from storage.models import Article


def migrated(db_url: str) -> tuple[Engine, sessionmaker[Session]]:
    """An engine on a database migrated to head, and its sessionmaker (dispose the engine after)."""
    engine = make_engine(db_url)
    upgrade(engine)
    return engine, session_factory(engine)


def count_rows(db_url: str, model: type = Article) -> int:
    """Rows of ``model`` seen through a fresh connection (what another process would see)."""
    engine = make_engine(db_url)
    try:
        with engine.connect() as conn:
            return int(conn.execute(select(func.count()).select_from(model)).scalar_one())
    finally:
        engine.dispose()
