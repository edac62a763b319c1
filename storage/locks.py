"""Locks between processes: one daemon per SQLite file, and one migration at a time.

SQLite: an OS lock (``fcntl.flock``) on a lock file beside the database (``vnnews.db.lock``).
``vnnews run`` holds it for its whole life, so a second daemon on the same file exits at once
with a message naming the holder (its pid and host are written into the file); the kernel drops
the lock when the process dies, even by ``kill -9``, so a stale lock file never blocks a restart.
A command that must migrate a new database takes the same lock for the migration.

PostgreSQL: several daemons share one database on purpose; migrations are serialized with a
session advisory lock (``pg_advisory_lock``), so daemons started together upgrade it once.

A site's discovery runs in one worker at a time (``exclusive``): ``pg_try_advisory_lock`` on a
hash of the site's name, held on a connection of its own; another worker asking meanwhile is
told no at once (it drains instead); SQLite serves one daemon per file, so it is always granted.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import socket
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType

from sqlalchemy import Engine, text

from scraper.errors import StorageError

#: pg_advisory_lock key for migrations: any fixed 64-bit number unique to vnnews
MIGRATION_LOCK_KEY = 0x766E6E657773  # "vnnews"


class LockHeld(StorageError):
    """Another process holds the lock."""


def sqlite_path(engine: Engine) -> Path | None:
    """The database file of an SQLite engine (None: PostgreSQL, or in memory)."""
    if engine.url.get_backend_name() != "sqlite":
        return None
    database = engine.url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database)


def lock_path(database: Path) -> Path:
    """The lock file beside the database's real file: a symlink or another relative path to
    the same file must find the same lock."""
    try:
        real = database.resolve()
    except (RuntimeError, OSError):  # a symlink loop: the open will say what is wrong
        real = database.absolute()
    return real.with_name(real.name + ".lock")


class FileLock:
    """An exclusive ``flock`` on ``path``, created if needed, released by ``release`` or death."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def holder(self) -> str:
        """Who wrote the lock file last (``pid N on HOST, COMMAND``), or "another process"."""
        with contextlib.suppress(OSError, UnicodeDecodeError):
            parts = self.path.read_text(encoding="utf-8").split()
            if len(parts) >= 3:
                return f"pid {parts[0]} on {parts[1]}, vnnews {parts[2]}"
        return "another process"

    def acquire(self, command: str, *, wait: float = 0.0) -> FileLock:
        """Take the lock, polling up to ``wait`` seconds; LockHeld if another process has it."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        deadline = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    os.close(fd)
                    raise LockHeld(self.holder()) from None
                time.sleep(0.1)
        os.ftruncate(fd, 0)
        os.write(fd, f"{os.getpid()} {socket.gethostname()} {command}\n".encode())
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            fd, self._fd = self._fd, None
            with contextlib.suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing the descriptor drops the flock

    def __enter__(self) -> FileLock:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.release()


def daemon_lock(engine: Engine) -> FileLock | None:
    """Take the one-daemon-per-SQLite-file lock (None for PostgreSQL: daemons share it).

    Raises LockHeld with a one-line message naming the database and the holder."""
    database = sqlite_path(engine)
    if database is None:
        return None
    lock = FileLock(lock_path(database))
    try:
        return lock.acquire("run")
    except LockHeld as exc:
        raise LockHeld(
            f"{database}: already in use by a vnnews daemon ({exc}): one 'vnnews run' per "
            "SQLite file (several daemons share a PostgreSQL database)"
        ) from None


@contextlib.contextmanager
def migration_lock(engine: Engine, *, held: FileLock | None = None) -> Iterator[None]:
    """Serialize migrations: the SQLite lock file (unless the caller ``held`` it already), or a
    PostgreSQL advisory lock."""
    database = sqlite_path(engine)
    if database is not None:
        if held is not None and held.held:
            yield
            return
        lock = FileLock(lock_path(database))
        try:
            lock.acquire("upgrade", wait=10.0)
        except LockHeld as exc:
            raise LockHeld(
                f"{database}: cannot migrate it while another process holds it ({exc})"
            ) from None
        with lock:
            yield
        return
    if engine.url.get_backend_name() == "postgresql":
        with engine.connect() as conn:
            conn.execute(text("SELECT pg_advisory_lock(:key)"), {"key": MIGRATION_LOCK_KEY})
            conn.commit()
            try:
                yield
            finally:
                conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": MIGRATION_LOCK_KEY})
                conn.commit()
        return
    yield


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
