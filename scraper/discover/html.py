"""HTML for discovery: parse a page (bytes decoded by the one charset decoder) and find the URL
its relative links resolve against."""

from __future__ import annotations

from selectolax.lexbor import LexborHTMLParser

from scraper.charset import decode_body
from scraper.extract.limits import check_html, check_size, defuse
from scraper.urls import canonicalize

__all__ = ["document_base", "parse_html"]


def parse_html(html: str | bytes) -> LexborHTMLParser:
    """Parse HTML; bytes are decoded by BOM, ``<meta charset>``, detection, then UTF-8.

    Raises HtmlTooComplexError (``scraper.extract.limits``) for a page too large or too deeply
    nested to parse in bounded time."""
    if isinstance(html, bytes):
        check_size(html)
        html = decode_body(html, None, normalize=False)
    tags = check_html(html)  # on the decoded text: what the parser reads
    return LexborHTMLParser(defuse(html, tags=tags))


def document_base(tree: LexborHTMLParser, base_url: str) -> str:
    """The URL relative links resolve against: ``<base href>`` if valid, else ``base_url``."""
    node = tree.css_first("base[href]")
    if node is not None:
        try:
            return canonicalize(node.attributes.get("href") or "", base=base_url)
        except ValueError:
            pass
    return base_url
