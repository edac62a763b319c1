"""Politeness: the pure delay rule, bounded per-host state, and one request at a time per host."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest

from scraper.errors import FetchError
from scraper.fetch.client import Fetcher, FetchSettings
from scraper.fetch.politeness import Politeness, next_delay
from tests.support.faults import FakeTime, FaultServer, resolver_to


@pytest.fixture
def srv() -> Iterator[FaultServer]:
    with FaultServer() as server:
        yield server


@pytest.mark.parametrize(
    ("kwargs", "expected"),
    [
        ({}, 2.0),
        ({"crawl_delay": 5.0}, 5.0),
        ({"crawl_delay": 1.0}, 2.0),  # never below min_delay
        ({"crawl_delay": 1000.0}, 300.0),  # capped
        ({"delay_factor": 5.0, "last_elapsed": 1.5}, 7.5),  # Heritrix delayFactor
        ({"delay_factor": 5.0, "last_elapsed": None}, 2.0),
        ({"min_delay": -1.0}, 0.0),
        # the response-time part is capped (a 30 s timeout must not mean a 150 s wait) ...
        ({"delay_factor": 5.0, "last_elapsed": 30.0, "max_delay": 30.0}, 30.0),
        ({"delay_factor": 5.0, "last_elapsed": 30.0, "max_delay": 0.0}, 2.0),
        # ... but min_delay and Crawl-delay are the operator's and the site's wishes
        ({"min_delay": 60.0, "delay_factor": 5.0, "last_elapsed": 30.0, "max_delay": 10.0}, 60.0),
        ({"crawl_delay": 45.0, "delay_factor": 5.0, "last_elapsed": 30.0, "max_delay": 10.0}, 45.0),
    ],
)
def test_next_delay(kwargs: dict[str, Any], expected: float) -> None:
    args: dict[str, Any] = {
        "min_delay": 2.0,
        "crawl_delay": None,
        "crawl_delay_cap": 300.0,
        "delay_factor": 0.0,
        "last_elapsed": None,
    }
    args.update(kwargs)
    assert next_delay(**args) == expected


def test_waits_only_the_rest_of_the_delay() -> None:
    time = FakeTime()
    pol = Politeness(sleep=time.sleep, now=lambda: time.now.timestamp())

    async def go() -> None:
        async with pol.slot("a.test", min_delay=10.0, crawl_delay=None):
            pass
        await time.sleep(4.0)  # something else took 4 s
        async with pol.slot("a.test", min_delay=10.0, crawl_delay=None):
            pass
        async with pol.slot("b.test", min_delay=10.0, crawl_delay=None):  # other host: no wait
            pass

    asyncio.run(go())
    assert time.sleeps == [4.0, 6.0]


def test_delay_factor_uses_last_request_duration() -> None:
    time = FakeTime()
    pol = Politeness(sleep=time.sleep, now=lambda: time.now.timestamp(), delay_factor=3.0)

    async def go() -> None:
        async with pol.slot("a.test", min_delay=1.0, crawl_delay=None):
            await time.sleep(2.0)  # the request took 2 s
        async with pol.slot("a.test", min_delay=1.0, crawl_delay=None):
            pass

    asyncio.run(go())
    assert time.sleeps == [2.0, 6.0]


def test_a_slow_answer_costs_at_most_max_delay() -> None:
    time = FakeTime()
    pol = Politeness(
        sleep=time.sleep, now=lambda: time.now.timestamp(), delay_factor=5.0, max_delay=30.0
    )

    async def go() -> None:
        async with pol.slot("a.test", min_delay=0.0, crawl_delay=None):
            await time.sleep(30.0)  # a dripping URL ran into the 30 s timeout
        async with pol.slot("a.test", min_delay=0.0, crawl_delay=None):
            pass

    asyncio.run(go())
    assert time.sleeps == [30.0, 30.0]  # not 5 x 30 = 150 s


def test_pause_holds_every_request_to_the_host() -> None:
    time = FakeTime()
    pol = Politeness(sleep=time.sleep, now=lambda: time.now.timestamp(), delay_factor=0.0)

    async def go() -> None:
        async with pol.slot("a.test", min_delay=1.0, crawl_delay=None):
            pass
        pol.pause("a.test", 120.0)  # a 503 with Retry-After: 120
        pol.pause("a.test", 10.0)  # a shorter pause never shortens it
        assert pol.paused_for("a.test") == 120.0 and pol.paused_for("b.test") == 0.0
        async with pol.slot("a.test", min_delay=1.0, crawl_delay=None):
            pass
        async with pol.slot("b.test", min_delay=1.0, crawl_delay=None):  # other host: no wait
            pass
        async with pol.slot("a.test", min_delay=1.0, crawl_delay=None):  # paused no longer
            pass

    asyncio.run(go())
    assert time.sleeps == [120.0, 1.0]


@pytest.mark.parametrize("max_delay", [30.0, 120.0])
def test_busy_answer_pauses_the_host_for_its_other_urls(srv: FaultServer, max_delay: float) -> None:
    srv.routes["/busy"] = srv.status(503, b"busy", {"retry-after": "90"})
    srv.routes["/ok"] = srv.status(200, b"<html>ok</html>")
    time = FakeTime()

    async def go() -> list[int | str]:
        s = FetchSettings(
            min_delay=0.0, allow_hosts=frozenset({"127.0.0.1"}), respect_robots=False,
            max_retries=0, max_delay=max_delay, retry_after_cap=600.0,
        )  # fmt: skip
        out: list[int | str] = []
        async with Fetcher(
            s, resolver=resolver_to("127.0.0.1"), sleep=time.sleep, clock=time.clock
        ) as f:
            for path in ("/busy", "/ok"):
                try:
                    out.append((await f.fetch(srv.url(path))).status)
                except FetchError as exc:
                    assert exc.retryable
                    out.append(str(exc))
            assert f.paused_for(srv.url("/x")) == (0.0 if max_delay > 90 else 90.0)
        return out

    got = asyncio.run(go())
    assert got[0] == 503 and len(srv.requests_for("/busy")) == 1
    if max_delay > 90:  # a short pause is waited out: the other URL comes after it
        assert got[1] == 200 and time.sleeps == [90.0]
    else:  # a long one is not worth holding the site: the other URL is left for later
        assert "asked for a pause: 90 s to go" in str(got[1]) and time.sleeps == []
        assert srv.requests_for("/ok") == []


def test_host_state_is_bounded_but_busy_hosts_are_kept() -> None:
    time = FakeTime()
    pol = Politeness(sleep=time.sleep, now=lambda: time.now.timestamp(), max_hosts=3)

    async def go() -> None:
        async with pol.slot("busy.test", min_delay=0.0, crawl_delay=None):
            for i in range(10):
                async with pol.slot(f"h{i}.test", min_delay=0.0, crawl_delay=None):
                    pass
            assert "busy.test" in pol._hosts

    asyncio.run(go())
    assert len(pol) == 3


def concurrent_fetches(srv: FaultServer, urls: list[str], **settings: Any) -> None:
    async def go() -> None:
        s = FetchSettings(
            **{
                "min_delay": 0.0,
                "allow_hosts": frozenset({"127.0.0.1"}),
                "respect_robots": False,
                **settings,
            }
        )
        async with Fetcher(s, resolver=resolver_to("127.0.0.1"), sleep=FakeTime().sleep) as f:
            results = await asyncio.gather(*(f.fetch(u) for u in urls))
        assert all(r.status == 200 for r in results)

    asyncio.run(go())


def test_one_request_at_a_time_per_host() -> None:
    with FaultServer() as srv:
        srv.routes["/slow"] = srv.slow_ok(b"<html>ok</html>", hold=0.15)
        concurrent_fetches(srv, [srv.url("/slow")] * 4)
        assert len(srv.requests_for("/slow")) == 4
        assert srv.max_in_flight == 1


def test_different_hosts_run_in_parallel() -> None:
    with FaultServer() as srv:
        srv.routes["/slow"] = srv.slow_ok(b"<html>ok</html>", hold=0.3)
        concurrent_fetches(
            srv, [f"http://a.test:{srv.port}/slow", f"http://b.test:{srv.port}/slow"]
        )
        assert srv.max_in_flight == 2
