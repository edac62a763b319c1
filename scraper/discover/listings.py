"""Listing pages (home, category, "tin mới"): the article links on them and the next page.

``extract_links`` takes the profile's CSS selectors and article URL pattern; with neither it
returns every same-site link, which is only useful for exploration. ``find_next_page`` follows
pagers the way Vietnamese sites write them, most explicit signal first: ``rel=next``, the
profile's selectors, the anchor text ("Trang sau", "Tiếp", "»"), then page-number URL shapes
(``?page=N``, ``/trang-N``, ``-pN``) derived from the current URL when the page links to them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Sequence
from typing import Any
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, SelectolaxError

from scraper.discover.html import document_base, parse_html
from scraper.errors import ConfigError
from scraper.urls import canonicalize, same_site
from scraper.vietnamese import fold_key

__all__ = ["extract_links", "find_next_page"]


# Compared after fold_key (case, tone placement and spacing folded).
_NEXT_TEXTS = frozenset(
    fold_key(t)
    for t in ("Trang sau", "Trang tiếp", "Trang kế", "Tiếp", "Tiếp theo", "Sau", "»", "›", "❯",
              ">>", "Next", "Next page", "Trang sau »", "Tiếp »", "Sau »")
)  # fmt: skip
# Query parameters that carry a page number.
_PAGE_PARAMS = ("page", "p", "trang", "pg", "paged", "pageindex")
_TRANG_RE = re.compile(r"^(?P<stem>.*?)/(?:trang|page)-?(?P<n>\d{1,5})(?P<ext>\.[A-Za-z0-9]+)?/?$")
_P_RE = re.compile(r"^(?P<stem>.*?)-(?:p|page)(?P<n>\d{1,5})(?P<ext>\.[A-Za-z0-9]+)?/?$")
_EXT_RE = re.compile(r"^(?P<stem>.*?)(?P<ext>\.[A-Za-z0-9]+)?/?$")


def _select(tree: LexborHTMLParser, selector: str, base_url: str) -> list[Any]:
    try:
        return list(tree.css(selector))
    except SelectolaxError as exc:
        raise ConfigError(f"invalid CSS selector {selector!r}", url=base_url) from exc


def _anchors(tree: LexborHTMLParser, selectors: Sequence[str], base_url: str) -> Iterator[Any]:
    """<a href> nodes matched by the selectors (or inside what they match), else all of them."""
    if not selectors:
        yield from tree.css("a[href]")
        return
    for selector in selectors:
        for node in _select(tree, selector, base_url):
            if node.tag == "a":
                if node.attributes.get("href") is not None:
                    yield node
            else:
                yield from node.css("a[href]")


def _resolve(hrefs: Iterable[str | None], base: str) -> Iterator[str]:
    for href in hrefs:
        if not href:
            continue
        try:
            yield canonicalize(href, base=base)
        except ValueError:  # javascript:, mailto:, tel:, a broken host: not a page
            continue


def extract_links(
    html: str | bytes,
    base_url: str,
    *,
    selectors: Sequence[str] = (),
    pattern: re.Pattern[str] | None = None,
    same_site_only: bool = True,
) -> list[str]:
    """Canonical article links of a listing page, in page order, without duplicates.

    Links come from ``selectors`` (each may match the ``<a>`` or an element containing it), or
    from every ``<a href>`` when there are none. ``pattern`` is searched in the canonical URL.
    An invalid selector raises ConfigError: it is a profile bug, not a page problem.
    """
    tree = parse_html(html)
    base = document_base(tree, base_url)
    anchors = _anchors(tree, selectors, base_url)
    found: dict[str, None] = {}
    for url in _resolve((a.attributes.get("href") for a in anchors), base):
        if url in found:
            continue
        if same_site_only and not same_site(url, base_url):
            continue
        if pattern is not None and not pattern.search(url):
            continue
        found[url] = None
    return list(found)


def _page_key(url: str) -> Iterator[tuple[tuple[str, ...], int]]:
    """(shape, page number) readings of ``url``; a URL without a number reads as page 1.

    Two URLs are pages of the same listing when their shapes are equal.
    """
    parts = urlsplit(url)
    site = (parts.scheme, parts.netloc)
    params = [p.split("=", 1) for p in parts.query.split("&") if p]
    names = [p[0].lower() for p in params]
    for name in _PAGE_PARAMS:
        others = tuple("=".join(p) for p in params if p[0].lower() != name)
        shape = (*site, "query", name, parts.path, *others)
        if name in names:
            value = params[names.index(name)]
            if len(value) == 2 and value[1].isdigit():
                yield shape, int(value[1])
        else:
            yield shape, 1
    for kind, regex in (("trang", _TRANG_RE), ("p", _P_RE)):
        m = regex.match(parts.path)
        if m:
            yield (*site, kind, m["stem"], m["ext"] or "", parts.query), int(m["n"])
    m = _EXT_RE.match(parts.path)
    if m and m["stem"]:
        for kind in ("trang", "p"):
            yield (*site, kind, m["stem"], m["ext"] or "", parts.query), 1


def _by_url_shape(current: str, links: Sequence[str]) -> str | None:
    current_pages = dict(_page_key(current))
    for link in links:
        for shape, number in _page_key(link):
            if number > 1 and current_pages.get(shape) == number - 1:
                return link
    return None


def _anchor_label(node: Any) -> str:
    text = node.text(deep=True, separator=" ").strip()
    if not text:
        text = node.attributes.get("title") or node.attributes.get("aria-label") or ""
    return fold_key(text)


def find_next_page(
    html: str | bytes, base_url: str, *, selectors: Sequence[str] = ()
) -> str | None:
    """The canonical URL of the next page of this listing, or None on the last (or only) page."""
    tree = parse_html(html)
    base = document_base(tree, base_url)
    try:
        current = canonicalize(base_url)
    except ValueError:
        return None

    def usable(url: str) -> bool:
        return url != current and same_site(url, current)

    rel_next = [
        n.attributes.get("href")
        for n in tree.css("link[href][rel], a[href][rel]")
        if "next" in (n.attributes.get("rel") or "").lower().split()
    ]
    candidates: list[Iterable[str]] = [_resolve(rel_next, base)]
    if selectors:
        candidates.append(
            _resolve((a.attributes.get("href") for a in _anchors(tree, selectors, base_url)), base)
        )
    labelled = (
        a.attributes.get("href") for a in tree.css("a[href]") if _anchor_label(a) in _NEXT_TEXTS
    )
    candidates.append(_resolve(labelled, base))
    for group in candidates:
        for url in group:
            if usable(url):
                return url
    links = list(_resolve((a.attributes.get("href") for a in tree.css("a[href]")), base))
    return _by_url_shape(current, [u for u in dict.fromkeys(links) if usable(u)])
