"""robots.txt: the pure RFC 9309 policy, the cache, and the fetcher obeying it over loopback."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
import pytest

from scraper.errors import FetchError, HostUnreachableError, RobotsDisallowedError
from scraper.fetch.client import Fetcher, FetchResult, FetchSettings
from scraper.fetch.robots import RobotsCache, RobotsPolicy, policy_from_response, robots_url
from tests.support.faults import FakeTime, FaultServer
from tests.support.loopback import Response

UA = "vnnews/0.1 (+https://github.com/vnnews/vnnews)"
ROBOTS = b"""User-agent: *
Disallow: /private/
Crawl-delay: 4
Sitemap: https://news.test/sitemap-index.xml

User-agent: vnnews
Disallow: /tag/
Crawl-delay: 7
Sitemap: https://news.test/news-sitemap.xml
"""


def test_parsed_policy_for_our_agent() -> None:
    policy = policy_from_response(200, ROBOTS, now=0.0, ttl=3600.0)
    assert not policy.can_fetch("https://news.test/tag/x", UA)
    assert policy.can_fetch("https://news.test/private/x", UA)  # the vnnews group wins over *
    assert not policy.can_fetch("https://news.test/private/x", "otherbot/1.0")
    assert policy.crawl_delay(UA) == 7.0
    assert policy.sitemaps() == [
        "https://news.test/sitemap-index.xml",
        "https://news.test/news-sitemap.xml",
    ]
    assert policy.expires == 3600.0


@pytest.mark.parametrize(
    ("status", "allowed", "unreachable"),
    [
        (404, True, False),
        (410, True, False),
        (401, True, False),
        (403, True, False),
        (429, False, True),
        (500, False, True),
        (503, False, True),
        (None, False, True),
    ],
)
def test_status_rules(status: int | None, allowed: bool, unreachable: bool) -> None:
    policy = policy_from_response(
        status, b"User-agent: *\nDisallow: /", now=100.0, ttl=3600.0, error_ttl=300.0
    )
    assert policy.can_fetch("https://news.test/a", UA) is allowed
    assert policy.unreachable is unreachable
    assert policy.expires == (400.0 if unreachable else 3700.0)
    assert policy.sitemaps() == [] and policy.crawl_delay(UA) is None


def test_only_first_500_kib_parsed() -> None:
    body = b"User-agent: *\n" + b"Allow: /x\n" * 60_000 + b"Disallow: /\n"
    assert len(body) > 500 * 1024
    assert policy_from_response(200, body, now=0, ttl=1).can_fetch("https://news.test/a", UA)


def test_robots_url_is_per_origin() -> None:
    assert (
        robots_url(httpx.URL("https://user:pw@news.test:8443/a/b?q=1#f"))
        == "https://news.test:8443/robots.txt"
    )
    assert robots_url(httpx.URL("http://news.test/a")) == "http://news.test/robots.txt"


def test_cache_ttl_lru_and_single_load() -> None:
    clock = {"now": 0.0}
    cache = RobotsCache(now=lambda: clock["now"], max_origins=2)
    loads: list[str] = []

    async def load(key: str) -> RobotsPolicy:
        loads.append(key)
        await asyncio.sleep(0)
        return policy_from_response(404, b"", now=clock["now"], ttl=10.0)

    async def go() -> None:
        await asyncio.gather(*(cache.get("a", load) for _ in range(5)))  # one load for five callers
        clock["now"] = 5.0
        await cache.get("a", load)
        clock["now"] = 11.0  # expired
        await cache.get("a", load)
        await cache.get("b", load)
        await cache.get("c", load)  # evicts a

    asyncio.run(go())
    assert loads == ["a", "a", "b", "c"]
    assert len(cache) == 2


def run_fetches(
    srv: FaultServer, paths: list[str], **settings: Any
) -> tuple[list[FetchResult | Exception], FakeTime]:
    time = FakeTime()

    async def go() -> list[FetchResult | Exception]:
        s = FetchSettings(
            **{
                "min_delay": 0.0,
                "allow_hosts": frozenset({"127.0.0.1"}),
                "timeout": 5.0,
                "max_retries": 0,
                **settings,
            }
        )
        out: list[FetchResult | Exception] = []
        async with Fetcher(s, sleep=time.sleep, clock=time.clock) as f:
            for path in paths:
                try:
                    out.append(await f.fetch(srv.url(path)))
                except FetchError as exc:
                    out.append(exc)
        return out

    return asyncio.run(go()), time


def test_disallowed_page_is_never_requested() -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = Response(ROBOTS, headers={"content-type": "text/plain"})
        srv.routes["/tag/x"] = Response(b"<html>tag</html>")
        srv.routes["/ok"] = Response(b"<html>ok</html>")
        results, time = run_fetches(srv, ["/tag/x", "/ok", "/ok"])
        assert isinstance(results[0], RobotsDisallowedError) and not results[0].retryable
        assert "disallowed by robots.txt" in str(results[0])
        assert isinstance(results[1], FetchResult) and results[1].status == 200
        assert srv.requests_for("/tag/x") == []
        assert len(srv.requests_for("/robots.txt")) == 1  # cached
        assert time.sleeps == [7.0, 7.0]  # Crawl-delay for our agent, after robots.txt and /ok


def test_crawl_delay_capped() -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = Response(
            b"User-agent: *\nCrawl-delay: 86400\n", headers={"content-type": "text/plain"}
        )
        srv.routes["/ok"] = Response(b"<html>ok</html>")
        _, time = run_fetches(srv, ["/ok"], crawl_delay_cap=30.0)
        assert time.sleeps == [30.0]


@pytest.mark.parametrize("status", [404, 403])
def test_robots_4xx_allows_all(status: int) -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = srv.status(status, b"User-agent: *\nDisallow: /\n")
        srv.routes["/ok"] = Response(b"<html>ok</html>")
        results, _ = run_fetches(srv, ["/ok"])
        assert isinstance(results[0], FetchResult) and results[0].status == 200


@pytest.mark.parametrize("status", [500, 503, 429])
def test_robots_5xx_disallows_all_retryably(status: int) -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = srv.status(status, b"oops")
        srv.routes["/ok"] = Response(b"<html>ok</html>")
        results, _ = run_fetches(srv, ["/ok", "/ok"])
        for result in results:
            assert isinstance(result, RobotsDisallowedError)
            assert result.retryable and f"HTTP {status}" in str(result)
        assert srv.requests_for("/ok") == []
        assert len(srv.requests_for("/robots.txt")) == 1  # short-TTL cache, not asked per page


def test_robots_unreachable_is_a_retryable_fetch_error() -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = srv.hang()
        results, _ = run_fetches(srv, ["/ok"], timeout=0.5)
        assert type(results[0]) is HostUnreachableError and results[0].retryable
        assert "host unreachable (asked for its robots.txt): timed out" in str(results[0])


def test_robots_redirect_followed_and_override_off() -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = srv.redirect("/real-robots.txt", 301)
        srv.routes["/real-robots.txt"] = Response(
            b"User-agent: *\nDisallow: /\n", headers={"content-type": "text/plain"}
        )
        srv.routes["/ok"] = Response(b"<html>ok</html>")
        results, _ = run_fetches(srv, ["/ok"])
        assert isinstance(results[0], RobotsDisallowedError)
        results, _ = run_fetches(srv, ["/ok"], respect_robots=False)
        assert isinstance(results[0], FetchResult) and results[0].status == 200


def test_robots_sitemaps_and_per_fetch_override() -> None:
    with FaultServer() as srv:
        srv.routes["/robots.txt"] = Response(ROBOTS, headers={"content-type": "text/plain"})
        srv.routes["/tag/x"] = Response(b"<html>tag</html>")

        async def go() -> tuple[list[str], int]:
            s = FetchSettings(min_delay=0.0, allow_hosts=frozenset({"127.0.0.1"}))
            async with Fetcher(s, sleep=FakeTime().sleep) as f:
                maps = await f.robots_sitemaps(srv.url("/anything"))
                forced = await f.fetch(srv.url("/tag/x"), respect_robots=False)
                return maps, forced.status

        maps, status = asyncio.run(go())
        assert maps == ["https://news.test/sitemap-index.xml", "https://news.test/news-sitemap.xml"]
        assert status == 200
