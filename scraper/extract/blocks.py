"""Turn a body element into paragraphs and images.

Block elements and ``<br>`` end a paragraph; inline elements join (so ``T<span>rước</span>``
stays one word). Figures, image tables and caption elements are not text: their images and
captions go to ``images``. Text inside links is counted so link lists can be recognised.
The walk is iterative (no recursion), so 10,000 levels of nesting are fine.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urljoin

from selectolax.lexbor import LexborHTMLParser, LexborNode

from scraper.extract.chrome import is_chrome_element, is_chrome_node
from scraper.extract.vocabulary import CAPTION_CLASS_RE, CAPTION_CSS, DROP_TAGS
from scraper.types import Image
from scraper.vietnamese import clean_inline

BLOCK_TAGS = frozenset(
    [
        "p",
        "div",
        "h1",
        "h2",
        "h3",
        "h4",
        "h5",
        "h6",
        "li",
        "ul",
        "ol",
        "dl",
        "dt",
        "dd",
        "blockquote",
        "section",
        "article",
        "header",
        "footer",
        "table",
        "thead",
        "tbody",
        "tfoot",
        "tr",
        "td",
        "th",
        "caption",
        "pre",
        "main",
        "aside",
        "nav",
        "address",
        "center",
        "hr",
        "figure",
        "figcaption",
        "details",
        "summary",
        "fieldset",
        "legend",
        "form",
    ]
)
# never text: the widgets every mode drops, plus the document's head and media sources
SKIP_TAGS = frozenset(DROP_TAGS) | {"head", "title", "meta", "link", "picture", "source"}


def _tag_ids(names: frozenset[str] | set[str]) -> frozenset[int]:
    """lexbor's ids of standard tag names (fixed numbers: its tag table is static). The walk
    compares ids, which lexbor hands over without building a string per node."""
    maker = LexborHTMLParser("")
    return frozenset(maker.create_node(name).tag_id for name in names)


# lexbor's ids below 6 are the non-elements: undef, end of file, text (2), document, comment,
# doctype; custom elements get ids far above the standard ones
_TEXT_ID, _LAST_SPECIAL_ID = 2, 5
_SKIP_IDS = _tag_ids(SKIP_TAGS)
_BLOCK_IDS = _tag_ids(BLOCK_TAGS)
(_BR_ID,) = _tag_ids({"br"})
(_IMG_ID,) = _tag_ids({"img"})
(_FIGCAPTION_ID,) = _tag_ids({"figcaption"})
(_A_ID,) = _tag_ids({"a"})


_LAZY_ATTRS = ("data-src", "data-original", "data-lazy-src", "data-srcset", "src")


@dataclass(slots=True)
class Paragraph:
    text: str
    link_chars: int
    tag: str

    @property
    def link_density(self) -> float:
        return self.link_chars / max(1, len(self.text))


@dataclass(slots=True)
class BodyContent:
    paragraphs: list[Paragraph] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)


def absolute_url(base: str, href: str) -> str | None:
    """``href`` resolved against ``base``, None if it cannot be (``//[``: a broken IPv6 host);
    an absolute http(s) URL (most pages give them) is kept as it is: urljoin costs
    microseconds to parse and rebuild it."""
    if href.startswith(("https://", "http://")):
        return href
    try:
        return urljoin(base, href)
    except ValueError:
        return None


def image_url(img: LexborNode, base: str) -> str | None:
    """The real source of an ``<img>`` (lazy-load attributes first; no data: URIs)."""
    attrs = img.attributes
    for key in _LAZY_ATTRS:
        value = attrs.get(key)
        if value and value.strip() and not value.strip().startswith("data:"):
            return absolute_url(base, value.strip().split(",")[0].split()[0])
    return None


def _caption_rank(cap: LexborNode) -> int:
    """Which of ``CAPTION_CSS``'s alternatives matched: lower is preferred."""
    if cap.tag == "figcaption":
        return 0
    cls = cap.attributes.get("class") or ""
    if "caption" in cls or "Caption" in cls:
        return 1
    return 2 if cap.tag == "td" else 3


def _caption_of(node: LexborNode) -> str | None:
    # one query instead of one per alternative; the best-ranked match with text wins
    best: tuple[int, str] | None = None
    for cap in node.css(CAPTION_CSS):
        rank = _caption_rank(cap)
        if best is not None and rank >= best[0]:
            continue
        text = clean_inline(cap.text(deep=True))
        if text:
            best = (rank, text)
    return best[1] if best is not None else None


@lru_cache(maxsize=4096)
def _is_caption_class(cls: str) -> bool:
    return CAPTION_CLASS_RE.search(cls) is not None


def _is_media_block(node: LexborNode, tag: str, cls: str) -> bool:
    """A figure, or a table/div that only frames an image and its caption."""
    if tag == "figure":
        return True
    if tag == "table" or (tag == "div" and cls and _is_caption_class(cls)):
        if node.css_first("img") is None:
            return False
        return len(node.text(deep=True, strip=True)) < 400
    return False


_EMPHASIS_TAGS = frozenset(["em", "i", "small"])
_MAX_CAPTION = 300


def _element_sibling(node: LexborNode) -> LexborNode | None:
    """The previous element sibling, skipping whitespace text and comments."""
    prev = node.prev
    while prev is not None and (prev.tag or "").startswith(("-", "#")):
        if prev.tag == "-text" and (prev.text_content or "").strip():
            return None
        prev = prev.prev
    return prev


def _emphasis_caption(node: LexborNode) -> str | None:
    """The caption of a ``<p><em>...</em></p>`` standing right under an image-only block."""
    child = node.child
    while child is not None and child.tag == "-text" and not (child.text_content or "").strip():
        child = child.next
    if child is None or child.tag not in _EMPHASIS_TAGS:
        return None
    text = node.text(deep=True, strip=True)
    if not text or len(text) > _MAX_CAPTION or child.text(deep=True, strip=True) != text:
        return None
    prev = _element_sibling(node)
    if prev is None or prev.text(deep=True, strip=True):
        return None
    if prev.tag != "img" and prev.css_first("img") is None:
        return None
    return clean_inline(node.text(deep=True))


def _collect_media(node: LexborNode, base: str, images: list[Image]) -> None:
    caption = _caption_of(node)
    if caption is None and node.tag != "figure":
        # an image table with its caption in a plain cell: the text beside the image
        caption = clean_inline(node.text(deep=True)) or None
    for img in node.css("img"):
        url = image_url(img, base)
        if url:
            images.append(Image(url=url, caption=caption))


def _emit(paragraphs: list[Paragraph], buf: list[str], link_chars: int, tag: str) -> None:
    """The paragraph of the text pieces in ``buf``, if it has any text."""
    text = clean_inline("".join(buf))
    if text:
        paragraphs.append(Paragraph(text, min(link_chars, len(text)), tag))


def walk_body(root: LexborNode, base: str, *, drop_chrome: bool) -> BodyContent:
    """Paragraphs and images of ``root``; chrome-named widgets skipped when ``drop_chrome``.

    The loop runs once per node of the body (thousands): its state lives in local variables,
    and a paragraph is only emitted where text was collected."""
    images: list[Image] = []
    paragraphs: list[Paragraph] = []
    buf: list[str] = []  # the text pieces of the paragraph being read
    link_chars = 0  # of those, the characters inside links
    para_tag = "p"  # the block element the paragraph is in
    # stack of (node, link_depth); None marks "leaving a block" so the paragraph is flushed
    stack: list[tuple[LexborNode | None, int]] = []
    child = root.last_child
    while child is not None:
        stack.append((child, 0))
        child = child.prev
    while stack:
        node, in_link = stack.pop()
        if node is None:
            if buf:
                _emit(paragraphs, buf, link_chars, para_tag)
                buf, link_chars = [], 0
            continue
        tag_id = node.tag_id
        if tag_id == _TEXT_ID:
            text = node.text_content
            # whitespace opening a paragraph is dropped by clean_inline anyway: most text nodes
            # of a page are the newlines between its tags
            if text and (buf or not text.isspace()):
                buf.append(text)
                if in_link:
                    link_chars += len(text.strip())
            continue
        if tag_id <= _LAST_SPECIAL_ID or tag_id in _SKIP_IDS:
            continue
        if tag_id == _BR_ID:
            if buf:
                _emit(paragraphs, buf, link_chars, para_tag)
                buf, link_chars = [], 0
            continue
        if tag_id == _IMG_ID:
            url = image_url(node, base)
            if url:
                images.append(Image(url=url, caption=None))
            continue
        if tag_id == _FIGCAPTION_ID:
            continue
        if tag_id in _BLOCK_IDS:
            tag = node.tag or ""
            attrs = node.attributes
            cls = attrs.get("class") or ""
            ends_here = False  # the block is not text: the paragraph before it ends
            if _is_media_block(node, tag, cls):
                if buf:
                    _emit(paragraphs, buf, link_chars, para_tag)
                    buf, link_chars = [], 0
                _collect_media(node, base, images)
                continue
            if drop_chrome:
                id_ = attrs.get("id") or ""
                ends_here = (cls or id_) != "" and is_chrome_node(cls + " " + id_)
                if ends_here and id_:
                    ends_here = is_chrome_element(node, cls, id_)
            if not ends_here and cls and _is_caption_class(cls):
                ends_here = True
            if not ends_here and tag == "p" and images:
                caption = _emphasis_caption(node)
                if caption is not None:
                    ends_here = True
                    last = images[-1]
                    if last.caption is None:
                        images[-1] = Image(url=last.url, caption=caption)
            if buf:
                _emit(paragraphs, buf, link_chars, para_tag)
                buf, link_chars = [], 0
            if ends_here:
                continue
            para_tag = tag
            stack.append((None, in_link))
        link = in_link + 1 if tag_id == _A_ID else in_link
        child = node.last_child
        while child is not None:
            stack.append((child, link))
            child = child.prev
    if buf:
        _emit(paragraphs, buf, link_chars, para_tag)
    return BodyContent(paragraphs, images)
