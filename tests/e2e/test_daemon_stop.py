"""A pass the scheduler hands over just as the daemon stops (a SIGHUP's new sites, a job due at
that second) starts after the passes were cancelled and the fetcher closed: it must end quietly,
not log "pass failed" with a traceback ("Cannot send a request, as the client has been closed")."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import pytest

from jobs.app import build_fetcher
from jobs.config import load_config
from jobs.crawl import Crawler
from jobs.daemon import Daemon
from storage.db import make_engine, session_factory, upgrade
from tests.support.mirror import MirrorSite
from tests.support.sites import write_config


def test_a_pass_due_as_the_daemon_stops_ends_quietly(
    sqlite_url: str, mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:  # fmt: skip
    vnx, tt = mirrors
    config = load_config(write_config(tmp_path / "sources.toml", vnx, tt))
    engine = make_engine(sqlite_url)
    upgrade(engine)

    async def late_pass() -> None:
        async with build_fetcher(config) as fetcher:
            daemon = Daemon(config, Crawler(fetcher, session_factory(engine)))
        daemon.stop()  # stopped, and its fetcher closed: then the scheduler's job starts
        with caplog.at_level(logging.INFO):
            await daemon._guarded(config.site("vnx"), True)

    asyncio.run(late_pass())
    engine.dispose()
    assert not vnx.server.seen
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]
