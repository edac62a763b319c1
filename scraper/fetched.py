"""What a fetch returns: the final HTTP answer as data.

Apart from ``scraper.fetch.client`` (which makes it) and with no HTTP library: the crawler's
worker processes (``jobs.prepare``) receive FetchResults pickled and must not import httpx to
read them (each worker would pay ~0.2 s for it).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scraper.charset import decode_body


@dataclass(frozen=True)
class FetchResult:
    url: str  # as requested
    final_url: str  # after redirects
    status: int
    headers: dict[str, str]  # lower-case names, of the final response
    body: bytes  # content-encoding decoded, charset raw
    fetched_at: datetime  # aware UTC, from the fetcher's clock
    redirects: tuple[str, ...]  # the URL of each redirect target, in order; [-1] == final_url
    elapsed: float  # seconds from sending the final request to its last body byte
    #: a redirect target not followed because the caller's ``follow`` refused the hop: the
    #: result is then the 3xx answer itself (``final_url`` is the URL that answered it)
    held: str | None = None

    @property
    def not_modified(self) -> bool:
        return self.status == 304

    @property
    def etag(self) -> str | None:
        return self.headers.get("etag")

    @property
    def last_modified(self) -> str | None:
        return self.headers.get("last-modified")

    @property
    def content_type(self) -> str | None:
        return self.headers.get("content-type")

    def text(self) -> str:
        """The body as NFC text: BOM, header charset, <meta>, then detection."""
        return decode_body(self.body, self.content_type)
