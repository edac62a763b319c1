"""Bytes to text for HTML pages: BOM, declared charset, UTF-8 check, then detection.

A page's declared charset is often wrong (copied templates, proxies), while valid UTF-8 with
non-ASCII bytes is almost never an accident, so UTF-8 validity beats a declaration. Vietnamese
legacy pages use windows-1258, whose tone marks are combining characters: the result is NFC.
"""

from __future__ import annotations

import codecs
import re
import unicodedata

from charset_normalizer import from_bytes

_META_CHARSET_RE = re.compile(
    rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.IGNORECASE
)
_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
# labels pages use that Python spells differently or that WHATWG maps to a superset
_ALIASES = {
    "iso-8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "windows-1258": "cp1258",
    "x-viet-vps": "cp1258",
    "tcvn": "cp1258",
    "unicode": "utf-8",
    "utf8": "utf-8",
}


def _codec(label: str) -> str | None:
    name = _ALIASES.get(label.lower(), label.lower())
    try:
        return codecs.lookup(name).name
    except LookupError:
        return None


def declared_charset(data: bytes) -> str | None:
    """The charset named by a ``<meta>`` in the first 4 KB, as a Python codec name."""
    m = _META_CHARSET_RE.search(data[:4096])
    return _codec(m.group(1).decode("ascii", "ignore")) if m else None


def _nfc(text: str) -> str:
    """NFC, normalising only the lines that need it (a page is mostly markup, and a newline
    never composes, so lines normalise independently). unicodedata's quick check is faster
    than a regex for combining marks, and also catches singletons such as CJK compatibility
    ideographs."""
    if unicodedata.is_normalized("NFC", text):
        return text
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if not unicodedata.is_normalized("NFC", line):
            lines[i] = unicodedata.normalize("NFC", line)
    return "\n".join(lines)


def decode_html(data: bytes | str) -> str:
    """Decode a page to NFC text. Never raises on bad bytes: undecodable ones become U+FFFD."""
    if isinstance(data, str):
        return _nfc(data)
    for bom, enc in _BOMS:
        if data.startswith(bom):
            return _nfc(data[len(bom) :].decode(enc, "replace"))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        text = None
    if text is not None:
        return _nfc(text)
    declared = declared_charset(data)
    if declared and declared not in ("utf-8", "utf-16", "utf-32"):
        try:
            return _nfc(data.decode(declared))
        except UnicodeDecodeError:
            pass
    # mostly UTF-8 with a few broken bytes is still UTF-8: count what a lenient decode loses
    lenient = data.decode("utf-8", "replace")
    if lenient.count("\ufffd") * 200 < len(data):
        return _nfc(lenient)
    best = from_bytes(data[:200_000]).best()
    if best is not None and best.encoding:
        return _nfc(data.decode(best.encoding, "replace"))
    return _nfc(lenient)
