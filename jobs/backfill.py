"""Backfill: walk a site's sitemaps and listing pages back to a date, and archive what they hold.

Sitemaps come from the site's config and its robots.txt ``Sitemap:`` lines; a sitemap index's
children last modified before ``since`` are skipped unread, and entries dated outside the window
are skipped unfetched. Listing pages are walked page by page (``rel=next``, "Trang sau",
``?page=N``, ``/trang-N``...) and the walk stops at the first page whose articles are all older
than ``since``. Everything goes through the persistent frontier, so a backfill stopped with
Ctrl-C resumes where it was: what was archived is not fetched again, what was queued is fetched.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from datetime import datetime

from sqlalchemy import func, select

from jobs.config import SiteConfig
from jobs.crawl import PRIORITY, Crawler, RunStats
from scraper.discover.listings import find_next_page
from scraper.errors import HostUnreachableError
from storage import repo
from storage.models import Article, ArticleUrl

log = logging.getLogger("vnnews.backfill")

#: safety bounds: a hostile or endless site cannot keep a backfill going forever
MAX_SITEMAPS = 2000
MAX_LISTING_PAGES = 1000


async def backfill(
    crawler: Crawler,
    site: SiteConfig,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    max_listing_pages: int = MAX_LISTING_PAGES,
) -> RunStats:
    """Archive the site's articles published in [since, until]; recorded as a ``backfill`` crawl run."""
    with crawler.sessions.begin() as s:
        site_id = repo.ensure_site(s, site.name, site.base_url, crawler.clock()).id
        run_id = repo.start_run(s, site_id, "backfill", crawler.clock()).id
    stats = RunStats()
    ok: bool | None = False
    try:
        try:
            await _sitemaps(crawler, site, site_id, stats, since, until)
            await _drain_all(crawler, site, site_id, stats)
            for listing in site.listings:
                await _walk_listing(
                    crawler, site, site_id, listing, stats, since, max_listing_pages
                )
            await _drain_all(crawler, site, site_id, stats)
        except HostUnreachableError:
            pass  # recorded; the next backfill resumes from the frontier
        ok = stats.errors == 0 or stats.fetched > 0
    except asyncio.CancelledError:
        ok = None  # interrupted (Ctrl-C): resumable, not a site error
        raise
    finally:
        with crawler.sessions.begin() as s:
            repo.finish_run(s, run_id, stats.as_dict(), crawler.clock(), ok=ok)
    return stats


async def _sitemaps(
    crawler: Crawler,
    site: SiteConfig,
    site_id: int,
    stats: RunStats,
    since: datetime | None,
    until: datetime | None,
) -> None:
    urls = list(site.sitemaps)
    urls += [u for u in await crawler.robots_sitemaps(site, stats) if u not in urls]
    profile = crawler.profile_for(site)
    queue, seen = deque(urls), set[str]()
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        # unconditional: a sitemap unchanged since the daemon read it may hold entries its horizon skipped
        source = await crawler.fetch_source(site, site_id, "sitemap", url, stats, conditional=False)
        if source is None:
            continue
        try:
            found, children = crawler.parse_sitemap(
                site, source.result, profile, oldest=since, newest=until
            )
        except Exception as exc:  # per-source containment, as in discovery
            crawler.source_failed(
                source_row=source.row_id, url=url, exc=exc, site=site, stats=stats
            )
            continue
        stats.discovered += crawler.accept_source(
            site_id, source, found, priority=PRIORITY["backfill"]
        )
        queue.extend(c for c in children if c not in seen)
        log.info(
            "site=%s sitemap %s: %d URLs in the window, %d child sitemaps",
            site.name,
            url,
            len(found),
            len(children),
        )


async def _walk_listing(
    crawler: Crawler,
    site: SiteConfig,
    site_id: int,
    start: str,
    stats: RunStats,
    since: datetime | None,
    max_pages: int,
) -> None:
    profile = crawler.profile_for(site)
    page_url: str | None = start
    visited: set[str] = set()
    while page_url and page_url not in visited and len(visited) < max_pages:
        visited.add(page_url)
        source = await crawler.fetch_source(
            site, site_id, "listing", page_url, stats, conditional=False
        )
        if source is None:
            return
        try:
            found = crawler.parse_source(site, "listing", source.result, profile)
            next_url = find_next_page(
                source.result.text(),
                source.result.final_url,
                selectors=profile.next_page if profile else (),
            )
        except Exception as exc:
            crawler.source_failed(
                source_row=source.row_id, url=page_url, exc=exc, site=site, stats=stats
            )
            return
        stats.discovered += crawler.accept_source(
            site_id, source, found, priority=PRIORITY["backfill"]
        )
        # fetch this page's articles now: their dates tell whether to go further back
        await _drain_all(crawler, site, site_id, stats)
        if since is not None and found:
            newest = _newest_published(crawler, [u.url for u in found])
            if newest is not None and newest < since:
                log.info(
                    "site=%s listing %s: page %d is older than %s, stopping",
                    site.name,
                    start,
                    len(visited),
                    since.date(),
                )
                return
        page_url = next_url


def _newest_published(crawler: Crawler, urls: list[str]) -> datetime | None:
    with crawler.sessions() as s:
        value = s.scalar(
            select(func.max(Article.published_at))
            .join(ArticleUrl, ArticleUrl.article_id == Article.id)
            .where(ArticleUrl.url.in_(urls))
        )
    return value


async def _drain_all(crawler: Crawler, site: SiteConfig, site_id: int, stats: RunStats) -> None:
    """Fetch due URLs batch after batch until none is left (failures come due later, not now)."""
    while True:
        before = stats.fetched + stats.errors
        await crawler.drain(site, site_id, stats)
        if stats.fetched + stats.errors == before:
            return
