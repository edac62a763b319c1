"""Retry policy: pure decisions about whether and when to try a URL again.

Nothing here sleeps, fetches or reads a clock: the fetcher passes ``now`` and a seeded
``random.Random`` in, so every decision is a plain function call in the tests.

- ``retry_delay`` — inside one fetch: retry a transient *status* (408/425/429/5xx) after a short
  exponential backoff with full jitter (AWS "Exponential Backoff and Jitter"), or after the
  server's ``Retry-After`` when that is short (at most ``retry_after_cap``, the fetcher passes
  ``max_delay``). Defaults follow Scrapy's ``RETRY_TIMES = 2``.
- Transport failures (timeouts, resets, refused connections, DNS) are never retried inline: one
  such URL would hold its site for (retries + 1) x the timeout. They are ``retryable`` errors and
  the frontier tries the URL again in a later pass (``jobs.revisit.retry_later``), Heritrix's way.
- ``host_pause`` — a 429/503 or a ``Retry-After`` says the *host* is busy: how long every request
  to it waits (``Politeness.pause``), capped.

Across fetches, when the frontier tries a URL again is ``jobs.revisit``'s decision.
"""

from __future__ import annotations

import random
from datetime import datetime

import httpx

from scraper.dates import parse_rfc822

# Request Timeout, Too Early, Too Many Requests, and the transient 5xx
RETRY_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})

# Statuses that say the host (not the URL) is overloaded: they pause the whole host
HOST_BUSY_STATUSES = frozenset({429, 503})

# Transport failures worth another try in a later pass: connect errors, timeouts, resets,
# truncated bodies, DNS failures (socket.gaierror is an OSError). Invalid URLs and protocol
# misuse are not here.
RETRY_ERRORS: tuple[type[BaseException], ...] = (
    httpx.TimeoutException,
    httpx.NetworkError,
    httpx.RemoteProtocolError,
    TimeoutError,
    OSError,
)


def parse_retry_after(value: str | None, *, now: datetime) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delta-seconds or an HTTP date.

    A date in the past gives 0.0. Absent or unreadable values give None.
    """
    if value is None:
        return None
    value = value.strip()
    if not value:
        return None
    if value.isascii() and value.isdigit():  # "²".isdigit() is True too, and int() refuses it
        return float(int(value))
    when = parse_rfc822(value)
    if when is None:
        return None
    return max(0.0, (when - now).total_seconds())


def is_retryable_error(error: BaseException) -> bool:
    return isinstance(error, RETRY_ERRORS)


def backoff(*, attempt: int, base: float, cap: float, rng: random.Random) -> float:
    """Full jitter: uniform in [0, min(cap, base * 2**(attempt-1))]."""
    ceiling = min(cap, base * (2.0 ** max(0, attempt - 1)))
    return rng.uniform(0.0, ceiling)


def retry_delay(
    *,
    attempt: int,
    max_retries: int,
    status: int | None,
    error: BaseException | None,
    retry_after: str | None,
    now: datetime,
    base: float,
    cap: float,
    retry_after_cap: float,
    rng: random.Random,
) -> float | None:
    """Seconds to wait before the next attempt, or None: do not retry.

    ``attempt`` counts the attempts made so far (1 after the first request); at most
    ``max_retries`` retries follow the first attempt. Retried: statuses in ``RETRY_STATUSES``.
    A transport ``error`` is never retried here (a later pass does it: see the module
    docstring). A ``Retry-After`` on the response wins over the backoff; one longer than
    ``retry_after_cap`` means no retry now: the server asked for more patience than one fetch
    should hold its site for, so the status goes back to the caller (the frontier retries the
    URL later) instead of being ignored.
    """
    if attempt > max_retries or error is not None:
        return None
    if status is None or status not in RETRY_STATUSES:
        return None
    asked = parse_retry_after(retry_after, now=now)
    if asked is not None:
        return asked if asked <= retry_after_cap else None
    return backoff(attempt=attempt, base=base, cap=cap, rng=rng)


def host_pause(
    *, attempt: int, status: int, retry_after: str | None, now: datetime, base: float, cap: float
) -> float:
    """Seconds during which no request may go to the host after this answer (0: none).

    A ``Retry-After`` on a transient status is the server's wish for the whole host; a 429 or
    503 without one pauses the host for the backoff ceiling of this attempt (``base x
    2**(attempt-1)``, no jitter). Both are capped at ``cap``: a server asking for a day does not
    hold a daemon for a day (its URLs come back in a later pass). Pure.
    """
    if status not in RETRY_STATUSES:
        return 0.0
    asked = parse_retry_after(retry_after, now=now)
    if asked is not None:
        return min(asked, cap)
    if status in HOST_BUSY_STATUSES:
        return min(cap, base * (2.0 ** max(0, attempt - 1)))
    return 0.0
