"""Plain data passed between the layers: what extraction returns."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any


@dataclass(frozen=True, slots=True)
class Image:
    url: str
    caption: str | None = None


@dataclass(slots=True)
class Article:
    """A cleaned article. Text fields are NFC; datetimes are timezone-aware (UTC)."""

    url: str
    canonical_url: str | None = None
    site: str | None = None
    title: str | None = None
    sapo: str | None = None
    #: body paragraphs joined by a blank line; no chrome, no captions
    text: str = ""
    published_at: datetime | None = None
    updated_at: datetime | None = None
    authors: list[str] = field(default_factory=list)
    #: photo/video credits from the byline ("Tin: X - Ảnh: Y" gives Y), kept apart from authors
    photo_credits: list[str] = field(default_factory=list)
    category: str | None = None
    tags: list[str] = field(default_factory=list)
    images: list[Image] = field(default_factory=list)
    language: str | None = None
    #: "Nguồn tin: ..." / "Nguồn: ..." credit line, kept as metadata, not in text
    source: str | None = None
    #: which extractor produced this: "profile:<name>@<version>" or "generic"
    extractor: str = "generic"

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (datetimes as ISO 8601 strings)."""
        data = asdict(self)
        for key in ("published_at", "updated_at"):
            value = getattr(self, key)
            data[key] = value.isoformat() if value else None
        return data
