"""What the archive derives from an article's text, computed once: its content hash (dedup),
search key and SimHash (near-duplicates). Pure, with no database library: the crawler computes
them in its worker processes (``jobs.prepare``); ``storage.repo`` stores them.
"""

from __future__ import annotations

from dataclasses import dataclass

from scraper.types import Article
from scraper.vietnamese import fold_key
from storage import neardup
from storage.dedup import folded_content_hash
from storage.searchkey import folded_search_key


@dataclass(frozen=True, slots=True)
class ArticleKeys:
    """What the archive derives from an article's text, computed once (by the crawler off the
    event loop: ``jobs.prepare``): its content hash, search key and SimHash."""

    digest: str
    search_text: str
    simhash: int | None


def article_keys(a: Article) -> ArticleKeys:
    # each part folded once, for both the hash and the search key (the text is most of the
    # work: 0.2 ms an article saved)
    title, text = fold_key(a.title or ""), fold_key(a.text)
    search = folded_search_key(title, fold_key(a.sapo) if a.sapo else "", text)
    return ArticleKeys(folded_content_hash(title, text), search, neardup.simhash_of_key(search))
