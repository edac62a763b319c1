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
from typing import Any, Literal

from sqlalchemy.orm import Session, sessionmaker

from jobs.config import SiteConfig
from scraper.dates import DAY_FIRST, DateOrder
from scraper.errors import NOT_AN_ARTICLE, HostUnreachableError, StorageError
from scraper.profiles import SiteProfile
from storage import moves, repo

log = logging.getLogger("vnnews.crawl")

Clock = Callable[[], datetime]
PassOutcome = Literal["idle", "ok", "failing"]
#: at most this many error lines kept per run (the count is exact)
ERROR_LOG_LINES = 20


@dataclass
class RunStats:
    discovered: int = 0
    fetched: int = 0
    new_articles: int = 0
    changed_articles: int = 0
    unchanged: int = 0
    #: pages whose article another URL or site holds already (repo outcome "duplicate")
    duplicates: int = 0
    not_modified: int = 0
    errors: int = 0
    error_log: list[str] = field(default_factory=list)
    #: feeds, sitemaps and listings read and accepted (not stored in crawl_runs)
    sources: int = 0
    #: 200 pages with no article in them; counted in ``errors`` too, but the site did answer
    not_articles: int = 0
    #: articles of feeds and sitemaps left out for their date (the site's ``horizon``, a
    #: backfill's --since/--until); not stored in crawl_runs
    out_of_window: int = 0

    def error(self, site: str, url: str, reason: str, *, not_article: bool = False) -> None:
        self.errors += 1
        if len(self.error_log) < ERROR_LOG_LINES:
            self.error_log.append(f"{url}: {reason}")
        if not_article:
            # the layout rot alarm (jobs.status) speaks for these, once, not one line a page
            self.not_articles += 1
            said = reason if reason.startswith(NOT_AN_ARTICLE) else f"{NOT_AN_ARTICLE}: {reason}"
            log.info("site=%s url=%s %s", site, url, said)
        else:
            log.warning("site=%s url=%s error=%s", site, url, reason)

    def failures(self) -> int:
        """The errors that are failures: not the pages that answered with no article in them
        (``vnnews crawl``'s "errors", the log's and the metrics')."""
        return self.errors - self.not_articles

    def did_work(self) -> bool:
        return self.fetched + self.discovered + self.not_modified + self.sources > 0

    def answers(self) -> int:
        """Requests the site answered usefully: sources read, 304s, articles, not-articles."""
        return (
            self.sources + self.not_modified + self.new_articles + self.changed_articles
            + self.unchanged + self.duplicates + self.not_articles
        )  # fmt: skip

    def outcome(self) -> PassOutcome:
        """``idle``: nothing was due, nothing asked; ``failing``: more fetch failures than good
        answers (a dead feed, pages that all 5xx); ``ok`` otherwise. A pass that fetched nothing
        never counts as a success."""
        failures = self.failures()
        if self.errors == 0 and not self.did_work():
            return "idle"
        if failures > self.answers():
            return "failing"
        return "ok" if self.answers() > 0 else "failing"

    def as_dict(self) -> dict[str, Any]:
        return {
            "discovered": self.discovered,
            "fetched": self.fetched,
            "new_articles": self.new_articles,
            "changed_articles": self.changed_articles,
            "unchanged": self.unchanged,
            "duplicates": self.duplicates,
            "not_modified": self.not_modified,
            "errors": self.errors,
            "not_articles": self.not_articles,
            "error_log": list(self.error_log),
        }


@dataclass
class SitePass:
    """One pass over a site: the site, its database id, its profile and the pass's counters."""

    site: SiteConfig
    site_id: int
    profile: SiteProfile | None
    stats: RunStats
    #: registrable domains the site was seen moving to (``storage.moves``; jobs/domains.py)
    moved_to: set[str] = field(default_factory=set)

    @property
    def name(self) -> str:
        return self.site.name

    @property
    def date_order(self) -> DateOrder:
        """How the site writes numeric dates (its profile's; day first by default)."""
        return self.profile.date_order if self.profile else DAY_FIRST

    def error(self, url: str, reason: str, *, not_article: bool = False) -> None:
        self.stats.error(self.site.name, url, reason, not_article=not_article)


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

    A pass with nothing to do leaves no row (``repo.drop_idle_run`` counts it on the site). An
    unreachable host ends the pass quietly (it is recorded where it happened); a cancellation
    (shutdown, Ctrl-C) closes the run without judging the site's health.
    """
    with sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, clock()).id
        run_id = repo.start_run(s, site_id, kind, clock(), worker_id=worker_id).id
        moved_to = moves.moved_domains(s, site_id)
    run = SitePass(site, site_id, site.site_profile(), RunStats(), moved_to)
    ok: bool | None = False
    try:
        # an unreachable host is recorded on the source's row and in stats; retried next pass
        with contextlib.suppress(HostUnreachableError):
            yield run
        ok = run.stats.outcome() != "failing"
    except (asyncio.CancelledError, StorageError):
        # a clean shutdown, or the database failing (disk full), is neither a success nor the
        # site's error
        ok = None
        raise
    finally:
        try:
            with sessions.begin() as s:
                if ok is not None and run.stats.outcome() == "idle":
                    repo.drop_idle_run(s, run_id)
                else:
                    repo.finish_run(s, run_id, run.stats.as_dict(), clock(), ok=ok)
        except StorageError:
            if ok is not None:
                raise
            # the pass already failed on the database: its run stays open until recovery
            # closes it as interrupted, the error in flight is the one to report
