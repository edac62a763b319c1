"""A new archive just works: plain paths, missing directories, new and older schemas, locks."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sqlalchemy import inspect

from scraper.errors import ConfigError
from storage.db import (
    DatabaseLocationError,
    current_revision,
    database_url,
    head_revision,
    make_engine,
    prepare,
    schema_state,
    upgrade,
)
from storage.locks import FileLock, LockHeld, daemon_lock, lock_path, migration_lock


def test_database_url() -> None:
    assert database_url("data/x.db") == "sqlite:///data/x.db"
    assert database_url("/srv/vnnews.db") == "sqlite:////srv/vnnews.db"
    assert database_url("sqlite:///data/x.db") == "sqlite:///data/x.db"
    assert database_url("postgresql://u@h/db") == "postgresql://u@h/db"
    assert database_url("~/x.db") == f"sqlite:///{Path.home()}/x.db"
    for empty in ("", "  "):  # an unset variable in a script: not an in-memory database
        with pytest.raises(DatabaseLocationError, match="no database given"):
            database_url(empty)


def test_a_database_vnnews_does_not_archive_into_is_named_not_a_missing_driver() -> None:
    for url in ("mysql://root@127.0.0.1/test", "mssql+pyodbc://u@h/db"):
        with pytest.raises(DatabaseLocationError, match=r"unsupported database .* SQLite .*"):
            make_engine(url)
    # the short scheme some hosts hand out is PostgreSQL, through the driver we ship
    engine = make_engine("postgres://u@127.0.0.1:5432/x")
    assert engine.dialect.name == "postgresql" and engine.dialect.driver == "psycopg"
    engine.dispose()


def test_a_missing_directory_is_an_error_naming_it_and_creates_nothing(tmp_path: Path) -> None:
    target = tmp_path / "typo" / "vnnews.db"
    with pytest.raises(DatabaseLocationError, match=f"directory {tmp_path / 'typo'} does not"):
        make_engine(str(target))
    assert not (tmp_path / "typo").exists()
    assert isinstance(DatabaseLocationError("x"), ConfigError)  # usage: exit status 2
    (tmp_path / "file").write_text("")
    with pytest.raises(DatabaseLocationError, match="is not a directory"):
        make_engine(str(tmp_path / "file" / "x.db"))
    with pytest.raises(DatabaseLocationError, match="is a directory"):
        make_engine(str(tmp_path))


def test_the_head_revision_constant_is_the_newest_migration() -> None:
    # HEAD_REVISION spares every command importing alembic: a new migration must move it
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    from storage.db import HEAD_REVISION, MIGRATIONS

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    assert ScriptDirectory.from_config(config).get_current_head() == HEAD_REVISION
    # a current database is recognised without alembic (this process imported it above)
    code = (
        "import sys; from storage.db import make_engine, schema_state; "
        "schema_state(make_engine('sqlite://')); print('alembic' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_prepare_creates_a_new_database_and_upgrades_an_older_one_only_when_asked(
    db_url: str,
) -> None:
    engine = make_engine(db_url)
    try:
        assert schema_state(engine) == ("new", None)
        assert prepare(engine, upgrade_older=False) == "new"
        assert schema_state(engine) == ("current", head_revision())
        assert prepare(engine, upgrade_older=False) == "current"
    finally:
        engine.dispose()
    older = make_engine(db_url.replace("vnnews.db", "older.db")) if "sqlite" in db_url else None
    if older is None:
        return
    try:
        upgrade(older, "0003")
        assert schema_state(older) == ("older", "0003")
        with pytest.raises(Exception, match="db upgrade"):
            prepare(older, upgrade_older=False)
        assert current_revision(older) == "0003"
        assert prepare(older, upgrade_older=True) == "older"
        assert current_revision(older) == head_revision()
    finally:
        older.dispose()


def test_an_older_postgresql_schema_is_upgraded_once_by_daemons_starting_together(
    pg_url: str,
) -> None:
    engine = make_engine(pg_url)
    upgrade(engine, "0003")
    engine.dispose()
    errors: list[BaseException] = []

    def start() -> None:
        own = make_engine(pg_url)
        try:
            prepare(own, upgrade_older=True)
        except BaseException as exc:
            errors.append(exc)
        finally:
            own.dispose()

    threads = [threading.Thread(target=start) for _ in range(3)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    engine = make_engine(pg_url)
    assert current_revision(engine) == head_revision()
    assert "leased_by" in {c["name"] for c in inspect(engine).get_columns("urls")}
    engine.dispose()


def test_one_daemon_per_sqlite_file(tmp_path: Path) -> None:
    engine = make_engine(str(tmp_path / "a.db"))
    first = daemon_lock(engine)
    assert first is not None and lock_path(tmp_path / "a.db").exists()
    try:
        with pytest.raises(LockHeld, match=r"a\.db: already in use by a vnnews daemon \(pid \d+"):
            daemon_lock(engine)
        # and a migration waits for it, then says who holds the file
        with pytest.raises(LockHeld, match="cannot migrate"), migration_lock(engine):
            pass
        # the same file through a symlink in another directory is the same database
        (tmp_path / "elsewhere").mkdir()
        (tmp_path / "elsewhere" / "link.db").symlink_to(tmp_path / "a.db")
        linked = make_engine(str(tmp_path / "elsewhere" / "link.db"))
        with pytest.raises(LockHeld, match="already in use"):
            daemon_lock(linked)
        linked.dispose()
    finally:
        first.release()
    second = daemon_lock(engine)  # free again
    assert second is not None
    second.release()
    assert daemon_lock(make_engine("postgresql+psycopg://u@127.0.0.1/x")) is None
    engine.dispose()


def test_the_lock_dies_with_its_process(tmp_path: Path) -> None:
    """kill -9 leaves the lock file behind, but not the lock: a restart is never blocked."""
    path = tmp_path / "vnnews.db.lock"
    holder = subprocess.Popen(
        [
            sys.executable, "-c",
            "import sys, time; from pathlib import Path; from storage.locks import FileLock; "
            f"FileLock(Path({str(path)!r})).acquire('run'); print('held', flush=True); "
            "time.sleep(60)",
        ],
        stdout=subprocess.PIPE, text=True,
    )  # fmt: skip
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        with pytest.raises(LockHeld, match=f"pid {holder.pid}"):
            FileLock(path).acquire("run")
        holder.kill()
        holder.wait()
        lock = FileLock(path).acquire("run", wait=5.0)
        assert lock.held
        lock.release()
    finally:
        if holder.poll() is None:
            holder.kill()
            holder.wait()
        if holder.stdout is not None:
            holder.stdout.close()
    assert path.exists()  # left behind, harmless
