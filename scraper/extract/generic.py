"""Find the article body in a page without a profile (a readability-style scorer).

Stages, each cheap and run on lexbor's tree: (1) widgets are removed by tag and by class/id
words (``chrome.CHROME_NODE_RE``); (2) every text paragraph (``<p>``, or a run of text broken by
``<br>``) gives points to its parent and, less, to the ancestors above; (3) the best-scoring
element, discounted by its link density, is the body. Only a few hundred nodes are touched in
Python; selection and text joins happen in C.
"""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.extract.chrome import GENERIC_DROP_CSS, is_chrome_node

_LEVEL_WEIGHTS = (1.0, 0.5, 0.34, 0.25, 0.2)
_MIN_PARAGRAPH = 25
_CHROME_CANDIDATES = (
    "[class*=share], [class*=social], [class*=comment], [class*=related], [class*=relate], "
    "[class*=rating], [class*=banner], [class*=breadcrumb], [class*=tag], [class*=menu], "
    "[class*=footer], [class*=header], [class*=sidebar], [class*=login], [class*=captcha], "
    "[class*=other-news], [class*=popup], [class*=modal], [class*=ads], [class*=widget], "
    "[id*=share], [id*=comment], [id*=related], [id*=rating], [id*=banner], [id*=menu], "
    "[id*=footer], [id*=header], [id*=sidebar], [id*=ads]"
)


def strip_generic_chrome(tree: LexborHTMLParser) -> None:
    """Remove navigation, header/footer and class-named widgets that hold little text."""
    root = tree.body
    if root is None:
        return
    for node in root.css(GENERIC_DROP_CSS):
        # an <article> inside <header>/<main> is rare, but a header holding the body is not
        if node.css_first("p") is None or len(node.text(deep=True, strip=True)) < 400:
            node.decompose()
    # VCCorp-style embedded boxes announce themselves: type="RelatedOneNews", "RelatedNewsBox"
    for node in root.css("[type*=related i], [data-type*=related i]"):
        node.decompose()
    for node in root.css(_CHROME_CANDIDATES):
        attrs = node.attributes
        marker = f"{attrs.get('class') or ''} {attrs.get('id') or ''}"
        if not is_chrome_node(marker):
            continue
        if node.tag in ("html", "body"):
            continue
        # widgets hold little paragraph text; a wrapper with many paragraphs is kept
        if len(node.css("p")) > 4 and len(node.text(deep=True, strip=True)) > 1500:
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
    for para in candidates:
        text = para.text(deep=True, strip=True)
        length = len(text)
        if length < _MIN_PARAGRAPH:
            continue
        score = _paragraph_score(length, text)
        node = para.parent if para.tag in ("p", "pre", "blockquote") else para
        level = 0
        while node is not None and level < len(_LEVEL_WEIGHTS):
            if node.tag in ("html", "-undef", "#document"):
                break
            key = node.mem_id
            nodes[key] = node
            scores[key] = scores.get(key, 0.0) + score * _LEVEL_WEIGHTS[level]
            node = node.parent
            level += 1
    if not scores:
        return None
    best: LexborNode | None = None
    best_score = 0.0
    for key in sorted(scores, key=scores.__getitem__, reverse=True)[:8]:
        node = nodes[key]
        text_len = len(node.text(deep=True, strip=True)) or 1
        link_len = sum(len(a.text(deep=True, strip=True)) for a in node.css("a"))
        adjusted = scores[key] * (1.0 - min(link_len / text_len, 1.0))
        if adjusted > best_score:
            best, best_score = node, adjusted
    return best
