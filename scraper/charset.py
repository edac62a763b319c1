"""Charset: fetched bytes → NFC text. The one decoder for the fetcher, the extractor and discovery.

Charset is found in the HTML standard's order, always NFC:

    BOM → Content-Type charset → <meta charset> / http-equiv / <?xml encoding?> (first 4 KB)
        → charset-normalizer detection → UTF-8 with replacement

with one shortcut before the declarations: a body with non-ASCII bytes that is valid UTF-8 is
decoded as UTF-8 (legacy single-byte text practically never is valid UTF-8, and servers that
label UTF-8 pages ``charset=iso-8859-1`` are common). A header naming UTF-16/32 is still obeyed.

A declared charset is used only if the body decodes strictly with it; a lie (a UTF-8 page
declared windows-1252, or a feed declared UTF-16 that is really UTF-8) falls through to the
next source. As in the WHATWG encoding standard, latin-1/ASCII labels mean windows-1252 and an
in-document UTF-16 label means UTF-8 (a document whose declaration we could read as ASCII is
not UTF-16). Vietnamese legacy pages (windows-1258 writes tones as combining marks) and NFD
text from Mac editors both come out NFC, so "Việt" is always the same code points.
"""

from __future__ import annotations

import codecs
import re
import unicodedata
from functools import lru_cache

from charset_normalizer import from_bytes

_BOMS = (
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF32_LE, "utf-32-le"),  # before UTF-16 LE: its BOM starts the same way
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)

# WHATWG label → what browsers actually decode
_ALIASES = {
    "iso-8859-1": "cp1252",
    "iso8859-1": "cp1252",
    "latin1": "cp1252",
    "latin-1": "cp1252",
    "l1": "cp1252",
    "us-ascii": "cp1252",
    "ascii": "cp1252",
    "x-user-defined": "cp1252",
    "unicode-1-1-utf-8": "utf-8",
    "utf8": "utf-8",
    "unicode": "utf-8",
    # Vietnamese legacy labels: windows-1258 under other names
    "windows-1258": "cp1258",
    "x-viet-vps": "cp1258",
    "tcvn": "cp1258",
}

# possessive spaces: "charset=" + 60,000 spaces in a Content-Type header took minutes
_HEADER_CHARSET_RE = re.compile(r"""charset\s*+=\s*+["']?\s*+([\w.:+-]+)""", re.IGNORECASE)
_META_RE = re.compile(rb"<meta\b[^>]*?\bcharset\s*+=\s*+[\"']?\s*+([\w.:+-]+)", re.IGNORECASE)
_XML_DECL_RE = re.compile(
    rb"""^\s*<\?xml\b[^>]*?\bencoding\s*=\s*["']([\w.:+-]+)["']""", re.IGNORECASE
)

PRESCAN_BYTES = 4096


#: Python codecs a page may not choose: no web encoding, and each fails or misreads any page
#: ("undefined" raises on every byte, "idna" on non-ASCII text; the escapes and punycode read
#: markup as code; UTF-7 smuggles markup past filters; EBCDIC, which no browser reads, turns
#: an ASCII page's every tag into other letters)
_NOT_WEB = frozenset(
    {"undefined", "idna", "punycode", "unicode-escape", "raw-unicode-escape", "utf-7"}
    | {"cp037", "cp273", "cp424", "cp500", "cp875", "cp1026", "cp1140"}
)


def normalize_label(label: str) -> str | None:
    """Python codec name for a charset label, or None if Python does not know it or it is no
    text encoding a web page can be in (``rot13``, ``base64``, ``undefined``...)."""
    label = label.strip().strip("\"'").lower()
    label = _ALIASES.get(label, label)
    try:
        info = codecs.lookup(label)
    except LookupError:
        return None
    if not info._is_text_encoding or info.name in _NOT_WEB:
        return None
    return info.name


def charset_from_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    m = _HEADER_CHARSET_RE.search(content_type)
    return m.group(1) if m else None


def sniff_bom(body: bytes) -> str | None:
    for bom, name in _BOMS:
        if body.startswith(bom):
            return name
    return None


def charset_from_document(body: bytes) -> str | None:
    """The charset an HTML ``<meta>`` or XML declaration names in the first 4 KB."""
    head = body[:PRESCAN_BYTES]
    m = _XML_DECL_RE.match(head) or _META_RE.search(head)
    return m.group(1).decode("ascii", errors="replace") if m else None


def _strict(body: bytes, codec: str | None) -> str | None:
    if codec is None:
        return None
    try:
        return body.decode(codec)
    except (UnicodeDecodeError, LookupError):
        return None


#: charset detection looks at this much of a body (it is slow, and a page's start is enough)
DETECT_BYTES = 200_000


def _detect(body: bytes) -> str:
    # mostly UTF-8 with a few broken bytes (a truncated multibyte character, a stray byte) is
    # still UTF-8: count what a lenient decode loses before asking the detector
    lenient = body.decode("utf-8", errors="replace")
    if lenient.count("\ufffd") * 200 < len(body):
        return lenient
    best = from_bytes(body[:DETECT_BYTES]).best()
    if best is not None and best.encoding:
        return body.decode(best.encoding, errors="replace")
    return lenient


def decode_body(body: bytes, content_type: str | None, *, normalize: bool = True) -> str:
    """Decode a fetched body to NFC text (see the module docstring for the order). Pure.

    ``normalize=False`` keeps the code points as written: link discovery must resolve an href
    the way a browser does, without re-composing it."""
    bom = sniff_bom(body)
    if bom is not None:
        text = _strict(body, bom)
        if text is not None:
            return _finish(text, normalize)
    header = charset_from_content_type(content_type)
    header_codec = normalize_label(header) if header else None
    if header_codec is not None and header_codec.startswith(("utf-16", "utf-32")):
        # only a header can announce BOM-less UTF-16/32 (whose ASCII is also valid UTF-8)
        text = _strict(body, header_codec)
        if text is not None:
            return _finish(text, normalize)
    if not body.isascii():
        # Non-ASCII bytes that form valid UTF-8 are UTF-8 in practice: legacy single-byte text
        # almost never does, while "charset=iso-8859-1" headers on UTF-8 pages are common.
        text = _strict(body, "utf-8")
        if text is not None:
            return _finish(text, normalize)
    text = _strict(body, header_codec)
    if text is None:
        declared = charset_from_document(body)
        codec = normalize_label(declared) if declared else None
        if codec is not None and codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
        text = _strict(body, codec)
    if text is None:
        text = _detect(body)
    return _finish(text, normalize)


#: the chunks ``utf8_composed`` decodes (cut before a "<")
UTF8_CHUNK = 16_384
#: the UTF-8 lead bytes of U+0300–U+037F: the combining diacritical marks that decomposed
#: (NFD) Latin and Vietnamese letters are written with
_COMBINING_LEADS = (b"\xcc", b"\xcd")


def utf8_composed(body: bytes) -> bool:
    """Whether ``body`` is valid UTF-8 without combining diacritical marks (U+0300–U+037F):
    such a page reads as its NFC text but for rare compatibility characters (an Ohm sign,
    another script's marks), which each output string's own normalisation covers."""
    if body.isascii():
        return True
    return not any(lead in body for lead in _COMBINING_LEADS) and _valid_utf8(body)


def _valid_utf8(body: bytes) -> bool:
    """Checked in chunks cut before a ``<``: one emoji makes CPython build the whole page as a
    4-byte-per-character str (decoding 500 KB then takes ~1 ms, not ~0.1 ms); in chunks only
    the emoji's chunk pays. An ASCII byte never sits inside a multi-byte sequence, so cutting
    there changes no verdict."""
    view = memoryview(body)
    start, size = 0, len(body)
    while start < size:
        end = body.find(b"<", start + UTF8_CHUNK) if start + UTF8_CHUNK < size else -1
        if end == -1:
            end = size
        try:
            str(view[start:end], "utf-8")
        except UnicodeDecodeError:
            return False
        start = end
    return True


def _compose(body: bytes) -> bytes:
    """Valid UTF-8 ``body`` with each stretch around a combining mark NFC-normalised: from the
    "<" before the mark to the "<" after it (exact: "<" composes with nothing, see ``nfc``).
    Decomposed letters are found by ``memchr``; the rest of the page is copied as it is."""
    out: list[bytes] = []
    pos = 0
    while True:
        at = min((i for i in (body.find(lead, pos) for lead in _COMBINING_LEADS) if i >= 0),
                 default=-1)  # fmt: skip
        if at < 0:
            break
        start = body.rfind(b"<", pos, at)
        start = pos if start < 0 else start
        end = body.find(b"<", at)
        end = len(body) if end < 0 else end
        out.append(body[pos:start])
        out.append(unicodedata.normalize("NFC", body[start:end].decode("utf-8")).encode("utf-8"))
        pos = end
    if not out:
        return body
    out.append(body[pos:])
    return b"".join(out)


def composed_utf8(body: bytes, content_type: str | None) -> bytes | None:
    """``body`` as the UTF-8 of what ``decode_body(body, content_type)`` gives (up to rare
    compatibility characters, see ``utf8_composed``), without decoding the page: the body
    itself, or with its decomposed letters composed; None when the body is not read as UTF-8
    (decode it then). lexbor parses these bytes directly.

    A BOM or a UTF-16/32 header decides otherwise; non-ASCII bytes that form valid UTF-8 are
    read as UTF-8; an ASCII body is decoded by its declared charset (header, else ``<meta>``),
    which may not be ASCII-compatible, or by detection, which may take ISO-2022 escapes for
    Japanese or Chinese.
    """
    if sniff_bom(body) is not None:
        return None
    header = charset_from_content_type(content_type)
    codec = normalize_label(header) if header else None
    if codec is not None and codec.startswith(("utf-16", "utf-32")):
        return None
    if body.isascii():
        if b"\x1b" in body:
            return None
        declared = [codec, _label(charset_from_document(body))]
        return body if all(c is None or _ascii_compatible(c) for c in declared) else None
    global _last_composed
    if body is _last_composed:
        return body
    out = body if utf8_composed(body) else _compose(body) if _valid_utf8(body) else None
    _last_composed = out
    return out


# the last composed UTF-8 returned, the same object: the crawler checks a page's bytes
# (jobs.prepare), then hands them to extract_article, which would check them again (a 350 KB
# page: 0.2 ms). Bytes are immutable, so the same object needs no second look
_last_composed: bytes | None = None


@lru_cache(maxsize=64)
def _ascii_compatible(codec: str) -> bool:
    """Whether ``codec`` reads ASCII bytes as ASCII (not UTF-7, ISO-2022-JP, EBCDIC...)."""
    ascii_bytes = bytes(range(128))
    try:
        return ascii_bytes.decode(codec) == ascii_bytes.decode("ascii")
    except (LookupError, UnicodeDecodeError):
        return False


def _label(label: str | None) -> str | None:
    return normalize_label(label) if label else None


def _finish(text: str, normalize: bool = True) -> str:
    if text.startswith("\ufeff"):
        text = text[1:]
    return nfc(text) if normalize else text


#: characters outside the ranges where every character is NFC on its own and composes with
#: nothing before it (Latin, Vietnamese, punctuation, currency, letterlike, arrows): a text
#: without one is NFC as it stands (the quick check, done by a regex: a page is mostly these)
NFC_UNSURE_RE = re.compile(
    "[^\x00-\u02ff\u1e00-\u1eff\u2002-\u206f\u20a0-\u20bf\u2100-\u2125\u2190-\u21ff]"
)


def nfc(text: str) -> str:
    """NFC, normalising only the markup-free stretches that may need it.

    A page is mostly characters that are NFC as they stand (``NFC_UNSURE_RE``); around each
    other character, the stretch from the "<" before it to the "<" after it is normalised.
    Cutting before a "<" is exact: it has combining class 0 and never composes with what
    precedes it, so NFC of the whole is the NFC of the pieces, joined."""
    out: list[str] = []
    pos = 0
    for m in NFC_UNSURE_RE.finditer(text):
        if m.start() < pos:
            continue  # in the stretch just normalised
        start = text.rfind("<", pos, m.start())
        start = pos if start < 0 else start
        end = text.find("<", m.end())
        end = len(text) if end < 0 else end
        out.append(text[pos:start])
        out.append(unicodedata.normalize("NFC", text[start:end]))
        pos = end
    if not out:
        return text
    out.append(text[pos:])
    return "".join(out)
