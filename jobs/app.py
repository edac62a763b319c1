"""Wiring shared by the CLI and the daemon: config → Fetcher, database URL → sessions."""

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
from storage.db import check_schema, make_engine, session_factory

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
        )
    return Fetcher(fetch_settings(config.fetch), slots=slots)


def build_pool(config: Config) -> CpuPool:
    """The crawler's CPU pool (``[daemon] cpu_workers``, ``cpu_pool``); the caller closes it."""
    kind = cast(PoolKind, config.daemon.cpu_pool)
    return CpuPool(config.daemon.cpu_workers, kind)


@dataclass
class Archive:
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_archive(db_url: str, *, check: bool = True, read_only: bool = False) -> Archive:
    """Open the database; with ``check``, refuse one that is not migrated (StorageError).

    ``read_only`` for commands that only read: an SQLite archive on read-only media opens."""
    engine = make_engine(db_url, read_only=read_only)
    if check:
        check_schema(engine)
    return Archive(engine, session_factory(engine))
