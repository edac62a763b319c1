"""scraper: turn URLs into articles. Pure functions from bytes to data, I/O only in ``fetch``.

``from scraper import extract_article`` is the public entry point. It is imported lazily so that
``scraper.errors`` and ``scraper.vietnamese`` stay cheap to import from ``storage``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from scraper.errors import ExtractError, VnnewsError
from scraper.types import Article, Image

if TYPE_CHECKING:
    from scraper.extract import extract_article
    from scraper.profiles import SiteProfile

__all__ = ["Article", "ExtractError", "Image", "SiteProfile", "VnnewsError", "extract_article"]


def __getattr__(name: str) -> Any:
    if name == "extract_article":
        from scraper.extract import extract_article

        return extract_article
    if name == "SiteProfile":
        from scraper.profiles import SiteProfile

        return SiteProfile
    raise AttributeError(name)
