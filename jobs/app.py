"""Wiring shared by the CLI and the daemon: config → Fetcher, database URL → sessions.

``open_archive`` is where a command meets its database: a new one is created and migrated, the
daemon takes its one-per-SQLite-file lock and upgrades an older schema itself (logged), read
commands open it read-only and create nothing."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import cast

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.config import Config, FetchConfig
from jobs.cpupool import CpuPool, PoolKind
from jobs.hostslots import DbHostSlots
from scraper.fetch.client import Fetcher, FetchSettings
from storage.db import check_archived, check_schema, make_engine, prepare, session_factory
from storage.locks import FileLock, daemon_lock

log = logging.getLogger("vnnews")


def fetch_settings(cfg: FetchConfig) -> FetchSettings:
    return FetchSettings(
        user_agent=cfg.user_agent,
        min_delay=cfg.min_delay,
        timeout=cfg.timeout,
        max_bytes=cfg.max_bytes,
        respect_robots=cfg.respect_robots,
        allow_hosts=frozenset(cfg.allow_hosts),
        max_retries=cfg.max_retries,
        connect_timeout=cfg.connect_timeout,
        max_redirects=cfg.max_redirects,
        delay_factor=cfg.delay_factor,
        crawl_delay_cap=cfg.crawl_delay_cap,
        robots_ttl=cfg.robots_ttl,
        max_delay=cfg.max_delay,
    )


def log_policy(config: Config) -> None:
    """Say at start what would surprise a site owner: robots.txt ignored."""
    if not config.fetch.respect_robots:
        log.warning("robots.txt is IGNORED for every site ([fetch] respect_robots = false)")
    for site in config.sites:
        if site.respect_robots is False:
            log.warning("site=%s robots.txt is IGNORED by configuration", site.name)


def build_fetcher(config: Config, archive: Archive | None = None) -> Fetcher:
    """The process's Fetcher. On a PostgreSQL ``archive`` its host slots live in the database
    (``host_slots``): every daemon sharing it sends one request at a time per host, with one
    delay. On SQLite (one daemon per file) politeness stays in the process."""
    slots = None
    if archive is not None and archive.engine.dialect.name == "postgresql":
        slots = DbHostSlots(
            archive.sessions,
            crawl_delay_cap=config.fetch.crawl_delay_cap,
            delay_factor=config.fetch.delay_factor,
            max_delay=config.fetch.max_delay,
        )
    return Fetcher(fetch_settings(config.fetch), slots=slots)


def build_pool(config: Config) -> CpuPool:
    """The crawler's CPU pool (``[daemon] cpu_workers``, ``cpu_pool``), its workers starting
    in the background; the caller closes it."""
    pool = CpuPool(config.daemon.cpu_workers, cast(PoolKind, config.daemon.cpu_pool))
    pool.start()
    return pool


@dataclass
class Archive:
    engine: Engine
    sessions: sessionmaker[Session]
    #: the daemon's lock on an SQLite file, held until ``close``
    lock: FileLock | None = None

    def close(self) -> None:
        self.engine.dispose()
        if self.lock is not None:
            self.lock.release()


def open_archive(
    db_url: str, *, check: bool = True, read_only: bool = False, daemon: bool = False,
    existing: bool = False,
) -> Archive:  # fmt: skip
    """Open the database (a URL or a plain SQLite path).

    ``read_only`` for commands that only read: the database must exist, hold tables (an empty
    one is "nothing archived yet", like a missing SQLite file) and be migrated, and an SQLite
    archive on read-only media opens. Otherwise (``check``) a new database is created and
    migrated, and an older schema is refused with a hint, except for the ``daemon``, which
    first takes the one-daemon-per-SQLite-file lock (StorageError naming the holder) and then
    upgrades it. ``existing``: a writer that must not create the database (db check, compact)."""
    if existing and not read_only:
        # maintenance of an archive that is not there would create an empty one and pass
        make_engine(db_url, read_only=True).dispose()
    engine = make_engine(db_url, read_only=read_only)
    lock = None
    try:
        state = None
        if existing or (read_only and check):
            # PostgreSQL has no missing file: its empty database is the same "nothing archived yet"
            state = check_archived(engine)
        if read_only:
            if check:
                check_schema(engine, state)
        else:
            lock = daemon_lock(engine) if daemon else None
            if check:
                prepare(engine, upgrade_older=daemon, lock=lock)
    except BaseException:
        engine.dispose()
        if lock is not None:
            lock.release()
        raise
    return Archive(engine, session_factory(engine), lock)
