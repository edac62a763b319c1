"""A full disk: one line naming the database, the daemon pauses every pass and tries again later
instead of dying or logging tracebacks; nothing archived is lost.

The disk is a real SQLite file whose growth is capped with ``PRAGMA max_page_count`` on every
connection: SQLite then answers exactly as on a full disk (SQLITE_FULL).
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event, text

from jobs.app import build_fetcher
from jobs.config import load_config
from jobs.crawl import Crawler
from jobs.daemon import Daemon
from scraper.errors import DiskFullError
from storage.db import make_engine, session_factory, upgrade
from tests.support.archive import count_rows
from tests.support.mirror import MirrorSite
from tests.support.sites import write_config


def _capped(db: str) -> tuple[Any, Any]:
    """An engine whose database may not grow past its size now (plus two pages), and the
    listener that caps it."""
    engine = make_engine(db)
    with engine.connect() as conn:
        pages = conn.execute(text("PRAGMA page_count")).scalar_one()

    def cap(dbapi_conn: Any, _record: Any) -> None:
        dbapi_conn.execute(f"PRAGMA max_page_count = {int(pages) + 2}")

    engine.dispose()
    event.listen(engine, "connect", cap)
    return engine, cap


def test_a_full_disk_pauses_the_daemon_and_loses_nothing(
    sqlite_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    vnx, tt = mirrors
    config = load_config(write_config(tmp_path / "sources.toml", vnx, tt))
    engine = make_engine(sqlite_url)
    upgrade(engine)
    engine.dispose()
    full, cap = _capped(sqlite_url)
    now = [datetime.now(UTC)]

    async def passes() -> None:
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(fetcher, session_factory(full), clock=lambda: now[0])
            site = config.site("vnx")
            # a one-shot crawl: one error naming the database, no traceback of ours
            with pytest.raises(DiskFullError) as err:
                await crawler.crawl_site(site)
            message = str(err.value)
            assert message.startswith(f"database {sqlite_url}: disk full") and "\n" not in message
            # the daemon: one ERROR line, then passes wait instead of failing again and again
            daemon = Daemon(config, crawler)
            caplog.clear()
            with caplog.at_level(logging.INFO):
                await daemon._guarded(site, True)
                seen = len(vnx.server.seen) + len(tt.server.seen)
                await daemon._guarded(config.site("tt"), True)
                await daemon._guarded(site, False)
            errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
            assert len(errors) == 1, [r.getMessage() for r in errors]
            assert (
                "disk full" in errors[0].getMessage()
                and "paused for 60 s" in errors[0].getMessage()
            )
            assert not any(r.exc_info for r in caplog.records)
            assert len(vnx.server.seen) + len(tt.server.seen) == seen  # paused: nothing fetched
            # room again: once the pause is over, the next pass archives
            full.dispose()
            event.remove(full, "connect", cap)
            now[0] += timedelta(minutes=2)
            await daemon._guarded(site, True)
            await daemon._guarded(config.site("tt"), True)
            assert daemon._db_backoff == timedelta(0)

    asyncio.run(passes())
    full.dispose()
    assert count_rows(sqlite_url) == 3  # vnx's two stories and tt's one, nothing lost
