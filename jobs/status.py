"""A site's status, judged from its facts: pure functions, no I/O.

``judge(facts, policy, now)`` turns what the archive knows about a site
(``storage.site_facts.SiteFacts``) into one of ``STATUSES`` and a one-line reason:

- ``disabled``: ``enabled = false`` in sources.toml;
- ``moved``: the site announced a new home (``moved_to``, from the moved-sites records);
- ``failing``: its last ``failing_after`` passes in a row failed (more fetch errors than good
  answers; a pass that fetched nothing is never a success);
- ``rotting``: over ``rot_share`` of its newest article pages came out without a body, a title
  or a date, or fell back from the site's profile to the generic extractor (its layout changed);
- ``stale``: no new article for longer than its usual gap (learned from the publication times of
  its newest articles) and the floor ``stale_after``;
- ``ok``: none of these.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import pairwise
from typing import Literal

from storage.site_facts import PageOutcome, SiteFacts

Status = Literal["ok", "failing", "stale", "rotting", "moved", "disabled"]
STATUSES: tuple[Status, ...] = ("ok", "failing", "stale", "rotting", "moved", "disabled")
#: the statuses that make ``vnnews health`` and ``/healthz`` fail
UNHEALTHY: frozenset[Status] = frozenset({"failing", "stale", "rotting"})

#: a site is stale after this many of its usual gaps without a new article
GAP_FACTOR = 3.0
#: the gap quantile taken as "usual": most gaps are shorter, a rare long weekend is not
GAP_QUANTILE = 0.9
#: fewer publication times than this teach nothing: the floor alone applies
MIN_HISTORY = 5
#: fewer judged pages than this say nothing about rot
ROT_MIN_PAGES = 5


@dataclass(frozen=True)
class Policy:
    """The operator's thresholds for one site (``[daemon]``, or the site's own override)."""

    enabled: bool = True
    #: False for a site in the archive that sources.toml no longer lists
    configured: bool = True
    #: the least time without a new article before a site is stale, whatever its history
    stale_after: timedelta = timedelta(days=2)
    failing_after: int = 2
    rot_share: float = 0.5
    #: the site has a profile of its own (a generic extraction is then a fallback)
    has_profile: bool = False
    moved_to: str | None = None


@dataclass(frozen=True)
class Rot:
    """Extraction yield over a site's newest article pages."""

    pages: int
    bad: int
    #: why pages were bad, with counts: empty body, no title, no date, generic fallback
    why: tuple[tuple[str, int], ...]
    sample: str | None

    @property
    def share(self) -> float:
        return self.bad / self.pages if self.pages else 0.0


@dataclass(frozen=True)
class Verdict:
    status: Status
    reason: str
    #: how long without a new article makes this site stale (the floor or its learned gap)
    stale_threshold: timedelta
    rot: Rot

    @property
    def healthy(self) -> bool:
        return self.status not in UNHEALTHY


def is_fallback(extractor: str | None, has_profile: bool) -> bool:
    """A page of a site with a profile that the generic extractor read instead: the profile's
    selectors found nothing (or much less than the generic one did)."""
    if not extractor or not has_profile:
        return False
    return extractor.startswith("generic") or "fallback" in extractor


def page_problems(page: PageOutcome, has_profile: bool) -> list[str]:
    if not page.article:
        return ["empty body"]
    problems = []
    if not page.title:
        problems.append("no title")
    if not page.date:
        problems.append("no date")
    if is_fallback(page.extractor, has_profile):
        problems.append("generic fallback")
    return problems


def rot(pages: Sequence[PageOutcome], has_profile: bool) -> Rot:
    counts: dict[str, int] = {}
    bad, sample = 0, None
    for page in pages:
        problems = page_problems(page, has_profile)
        if problems:
            bad += 1
            sample = sample or page.url
        for p in problems:
            counts[p] = counts.get(p, 0) + 1
    why = tuple(sorted(counts.items(), key=lambda kv: (-kv[1], kv[0])))
    return Rot(len(pages), bad, why, sample)


def usual_gap(published: Sequence[datetime]) -> timedelta | None:
    """The site's usual time between two articles: a high quantile of the gaps between its
    newest publication times (any order). None with too little history."""
    times = sorted(published)
    if len(times) < MIN_HISTORY:
        return None
    gaps = sorted(b - a for a, b in pairwise(times))
    return gaps[min(len(gaps) - 1, int(GAP_QUANTILE * len(gaps)))]


def stale_threshold(facts: SiteFacts, policy: Policy) -> timedelta:
    gap = usual_gap(facts.published)
    learned = gap * GAP_FACTOR if gap is not None else timedelta(0)
    return max(policy.stale_after, learned)


def judge(facts: SiteFacts, policy: Policy, now: datetime) -> Verdict:
    """The site's status and why, in order of what an operator must act on first."""
    threshold = stale_threshold(facts, policy)
    yield_ = rot(facts.pages, policy.has_profile)

    def verdict(status: Status, reason: str) -> Verdict:
        return Verdict(status, reason, threshold, yield_)

    if not policy.enabled:
        why = "enabled = false in the configuration" if policy.configured else "not configured"
        return verdict("disabled", why)
    if policy.moved_to:
        return verdict("moved", f"moved to {policy.moved_to}")
    # a site that has never worked earns no grace: its first failing pass makes it failing
    never = facts.last_success_at is None
    if facts.failing_passes >= (1 if never else policy.failing_after):
        last = f": {facts.last_error}" if facts.last_error else ""
        n = facts.failing_passes
        why = ", none succeeded yet" if never else " in a row"
        return verdict("failing", f"{n} failing pass{'es' if n > 1 else ''}{why}{last}")
    if yield_.pages >= ROT_MIN_PAGES and yield_.share > policy.rot_share:
        why = ", ".join(f"{n} {what}" for what, n in yield_.why)
        return verdict(
            "rotting",
            f"{yield_.share:.0%} of the newest {yield_.pages} article pages bad ({why}), "
            f"e.g. {yield_.sample}",
        )
    # a site that never gave a new article is judged from when it was added
    since = facts.last_new_article_at or facts.added_at
    if now - since > threshold:
        return verdict(
            "stale", f"no new article for {human(now - since)} (threshold {human(threshold)})"
        )
    if facts.last_run_at is None:
        return verdict("ok", "not run yet")
    return verdict("ok", _ok_reason(facts, policy, now))


def _ok_reason(facts: SiteFacts, policy: Policy, now: datetime) -> str:
    parts = [f"{facts.articles_24h} new in 24 h, {facts.articles_7d} in 7 d"]
    if facts.last_new_article_at is not None:
        parts.append(f"last new {human(now - facts.last_new_article_at)} ago")
    if facts.failing_passes:
        # ok for now: a site is failing after ``failing_after`` passes in a row, not one
        n = facts.failing_passes
        last = f": {facts.last_error}" if facts.last_error else ""
        parts.append(
            f"{n} failing pass{'es' if n > 1 else ''} (failing from {policy.failing_after}){last}"
        )
    return "; ".join(parts)


def human(delta: timedelta) -> str:
    """``timedelta(hours=50)`` → ``"2d2h"``; whole minutes below an hour."""
    seconds = max(0, int(delta.total_seconds()))
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    if days:
        return f"{days}d{hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h{minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{seconds}s"
