"""The article title: a visible h1 when it agrees with the metadata, else og:title / JSON-LD
headline / <title>, without the site-name suffix (" | Báo X", " - Báo X Online", " - VnExpress").
"""

from __future__ import annotations

import re

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.extract.metadata import PageMeta
from scraper.vietnamese import clean_inline, fold_key

_SEP_RE = re.compile(r"\s+[|\-–—:»]\s+")
_SITEISH_RE = re.compile(
    r"\b(?:báo|bao|online|news|tin tức|điện tử|dien tu|vn|tv|portal|cổng thông tin|trang)\b"
    r"|\.(?:vn|com|net)\b",
    re.IGNORECASE,
)
_WORD_RE = re.compile(r"\w+")


def _words(text: str) -> set[str]:
    return set(_WORD_RE.findall(fold_key(text)))


def clean_title(title: str, meta: PageMeta) -> str:
    """Drop a trailing (or leading) site-name segment."""
    title = clean_inline(title)
    site = fold_key(meta.site_name) if meta.site_name else None
    for _ in range(2):
        parts = _SEP_RE.split(title)
        if len(parts) < 2:
            break
        last, first = parts[-1], parts[0]
        if (site and fold_key(last) in site) or (
            len(last.split()) <= 5 and _SITEISH_RE.search(last)
        ):
            title = title[: title.rfind(last)].rstrip(" |-–—:»")
        elif (site and fold_key(first) == site) or (
            len(first.split()) <= 4
            and _SITEISH_RE.search(first)
            and len(parts) > 1
            and len(parts[-1].split()) > 3
        ):
            title = title[len(first) :].lstrip(" |-–—:»")
        else:
            break
    return title


def _similar(a: str, b: str) -> float:
    wa, wb = _words(a), _words(b)
    if not wa or not wb:
        return 0.0
    return len(wa & wb) / min(len(wa), len(wb))


def pick_title(tree: LexborHTMLParser, meta: PageMeta) -> tuple[LexborNode | None, str | None]:
    """(the h1 used, if any; the title)."""
    reference = meta.og_title or meta.headline or meta.title_tag
    for h1 in tree.css("h1")[:6]:
        text = clean_inline(h1.text(deep=True, separator=" "))
        if len(text.split()) < 2:
            continue
        if reference is None or _similar(text, reference) >= 0.6:
            return h1, text
    for candidate in (meta.og_title, meta.headline, meta.title_tag):
        if candidate:
            cleaned = clean_title(candidate, meta)
            if cleaned:
                return None, cleaned
    return None, None
