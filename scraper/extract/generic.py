"""Find the article body in a page without a profile (a readability-style scorer).

Stages, each cheap and run on lexbor's tree: (1) widgets are removed by tag and by class/id
words (``chrome.CHROME_NODE_RE``); (2) every text paragraph (``<p>``, or a run of text broken by
``<br>``) gives points to its parent and, less, to the ancestors above; (3) the best-scoring
element, discounted by its link density, is the body, unless it is a list of teasers
(``is_listing``: a category or home page has no body). Only a few hundred nodes are touched in
Python; selection and text joins happen in C.
"""

from __future__ import annotations

from functools import lru_cache

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.extract.chrome import GENERIC_DROP_CSS, is_chrome_node

_LEVEL_WEIGHTS = (1.0, 0.5, 0.34, 0.25, 0.2)
_MIN_PARAGRAPH = 25
# a listing: at least this many teasers, each beside a link this long (a headline)
_MIN_TEASERS = 5
_HEADLINE_CHARS = 20
# a widget's class (or id) holds one of these words, as lexbor's case-sensitive [class*=...]
# would find them; ``is_chrome_node`` then decides on whole words
_CHROME_CLASS_WORDS = (
    "share", "social", "comment", "related", "relate", "rating", "banner", "breadcrumb", "tag",
    "menu", "footer", "header", "sidebar", "login", "captcha", "other-news", "popup", "modal",
    "ads", "widget",
)  # fmt: skip
_CHROME_ID_WORDS = (
    "share", "comment", "related", "rating", "banner", "menu", "footer", "header", "sidebar",
    "ads",
)  # fmt: skip


@lru_cache(maxsize=8192)
def _is_chrome_marked(cls: str, id_: str) -> bool:
    """Whether an element with this class and id is a widget by its name.

    Cached: a page repeats the same few hundred class values, and sites repeat them.
    """
    if not (any(w in cls for w in _CHROME_CLASS_WORDS) or any(w in id_ for w in _CHROME_ID_WORDS)):
        return False
    return is_chrome_node(f"{cls} {id_}")


def strip_generic_chrome(tree: LexborHTMLParser) -> None:
    """Remove navigation, header/footer and class-named widgets that hold little text.

    lexbor returns matches in document order, and ``decompose`` detaches every node of the
    removed subtree, so a match inside an already removed widget has no parent and is skipped
    without reading its text: most widgets nest inside other widgets.

    Widgets by name are picked in Python from one query for every element with a class or id:
    lexbor tests each alternative of a selector list on each element, so ~30 ``[class*=word]``
    cost ~30 substring tests per element, while here each distinct class/id value is tested
    once (``_is_chrome_marked`` is cached).
    """
    root = tree.body
    if root is None:
        return
    for node in root.css(GENERIC_DROP_CSS):
        if node.parent is None:
            continue
        # an <article> inside <header>/<main> is rare, but a header holding the body is not
        if len(node.text(deep=True, strip=True)) < 400 or node.css_first("p") is None:
            node.decompose()
    # VCCorp-style embedded boxes announce themselves: type="RelatedOneNews", "RelatedNewsBox"
    for node in root.css("[type*=related i], [data-type*=related i]"):
        node.decompose()
    previous = 0
    for node in root.css("[class], [id]"):
        # lexbor lists an element once per alternative it matches: once more if it has both
        if node.mem_id == previous:
            continue
        previous = node.mem_id
        if node.parent is None or node.tag in ("html", "body"):
            continue
        # attrs.get reads one attribute without building the node's attribute dict
        if not _is_chrome_marked(node.attrs.get("class") or "", node.id or ""):
            continue
        # widgets hold little paragraph text; a wrapper with many paragraphs is kept
        if len(node.text(deep=True, strip=True)) > 1500 and len(node.css("p")) > 4:
            continue
        node.decompose()


def _paragraph_score(length: int, text: str) -> float:
    return 1.0 + text.count(",") + min(length / 100.0, 3.0)


def find_body(tree: LexborHTMLParser) -> LexborNode | None:
    """The element most likely to be the article body, or None."""
    root = tree.body
    if root is None:
        return None
    scores: dict[int, float] = {}
    nodes: dict[int, LexborNode] = {}
    seen_parents: set[int] = set()
    candidates: list[LexborNode] = list(root.css("p, pre, blockquote"))
    # text broken by <br> inside a div/td counts like paragraphs
    for br in root.css("div > br, td > br"):
        parent = br.parent
        if parent is not None and parent.mem_id not in seen_parents:
            seen_parents.add(parent.mem_id)
            candidates.append(parent)
    scored: list[tuple[LexborNode, tuple[int, ...]]] = []  # (paragraph, keys it scored)
    for para in candidates:
        text = para.text(deep=True, strip=True)
        length = len(text)
        if length < _MIN_PARAGRAPH:
            continue
        score = _paragraph_score(length, text)
        node = para.parent if para.tag in ("p", "pre", "blockquote") else para
        level = 0
        chain: list[int] = []
        while node is not None and level < len(_LEVEL_WEIGHTS):
            if node.tag in ("html", "-undef", "#document"):
                break
            key = node.mem_id
            nodes[key] = node
            scores[key] = scores.get(key, 0.0) + score * _LEVEL_WEIGHTS[level]
            chain.append(key)
            node = node.parent
            level += 1
        scored.append((para, tuple(chain)))
    if not scores:
        return None
    best: LexborNode | None = None
    best_score = 0.0
    for key in sorted(scores, key=scores.__getitem__, reverse=True)[:8]:
        if scores[key] <= best_score:
            # the discount only lowers a score, and the rest score lower still: none can win,
            # so their texts and links (the costly part for page-wide wrappers) go unread
            break
        node = nodes[key]
        text_len = len(node.text(deep=True, strip=True)) or 1
        link_len = sum(len(a.text(deep=True, strip=True)) for a in node.css("a"))
        adjusted = scores[key] * (1.0 - min(link_len / text_len, 1.0))
        if adjusted > best_score:
            best, best_score = node, adjusted
    if best is not None and is_listing(best, scored, nodes):
        return None
    return best


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
