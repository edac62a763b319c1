"""Engine and session setup for SQLite (the embedded default) and PostgreSQL.

SQLite gets WAL mode (readers such as Datasette never block the daemon), foreign keys on and a
busy timeout. Migrations are applied with ``upgrade`` (Alembic, scripts in storage/migrations).

``make_engine(url, read_only=True)`` (the read commands) opens an SQLite file with
``mode=ro``, and also ``immutable=1`` when the file or its directory is not writable: on
read-only media SQLite cannot create the WAL's ``-shm`` file, so without it even a plain read
fails with "unable to open database file".
"""

from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from scraper.errors import StorageError

DEFAULT_DB = "sqlite:///data/vnnews.db"
MIGRATIONS = Path(__file__).with_name("migrations")


def _json_dumps(value: Any) -> str:
    """JSON as people read it in sqlite3 and Datasette: UTF-8 text, not ``\\u00e0`` escapes."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()


def sqlite_read_only_uri(path: Path, *, writable: bool) -> str:
    """The sqlite3 URI that opens ``path`` read-only; ``immutable`` when nothing there may be
    written (no locks, no ``-shm``: the file is trusted not to change while it is open). Pure."""
    uri = f"{path.absolute().as_uri()}?mode=ro"
    return uri if writable else uri + "&immutable=1"


def _can_write(path: Path) -> bool:
    return os.access(path, os.W_OK) and os.access(path.parent, os.W_OK)


def _sqlite_read_only(path: Path) -> Engine:
    if not path.is_file():
        raise StorageError(f"no database at {path}: run 'vnnews db upgrade'")
    uri = sqlite_read_only_uri(path, writable=_can_write(path))

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    engine = create_engine(f"sqlite:///{path}", creator=connect, json_serializer=_json_dumps)
    event.listen(engine, "connect", _sqlite_read_pragmas)
    return engine


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An Engine for a SQLAlchemy URL; creates the SQLite file's directory.

    ``read_only``: an SQLite file is opened read-only (see the module docstring) and must exist.
    """
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise StorageError(f"bad database URL {url!r}: {exc}") from None
    if parsed.drivername == "postgresql":  # psycopg 3 is the driver we ship
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() == "sqlite":
        if read_only and parsed.database and parsed.database != ":memory:":
            return _sqlite_read_only(Path(parsed.database))
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed, connect_args={"timeout": 30}, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    try:
        return create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps)
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(
            f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}"
        ) from exc


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


def _alembic_config(engine: Engine) -> Any:
    from alembic.config import Config as AlembicConfig

    cfg = AlembicConfig()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Apply the migrations up to ``revision``; idempotent."""
    from alembic import command

    try:
        command.upgrade(_alembic_config(engine), revision)
    except SQLAlchemyError as exc:
        raise StorageError(
            f"migration failed on {engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(
        _alembic_config(create_engine("sqlite://"))
    ).get_current_head()


def check_schema(engine: Engine) -> None:
    """Raise StorageError with a hint when the database is not migrated to head."""
    try:
        tables = set(inspect(engine).get_table_names())
        current = current_revision(engine) if "alembic_version" in tables else None
    except SQLAlchemyError as exc:
        raise StorageError(
            f"cannot open database {engine.url.render_as_string(hide_password=True)}: {exc}"
        ) from exc
    head = head_revision()
    if current != head:
        raise StorageError(
            f"database {engine.url.render_as_string(hide_password=True)} "
            f"is at revision {current or 'none'}, "
            f"code expects {head}: run 'vnnews db upgrade'"
        )
