"""RSS 2.0, Atom and RDF (RSS 1.0) feeds: bytes in, article URLs with their dates out.

Feeds are read leniently because real ones are broken (see ``scraper.discover.xml``): elements are
matched by local name whatever their namespace, text in CDATA is HTML-unescaped (vietnambiz puts
``&#224;`` inside CDATA and means "à"), and dates go through every parser we have, so
``GMT+7``, two-digit years and baochinhphu's ``9/5/2026 1:30:00 PM`` all read.

One bad item never fails the feed: an item without a usable link is skipped, a bad date is None.
A document that is not a feed at all raises DiscoveryError.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser

from scraper import entities
from scraper.dates import DAY_FIRST, DateOrder, parse_iso8601, parse_numeric_datetime, parse_rfc822
from scraper.discover.html import document_base, parse_html
from scraper.discover.xml import children, local_name, parse_xml
from scraper.errors import DiscoveryError, HtmlTooComplexError
from scraper.extract.limits import check_html, defuse
from scraper.urls import canonicalize
from scraper.vietnamese import clean_inline

__all__ = ["FeedItem", "find_feed_links", "parse_feed", "parse_feed_date"]

_FEED_TYPES = frozenset(
    {"application/rss+xml", "application/atom+xml", "application/rdf+xml", "application/feed+xml"}
)
_PUBLISHED = ("pubDate", "published", "issued", "date", "created")
_UPDATED = ("updated", "modified")


@dataclass(frozen=True)
class FeedItem:
    url: str
    title: str | None
    published_at: datetime | None
    updated_at: datetime | None
    summary: str | None


def parse_feed_date(text: str | None, *, order: DateOrder = DAY_FIRST) -> datetime | None:
    """A feed date in any format seen in the wild, as aware UTC, or None.

    A numeric date (``05/09/2026 13:30``) is read in the site's day/month ``order`` (profile
    data, day first by default): never a US month-first guess for a Vietnamese site.
    """
    if not text or not text.strip():
        return None
    text = entities.unescape(text).strip()
    if text[:4].isdigit():  # W3C/ISO dates, the sitemap standard: the cheap check first
        return parse_iso8601(text) or parse_rfc822(text)
    return parse_rfc822(text) or parse_iso8601(text) or parse_numeric_datetime(text, order=order)


def _text(element: Any) -> str:
    return "".join(element.itertext())


def _first_text(item: Any, names: Sequence[str]) -> str | None:
    """Text of the first child whose local name is in ``names`` (in the order of ``names``)."""
    by_name: dict[str, Any] = {}
    for child in children(item):
        by_name.setdefault(local_name(child), child)
    for name in names:
        if name in by_name:
            text = _text(by_name[name]).strip()
            if text:
                return text
    return None


def _clean_title(text: str | None) -> str | None:
    if text is None:
        return None
    # Titles are plain text, but CDATA titles carry entities meant as HTML (vietnambiz).
    cleaned = clean_inline(entities.unescape(text))
    return cleaned or None


def _clean_summary(text: str | None) -> str | None:
    if text is None:
        return None
    try:
        tags = check_html(text)
    except HtmlTooComplexError:
        return None  # a summary is optional; parsing this one could hold the loop for minutes
    # Summaries are HTML (an <a><img></a> then the sapo); keep the words only.
    node = LexborHTMLParser(f"<div>{defuse(text, tags=tags)}</div>").css_first("div")
    words = node.text(separator=" ") if node is not None else text
    # the HTML parser has decoded the entities (also those written inside CDATA)
    cleaned = clean_inline(words)
    return cleaned or None


def _link_candidates(item: Any) -> Iterator[str]:
    """The item's link in order of trust: feedburner origLink, <link> text or Atom
    rel=alternate href, then an absolute permalink guid or rdf:about."""
    kids = list(children(item))
    for child in kids:
        if local_name(child) == "origLink":
            yield _text(child)
    for child in kids:
        if local_name(child) != "link":
            continue
        href = child.get("href")
        if href is None:
            yield _text(child)
        elif child.get("rel", "alternate") == "alternate":  # not self, enclosure, related
            yield href
    # A guid or rdf:about that is not an absolute URL is an id, not a link to resolve.
    for child in kids:
        if (
            local_name(child) == "guid"
            and child.get("isPermaLink", "true").lower() != "false"
            and _text(child).strip().lower().startswith(("http://", "https://"))
        ):
            yield _text(child)
    about = next((v for k, v in item.items() if k.endswith("}about")), "")
    if about.strip().lower().startswith(("http://", "https://")):
        yield about


def _item_url(item: Any, base_url: str) -> str | None:
    for candidate in _link_candidates(item):
        candidate = entities.unescape(candidate.strip())
        if not candidate:
            continue
        try:
            return canonicalize(candidate, base=base_url)
        except ValueError:
            continue
    return None


def _items(root: Any, base_url: str) -> list[Any]:
    kind = local_name(root)
    if kind == "rss":
        channel = next((c for c in children(root) if local_name(c) == "channel"), root)
        return [c for c in children(channel) if local_name(c) == "item"]
    if kind == "feed":
        return [c for c in children(root) if local_name(c) == "entry"]
    if kind == "RDF":
        # RSS 1.0 puts items beside the channel, RSS 0.9x variants inside it
        items = [c for c in children(root) if local_name(c) == "item"]
        for channel in (c for c in children(root) if local_name(c) == "channel"):
            items.extend(c for c in children(channel) if local_name(c) == "item")
        return items
    raise DiscoveryError(f"not a feed: root element <{kind or '?'}>", url=base_url)


def parse_feed(data: bytes, base_url: str, *, order: DateOrder = DAY_FIRST) -> list[FeedItem]:
    """Items of an RSS 2.0, Atom or RDF feed, in feed order, one per distinct URL.

    ``order``: how the site writes numeric dates (``parse_feed_date``).
    """
    doc = parse_xml(data, url=base_url)
    items = _items(doc.root, base_url)
    if not doc.complete:
        if len(items) <= 1:
            raise DiscoveryError("truncated feed: no complete item", url=base_url)
        items.pop()  # the item the download stopped in: its link may be cut short
    result: list[FeedItem] = []
    seen: set[str] = set()
    for item in items:
        url = _item_url(item, base_url)
        if url is None or url in seen:
            continue
        seen.add(url)
        result.append(
            FeedItem(
                url=url,
                title=_clean_title(_first_text(item, ("title",))),
                published_at=parse_feed_date(_first_text(item, _PUBLISHED), order=order),
                updated_at=parse_feed_date(_first_text(item, _UPDATED), order=order),
                summary=_clean_summary(_first_text(item, ("description", "summary", "content"))),
            )
        )
    return result


def find_feed_links(html_text: str | bytes, base_url: str) -> list[str]:
    """Feeds a page advertises with ``<link rel="alternate" type="application/rss+xml">``."""
    tree = parse_html(html_text)
    base = document_base(tree, base_url)
    found: list[str] = []
    for node in tree.css("link[href]"):
        rel = (node.attributes.get("rel") or "").lower().split()
        kind = (node.attributes.get("type") or "").lower().split(";")[0].strip()
        if "alternate" not in rel or kind not in _FEED_TYPES:
            continue
        try:
            url = canonicalize(node.attributes.get("href") or "", base=base)
        except ValueError:
            continue
        if url not in found:
            found.append(url)
    return found
