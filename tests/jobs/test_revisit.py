"""The frontier policy: every URL state change is a pure function of what happened and when."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from jobs import revisit
from jobs.revisit import MAX_ATTEMPTS, PARKED_FOR, park_delay
from storage.models import UrlState

NOW = datetime(2026, 3, 7, 1, 0, tzinfo=UTC)


def test_park_delay_grows_to_a_week() -> None:
    steps = [park_delay(n) for n in range(0, 9)]
    assert steps[0] == steps[1] == timedelta(hours=1)
    assert steps[2] == timedelta(hours=6) and steps[3] == timedelta(hours=24)
    assert steps == sorted(steps)
    assert steps[-1] == timedelta(days=7) == park_delay(1000)


def test_transient_failures_back_off_then_park() -> None:
    seen = [revisit.retry_later(n, NOW) for n in range(MAX_ATTEMPTS + 2)]
    assert [s.state for s in seen[: MAX_ATTEMPTS - 1]] == [UrlState.FAILED] * (MAX_ATTEMPTS - 1)
    assert seen[0].next_due == NOW + timedelta(hours=1)
    assert all(
        s.state == UrlState.PARKED and s.next_due == NOW + PARKED_FOR
        for s in seen[MAX_ATTEMPTS - 1 :]
    )


@pytest.mark.parametrize(
    ("retryable", "refused", "state", "due"),
    [
        (False, True, UrlState.BLOCKED, False),
        (True, True, UrlState.FAILED, True),  # robots.txt unreachable: try again later
        (True, False, UrlState.FAILED, True),
        (False, False, UrlState.FAILED, False),
    ],
)
def test_fetch_errors(retryable: bool, refused: bool, state: UrlState, due: bool) -> None:
    step = revisit.after_fetch_error(retryable=retryable, refused=refused, attempts=0, now=NOW)
    assert step.state == state and (step.next_due is not None) == due


@pytest.mark.parametrize(
    ("status", "state", "due"),
    [(404, UrlState.GONE, False), (410, UrlState.GONE, False), (503, UrlState.FAILED, True),
     (429, UrlState.FAILED, True), (403, UrlState.FAILED, False), (204, UrlState.FAILED, False)],
)  # fmt: skip
def test_statuses(status: int, state: UrlState, due: bool) -> None:
    step = revisit.after_status(status, attempts=0, now=NOW)
    assert step.state == state and (step.next_due is not None) == due


def test_articles_are_recrawled_on_the_publication_schedule_then_never() -> None:
    published = NOW - timedelta(minutes=30)
    assert revisit.after_article(published, NOW).next_due == published + timedelta(hours=1)
    assert revisit.after_article(
        published, NOW + timedelta(hours=2)
    ).next_due == published + timedelta(hours=6)
    assert revisit.after_article(published, NOW + timedelta(days=30)).next_due is None
    assert revisit.after_article(None, NOW).next_due is None  # no date: nothing to schedule by
    assert revisit.after_not_modified(published, NOW).state == UrlState.NOT_MODIFIED


def test_not_an_article_and_sources_are_not_revisited_by_the_frontier() -> None:
    assert revisit.after_not_article() == revisit.Step(UrlState.NOT_ARTICLE, None)
    assert revisit.after_source(not_modified=True).state == UrlState.NOT_MODIFIED
    assert revisit.after_source(not_modified=False).state == UrlState.FETCHED


@given(attempts=st.integers(min_value=0, max_value=10_000))
def test_a_crash_is_always_retried_later_never_now(attempts: int) -> None:
    step = revisit.after_crash(attempts, NOW)
    assert step.next_due is not None and step.next_due >= NOW + timedelta(hours=1)


def test_lease() -> None:
    assert revisit.lease_until(NOW) == NOW + revisit.LEASE
