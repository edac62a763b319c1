"""Wiring shared by the CLI and the daemon: config → Fetcher, database URL → sessions."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from jobs.config import Config, FetchConfig
from scraper.fetch import Fetcher, FetchSettings
from storage.db import check_schema, make_engine, session_factory


def fetch_settings(cfg: FetchConfig) -> FetchSettings:
    return FetchSettings(
        user_agent=cfg.user_agent,
        min_delay=cfg.min_delay,
        timeout=cfg.timeout,
        max_bytes=cfg.max_bytes,
        respect_robots=cfg.respect_robots,
        allow_hosts=frozenset(cfg.allow_hosts),
        max_retries=cfg.max_retries,
    )


def build_fetcher(config: Config) -> Fetcher:
    return Fetcher(fetch_settings(config.fetch))


@dataclass
class Archive:
    engine: Engine
    sessions: sessionmaker[Session]

    def close(self) -> None:
        self.engine.dispose()


def open_archive(db_url: str, *, check: bool = True) -> Archive:
    """Open the database; with ``check``, refuse one that is not migrated (StorageError)."""
    engine = make_engine(db_url)
    if check:
        check_schema(engine)
    return Archive(engine, session_factory(engine))
