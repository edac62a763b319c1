"""Backfill: walk a site's sitemaps and listing pages back to a date, and archive what they hold.

Its feeds are read too, whatever their items' dates (only ``--since``/``--until`` apply): what a
crawl left out as older than the site's horizon is archived here, even when the feed has answered
304 since.

Sitemaps come from the site's config and its robots.txt ``Sitemap:`` lines; a sitemap index's
children last modified before ``since`` are skipped unread, and entries dated outside the window
are skipped unfetched. Listing pages are walked page by page (``rel=next``, "Trang sau",
``?page=N``, ``/trang-N``...) and the walk stops at the first page whose articles are all older
than ``since``. Everything goes through the persistent frontier, so a backfill stopped with
Ctrl-C resumes where it was: what was archived is not fetched again, what was queued is fetched.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import Callable
from datetime import datetime

from sqlalchemy import func, select

from jobs import discover, revisit
from jobs.config import SiteConfig
from jobs.crawl import Crawler
from jobs.runs import RunStats, SitePass, recorded_run
from scraper.discover.listings import find_next_page
from scraper.fetch import FetchResult
from storage.frontier import NewUrl
from storage.models import Article, ArticleUrl, UrlKind

log = logging.getLogger("vnnews.backfill")

#: safety bounds: a hostile or endless site cannot keep a backfill going forever
MAX_SITEMAPS = 2000
MAX_LISTING_PAGES = 1000


async def backfill(
    crawler: Crawler, site: SiteConfig, *, since: datetime | None = None,
    until: datetime | None = None, max_listing_pages: int = MAX_LISTING_PAGES,
) -> RunStats:  # fmt: skip
    """Archive the site's articles published in [since, until]; recorded as a ``backfill`` run."""
    async with recorded_run(
        crawler.sessions, site, "backfill", crawler.clock, crawler.worker_id
    ) as p:
        crawler.passes[site.name] = p.stats
        await _feeds(crawler, p, since, until)
        await _sitemaps(crawler, p, since, until)
        await _drain_all(crawler, p)
        for listing in site.listings:
            await _walk_listing(crawler, p, listing, since, max_listing_pages)
        await _drain_all(crawler, p)
    return p.stats


async def _sitemaps(
    crawler: Crawler, p: SitePass, since: datetime | None, until: datetime | None
) -> None:
    urls = list(p.site.sitemaps)
    urls += [u for u in await discover.robots_sitemaps(crawler, p) if u not in urls]
    if not urls and not p.site.listings:
        # a feed holds only the newest items: there is nothing here to walk back through
        log.warning(
            "site=%s: nothing to walk back through: no sitemaps (configured or in robots.txt) "
            "and no listings; only its feeds are read, which hold the newest items (add "
            "`sitemaps` or `listings` to reach further back)",
            p.name,
        )  # fmt: skip
    queue, seen = deque(urls), set[str]()
    max_bytes = crawler.fetcher.settings.max_bytes
    while queue and len(seen) < MAX_SITEMAPS:
        url = queue.popleft()
        if url in seen:
            continue
        seen.add(url)
        children = await _read(
            crawler, p, UrlKind.SITEMAP, url,
            lambda r: discover.sitemap_urls(p, r, max_bytes=max_bytes, oldest=since, newest=until),
        )  # fmt: skip
        queue.extend(c for c in children if c not in seen)


async def _feeds(
    crawler: Crawler, p: SitePass, since: datetime | None, until: datetime | None
) -> None:
    for url in p.site.feeds:
        await _read(
            crawler, p, UrlKind.FEED, url,
            lambda r: (discover.feed_urls(p, r, oldest=since, newest=until), []),
        )  # fmt: skip


async def _read(
    crawler: Crawler, p: SitePass, kind: str, url: str,
    parse: Callable[[FetchResult], tuple[list[NewUrl], list[str]]],
) -> list[str]:  # fmt: skip
    """Fetch a feed or sitemap unconditionally (unchanged since the daemon read it, it may hold
    entries its horizon skipped), parse it, queue its URLs at backfill priority; the child
    sitemaps it lists (none when it failed: recorded, as in discovery)."""
    source = await discover.fetch_source(crawler, p, kind, url, conditional=False)
    if source is None:
        return []
    try:
        found, children = parse(source.result)
    except Exception as exc:  # per-source containment, as in discovery
        discover.source_failed(crawler, p, source.row_id, url, exc, source)
        return []
    p.stats.discovered += discover.accept_source(
        crawler, p, source, found, priority=revisit.PRIORITY["backfill"], refetch=False
    )
    log.info(
        "site=%s %s %s: %d URL(s) in the window%s", p.name, kind, url, len(found),
        f", {len(children)} child sitemap(s)" if children else "",
    )  # fmt: skip
    return children


async def _walk_listing(
    crawler: Crawler, p: SitePass, start: str, since: datetime | None, max_pages: int
) -> None:
    page_url: str | None = start
    visited: set[str] = set()
    while page_url and page_url not in visited and len(visited) < max_pages:
        visited.add(page_url)
        source = await discover.fetch_source(
            crawler, p, UrlKind.LISTING, page_url, conditional=False
        )
        if source is None:
            return
        try:
            found = discover.listing_urls(p, source.result)
            next_url = find_next_page(
                source.result.text(), source.result.final_url,
                selectors=p.profile.next_page if p.profile else (),
            )  # fmt: skip
        except Exception as exc:
            discover.source_failed(crawler, p, source.row_id, page_url, exc, source)
            return
        p.stats.discovered += discover.accept_source(
            crawler, p, source, found, priority=revisit.PRIORITY["backfill"], refetch=False
        )
        # fetch this page's articles now: their dates tell whether to go further back
        await _drain_all(crawler, p)
        if since is not None and found:
            newest = _newest_published(crawler, [u.url for u in found])
            if newest is not None and newest < since:
                log.info(
                    "site=%s listing %s: page %d is older than %s, stopping",
                    p.name, start, len(visited), since.date(),
                )  # fmt: skip
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


async def _drain_all(crawler: Crawler, p: SitePass) -> None:
    """Fetch due URLs batch after batch until none is left (failures come due later, not now)."""
    while True:
        before = p.stats.fetched + p.stats.errors
        await crawler.drain_pass(p)
        if p.stats.fetched + p.stats.errors == before:
            return
