"""Site status, pass outcomes, reload diffs, log lines and the --http address: the pure parts."""

from __future__ import annotations

import dataclasses
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest

from jobs.config import parse_config
from jobs.httpd import parse_address
from jobs.logs import JsonFormatter, TextFormatter, redact, use_json
from jobs.reload import diff
from jobs.runs import RunStats
from jobs.status import Policy, human, is_fallback, judge, rot, stale_threshold, usual_gap
from storage.site_facts import PageOutcome, SiteFacts

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def facts(**kw: object) -> SiteFacts:
    base = SiteFacts(
        name="s", base_url="https://s.vn/", added_at=NOW - timedelta(days=30),
        last_run_at=NOW - timedelta(minutes=5), last_success_at=NOW - timedelta(minutes=5),
        error_count=0, last_error=None, failing_passes=0, idle_passes=0, articles=10,
        urls_due=0, last_article_fetch_at=NOW - timedelta(hours=1),
        last_new_article_at=NOW - timedelta(hours=1), errors_24h=0, articles_24h=3,
        articles_7d=10,
    )  # fmt: skip
    return dataclasses.replace(base, **kw)  # type: ignore[arg-type]


def hourly(n: int, every: timedelta = timedelta(hours=1)) -> tuple[datetime, ...]:
    return tuple(NOW - i * every for i in range(n))


GOOD = PageOutcome("https://s.vn/a.html", article=True, extractor="profile:s@1")


def test_a_healthy_site_is_ok_and_says_what_it_did() -> None:
    v = judge(facts(published=hourly(20)), Policy(), NOW)
    assert v.status == "ok" and v.healthy
    assert v.reason == "3 new in 24 h, 10 in 7 d; last new 1h ago"


def test_failing_after_the_configured_passes_in_a_row() -> None:
    f = facts(failing_passes=2, last_error="https://s.vn/rss: HTTP 404")
    ok = judge(f, Policy(failing_after=3), NOW)
    assert ok.status == "ok"
    # ok for now, and says how close to failing it is and why
    assert ok.reason.endswith("; 2 failing passes (failing from 3): https://s.vn/rss: HTTP 404"), (
        ok.reason
    )
    # a site that has never worked is failing from its first failing pass ('ok' with 'last
    # success never' read as healthy)
    first = dataclasses.replace(f, failing_passes=1, last_success_at=None)
    v = judge(first, Policy(), NOW)
    assert (v.status, v.reason) == (
        "failing",
        "1 failing pass, none succeeded yet: https://s.vn/rss: HTTP 404",
    )
    v = judge(f, Policy(failing_after=2), NOW)
    assert v.status == "failing" and not v.healthy
    assert v.reason == "2 failing passes in a row: https://s.vn/rss: HTTP 404"


def test_disabled_and_moved_come_first() -> None:
    f = facts(failing_passes=9)
    assert judge(f, Policy(enabled=False), NOW).status == "disabled"
    assert judge(f, Policy(enabled=False, configured=False), NOW).reason == "not configured"
    moved = judge(f, Policy(moved_to="https://new.vn/"), NOW)
    assert (moved.status, moved.reason, moved.healthy) == (
        "moved",
        "moved to https://new.vn/",
        True,
    )


def test_stale_uses_the_floor_or_the_sites_own_gap_whichever_is_longer() -> None:
    floor = Policy(stale_after=timedelta(hours=6))
    # publishes hourly: 3 x its usual gap < the 6 h floor, so the floor rules
    assert stale_threshold(facts(published=hourly(50)), floor) == timedelta(hours=6)
    f = facts(published=hourly(50), last_new_article_at=NOW - timedelta(hours=7))
    v = judge(f, floor, NOW)
    assert v.status == "stale" and v.reason == "no new article for 7h (threshold 6h)"
    # a weekly bulletin is not stale after 7 hours, nor after 10 days (3 x 7 d = 21 d)
    weekly = facts(published=hourly(10, timedelta(days=7)))
    assert stale_threshold(weekly, floor) == timedelta(days=21)
    assert (
        judge(
            dataclasses.replace(weekly, last_new_article_at=NOW - timedelta(days=10)), floor, NOW
        ).status
        == "ok"
    )


def test_a_site_that_never_gave_an_article_is_stale_from_when_it_was_added() -> None:
    f = facts(last_new_article_at=None, added_at=NOW - timedelta(days=3), articles=0)
    assert judge(f, Policy(stale_after=timedelta(days=2)), NOW).status == "stale"
    fresh = facts(last_new_article_at=None, added_at=NOW - timedelta(hours=1))
    assert judge(fresh, Policy(stale_after=timedelta(days=2)), NOW).status == "ok"


def test_usual_gap_needs_history_and_ignores_order() -> None:
    assert usual_gap(hourly(4)) is None
    times = list(hourly(30))
    times.reverse()
    assert usual_gap(times) == timedelta(hours=1)
    # one long weekend among hourly news does not become the usual gap
    spread = [*hourly(30), NOW - timedelta(days=5)]
    assert usual_gap(spread) == timedelta(hours=1)


def test_rot_counts_empty_bodies_missing_fields_and_generic_fallbacks() -> None:
    pages = [
        PageOutcome("https://s.vn/1.html", article=False),
        PageOutcome("https://s.vn/2.html", article=True, title=False, extractor="profile:s@1"),
        PageOutcome("https://s.vn/3.html", article=True, date=False, extractor="profile:s@1"),
        PageOutcome("https://s.vn/4.html", article=True, extractor="generic"),
        GOOD,
    ]
    r = rot(pages, has_profile=True)
    assert (r.pages, r.bad, r.sample) == (5, 4, "https://s.vn/1.html")
    assert dict(r.why) == {"empty body": 1, "no title": 1, "no date": 1, "generic fallback": 1}
    # without a profile of its own, a generic extraction is just how the site is read
    assert rot(pages, has_profile=False).bad == 3


def test_rotting_over_the_share_with_enough_pages() -> None:
    bad = PageOutcome("https://s.vn/x.html", article=False)
    few = facts(pages=(bad,) * 4, published=hourly(20))
    assert judge(few, Policy(), NOW).status == "ok"  # too few pages to judge
    many = facts(pages=(bad,) * 6 + (GOOD,) * 4, published=hourly(20))
    v = judge(many, Policy(rot_share=0.5), NOW)
    assert v.status == "rotting"
    assert v.reason == (
        "60% of the newest 10 article pages bad (6 empty body), e.g. https://s.vn/x.html"
    )
    assert judge(many, Policy(rot_share=0.6), NOW).status == "ok"


def test_is_fallback() -> None:
    assert is_fallback("generic", True) and is_fallback("profile:s@1+generic-fallback", True)
    assert not is_fallback("profile:s@1", True) and not is_fallback("generic", False)
    assert not is_fallback(None, True)


def test_human() -> None:
    assert human(timedelta(seconds=5)) == "5s"
    assert human(timedelta(minutes=90)) == "1h30m"
    assert human(timedelta(hours=50)) == "2d2h"
    assert human(timedelta(days=3)) == "3d"


@pytest.mark.parametrize(
    ("counts", "outcome"),
    [
        ({}, "idle"),
        ({"not_modified": 1}, "ok"),
        ({"sources": 1}, "ok"),  # a feed read with nothing new in it
        ({"errors": 1}, "failing"),  # a dead feed: fetched nothing
        ({"sources": 1, "errors": 1}, "ok"),  # one 404 article beside a good feed
        ({"not_modified": 1, "errors": 5}, "failing"),  # every article 5xx
        ({"sources": 1, "errors": 6, "not_articles": 6}, "ok"),  # answered: rot, not failure
    ],
)
def test_pass_outcome(counts: dict[str, int], outcome: str) -> None:
    assert RunStats(**counts).outcome() == outcome  # type: ignore[arg-type]


def test_reload_diff_names_added_removed_and_changed_sites() -> None:
    def config(*sites: tuple[str, str], daemon: str = "") -> str:
        blocks = "".join(
            f'[[site]]\nname = "{n}"\nbase_url = "https://{n}.vn/"\nfeeds = ["https://{n}.vn/rss"]\n'
            f'every = "{every}"\n'
            for n, every in sites
        )
        return f"[daemon]\n{daemon}\n{blocks}"

    old = parse_config(config(("a", "15m"), ("b", "15m"), ("c", "15m")))
    new = parse_config(config(("a", "15m"), ("b", "30m"), ("d", "15m")))
    d = diff(old, new)
    assert [s.name for s in d.added] == ["d"]
    assert d.removed == ("c",)
    assert [s.name for s in d.changed] == ["b"]
    assert not diff(old, old)
    # a [daemon] change reschedules every site
    slower = parse_config(config(("a", "15m"), ("b", "15m"), ("c", "15m"), daemon="batch = 5"))
    assert [s.name for s in diff(old, slower).changed] == ["a", "b", "c"]


def test_daemon_config_keys_and_ranges() -> None:
    cfg = parse_config(
        '[daemon]\nstale_after = "3d"\nfailing_after = 4\nrot_share = 0.3\nrot_window = 20\n'
        'log_stats_every = "1m"\n[[site]]\nname = "a"\nbase_url = "https://a.vn/"\n'
        'feeds = ["https://a.vn/rss"]\nstale_after = "10d"\n'
    )
    d = cfg.daemon
    assert (d.stale_after, d.failing_after, d.rot_share, d.rot_window, d.log_stats_every) == (
        3 * 86400, 4, 0.3, 20, 60,
    )  # fmt: skip
    assert cfg.sites[0].stale_after == 10 * 86400
    from scraper.errors import ConfigError

    with pytest.raises(ConfigError, match=r"daemon\.rot_share: must be a finite number"):
        parse_config("[daemon]\nrot_share = 2.0\n")


def test_passwords_never_reach_a_log_line() -> None:
    line = "cannot connect to postgresql+psycopg://vnnews:s3cr3t@db:5432/archive"
    assert redact(line) == "cannot connect to postgresql+psycopg://vnnews:***@db:5432/archive"
    assert redact("http://127.0.0.1:8080/rss.xml") == "http://127.0.0.1:8080/rss.xml"
    record = logging.LogRecord("vnnews", logging.ERROR, __file__, 1, "%s", (line,), None)
    assert "s3cr3t" not in TextFormatter().format(record)
    assert "s3cr3t" not in JsonFormatter().format(record)


def test_json_lines_carry_site_and_url() -> None:
    record = logging.LogRecord(
        "vnnews.crawl", logging.WARNING, __file__, 1, "site=%s url=%s error=%s",
        ("baolaocai", "https://baolaocai.vn/a.html", "HTTP 500"), None,
    )  # fmt: skip
    data = json.loads(JsonFormatter().format(record))
    assert data["level"] == "WARNING" and data["logger"] == "vnnews.crawl"
    assert (data["site"], data["url"]) == ("baolaocai", "https://baolaocai.vn/a.html")
    assert data["msg"] == "site=baolaocai url=https://baolaocai.vn/a.html error=HTTP 500"
    assert datetime.fromisoformat(data["time"]).tzinfo is not None
    # a message that goes on after the URL with a colon: the colon is not part of the field
    record.msg, record.args = "article=%d url=%s: no archived page", (3, "https://a.vn/b.html")
    assert json.loads(JsonFormatter().format(record))["url"] == "https://a.vn/b.html"
    assert use_json("auto", is_tty=False) and not use_json("auto", is_tty=True)
    assert use_json("json", is_tty=True) and not use_json("text", is_tty=False)


def test_http_address() -> None:
    assert parse_address("127.0.0.1:9108") == ("127.0.0.1", 9108)
    assert parse_address("[::1]:9108") == ("::1", 9108)
    for bad in ("9108", "localhost", "host:", ":80", "h:99999", "h:x"):
        with pytest.raises(ValueError, match=r"HOST:PORT|port"):
            parse_address(bad)
