"""What an XML document is, by the local name of its root element: a feed (RSS 2.0, Atom, RSS
1.0's ``rdf:RDF``) or a sitemap (``urlset``, ``sitemapindex``). Shared by discovery, the
extractor (which refuses such a document as no article page, without parsing it as XML) and
``vnnews probe``. No imports: the pool workers load it with the extractor."""

from __future__ import annotations

from typing import Literal

FEED_ROOTS = frozenset({"rss", "feed", "RDF"})
SITEMAP_ROOTS = frozenset({"urlset", "sitemapindex"})
#: the root element's tag name, namespace prefix allowed: group 1 the name as written
#: ("rdf:RDF"), group 2 its local name ("RDF"); a tag such as <feed-list> does not match
ROOT_PATTERN = (
    r"((?:[A-Za-z_][\w.-]*:)?(" + "|".join(sorted(FEED_ROOTS | SITEMAP_ROOTS)) + r"))(?=[\s/>])"
)

DocumentKind = Literal["feed", "sitemap"]


def document_kind(root: str) -> DocumentKind | None:
    """ "feed" or "sitemap" for the local name of a root element, else None."""
    if root in FEED_ROOTS:
        return "feed"
    if root in SITEMAP_ROOTS:
        return "sitemap"
    return None
