"""Sitemaps: ``<urlset>`` (with Google News dates), ``<sitemapindex>``, plain-text, RSS/Atom.

A sitemap is read from bytes exactly as fetched: gzip is recognised by its magic bytes (servers
send ``.xml.gz`` as ``application/octet-stream`` or, worse, as ``Content-Encoding`` already
removed) and decompressed incrementally up to ``max_bytes``, so a gzip bomb costs at most that.
``max_urls`` (50,000 by the protocol) bounds the entries returned; the rest are ignored.

Elements are matched by local name: ``<loc>`` directly under ``<url>``/``<sitemap>`` is the page
(never the ``<image:loc>`` of an ``<image:image>`` block), ``<lastmod>`` its last change and
``news:publication_date`` its publication. An entry with an unusable URL is skipped; a bad date
is None. A document that is not a sitemap at all raises DiscoveryError.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from scraper.dates import DAY_FIRST, DateOrder
from scraper.discover.feeds import parse_feed, parse_feed_date
from scraper.discover.roots import FEED_ROOTS, SITEMAP_ROOTS
from scraper.discover.xml import children, local_name, parse_xml
from scraper.errors import DiscoveryError
from scraper.fetch.encoding import OverCap, decode_content
from scraper.urls import canonicalize

__all__ = ["Sitemap", "SitemapEntry", "parse_sitemap"]

_GZIP_MAGIC = b"\x1f\x8b"
_CHUNK = 1 << 16


@dataclass(frozen=True)
class SitemapEntry:
    url: str
    lastmod: datetime | None
    published_at: datetime | None


@dataclass(frozen=True)
class Sitemap:
    """``urls`` are pages; ``sitemaps`` are the children of a sitemap index, to fetch next."""

    urls: list[SitemapEntry] = field(default_factory=list)
    sitemaps: list[SitemapEntry] = field(default_factory=list)


def _gunzip(data: bytes, max_bytes: int, url: str) -> bytes:
    """Decompress gzip (also concatenated members) without ever holding more than max_bytes."""
    try:
        return decode_content(data, "gzip", limit=max_bytes, strict=True)
    except OverCap:
        raise DiscoveryError(
            f"sitemap larger than {max_bytes} bytes once decompressed", url=url
        ) from None
    except zlib.error as exc:
        if "truncated" in str(exc):
            raise DiscoveryError("truncated gzip data", url=url) from exc
        raise DiscoveryError(f"bad gzip data: {exc}", url=url) from exc


def _date(text: str | None, order: DateOrder) -> datetime | None:
    # W3C datetime is the standard; some CMSs write RFC 822 or US dates anyway
    return parse_feed_date(text, order=order)


def _entry(element: Any, base_url: str, order: DateOrder) -> SitemapEntry | None:
    loc: str | None = None
    lastmod: str | None = None
    published: str | None = None
    for child in children(element):
        name = local_name(child)
        if name == "loc" and loc is None:
            loc = "".join(child.itertext())
        elif name == "lastmod" and lastmod is None:
            lastmod = "".join(child.itertext())
        elif name == "news":
            for sub in child.iter():
                if isinstance(sub.tag, str) and local_name(sub) == "publication_date":
                    published = "".join(sub.itertext())
                    break
    if not loc or not loc.strip():
        return None
    try:
        url = canonicalize(loc.strip(), base=base_url)
    except ValueError:
        return None
    return SitemapEntry(
        url=url, lastmod=_date(lastmod, order), published_at=_date(published, order)
    )


def _from_xml(data: bytes, base_url: str, max_urls: int, order: DateOrder) -> Sitemap:
    doc = parse_xml(data, url=base_url)
    kind = local_name(doc.root)
    if kind in FEED_ROOTS:
        # The protocol accepts RSS 2.0 and Atom feeds as sitemaps.
        items = parse_feed(data, base_url, order=order)[:max_urls]
        return Sitemap(
            urls=[
                SitemapEntry(i.url, i.updated_at or i.published_at, i.published_at) for i in items
            ]
        )
    if kind not in SITEMAP_ROOTS:
        raise DiscoveryError(f"not a sitemap: root element <{kind or '?'}>", url=base_url)
    child_name = "url" if kind == "urlset" else "sitemap"
    elements = [c for c in children(doc.root) if local_name(c) == child_name]
    if not doc.complete and elements:
        elements.pop()  # the entry the download stopped in: its <loc> may be cut short
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    for element in elements:
        entry = _entry(element, base_url, order)
        if entry is None or entry.url in seen:
            continue
        seen.add(entry.url)
        entries.append(entry)
        if len(entries) >= max_urls:
            break
    if kind == "urlset":
        return Sitemap(urls=entries)
    return Sitemap(sitemaps=entries)


def _from_text(data: bytes, base_url: str, max_urls: int) -> Sitemap:
    entries: list[SitemapEntry] = []
    seen: set[str] = set()
    for line in data.decode("utf-8-sig", errors="replace").splitlines():
        line = line.strip()
        if not line.lower().startswith(("http://", "https://")):
            continue
        try:
            url = canonicalize(line)
        except ValueError:
            continue
        if url in seen:
            continue
        seen.add(url)
        entries.append(SitemapEntry(url=url, lastmod=None, published_at=None))
        if len(entries) >= max_urls:
            break
    if not entries:
        raise DiscoveryError("not a sitemap: neither XML nor lines of URLs", url=base_url)
    return Sitemap(urls=entries)


def parse_sitemap(
    data: bytes,
    base_url: str,
    *,
    max_bytes: int = 50_000_000,
    max_urls: int = 50_000,
    order: DateOrder = DAY_FIRST,
) -> Sitemap:
    """The pages (``urlset``) or child sitemaps (``sitemapindex``) listed in ``data``.

    ``data`` may be gzip-compressed. Raises DiscoveryError for a document over ``max_bytes``
    (compressed or not), broken gzip, or something that is no sitemap at all. ``order``: how
    the site writes numeric dates (profile data, day first by default). ``max_urls`` below 1 is
    the caller's mistake: ValueError.
    """
    if max_urls < 1:
        raise ValueError(f"max_urls must be at least 1, got {max_urls}")
    if len(data) > max_bytes:
        raise DiscoveryError(f"sitemap larger than {max_bytes} bytes", url=base_url)
    if data[:2] == _GZIP_MAGIC:
        data = _gunzip(data, max_bytes, base_url)
    stripped = data.lstrip(b" \t\r\n\xef\xbb\xbf")
    if not stripped:
        raise DiscoveryError("empty sitemap", url=base_url)
    if stripped[:1] == b"<" or b"\x00" in data[:4] or data[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return _from_xml(data, base_url, max_urls, order)
    return _from_text(data, base_url, max_urls)
