"""Frontier policy, pure: every change of a URL's state and next due time is decided here.

Each function takes what happened (and ``now``) and returns a ``Step``: the URL's next
``UrlState`` and when it is due again (``None``: never, unless discovered anew). Nothing here
reads a clock or the database; ``jobs.crawl`` applies the step with ``storage.frontier``.

    fetched article        → FETCHED,      due at the next recrawl point (1 h, 6 h, 24 h, 7 d
                                           after publication), then never, unless a sitemap's
                                           lastmod says it changed (frontier.refetch_changed)
    304 Not Modified       → NOT_MODIFIED, same recrawl schedule
    no article body        → NOT_ARTICLE,  never
    404 / 410              → GONE,         never
    robots.txt / guard     → BLOCKED,      never (it was never requested)
    transient failure      → FAILED,       due after 1 h, 6 h, 24 h, 3 d ... (``park_delay``);
                             PARKED,       due in 7 d once it failed MAX_ATTEMPTS passes in a row
    permanent failure      → FAILED,       never
    redirect to a domain   → MOVED,        article: due in 7 d (followed then, if the site's
      the site is not                      config changed), source: when discovery next runs it
      followed to
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from scraper.fetch.retry import RETRY_STATUSES
from storage.models import UrlState

#: frontier priorities: a URL from a feed is news, one from a listing page may be older
PRIORITY = {"feed": 30, "sitemap": 20, "listing": 20, "backfill": 10}
#: a claimed URL comes due again after this if its worker dies
LEASE = timedelta(minutes=15)
#: after this many failed passes in a row a URL is parked instead of retried soon
MAX_ATTEMPTS = 5
PARKED_FOR = timedelta(days=7)
#: how long a URL that keeps failing waits before its next try (Heritrix-style long spacing
#: instead of hammering a broken page every pass); the last step repeats
PARK_STEPS = (
    timedelta(hours=1),
    timedelta(hours=6),
    timedelta(hours=24),
    timedelta(days=3),
    timedelta(days=7),
)
#: a URL that redirects to a domain the site is not followed to is asked again after this
MOVED_RECHECK = timedelta(days=7)
#: recrawl an article this long after publication, to catch edits (then never again)
RECRAWL_AFTER = (timedelta(hours=1), timedelta(hours=6), timedelta(hours=24), timedelta(days=7))


@dataclass(frozen=True)
class Step:
    """A URL's next state and due time (None: not again)."""

    state: UrlState
    next_due: datetime | None


def park_delay(attempts: int) -> timedelta:
    """How long to wait after ``attempts`` consecutive failed passes: 1 h, 6 h, 24 h, 3 d, then
    7 d (the cap). ``attempts`` below 1 counts as 1."""
    index = min(max(attempts, 1), len(PARK_STEPS)) - 1
    return PARK_STEPS[index]


def next_recrawl(published: datetime | None, now: datetime) -> datetime | None:
    """The next point of the recrawl schedule after ``now``, or None once it is over."""
    if published is None:
        return None
    for offset in RECRAWL_AFTER:
        if published + offset > now:
            return published + offset
    return None


def lease_until(now: datetime) -> datetime:
    """When a URL claimed now comes due again if nobody records its outcome."""
    return now + LEASE


def retry_later(attempts: int, now: datetime) -> Step:
    """A transient failure after ``attempts`` earlier failed passes: retry later, or park."""
    if attempts + 1 >= MAX_ATTEMPTS:
        return Step(UrlState.PARKED, now + PARKED_FOR)
    return Step(UrlState.FAILED, now + park_delay(attempts + 1))


def after_fetch_error(*, retryable: bool, refused: bool, attempts: int, now: datetime) -> Step:
    """The fetch raised: ``refused`` means robots.txt or the address guard said no."""
    if refused and not retryable:
        return Step(UrlState.BLOCKED, None)
    if retryable:
        return retry_later(attempts, now)
    return Step(UrlState.FAILED, None)


def after_status(status: int, *, attempts: int, now: datetime) -> Step:
    """A final response that holds no article to store (an error status, or an empty 2xx/3xx)."""
    if status in (404, 410):
        return Step(UrlState.GONE, None)
    if status in RETRY_STATUSES:  # 429/5xx outlived the fetcher's own retries
        return retry_later(attempts, now)
    return Step(UrlState.FAILED, None)


def after_article(published: datetime | None, now: datetime) -> Step:
    """An article was stored (new, changed or unchanged): recrawl on its schedule."""
    return Step(UrlState.FETCHED, next_recrawl(published, now))


def after_not_modified(published: datetime | None, now: datetime) -> Step:
    return Step(UrlState.NOT_MODIFIED, next_recrawl(published, now))


def after_not_article() -> Step:
    return Step(UrlState.NOT_ARTICLE, None)


def after_crash(attempts: int, now: datetime) -> Step:
    """Storing or extracting raised something unexpected (a bug): try again later, like a
    transient failure, so a fixed bug picks the URL up again."""
    return retry_later(attempts, now)


def after_moved(*, source: bool, now: datetime) -> Step:
    """The URL redirects to another domain and the site is not followed there (jobs/domains.py):
    an article is asked again in a week (the operator may set ``follow_moves`` meanwhile), a
    feed/sitemap/listing when discovery next reads it."""
    return Step(UrlState.MOVED, None if source else now + MOVED_RECHECK)


def after_source(*, not_modified: bool) -> Step:
    """A feed, sitemap or listing page was read: due again when discovery next runs it."""
    return Step(UrlState.NOT_MODIFIED if not_modified else UrlState.FETCHED, None)
