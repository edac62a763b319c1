"""Safe, forgiving XML parsing for feeds and sitemaps from the open web.

Safe: a document whose DOCTYPE declares entities (billion laughs, XXE) is refused before any
parser sees it, and the parser itself never resolves entities, loads a DTD or touches the network.

Forgiving, because real feeds are broken in the same few ways:

- an encoding declaration that lies (vietnambiz declares ``utf-16`` and sends UTF-8);
- whitespace or a BOM before ``<?xml``;
- a bare ``&`` in a link (``?a=1&b=2``) and HTML entities (``&nbsp;``) that XML does not define;
- truncation: lxml's recover mode keeps what was complete.

``parse_xml`` returns the root element (and whether the document was complete) or raises
DiscoveryError with the document's URL.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from html.entities import name2codepoint
from typing import Any

from lxml import etree

from scraper.charset import normalize_label, sniff_bom
from scraper.errors import DiscoveryError

__all__ = ["XmlDocument", "local_name", "parse_xml", "to_utf8_document"]

_DOCTYPE_RE = re.compile(rb"<!DOCTYPE", re.IGNORECASE)
_ENTITY_RE = re.compile(rb"<!ENTITY", re.IGNORECASE)
_DECL_RE = re.compile(rb"^<\?xml[^>]*?\?>")
_DECL_ENCODING_RE = re.compile(rb"""(encoding\s*=\s*)(["'])([A-Za-z0-9._-]+)\2""")
# Outside CDATA sections, a "&" that does not start a character or entity reference is escaped,
# and HTML named entities become numeric references.
_AMP_RE = re.compile(rb"&(?:(#[0-9]+|#[xX][0-9a-fA-F]+)|([A-Za-z][A-Za-z0-9]*))?;?")
_CDATA_START = b"<![CDATA["
_CDATA_END = b"]]>"
_XML_ENTITIES = frozenset({b"amp", b"lt", b"gt", b"quot", b"apos"})

# How UTF-16/32 without a BOM look: "<" with NUL bytes beside it (longest patterns first).
_NUL_PATTERNS: tuple[tuple[bytes, str], ...] = (
    (b"<\x00\x00\x00", "utf-32-le"),
    (b"\x00\x00\x00<", "utf-32-be"),
    (b"<\x00", "utf-16-le"),
    (b"\x00<", "utf-16-be"),
)


def children(element: Any) -> Iterator[Any]:
    """The element children of ``element`` (comments and processing instructions skipped)."""
    for child in element:
        if isinstance(child.tag, str):
            yield child


def local_name(element: Any) -> str:
    """Tag name without namespace ("" for comments and processing instructions).

    Feeds get namespaces wrong often enough that matching on local names is the only robust way.
    """
    tag = element.tag
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def to_utf8_document(data: bytes) -> bytes:
    """``data`` decoded the way its bytes say and re-encoded as UTF-8, starting at the first ``<``.

    A BOM or a NUL pattern (UTF-16/32) wins over the declaration; a declared UTF-16/32 encoding
    on NUL-free bytes is a lie (vietnambiz) and read as UTF-8; an unknown encoding is read as
    UTF-8. The declaration is rewritten to say utf-8, so every later check sees the real text
    (an entity hidden in UTF-7 or UTF-16 cannot slip past the DOCTYPE check).
    """
    codec = sniff_bom(data)
    if codec is not None:
        data = data[len("\ufeff".encode(codec)) :]
    else:
        head = data[:4]
        for pattern, name in _NUL_PATTERNS:
            if head.startswith(pattern):
                codec = name
                break
    if codec is None:
        m = _DECL_RE.match(data.lstrip())
        enc = _DECL_ENCODING_RE.search(m.group(0)) if m else None
        declared = enc.group(3).decode("ascii").lower() if enc else "utf-8"
        codec = normalize_label(declared) or "utf-8"
        if codec.startswith(("utf-16", "utf-32")):
            codec = "utf-8"
    text = data.decode(codec, errors="replace").lstrip()
    out = text.encode("utf-8", errors="replace")
    m = _DECL_RE.match(out)
    if m:
        decl = _DECL_ENCODING_RE.sub(
            lambda e: e.group(1) + e.group(2) + b"utf-8" + e.group(2), m.group(0)
        )
        out = decl + out[m.end() :]
    return out


def _fix_reference(m: re.Match[bytes]) -> bytes:
    whole, number, name = m.group(0), m.group(1), m.group(2)
    terminated = whole.endswith(b";")
    if number is not None:
        return whole if terminated else b"&amp;" + whole[1:]
    if name is not None and terminated:
        if name in _XML_ENTITIES:
            return whole
        code = name2codepoint.get(name.decode("ascii"))
        if code is not None:
            return b"&#%d;" % code
    return b"&amp;" + whole[1:]


def _fix_entities(data: bytes) -> bytes:
    """Escape stray ``&`` and translate HTML entities, leaving CDATA sections alone.

    A plain loop with ``find`` rather than one regex, so that many unterminated CDATA sections
    cannot make it quadratic.
    """
    if b"&" not in data:
        return data
    out: list[bytes] = []
    pos = 0
    while True:
        start = data.find(_CDATA_START, pos)
        if start < 0:
            out.append(_AMP_RE.sub(_fix_reference, data[pos:]))
            break
        out.append(_AMP_RE.sub(_fix_reference, data[pos:start]))
        end = data.find(_CDATA_END, start + len(_CDATA_START))
        if end < 0:
            out.append(data[start:])
            break
        out.append(data[start : end + len(_CDATA_END)])
        pos = end + len(_CDATA_END)
    return b"".join(out)


def _parser() -> etree.XMLParser:
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        huge_tree=False,
        recover=True,
    )


@dataclass(frozen=True)
class XmlDocument:
    """A parsed document. ``complete`` is False when the root's end tag is missing (truncated
    download): recover mode then closes the last element itself, so its text may be cut."""

    root: Any
    complete: bool


def parse_xml(data: bytes, *, url: str) -> XmlDocument:
    """The parsed ``data``; DiscoveryError when it is empty, hostile or not XML."""
    data = to_utf8_document(data)
    if not data:
        raise DiscoveryError("empty document", url=url)
    if not data.startswith(b"<"):
        raise DiscoveryError("not XML: does not start with '<'", url=url)
    doctype = _DOCTYPE_RE.search(data)
    if doctype and _ENTITY_RE.search(data, doctype.end()):
        raise DiscoveryError("refused: DOCTYPE declares entities", url=url)
    data = _fix_entities(data)
    try:
        root = etree.fromstring(data, _parser())
    except (etree.XMLSyntaxError, ValueError) as exc:
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise DiscoveryError(f"not XML: {reason}", url=url) from exc
    if root is None:
        raise DiscoveryError("not XML: no root element", url=url)
    end_tag = re.compile(
        rb"</(?:[A-Za-z0-9._-]+:)?" + re.escape(local_name(root).encode()) + rb"\s*>"
    )
    return XmlDocument(root=root, complete=bool(end_tag.search(data, max(0, len(data) - 4096))))
