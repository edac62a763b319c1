"""The extraction pipeline: HTML (bytes or text) + URL (+ profile) → Article.

Profile selectors first, then metadata, then the generic scorer for whatever a profile does not
give. Pure: no I/O, no clock. The text is the body's paragraphs joined by a blank line, with
chrome, captions, the sapo, source lines and the closing byline taken out.
"""

from __future__ import annotations

import re
from datetime import datetime
from functools import partial
from urllib.parse import urlsplit

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.charset import composed_utf8, decode_body
from scraper.discover.roots import ROOT_PATTERN, document_kind
from scraper.errors import NOT_AN_ARTICLE, ExtractError, NotAnArticleError
from scraper.extract.blocks import Paragraph, image_url, walk_body
from scraper.extract.bylines import clean_author, split_credits
from scraper.extract.classindex import PageClasses
from scraper.extract.cleanup import clean_paragraphs, is_lead
from scraper.extract.generic import generic_body, link_density
from scraper.extract.limits import check_html, check_size, defuse
from scraper.extract.metadata import PageMeta, normalize_language, read_page_meta
from scraper.extract.pagedates import (
    article_dates,
    dateline_dates,
    node_dates,
    reference_date,
)
from scraper.extract.titles import clean_title, pick_title
from scraper.extract.vocabulary import (
    ALWAYS_DROP_CSS,
    AUTHOR_CSS,
    BREADCRUMB_CSS,
    DROP_TAGS,
    SAPO_CSS,
)
from scraper.profiles import Selectors, SiteProfile, load_profiles
from scraper.types import Article, Image
from scraper.vietnamese import clean_inline, fold_key

_HTML_RE = re.compile(rb"<\s*[A-Za-z!?/]")
#: an XML document whose root is a feed or a sitemap (after a declaration, comments, stylesheet
#: instructions and an RSS 0.91 doctype): discovery's input, not a page with an article
# the prolog's loop is possessive (*+): a lazy comment could otherwise stretch over the next
# one's "-->", and a page opening with n comments before <html> failed in 2^n steps (20: 1 s)
_FEED_ROOT_RE = re.compile(
    rb"\s*(?:<\?xml[^>]*>\s*)?(?:<!--.*?-->\s*|<\?xml-stylesheet[^>]*>\s*|<!DOCTYPE[^>]*>\s*)*+"
    rb"<\s*" + ROOT_PATTERN.encode(),
    re.S,
)
#: fewer words than this in the body is no article (the shortest real bulletin has more; a
#: listing's leftovers, a section label or "7' trước", have fewer)
MIN_ARTICLE_WORDS = 20
_ARTICLE_PROBE = 2000  # characters enough to count that many words
_WORD_RE = re.compile(r"\w+")
_CONTROL_RE = re.compile(rb"[\x00-\x08\x0e-\x1f]")
# one selector, one pass over the tree (strip_tags would make one pass per tag)
_DROP_CSS = ", ".join(DROP_TAGS) + ", " + ALWAYS_DROP_CSS
# how far above the h1 the sapo is looked for first (on the golden pages it sits within the
# h1's parent or grandparent)
_HEADLINE_LEVELS = 3
# how far up a sapo candidate's ancestors are looked at for a figure, nav, footer, sidebar
_LEAD_ANCESTORS = 8
_TITLE_SEP_RE = re.compile(r"\s+[|\-–—]\s+")


def _looks_like_html(page: bytes) -> bool:
    """Whether ``page`` (UTF-8 bytes) looks like HTML in its first 100 KB (read in place: no
    copy of the page is made)."""
    if not page or page.isspace():
        return False
    start = page[:4096]
    if len(_CONTROL_RE.findall(start)) > len(start) // 20:
        return False
    return _HTML_RE.search(page, 0, 100_000) is not None


def _parse_input(html: bytes | str, url: str) -> bytes | str:
    """What lexbor parses: the page's own UTF-8 bytes, their decomposed letters composed
    (``charset.composed_utf8``: the common case, and faster than a str lexbor must re-encode),
    else the decoded NFC text.

    The document is not NFC-normalised as a whole: a page is mostly markup, so each string the
    extractor outputs is normalised instead (``vietnamese.clean_inline``).
    """
    parse_input: bytes | str
    if isinstance(html, str):
        parse_input = html
        head = html[:100_000].encode("utf-8", "replace")
    elif isinstance(html, bytes | bytearray):
        raw = bytes(html)
        composed = composed_utf8(raw, None)
        if composed is None:
            parse_input = decode_body(raw, None)
            head = parse_input[:100_000].encode("utf-8", "replace")
        else:
            parse_input = head = composed
    else:
        raise ExtractError(f"expected bytes or str, got {type(html).__name__}", url=url)
    if not _looks_like_html(head):
        raise ExtractError("not an HTML document", url=url)
    feed = _FEED_ROOT_RE.match(head, 3 if head.startswith(b"\xef\xbb\xbf") else 0, 4096)
    if feed is not None:
        root = feed.group(1).decode()
        kind = document_kind(feed.group(2).decode())
        raise ExtractError(
            f"not an HTML document: a {kind} (<{root}>): list it under a [[site]]'s {kind}s",
            url=url,
        )
    return parse_input


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
    return clean_inline(node.text(deep=True, separator=" "))


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
    whitespace (``clean_inline``), so case is all that is left to fold."""
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


_ACCOUNT_RE = re.compile(r"[a-z0-9_.\-]+")


def _merge_authors(found: list[str], byline: list[str], meta: list[str]) -> list[str]:
    """Names from the visible byline (profile selector or class name), else the metadata's;
    then the closing byline. When two are one person (one a shortened form of the other), the
    closing byline, as printed under the text, wins. A metadata name that is a CMS account
    ("longantv": one lower-case token) counts only when the page shows no byline at all."""
    if not found:
        people = [n for n in meta if not _ACCOUNT_RE.fullmatch(n)]
        found = people if (people or byline) else meta
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


def _headline_block(title_node: LexborNode) -> LexborNode:
    """The few levels of markup around the headline, where a sapo sits beside it."""
    block = title_node
    for _ in range(_HEADLINE_LEVELS):
        parent = block.parent
        if parent is None or parent.tag in ("body", "html"):
            break
        block = parent
    return block


def _generic_sapo(
    tree: LexborHTMLParser, title_node: LexborNode | None, classes: PageClasses
) -> list[LexborNode]:
    """The sapo by class name: first near the headline, else anywhere on the page.

    Near the headline first because a description-like box elsewhere (a teaser, a sidebar)
    is not the article's sapo, and because lexbor tests the selector's ~20 alternatives on
    every element it searches: the headline's block is a few dozen elements, the page thousands.
    """
    scopes: list[LexborHTMLParser | LexborNode] = [tree]
    if title_node is not None and title_node.parent is not None:
        scopes.insert(0, _headline_block(title_node))
    for scope in scopes:
        for node in classes.css(scope, SAPO_CSS)[:20]:
            if node.tag in _NOT_LEAD_TAGS:
                continue
            text = node.text(deep=True, strip=True)
            if 30 <= len(text) <= 1500 and _reads_as_lead(node, len(text)):
                return [node]
    return []


# a description-like class on these is not the article's lead: a tag's value, a photo caption
_NOT_LEAD_TAGS = frozenset({"meta", "figcaption", "img", "a", "li"})
# where a "summary" or "description" box belongs to the page, not to the article
_NOT_LEAD_PLACES = frozenset({"figure", "nav", "footer", "aside", "a", "li"})


def _reads_as_lead(node: LexborNode, chars: int) -> bool:
    """Whether a sapo-named element can be the lead: not a photo caption, not in a page's
    navigation, footer or sidebar, not another story's teaser (mostly link text). On pages
    nobody tuned a profile for, "description" and "summary" name such boxes too."""
    parent = node.parent
    for _ in range(_LEAD_ANCESTORS):
        if parent is None or parent.tag in ("body", "html"):
            break
        if parent.tag in _NOT_LEAD_PLACES:
            return False
        parent = parent.parent
    return link_density(node, chars) < 0.5


def _drop_never_text(tree: LexborHTMLParser, classes: PageClasses) -> LexborHTMLParser:
    # only the body is read from here on: the head's scripts and styles can stay
    page = tree.body if tree.body is not None else tree
    for node in classes.css(page, _DROP_CSS):
        if node.parent is not None:  # not inside a subtree removed already
            node.decompose()
    return tree


def _pick_profile(url: str, tree: LexborHTMLParser, classes: PageClasses) -> SiteProfile | None:
    return load_profiles().resolve(url, page=tree, first=partial(classes.css_first, tree))


def is_article(article: Article) -> bool:
    """The one not-article rule, shared by the crawler (``not_article``) and the CLI: an
    article has a body of at least a sentence or two. A listing or home page comes out without
    one (``generic.is_listing`` gives it no body; a stray label may survive), and so does a
    page whose body could not be found."""
    return len(_WORD_RE.findall(article.text, 0, _ARTICLE_PROBE)) >= MIN_ARTICLE_WORDS


def require_article(article: Article) -> Article:
    """``article``, or NotAnArticleError when ``is_article`` is false."""
    if not is_article(article):
        raise NotAnArticleError(
            f"{NOT_AN_ARTICLE}: too little body text (a listing, home or section page?)",
            url=article.url,
        )
    return article


def extract_article(
    html: bytes | str,
    url: str,
    profile: SiteProfile | None = None,
    *,
    fallback_date: datetime | None = None,
) -> Article:
    """Extract one article. Raises ExtractError only when the input is not HTML at all.

    Without ``profile``, a site profile is chosen by the URL's domain, else a CMS profile by
    fingerprint, else the generic extractor runs alone. ``fallback_date``: when the URL was
    discovered (a feed or sitemap date), for a dateline printed without a year.
    """
    return _extract(html, url, profile, choose_profile=True, fallback_date=fallback_date)


def extract_generic(
    html: bytes | str, url: str, *, fallback_date: datetime | None = None
) -> Article:
    """Extract with no profile at all (for evaluation and for sites without one)."""
    return _extract(html, url, None, choose_profile=False, fallback_date=fallback_date)


def _title(
    tree: LexborHTMLParser, sel: Selectors, meta: PageMeta
) -> tuple[LexborNode | None, str | None]:
    node = _first(tree, sel.title)
    title = clean_title(_node_text(node), meta) if node is not None else None
    if not title:
        node, title = pick_title(tree, meta)
    return node, title


def _authors(
    tree: LexborHTMLParser,
    sel: Selectors,
    meta: PageMeta,
    site_words: frozenset[str],
    classes: PageClasses,
) -> tuple[list[LexborNode], list[str], list[str]]:
    """(nodes read, authors, photo credits) from the visible byline: the profile's selector,
    else a byline by class name. Metadata names are only a fallback (``_merge_authors``)."""
    nodes = _all(tree, sel.authors) if sel.authors else []
    if not nodes:
        nodes = [
            n
            for n in classes.css(tree, AUTHOR_CSS)[:3]
            if 0 < len(n.text(deep=True, strip=True)) <= 80
        ][:1]
    authors: list[str] = []
    photos: list[str] = []
    for node in nodes:
        names, credits = split_credits(_node_text(node), site_words=site_words)
        authors.extend(names)
        photos.extend(credits)
    return (nodes if authors or photos else []), authors, photos


def _category(
    tree: LexborHTMLParser, sel: Selectors, meta: PageMeta, classes: PageClasses
) -> str | None:
    node = _first(tree, sel.category) if sel.category else None
    category = (_node_text(node) or None) if node is not None else None
    category = category or meta.category
    if category is None:
        crumb = classes.css_first(tree, BREADCRUMB_CSS)
        if crumb is not None:
            category = _node_text(crumb) or None
    return category


def _tags(tree: LexborHTMLParser, sel: Selectors, meta: PageMeta) -> list[str]:
    tags = [_node_text(n) for n in _all(tree, sel.tags)] if sel.tags else []
    tags = tags or list(meta.tags)
    return _dedupe([t.strip(" #,;") for t in tags if t.strip(" #,;")])


def _extra_images(tree: LexborHTMLParser, sel: Selectors, url: str) -> list[Image]:
    out: list[Image] = []
    for node in _all(tree, sel.images) if sel.images else []:
        img_url = image_url(node, url) if node.tag == "img" else None
        if img_url:
            out.append(Image(img_url))
    return out


#: a profile body shorter than this is checked against the generic stages
_SHORT_PROFILE_BODY = 400
#: ... and given up for theirs when they find this many times more text
_FALLBACK_RATIO = 3


def _body_parts(
    tree: LexborHTMLParser, sel: Selectors, parse_input: bytes | str, classes: PageClasses
) -> tuple[list[LexborNode], bool]:
    """The profile's body element with its drops removed, else the generic stages; and whether
    the profile's body selector failed (matched nothing, or much less text than the generic
    stages find), so the generic extractor took over: layout rot the daemon reports."""

    def reparse() -> LexborHTMLParser:
        return _drop_never_text(LexborHTMLParser(parse_input), classes)

    def generic() -> list[LexborNode]:
        return generic_body(tree, reparse, marked=classes.marked).parts

    body = _first(tree, sel.body) if sel.body else None
    if body is None:
        return generic(), bool(sel.body)
    for drop in sel.drop:
        for node in body.css(drop):
            node.decompose()
    found = len(body.text(deep=True, strip=True))
    if found >= _SHORT_PROFILE_BODY:
        return [body], False
    # a short profile body: a redesign may have moved the article; ask the generic stages on a
    # fresh tree (they remove nodes) and keep the profile's body unless they find far more
    parts = generic_body(reparse(), reparse).parts
    if sum(len(n.text(deep=True, strip=True)) for n in parts) > _FALLBACK_RATIO * max(found, 1):
        return parts, True
    return [body], False


def _label(profile: SiteProfile | None, fell_back: bool) -> str:
    """What ``Article.extractor`` records: the profile, the generic extractor, or the generic
    extractor standing in for a profile whose body selector failed."""
    if profile is None:
        return "generic"
    return f"generic(fallback:{profile.label})" if fell_back else profile.label


def _headline_before(node: LexborNode) -> bool:
    """Whether the nearest heading or paragraph before ``node`` (same level) is a headline."""
    prev = node.prev
    while prev is not None and prev.tag not in ("h1", "h2", "p"):
        prev = prev.prev
    return prev is not None and prev.tag in ("h1", "h2")


def _lead(
    parts: list[LexborNode], title: str | None, *, h1_headline: bool
) -> tuple[str | None, list[LexborNode]]:
    """A plain paragraph opening the article ("(HPĐT)- Theo thông tin...", "ĐNO - HĐND ..."):
    the lead (sapo) when no selector or class name gave one. It is the body's first part, or
    the paragraph standing just before the body (up to a few levels up)."""
    if not parts:
        return None, parts
    first = parts[0]
    if first.tag == "p":
        text = _node_text(first)
        if is_lead(text, after_headline=_headline_before(first)):
            return text, parts[1:]
    node: LexborNode | None = first
    for _ in range(_HEADLINE_LEVELS):
        if node is None:
            break
        sibling = node.prev
        while sibling is not None:
            if sibling.tag in ("h1", "h2"):
                # reached the headline: nothing stands between; unless this "heading" is a
                # sentence, the lead set as an <h2> (vtcnews: "<span>(VTC News) - </span><h2>")
                lead = (
                    _heading_lead(sibling, title) if sibling.tag == "h2" and h1_headline else None
                )
                return lead, parts
            if sibling.tag == "p":
                text = _node_text(sibling)
                if text:
                    is_it = is_lead(text, after_headline=_headline_before(sibling))
                    return (text if is_it else None), parts
            sibling = sibling.prev
        node = node.parent
    return None, parts


#: a lead ends a sentence with a full stop (a closing quote may follow it); a headline, of
#: this article or another, has none, though it may end with "?", "…" or a quote
_SENTENCE_END_RE = re.compile(r"[.!][\"”’')]?$")
#: the paper's code standing alone before the lead: "(VTC News) - ", "(HPĐT)-", "ĐNO -"
_CODE_ALONE_RE = re.compile(r"(?:\([^()]{1,24}\)|[A-ZĐ][A-ZĐ.&]{1,9})\s*[-–—]")


def _heading_lead(heading: LexborNode, title: str | None) -> str | None:
    """An ``<h2>`` standing between the ``<h1>`` headline and the body that reads as a lead:
    a sentence (the full stop a headline lacks) that ``is_lead`` takes and that is not the
    title again; with the paper's code before it when the page prints it apart ("(VTC News) -
    ")."""
    text = _node_text(heading)
    if not _SENTENCE_END_RE.search(text) or not is_lead(text, after_headline=True):
        return None
    if title and fold_key(title) in fold_key(text):  # the headline repeated
        return None
    prev = heading.prev
    while prev is not None and prev.tag == "-text" and not (prev.text_content or "").strip():
        prev = prev.prev
    code = _node_text(prev) if prev is not None and prev.tag in ("span", "strong", "b") else ""
    return f"{code} {text}" if code and _CODE_ALONE_RE.fullmatch(code) else text


def _extract(
    html: bytes | str,
    url: str,
    profile: SiteProfile | None,
    *,
    choose_profile: bool,
    fallback_date: datetime | None,
) -> Article:
    # stage 0: refuse what no parser takes in bounded time, parse, choose the profile, read
    # the metadata
    check_size(html, url=url)
    parse_input = _parse_input(html, url)
    # the limits judge what the parser reads: UTF-8 bytes, else the decoded text
    parse_input = defuse(parse_input, tags=check_html(parse_input, url=url))
    tree = LexborHTMLParser(parse_input)
    classes = PageClasses.of(tree)
    if profile is None and choose_profile:
        profile = _pick_profile(url, tree, classes)
    sel = profile.selectors if profile is not None else Selectors()
    meta = read_page_meta(tree, url)
    site_words = _site_words(url, meta, profile)

    # stage 1: fields read before any node is removed, one function per field
    title_node, title = _title(tree, sel, meta)
    sapo_nodes = _all(tree, sel.sapo) if sel.sapo else []
    if not sapo_nodes:
        sapo_nodes = _generic_sapo(tree, title_node, classes)
    sapo = clean_inline(" ".join(_node_text(n) for n in sapo_nodes)) or None
    date_node = _first(tree, sel.published) if sel.published else None
    published, updated = article_dates(
        tree, meta, url, date_node=date_node, fallback=fallback_date, classes=classes
    )
    if updated is None and sel.updated:
        upd_node = _first(tree, sel.updated)
        if upd_node is not None:
            updated = node_dates(upd_node, None)[0]
    author_nodes, authors, photo_credits = _authors(tree, sel, meta, site_words, classes)
    category = _category(tree, sel, meta, classes)
    tags = _tags(tree, sel, meta)
    source_node = _first(tree, sel.source) if sel.source else None
    source = _node_text(source_node) if source_node is not None else None
    extra_images = _extra_images(tree, sel, url)

    # stage 2: the body (profile selector, else the generic stages), without the nodes used
    # (read what is needed of them first: a removed node is gone)
    h1_headline = title_node is not None and title_node.tag == "h1"
    _drop_never_text(tree, classes)
    for used in [title_node, *sapo_nodes, *author_nodes]:
        if used is not None and used.parent is not None:
            used.decompose()
    parts, fell_back = _body_parts(tree, sel, parse_input, classes)
    if sapo is None:
        sapo, parts = _lead(parts, title, h1_headline=h1_headline)
    paragraphs: list[Paragraph] = []
    images: list[Image] = []
    for part in parts:
        content = walk_body(part, url, drop_chrome=True)
        paragraphs.extend(content.paragraphs)
        images.extend(content.images)

    # stage 3: clean the text; the closing byline and credit line are kept apart
    captions = {_key(i.caption) for i in images if i.caption}
    clean = clean_paragraphs(paragraphs, title=title, sapo=sapo, captions=captions)
    if published is None and clean.datelines:
        # a "Đăng ngày 26/12/2023" line in the body is the last dateline candidate
        ref = reference_date(url, meta, fallback_date)
        published, upd = dateline_dates(clean.datelines[0], ref)
        updated = updated or upd
    meta_authors = [n for n in (clean_author(a, site_words=site_words) for a in meta.authors) if n]
    authors = _merge_authors(authors, clean.authors, meta_authors)
    photo_credits = _dedupe(photo_credits + clean.photo_credits)

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
        text="\n\n".join(clean.texts),
        published_at=published,
        updated_at=updated,
        authors=authors,
        photo_credits=photo_credits,
        category=category,
        tags=tags,
        images=_merge_images(images + extra_images, meta.image),
        language=language,
        source=source or clean.source,
        extractor=_label(profile, fell_back),
    )
