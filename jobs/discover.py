"""Discovery: a site's feeds, sitemaps and listing pages → new URLs in the frontier.

Each source is fetched (conditionally: its ETag/Last-Modified live on its ``urls`` row), archived
in ``pages``, parsed by ``scraper.discover``, filtered by the site's URL rules and date window,
and its URLs are enqueued together with its new validators in one transaction: a daemon killed
in between fetches the source again rather than losing its items. A failing source is recorded
on its row and in the pass's stats; the others go on.

Moves (jobs/domains.py): every fetch here vets its redirect hops with the site's policy, and a
hop that leaves the site's domain is recorded in ``site_moves`` (one WARNING the first time). A
source held at such a hop is archived and marked ``moved``, not parsed. When every source of a
pass fails, the site's robots.txt and home page are asked whether the site moved.
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urljoin

from sqlalchemy.orm import Session

from jobs import domains, revisit
from jobs.config import span
from jobs.runs import SitePass
from scraper.discover.feeds import parse_feed
from scraper.discover.listings import extract_links
from scraper.discover.sitemaps import parse_sitemap
from scraper.errors import (
    DiscoveryError,
    FetchError,
    HostUnreachableError,
    VnnewsError,
    reason,
)
from scraper.fetch import FetchResult
from scraper.urls import registrable_domain
from storage import bodies, frontier, moves, repo
from storage.frontier import NewUrl
from storage.models import UrlKind

if TYPE_CHECKING:
    from jobs.crawl import Crawler

log = logging.getLogger("vnnews.crawl")

#: at most this many child sitemaps read per index per pass
MAX_CHILD_SITEMAPS = 20


@dataclass(frozen=True)
class Source:
    """A fetched feed, sitemap or listing page, not yet accepted."""

    row_id: int
    kind: str
    result: FetchResult


async def discover(crawler: Crawler, p: SitePass) -> None:
    """Read every source of the site once: feeds, sitemaps (configured and from robots.txt),
    listing pages. An unreachable host ends discovery for this pass with one error."""
    site = p.site
    sitemaps = list(site.sitemaps)
    if site.robots_sitemaps and (site.respect_robots is not False):
        sitemaps += [u for u in await robots_sitemaps(crawler, p) if u not in sitemaps]
    sources = (
        [(UrlKind.FEED, u) for u in site.feeds]
        + [(UrlKind.SITEMAP, u) for u in sitemaps]
        + [(UrlKind.LISTING, u) for u in site.listings]
    )
    oldest = crawler.clock() - timedelta(seconds=site.horizon) if site.horizon else None
    errors = p.stats.errors
    for kind, url in sources:
        try:
            await read_source(crawler, p, kind, url, oldest=oldest)
        except HostUnreachableError:
            # one error per unreachable site and pass, not one per source
            log.info(
                "site=%s unreachable: %d other sources skipped this pass", p.name, len(sources) - 1
            )
            raise
    if sources and p.stats.errors - errors >= len(sources):
        await check_home(crawler, p)


def following(p: SitePass) -> Callable[[str, str], bool]:
    """The fetcher's ``follow=`` for this site: which redirect hops to take."""
    site = p.site
    return lambda a, b: domains.may_follow(site, a, b)


def note_move(
    s: Session, p: SitePass, result: FetchResult, kind: str, now: datetime
) -> Callable[[], None] | None:
    """Record the move the fetch's redirects show, if any; when it is recorded for the first
    time, what announces it (a WARNING), to be called once ``s`` is committed: a transaction
    rolled back and written again would otherwise say it twice. None otherwise."""
    seen = domains.find_move(p.site, result)
    if seen is None:
        return None
    first = moves.record_move(
        s, p.site_id, from_host=seen.from_host, to_host=seen.to_host,
        evidence_url=seen.evidence_url, source_kind=kind, now=now,
    )  # fmt: skip
    p.moved_to.add(registrable_domain(seen.to_host))

    def announce() -> None:
        # the metric hook (#9): site_moves rows are the count; this line is the alert
        log.warning(
            "site=%s moved: %s redirects to %s (%s %s); %s",
            p.name, seen.from_host, seen.to_host, kind, seen.evidence_url,
            "followed (follow_moves/aliases)"
            if domains.is_own(p.site, f"http://{seen.to_host}/", p.moved_to)
            else "not followed: set follow_moves = true or aliases to archive the new domain",
        )  # fmt: skip

    return announce if first else None


async def check_home(crawler: Crawler, p: SitePass) -> None:
    """Every source failed: do the site's robots.txt or home page redirect to another domain?
    A redirect found is recorded as a move (with the page that shows it); errors are not, the
    sources already said why."""
    base = p.site.base_url
    for kind, url, accept, robots in (
        ("robots", urljoin(base, "/robots.txt"), "feed", False),
        ("home", base, "html", p.site.respect_robots),
    ):
        try:
            result = await crawler.fetcher.fetch(
                url, min_delay=p.site.min_delay, respect_robots=robots, accept=accept,
                follow=following(p),
            )  # fmt: skip
        except VnnewsError:
            continue
        with crawler.sessions.begin() as s:
            if domains.find_move(p.site, result) is None:
                continue
            bodies.record_page(s, result, url_id=None)
            announce = note_move(s, p, result, kind, crawler.clock())
        if announce is not None:
            announce()
        return


async def robots_sitemaps(crawler: Crawler, p: SitePass) -> list[str]:
    """The same-site ``Sitemap:`` URLs of the site's robots.txt (cached by the fetcher)."""
    try:
        found = await crawler.fetcher.robots_sitemaps(p.site.base_url)
    except HostUnreachableError as exc:
        p.error(urljoin(p.site.base_url, "/robots.txt"), reason(exc))
        raise
    except FetchError:
        return []  # robots.txt itself unavailable: each source's own fetch will say why
    return [u for u in found if domains.is_own(p.site, u, p.moved_to)]


async def read_source(
    crawler: Crawler, p: SitePass, kind: str, url: str, *, oldest: datetime | None, depth: int = 0
) -> None:
    """Fetch, parse and accept one source (and, for a sitemap index, its recent children)."""
    source = await fetch_source(crawler, p, kind, url)
    if source is None:
        return
    children: list[str] = []
    left_out = p.stats.out_of_window
    try:
        if kind == UrlKind.SITEMAP:
            max_bytes = crawler.fetcher.settings.max_bytes
            found, children = sitemap_urls(p, source.result, max_bytes=max_bytes, oldest=oldest)
        elif kind == UrlKind.FEED:
            found = feed_urls(p, source.result, oldest=oldest)
        else:
            found = listing_urls(p, source.result)
    except (
        Exception
    ) as exc:  # per-source containment: a bad document or a parser bug never stops the pass
        if not isinstance(exc, VnnewsError):
            log.exception("site=%s url=%s unexpected error while parsing", p.name, url)
        source_failed(crawler, p, source.row_id, url, exc, source)
        return
    p.stats.discovered += accept_source(crawler, p, source, found, priority=revisit.PRIORITY[kind])
    if kind == UrlKind.FEED and not found and p.stats.out_of_window > left_out:
        _all_too_old(crawler, p, url, p.stats.out_of_window - left_out)
    if depth == 0:
        for child in children[:MAX_CHILD_SITEMAPS]:
            await read_source(crawler, p, UrlKind.SITEMAP, child, oldest=oldest, depth=depth + 1)


def _all_too_old(crawler: Crawler, p: SitePass, url: str, n: int) -> None:
    """A feed whose articles are all older than the horizon: said once a process (INFO), for
    a new site's first crawl archives nothing from it, and the feed may answer 304 from then
    on; then at DEBUG. (An old monthly sitemap is in that state by nature: not said.)"""
    once = ("too old", p.name, url)
    level = logging.DEBUG if once in crawler.said else logging.INFO
    crawler.said.add(once)
    log.log(
        level,
        "site=%s url=%s: its %d article(s) are all older than the horizon (%s): not queued; "
        "`vnnews backfill %s` archives them (or raise the site's horizon)",
        p.name, url, n, span(p.site.horizon), p.name,
    )  # fmt: skip


async def fetch_source(
    crawler: Crawler, p: SitePass, kind: str, url: str, *, conditional: bool = True
) -> Source | None:
    """Fetch a feed/sitemap/listing; None if unchanged (304) or failed (both recorded).

    A fetched source is archived in ``pages`` by ``accept_source`` or ``source_failed``, in the
    same transaction as its outcome.
    """
    with crawler.sessions.begin() as s:
        row = frontier.source_url(s, p.site_id, url, kind, crawler.clock())
        etag, last_modified, row_id = row.etag, row.last_modified, row.id
    if not conditional:
        etag = last_modified = None
    try:
        result = await crawler.fetcher.fetch(
            url, etag=etag, last_modified=last_modified, min_delay=p.site.min_delay,
            respect_robots=p.site.respect_robots,
            accept="html" if kind == UrlKind.LISTING else "feed", follow=following(p),
        )  # fmt: skip
    except VnnewsError as exc:
        if crawler.metrics:
            crawler.metrics.fetched(p.name, "error")
        source_failed(crawler, p, row_id, url, exc)
        if isinstance(exc, HostUnreachableError):
            raise
        return None
    if crawler.metrics:
        crawler.metrics.fetched(p.name, result.status, len(result.body))
    source = Source(row_id, kind, result)
    if result.held is not None or result.redirects:
        with crawler.sessions.begin() as s:
            announce = note_move(s, p, result, kind, crawler.clock())
        if announce is not None:
            announce()
    if result.held is not None:
        step = revisit.after_moved(source=True, now=crawler.clock())
        with crawler.sessions.begin() as s:
            bodies.record_page(s, result, url_id=row_id)
            frontier.mark_failed(
                s, row_id, error=moved_error(result.held), now=crawler.clock(),
                status=result.status, next_due=step.next_due, state=step.state,
            )  # fmt: skip
        log.info("site=%s url=%s %s", p.name, url, moved_error(result.held))
        return None
    if result.not_modified:
        step = revisit.after_source(not_modified=True)
        with crawler.sessions.begin() as s:
            bodies.record_page(s, result, url_id=row_id)
            frontier.mark_fetched(
                s, row_id, status=304, etag=None, last_modified=None, now=crawler.clock(),
                state=step.state, next_due=step.next_due,
            )  # fmt: skip
        p.stats.not_modified += 1
        return None
    if result.status >= 400:
        source_failed(
            crawler, p, row_id, url, DiscoveryError(f"HTTP {result.status}", url=url), source
        )
        return None
    return source


def accept_source(
    crawler: Crawler, p: SitePass, source: Source, found: Iterable[NewUrl], *, priority: int,
    refetch: bool = True,
) -> int:  # fmt: skip
    """Archive the source's page, enqueue the URLs found in it, make due again the archived
    articles its lastmods say changed (``refetch``: not in a backfill, which only adds what is
    missing) and remember its validators, in one transaction: a daemon killed before it fetches
    the source again rather than losing them."""
    result = source.result
    step = revisit.after_source(not_modified=False)
    found = list(found)
    with crawler.sessions.begin() as s:
        bodies.record_page(s, result, url_id=source.row_id)
        queued = frontier.add_urls(
            s, p.site_id, found, now=crawler.clock(), priority=priority, via=result.url
        )
        owners = repo.site_names(s, queued.elsewhere) if queued.elsewhere else {}
        changed = (
            frontier.refetch_changed(s, p.site_id, found, now=crawler.clock(), lease=crawler.lease)
            if refetch
            else 0
        )
        frontier.mark_fetched(
            s, source.row_id, status=result.status, etag=result.etag,
            last_modified=result.last_modified, now=crawler.clock(), state=step.state,
            next_due=step.next_due,
        )  # fmt: skip
    p.stats.sources += 1
    for site_id, n in queued.elsewhere.items():
        # two [[site]]s on one host: what the other found first is its own, not queued here;
        # said once a process (INFO), then at DEBUG: the feed lists them again every pass
        once = ("elsewhere", p.name, str(site_id))
        level = logging.DEBUG if once in crawler.said else logging.INFO
        crawler.said.add(once)
        log.log(
            level,
            "site=%s url=%s: %s already to site %s, which found %s first: not queued for %s",
            p.name, result.url, f"{n} URL belongs" if n == 1 else f"{n} URLs belong",
            owners.get(site_id, site_id), "it" if n == 1 else "them", p.name,
        )  # fmt: skip
    if changed:
        log.info(
            "site=%s url=%s: %d archived article(s) changed since their fetch (lastmod): due again",
            p.name, result.url, changed,
        )  # fmt: skip
    return queued.new


def source_failed(
    crawler: Crawler, p: SitePass, row_id: int, url: str, exc: BaseException,
    source: Source | None = None,
) -> None:  # fmt: skip
    """Record a failed source (and archive what it answered, if it answered)."""
    why = reason(exc) if isinstance(exc, VnnewsError) else f"{type(exc).__name__}: {exc}"
    with crawler.sessions.begin() as s:
        if source is not None:
            bodies.record_page(s, source.result, url_id=row_id)
        frontier.mark_failed(s, row_id, error=why, now=crawler.clock(), next_due=None)
    p.error(url, why)


# --- parsing: bytes → URLs the site keeps (pure) -------------------------------------------


def sitemap_urls(
    p: SitePass, result: FetchResult, *, max_bytes: int, oldest: datetime | None = None,
    newest: datetime | None = None,
) -> tuple[list[NewUrl], list[str]]:  # fmt: skip
    """Article URLs in the window, and the child sitemaps whose lastmod does not rule them out.
    ``max_bytes`` also caps a gzipped sitemap once decompressed."""
    sm = parse_sitemap(result.body, result.final_url, max_bytes=max_bytes, order=p.date_order)
    trusted = _lastmods_trusted([e.lastmod for e in sm.urls])
    items = [
        NewUrl(e.url, e.published_at or e.lastmod, e.lastmod if trusted else None) for e in sm.urls
    ]
    urls = _kept(p, result.url, items, oldest=oldest, newest=newest)
    # a child last modified before the window holds nothing newer than that: skip it
    children = [
        c.url for c in sm.sitemaps if oldest is None or c.lastmod is None or c.lastmod >= oldest
    ]
    return urls, children


def feed_urls(
    p: SitePass, result: FetchResult, *, oldest: datetime | None = None,
    newest: datetime | None = None,
) -> list[NewUrl]:  # fmt: skip
    """Article URLs of a feed, filtered by the site's rules and the date window."""
    items = parse_feed(result.body, result.final_url, order=p.date_order)
    found = [NewUrl(i.url, i.published_at) for i in items]
    return _kept(p, result.url, found, oldest=oldest, newest=newest)


def listing_urls(p: SitePass, result: FetchResult) -> list[NewUrl]:
    """Article URLs linked from a listing page (the link selectors of the profile of the page's
    domain, the site's domains and URL patterns: ``keep``)."""
    profile = domains.listing_profile(p.site, p.profile, result.final_url)
    selectors = profile.listing_links if profile else ()
    links = extract_links(
        result.text(), result.final_url, selectors=selectors, same_site_only=False
    )
    return list(keep(p, (NewUrl(u) for u in links)))


def keep(p: SitePass, found: Iterable[NewUrl]) -> Iterable[NewUrl]:
    """The site's own article URLs among ``found``, canonical, with their dates."""
    site = p.site
    for item in found:
        url = site.canonical(item.url)
        if url is None or not domains.is_own(site, url, p.moved_to):
            continue
        if domains.is_article_url(site, url):
            yield item if url == item.url else replace(item, url=url)


def _lastmods_trusted(lastmods: list[datetime | None]) -> bool:
    """Whether a sitemap's lastmods date each page: not when more than half of its entries
    share one (stamped when the file is generated, or a bare date), which says nothing about
    when each page changed."""
    dated = [d for d in lastmods if d is not None]
    if not dated:
        return False
    shared = Counter(dated).most_common(1)[0][1]
    return shared < 2 or 2 * shared <= len(dated)


def _kept(
    p: SitePass, url: str, items: list[NewUrl], *,
    oldest: datetime | None, newest: datetime | None,
) -> list[NewUrl]:  # fmt: skip
    """``keep`` of a feed's or sitemap's items, then the date window (those left out are
    counted in ``out_of_window``; ``read_source`` says when a feed's are all old). A pattern or
    base_url that matches none of the items looks like a quiet site: a warning, the config is
    wrong."""
    own = list(keep(p, items))
    kept = [u for u in own if _in_window(u.source_date, oldest, newest)]
    p.stats.out_of_window += len(own) - len(kept)
    if items and not own:
        pattern = p.site.article_pattern
        log.warning(
            "site=%s url=%s has %d items, none of them the site's articles (article_pattern %r, "
            "base_url %s)",
            p.name, url, len(items), pattern.pattern if pattern else None, p.site.base_url,
        )  # fmt: skip
    return kept


def _in_window(date: datetime | None, oldest: datetime | None, newest: datetime | None) -> bool:
    """Undated items are kept: the window cannot rule them out."""
    return date is None or not ((oldest and date < oldest) or (newest and date > newest))


def moved_error(target: str) -> str:
    """What a URL held at a redirect to another domain records (``urls.last_error``)."""
    return f"redirects to {target}: another domain, not followed (follow_moves = false)"
