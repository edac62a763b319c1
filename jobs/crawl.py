"""Use cases: a pass over a site, and the fetch → extract → store of each due URL.

This is the only module that knows the order of a URL's path:

    discover (jobs.discover) → frontier.claim_due → Fetcher.fetch → bodies.record_page
        → extract_article → repo.store_article → revisit step → frontier.mark_*

Dependencies come in as arguments (a Fetcher, a sessionmaker, a clock), so the scheduler, the
CLI and the tests all call the same functions. Failure is contained per URL: ``_fetch_one`` and
``jobs.discover.read_source`` are the only places that catch broadly; they record the site, URL
and reason on the ``urls`` and ``crawl_runs`` rows and go on.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from asyncio import FIRST_COMPLETED
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy.exc import InterfaceError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from jobs import discover as discovery
from jobs import domains, revisit
from jobs.config import SiteConfig
from jobs.cpupool import CpuPool
from jobs.metrics import Metrics
from jobs.prepare import Prepared, prepare
from jobs.runs import Clock, RunStats, SitePass, recorded_run
from jobs.status import is_fallback
from scraper.errors import (
    BlockedAddressError,
    FetchError,
    HostUnreachableError,
    RobotsDisallowedError,
    StorageError,
    reason,
)
from scraper.extract import EXTRACTOR_VERSION
from scraper.fetch import Fetcher, FetchResult
from scraper.types import Article
from storage import bodies, frontier, locks, repo

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
    #: when the lease began (it ends ``Crawler.lease`` later)
    claimed_at: datetime


@dataclass(eq=False)  # compared by identity: a page waiting for its commit is found by ``is``
class _Write:
    """A fetched page waiting for its group commit (``Crawler._commit``)."""

    p: SitePass
    claim: Claim
    result: FetchResult
    #: the page's CPU work; None: a held redirect or a home page, nothing to extract
    prepared: Prepared | None
    #: resolved with what the page counts once its transaction is in
    done: asyncio.Future[Callable[[], None]] = field(
        default_factory=lambda: asyncio.get_running_loop().create_future()
    )
    #: its transaction is in (a cancellation arriving after that must not hand the URL back)
    committed: bool = False


def _resolve(write: _Write, count: Callable[[], None]) -> None:
    write.committed = True
    write.done.set_result(count)


#: PostgreSQL's deadlock_detected and serialization_failure: the batch lost a race with another
#: worker's transaction (syndicated copies stored by two daemons, in opposite orders); a page
#: written alone holds its locks too briefly to meet the other again
_LOST_RACE = frozenset({"40P01", "40001"})


def _replayable(exc: Exception) -> bool:
    """A failed group commit worth replaying page by page: not when the database itself
    failed (disk full, connection lost, locked past its timeout), which every page would meet
    again; but a lost race with another worker is."""
    if isinstance(exc, OperationalError):
        # psycopg (3) says sqlstate, psycopg2 pgcode
        code = getattr(exc.orig, "sqlstate", None) or getattr(exc.orig, "pgcode", None)
        if code in _LOST_RACE:
            return True
    return not isinstance(exc, StorageError | OperationalError | InterfaceError)


def _nothing() -> None:
    """What a held redirect counts: the move is on its own rows, the pass counts nothing."""


@dataclass
class Crawler:
    """What a crawl needs: the fetcher, the database, a clock. One per process."""

    fetcher: Fetcher
    sessions: sessionmaker[Session]
    clock: Clock = utcnow
    batch: int = 200
    #: called after each URL is fetched (progress bars); gets (site, url)
    on_progress: Callable[[str, str], None] | None = None
    #: the daemon's Prometheus counters (``vnnews run``); None elsewhere
    metrics: Metrics | None = None
    #: the ``workers`` row of this process: the holder of its leases (jobs.worker)
    worker_id: int | None = None
    lease: timedelta = revisit.LEASE
    #: where pages are extracted, hashed and compressed (default: inline, on the event loop)
    cpu: CpuPool = field(default_factory=lambda: CpuPool(0))
    #: fetched pages of one site waiting for the pool and their transaction, at most; also
    #: the URLs of a drain's first claim
    pipeline: int = 4
    #: URLs leased in one claim at most, once the drain's pace says they are all fetched
    #: within a quarter of the lease (``_claim_size``): a claim is a transaction of its own
    claim_max: int = 32
    #: pages stored in one transaction at most (group commit), and how long the first page
    #: ready waits for others: a commit for every page (an fsync on PostgreSQL, an FTS5
    #: segment on SQLite) cost the main thread over a millisecond a page (bench/throughput.py)
    commit_batch: int = 32
    commit_wait: float = 0.01
    #: the stats of each site's latest pass, from its start: what an interrupted ``vnnews
    #: crawl`` reports
    passes: dict[str, RunStats] = field(default_factory=dict, init=False, repr=False)
    #: what was logged once for this process, not on every pass (``discover.accept_source``)
    said: set[tuple[str, ...]] = field(default_factory=set, init=False, repr=False)
    _writes: list[_Write] = field(default_factory=list, init=False, repr=False)
    _flush_at: asyncio.TimerHandle | None = field(default=None, init=False, repr=False)

    async def crawl_site(self, site: SiteConfig, *, discover: bool = True) -> RunStats:
        """One pass: discovery (unless ``discover=False``), then fetch what is due. Recorded in
        ``crawl_runs``."""
        async with recorded_run(
            self.sessions, site, "crawl" if discover else "drain", self.clock, self.worker_id
        ) as p:
            self.passes[site.name] = p.stats
            if discover:
                await self._discover(p)
            await self.drain_pass(p)
        s = p.stats
        if s.outcome() == "idle":
            return s  # counted (metrics, sites.idle_passes), not logged
        log.info(
            "site=%s pass done: discovered=%d fetched=%d new=%d changed=%d unchanged=%d "
            "duplicates=%d not_modified=%d not_articles=%d errors=%d",
            site.name, s.discovered, s.fetched, s.new_articles, s.changed_articles, s.unchanged,
            s.duplicates, s.not_modified, s.not_articles, s.failures(),
        )  # fmt: skip
        return p.stats

    async def drain(
        self, site: SiteConfig, site_id: int, stats: RunStats, limit: int | None = None
    ) -> None:
        """Fetch the site's due article URLs (for callers that keep their own stats)."""
        await self.drain_pass(SitePass(site, site_id, site.site_profile(), stats), limit)

    async def _discover(self, p: SitePass) -> None:
        """Discovery, by one worker at a time per site (PostgreSQL advisory lock): another
        daemon discovering this site now makes this pass a drain."""
        engine = self.sessions.kw["bind"]
        with locks.exclusive(engine, f"discover:{p.name}") as mine:
            if mine:
                await discovery.discover(self, p)
            else:
                log.info("site=%s discovery is running in another worker: draining", p.name)

    async def drain_pass(self, p: SitePass, limit: int | None = None) -> None:
        """Fetch the site's due article URLs, one request at a time (the fetcher spaces them
        per host), while the pages already fetched are extracted and stored.

        URLs are claimed a few at a time, just before their fetches: a whole batch leased at
        once would outlive its lease (200 URLs x a 5 s delay > 15 min), and another daemon
        would fetch its tail again. The first claim takes ``pipeline`` URLs, the next ones as
        many as the drain's pace fetches in a quarter of the lease (``_claim_size``). Up to
        ``pipeline`` fetched pages wait for the CPU pool and their transaction meanwhile; they
        are finished, not dropped, when the drain stops, and the claimed URLs not yet fetched
        are handed back.
        """
        pending: set[asyncio.Task[None]] = set()
        ahead: deque[Claim] = deque()
        budget = limit or self.batch
        stale = False  # a claimed URL waited past half its lease: one at a time from then on
        last: tuple[datetime, int] | None = None  # when the previous claim was made, its size
        try:
            for done_count in range(budget):
                while ahead and self._stale(ahead[0]):
                    # its lease is half spent (slow fetches): it may lapse mid-fetch and another
                    # daemon take the URL, so it is left to lapse, unfetched and not released
                    # (a release could cancel the lease of a daemon that took it meanwhile)
                    ahead.popleft()
                    stale = True
                if not ahead:
                    now = self.clock()
                    if stale:
                        size = 1
                    elif last is None:
                        size = self.pipeline
                    else:
                        size = self._claim_size((now - last[0]) / last[1])
                    ahead.extend(self._claim(p.site_id, min(size, budget - done_count)))
                    if not ahead:
                        return
                    last = (now, len(ahead))
                claim = ahead.popleft()
                resting = self.fetcher.paused_for(claim.url)
                if resting > self.fetcher.settings.max_delay:
                    # the host asked for a pause (429/503, Retry-After): the URL stays due and
                    # the drain ends; a later one goes on once the pause is over
                    self._release(claim)
                    log.info("site=%s host paused for %.0f s: drain stops", p.name, resting)
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
            try:
                if pending:
                    await asyncio.gather(*pending)
            finally:
                # claimed, not fetched: due again now (a stale one is left to lapse)
                if fresh := [c for c in ahead if not self._stale(c)]:
                    self._release(*fresh)

    async def _fetch_one(self, p: SitePass, claim: Claim) -> None:
        """Fetch, extract and store one claimed URL (the drain does the same, pipelined)."""
        result = await self._get(p, claim)
        if result is not None:
            await self._keep(p, claim, result)

    def _progress(self, p: SitePass, claim: Claim) -> None:
        if self.on_progress:
            self.on_progress(p.name, claim.url)

    def _release(self, *claims: Claim) -> None:
        """Give claimed URLs back, due now (shutdown, a paused host, a drain that stops); if
        the database itself failed, their lease (and worker recovery) brings them back."""
        with contextlib.suppress(StorageError), self.sessions.begin() as s:
            frontier.release(s, [c.row_id for c in claims], self.clock())

    def _claim_size(self, pace: timedelta) -> int:
        """How many URLs to claim when each took ``pace`` to fetch and keep: what fits in a
        quarter of the lease (half the time after which a claim counts as stale), between 1
        and ``claim_max``."""
        fits = self.lease / 4 // max(pace, timedelta(microseconds=1))
        return max(1, min(self.claim_max, fits))

    def _stale(self, claim: Claim) -> bool:
        return self.clock() - claim.claimed_at > self.lease / 2

    def _claim(self, site_id: int, limit: int = 1) -> list[Claim]:
        """Lease up to ``limit`` due URLs of the site, in the order they are to be fetched."""
        now = self.clock()
        with self.sessions.begin() as s:
            rows = frontier.claim_due(
                s, site_id, now=now, limit=limit, lease=self.lease, holder=self.worker_id
            )
            return [
                Claim(r.id, r.url, r.etag, r.last_modified, r.attempts, r.source_date, now)
                for r in rows
            ]

    async def _get(self, p: SitePass, claim: Claim) -> FetchResult | None:
        """Fetch a claimed URL; a FetchError is recorded (None). An unreachable host raises
        (recorded too): the drain stops, the site's other URLs stay due."""
        try:
            result = await self.fetcher.fetch(
                claim.url, etag=claim.etag, last_modified=claim.last_modified,
                min_delay=p.site.min_delay, respect_robots=p.site.respect_robots,
                follow=discovery.following(p),
            )  # fmt: skip
        except FetchError as exc:
            if self.metrics:
                self.metrics.fetched(p.name, "error")
            refused = isinstance(exc, RobotsDisallowedError | BlockedAddressError)
            step = revisit.after_fetch_error(
                retryable=exc.retryable, refused=refused, attempts=claim.attempts, now=self.clock()
            )
            self._failed(claim.row_id, reason(exc), step)
            p.error(claim.url, reason(exc))
            if isinstance(exc, HostUnreachableError):
                raise  # the host is down: the drain stops and hands its other URLs back
            return None
        except BaseException:
            self._release(claim)  # on cancellation the URL in flight is given back, due now
            raise
        p.stats.fetched += 1
        if self.metrics:
            self.metrics.fetched(p.name, result.status, len(result.body))
        return result

    async def _keep(self, p: SitePass, claim: Claim, result: FetchResult) -> None:
        """Prepare the page in the CPU pool (extract, fold, hash, compress), then store it in
        the next group commit (``_commit``)."""
        write: _Write | None = None
        try:
            if result.held is not None or domains.landed_on_home(result):
                prepared = None  # nothing to extract: _store records what happened
            else:
                profile = domains.page_profile(p.site, p.profile, result.final_url)
                prepared = await self.cpu.run(prepare, result, profile, claim.source_date)
            write = _Write(p, claim, result, prepared)
            done = await self._commit(write)
            done()
        except asyncio.CancelledError:
            if write is None or not write.committed:
                self._release(claim)
            raise
        except StorageError:
            self._release(claim)
            raise  # the database itself failed (disk full, gone): no URL is at fault
        except Exception as exc:  # per-URL containment: record, log, go on with the next URL
            log.exception("site=%s url=%s failed while storing", p.name, claim.url)
            why = f"{type(exc).__name__}: {exc}"
            self._failed(claim.row_id, why, revisit.after_crash(claim.attempts, self.clock()))
            p.error(claim.url, why)
        self._progress(p, claim)

    async def _commit(self, write: _Write) -> Callable[[], None]:
        """Store a page in the next group commit: the transaction of the pages that come out
        of the pool within ``commit_wait`` of the first (``commit_batch`` at most). What the
        page counts (stats, metrics, its error line) is returned, to be counted once the
        transaction is in."""
        loop = asyncio.get_running_loop()
        self._writes.append(write)
        if len(self._writes) >= self.commit_batch:
            self._flush()
        elif self._flush_at is None:
            self._flush_at = loop.call_later(self.commit_wait, self._flush)
        try:
            return await write.done
        except asyncio.CancelledError:
            if write in self._writes:  # not written yet: it never will be
                self._writes.remove(write)
            elif write.committed:  # written before the cancellation reached us: it counts
                write.done.result()()
            raise

    def _flush(self) -> None:
        """Write the waiting pages in one transaction. If it fails on a page (a constraint,
        a bug), each page is written again in its own, so the page at fault fails alone
        (``_keep`` contains it); if the database itself failed, they all fail."""
        if self._flush_at is not None:
            self._flush_at.cancel()
            self._flush_at = None
        # a page whose waiter was cancelled meanwhile is not written (its URL is handed back)
        batch = [w for w in self._writes if not w.done.done()]
        self._writes = []
        if not batch:
            return
        try:
            with self.sessions.begin() as s:
                counted = [self._store(s, w) for w in batch]
        except Exception as exc:
            if len(batch) == 1 or not _replayable(exc):
                for w in batch:
                    w.done.set_exception(exc)
                return
            for w in batch:
                try:
                    with self.sessions.begin() as s:
                        count = self._store(s, w)
                except Exception as one:
                    w.done.set_exception(one)
                else:  # resolved once committed: a failing COMMIT is the page's error
                    _resolve(w, count)
            return
        for w, count in zip(batch, counted, strict=True):
            _resolve(w, count)

    def _store(self, s: Session, write: _Write) -> Callable[[], None]:
        """Archive the raw page, store the article and the URL's next step, in the caller's
        transaction; what the page counts (and a site move it shows announces), to be called
        once it is committed."""
        now = self.clock()
        announce = None
        if write.result.redirects or write.result.held:
            announce = discovery.note_move(s, write.p, write.result, "article", now)
        count = self._store_page(s, write, now)
        if announce is None:
            return count

        def announced() -> None:
            announce()
            count()

        return announced

    def _store_page(self, s: Session, write: _Write, now: datetime) -> Callable[[], None]:
        """``_store`` but for the move. ``prepared`` is the page's CPU work (None: a held
        redirect or a home page, nothing to extract)."""
        p, claim, result, prepared = write.p, write.claim, write.result, write.prepared
        article, error, event = None, None, "no_body"
        if prepared is not None:
            article, error, event = prepared.article, prepared.error, prepared.event
        elif result.held is None:
            error, event = f"redirects to the home page {result.final_url}", "home"
        page_id = bodies.record_page(
            s, result, url_id=claim.row_id, packed=prepared.packed if prepared else None
        )
        if result.held is not None:
            # another domain the site is not followed to: the archive keeps what it has
            error = discovery.moved_error(result.held)
            repo.record_article_event(
                s, claim.url, kind="moved", detail=error, page_id=page_id, now=now
            )
            step = revisit.after_moved(source=False, now=now)
            frontier.mark_failed(
                s, claim.row_id, error=error, now=now, status=result.status,
                next_due=step.next_due, state=step.state,
            )  # fmt: skip
            return _nothing
        if result.status == 304:
            step = revisit.after_not_modified(claim.source_date, now)
            frontier.mark_fetched(
                s, claim.row_id, status=304, etag=None, last_modified=None, now=now,
                state=step.state, next_due=step.next_due,
            )  # fmt: skip

            def not_modified() -> None:
                p.stats.not_modified += 1

            return not_modified
        if article is not None:
            stored = repo.store_article(
                s, site_id=p.site_id, article=article, urls=_urls_of(p.site, result, article),
                page_id=page_id, now=now, extractor_version=EXTRACTOR_VERSION,
                keys=prepared.keys if prepared else None,
            )  # fmt: skip
            published = article.published_at or claim.source_date
            step = revisit.after_article(published, now)
            frontier.mark_fetched(
                s, claim.row_id, status=result.status, etag=result.etag,
                last_modified=result.last_modified, now=now, state=step.state,
                next_due=step.next_due, source_date=published,
            )  # fmt: skip
            fallback = is_fallback(article.extractor, p.profile is not None)

            def counted() -> None:
                _count(p.stats, stored.outcome)
                if self.metrics:
                    self.metrics.stored(p.name, stored.outcome, fallback=fallback)

            return counted
        not_article = result.status == 200
        if not_article:
            step, error = revisit.after_not_article(), error or "no article"
        else:
            step = revisit.after_status(result.status, attempts=claim.attempts, now=now)
            error = f"HTTP {result.status}"
        # a known article's URL that no longer serves it: the article stays as archived
        repo.record_article_event(
            s, claim.url, kind=event if not_article else "gone", detail=error,
            page_id=page_id, now=now,
        )  # fmt: skip
        frontier.mark_failed(
            s, claim.row_id, error=error, now=now, status=result.status,
            next_due=step.next_due, state=step.state,
        )  # fmt: skip
        why = error

        def failed() -> None:
            if not_article and self.metrics:
                self.metrics.not_article(p.name)
            p.error(result.url, why, not_article=not_article)

        return failed

    def _failed(self, row_id: int, error: str, step: revisit.Step) -> None:
        with self.sessions.begin() as s:
            frontier.mark_failed(
                s, row_id, error=error, now=self.clock(), next_due=step.next_due, state=step.state
            )


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
    elif outcome == "duplicate":
        stats.duplicates += 1
    else:
        stats.unchanged += 1
