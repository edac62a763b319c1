"""Retry policy: pure functions, no clock, no network."""

from __future__ import annotations

import random
import socket
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from scraper.fetch.retry import (
    RETRY_STATUSES,
    host_pause,
    is_retryable_error,
    parse_retry_after,
    retry_delay,
)

NOW = datetime(2026, 9, 5, 12, 0, tzinfo=UTC)
REQ = httpx.Request("GET", "http://news.test/")


def delay(**kwargs: Any) -> float | None:
    args: dict[str, Any] = {
        "attempt": 1,
        "max_retries": 2,
        "status": None,
        "error": None,
        "retry_after": None,
        "now": NOW,
        "base": 1.0,
        "cap": 60.0,
        "retry_after_cap": 600.0,
        "rng": random.Random(0),
    }
    args.update(kwargs)
    return retry_delay(**args)


@pytest.mark.parametrize("status", sorted(RETRY_STATUSES))
def test_transient_statuses_retried(status: int) -> None:
    got = delay(status=status)
    assert got is not None and 0.0 <= got <= 1.0


@pytest.mark.parametrize("status", [200, 301, 304, 400, 401, 403, 404, 410, 451, 501])
def test_other_statuses_not_retried(status: int) -> None:
    assert delay(status=status) is None


@pytest.mark.parametrize(
    "error",
    [
        httpx.ConnectError("refused", request=REQ),
        httpx.ConnectTimeout("slow", request=REQ),
        httpx.ReadTimeout("slow", request=REQ),
        httpx.ReadError("reset", request=REQ),
        httpx.RemoteProtocolError("peer closed connection", request=REQ),
        TimeoutError(),
        ConnectionResetError(),
        socket.gaierror(-3, "Temporary failure in name resolution"),
    ],
)
def test_transport_errors_retryable_but_never_inline(error: BaseException) -> None:
    assert is_retryable_error(error)  # a later pass tries again (jobs.revisit)
    assert delay(error=error) is None  # never within the fetch: one timeout per pass at most


@pytest.mark.parametrize(
    "error",
    [
        httpx.UnsupportedProtocol("ftp", request=REQ),
        httpx.LocalProtocolError("bad"),
        ValueError("x"),
    ],
)
def test_programming_errors_not_retried(error: BaseException) -> None:
    assert delay(error=error) is None


def test_attempts_bounded_by_max_retries() -> None:
    assert delay(status=503, attempt=2, max_retries=2) is not None
    assert delay(status=503, attempt=3, max_retries=2) is None
    assert delay(status=503, attempt=1, max_retries=0) is None


def test_exponential_ceiling_and_cap() -> None:
    rng = random.Random(1)
    for attempt, ceiling in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (10, 60.0)]:
        got = [delay(status=500, attempt=attempt, max_retries=20, rng=rng) for _ in range(200)]
        assert all(g is not None and 0.0 <= g <= ceiling for g in got)
        # full jitter spreads over the whole range, not a fixed value
        assert max(g for g in got if g is not None) > ceiling * 0.8


def test_retry_after_seconds_and_date() -> None:
    assert delay(status=503, retry_after="120") == 120.0
    assert delay(status=429, retry_after="Sat, 05 Sep 2026 12:00:30 GMT") == 30.0
    # the header wins over the backoff but only up to the cap: beyond it, give the status back
    assert delay(status=503, retry_after="3600", retry_after_cap=600.0) is None
    # unreadable header: ordinary backoff
    got = delay(status=503, retry_after="soon")
    assert got is not None and got <= 1.0


def test_parse_retry_after() -> None:
    assert parse_retry_after(None, now=NOW) is None
    assert parse_retry_after("", now=NOW) is None
    assert parse_retry_after("0", now=NOW) == 0.0
    assert parse_retry_after(" 42 ", now=NOW) == 42.0
    assert parse_retry_after("-5", now=NOW) is None
    assert parse_retry_after("Sat, 05 Sep 2026 11:00:00 GMT", now=NOW) == 0.0  # in the past
    assert parse_retry_after("Sat, 05 Sep 2026 13:00:00 GMT", now=NOW) == 3600.0
    assert parse_retry_after("tomorrow", now=NOW) is None


@given(st.text(max_size=40))
def test_parse_retry_after_never_crashes(value: str) -> None:
    got = parse_retry_after(value, now=NOW)
    assert got is None or got >= 0.0


@given(
    attempt=st.integers(1, 50),
    status=st.sampled_from(sorted(RETRY_STATUSES)),
    base=st.floats(0.0, 10.0),
    cap=st.floats(0.0, 120.0),
    seed=st.integers(0, 2**32),
)
def test_backoff_within_bounds(
    attempt: int, status: int, base: float, cap: float, seed: int
) -> None:
    got = delay(
        attempt=attempt, max_retries=50, status=status, base=base, cap=cap, rng=random.Random(seed)
    )
    assert got is not None and 0.0 <= got <= cap


@pytest.mark.parametrize(
    ("status", "retry_after", "attempt", "expected"),
    [
        (429, None, 1, 1.0),  # busy host, no Retry-After: the backoff ceiling, no jitter
        (503, None, 3, 4.0),
        (503, "120", 1, 120.0),  # the server's wish, for the whole host
        (500, "7", 1, 7.0),
        (503, "86400", 1, 600.0),  # capped: a day-long pause would hold a daemon
        (500, None, 1, 0.0),  # a broken URL, not a busy host
        (200, "30", 1, 0.0),
        (404, None, 1, 0.0),
    ],
)
def test_host_pause(status: int, retry_after: str | None, attempt: int, expected: float) -> None:
    got = host_pause(
        attempt=attempt, status=status, retry_after=retry_after, now=NOW, base=1.0, cap=600.0
    )
    assert got == expected
