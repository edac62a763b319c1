"""Metadata from a page's head and structured data: JSON-LD, meta tags, link tags.

Order of trust for dates: JSON-LD ``datePublished``/``dateModified``, then meta tags
(``article:published_time``, ``pubdate``, ``its_publication`` epoch, ``dc.date``,
``itemprop=datePublished`` ...), then ``<time datetime>``. Visible text comes last and lives in
``textdates``. JSON-LD strings are HTML-unescaped (some CMSs escape them twice).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper import entities
from scraper.dates import parse_epoch, parse_iso8601, parse_rfc822
from scraper.extract.blocks import absolute_url
from scraper.extract.textdates import parse_vn_datetime
from scraper.vietnamese import clean_inline

_ARTICLE_TYPES = ("Article", "NewsArticle", "BlogPosting", "ReportageNewsArticle", "Report")
_PUBLISHED_META = (
    "article:published_time",
    "og:published_time",
    "published_time",
    "pubdate",
    "datepublished",
    "publishdate",
    "publish-date",
    "dc.date.issued",
    "dc.date",
    "dcterms.created",
    "sailthru.date",
    "date",
    "its_publication",
    "datecreated",
)
_UPDATED_META = (
    "article:modified_time",
    "og:updated_time",
    "datemodified",
    "lastmod",
    "last-modified",
    "dcterms.modified",
    "article_updatetime",
)
_EPOCH_META = {"its_publication", "article_updatetime"}


def unescape(text: str) -> str:
    """HTML-unescape up to twice (``&amp;#7871;`` → ``ế``), then clean."""
    for _ in range(2):
        if "&" not in text:
            break
        text = entities.unescape(text)
    return clean_inline(text)


def parse_date_value(value: str, *, epoch: bool = False) -> datetime | None:
    """A date as metadata writes it: ISO 8601, epoch seconds, RFC 822 or Vietnamese text."""
    value = value.strip()
    if not value:
        return None
    if epoch or value.isdigit():
        return parse_epoch(value) if value.isdigit() else None
    return parse_iso8601(value) or parse_rfc822(value) or parse_vn_datetime(value)


_CLOCK_RE = re.compile(r"\d{1,2}[:h]\d{2}")


def _set_published(meta: PageMeta, raw: str, *, epoch: bool = False) -> None:
    meta.published = parse_date_value(raw, epoch=epoch)
    meta.published_has_time = epoch or raw.strip().isdigit() or bool(_CLOCK_RE.search(raw))


@dataclass(slots=True)
class PageMeta:
    canonical_url: str | None = None
    title_tag: str | None = None
    og_title: str | None = None
    headline: str | None = None
    description: str | None = None
    site_name: str | None = None
    language: str | None = None
    published: datetime | None = None
    #: False when the metadata gives the day only ("2026-01-08"): a visible time may refine it
    published_has_time: bool = True
    updated: datetime | None = None
    authors: list[str] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    category: str | None = None
    image: str | None = None
    generator: str | None = None


def _walk_ld(node: Any) -> Iterator[dict[str, Any]]:
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, list):
            stack.extend(reversed(item))
        elif isinstance(item, dict):
            yield item
            graph = item.get("@graph")
            if isinstance(graph, list):
                stack.extend(reversed(graph))


def _types(obj: dict[str, Any]) -> list[str]:
    t = obj.get("@type")
    if isinstance(t, str):
        return [t]
    if isinstance(t, list):
        return [x for x in t if isinstance(x, str)]
    return []


def _names(value: Any) -> list[str]:
    out: list[str] = []
    for item in value if isinstance(value, list) else [value]:
        if isinstance(item, str):
            out.append(item)
        elif isinstance(item, dict):
            if "Organization" in str(item.get("@type", "")):
                continue
            name = item.get("name")
            if isinstance(name, str):
                out.append(name)
    return [n for n in (unescape(x) for x in out) if n]


def _breadcrumb(obj: dict[str, Any]) -> str | None:
    items = obj.get("itemListElement")
    if not isinstance(items, list):
        return None
    names: list[tuple[int, str]] = []
    for n, entry in enumerate(_walk_ld(items)):
        if "ListItem" not in _types(entry):
            continue
        name = entry.get("name")
        item = entry.get("item")
        if not isinstance(name, str) and isinstance(item, dict):
            name = item.get("name")
        pos = entry.get("position")
        if isinstance(name, str) and name.strip():
            names.append((pos if isinstance(pos, int) else n, unescape(name)))
    names.sort()
    names = [(p, x) for p, x in names if x.casefold() not in ("trang chủ", "home", "trang chu")]
    return names[-1][1] if names else None


def read_jsonld(scripts: list[LexborNode], meta: PageMeta) -> None:
    for script in scripts:
        raw = script.text(deep=True)
        try:
            data = json.loads(raw, strict=False)
        except (ValueError, RecursionError):  # RecursionError: arrays nested 100,000 deep
            continue
        for obj in _walk_ld(data):
            types = _types(obj)
            if any(t in _ARTICLE_TYPES for t in types):
                if meta.headline is None and isinstance(obj.get("headline"), str):
                    meta.headline = unescape(obj["headline"]) or None
                if meta.published is None and isinstance(obj.get("datePublished"), str):
                    _set_published(meta, obj["datePublished"])
                if meta.updated is None and isinstance(obj.get("dateModified"), str):
                    meta.updated = parse_date_value(obj["dateModified"])
                if not meta.authors:
                    meta.authors = _names(obj.get("author"))
                kw = obj.get("keywords")
                if not meta.tags and kw:
                    items = kw if isinstance(kw, list) else str(kw).split(",")
                    meta.tags = [unescape(str(k)) for k in items if str(k).strip()]
                if meta.language is None and isinstance(obj.get("inLanguage"), str):
                    meta.language = obj["inLanguage"].split(",")[0].strip() or None
                if meta.image is None:
                    img = obj.get("image")
                    if isinstance(img, list) and img:
                        img = img[0]
                    if isinstance(img, dict):
                        img = img.get("url")
                    if isinstance(img, str) and img.strip():
                        # JSON needs no HTML escapes: an "&amp;" is the CMS escaping twice
                        # (vietnamnet's "?width=0&amp;s=..."). Only that one: unescaping all
                        # would read a "&copy=1" parameter as "©=1"
                        meta.image = img.strip().replace("&amp;", "&")
            elif "BreadcrumbList" in types and meta.category is None:
                meta.category = _breadcrumb(obj)


def read_meta(found: _MetaNodes, meta: PageMeta, url: str) -> None:
    values: dict[str, str] = {}
    for node in found.metas:
        attrs = node.attributes  # one dict per tag: lexbor builds a new one on every call
        key = attrs.get("property") or attrs.get("name") or attrs.get("itemprop")
        content = attrs.get("content")
        if key and content:
            key = key.strip().lower()
            if key not in values:
                values[key] = content
    meta.og_title = unescape(values.get("og:title", "")) or None
    meta.description = (
        unescape(values.get("og:description") or values.get("description") or "") or None
    )
    meta.site_name = unescape(values.get("og:site_name", "")) or None
    meta.generator = values.get("generator")
    if meta.published is None:
        for key in _PUBLISHED_META:
            if key in values:
                _set_published(meta, values[key], epoch=key in _EPOCH_META)
                if meta.published:
                    break
    if meta.updated is None:
        for key in _UPDATED_META:
            if key in values:
                meta.updated = parse_date_value(values[key], epoch=key in _EPOCH_META)
                if meta.updated:
                    break
    if not meta.authors:
        for key in ("article:author", "dable:author", "author", "dc.creator", "sailthru.author"):
            if key in values:
                names = [unescape(n) for n in re.split(r"[;|]", values[key])]
                names = [n for n in names if n]
                if names:
                    meta.authors = names
                    break
    if not meta.tags:
        for key in ("news_keywords", "keywords", "article:tag", "its_tag"):
            if values.get(key, "").strip():
                meta.tags = [unescape(t) for t in values[key].split(",") if t.strip()]
                break
    if meta.category is None and values.get("article:section"):
        meta.category = unescape(values["article:section"]) or None
    if meta.image is None and values.get("og:image"):
        meta.image = values["og:image"].strip()
    if meta.language is None and values.get("og:locale"):
        meta.language = values["og:locale"]
    canonical = found.canonical
    href = canonical.attributes.get("href") if canonical is not None else None
    href = href or values.get("og:url")
    if href and href.strip():
        meta.canonical_url = absolute_url(url, href.strip())
    if meta.image:
        meta.image = absolute_url(url, meta.image)
    title = found.title
    if title is not None:
        meta.title_tag = clean_inline(title.text(deep=True)) or None


@dataclass(slots=True)
class _MetaNodes:
    """The elements metadata is read from, in document order, found in one walk of the tree:
    each query walks the whole page, and on a page not in the CPU's cache the walk, not the
    matching, is what costs (five queries cost about 1.5 times one query of five selectors)."""

    scripts: list[LexborNode] = field(default_factory=list)  # JSON-LD
    metas: list[LexborNode] = field(default_factory=list)
    times: list[LexborNode] = field(default_factory=list)
    canonical: LexborNode | None = None  # the first
    title: LexborNode | None = None  # the first


_META_CSS = (
    'script[type="application/ld+json"], meta[content], time[datetime], '
    'link[rel="canonical"][href], title'
)


def _meta_nodes(tree: LexborHTMLParser) -> _MetaNodes:
    found = _MetaNodes()
    for node in tree.css(_META_CSS):
        tag = node.tag
        if tag == "meta":
            found.metas.append(node)
        elif tag == "script":
            found.scripts.append(node)
        elif tag == "time":
            found.times.append(node)
        elif tag == "link":
            if found.canonical is None:
                found.canonical = node
        elif tag == "title" and found.title is None:
            found.title = node
    return found


def read_page_meta(tree: LexborHTMLParser, url: str) -> PageMeta:
    meta = PageMeta()
    found = _meta_nodes(tree)
    read_jsonld(found.scripts, meta)
    read_meta(found, meta, url)
    root = tree.root
    lang = root.attributes.get("lang") if root is not None and root.tag == "html" else None
    if lang and lang.strip():
        meta.language = lang
    if meta.published is None:
        for node in found.times:
            _set_published(meta, node.attributes.get("datetime") or "")
            if meta.published is not None:
                break
    return meta


def normalize_language(value: str | None) -> str | None:
    """``vi-VN`` / ``vi_VN`` / ``VI`` → ``vi``."""
    if not value:
        return None
    code = re.split(r"[-_,\s]", value.strip())[0].lower()
    return code if re.fullmatch(r"[a-z]{2,3}", code) else None
