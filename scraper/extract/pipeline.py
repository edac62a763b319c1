"""The extraction pipeline: HTML (bytes or text) + URL (+ profile) → Article.

Profile selectors first, then metadata, then the generic scorer for whatever a profile does not
give. Pure: no I/O, no clock. The text is the body's paragraphs joined by a blank line, with
chrome, captions, the sapo, source lines and the closing byline taken out.
"""

from __future__ import annotations

import re
from datetime import datetime
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.charset import decode_body
from scraper.dates import VN_TZ
from scraper.errors import ExtractError
from scraper.extract.blocks import Paragraph, fast_clean, image_url, walk_body
from scraper.extract.bylines import clean_author, parse_byline, split_authors
from scraper.extract.chrome import is_chrome_text, source_line
from scraper.extract.generic import generic_body
from scraper.extract.metadata import (
    PageMeta,
    normalize_language,
    parse_date_value,
    read_page_meta,
)
from scraper.extract.textdates import is_date_line, labeled_dates
from scraper.extract.titles import clean_title, pick_title
from scraper.extract.vocabulary import (
    ALWAYS_DROP_CSS,
    BREADCRUMB_CSS,
    DATE_CSS,
    DROP_TAGS,
    SAPO_CSS,
)
from scraper.profiles import Selectors, SiteProfile, load_profiles
from scraper.types import Article, Image
from scraper.vietnamese import fold_key

_HTML_RE = re.compile(rb"<\s*[A-Za-z!?/]")
_CONTROL_RE = re.compile(rb"[\x00-\x08\x0e-\x1f]")
_BOMS = (b"\xef\xbb\xbf", b"\xff\xfe", b"\xfe\xff")
# one selector, one pass over the tree (strip_tags would make one pass per tag)
_DROP_CSS = ", ".join(DROP_TAGS) + ", " + ALWAYS_DROP_CSS
# how far above the h1 the sapo is looked for first (on the golden pages it sits within the
# h1's parent or grandparent)
_HEADLINE_LEVELS = 3
_TITLE_SEP_RE = re.compile(r"\s+[|\-–—]\s+")


def _looks_like_html(head: bytes) -> bool:
    """``head``: the first 100 KB of the page as UTF-8 bytes."""
    if not head.strip():
        return False
    if len(_CONTROL_RE.findall(head[:4096])) > len(head[:4096]) // 20:
        return False
    return bool(_HTML_RE.search(head))


def _parse_input(html: bytes | str, url: str) -> bytes | str:
    """What lexbor parses: the page's own bytes when they are BOM-less valid UTF-8 (the common
    case, and faster than a str lexbor must re-encode), else the decoded text.

    The document is not NFC-normalised as a whole: a page is mostly markup, so each string the
    extractor outputs is normalised instead (``blocks.fast_clean``, ``clean_inline``).
    """
    parse_input: bytes | str
    if isinstance(html, str):
        parse_input = html
        head = html[:100_000].encode("utf-8", "replace")
    elif isinstance(html, bytes | bytearray):
        raw = bytes(html)
        parse_input = head = raw
        if raw.startswith(_BOMS) or not _is_utf8(raw):
            parse_input = decode_body(raw, None)
            head = parse_input[:100_000].encode("utf-8", "replace")
    else:
        raise ExtractError(f"expected bytes or str, got {type(html).__name__}", url=url)
    if not _looks_like_html(head[:100_000]):
        raise ExtractError("not an HTML document", url=url)
    return parse_input


_UTF8_CHUNK = 16_384


def _is_utf8(raw: bytes) -> bool:
    """Whether ``raw`` is valid UTF-8, checked in chunks cut before a ``<``.

    One emoji makes CPython build the whole page as a 4-byte-per-character str: decoding
    500 KB then takes ~1 ms instead of ~0.1 ms. In chunks only the emoji's chunk pays. An
    ASCII byte never sits inside a multi-byte sequence, so cutting there changes no verdict.
    """
    if raw.isascii():
        return True
    view = memoryview(raw)
    start, size = 0, len(raw)
    while start < size:
        end = raw.find(b"<", start + _UTF8_CHUNK) if start + _UTF8_CHUNK < size else -1
        if end == -1:
            end = size
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError:
            return False
        start = end
    return True


def _first(tree: LexborHTMLParser | LexborNode, selectors: tuple[str, ...]) -> LexborNode | None:
    for sel in selectors:
        node = tree.css_first(sel)
        if node is not None and (node.text(deep=True, strip=True) or node.tag in ("meta", "time")):
            return node
    return None


def _all(tree: LexborHTMLParser | LexborNode, selectors: tuple[str, ...]) -> list[LexborNode]:
    for sel in selectors:
        nodes = [n for n in tree.css(sel) if n.text(deep=True, strip=True)]
        if nodes:
            return nodes
    return []


def _node_text(node: LexborNode) -> str:
    return fast_clean(node.text(deep=True, separator=" "))


_URL_DATE_RE = re.compile(r"(?<!\d)(20\d{2})[/-]?(0[1-9]|1[0-2])[/-]?(0[1-9]|[12]\d|3[01])(?!\d)")


def _context_year(url: str, meta: PageMeta) -> int | None:
    """The year for a dateline printed without one ("Chiều 6/1"): the page's other dates (its
    metadata update time, a date in its URL), else unknown."""
    if meta.updated is not None:
        return meta.updated.astimezone(VN_TZ).year
    m = _URL_DATE_RE.search(urlsplit(url).path)
    return int(m.group(1)) if m else None


def _node_date(
    node: LexborNode, year: int | None = None
) -> tuple[datetime | None, datetime | None]:
    attrs = node.attributes
    raw = attrs.get("datetime") or attrs.get("content") or attrs.get("data-time")
    if raw:
        value = parse_date_value(raw, epoch=raw.strip().isdigit())
        if value is not None:
            return value, None
    return labeled_dates(_node_text(node), year=year)


def _site_words(url: str, meta: PageMeta, profile: SiteProfile | None) -> frozenset[str]:
    host = (urlsplit(url).hostname or "").removeprefix("www.")
    words = {host, host.split(".")[0]}
    if meta.site_name:
        words.add(meta.site_name)
    if meta.title_tag:
        # "<headline> - VnExpress": the <title>'s last segment names the site
        words.add(_TITLE_SEP_RE.split(meta.title_tag)[-1])
    if profile is not None:
        words.add(profile.name)
    return frozenset(w.casefold() for w in words if w)


def _key(text: str) -> str:
    """Comparison key inside one page: every text compared is already NFC with collapsed
    whitespace (``fast_clean``/``clean_inline``), so case is all that is left to fold."""
    return text.casefold()


def _dedupe(names: list[str]) -> list[str]:
    seen: set[str] = set()
    out: list[str] = []
    for n in names:
        key = fold_key(n)
        if key and key not in seen:
            seen.add(key)
            out.append(n)
    return out


def _shortens(short: str, full: str) -> bool:
    """``Lương Ý`` shortens ``Lương Văn Ý``: same first and last word, the rest a subset."""
    a, b = fold_key(short).split(), fold_key(full).split()
    return len(a) < len(b) and a[0] == b[0] and a[-1] == b[-1] and set(a) <= set(b)


def _merge_authors(found: list[str], byline: list[str]) -> list[str]:
    """Names from selectors/metadata, then the closing byline; when a byline name and a
    metadata name are one person (one a shortened form of the other), the byline, as printed
    on the page, wins."""
    kept = [
        name for name in found if not any(_shortens(name, b) or _shortens(b, name) for b in byline)
    ]
    return _dedupe(kept + byline)


def _merge_images(images: list[Image], lead: str | None) -> list[Image]:
    by_url: dict[str, Image] = {}
    for img in ([Image(lead)] if lead else []) + images:
        old = by_url.get(img.url)
        if old is None or (old.caption is None and img.caption):
            by_url[img.url] = img
    # lead image first, then body order
    return list(by_url.values())


def _clean_paragraphs(
    paragraphs: list[Paragraph],
    *,
    title: str | None,
    sapo: str | None,
    captions: set[str],
) -> tuple[list[str], str | None, list[str]]:
    """(kept texts, source line, byline authors)."""
    source: str | None = None
    kept: list[str] = []
    title_key = _key(title) if title else None
    sapo_key = _key(sapo) if sapo else None
    for para in paragraphs:
        text = para.text
        if is_chrome_text(text):
            continue
        credit = source_line(text)
        if credit is not None:
            source = source or credit
            continue
        if para.link_density > 0.6 and len(text) < 300:
            continue
        key = _key(text)
        if key in captions or key == title_key:
            continue
        if sapo_key and key == sapo_key and not kept:
            continue
        if is_date_line(text):
            continue
        kept.append(text)
    # captions printed twice (alt text and figcaption) are adjacent duplicates: drop both
    deduped: list[str] = []
    i = 0
    while i < len(kept):
        if i + 1 < len(kept) and kept[i] == kept[i + 1]:
            j = i
            while j < len(kept) and kept[j] == kept[i]:
                j += 1
            if len(kept[i]) > 300:  # prose repeated on purpose, not a caption
                deduped.extend(kept[i:j])
            i = j
            continue
        deduped.append(kept[i])
        i += 1
    authors: list[str] = []
    while deduped:
        names = parse_byline(deduped[-1])
        if names is None:
            break
        authors = names + authors
        deduped.pop()
        if len(authors) >= 6:
            break
    return deduped, source, authors


def _headline_block(title_node: LexborNode) -> LexborNode:
    """The few levels of markup around the headline, where a sapo sits beside it."""
    block = title_node
    for _ in range(_HEADLINE_LEVELS):
        parent = block.parent
        if parent is None or parent.tag in ("body", "html"):
            break
        block = parent
    return block


def _generic_sapo(tree: LexborHTMLParser, title_node: LexborNode | None) -> list[LexborNode]:
    """The sapo by class name: first near the headline, else anywhere on the page.

    Near the headline first because a description-like box elsewhere (a teaser, a sidebar)
    is not the article's sapo, and because lexbor tests the selector's ~20 alternatives on
    every element it searches: the headline's block is a few dozen elements, the page thousands.
    """
    scopes: list[LexborHTMLParser | LexborNode] = [tree]
    if title_node is not None and title_node.parent is not None:
        scopes.insert(0, _headline_block(title_node))
    for scope in scopes:
        for node in scope.css(SAPO_CSS)[:20]:
            if node.tag != "meta" and 30 <= len(node.text(deep=True, strip=True)) <= 1500:
                return [node]
    return []


def _drop_never_text(tree: LexborHTMLParser) -> LexborHTMLParser:
    # only the body is read from here on: the head's scripts and styles can stay
    page = tree.body if tree.body is not None else tree
    for node in page.css(_DROP_CSS):
        if node.parent is not None:  # not inside a subtree removed already
            node.decompose()
    return tree


def _pick_profile(url: str, tree: LexborHTMLParser) -> SiteProfile | None:
    registry = load_profiles()
    return registry.for_url(url) or registry.detect(tree)


def extract_article(html: bytes | str, url: str, profile: SiteProfile | None = None) -> Article:
    """Extract one article. Raises ExtractError only when the input is not HTML at all.

    Without ``profile``, a site profile is chosen by the URL's domain, else a CMS profile by
    fingerprint, else the generic extractor runs alone.
    """
    return _extract(html, url, profile, choose_profile=True)


def extract_generic(html: bytes | str, url: str) -> Article:
    """Extract with no profile at all (for evaluation and for sites without one)."""
    return _extract(html, url, None, choose_profile=False)


def _extract(
    html: bytes | str, url: str, profile: SiteProfile | None, *, choose_profile: bool
) -> Article:
    parse_input = _parse_input(html, url)
    tree = LexborHTMLParser(parse_input)
    if profile is None and choose_profile:
        profile = _pick_profile(url, tree)
    sel = profile.selectors if profile is not None else Selectors()
    meta = read_page_meta(tree, url)
    site_words = _site_words(url, meta, profile)

    # --- fields read before any node is removed ---
    title_node = _first(tree, sel.title)
    title = clean_title(_node_text(title_node), meta) if title_node is not None else None
    if not title:
        title_node, title = pick_title(tree, meta)
    sapo_nodes = _all(tree, sel.sapo) if sel.sapo else []
    if not sapo_nodes:
        sapo_nodes = _generic_sapo(tree, title_node)
    sapo = fast_clean(" ".join(_node_text(n) for n in sapo_nodes)) or None

    published, updated = meta.published, meta.updated
    date_node = _first(tree, sel.published) if sel.published else None
    if published is None:
        year = _context_year(url, meta)
        if date_node is not None:
            published, upd = _node_date(date_node, year)
            updated = updated or upd
        else:
            for node in tree.css(DATE_CSS)[:40]:
                if len(node.text(deep=True, strip=True)) > 120:
                    continue
                found, upd = _node_date(node, year)
                if found is not None:
                    published, updated = found, updated or upd
                    break
    if updated is None and sel.updated:
        upd_node = _first(tree, sel.updated)
        if upd_node is not None:
            updated = _node_date(upd_node)[0]

    authors: list[str] = []
    author_nodes = _all(tree, sel.authors) if sel.authors else []
    for node in author_nodes:
        authors.extend(split_authors(_node_text(node), site_words=site_words))
    if not authors:
        authors = [n for n in (clean_author(a, site_words=site_words) for a in meta.authors) if n]
    category = None
    cat_node = _first(tree, sel.category) if sel.category else None
    if cat_node is not None:
        category = _node_text(cat_node) or None
    category = category or meta.category
    if category is None:
        crumb = tree.css_first(BREADCRUMB_CSS)
        if crumb is not None:
            category = _node_text(crumb) or None
    tags = [_node_text(n) for n in _all(tree, sel.tags)] if sel.tags else []
    tags = tags or list(meta.tags)
    tags = _dedupe([t.strip(" #,;") for t in tags if t.strip(" #,;")])
    source_node = _first(tree, sel.source) if sel.source else None
    source = _node_text(source_node) if source_node is not None else None
    extra_images: list[Image] = []
    for node in _all(tree, sel.images) if sel.images else []:
        img_url = image_url(node, url) if node.tag == "img" else None
        if img_url:
            extra_images.append(Image(img_url))

    # --- the body ---
    body: LexborNode | None = _first(tree, sel.body) if sel.body else None
    _drop_never_text(tree)
    for used in [title_node, *sapo_nodes, *author_nodes]:
        if used is not None and used.parent is not None:
            used.decompose()
    if body is not None:
        for drop in sel.drop:
            for node in body.css(drop):
                node.decompose()
        parts = [body]
    else:
        parts = generic_body(tree, lambda: _drop_never_text(LexborHTMLParser(parse_input))).parts
    paragraphs: list[Paragraph] = []
    images: list[Image] = []
    for part in parts:
        content = walk_body(part, url, drop_chrome=True)
        paragraphs.extend(content.paragraphs)
        images.extend(content.images)
    captions = {_key(i.caption) for i in images if i.caption}
    texts, body_source, byline = _clean_paragraphs(
        paragraphs, title=title, sapo=sapo, captions=captions
    )
    source = source or body_source
    authors = _merge_authors(authors, byline)

    language = normalize_language(meta.language) or (profile.language if profile else None)
    site = profile.name if profile is not None and profile.kind == "site" else None
    if site is None:
        host = urlsplit(url).hostname
        site = host.removeprefix("www.") if host else None
    return Article(
        url=url,
        canonical_url=meta.canonical_url,
        site=site,
        title=title or None,
        sapo=sapo,
        text="\n\n".join(texts),
        published_at=published,
        updated_at=updated,
        authors=authors,
        category=category,
        tags=tags,
        images=_merge_images(images + extra_images, meta.image),
        language=language,
        source=source,
        extractor=profile.label if profile is not None else "generic",
    )
