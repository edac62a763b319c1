"""A pass over one site: its counters (``RunStats``), what it works with (``SitePass``), and its
``crawl_runs`` row (``recorded_run``), shared by the crawl, the drain and the backfill."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from jobs.config import SiteConfig
from scraper.errors import HostUnreachableError
from scraper.profiles import SiteProfile
from storage import repo

log = logging.getLogger("vnnews.crawl")

Clock = Callable[[], datetime]
#: at most this many error lines kept per run (the count is exact)
ERROR_LOG_LINES = 20


@dataclass
class RunStats:
    discovered: int = 0
    fetched: int = 0
    new_articles: int = 0
    changed_articles: int = 0
    unchanged: int = 0
    not_modified: int = 0
    errors: int = 0
    error_log: list[str] = field(default_factory=list)

    def error(self, site: str, url: str, reason: str) -> None:
        self.errors += 1
        if len(self.error_log) < ERROR_LOG_LINES:
            self.error_log.append(f"{url}: {reason}")
        log.warning("site=%s url=%s error=%s", site, url, reason)

    def did_work(self) -> bool:
        return self.fetched + self.discovered + self.not_modified > 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "new_articles": self.new_articles,
            "changed_articles": self.changed_articles,
            "unchanged": self.unchanged,
            "not_modified": self.not_modified,
            "errors": self.errors,
            "error_log": list(self.error_log),
        }


@dataclass
class SitePass:
    """One pass over a site: the site, its database id, its profile and the pass's counters."""

    site: SiteConfig
    site_id: int
    profile: SiteProfile | None
    stats: RunStats

    @property
    def name(self) -> str:
        return self.site.name

    def error(self, url: str, reason: str) -> None:
        self.stats.error(self.site.name, url, reason)


@asynccontextmanager
async def recorded_run(
    sessions: sessionmaker[Session],
    site: SiteConfig,
    kind: str,
    clock: Clock,
    worker_id: int | None = None,
) -> AsyncIterator[SitePass]:
    """Open a ``crawl_runs`` row for a pass (by ``worker_id``) and close it with the pass's
    counts and outcome (ok, failed, stopped; a run its process never closed is closed as
    interrupted by ``storage.recovery``).

    An unreachable host ends the pass quietly (it is recorded where it happened); a
    cancellation (shutdown, Ctrl-C) closes the run without judging the site's health.
    """
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, clock()).id
        run_id = repo.start_run(s, site_id, kind, clock(), worker_id=worker_id).id
    run = SitePass(site, site_id, site.site_profile(), RunStats())
    ok: bool | None = False
    try:
        # an unreachable host is recorded on the source's row and in stats; retried next pass
        with contextlib.suppress(HostUnreachableError):
            yield run
        ok = run.stats.errors == 0 or run.stats.did_work()
    except asyncio.CancelledError:
        ok = None  # a clean shutdown is neither a success nor a site error
        raise
    finally:
        with sessions.begin() as s:
            repo.finish_run(s, run_id, run.stats.as_dict(), clock(), ok=ok)
