"""The folded words that search matches (``articles.search_text``): lower-case, one tone-mark
convention, no diacritics, no punctuation. Pure, with no database library: the crawler's
worker processes compute it (``storage.keys``); ``storage.search`` folds queries with it.
"""

from __future__ import annotations

import re

from scraper.vietnamese import fold_key, strip_diacritics

#: letters and digits: "_" is a word character to ``re`` but a separator to FTS5's unicode61,
#: so "lao_dong" must fold to "lao dong" for SQLite and PostgreSQL to find the same articles
WORD_RE = re.compile(r"[^\W_]+")


def search_key(*parts: str | None) -> str:
    """The folded words that search matches: lower-case, no diacritics, no punctuation."""
    return folded_search_key(fold_key(" ".join(p for p in parts if p)))


def folded_search_key(*folded: str) -> str:
    """``search_key`` of parts already folded one by one (``fold_key``): the same key, since
    folding works within words and a space between parts is a boundary either way (the store
    folds the title and text once for both this key and the content hash)."""
    return " ".join(WORD_RE.findall(strip_diacritics(" ".join(folded))))
