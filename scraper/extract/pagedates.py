"""An article's published and updated times, from every candidate the page offers.

Candidates: the page metadata (JSON-LD, meta tags, ``<time>``), and the visible dateline (a
profile selector, else date-like class names). The most precise candidate wins: a visible
"08/01/2026 - 18:21" beats a JSON-LD "2026-01-08" without a time when both name the same day,
so the article is not stored at midnight. A dateline printed without a year ("Chiều 6/1")
takes the year that puts it nearest a reference date: the page metadata, else a date in the
URL, else the discovery date the caller passes in (``urls.source_date``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.dates import VN_TZ
from scraper.extract.classindex import PageClasses, page_css
from scraper.extract.metadata import PageMeta, parse_date_value
from scraper.extract.textdates import labeled_dates
from scraper.extract.vocabulary import DATE_CSS
from scraper.vietnamese import clean_inline

_URL_DATE_RE = re.compile(r"(?<!\d)(20\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?!\d)")
_MAX_DATELINE = 120
_DATE_NODES = 40
_HALF_YEAR = timedelta(days=183)


def reference_date(url: str, meta: PageMeta, fallback: datetime | None) -> datetime | None:
    """What a year-less dateline is read against: page metadata, the URL, the discovery date."""
    if meta.published is not None:
        return meta.published
    if meta.updated is not None:
        return meta.updated
    m = _URL_DATE_RE.search(urlsplit(url).path)
    if m:
        try:
            return datetime(int(m.group(1)), int(m.group(2)), int(m.group(3)), 12, tzinfo=VN_TZ)
        except ValueError:
            pass
    return fallback


def _nearest_year(value: datetime, ref: datetime) -> datetime:
    """``value`` (read in ``ref``'s year) moved a year back or on, to be nearest ``ref``:
    a "31/12" dateline found on 2 January belongs to the year before."""
    for years in (-1, 1):
        if abs(value - ref) <= _HALF_YEAR:
            break
        try:
            moved = value.replace(year=value.year + years)
        except ValueError:  # 29 February
            continue
        if abs(moved - ref) < abs(value - ref):
            value = moved
    return value


def dateline_dates(text: str, ref: datetime | None) -> tuple[datetime | None, datetime | None]:
    """(published, updated) of a visible date line; a missing year is taken from ``ref``."""
    published, updated = labeled_dates(text)
    if published is None and ref is not None:
        year = ref.astimezone(VN_TZ).year
        published, upd = labeled_dates(text, year=year)
        if published is not None:
            published = _nearest_year(published, ref)
        if upd is not None and updated is None:
            updated = _nearest_year(upd, ref)
    return published, updated


def node_dates(node: LexborNode, ref: datetime | None) -> tuple[datetime | None, datetime | None]:
    attrs = node.attributes
    raw = attrs.get("datetime") or attrs.get("content") or attrs.get("data-time")
    if raw:
        value = parse_date_value(raw, epoch=raw.strip().isdigit())
        if value is not None:
            return value, None
    return dateline_dates(clean_inline(node.text(deep=True, separator=" ")), ref)


def _visible(
    tree: LexborHTMLParser,
    date_node: LexborNode | None,
    ref: datetime | None,
    classes: PageClasses | None,
) -> tuple[datetime | None, datetime | None]:
    if date_node is not None:
        return node_dates(date_node, ref)
    for node in page_css(classes, tree, DATE_CSS)[:_DATE_NODES]:
        if len(node.text(deep=True, strip=True)) > _MAX_DATELINE:
            continue
        found, upd = node_dates(node, ref)
        if found is not None:
            return found, upd
    return None, None


def _has_clock(value: datetime) -> bool:
    local = value.astimezone(VN_TZ)
    return (local.hour, local.minute, local.second) != (0, 0, 0)


def article_dates(
    tree: LexborHTMLParser,
    meta: PageMeta,
    url: str,
    *,
    date_node: LexborNode | None,
    fallback: datetime | None,
    classes: PageClasses | None = None,
) -> tuple[datetime | None, datetime | None]:
    """(published, updated): metadata first unless the visible dateline is more precise.
    ``classes``: the page's class index, to skip date selectors that cannot match."""
    published, updated = meta.published, meta.updated
    if published is not None and meta.published_has_time:
        return published, updated
    seen, seen_upd = _visible(tree, date_node, reference_date(url, meta, fallback), classes)
    if published is None:
        return seen, updated or seen_upd
    same_day = (
        seen is not None and seen.astimezone(VN_TZ).date() == published.astimezone(VN_TZ).date()
    )
    if seen is not None and same_day and _has_clock(seen):
        return seen, updated or seen_upd
    return published, updated
