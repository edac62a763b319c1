"""Vietnamese text: what we store (clean NFC) and what we compare (the folding key).

``clean_text`` is for display and storage: the page's own words in NFC, with non-breaking spaces,
zero-width characters and soft hyphens cleaned. ``fold_key`` is for hashing, dedup and search only:
it also folds case, whitespace and tone-mark placement (``hoà`` and ``hòa`` give the same key).
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

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
    """``collapse_ws(clean_text(text))``: for titles, captions, names, paragraphs.

    With cheap exits, as every paragraph and name of a page passes here: ASCII needs no NFC,
    and NFC text (nearly all of it) is recognised by unicodedata's quick check, faster than
    any regex scan. Odd spaces need no pass of their own: ``str.split()`` splits on every one
    of them, as ``\\s`` matches them."""
    if not text.isascii():
        if not unicodedata.is_normalized("NFC", text):
            return collapse_ws(clean_text(text))
        text = INVISIBLE_RE.sub("", text)
    return " ".join(text.split())


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


#: characters outside Latin, Latin Extended Additional (Vietnamese) and general punctuation:
#: only these may be combining marks (the few a page has are looked up one by one)
_UNMARKED_RE = re.compile("[^\x00-\u02ff\u1e00-\u1eff\u2000-\u20cf]")


def fold_key(text: str) -> str:
    """The comparison key: clean, one tone convention, case-folded, whitespace collapsed."""
    cleaned = clean_text(text)
    tables = _tables()
    if not any(unicodedata.combining(c) for c in set(_UNMARKED_RE.findall(cleaned))):
        # NFC text of precomposed letters (all Vietnamese is): move tones with one regex over
        # whole letters, without the NFD/NFC round trip of normalize_tones (same result)
        toned = tables.tone_re.sub(tables.swap, cleaned)
    else:
        toned = normalize_tones(cleaned)
    # str.split() and re's \s agree on what whitespace is; split/join is faster than a regex
    return " ".join(toned.casefold().split())


def strip_diacritics(text: str) -> str:
    """ASCII-ish search form: đ→d and every mark removed (``Đà Nẵng`` → ``da nang``)."""
    # per character: NFD decomposes each character alone and only reorders the marks it drops
    return text.translate(_tables().stripped)


class _Stripped(dict[int, str]):
    """Code point → the character without marks: computed on first sight, then a C lookup."""

    def __missing__(self, cp: int) -> str:
        ch = chr(cp)
        if ch in "đĐ":
            out = "d" if ch == "đ" else "D"
        else:
            decomposed = unicodedata.normalize("NFD", ch)
            out = "".join(c for c in decomposed if not unicodedata.combining(c))
        self[cp] = out
        return out


@dataclass(frozen=True)
class _Tables:
    #: oa/oe/uy with the tone on the second, precomposed letter
    tone_re: re.Pattern[str]
    #: that pair → the pair with the tone on the first letter
    moved: dict[str, str]
    stripped: _Stripped

    def swap(self, m: re.Match[str]) -> str:
        pair, at = m.group(0), m.start()
        if at and m.string[at - 1] in ("qQgG" if pair[0] in "oO" else "qQ"):
            return pair  # "quà", "quý", "goá": the vowel belongs to the consonant
        return self.moved[pair]


@functools.cache
def _tables() -> _Tables:
    """Built once per process on first use (a few ms)."""
    # second letters of a pair: a/e (after o) or y (after u) with a tone mark right after it in
    # NFD. Followed by more marks ("ậ" = a + dot below + circumflex), the NFD regex's lookahead
    # sees a mark, never a letter, so the pair moves whatever follows it.
    ends: dict[str, list[str]] = {"ae_end": [], "ae_any": [], "y_end": [], "y_any": []}
    for cp in range(0xC0, 0x2200):
        d = unicodedata.normalize("NFD", chr(cp))
        if len(d) < 2 or d[1] not in _TONES or d[0] not in "aAeEyY":
            continue
        group = ("y" if d[0] in "yY" else "ae") + ("_end" if len(d) == 2 else "_any")
        ends[group].append(chr(cp))
    letter_after = r"(?![^\W\d_])"

    def chars(key: str) -> str:
        return "[" + re.escape("".join(ends[key])) + "]" if ends[key] else "(?!)"

    # a leading character class lets the regex engine skip fast; the NFD regex's lookbehind
    # (no "q"/"g" before) is checked in swap
    tone_re = re.compile(
        f"[oO](?:{chars('ae_end')}{letter_after}|{chars('ae_any')})"
        f"|[uU](?:{chars('y_end')}{letter_after}|{chars('y_any')})"
    )
    moved = {
        f + c: normalize_tones(f + c)
        for firsts, key in (("oO", "ae"), ("uU", "y"))
        for f in firsts
        for c in ends[key + "_end"] + ends[key + "_any"]
    }
    return _Tables(tone_re, moved, _Stripped())
