"""The one exception tree of vnnews.

    VnnewsError
    ├── ConfigError          bad sources.toml / CLI input
    ├── FetchError           anything between a URL and its bytes
    │   ├── HostUnreachableError  DNS failure, connection refused: the whole host is down
    │   ├── BlockedAddressError   private/loopback/... address or non-http(s) scheme
    │   ├── RobotsDisallowedError robots.txt forbids the URL
    │   ├── TooManyRedirectsError redirect cap or loop
    │   ├── BadRedirectError      a redirect Location that is not a fetchable http(s) URL
    │   ├── BodyTooLargeError     body or decompressed body over the cap
    │   └── ContentTypeError      a content type we do not archive
    ├── DiscoveryError       a feed, sitemap or listing page we cannot read
    ├── ExtractError         HTML we cannot turn into an Article
    │   ├── HtmlTooComplexError   too large or nested too deep to parse in bounded time
    │   └── NotAnArticleError     HTML without an article (a listing): ``extract.is_article``
    └── StorageError         the database refused or is unreachable
        └── DiskFullError         its disk is full: every write fails until there is room

Library errors (httpx, SQLAlchemy, lxml) are translated once, at the module that calls the
library, with ``raise ... from exc``. Every error carries the URL it concerns where there is one,
so the per-URL job loop can log and record it.
"""

from __future__ import annotations


class VnnewsError(Exception):
    """Base class: every error vnnews raises on purpose."""

    def __init__(self, message: str, *, url: str | None = None) -> None:
        super().__init__(message)
        self.url = url

    def __str__(self) -> str:
        msg = super().__str__()
        if self.url and self.url not in msg:
            return f"{msg} ({self.url})"
        return msg


class ConfigError(VnnewsError):
    """Invalid configuration; the message names the file and the key."""


class FetchError(VnnewsError):
    """The URL could not be fetched. ``retryable`` tells the frontier whether to try again."""

    retryable: bool = True


class HostUnreachableError(FetchError):
    """The host cannot be reached at all (DNS, refused connection): its other URLs will fail too."""


class BlockedAddressError(FetchError):
    retryable = False


class RobotsDisallowedError(FetchError):
    retryable = False


class TooManyRedirectsError(FetchError):
    retryable = False


class BadRedirectError(FetchError):
    """The server redirected to something that is not a fetchable http(s) URL."""

    retryable = False


class BodyTooLargeError(FetchError):
    retryable = False


class ContentTypeError(FetchError):
    retryable = False


class DiscoveryError(VnnewsError):
    """A feed, sitemap or listing page that cannot be read at all."""


class ExtractError(VnnewsError):
    """The page cannot be turned into an article (empty, not HTML, no body)."""


class HtmlTooComplexError(ExtractError):
    """The page is larger or nested deeper than a parser can take in bounded time."""


#: how a page without an article is named (``NotAnArticleError``'s message starts with it;
#: the crawl summary tells such lines from errors by it)
NOT_AN_ARTICLE = "not an article"


class NotAnArticleError(ExtractError):
    """The page is HTML but holds no article: a listing, home or section page
    (``scraper.extract.is_article`` is false)."""


class StorageError(VnnewsError):
    """The database failed."""


class DiskFullError(StorageError):
    """The database's disk (or its size limit) is full: nothing can be written until there is
    room. Not a site's fault: the daemon pauses every pass and tries again later."""


def reason(exc: BaseException) -> str:
    """One line: the error's message without the URL (the log line already names it)."""
    text = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    url = getattr(exc, "url", None)
    if url:
        text = text.replace(f" ({url})", "")
    return text
