"""Notices: is a page a story, or a placeholder where one was ("Báo đã sáp nhập...")?

When a provincial paper merges or closes, its article URLs start serving a notice, a home page or
an empty template. Stored as an edit, that would overwrite the archived story: the very thing the
archive exists to keep. Two pure tests, shared by the crawler and the repository:

``looks_like_notice(title, text)``: a short text using the vocabulary of notices
(``NOTICE_PHRASES``, data: extend it when a site words it differently).

``not_an_edit(old_title, old_text, new_title, new_text)``: the new content of a known article is no
edit of it: a notice, or a much shorter text that keeps little of the old one, or another page
altogether (title and text both differ). A real edit keeps most of its words or its title.

Texts are compared by their folding key without tone marks (``scraper.vietnamese``), so a notice
typed without diacritics matches too.
"""

from __future__ import annotations

from difflib import SequenceMatcher

from scraper.vietnamese import fold_key, strip_diacritics

__all__ = ["MAX_NOTICE_CHARS", "NOTICE_PHRASES", "looks_like_notice", "not_an_edit"]

#: what notices say (NFC, any case): mergers, closures, new addresses, missing pages
NOTICE_PHRASES: tuple[str, ...] = (
    "đã sáp nhập", "sáp nhập vào báo", "sáp nhập với báo", "hợp nhất với báo", "đã hợp nhất",
    "ngừng hoạt động", "dừng hoạt động", "ngừng xuất bản", "dừng xuất bản", "ngừng cập nhật",
    "chuyển sang địa chỉ", "địa chỉ mới", "tên miền mới", "trang thông tin điện tử mới",
    "website mới", "đã chuyển về", "vui lòng truy cập",
    "trang không tồn tại", "bài viết không tồn tại", "nội dung không tồn tại",
    "liên kết không tồn tại", "không tìm thấy trang", "không tìm thấy bài viết",
    "bài viết đã bị gỡ", "page not found",
)  # fmt: skip
#: a notice is a paragraph or two; a longer text is an article that mentions a merger
MAX_NOTICE_CHARS = 1200
#: below this share of the old text's length, with little of it kept, new content is no edit
SHORTER = 0.3
#: share of the old text's word triples still present that makes any new content an edit
KEPT = 0.2
#: titles at least this similar (0..1) make a rewrite an edit of the same story
SAME_TITLE = 0.5

_FOLDED_PHRASES = tuple(strip_diacritics(fold_key(p)) for p in NOTICE_PHRASES)


def _key(text: str | None) -> str:
    return strip_diacritics(fold_key(text or ""))


def looks_like_notice(title: str | None, text: str) -> str | None:
    """Why the page reads as a notice (the phrase it uses), or None. Pure."""
    if len(text.strip()) > MAX_NOTICE_CHARS:
        return None
    key = _key(f"{title or ''}\n{text}")
    for phrase, folded in zip(NOTICE_PHRASES, _FOLDED_PHRASES, strict=True):
        if folded in key:
            return f"notice ({phrase!r})"
    return None


def _triples(key: str) -> set[tuple[str, ...]]:
    words = key.split()
    if len(words) < 3:
        return {tuple(words)} if words else set()
    return {tuple(words[i : i + 3]) for i in range(len(words) - 2)}


def not_an_edit(
    old_title: str | None, old_text: str, new_title: str | None, new_text: str
) -> str | None:
    """Why the new content of a known article is not an edit of it, or None (it is one). Pure."""
    why = looks_like_notice(new_title, new_text)
    if why:
        return why
    old, new = _triples(_key(old_text)), _triples(_key(new_text))
    if not old:
        return None  # nothing archived worth keeping
    kept = len(old & new) / len(old)
    if kept >= KEPT:
        return None
    length = len(new_text.strip()) / max(len(old_text.strip()), 1)
    if length < SHORTER:
        return f"text {length:.0%} as long, {kept:.0%} of it kept"
    title = SequenceMatcher(None, _key(old_title), _key(new_title)).ratio()
    if title < SAME_TITLE:
        return f"another page (title {title:.0%} alike, {kept:.0%} of the text kept)"
    return None
