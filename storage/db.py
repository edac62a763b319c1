"""Engine and session setup for SQLite (the embedded default) and PostgreSQL.

SQLite gets WAL mode (readers such as Datasette never block the daemon), foreign keys on and a
busy timeout. Migrations are applied with ``upgrade`` (Alembic, scripts in storage/migrations);
``prepare`` is what the commands call: a new database is created and migrated, an older schema
is upgraded when the caller may (``vnnews run``), under ``storage.locks.migration_lock``.

``--db`` takes a SQLAlchemy URL or a plain file path (``database_url``); an SQLite file whose
directory does not exist is an error naming it, and nothing is created.

``make_engine(url, read_only=True)`` (the read commands) opens an SQLite file with
``mode=ro``, and also ``immutable=1`` when the file or its directory is not writable: on
read-only media SQLite cannot create the WAL's ``-shm`` file, so without it even a plain read
fails with "unable to open database file".
"""

from __future__ import annotations

import json
import logging
import os
import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from scraper.errors import ConfigError, DiskFullError, StorageError
from storage import neardup

DEFAULT_DB = "sqlite:///data/vnnews.db"
MIGRATIONS = Path(__file__).with_name("migrations")
log = logging.getLogger("vnnews.db")


class DatabaseLocationError(ConfigError):
    """``--db`` names a place that cannot hold a database (usage: exit status 2)."""


def database_url(value: str) -> str:
    """A SQLAlchemy URL as given, or a plain file path as its ``sqlite:///`` URL. Pure.

    ``data/x.db`` → ``sqlite:///data/x.db``; ``/srv/x.db`` → ``sqlite:////srv/x.db``;
    ``~/x.db`` is expanded. Anything with ``://`` (or ``sqlite:``) is a URL already."""
    value = value.strip()
    if not value:
        raise DatabaseLocationError("no database given (--db or VNNEWS_DB is empty)")
    if "://" in value or value.startswith("sqlite:"):
        return value
    return f"sqlite:///{os.path.expanduser(value)}"


def _json_dumps(value: Any) -> str:
    """JSON as people read it in sqlite3 and Datasette: UTF-8 text, not ``\\u00e0`` escapes."""
    return json.dumps(value, ensure_ascii=False)


def _sqlite_functions(dbapi_conn: Any) -> None:
    """SQL functions the repository's SQLite queries call (PostgreSQL has them built in)."""
    dbapi_conn.create_function(neardup.SQLITE_HAMMING, 2, neardup.sql_hamming, deterministic=True)


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    _sqlite_functions(dbapi_conn)
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")
    # a checkpoint every ~40 MB of WAL, not every 4 MB (the default 1000 pages): the index and
    # full-text pages every article rewrites are copied back once per checkpoint, so the
    # store costs ~13 % less CPU (2.9 -> 2.6 ms an article, bench of Crawler._store); the WAL
    # file grows to about that size between checkpoints
    cur.execute("PRAGMA wal_autocheckpoint=10000")
    cur.close()


def _sqlite_read_pragmas(dbapi_conn: Any, _record: Any) -> None:
    _sqlite_functions(dbapi_conn)
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
        check_location(path)  # a missing directory is the user's typo: say that (exit 2)
        raise StorageError(_nothing_archived(f"no database at {path}", str(path)))
    uri = sqlite_read_only_uri(path, writable=_can_write(path))

    def connect() -> sqlite3.Connection:
        return sqlite3.connect(uri, uri=True, timeout=30, check_same_thread=False)

    engine = create_engine(f"sqlite:///{path}", creator=connect, json_serializer=_json_dumps)
    event.listen(engine, "connect", _sqlite_read_pragmas)
    return engine


def make_engine(url: str, *, read_only: bool = False) -> Engine:
    """An Engine for a SQLAlchemy URL or a plain SQLite file path (``database_url``).

    Creates nothing: an SQLite file's directory must exist (DatabaseLocationError otherwise);
    the file itself is created by the first write. ``read_only``: an SQLite file is opened
    read-only (see the module docstring) and must exist.
    """
    url = database_url(url)
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseLocationError(f"bad database URL {url!r}: {exc}") from None
    if parsed.drivername in ("postgresql", "postgres"):  # psycopg 3 is the driver we ship
        parsed = parsed.set(drivername="postgresql+psycopg")
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseLocationError(
            f"unsupported database {parsed.get_backend_name()!r} in {parsed.render_as_string()!r}:"
            " vnnews archives into SQLite (a file path) or PostgreSQL (postgresql://...)"
        )
    if parsed.get_backend_name() == "sqlite":
        if read_only and parsed.database and parsed.database != ":memory:":
            return _sqlite_read_only(Path(parsed.database))
        if parsed.database and parsed.database != ":memory:":
            check_location(Path(parsed.database))
        engine = create_engine(parsed, connect_args={"timeout": 30}, json_serializer=_json_dumps)
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "handle_error", _disk_full)
        return engine
    try:
        engine = create_engine(parsed, pool_pre_ping=True, json_serializer=_json_dumps)
        event.listen(engine, "handle_error", _disk_full)
        return engine
    except (SQLAlchemyError, ImportError) as exc:
        raise StorageError(
            f"cannot use database {parsed.render_as_string(hide_password=True)}: {exc}"
        ) from exc


#: SQLite's SQLITE_FULL message; PostgreSQL's disk_full SQLSTATE (class 53: insufficient resources)
_SQLITE_FULL = "database or disk is full"
_PG_DISK_FULL = "53100"


def _disk_full(context: Any) -> None:
    """Turn a full disk into one DiskFullError naming the database, whatever statement hit it,
    so the CLI prints one line and the daemon pauses instead of logging tracebacks."""
    orig = context.original_exception
    full = _SQLITE_FULL in str(orig) or getattr(orig, "sqlstate", None) == _PG_DISK_FULL
    if full:
        where = context.engine.url.render_as_string(hide_password=True) if context.engine else "?"
        raise DiskFullError(f"database {where}: disk full ({str(orig).splitlines()[0]})") from orig


def check_location(path: Path) -> None:
    """An SQLite file can be created at ``path``: its directory exists (and is one); else
    DatabaseLocationError, the user's typo (exit status 2)."""
    parent = path.absolute().parent
    if not parent.is_dir():
        what = "is not a directory" if parent.exists() else "does not exist"
        raise DatabaseLocationError(f"database {path}: directory {parent} {what} (create it first)")
    if path.is_dir():
        raise DatabaseLocationError(f"database {path}: is a directory, not a database file")


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


#: the newest migration (storage/migrations/versions), known without importing alembic and
#: reading every migration script: 0.1 s of each command that opens the archive.
#: tests/storage/test_setup.py holds it equal to alembic's own head
HEAD_REVISION = "0011"


def current_revision(engine: Engine) -> str | None:
    """The database's migration revision (alembic's one-row table), None before the first."""
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        return conn.execute(text("SELECT version_num FROM alembic_version")).scalar()


def head_revision() -> str:
    return HEAD_REVISION


def schema_state(engine: Engine) -> tuple[str, str | None]:
    """("new" | "current" | "older" | "unknown", current revision) of a database.

    new: no tables at all (a file just created, an empty PostgreSQL database); older: a revision
    this code can upgrade from; unknown: tables but no revision this code knows (newer code, or
    not a vnnews database)."""
    try:
        tables = set(inspect(engine).get_table_names())
        current = current_revision(engine) if "alembic_version" in tables else None
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open database {_shown(engine)}: {exc}") from exc
    if not tables - {"alembic_version"} and current is None:
        return "new", None
    if current == head_revision():
        return "current", current
    if current is not None and current in _known_revisions():
        return "older", current
    return "unknown", current


def _known_revisions() -> set[str]:
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_alembic_config(create_engine("sqlite://")))
    return {rev.revision for rev in script.walk_revisions()}


def _shown(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)


def prepare(engine: Engine, *, upgrade_older: bool, lock: Any = None) -> str:
    """Make the database usable by this code; returns its state before ("new", "current"...).

    A new database is created and migrated; an older schema is upgraded only with
    ``upgrade_older`` (``vnnews run``; other commands say to run ``vnnews db upgrade``), logged.
    Migrations run under ``storage.locks.migration_lock`` (``lock``: a FileLock the caller
    holds already), and the state is read again inside it: whoever comes second finds the work
    done."""
    from storage.locks import migration_lock

    state, current = schema_state(engine)
    if state == "current":
        return state
    if state == "unknown":
        check_schema(engine)  # raises, naming the revisions
    if state == "older" and not upgrade_older:
        check_schema(engine)
    with migration_lock(engine, held=lock):
        again, current = schema_state(engine)
        if again == "new":
            log.info("creating database %s", _shown(engine))
            upgrade(engine)
        elif again == "older":
            log.warning(
                "upgrading database %s from revision %s to %s",
                _shown(engine), current, head_revision(),
            )  # fmt: skip
            upgrade(engine)
    return state


def _nothing_archived(where: str, db: str) -> str:
    return f"{where}: nothing archived yet (start with 'vnnews --db {db} crawl')"


def check_archived(engine: Engine) -> tuple[str, str | None]:
    """Raise StorageError when the database has no tables at all (an empty PostgreSQL database,
    an empty SQLite file): nothing archived yet, as for a missing SQLite file, not a migration
    to run (``check_schema`` says that of tables at an older revision). Returns the
    ``schema_state`` it read, for ``check_schema``."""
    state = schema_state(engine)
    if state[0] == "new":
        raise StorageError(
            _nothing_archived(f"database {_shown(engine)} is empty", _hint_db(engine))
        )
    return state


def check_schema(engine: Engine, state: tuple[str, str | None] | None = None) -> None:
    """Raise StorageError with a hint when the database is not migrated to head. ``state``:
    its ``schema_state`` when the caller read it already."""
    if state is not None:
        current = state[1]
    else:
        try:
            tables = set(inspect(engine).get_table_names())
            current = current_revision(engine) if "alembic_version" in tables else None
        except SQLAlchemyError as exc:
            raise StorageError(
                f"cannot open database {engine.url.render_as_string(hide_password=True)}: {exc}"
            ) from exc
    head = head_revision()
    if current != head:
        require_not_foreign(engine)
        hint = (
            "this vnnews is older than the database: upgrade vnnews"
            if current is not None and current not in _known_revisions()
            else f"run 'vnnews --db {_hint_db(engine)} db upgrade'"
        )
        raise StorageError(
            f"database {_shown(engine)} is at revision {current or 'none'}, "
            f"code expects {head}: {hint}"
        )


def require_not_foreign(engine: Engine) -> None:
    """Raise StorageError when an SQLite file holds tables, none of them the archive's: another
    program's database (its own alembic revision or none), which ``db upgrade`` would fill
    with the archive's tables. A PostgreSQL database may be shared with other schemas' and
    extensions' tables (PostGIS): it is not judged by them."""
    if engine.url.get_backend_name() != "sqlite":
        return
    from storage import models  # the archive's tables: Base.metadata

    try:
        tables = set(inspect(engine).get_table_names()) - {"alembic_version"}
    except SQLAlchemyError as exc:
        raise StorageError(f"cannot open database {_shown(engine)}: {exc}") from exc
    if tables and not tables & set(models.Base.metadata.tables):
        shown = ", ".join(sorted(tables)[:5]) + (", ..." if len(tables) > 5 else "")
        raise StorageError(
            f"database {_shown(engine)} is not a vnnews archive (it holds other tables: "
            f"{shown}): choose another --db"
        )


def _hint_db(engine: Engine) -> str:
    """The ``--db`` value to repeat in a hint (a plain path for SQLite files)."""
    if engine.url.get_backend_name() == "sqlite" and engine.url.database:
        return engine.url.database
    return _shown(engine)
