"""Use cases: discover a site's URLs, fetch the due ones, extract and store articles.

This is the only module that knows the order of a URL's path: discover → frontier (storage) →
fetch → extract → store. Dependencies come in as arguments (a Fetcher, a sessionmaker, a clock),
so the scheduler, the CLI and the tests all call the same functions.

Failure is contained per URL: ``_fetch_one`` and ``_discover_source`` are the only places that catch
broadly; they record the site, URL and reason on the ``urls`` and ``crawl_runs`` rows and go on.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urljoin

from sqlalchemy.orm import Session, sessionmaker

from jobs.config import SiteConfig
from scraper.discover.feeds import parse_feed
from scraper.discover.listings import extract_links
from scraper.discover.sitemaps import parse_sitemap
from scraper.errors import (
    BlockedAddressError,
    DiscoveryError,
    FetchError,
    HostUnreachableError,
    RobotsDisallowedError,
    VnnewsError,
)
from scraper.extract import EXTRACTOR_VERSION, extract_article
from scraper.fetch.client import Fetcher, FetchResult
from scraper.fetch.retry import RETRY_STATUSES, park_delay
from scraper.profiles import SiteProfile, load_profiles
from scraper.urls import canonicalize, same_site
from storage import repo
from storage.models import Url

log = logging.getLogger("vnnews.crawl")

Clock = Callable[[], datetime]

#: frontier priorities: a URL from a feed is news, one from a listing page may be older
PRIORITY = {"feed": 30, "sitemap": 20, "listing": 20, "backfill": 10}
#: a claimed URL comes due again after this if its worker dies
LEASE = timedelta(minutes=15)
#: after this many failed passes a URL is parked for a week instead of retried soon
MAX_ATTEMPTS = 5
PARKED_FOR = timedelta(days=7)
#: at most this many child sitemaps read per index per pass
MAX_CHILD_SITEMAPS = 20


#: recrawl an article this long after publication, to catch edits (then never again)
RECRAWL_AFTER = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(days=7))


def utcnow() -> datetime:
    return datetime.now(UTC)


def next_recrawl(published: datetime | None, now: datetime) -> datetime | None:
    """The next point of the recrawl schedule after ``now``, or None once it is over."""
    if published is None:
        return None
    for offset in RECRAWL_AFTER:
        if published + offset > now:
            return published + offset
    return None


@dataclass(frozen=True)
class Source:
    """A fetched feed, sitemap or listing page, not yet accepted."""

    row_id: int
    kind: str
    result: FetchResult


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
        line = f"{url}: {reason}"
        if len(self.error_log) < 20:
            self.error_log.append(line)
        log.warning("site=%s url=%s error=%s", site, url, reason)

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
class Crawler:
    """What a crawl needs: the fetcher, the database, a clock. One per process."""

    fetcher: Fetcher
    sessions: sessionmaker[Session]
    clock: Clock = utcnow
    batch: int = 200
    #: called after each URL is fetched (progress bars); gets (site, url)
    on_progress: Callable[[str, str], None] | None = None

    def profile_for(self, site: SiteConfig) -> SiteProfile | None:
        registry = load_profiles()
        if site.profile:
            return registry.get(site.profile)
        return registry.for_url(site.base_url)

    # --- discovery -------------------------------------------------------------------------

    async def discover(self, site: SiteConfig, site_id: int, stats: RunStats) -> None:
        profile = self.profile_for(site)
        sitemaps = list(site.sitemaps)
        if site.robots_sitemaps and (site.respect_robots is not False):
            sitemaps += [u for u in await self.robots_sitemaps(site, stats) if u not in sitemaps]
        sources = (
            [("feed", u) for u in site.feeds]
            + [("sitemap", u) for u in sitemaps]
            + [("listing", u) for u in site.listings]
        )
        for kind, url in sources:
            try:
                await self._discover_source(site, site_id, kind, url, profile, stats)
            except HostUnreachableError:
                # one error per unreachable site and pass, not one per source
                log.info(
                    "site=%s unreachable: %d other sources skipped this pass",
                    site.name,
                    len(sources) - 1,
                )
                raise

    async def robots_sitemaps(self, site: SiteConfig, stats: RunStats) -> list[str]:
        """The same-site ``Sitemap:`` URLs of the site's robots.txt (cached by the fetcher)."""
        try:
            found = await self.fetcher.robots_sitemaps(site.base_url)
        except HostUnreachableError as exc:
            stats.error(site.name, urljoin(site.base_url, "/robots.txt"), _reason(exc))
            raise
        except FetchError:
            return []  # robots.txt itself unavailable: each source's own fetch will say why
        return [u for u in found if same_site(u, site.base_url)]

    async def fetch_source(
        self,
        site: SiteConfig,
        site_id: int,
        kind: str,
        url: str,
        stats: RunStats,
        *,
        conditional: bool = True,
    ) -> Source | None:
        """Fetch a feed/sitemap/listing and archive the raw page; None if unchanged (304) or failed.

        The source's new ETag/Last-Modified are saved only by ``accept_source``, together with the
        URLs found in it: a daemon killed in between fetches it again rather than losing them.
        """
        with self.sessions.begin() as s:
            row = repo.source_url(s, site_id, url, kind, self.clock())
            etag, last_modified, row_id = row.etag, row.last_modified, row.id
        if not conditional:
            etag = last_modified = None
        try:
            result = await self.fetcher.fetch(
                url,
                etag=etag,
                last_modified=last_modified,
                min_delay=site.min_delay,
                respect_robots=site.respect_robots,
                accept="html" if kind == "listing" else "feed",
            )
            with self.sessions.begin() as s:
                repo.record_page(
                    s,
                    url=result.url,
                    final_url=result.final_url,
                    status=result.status,
                    headers=result.headers,
                    body=result.body,
                    fetched_at=result.fetched_at,
                    url_id=row_id,
                )
                if result.not_modified:
                    row = s.get_one(Url, row_id)
                    repo.mark_fetched(
                        s,
                        row,
                        status=304,
                        etag=row.etag,
                        last_modified=row.last_modified,
                        now=self.clock(),
                        state="not_modified",
                    )
            if result.not_modified:
                stats.not_modified += 1
                return None
            if result.status >= 400:
                raise DiscoveryError(f"HTTP {result.status}", url=url)
            return Source(row_id, kind, result)
        except VnnewsError as exc:
            self.source_failed(source_row=row_id, url=url, exc=exc, site=site, stats=stats)
            if isinstance(exc, HostUnreachableError):
                raise
            return None

    def accept_source(
        self, site_id: int, source: Source, found: Iterable[repo.NewUrl], *, priority: int
    ) -> int:
        """Enqueue the URLs found in a source and remember its validators, in one transaction."""
        result = source.result
        with self.sessions.begin() as s:
            added = repo.enqueue(
                s, site_id, found, now=self.clock(), priority=priority, via=result.url
            )
            repo.mark_fetched(
                s,
                s.get_one(Url, source.row_id),
                status=result.status,
                etag=result.etag,
                last_modified=result.last_modified,
                now=self.clock(),
                state="fetched",
            )
        return added

    def source_failed(
        self, *, source_row: int, url: str, exc: BaseException, site: SiteConfig, stats: RunStats
    ) -> None:
        reason = _reason(exc) if isinstance(exc, VnnewsError) else f"{type(exc).__name__}: {exc}"
        with self.sessions.begin() as s:
            repo.mark_failed(
                s, s.get_one(Url, source_row), error=reason, now=self.clock(), next_due=None
            )
        stats.error(site.name, url, reason)

    async def _discover_source(
        self,
        site: SiteConfig,
        site_id: int,
        kind: str,
        url: str,
        profile: SiteProfile | None,
        stats: RunStats,
        depth: int = 0,
    ) -> None:
        source = await self.fetch_source(site, site_id, kind, url, stats)
        if source is None:
            return
        oldest = self.clock() - timedelta(seconds=site.horizon) if site.horizon else None
        children: list[str] = []
        try:
            if kind == "sitemap":
                found, children = self.parse_sitemap(site, source.result, profile, oldest=oldest)
            else:
                found = self.parse_source(site, kind, source.result, profile, oldest=oldest)
        except (
            Exception
        ) as exc:  # per-source containment: a bad document or a parser bug never stops the pass
            if not isinstance(exc, VnnewsError):
                log.exception("site=%s url=%s unexpected error while parsing", site.name, url)
            self.source_failed(source_row=source.row_id, url=url, exc=exc, site=site, stats=stats)
            return
        stats.discovered += self.accept_source(site_id, source, found, priority=PRIORITY[kind])
        if depth == 0:
            for child in children[:MAX_CHILD_SITEMAPS]:
                await self._discover_source(
                    site, site_id, "sitemap", child, profile, stats, depth + 1
                )

    def parse_sitemap(
        self,
        site: SiteConfig,
        result: FetchResult,
        profile: SiteProfile | None,
        *,
        oldest: datetime | None = None,
        newest: datetime | None = None,
    ) -> tuple[list[repo.NewUrl], list[str]]:
        """Article URLs in the window, and the child sitemaps whose lastmod does not rule them out."""
        sm = parse_sitemap(result.body, result.final_url)
        pattern = self.pattern_for(site, profile)
        pairs = ((e.url, e.published_at or e.lastmod) for e in sm.urls)
        urls = list(self._keep(site, pairs, pattern, oldest=oldest, newest=newest))
        self._warn_if_all_dropped(site, result.url, len(sm.urls), urls, pattern)
        # a child last modified before the window holds nothing newer than that: skip it
        children = [
            c.url for c in sm.sitemaps if oldest is None or c.lastmod is None or c.lastmod >= oldest
        ]
        return urls, children

    def parse_source(
        self,
        site: SiteConfig,
        kind: str,
        result: FetchResult,
        profile: SiteProfile | None,
        *,
        oldest: datetime | None = None,
        newest: datetime | None = None,
    ) -> list[repo.NewUrl]:
        """Article URLs of a feed or listing page, filtered by the site's rules and the date window."""
        pattern = self.pattern_for(site, profile)
        if kind == "feed":
            items = parse_feed(result.body, result.final_url)
            kept = list(
                self._keep(
                    site,
                    ((i.url, i.published_at) for i in items),
                    pattern,
                    oldest=oldest,
                    newest=newest,
                )
            )
            self._warn_if_all_dropped(site, result.url, len(items), kept, pattern)
            return kept
        selectors = profile.listing_links if profile else ()
        links = extract_links(result.text(), result.final_url, selectors=selectors, pattern=pattern)
        return list(self._keep(site, ((u, None) for u in links), pattern))

    @staticmethod
    def pattern_for(site: SiteConfig, profile: SiteProfile | None) -> re.Pattern[str] | None:
        return site.article_pattern or (profile.article_pattern if profile else None)

    @staticmethod
    def _warn_if_all_dropped(
        site: SiteConfig, url: str, found: int, kept: list[repo.NewUrl], pattern: Any
    ) -> None:
        # a pattern or base_url that matches nothing looks like a quiet site: say so
        if found and not kept:
            log.warning(
                "site=%s url=%s: %d items, none kept (article_pattern %r, base_url %s)",
                site.name,
                url,
                found,
                pattern.pattern if pattern else None,
                site.base_url,
            )

    def _keep(
        self,
        site: SiteConfig,
        pairs: Iterable[tuple[str, datetime | None]],
        pattern: re.Pattern[str] | None,
        *,
        oldest: datetime | None = None,
        newest: datetime | None = None,
    ) -> Iterable[repo.NewUrl]:
        for raw, date in pairs:
            url = canonical_for(site, raw)
            if url is None or not same_site(url, site.base_url):
                continue
            if pattern is not None and not pattern.search(url):
                continue
            # an item dated outside the window is skipped before any fetch; undated ones are kept
            if date is not None and ((oldest and date < oldest) or (newest and date > newest)):
                continue
            yield repo.NewUrl(url, date)

    # --- fetching --------------------------------------------------------------------------

    async def drain(
        self, site: SiteConfig, site_id: int, stats: RunStats, limit: int | None = None
    ) -> None:
        """Fetch the site's due article URLs, one at a time (the fetcher spaces them per host).

        Each URL is claimed just before its fetch: a whole batch leased at once would outlive
        its lease (200 URLs x a 5 s delay > 15 min), and another daemon would fetch its tail again.
        """
        profile = self.profile_for(site)
        for _ in range(limit or self.batch):
            with self.sessions.begin() as s:
                claimed = [
                    (r.id, r.url, r.etag, r.last_modified, r.attempts)
                    for r in repo.claim_due(s, site_id, now=self.clock(), limit=1, lease=LEASE)
                ]
            if not claimed:
                return
            row_id, url, etag, last_modified, attempts = claimed[0]
            try:
                await self._fetch_one(
                    site, site_id, row_id, url, etag, last_modified, attempts, profile, stats
                )
            except HostUnreachableError:
                raise  # recorded as failed: the drain stops, the site's other URLs stay due
            except BaseException:
                # on cancellation (shutdown) the URL in flight is given back, due now
                with self.sessions.begin() as s:
                    repo.release(s, [row_id], self.clock())
                raise
            if self.on_progress:
                self.on_progress(site.name, url)

    async def _fetch_one(
        self,
        site: SiteConfig,
        site_id: int,
        row_id: int,
        url: str,
        etag: str | None,
        last_modified: str | None,
        attempts: int,
        profile: SiteProfile | None,
        stats: RunStats,
    ) -> None:
        try:
            result = await self.fetcher.fetch(
                url,
                etag=etag,
                last_modified=last_modified,
                min_delay=site.min_delay,
                respect_robots=site.respect_robots,
            )
        except FetchError as exc:
            if isinstance(exc, RobotsDisallowedError | BlockedAddressError) and not exc.retryable:
                state = "blocked"  # robots.txt or the address guard said no: never fetched
            elif exc.retryable and attempts + 1 >= MAX_ATTEMPTS:
                state = "parked"
            else:
                state = "failed"
            self._url_failed(row_id, _reason(exc), attempts, retry=exc.retryable, state=state)
            stats.error(site.name, url, _reason(exc))
            if isinstance(exc, HostUnreachableError):
                raise  # the host is down: the drain stops and hands its other URLs back
            return
        stats.fetched += 1
        try:
            self._store_fetch(site, site_id, row_id, result, attempts, profile, stats)
        except Exception as exc:  # per-URL containment: record, log, go on with the next URL
            log.exception("site=%s url=%s failed while storing", site.name, url)
            self._url_failed(row_id, f"{type(exc).__name__}: {exc}", attempts, retry=True)
            stats.error(site.name, url, f"{type(exc).__name__}: {exc}")

    def _store_fetch(
        self,
        site: SiteConfig,
        site_id: int,
        row_id: int,
        result: FetchResult,
        attempts: int,
        profile: SiteProfile | None,
        stats: RunStats,
    ) -> None:
        now = self.clock()
        status = result.status
        if status == 304:
            with self.sessions.begin() as s:
                repo.record_page(
                    s,
                    url=result.url,
                    final_url=result.final_url,
                    status=status,
                    headers=result.headers,
                    body=None,
                    fetched_at=result.fetched_at,
                    url_id=row_id,
                )
                row = s.get_one(Url, row_id)
                repo.mark_fetched(
                    s,
                    row,
                    status=status,
                    etag=row.etag,
                    last_modified=row.last_modified,
                    now=now,
                    state="not_modified",
                    next_due=next_recrawl(row.source_date, now),
                )
            stats.not_modified += 1
            return
        article = None
        error = None
        if status == 200:
            try:
                article = extract_article(result.text(), result.final_url, profile)
            except VnnewsError as exc:
                error = _reason(exc)
            if article is not None and not article.text.strip():
                error, article = "no article body found", None
        with self.sessions.begin() as s:
            page = repo.record_page(
                s,
                url=result.url,
                final_url=result.final_url,
                status=status,
                headers=result.headers,
                body=result.body,
                fetched_at=result.fetched_at,
                url_id=row_id,
            )
            row = s.get_one(Url, row_id)
            if status in (404, 410):
                repo.mark_failed(
                    s,
                    row,
                    error=f"HTTP {status}",
                    now=now,
                    status=status,
                    next_due=None,
                    state="gone",
                )
            elif status >= 400 or (status != 200 and article is None):
                # 429/5xx outlived the fetcher's own retries: come back later, park after MAX_ATTEMPTS
                retry = status in RETRY_STATUSES
                later = park_delay(attempts + 1) if attempts + 1 < MAX_ATTEMPTS else PARKED_FOR
                repo.mark_failed(
                    s,
                    row,
                    error=f"HTTP {status}",
                    now=now,
                    status=status,
                    next_due=now + later if retry else None,
                    state="parked" if retry and attempts + 1 >= MAX_ATTEMPTS else "failed",
                )
            elif article is None:
                repo.mark_failed(
                    s,
                    row,
                    error=error or "no article",
                    now=now,
                    status=status,
                    next_due=None,
                    state="not_article",
                )
            else:
                urls = {result.url: "fetched"}
                for extra, rel in (
                    (result.final_url, "final"),
                    (article.canonical_url, "canonical"),
                ):
                    canonical = canonical_for(site, extra) if extra else None
                    if canonical:
                        urls.setdefault(canonical, rel)
                stored = repo.store_article(
                    s,
                    site_id=site_id,
                    article=article,
                    urls=urls,
                    page_id=page.id,
                    now=now,
                    extractor_version=EXTRACTOR_VERSION,
                )
                published = article.published_at or row.source_date
                if published is not None and row.source_date is None:
                    row.source_date = published
                repo.mark_fetched(
                    s,
                    row,
                    status=status,
                    etag=result.etag,
                    last_modified=result.last_modified,
                    now=now,
                    state="fetched",
                    next_due=next_recrawl(published, now),
                )
                if stored.outcome == "new":
                    stats.new_articles += 1
                elif stored.outcome == "changed":
                    stats.changed_articles += 1
                else:
                    stats.unchanged += 1
                return
        stats.error(site.name, result.url, error or f"HTTP {status}")

    def _url_failed(
        self, row_id: int, error: str, attempts: int, *, retry: bool, state: str = "failed"
    ) -> None:
        """Record a failed URL: retried later with a growing delay, parked, or given up (next_due None)."""
        now = self.clock()
        next_due = None
        if state == "parked":
            next_due = now + PARKED_FOR
        elif retry:
            next_due = now + park_delay(attempts + 1)
        with self.sessions.begin() as s:
            repo.mark_failed(
                s, s.get_one(Url, row_id), error=error, now=now, next_due=next_due, state=state
            )

    # --- a whole pass ----------------------------------------------------------------------

    async def crawl_site(self, site: SiteConfig, *, discover: bool = True) -> RunStats:
        """One pass: discovery (unless ``discover=False``), then fetch what is due. Recorded in crawl_runs."""
        with self.sessions.begin() as s:
            site_id = repo.ensure_site(s, site.name, site.base_url, self.clock()).id
            run_id = repo.start_run(s, site_id, "crawl" if discover else "drain", self.clock()).id
        stats = RunStats()
        ok: bool | None = False
        try:
            try:
                if discover:
                    await self.discover(site, site_id, stats)
                await self.drain(site, site_id, stats)
            except HostUnreachableError:
                pass  # recorded on the source's row and in stats; retried next pass
            ok = stats.errors == 0 or (stats.fetched + stats.discovered + stats.not_modified) > 0
        except asyncio.CancelledError:
            ok = None  # a clean shutdown is neither a success nor a site error
            raise
        finally:
            with self.sessions.begin() as s:
                repo.finish_run(s, run_id, stats.as_dict(), self.clock(), ok=ok)
        log.info(
            "site=%s pass done: discovered=%d fetched=%d new=%d changed=%d unchanged=%d not_modified=%d errors=%d",
            site.name,
            stats.discovered,
            stats.fetched,
            stats.new_articles,
            stats.changed_articles,
            stats.unchanged,
            stats.not_modified,
            stats.errors,
        )
        return stats


def canonical_for(site: SiteConfig, url: str) -> str | None:
    """The URL in the site's canonical form (its www and trailing-slash rules), or None if unusable."""
    try:
        return canonicalize(url, www=site.www, trailing_slash=site.trailing_slash)
    except ValueError:
        return None


def _reason(exc: BaseException) -> str:
    """One line: the error's message without the URL (the log line already names it)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    url = getattr(exc, "url", None)
    if url:
        text = text.replace(f" ({url})", "")
    return text


async def crawl_sites(crawler: Crawler, sites: Iterable[SiteConfig]) -> dict[str, RunStats]:
    """Crawl several sites concurrently (the fetcher keeps each host polite)."""
    sites = list(sites)
    results = await asyncio.gather(*(crawler.crawl_site(s) for s in sites))
    return {s.name: r for s, r in zip(sites, results, strict=True)}
