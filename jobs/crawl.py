"""Use cases: a pass over a site, and the fetch → extract → store of each due URL.

This is the only module that knows the order of a URL's path:

    discover (jobs.discover) → frontier.claim_due → Fetcher.fetch → repo.record_page
        → extract_article → repo.store_article → revisit step → frontier.mark_*

Dependencies come in as arguments (a Fetcher, a sessionmaker, a clock), so the scheduler, the
CLI and the tests all call the same functions. Failure is contained per URL: ``_fetch_one`` and
``jobs.discover.read_source`` are the only places that catch broadly; they record the site, URL
and reason on the ``urls`` and ``crawl_runs`` rows and go on.
"""

from __future__ import annotations

import asyncio
import logging
from asyncio import FIRST_COMPLETED
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session, sessionmaker

from jobs import discover as discovery
from jobs import revisit
from jobs.config import SiteConfig
from jobs.cpupool import CpuPool
from jobs.discover import reason
from jobs.prepare import Prepared, prepare
from jobs.runs import Clock, RunStats, SitePass, recorded_run
from scraper.errors import (
    BlockedAddressError,
    FetchError,
    HostUnreachableError,
    RobotsDisallowedError,
)
from scraper.extract import EXTRACTOR_VERSION
from scraper.fetch import Fetcher, FetchResult
from scraper.types import Article
from storage import frontier, locks, repo

log = logging.getLogger("vnnews.crawl")


def utcnow() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True)
class Claim:
    """A leased frontier row: what the fetch needs of it."""

    row_id: int
    url: str
    etag: str | None
    last_modified: str | None
    attempts: int
    source_date: datetime | None


@dataclass
class Crawler:
    """What a crawl needs: the fetcher, the database, a clock. One per process."""

    fetcher: Fetcher
    sessions: sessionmaker[Session]
    clock: Clock = utcnow
    batch: int = 200
    #: called after each URL is fetched (progress bars); gets (site, url)
    on_progress: Callable[[str, str], None] | None = None
    #: where pages are extracted, hashed and compressed (default: inline, on the event loop)
    cpu: CpuPool = field(default_factory=lambda: CpuPool(0))
    #: fetched pages of one site waiting for the pool and their transaction, at most
    pipeline: int = 4

    async def crawl_site(self, site: SiteConfig, *, discover: bool = True) -> RunStats:
        """One pass: discovery (unless ``discover=False``), then fetch what is due. Recorded in
        ``crawl_runs``."""
        async with recorded_run(
            self.sessions, site, "crawl" if discover else "drain", self.clock
        ) as p:
            if discover:
                await self._discover(p)
            await self.drain_pass(p)
        s = p.stats
        log.info(
            "site=%s pass done: discovered=%d fetched=%d new=%d changed=%d unchanged=%d "
            "not_modified=%d errors=%d",
            site.name, s.discovered, s.fetched, s.new_articles, s.changed_articles, s.unchanged,
            s.not_modified, s.errors,
        )  # fmt: skip
        return p.stats

    async def _discover(self, p: SitePass) -> None:
        """Discovery, by one worker at a time per site (PostgreSQL advisory lock): another
        daemon discovering this site now makes this pass a drain."""
        engine = self.sessions.kw["bind"]
        with locks.exclusive(engine, f"discover:{p.name}") as mine:
            if mine:
                await discovery.discover(self, p)
            else:
                log.info("site=%s discovery is running in another worker: draining", p.name)

    async def drain(
        self, site: SiteConfig, site_id: int, stats: RunStats, limit: int | None = None
    ) -> None:
        """Fetch the site's due article URLs (for callers that keep their own stats)."""
        await self.drain_pass(SitePass(site, site_id, site.site_profile(), stats), limit)

    async def drain_pass(self, p: SitePass, limit: int | None = None) -> None:
        """Fetch the site's due article URLs, one request at a time (the fetcher spaces them
        per host), while the pages already fetched are extracted and stored.

        Each URL is claimed just before its fetch: a whole batch leased at once would outlive
        its lease (200 URLs x a 5 s delay > 15 min), and another daemon would fetch its tail
        again. Up to ``pipeline`` fetched pages wait for the CPU pool and their transaction
        meanwhile; they are finished, not dropped, when the drain stops.
        """
        pending: set[asyncio.Task[None]] = set()
        try:
            for _ in range(limit or self.batch):
                claim = self._claim(p.site_id)
                if claim is None:
                    return
                result = await self._get(p, claim)
                if result is None:
                    self._progress(p, claim)
                    continue
                pending.add(asyncio.create_task(self._keep(p, claim, result)))
                if len(pending) >= self.pipeline:
                    done, pending = await asyncio.wait(pending, return_when=FIRST_COMPLETED)
                    for task in done:
                        task.result()
        finally:
            if pending:
                await asyncio.gather(*pending)

    async def _fetch_one(self, p: SitePass, claim: Claim) -> None:
        """Fetch, extract and store one claimed URL (the drain does the same, pipelined)."""
        result = await self._get(p, claim)
        if result is not None:
            await self._keep(p, claim, result)

    def _progress(self, p: SitePass, claim: Claim) -> None:
        if self.on_progress:
            self.on_progress(p.name, claim.url)

    def _claim(self, site_id: int) -> Claim | None:
        now = self.clock()
        with self.sessions.begin() as s:
            rows = frontier.claim_due(s, site_id, now=now, limit=1, lease=revisit.LEASE)
            return next(
                (
                    Claim(r.id, r.url, r.etag, r.last_modified, r.attempts, r.source_date)
                    for r in rows
                ),
                None,
            )

    def _release(self, claim: Claim) -> None:
        """Give a claimed URL back, due now (shutdown)."""
        with self.sessions.begin() as s:
            frontier.release(s, [claim.row_id], self.clock())

    async def _get(self, p: SitePass, claim: Claim) -> FetchResult | None:
        """Fetch a claimed URL; a FetchError is recorded (None). An unreachable host raises
        (recorded too): the drain stops, the site's other URLs stay due."""
        try:
            result = await self.fetcher.fetch(
                claim.url, etag=claim.etag, last_modified=claim.last_modified,
                min_delay=p.site.min_delay, respect_robots=p.site.respect_robots,
            )  # fmt: skip
        except FetchError as exc:
            refused = isinstance(exc, RobotsDisallowedError | BlockedAddressError)
            step = revisit.after_fetch_error(
                retryable=exc.retryable, refused=refused, attempts=claim.attempts, now=self.clock()
            )
            self._failed(claim.row_id, reason(exc), step)
            p.error(claim.url, reason(exc))
            if isinstance(exc, HostUnreachableError):
                raise
            return None
        except BaseException:
            self._release(claim)  # on cancellation the URL in flight is given back, due now
            raise
        p.stats.fetched += 1
        return result

    async def _keep(self, p: SitePass, claim: Claim, result: FetchResult) -> None:
        """Prepare the page in the CPU pool, then store it (one transaction)."""
        try:
            prepared = await self.cpu.run(prepare, result, p.profile, claim.source_date)
            self._store(p, claim, result, prepared)
        except asyncio.CancelledError:
            self._release(claim)
            raise
        except Exception as exc:  # per-URL containment: record, log, go on with the next URL
            log.exception("site=%s url=%s failed while storing", p.name, claim.url)
            why = f"{type(exc).__name__}: {exc}"
            self._failed(claim.row_id, why, revisit.after_crash(claim.attempts, self.clock()))
            p.error(claim.url, why)
        self._progress(p, claim)

    def _store(
        self, p: SitePass, claim: Claim, result: FetchResult, prepared: Prepared | None = None
    ) -> None:
        """Archive the raw page, store the article and the URL's next step: one transaction
        (Core statements by row id: nothing is loaded)."""
        now = self.clock()
        if prepared is None:
            prepared = prepare(result, p.profile, claim.source_date)
        article, error = prepared.article, prepared.error
        with self.sessions.begin() as s:
            page = repo.record_page(s, result, url_id=claim.row_id, packed=prepared.packed)
            if result.status == 304:
                step = revisit.after_not_modified(claim.source_date, now)
                frontier.mark_fetched(
                    s, claim.row_id, status=304, etag=claim.etag,
                    last_modified=claim.last_modified, now=now, state=step.state,
                    next_due=step.next_due,
                )  # fmt: skip
                p.stats.not_modified += 1
                return
            if article is None:
                if result.status == 200:
                    step, error = revisit.after_not_article(), error or "no article"
                else:
                    step, error = (
                        revisit.after_status(result.status, attempts=claim.attempts, now=now),
                        None,
                    )
                error = error or f"HTTP {result.status}"
                frontier.mark_failed(
                    s, claim.row_id, error=error, now=now, status=result.status,
                    next_due=step.next_due, state=step.state,
                )  # fmt: skip
            else:
                stored = repo.store_article(
                    s, site_id=p.site_id, article=article, urls=_urls_of(p.site, result, article),
                    page_id=page.id, now=now, extractor_version=EXTRACTOR_VERSION,
                    digest=prepared.digest, search_text=prepared.search_text,
                )  # fmt: skip
                published = article.published_at or claim.source_date
                step = revisit.after_article(published, now)
                frontier.mark_fetched(
                    s, claim.row_id, status=result.status, etag=result.etag,
                    last_modified=result.last_modified, now=now, state=step.state,
                    next_due=step.next_due, source_date=published,
                )  # fmt: skip
                _count(p.stats, stored.outcome)
                return
        p.error(result.url, error)

    def _failed(self, row_id: int, error: str, step: revisit.Step) -> None:
        with self.sessions.begin() as s:
            frontier.mark_failed(
                s, row_id, error=error, now=self.clock(), next_due=step.next_due,
                state=step.state,
            )  # fmt: skip


def _urls_of(site: SiteConfig, result: FetchResult, article: Article) -> dict[str, str]:
    """Every URL that led to the article, with its relation (the fetched one first)."""
    urls = {result.url: "fetched"}
    for extra, rel in ((result.final_url, "final"), (article.canonical_url, "canonical")):
        canonical = site.canonical(extra) if extra else None
        if canonical:
            urls.setdefault(canonical, rel)
    return urls


def _count(stats: RunStats, outcome: repo.Outcome) -> None:
    if outcome == "new":
        stats.new_articles += 1
    elif outcome == "changed":
        stats.changed_articles += 1
    else:
        stats.unchanged += 1
