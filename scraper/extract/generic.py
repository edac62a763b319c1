"""Find the article body in a page without a profile: a staged, readability-style scorer.

The stages, each run only when the one before found too little (as trafilatura does):

1. ``strip_generic_chrome`` removes structural chrome and class-named widgets, then paragraphs
   (``<p>``, ``<pre>``, ``<blockquote>``, runs of text broken by ``<br>``) score their parent
   and, less, the ancestors above; the best candidate, discounted by its link density (or the
   first ancestor above it that scores more than the one below: Readability's climb), is the
   body, together with the siblings that score near it (an article split across wrappers), or,
   when the wrappers around it have siblings of the same tag and kind of class that hold
   prose, those sections (an article whose sections each sit in a wrapper of their own).
2. If that body holds little of the page's text, elements holding text directly (a ``<div>``
   of bare text, ``<span>`` runs) count as paragraphs too, and the scoring runs again.
3. (in ``pipeline``) If the widget stripping itself removed the article (a CMS that names its
   main column "widget"), the page is parsed again and scored without it.

A page whose best candidate is a list of teasers (``is_listing``) has no body: a category or
home page is not an article. Only a few hundred nodes are touched in Python; selection and
text joins happen in C. The words used live in ``vocabulary``.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.extract.chrome import is_chrome_node, is_heading_anchor
from scraper.extract.classindex import Marked, marked_elements
from scraper.extract.vocabulary import (
    CHROME_CLASS_WORDS,
    CHROME_ID_WORDS,
    CHROME_NODE_RE,
    INLINE_TAGS,
    NEGATIVE_CLASS_RE,
    PARAGRAPH_CSS,
    PHRASING_TAGS,
    POSITIVE_CLASS_RE,
    RELATED_BOX_CSS,
    STRUCTURAL_DROP_CSS,
    TAG_WEIGHTS,
    TEXT_HOLDER_CSS,
)

# parent, grandparent, then 1/(3 * level): Readability's weights
_LEVEL_WEIGHTS = (1.0, 0.5, 1 / 6, 1 / 9, 1 / 12)
# flatter weights, without class words, for recognising a listing: the container of a list of
# teasers sits a few levels above each teaser, where Readability's weights fade out
_FLAT_WEIGHTS = (1.0, 0.5, 0.34, 0.25, 0.2)
_MIN_PARAGRAPH = 25
# a listing: at least this many teasers, each beside a link this long (a headline)
_MIN_TEASERS = 5
_HEADLINE_CHARS = 20
# a body this short may be a single teaser (``_lone_teaser``): a headline and a sentence or two,
# the headline in an h2..h6 link, perhaps after a short kicker (a category, a time)
_TEASER_CHARS = 400
_HEADLINE_CSS = "h2 a[href], h3 a[href], h4 a[href], h5 a[href], h6 a[href]"
_KICKER_CHARS = 40
_CLASS_WEIGHT = 25.0
# stage 2 runs when the stage-1 body holds less than this share of the page's text
_ENOUGH_SHARE = 0.3
_ENOUGH_CHARS = 1500
_TOP_CANDIDATES = 8
# near-top candidates sharing an ancestor that make it the body (Readability: 3)
_SHARED_ANCESTOR_MIN = 3
# an article's sections: looked for this many wrapper levels above the body's top candidate;
# a section holds at least this much text, and less than this share of it in links
_WRAPPER_LEVELS = 5
_SECTION_CHARS = 100
_SECTION_LINKS = 0.2
_PROSE_CHARS = 80
# ... and shares at least this share of its class names with the article's wrapper
_SAME_KIND = 0.6


# one C-level search instead of ~20 substring tests per class value (the cache misses often:
# every site has its own class names)
_CLASS_PREFILTER = re.compile("|".join(map(re.escape, CHROME_CLASS_WORDS)))
_ID_PREFILTER = re.compile("|".join(map(re.escape, CHROME_ID_WORDS)))


_STRUCTURAL_TAGS = frozenset(tag.strip() for tag in STRUCTURAL_DROP_CSS.split(","))
_STRUCTURAL_OR_RELATED_CSS = f"{STRUCTURAL_DROP_CSS}, {RELATED_BOX_CSS}"


def _is_related_box(node: LexborNode) -> bool:
    """Whether a structural element kept for its text also matches ``RELATED_BOX_CSS``."""
    attrs = node.attributes
    return any("related" in (attrs.get(name) or "").lower() for name in ("type", "data-type"))


@lru_cache(maxsize=8192)
def _class_prefiltered(cls: str) -> bool:
    return _CLASS_PREFILTER.search(cls) is not None


@lru_cache(maxsize=8192)
def _is_chrome_class(cls: str) -> bool:
    """``_is_chrome_marked`` of an element without an id (cached: a page repeats the same few
    hundred class values, and sites repeat them)."""
    return _class_prefiltered(cls) and is_chrome_node(f"{cls} ")


def _is_chrome_marked(cls: str, id_: str) -> bool:
    """Whether an element with this class and id is a widget by its name.

    Not one cache of (class, id) pairs: ids are mostly unique, and such a cache missed a third
    of its lookups on the dev set. An element without an id is looked up by its class alone;
    with one, the id is searched for widget words only when the class has none.
    """
    if not id_:
        return _is_chrome_class(cls)
    if not (_class_prefiltered(cls) or _ID_PREFILTER.search(id_)):
        return False
    return is_chrome_node(f"{cls} {id_}")


def strip_generic_chrome(tree: LexborHTMLParser, marked: Marked | None = None) -> int:
    """Remove navigation, header/footer and class-named widgets that hold little text; return
    how many characters of text they held (``text(strip=True)`` lengths add up over disjoint
    subtrees, so the page's text before is its text after plus this).

    lexbor returns matches in document order, and ``decompose`` detaches every node of the
    removed subtree, so a match inside an already removed widget has no parent and is skipped
    without reading its text: most widgets nest inside other widgets.

    Widgets by name are picked in Python from one query for every element with a class or id
    (``marked``, when the caller made it already: ``classindex``): each distinct class/id value
    is tested once (``_is_chrome_marked`` is cached).
    """
    root = tree.body
    if root is None:
        return 0
    removed = 0
    # structural chrome and related boxes found in one walk of the tree (``_META_CSS`` in
    # metadata says why); the related boxes are removed after, whatever they hold
    related: list[LexborNode] = []
    for node in root.css(_STRUCTURAL_OR_RELATED_CSS):
        if node.tag not in _STRUCTURAL_TAGS:
            related.append(node)
            continue
        if node.parent is None:
            continue
        # an <article> inside <header>/<main> is rare, but a header holding the body is not
        chars = len(node.text(deep=True, strip=True))
        if chars < 400 or node.css_first("p") is None:
            removed += chars
            node.decompose()
        elif _is_related_box(node):
            related.append(node)
    for node in related:
        if node.parent is not None:
            removed += len(node.text(deep=True, strip=True))
            node.decompose()
    for node, cls, id_ in marked if marked is not None else marked_elements(root):
        # removed already (lexbor detaches every node of a removed subtree)
        if node.parent is None or node.tag in ("html", "body"):
            continue
        if not _is_chrome_marked(cls, id_):
            continue
        if id_ and is_heading_anchor(node, id_) and not _is_chrome_marked(cls, ""):
            continue  # a section named after its heading ("sharing-with-...")
        # widgets hold little paragraph text; a wrapper with many paragraphs is kept
        chars = len(node.text(deep=True, strip=True))
        if chars > 1500 and len(node.css("p")) > 4:
            continue
        removed += chars
        node.decompose()
    return removed


def _paragraph_score(text: str) -> float:
    return 1.0 + text.count(",") + min(len(text) / 100.0, 3.0)


@lru_cache(maxsize=8192)
def _class_weight(cls: str, id_: str) -> float:
    weight = 0.0
    for value in (cls, id_):
        if not value:
            continue
        if NEGATIVE_CLASS_RE.search(value):
            weight -= _CLASS_WEIGHT
        if POSITIVE_CLASS_RE.search(value):
            weight += _CLASS_WEIGHT
    return weight


def _initial_score(node: LexborNode) -> float:
    return TAG_WEIGHTS.get(node.tag or "", 0.0) + _class_weight(
        node.attrs.get("class") or "", node.id or ""
    )


@dataclass(slots=True)
class _Scores:
    scores: dict[int, float] = field(default_factory=dict)
    flat: dict[int, float] = field(default_factory=dict)
    #: link density by node key, computed once (page-wide wrappers hold thousands of links)
    density: dict[int, float] = field(default_factory=dict)
    #: text length of each link by node key (``link_density``)
    links: dict[int, int] = field(default_factory=dict)
    nodes: dict[int, LexborNode] = field(default_factory=dict)
    #: each paragraph with the keys of the ancestors it scored (parent first)
    scored: list[tuple[LexborNode, tuple[int, ...]]] = field(default_factory=list)

    #: the scored ancestors of a holder, by its key: the paragraphs of a body share a parent
    chains: dict[int, tuple[tuple[int, ...], tuple[tuple[int, float, float], ...]]] = field(
        default_factory=dict
    )

    def add(self, para: LexborNode, holder: LexborNode, text: str) -> None:
        score = _paragraph_score(text)
        chain = self.chains.get(holder.mem_id)
        if chain is None:
            chain = self.chains[holder.mem_id] = self._chain(holder)
        keys, weighted = chain
        scores, flat = self.scores, self.flat
        for key, weight, flat_weight in weighted:
            scores[key] += score * weight
            flat[key] += score * flat_weight
        self.scored.append((para, keys))

    def _chain(
        self, holder: LexborNode
    ) -> tuple[tuple[int, ...], tuple[tuple[int, float, float], ...]]:
        """``holder`` and the ancestors it passes scores to, each entered as a candidate."""
        node: LexborNode | None = holder
        weighted: list[tuple[int, float, float]] = []
        for weight, flat in zip(_LEVEL_WEIGHTS, _FLAT_WEIGHTS, strict=True):
            if node is None or node.tag in ("html", "-undef", "#document"):
                break
            key = node.mem_id
            if key not in self.scores:
                self.nodes[key] = node
                self.scores[key] = _initial_score(node)
                self.flat[key] = 0.0
            weighted.append((key, weight, flat))
            node = node.parent
        return tuple(k for k, _, _ in weighted), tuple(weighted)


def _block_of(node: LexborNode) -> LexborNode | None:
    """The nearest non-inline element at or above ``node``."""
    while node is not None and node.tag in INLINE_TAGS:
        parent = node.parent
        if parent is None:
            return None
        node = parent
    return node


_PARAGRAPH_OR_BREAK_CSS = f"{PARAGRAPH_CSS}, div > br, td > br"


def _score_paragraphs(root: LexborNode, *, text_holders: bool) -> _Scores:
    out = _Scores()
    seen: set[int] = set()
    # paragraphs and line breaks found in one walk of the tree; the breaks are scored after
    breaks: list[LexborNode] = []
    for para in root.css(_PARAGRAPH_OR_BREAK_CSS):
        if para.tag == "br":
            breaks.append(para)
            continue
        text = para.text(deep=True, strip=True)
        if len(text) >= _MIN_PARAGRAPH and para.parent is not None:
            seen.add(para.mem_id)
            out.add(para, para.parent, text)
    # text broken by <br> inside a div/td counts like paragraphs
    for br in breaks:
        parent = br.parent
        if parent is None or parent.mem_id in seen:
            continue
        seen.add(parent.mem_id)
        text = parent.text(deep=True, strip=True)
        if len(text) >= _MIN_PARAGRAPH:
            out.add(parent, parent, text)
    if text_holders:
        for node in root.css(TEXT_HOLDER_CSS):
            own = node.text(deep=False, strip=True)
            if len(own) < _MIN_PARAGRAPH:
                continue
            block = _block_of(node)
            if block is None or block.mem_id in seen or block.parent is None:
                continue
            seen.add(block.mem_id)
            # a text holder is its own paragraph: it scores itself, then its ancestors
            out.add(block, block, own)
    return out


def link_density(node: LexborNode, text_len: int, links: dict[int, int] | None = None) -> float:
    """The share of ``node``'s text inside links. ``links``: each link's text length by node,
    kept across the candidates of one page, which nest and so share their links."""
    if links is None:
        link_len = sum(len(a.text(deep=True, strip=True)) for a in node.css("a"))
    else:
        link_len = 0
        for a in node.css("a"):
            key = a.mem_id
            chars = links.get(key)
            if chars is None:
                chars = links[key] = len(a.text(deep=True, strip=True))
            link_len += chars
    return min(link_len / max(text_len, 1), 1.0)


def _density(found: _Scores, node: LexborNode) -> float:
    key = node.mem_id
    value = found.density.get(key)
    if value is None:
        chars = len(node.text(deep=True, strip=True))
        value = found.density[key] = link_density(node, chars, found.links)
    return value


def _adjusted(found: _Scores, key: int) -> float:
    return found.scores[key] * (1.0 - _density(found, found.nodes[key]))


def _best(found: _Scores) -> tuple[LexborNode, float] | None:
    """The top candidate by score discounted by link density, then moved up to the ancestor
    that several near-top candidates share (an article split into step/section boxes scores
    each box; their common wrapper is the article)."""
    ranked: list[tuple[float, int]] = []
    floor = 0.0
    for key in sorted(found.scores, key=found.scores.__getitem__, reverse=True)[:_TOP_CANDIDATES]:
        if found.scores[key] <= floor:
            # the discount only lowers a score, and the rest score lower still: none can win,
            # so their texts and links (the costly part for page-wide wrappers) go unread
            break
        adjusted = _adjusted(found, key)
        ranked.append((adjusted, key))
        floor = max(floor, adjusted) * 0.75
    if not ranked:
        return None
    ranked.sort(reverse=True)
    best_score, best_key = ranked[0]
    if best_score <= 0:
        return None
    top = found.nodes[best_key]
    alternatives = [
        set(_ancestor_ids(found.nodes[key]))
        for score, key in ranked[1:5]
        if score >= 0.75 * best_score
    ]
    if len(alternatives) >= _SHARED_ANCESTOR_MIN:
        node = top.parent
        while node is not None and node.tag not in ("body", "html"):
            if sum(1 for ids in alternatives if node.mem_id in ids) >= _SHARED_ANCESTOR_MIN:
                key = node.mem_id
                score = _adjusted(found, key) if key in found.scores else best_score
                return node, max(score, best_score)
            node = node.parent
    return _climb(found, top, best_score)


def _climb(found: _Scores, top: LexborNode, score: float) -> tuple[LexborNode, float]:
    """Readability's climb: up ``top``'s scored ancestors while each keeps a third of its
    score; the first that scores more than the one below it is the body. An article whose first
    paragraphs sit in its wrapper and the rest in a box below them ("read more", a paywall's
    second half) scores the box highest, and the wrapper above the box's own wrappers."""
    last, threshold = score, score / 3
    node = top.parent
    while node is not None and node.tag not in ("body", "html"):
        key = node.mem_id
        if key in found.scores:
            # the discount only lowers a score: a wrapper under the threshold before it is
            # not read (its text and links: page-wide wrappers hold thousands)
            if found.scores[key] < threshold:
                break
            adjusted = _adjusted(found, key)
            if adjusted < threshold:
                break
            if adjusted > last:
                # a short article above a grid of teasers: the box, not the listing around it
                if is_listing(node, found.scored, found.nodes):
                    break
                return node, adjusted
            last = adjusted
        node = node.parent
    return top, score


def _ancestor_ids(node: LexborNode) -> list[int]:
    out: list[int] = []
    parent = node.parent
    while parent is not None and parent.tag not in ("body", "html"):
        out.append(parent.mem_id)
        parent = parent.parent
    return out


def _wraps_only(parent: LexborNode, child: LexborNode) -> bool:
    """Whether ``child`` holds all of ``parent``'s text (the other children are whitespace,
    comments or empty elements): ``parent`` is a mere wrapper."""
    node = parent.child
    while node is not None:
        if node.mem_id != child.mem_id:
            tag = node.tag or ""
            if tag == "-text":
                if (node.text_content or "").strip():
                    return False
            elif not tag.startswith(("-", "#")) and node.text(deep=True, strip=True):
                return False
        node = node.next
    return True


def _lift(top: LexborNode) -> LexborNode:
    """The highest of ``top``'s wrappers (ancestors holding no text but its own), up to
    ``_WRAPPER_LEVELS`` levels: where an article split into sections puts each section."""
    node = top
    for _ in range(_WRAPPER_LEVELS):
        parent = node.parent
        if parent is None or parent.tag in ("body", "html", "#document"):
            break
        if not _wraps_only(parent, node):
            break
        node = parent
    return node


def _has_prose(node: LexborNode) -> bool:
    """Whether ``node`` holds a paragraph of prose (a layout box beside the article, such as a
    source line or a link to the original, holds none)."""
    return any(
        len(para.text(deep=True, strip=True)) >= _PROSE_CHARS for para in node.css(PARAGRAPH_CSS)
    )


def _class_names(node: LexborNode) -> frozenset[str]:
    return frozenset((node.attrs.get("class") or "").split())


def _same_kind(a: frozenset[str], b: frozenset[str]) -> bool:
    """Two class lists of one kind of box: most names shared ("articleBodyText version-2
    section" and "articleBodyText section"), not one grid name ("col-12 col-md-8" and
    "col-12 col-md-4": the article's column and the sidebar's)."""
    return len(a & b) >= _SAME_KIND * len(a | b)


def _sections(wrapper: LexborNode, found: _Scores) -> list[LexborNode] | None:
    """``wrapper`` and its siblings of the same tag and kind of class that hold prose (not a
    link list): an article split into sections, each in a wrapper of its own that the scorer
    saw apart (Readability's same-class bonus, applied where the sections sit). None when
    ``wrapper`` has no such sibling."""
    names = _class_names(wrapper)
    parent = wrapper.parent
    if not names or parent is None or parent.tag in ("body", "html", "#document"):
        return None
    parts: list[LexborNode] = []
    sibling = parent.child
    while sibling is not None:
        node, sibling = sibling, sibling.next
        if node.mem_id == wrapper.mem_id:
            parts.append(node)
            continue
        if node.tag != wrapper.tag or not _same_kind(_class_names(node), names):
            continue
        chars = len(node.text(deep=True, strip=True))
        if (
            chars >= _SECTION_CHARS
            and link_density(node, chars, found.links) < _SECTION_LINKS
            and _has_prose(node)
        ):
            parts.append(node)
    return parts if len(parts) > 1 else None


def _with_siblings(top: LexborNode, top_score: float, found: _Scores) -> list[LexborNode]:
    """``top`` and the siblings that belong to the same article: sections of the same class
    beside its wrapper (``_sections``), else Readability's rule: siblings scoring near it, and
    plain paragraphs of prose beside it."""
    sections = _sections(_lift(top), found)
    if sections is not None:
        return sections
    parent = top.parent
    if parent is None or parent.tag in ("html", "#document"):
        return [top]
    threshold = max(10.0, top_score * 0.2)
    top_class = top.attrs.get("class") or ""
    parts: list[LexborNode] = []
    sibling = parent.child
    while sibling is not None:
        node, sibling = sibling, sibling.next
        tag = node.tag or ""
        if tag.startswith("-") or tag == "#comment":
            continue
        if node.mem_id == top.mem_id:
            parts.append(node)
            continue
        key = node.mem_id
        if key in found.scores:
            bonus = top_score * 0.2 if top_class and node.attrs.get("class") == top_class else 0.0
            score = _adjusted(found, key) + bonus
            if score >= threshold:
                parts.append(node)
                continue
        if tag == "p" or (tag == "div" and _bare_text(node)):
            text = node.text(deep=True, strip=True)
            density = link_density(node, len(text))
            if (len(text) > 80 and density < 0.25) or (
                0 < len(text) <= 80 and density == 0 and text.endswith(".")
            ):
                parts.append(node)
    return parts or [top]


def _bare_text(node: LexborNode) -> bool:
    """Whether ``node`` holds only text and inline elements: a paragraph without its ``<p>``
    (Readability turns such a div into a paragraph before scoring)."""
    child = node.child
    while child is not None:
        tag = child.tag or ""
        if tag[:1] not in ("-", "#") and tag not in PHRASING_TAGS:
            return False
        child = child.next
    return True


@dataclass(slots=True)
class Body:
    """The body's parts in document order; ``listing`` when the page is a list of teasers."""

    parts: list[LexborNode] = field(default_factory=list)
    listing: bool = False
    _chars: int = -1

    @property
    def text_length(self) -> int:
        if self._chars < 0:  # measured once: the parts are not changed after
            self._chars = sum(len(p.text(deep=True, strip=True)) for p in self.parts)
        return self._chars


def _stage(root: LexborNode, *, text_holders: bool) -> Body:
    found = _score_paragraphs(root, text_holders=text_holders)
    best = _best(found)
    if best is None:
        return Body()
    top, score = best
    if is_listing(top, found.scored, found.nodes) or _is_listing_page(found):
        return Body(listing=True)
    body = Body(_with_siblings(top, score, found))
    if len(body.parts) == 1 and body.text_length <= _TEASER_CHARS and _lone_teaser(body.parts[0]):
        return Body()  # nothing here: the next stage may still find the article
    return body


def _lone_teaser(block: LexborNode) -> bool:
    """Whether a short body of one block is a teaser: a box that reads as one headline linking
    to another page, then its summary (a section page showing one featured story, its other
    teasers loaded later by script: too few for ``is_listing``). An article's own title is its
    ``<h1>``, outside the body; a brief followed by a related link reads the other way round."""
    box = block
    if block.tag == "p" and block.parent is not None:
        box = block.parent  # <div class="item"><h3><a>headline</a></h3><p>summary</p></div>
    links = [a for a in box.css(_HEADLINE_CSS) if _links_away(a)]
    if len(links) != 1:
        return False
    headline = links[0].text(deep=True, strip=True)
    if len(headline) < _HEADLINE_CHARS:
        return False
    text = box.text(deep=True, strip=True)
    at = text.find(headline)
    return 0 <= at <= _KICKER_CHARS and len(text) <= _TEASER_CHARS + len(headline)


def _links_away(link: LexborNode) -> bool:
    href = (link.attrs.get("href") or "").strip().lower()
    return bool(href) and not href.startswith(("#", "javascript:"))


class _PageChars:
    """The length of a tree's text, measured at most once and only when asked: the whole page's
    text costs as much as parsing it, and most articles are recognised without it."""

    __slots__ = ("_root", "_value")

    def __init__(self, root: LexborNode) -> None:
        self._root = root
        self._value = -1

    def __call__(self) -> int:
        if self._value < 0:
            self._value = len(self._root.text(deep=True, strip=True))
        return self._value


def find_article_body(
    tree: LexborHTMLParser, *, page_chars: Callable[[], int] | None = None
) -> Body:
    """Stages 1 and 2 on an already stripped tree (see the module docstring). ``page_chars``:
    the tree's text length, when the caller measures it too."""
    root = tree.body
    if root is None:
        return Body()
    body = _stage(root, text_holders=False)
    if body.listing:
        return body
    found = body.text_length
    chars = page_chars or _PageChars(root)
    if found >= _ENOUGH_CHARS or found >= _ENOUGH_SHARE * chars():
        return body
    wider = _stage(root, text_holders=True)
    if wider.listing:
        return body if found else wider
    return wider if wider.text_length > found else body


def generic_body(
    tree: LexborHTMLParser,
    reparse: Callable[[], LexborHTMLParser],
    *,
    marked: Marked | None = None,
) -> Body:
    """All three stages. ``reparse`` gives a fresh tree of the same page with only the
    never-text tags removed, for stage 3; ``marked``: ``tree``'s elements with a class or id,
    when the caller has them (``classindex.PageClasses``)."""
    root = tree.body
    if root is None:
        return Body()
    removed = strip_generic_chrome(tree, marked)
    remaining = _PageChars(root)
    body = find_article_body(tree, page_chars=remaining)
    found = body.text_length
    if body.listing or found >= _ENOUGH_CHARS or found >= _ENOUGH_SHARE * (remaining() + removed):
        return body
    unstripped = reparse()
    # only the structural chrome goes: the class-named "widgets" stay
    if unstripped.body is not None:
        for node in unstripped.body.css(STRUCTURAL_DROP_CSS):
            if node.parent is not None and (
                len(node.text(deep=True, strip=True)) < 400 or node.css_first("p") is None
            ):
                node.decompose()
    wider = find_article_body(unstripped)
    # the stripped result stands unless loosely named widgets ("widget", "sidebar") held much
    # more article than it found; a comment thread or a popup is never the article
    if wider.listing or wider.text_length <= 2 * found:
        return body
    if any(_in_named_widget(part) for part in wider.parts):
        return body
    return wider


def _in_named_widget(node: LexborNode | None) -> bool:
    """Whether ``node`` or an ancestor carries a STRONG widget word (comments, popup...)."""
    while node is not None and node.tag not in ("body", "html"):
        cls, id_ = node.attrs.get("class") or "", node.id or ""
        named = (cls or id_) and CHROME_NODE_RE.search(f"{cls} {id_}")
        if named and not (id_ and is_heading_anchor(node, id_) and not CHROME_NODE_RE.search(cls)):
            return True
        node = node.parent
    return False


def find_body(tree: LexborHTMLParser) -> LexborNode | None:
    """The single element that holds most of the article body (for profile inference)."""
    body = find_article_body(tree)
    if not body.parts:
        return None
    return max(body.parts, key=lambda part: len(part.text(deep=True, strip=True)))


def _is_listing_page(found: _Scores) -> bool:
    """Whether the best container by the flat scores is a list of teasers."""
    best: LexborNode | None = None
    best_score = 0.0
    for key in sorted(found.flat, key=found.flat.__getitem__, reverse=True)[:_TOP_CANDIDATES]:
        if found.flat[key] <= best_score:
            break
        node = found.nodes[key]
        adjusted = found.flat[key] * (1.0 - _density(found, node))
        if adjusted > best_score:
            best, best_score = node, adjusted
    return best is not None and is_listing(best, found.scored, found.nodes)


def _headline_links(node: LexborNode) -> int:
    return sum(1 for a in node.css("a") if len(a.text(deep=True, strip=True)) >= _HEADLINE_CHARS)


def is_listing(
    container: LexborNode,
    scored: list[tuple[LexborNode, tuple[int, ...]]],
    nodes: dict[int, LexborNode],
) -> bool:
    """True if ``container`` holds a list of teasers (a category or home page), not an article.

    ``scored``: each paragraph with the keys of the ancestors it scored (parent first). A
    teaser is a paragraph alone in an item box below the container (up to three levels up)
    that also holds a headline link. An article's paragraphs share the body, or sit each in a
    bare wrapper without links. Listings are recognised rather than scored down: their teasers
    would otherwise be stored as an article's body.
    """
    top = container.mem_id
    inside = [(para, chain) for para, chain in scored if top in chain]
    if len(inside) < _MIN_TEASERS:
        return False
    cover: dict[int, int] = {}
    for _, chain in inside:
        for key in chain:
            cover[key] = cover.get(key, 0) + 1
    teasers = 0
    for para, chain in inside:
        own: int | None = None
        for key in chain[:3]:
            if key == top or cover[key] > 1:
                break
            if own is None:
                own = _headline_links(para)
            if _headline_links(nodes[key]) > own:
                teasers += 1
                break
    return teasers >= _MIN_TEASERS and teasers * 2 >= len(inside)
