"""Article extraction: ``extract_article(html, url, profile=None) -> Article``.

``EXTRACTOR_VERSION`` is recorded with every stored article; bump it whenever the output for
the same input changes, so re-extraction jobs know which rows are stale.
"""

from __future__ import annotations

from scraper.extract.pipeline import extract_article, extract_generic, is_article, require_article

EXTRACTOR_VERSION = "1.3.1"

__all__ = [
    "EXTRACTOR_VERSION",
    "extract_article",
    "extract_generic",
    "is_article",
    "require_article",
]
