"""From the body's paragraphs to the article text: what is dropped, and what is kept apart.

Dropped: chrome lines (``chrome.is_chrome_text``), link lists and related-article teasers,
captions, the headline and the sapo repeated in the body, a truncated copy of the lead
("(HPĐT)- Theo thông tin..." cut short with an ellipsis), and dateline-only lines ("Đăng
ngày 26/12/2023"). Kept apart: the "Nguồn: ..." credit line (``Article.source``) and the
closing byline, split into authors and photo credits ("Tin: X - Ảnh: Y").
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from scraper.extract.blocks import Paragraph
from scraper.extract.bylines import parse_byline_credits
from scraper.extract.chrome import is_chrome_text, source_line
from scraper.extract.textdates import is_date_line

# a paragraph that only points to another article: "Xem thêm: <a>...</a>", ">> <a>...</a>"
_TEASER_RE = re.compile(
    r"^\s*(?:>>|»|\*\s|xem\s+thêm|đọc\s+thêm|tin\s+liên\s+quan|bài\s+liên\s+quan|"
    r"có\s+thể\s+bạn\s+quan\s+tâm|mời\s+(?:quý\s+)?(?:độc\s+giả|bạn\s+đọc)\s+xem|"
    r"video\s+đang\s+được\s+quan\s+tâm|tin\s+cùng\s+chuyên\s+mục|related|read\s+more)",
    re.IGNORECASE,
)
_ELLIPSIS_RE = re.compile(r"\s*(?:\.{3}|…)\s*$")
_MAX_LINK_DENSITY = 0.6
_TEASER_LINK_DENSITY = 0.3
_SHORT = 300  # longer paragraphs are prose even when linked or repeated
_MIN_PREFIX = 30  # a truncated copy shares at least this much of the lead
_MAX_BYLINE_LINES = 6
_LEAD_PARAGRAPHS = 3  # where a truncated copy of the lead stands


def _key(text: str) -> str:
    """Comparison key inside one page: texts are already NFC with collapsed whitespace."""
    return text.casefold()


# a lead opens with the paper's code: "(HPĐT)- Theo...", "ĐNO - HĐND...", "BPO - Sáng...", "(BTV) "
_LEAD_CODE_RE = re.compile(r"^\(?[A-ZĐ][A-ZĐ.&]{1,9}\)?\s*[-–—:]?\s*\w")
_LEAD_CHARS = (60, 1500)


def is_lead(text: str, *, after_headline: bool) -> bool:
    """Whether a plain paragraph is the article's lead (sapo): it opens with the paper's code,
    or it stands alone between the headline and the body."""
    if not _LEAD_CHARS[0] <= len(text) <= _LEAD_CHARS[1]:
        return False
    if is_chrome_text(text) or is_date_line(text) or parse_byline_credits(text) is not None:
        return False
    return after_headline or _LEAD_CODE_RE.match(text) is not None


def truncates(short: str, full: str) -> bool:
    """``short`` is ``full`` cut short ("Theo thông tin từ ..."): a strict prefix of it, with or
    without a closing ellipsis, long enough not to be a coincidence."""
    # most pairs differ within the shortest prefix that counts: no ellipsis scan for them
    if not full.startswith(short[:_MIN_PREFIX]):
        return False
    head = _ELLIPSIS_RE.sub("", short)
    return _MIN_PREFIX <= len(head) < len(full) and full.startswith(head)


def is_teaser(para: Paragraph) -> bool:
    """A link to another article inside the body, not the article's own text."""
    if para.link_density > _MAX_LINK_DENSITY and len(para.text) < _SHORT:
        return True
    return (
        para.link_density > _TEASER_LINK_DENSITY
        and len(para.text) < _SHORT
        and _TEASER_RE.match(para.text) is not None
    )


@dataclass(slots=True)
class CleanBody:
    texts: list[str] = field(default_factory=list)
    source: str | None = None
    authors: list[str] = field(default_factory=list)
    photo_credits: list[str] = field(default_factory=list)
    #: dateline-only lines found in the body ("Đăng ngày 26/12/2023"), in order
    datelines: list[str] = field(default_factory=list)


def _drop_adjacent_duplicates(kept: list[str]) -> list[str]:
    # captions printed twice (alt text and figcaption) are adjacent duplicates: drop both
    out: list[str] = []
    i = 0
    while i < len(kept):
        j = i + 1
        while j < len(kept) and kept[j] == kept[i]:
            j += 1
        if j - i == 1 or len(kept[i]) > _SHORT:  # prose repeated on purpose, not a caption
            out.extend(kept[i:j])
        i = j
    return out


def _drop_truncated(kept: list[str], sapo: str | None) -> list[str]:
    """Drop a truncated copy of the lead: of the sapo anywhere, of the next paragraph among the
    first few. Only paragraphs shorter than what they would copy are compared."""
    out: list[str] = []
    sapo_key = _key(sapo) if sapo else None
    for i, text in enumerate(kept):
        if sapo_key is not None and len(text) <= len(sapo_key) and truncates(_key(text), sapo_key):
            continue
        nxt = kept[i + 1] if i + 1 < len(kept) and i < _LEAD_PARAGRAPHS else None
        if nxt is not None and len(text) <= len(nxt) and truncates(_key(text), _key(nxt)):
            continue
        out.append(text)
    return out


def clean_paragraphs(
    paragraphs: list[Paragraph],
    *,
    title: str | None,
    sapo: str | None,
    captions: set[str],
) -> CleanBody:
    out = CleanBody()
    kept: list[str] = []
    title_key = _key(title) if title else None
    sapo_key = _key(sapo) if sapo else None
    for para in paragraphs:
        text = para.text
        if is_chrome_text(text):
            continue
        credit = source_line(text)
        if credit is not None:
            out.source = out.source or credit
            continue
        if is_teaser(para):
            continue
        key = _key(text)
        if key in captions or key == title_key:
            continue
        if sapo_key and key == sapo_key and not kept:
            continue
        if is_date_line(text):
            out.datelines.append(text)
            continue
        kept.append(text)
    kept = _drop_truncated(_drop_adjacent_duplicates(kept), sapo)
    lines = 0
    while kept and lines < _MAX_BYLINE_LINES:
        credits = parse_byline_credits(kept[-1])
        if credits is None:
            break
        out.authors = credits[0] + out.authors
        out.photo_credits = credits[1] + out.photo_credits
        kept.pop()
        lines += 1
    out.texts = kept
    return out
