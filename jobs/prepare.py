"""The CPU work of one fetched page, in one pure function a worker process can run.

Decode, extract, fold and hash the article (``storage.keys.article_keys``), compress and hash the
raw body: everything ``Crawler._store`` needs before its transaction, computed off the event
loop (``jobs.cpupool``) so fetching goes on meanwhile and a second core is used. Its inputs and
output pickle (a FetchResult, a SiteProfile, dataclasses of text). Its imports stay clear of
the database and HTTP libraries: the pool's forkserver imports this module, and every worker
forked from it, once per crawl (``tests/jobs/test_prepare.py`` holds them out).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from scraper.charset import composed_utf8
from scraper.errors import NotAnArticleError, VnnewsError, reason
from scraper.extract import extract_article, require_article
from scraper.fetched import FetchResult
from scraper.notices import looks_like_notice
from scraper.profiles import SiteProfile
from scraper.types import Article
from storage.keys import ArticleKeys, article_keys
from storage.packing import PackedBody, pack_body


@dataclass(frozen=True)
class Prepared:
    """What the store transaction writes of a page, computed beforehand."""

    #: the raw body as stored (None for a 304 or an empty body)
    packed: PackedBody | None
    #: the article of a 200 page, or None and ``error`` says why
    article: Article | None = None
    error: str | None = None
    #: what the page is instead of an article (an ``article_events`` kind): notice, no_body
    event: str = "no_body"
    keys: ArticleKeys | None = None


def prepare(
    result: FetchResult, profile: SiteProfile | None, discovered_date: datetime | None
) -> Prepared:
    """Everything CPU-bound about one fetched page. Pure; any exception is the caller's.
    ``profile`` is the one of the URL the page was served from (``jobs.domains.page_profile``)."""
    body = result.body if result.status != 304 else b""
    packed = pack_body(body) if body else None
    if result.status != 200:
        return Prepared(packed)
    article, error = extract(result, profile, discovered_date)
    if article is None:
        return Prepared(packed, error=error)
    notice = looks_like_notice(article.title, article.text)
    if notice is not None:  # "Báo đã sáp nhập...": the archived article must not become this
        return Prepared(packed, error=notice, event="notice")
    return Prepared(packed, article, keys=article_keys(article))


def page_input(result: FetchResult) -> bytes | str:
    """What the extractor parses: the body as UTF-8 bytes with its decomposed letters composed
    (``charset.composed_utf8``), else the decoded text. Decoding a page to NFC text costs about
    as much as extracting it, for the same article."""
    composed = composed_utf8(result.body, result.content_type)
    return result.text() if composed is None else composed


def extract(
    result: FetchResult, profile: SiteProfile | None, discovered_date: datetime | None
) -> tuple[Article | None, str | None]:
    """The article of a 200 page, or None and why (``require_article``: the rule ``vnnews extract``
    applies too). The feed or sitemap date helps a dateline printed without a year."""
    try:
        article = extract_article(
            page_input(result), result.final_url, profile, fallback_date=discovered_date
        )
    except VnnewsError as exc:
        return None, reason(exc)
    try:
        return require_article(article), None
    except NotAnArticleError as exc:  # the words ``vnnews extract`` says it in
        return None, reason(exc)
