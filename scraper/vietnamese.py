"""Vietnamese text: what we store (clean NFC) and what we compare (the folding key).

``clean_text`` is for display and storage: the page's own words in NFC, with non-breaking spaces,
zero-width characters and soft hyphens cleaned. ``fold_key`` is for hashing, dedup and search only:
it also folds case, whitespace and tone-mark placement (``hoà`` and ``hòa`` give the same key).
"""

from __future__ import annotations

import re
import unicodedata

# zero-width space/joiners, word joiner, BOM, soft hyphen: invisible, never content
INVISIBLE_RE = re.compile("[\u200b\u200c\u200d\u2060\ufeff\u00ad]")
# NBSP and other unicode spaces become a plain space
_SPACES_RE = re.compile("[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_HSPACE_RE = re.compile(r"[ \t\r\f\v]+")
_WS_RE = re.compile(r"\s+")

# Tone marks (combining, after NFD): grave, acute, hook above, tilde, dot below.
_TONES = "\u0300\u0301\u0309\u0303\u0323"
_TONE_RE = re.compile(f"[{_TONES}]")
# Old style puts the tone on the second vowel of the open syllables oa, oe, uy ("hoà", "thuỷ");
# the common press style (and underthesea's) puts it on the first ("hòa", "thủy").
_OLD_STYLE_RE = re.compile(
    r"(?<![qQgG])([oO])([aAeE])([" + _TONES + r"])(?![^\W\d_])"
    r"|(?<![qQ])([uU])([yY])([" + _TONES + r"])(?![^\W\d_])"
)


def clean_text(text: str) -> str:
    """NFC, invisible characters removed, odd spaces made plain; line breaks kept."""
    text = unicodedata.normalize("NFC", text)
    text = INVISIBLE_RE.sub("", text)
    text = _SPACES_RE.sub(" ", text)
    return text


def collapse_ws(text: str) -> str:
    """One space between words, no leading or trailing space."""
    return _WS_RE.sub(" ", text).strip()


def clean_inline(text: str) -> str:
    """``clean_text`` then ``collapse_ws``: for titles, captions, names."""
    return collapse_ws(clean_text(text))


def _move_tone(m: re.Match[str]) -> str:
    if m.group(1) is not None:
        return m.group(1) + m.group(3) + m.group(2)
    return m.group(4) + m.group(6) + m.group(5)


def normalize_tones(text: str) -> str:
    """Put tone marks of open ``oa/oe/uy`` syllables on the first vowel (hoà → hòa, thuỷ → thủy)."""
    decomposed = unicodedata.normalize("NFD", text)
    # after NFD the vowel's own marks (circumflex, breve, horn) come before the tone mark
    moved = _OLD_STYLE_RE.sub(_move_tone, decomposed)
    return unicodedata.normalize("NFC", moved)


def fold_key(text: str) -> str:
    """The comparison key: clean, one tone convention, case-folded, whitespace collapsed."""
    return collapse_ws(normalize_tones(clean_text(text)).casefold())


def strip_diacritics(text: str) -> str:
    """ASCII-ish search form: đ→d and every mark removed (``Đà Nẵng`` → ``da nang``)."""
    text = text.replace("đ", "d").replace("Đ", "D")
    return "".join(c for c in unicodedata.normalize("NFD", text) if not unicodedata.combining(c))
