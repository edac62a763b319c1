"""Onboarding a site: ``vnnews probe URL`` looks at a home page and suggests its configuration.

``probe()`` is the only part that does I/O (through the one Fetcher, so robots.txt and the
private-address guard apply): the home page, the feeds it advertises (else a few conventional
guesses), the sitemaps of robots.txt (else guesses) and a few articles. Everything it learns goes
into a ``ProbeReport``; the rest of this module is pure: inferring the article URL shape from
links, ranking likely listing pages, and rendering a ``[[site]]`` block for ``sources.toml``
(``jobs.config``) and, when no profile applies, a profile skeleton (``scraper/profiles/*.toml``).

Only same-site URLs are fetched after the home page: a feed or sitemap on another host is
reported, never followed, so probing a page never walks off to a third party.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import urlsplit

from jobs.config import DEFAULT_HORIZON, span
from scraper.discover.feeds import FeedItem, find_feed_links, parse_feed
from scraper.discover.listings import extract_links
from scraper.discover.roots import DocumentKind, document_kind
from scraper.discover.sitemaps import Sitemap, parse_sitemap
from scraper.discover.xml import local_name, parse_xml
from scraper.errors import ContentTypeError, DiscoveryError, FetchError, VnnewsError
from scraper.extract import extract_article, is_article
from scraper.fetch.client import Fetcher
from scraper.fetched import FetchResult
from scraper.profiles import load_profiles
from scraper.profiles.infer import (
    ListingCandidate,
    PatternGuess,
    guess_link_selectors,
    guess_selectors,
    infer_article_pattern,
    pattern_from_articles,
    rank_listings,
    sample_links,
    site_name,
)
from scraper.urls import canonicalize, host_of, same_site

__all__ = [
    "ArticleProbe", "FeedFound", "ProbeReport", "SitemapFound", "probe", "render_profile",
    "render_site_block", "render_summary",
]  # fmt: skip

FEED_GUESSES = ("/rss", "/rss/home.rss", "/feed/", "/rss.xml")
SITEMAP_GUESSES = ("/sitemap.xml", "/sitemap_index.xml", "/wp-sitemap.xml")
#: advertised feeds / robots sitemaps checked at most (a category page may list dozens)
MAX_CHECKED = 5
#: listing pages a suggested block names besides the home page (each checked to answer)
LISTINGS = 3
#: links read to learn which pages are articles when no URL shape says so
SAMPLED = 6
EVERY = "30m"


# --- the report ----------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedFound:
    url: str
    items: int
    same_site_items: int
    advertised: bool


@dataclass(frozen=True)
class SitemapFound:
    url: str
    urls: int
    child_sitemaps: int
    from_robots: bool


@dataclass(frozen=True)
class ArticleProbe:
    url: str
    title: str | None = None
    published_at: datetime | None = None
    text_length: int = 0
    extractor: str | None = None
    error: str | None = None
    #: whether the page reads as an article (``scraper.extract.is_article``, the crawler's rule)
    article: bool = False


@dataclass
class ProbeReport:
    url: str
    final_url: str
    base_url: str
    name: str
    probed_on: date
    feeds: list[FeedFound] = field(default_factory=list)
    sitemaps: list[SitemapFound] = field(default_factory=list)
    #: the site profile for the domain, else the CMS profile of the fingerprint, else None
    profile: str | None = None
    profile_kind: str | None = None
    pattern: PatternGuess | None = None
    listings: list[ListingCandidate] = field(default_factory=list)
    articles: list[ArticleProbe] = field(default_factory=list)
    #: CSS selectors checked on the fetched pages, for a profile skeleton
    selectors: dict[str, tuple[str, ...]] = field(default_factory=dict)
    #: what was tried and did not work, one line each
    notes: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        return json.loads(json.dumps(data, default=_json_default))  # type: ignore[no-any-return]


def _json_default(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()
    raise TypeError(f"not JSON: {type(value).__name__}")


# --- rendering -----------------------------------------------------------------------------


def _toml_str(value: str) -> str:
    if "'" not in value and "\n" not in value:
        return f"'{value}'"  # a literal string: regex backslashes stay as they are
    return json.dumps(value)  # JSON string escapes are valid TOML basic-string escapes


def _toml_list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_toml_str(v) for v in values) + "]"


def _covers(guess: PatternGuess, feed_urls: list[str]) -> bool:
    """Whether ``guess`` matches at least half of a feed's items (or there is no feed)."""
    if not feed_urls:
        return True
    regex = re.compile(guess.pattern)
    return 2 * sum(1 for u in feed_urls if regex.search(u)) >= len(feed_urls)


def _site_pattern(report: ProbeReport) -> str | None:
    return report.pattern.pattern if report.pattern else None


def render_site_block(report: ProbeReport) -> str:
    """A ``[[site]]`` table for sources.toml that ``jobs.config.parse_config`` accepts."""
    feeds = [f.url for f in report.feeds]
    sitemaps = [s.url for s in report.sitemaps]
    listings = [
        report.base_url,
        *(c.url for c in report.listings[:LISTINGS] if c.url != report.base_url),
    ]
    lines = [
        "[[site]]",
        f"name = {_toml_str(report.name)}",
        f"base_url = {_toml_str(report.base_url)}",
        f"feeds = {_toml_list(feeds)}",
        f"sitemaps = {_toml_list(sitemaps)}",
        f"listings = {_toml_list(listings)}",
    ]
    pattern = _site_pattern(report)
    if pattern:
        lines.append(f"article_pattern = {_toml_str(pattern)}")
    else:
        lines.append("# article_pattern: no article URL shape found; every same-site link is taken")
    lines.append(f"every = {_toml_str(EVERY)}")
    if report.profile_kind == "site" and report.profile:
        lines.append(f"profile = {_toml_str(report.profile)}")
    elif report.profile:
        lines.append(f"# profile: chosen by CMS fingerprint ({report.profile})")
    return "\n".join(lines) + "\n"


def render_profile(report: ProbeReport) -> str | None:
    """A profile skeleton for ``scraper/profiles/<name>.toml`` when no site or CMS profile
    applies (None otherwise); selectors found on the fetched pages are filled in."""
    if report.profile:
        return None
    host = urlsplit(report.base_url).hostname or ""
    domain = host[4:] if host.startswith("www.") else host
    netloc = urlsplit(report.base_url).netloc.removeprefix("www.")  # a port stays in the pattern
    lines = [
        f"# {domain}: skeleton written by `vnnews probe` on {report.probed_on.isoformat()}; "
        "check it",
        "# against a saved page (tests/fixtures/real/) before relying on it.",
        "[[profile]]",
        f"name = {_toml_str(report.name)}",
        "version = 1",
        f"valid_from = {report.probed_on.isoformat()}",
        'kind = "site"',
        f"domains = {_toml_list([domain])}",
        'based_on = "page"',
        'language = "vi"',
        "",
        "[profile.selectors]",
    ]
    for name in ("title", "sapo", "body", "published", "authors", "drop"):
        chosen = report.selectors.get(name)
        lines.append(f"{name} = {_toml_list(chosen)}" if chosen else f"# {name} = []")
    lines += ["", "[profile.discovery]"]
    links = report.selectors.get("listing_links")
    lines.append(f"listing_links = {_toml_list(links)}" if links else "# listing_links = []")
    pattern = _site_pattern(report)
    if pattern:
        anchored = (
            pattern
            if pattern.startswith("^")
            else (rf"^https?://(?:www\.)?{re.escape(netloc)}(?:/[^?#]*)?{pattern}")
        )
        lines.append(f"article_pattern = {_toml_str(anchored)}")
    return "\n".join(lines) + "\n"


def render_summary(report: ProbeReport) -> str:
    """What a person reads first: sources found, the URL shape, sections, sample articles."""
    out = [
        f"probe {report.url}" + (f" → {report.final_url}" if report.final_url != report.url else "")
    ]
    out.append(f"feeds:    {len(report.feeds) or 'none'}")
    out += [f"  {f.url}  ({f.items} items, {f.same_site_items} on this site)" for f in report.feeds]
    out.append(f"sitemaps: {len(report.sitemaps) or 'none'}")
    out += [
        f"  {s.url}  ({s.urls} urls, {s.child_sitemaps} child sitemaps)"
        + (" [robots.txt]" if s.from_robots else "")
        for s in report.sitemaps
    ]
    kind = (
        f"{report.profile_kind} profile {report.profile!r}"
        if report.profile
        else "none (generic extractor)"
    )
    out.append(f"profile:  {kind}")
    if report.pattern:
        p = report.pattern
        out.append(f"articles: {p.pattern}  ({p.matched} of {p.total} links), e.g. {p.examples[0]}")
    else:
        out.append("articles: no article URL shape found")
    # the home page is always among the block's listings, found sections or not
    out.append(f"listings: {len(report.listings) or 'the home page only'}")
    out += [
        f"  {c.url}  ({c.near_articles} articles near, linked {c.occurrences}x)"
        for c in report.listings
    ]
    extracted = sum(1 for a in report.articles if a.error is None)
    read = sum(1 for a in report.articles if a.article)
    out.append(f"extracted: {extracted} of {len(report.articles)} ({read} read as articles)")
    for a in report.articles:
        if a.error:
            out.append(f"  {a.url}\n    error: {a.error}")
            continue
        when = a.published_at.isoformat() if a.published_at else "no date"
        out.append(
            f"  {a.url}\n    {a.title or '(no title)'} | {when} | {a.text_length} chars | "
            f"{a.extractor}" + ("" if a.article else " | not an article (too little body text)")
        )
    out += [f"note: {n}" for n in report.notes]
    return "\n".join(out) + "\n"


# --- I/O -----------------------------------------------------------------------------------


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


async def _fetch_home(fetcher: Fetcher, url: str) -> FetchResult:
    """The home page, asked for as HTML (a site that negotiates on Accept serves its page). A
    feed or sitemap URL given in its place is refused as not HTML; it is then asked for as a
    feed once, to name what it is and where it belongs."""
    try:
        return await fetcher.fetch(url)
    except ContentTypeError as refused:
        found = await feed_or_sitemap(fetcher, url)
        if found is None:  # not a feed or sitemap either: the first refusal says it
            raise refused from None
        result, root, kind = found
        raise VnnewsError(
            f"{url} is a {kind} (<{root}>), not a home page: probe the site's home page "
            f"({_origin(result.final_url)}), or list the {kind} under a [[site]]'s {kind}s"
        ) from None


async def feed_or_sitemap(
    fetcher: Fetcher, url: str
) -> tuple[FetchResult, str, DocumentKind] | None:
    """``url`` asked for as XML (after an HTML request was refused for its type): the answer,
    its root element's name and what it is, when it is a feed or a sitemap; else None (an
    answer that is no 200, or no XML, included). ``probe`` and ``extract`` name such a URL
    rather than say only "not HTML"."""
    try:
        result = await fetcher.fetch(url, accept="feed")
        if result.status != 200:
            return None
        root = local_name(parse_xml(result.body, url=url).root)
    except VnnewsError:
        return None
    kind = document_kind(root)
    return None if kind is None else (result, root, kind)


async def _read(fetcher: Fetcher, url: str, notes: list[str], accept: str = "feed") -> bytes | None:
    """The body of a 200 answer, or None with a note saying why not."""
    try:
        result = await fetcher.fetch(url, accept=accept)
    except FetchError as exc:
        notes.append(f"{url}: {exc.args[0]}")
        return None
    if result.status != 200:
        notes.append(f"{url}: HTTP {result.status}")
        return None
    return result.body


def _same_site_first(found: list[str], home: str, what: str, notes: list[str]) -> list[str]:
    notes += [f"{u}: {what} on another host, not checked" for u in found if not same_site(u, home)]
    return [u for u in found if same_site(u, home)][:MAX_CHECKED]


async def _probe_feeds(
    fetcher: Fetcher, html: str, home: str, notes: list[str]
) -> tuple[list[FeedFound], list[FeedItem]]:
    """Advertised feeds; the conventional guesses only when none of them gives items."""
    advertised = _same_site_first(find_feed_links(html, home), home, "feed", notes)
    feeds: list[FeedFound] = []
    items: list[FeedItem] = []
    for group, was_advertised in ((advertised, True), (FEED_GUESSES, False)):
        for url in (canonicalize(u, base=home) for u in group):
            body = await _read(fetcher, url, notes)
            try:
                parsed = parse_feed(body, url) if body is not None else []
            except DiscoveryError as exc:
                notes.append(f"{url}: {exc.args[0]}")
                continue
            own = [i for i in parsed if same_site(i.url, home)]
            if parsed:
                feeds.append(FeedFound(url, len(parsed), len(own), was_advertised))
                items += own
                _too_old(url, own, notes)
        if feeds:
            break
    return feeds, items


def _too_old(url: str, items: list[FeedItem], notes: list[str]) -> None:
    """A note when every dated item of a feed is older than the default horizon: the suggested
    block would crawl nothing from it (backfill would)."""
    dated = [i.published_at for i in items if i.published_at is not None]
    oldest = datetime.now(UTC) - timedelta(seconds=DEFAULT_HORIZON)
    if dated and len(dated) == len(items) and max(dated) < oldest:
        notes.append(
            f"{url}: all {len(items)} items are older than {span(DEFAULT_HORIZON)} (the newest "
            f"{max(dated).date()}): crawls skip them (horizon); `vnnews backfill SITE` "
            "archives them"
        )


async def _probe_sitemaps(
    fetcher: Fetcher, home: str, notes: list[str]
) -> tuple[list[SitemapFound], list[str]]:
    """robots.txt's Sitemap lines; the guesses only when none of them parses. An index has
    one child read, to see what its pages look like."""
    listed = _same_site_first(await fetcher.robots_sitemaps(home), home, "sitemap", notes)
    found: list[SitemapFound] = []
    pages: list[str] = []
    for group, from_robots in ((listed, True), (SITEMAP_GUESSES, False)):
        for url in (canonicalize(u, base=home) for u in group):
            sitemap = await _read_sitemap(fetcher, url, notes)
            if sitemap is None:
                continue
            found.append(SitemapFound(url, len(sitemap.urls), len(sitemap.sitemaps), from_robots))
            pages += [e.url for e in sitemap.urls if same_site(e.url, home)]
            child = next((e.url for e in sitemap.sitemaps if same_site(e.url, home)), None)
            if child is not None and not pages:
                sub = await _read_sitemap(fetcher, child, notes)
                pages += [e.url for e in sub.urls if same_site(e.url, home)] if sub else []
        if found:
            break
    return found, pages


async def _read_sitemap(fetcher: Fetcher, url: str, notes: list[str]) -> Sitemap | None:
    body = await _read(fetcher, url, notes)
    try:
        return (
            parse_sitemap(body, url, max_bytes=fetcher.settings.max_bytes)
            if body is not None
            else None
        )
    except DiscoveryError as exc:
        notes.append(f"{url}: {exc.args[0]}")
        return None


async def _probe_article(fetcher: Fetcher, url: str, pages: list[str]) -> ArticleProbe:
    try:
        result = await fetcher.fetch(url)
        if result.status != 200:
            return ArticleProbe(url, error=f"HTTP {result.status}")
        text = result.text()
        article = extract_article(text, result.final_url)
    except VnnewsError as exc:  # FetchError or ExtractError: this article only
        return ArticleProbe(url, error=exc.args[0])
    pages.append(text)
    return ArticleProbe(
        url,
        article.title,
        article.published_at,
        len(article.text),
        article.extractor,
        article=is_article(article),
    )


async def _answering(
    fetcher: Fetcher, ranked: list[ListingCandidate], report: ProbeReport
) -> list[ListingCandidate]:
    """The ranked listing candidates, the best ``LISTINGS`` of them checked to answer with a
    page of their own (those the suggested block names): a link of the home page may be dead,
    and a 404 suggested as a listing would fail every pass. A candidate that fails, or only
    redirects to the home page, is left out with a note; pages already read (the home page,
    sampled links) are not asked for again. Candidates after the checked ones follow as
    ranked."""
    home = {report.base_url, report.final_url}
    read = {a.url: a.error for a in report.articles} | dict.fromkeys(home)
    kept: list[ListingCandidate] = []
    checked = 0
    while len(kept) < LISTINGS and checked < min(len(ranked), LISTINGS + MAX_CHECKED):
        c = ranked[checked]
        checked += 1
        if c.url in read:
            why = read[c.url]
        else:
            try:
                result = await fetcher.fetch(c.url)
                why = None if result.status == 200 else f"HTTP {result.status}"
                if why is None and result.final_url in home:
                    why = f"redirects to the home page {result.final_url}"
            except FetchError as exc:
                why = exc.args[0]
        if why is None:
            kept.append(c)
        else:
            report.notes.append(f"{c.url}: {why}: not suggested as a listing")
    return kept + ranked[checked:]


async def _learn_pattern(
    fetcher: Fetcher, report: ProbeReport, links: list[str], home: str, pages: list[str]
) -> PatternGuess | None:
    """The article URL shape of the folder that the sampled links reading as articles share
    (``infer.pattern_from_articles``); the sampled pages become the report's articles."""
    sampled = sample_links(links, home, limit=SAMPLED)
    for url in sampled:
        report.articles.append(await _probe_article(fetcher, url, pages))
    good = [a.url for a in report.articles if a.article]
    others = [a.url for a in report.articles if a.error is None and not a.article]
    pattern = pattern_from_articles(good, others)
    if pattern is None:
        report.notes.append(
            f"no article URL shape: {len(good)} of {len(sampled)} sampled links read as "
            "articles, in no folder of their own; set article_pattern by hand"
        )
        return None
    regex = re.compile(pattern)
    matched = [u for u in dict.fromkeys(links) if regex.search(u)]
    report.notes.append(
        f"article URL shape learned from {len(good)} sampled links that read as articles "
        f"(and {len(others)} that did not)"
    )
    return PatternGuess(pattern, len(matched), len(set(links)), tuple(matched[:3]))


async def probe(
    fetcher: Fetcher, url: str, *, max_articles: int = 3, today: date | None = None
) -> ProbeReport:
    """Look at the site of ``url`` and report what a ``[[site]]`` needs.

    Raises FetchError when the home page itself cannot be fetched (or is not a 200), and
    VnnewsError when ``url`` is a feed or sitemap; anything after that is reported (``notes``,
    ``ArticleProbe.error``), never raised.
    """
    result = await _fetch_home(fetcher, url)
    if result.status != 200:
        raise FetchError(f"HTTP {result.status}", url=url)
    html, home = result.text(), result.final_url
    base = _origin(home)
    port = urlsplit(canonicalize(home)).port  # canonical: the scheme's default port is dropped
    report = ProbeReport(
        url=url, final_url=home, base_url=base, name=site_name(host_of(home), port),
        probed_on=today or datetime.now(UTC).date(),
    )  # fmt: skip
    report.feeds, items = await _probe_feeds(fetcher, html, home, report.notes)
    report.sitemaps, sitemap_pages = await _probe_sitemaps(fetcher, home, report.notes)
    profile = load_profiles().resolve(home, page=html)
    if profile is not None:
        report.profile, report.profile_kind = profile.name, profile.kind
    home_links = extract_links(html, home)
    feed_urls = [i.url for i in items]
    links = [*feed_urls, *sitemap_pages, *home_links]
    report.pattern = infer_article_pattern(links)
    if report.pattern is not None and not _covers(report.pattern, feed_urls):
        # the page's own links outvoted the feed (probing an article: its print or related
        # links): a pattern missing the feed's items would discover nothing from it
        mine = report.pattern.pattern
        report.pattern = infer_article_pattern([*feed_urls, *sitemap_pages])
        if report.pattern is None or not _covers(report.pattern, feed_urls):
            report.pattern = None
        report.notes.append(
            f"the page's links have the shape {mine}, which most of the feed's "
            f"{len(feed_urls)} items do not: "
            + ("the feed's shape is taken instead" if report.pattern else "that shape is dropped")
        )
    pages: list[str] = []
    if report.pattern is None:
        # no URL shape: read a few links and learn the shape from those that are articles
        report.pattern = await _learn_pattern(fetcher, report, links, home, pages)
    else:
        shape = re.compile(report.pattern.pattern)
        chosen = feed_urls or [u for u in [*home_links, *sitemap_pages] if shape.search(u)]
        for article_url in list(dict.fromkeys(chosen))[:max_articles]:
            report.articles.append(await _probe_article(fetcher, article_url, pages))
        fetched = [a for a in report.articles if a.error is None]
        if fetched and not any(a.article for a in fetched):
            report.notes.append(
                f"none of the {len(fetched)} pages of the article URL shape reads as an article: "
                "check article_pattern before using it"
            )
    regex = re.compile(report.pattern.pattern) if report.pattern else None
    articles = {a.url for a in report.articles if a.article}
    ranked = [c for c in rank_listings(html, home, regex) if c.url not in articles]
    report.listings = await _answering(fetcher, ranked, report)
    report.selectors = guess_selectors(pages)
    if regex is not None:
        link_selectors = guess_link_selectors(html, home, regex)
        if link_selectors:
            report.selectors["listing_links"] = link_selectors
    return report
