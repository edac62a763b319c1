"""Author names: cleaning names from meta tags, and recognising bylines at the end of a body.

Vietnamese papers sign an article with a short last paragraph: ``KHÁNH CHI``,
``Trần Cường, Hải Yến``, ``Hữu Lương – Ngọc Ánh``, ``Tin, ảnh: P.Y``, ``Hà Thu (tổng hợp)``.
A byline is all names: every word capitalised (or an initial like ``P.Y``), no sentence
punctuation, few words. Body sentences and subheadings capitalise only their first word.
"""

from __future__ import annotations

import re

from scraper.vietnamese import clean_inline

_LABEL_RE = re.compile(
    r"^\s*(?:(?:tin|bài|ảnh|clip|video|đồ\s*họa|thực\s*hiện|tác\s*giả|nhóm\s*pv|pv|ctv|btv)"
    r"(?:\s*[,&/và]+\s*(?:tin|bài|ảnh|clip|video))*\s*[:：]\s*)+",
    re.IGNORECASE,
)
_THEO_RE = re.compile(r"^\s*theo\s+", re.IGNORECASE)
_TAIL_RE = re.compile(
    # "theo ..." stops at an opening bracket too: each "(" started a scan to the end (quadratic)
    r"\s*[\(\[]\s*(?:tổng\s*hợp|th|lược\s*dịch|dịch|biên\s*dịch|theo[^()\[\]]*+|ctv|pv)\s*[\)\]]\s*$",
    re.IGNORECASE,
)
_SPLIT_RE = re.compile(r"\s*(?:,|;|\s[-–—]\s|\s*[–—]\s*|\s/\s|\s&\s|\svà\s)\s*")
_INITIALS_RE = re.compile(r"^(?:[^\W\d_]{1,3}\.){1,4}[^\W\d_]{0,12}\.?$")
_SITEISH_RE = re.compile(r"(?:\.(?:vn|com|net|org)\b|https?:|www\.|@|\bonline\b|\bnews\b)", re.I)
_MAX_WORDS = 6


def _is_name_word(word: str) -> bool:
    if _INITIALS_RE.match(word):
        return word[0].isupper()
    return word[:1].isupper() and word.replace("-", "").replace("'", "").isalpha()


def clean_author(name: str, *, site_words: frozenset[str] = frozenset()) -> str | None:
    """A display name from a meta value or byline part, or None if it is not a person."""
    name = clean_inline(name)
    name = _LABEL_RE.sub("", name)
    name = _THEO_RE.sub("", name)
    name = _TAIL_RE.sub("", name).strip(" .,;:-–—")
    if not name or len(name) > 60 or _SITEISH_RE.search(name):
        return None
    words = name.split()
    if len(words) > _MAX_WORDS:
        return None
    # the site's name, alone or as words of it ("VnExpress" in "Báo VnExpress Kinh doanh")
    folded = f" {name.casefold()} "
    if any(folded in f" {w} " for w in site_words):
        return None
    if any(ch.isdigit() for ch in name):
        return None
    return name


def split_authors(text: str, *, site_words: frozenset[str] = frozenset()) -> list[str]:
    """``"Trần Cường, Hải Yến"`` → two names; labels and ``(tổng hợp)`` removed."""
    text = clean_inline(text)
    text = _LABEL_RE.sub("", text)
    text = _TAIL_RE.sub("", text)
    out: list[str] = []
    for part in _SPLIT_RE.split(text):
        name = clean_author(part, site_words=site_words)
        if name and name not in out:
            out.append(name)
    return out


# a credit label anywhere in a byline: "Tin: X - Ảnh: Y", "Bài, ảnh: X", "X - Video: Y"
_CREDIT_RE = re.compile(
    r"(?:^|(?<=[\s\-–—,;/(]))((?:tin|bài|ảnh|clip|video|đồ\s*họa|thực\s*hiện|tác\s*giả)"
    # at most 8 labels (the longest real list, "Tin, bài, ảnh, clip, video, đồ họa", has 6): an
    # unbounded list was scanned again from each of its labels (quadratic without a colon)
    r"(?:\s*(?:[,&/]|\svà\s)\s*(?:tin|bài|ảnh|clip|video|đồ\s*họa)){0,7})\s*[:：]\s*",
    re.IGNORECASE,
)
_DASHES_RE = re.compile(r"(?:\s*[-–—]\s*)+")
_LABEL_WORD_RE = re.compile(r"\s*(?:[,&/]|\svà\s)\s*")
_WRITER_LABELS = frozenset({"tin", "bài", "thực hiện", "tác giả"})
_PHOTO_LABELS = frozenset({"ảnh", "clip", "video", "đồ họa"})


def split_credits(
    text: str, *, site_words: frozenset[str] = frozenset()
) -> tuple[list[str], list[str]]:
    """(authors, photo credits) of a byline: ``"Tin: Tường Minh - Ảnh: Đỗ Hiền"`` gives
    ``(["Tường Minh"], ["Đỗ Hiền"])``. Names under a photo/video label only are credits, not
    authors; "Tin, ảnh: X" makes X both. Unlabelled names are authors."""
    text = clean_inline(text)
    marks = list(_CREDIT_RE.finditer(text))
    if not marks:
        return split_authors(text, site_words=site_words), []
    authors: list[str] = []
    photos: list[str] = []
    head = text[: marks[0].start()]
    if head.strip(" -–—,;/"):
        authors.extend(split_authors(head, site_words=site_words))
    for i, mark in enumerate(marks):
        end = marks[i + 1].start() if i + 1 < len(marks) else len(text)
        names = split_authors(text[mark.end() : end], site_words=site_words)
        labels = {" ".join(w.split()) for w in _LABEL_WORD_RE.split(mark.group(1).lower())}
        if labels & _PHOTO_LABELS:
            photos.extend(n for n in names if n not in photos)
        if labels & _WRITER_LABELS or not labels & _PHOTO_LABELS:
            authors.extend(n for n in names if n not in authors)
    return authors, photos


def parse_byline_credits(text: str) -> tuple[list[str], list[str]] | None:
    """(authors, photo credits) if the whole paragraph is a byline, else None."""
    # asked of the last paragraphs of every body: a label needs a colon and a separator a dash,
    # and without them the two substitutions (a scan of the paragraph each) change nothing
    unlabelled = clean_inline(text)
    if ":" in unlabelled or "：" in unlabelled:
        unlabelled = _CREDIT_RE.sub(" - ", unlabelled)
    if "-" in unlabelled or "–" in unlabelled or "—" in unlabelled:
        unlabelled = _DASHES_RE.sub(" - ", unlabelled)
    unlabelled = unlabelled.strip(" -")
    if parse_byline(unlabelled) is None:
        return None
    authors, photos = split_credits(text)
    return (authors, photos) if authors or photos else None


def parse_byline(text: str) -> list[str] | None:
    """The authors if the whole paragraph is a byline, else None."""
    text = clean_inline(text)
    if not text or len(text) > 80 or text.endswith((":", "?", "!", "…", "...")):
        return None
    labelled = bool(_LABEL_RE.match(text))
    body = _TAIL_RE.sub("", _LABEL_RE.sub("", text)).strip()
    if not body or any(ch.isdigit() for ch in body):
        return None
    parts = [p for p in _SPLIT_RE.split(body) if p]
    if not parts or len(parts) > 6:
        return None
    for part in parts:
        words = part.split()
        if not words or len(words) > 5:
            return None
        if not all(_is_name_word(w.strip(".")) or _INITIALS_RE.match(w) for w in words):
            return None
    # one capitalised word alone ("Zalo", "Video") is not a byline unless labelled or upper-case
    if len(parts) == 1 and len(parts[0].split()) == 1 and not labelled:
        word = parts[0]
        if not (word.isupper() or _INITIALS_RE.match(word)):
            return None
    # a sentence ends with a full stop; initials ("P.Y.") may too
    if body.endswith(".") and not _INITIALS_RE.match(body.split()[-1]):
        return None
    names = split_authors(text)
    return names or None
