"""Page chrome: what a naive scraper keeps around an article, recognised so it can be dropped.

Two levels. ``is_chrome_node`` matches class/id values (the words live in ``vocabulary``) of
widgets (share bars, comment forms, rating boxes, related lists) removed before text is read;
``is_chrome_element`` does so for one element, where an id that anchors the element's own
heading ("sharing-with-a-single-developer") names no widget. ``is_chrome_text`` matches whole
paragraphs that are chrome by their words: NukeViet's rating block and session-timeout notice,
comment forms and captchas, "Những tin mới hơn / cũ hơn", lone share-button labels, bare image
URLs and file names, unfilled ``{{template}}`` text. ``source_line`` recognises "Nguồn tin: ..."
credit lines, which are kept as ``Article.source`` instead of body text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from selectolax.lexbor import LexborNode

from scraper.extract.vocabulary import CHROME_NODE_RE, KEEP_NODE_RE, WEAK_NODE_RE
from scraper.vietnamese import strip_diacritics

_CHROME_PHRASES = (
    r"tổng số điểm của bài viết là:?.*?đánh giá",
    r"click để đánh giá bài viết",
    r"ý kiến bạn đọc",
    r"gửi bình luận",
    r"gửi ý kiến",
    r"viết bình luận",
    r"bình luận của bạn",
    r"reset captcha",
    r"mã xác nhận",
    r"mã bảo mật",
    r"mã an toàn",
    r"nhập lại",
    r"những tin mới hơn",
    r"những tin cũ hơn",
    r"tin cùng chuyên mục",
    r"tin liên quan",
    r"bài liên quan",
    r"tin mới nhất",
    r"xem thêm",
    r"đọc tiếp",
    r"chia sẻ",
    r"zalo",
    r"facebook",
    r"twitter",
    r"email",
    r"in bài",
    r"copy link",
    r"sao chép liên kết",
    r"bản in",
    r"quay lại",
    r"lên đầu trang",
    r"họ và tên",
    r"họ tên",
    r"địa chỉ email",
    r"nội dung",
    r"từ khóa",
    r"tags?",
)
# matched against the lower-cased text: a case-insensitive match of ~40 alternatives folds each
# character again for every alternative tried
_ONLY_CHROME_RE = re.compile(r"^(?:\s|[:|•·\-–—/,.]|" + "|".join(_CHROME_PHRASES) + r")+$")
# chrome sentences that may sit inside a longer paragraph. Searched in the lower-cased text as
# plain substrings: one case-insensitive regex alternation over a long Vietnamese paragraph costs
# ~20 µs, the substring tests well under one.
_ANYWHERE_PHRASES = (
    "{{",
    "}}",
    "bạn đã không sử dụng site",
    "bấm vào đây để duy trì trạng thái đăng nhập",
)
_START_RE = re.compile(
    r"tổng số điểm của bài viết là|click để đánh giá|bạn cần đăng nhập|vui lòng đăng nhập"
)
# a listing's relative time label: "7' trước", "3 giờ trước", "2 days ago"
_RELATIVE_TIME_RE = re.compile(
    r"^\d+\s*(?:'|’|phút|giờ|ngày|tuần|tháng|năm|min(?:ute)?s?|hours?|days?|weeks?)\s*"
    r"(?:trước|ago)$"
)  # lower-cased text, as _ONLY_CHROME_RE
_TIMEOUT_RE = re.compile(r"thời gian chờ:\s*\d+\s*giây")
_BARE_URL_RE = re.compile(r"^(?:https?://|www\.)\S+$", re.IGNORECASE)
_FILE_RE = re.compile(
    r"^[\w.-]+\.(?:jpe?g|png|gif|webp|bmp|svg|tiff?|pdf|docx?|xlsx?|mp4|mp3)$", re.IGNORECASE
)
# editor slugs left as alt text: "trien_khai_NV", "hinh_1_12362531012024", "IMG_1234"
_SLUG_RE = re.compile(r"^[A-Za-z0-9]+(?:_[A-Za-z0-9]+)+$")
_SOURCE_RE = re.compile(
    r"^\(?\s*nguồn(?:\s+tin)?(?:\s*[:：]\s*|\s+(?=[^:]{1,60}:))(.+?)\)?$", re.IGNORECASE
)


def is_chrome_text(text: str) -> bool:
    """True if the whole paragraph is chrome, not article text."""
    text = text.strip()
    if not text:
        return True
    lower = text.lower()
    if any(map(lower.__contains__, _ANYWHERE_PHRASES)) or _START_RE.match(lower):
        return True
    if "giây" in lower and _TIMEOUT_RE.search(lower):
        return True
    if len(text) <= 200 and (_ONLY_CHROME_RE.match(lower) or _RELATIVE_TIME_RE.match(lower)):
        return True
    if " " in text:  # a URL, file name or slug is one token without spaces: prose is not
        return False
    return bool(_BARE_URL_RE.match(text) or _FILE_RE.match(text) or _SLUG_RE.match(text))


def source_line(text: str) -> str | None:
    """The credit of a "Nguồn tin: X" / "Nguồn X: URL" line, or None for other text."""
    text = text.strip()
    if len(text) > 300:
        return None
    m = _SOURCE_RE.match(text)
    if m is None:
        return None
    value = m.group(1).strip()
    return value or None


_HEADINGS = frozenset(["h1", "h2", "h3", "h4", "h5", "h6"])
_SLUG_SPLIT_RE = re.compile(r"[-_]+")
_WORD_RE = re.compile(r"\w+")


def _opening_heading(node: LexborNode) -> LexborNode | None:
    """``node`` if it is a heading, else its first element child if that is one."""
    if node.tag in _HEADINGS:
        return node
    child = node.child
    while child is not None and (child.tag or "").startswith(("-", "#")):
        child = child.next
    return child if child is not None and child.tag in _HEADINGS else None


def is_heading_anchor(node: LexborNode, id_: str) -> bool:
    """Whether ``id_`` is the anchor of the heading ``node`` opens with: Sphinx, Markdown and
    table-of-contents plugins name a section after its heading ("sharing-with-a-single-
    developer"), and those words are the article's, not a widget's name. A widget's id beside
    a heading of other words ("menu-thi-truong" on a menu item) is not one."""
    words = [w for w in _SLUG_SPLIT_RE.split(id_.lower()) if w and not w.isdigit()]
    if len(words) < 3:
        return False
    heading = _opening_heading(node)
    if heading is None:
        return False
    said = set(_WORD_RE.findall(strip_diacritics(heading.text(deep=True)).lower()))
    return all(w in said for w in words)


def is_chrome_element(node: LexborNode, cls: str, id_: str) -> bool:
    """``is_chrome_node`` of an element's class and id, but an id that anchors the element's
    own heading is not read as a widget's name."""
    if not is_chrome_node(f"{cls} {id_}"):
        return False
    return not (id_ and is_heading_anchor(node, id_) and not is_chrome_node(f"{cls} "))


@lru_cache(maxsize=8192)
def is_chrome_node(class_and_id: str) -> bool:
    """True if a class/id value names a widget (and not the article container).

    Cached: a page repeats the same few hundred class values, sites repeat them across pages,
    and the word-boundary alternations cost microseconds per call.
    """
    if CHROME_NODE_RE.search(class_and_id):
        return True
    return bool(WEAK_NODE_RE.search(class_and_id)) and not KEEP_NODE_RE.search(class_and_id)
