"""Fetcher contract through httpx.MockTransport: redirects, limits, retries, validators, decoding.

No sockets here: the transport is a function. Loopback end-to-end tests are in
test_fetch_faults.py (faults) and test_guard.py (address pinning).
"""

from __future__ import annotations

import asyncio
import gzip
import random
import re
import socket
import zlib
from collections.abc import Callable, Coroutine
from datetime import UTC, datetime
from typing import Any

import brotli
import httpx
import pytest
import zstandard

from scraper.errors import (
    BlockedAddressError,
    BodyTooLargeError,
    ContentTypeError,
    FetchError,
    HostUnreachableError,
    TooManyRedirectsError,
)
from scraper.fetch.client import Fetcher, FetchResult, FetchSettings, content_type_allowed
from tests.support.faults import FakeTime, resolver_to

Route = Callable[[httpx.Request], httpx.Response]


def run(coro: Coroutine[Any, Any, Any]) -> Any:
    return asyncio.run(coro)


class Site:
    """A MockTransport site: path → route; every request is logged; robots.txt is 404."""

    def __init__(self, routes: dict[str, Route]) -> None:
        self.routes = routes
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        route = self.routes.get(request.url.path)
        if route is None:
            return httpx.Response(404, text="not found")
        return route(request)

    def paths(self) -> list[str]:
        return [r.url.path for r in self.requests if r.url.path != "/robots.txt"]


def fetcher(site: Site, time: FakeTime | None = None, **overrides: Any) -> Fetcher:
    settings: dict[str, Any] = {
        "min_delay": 0.0,
        "allow_hosts": frozenset({"127.0.0.1"}),
        "max_bytes": 100_000,
        **overrides,
    }
    time = time or FakeTime()
    return Fetcher(
        FetchSettings(**settings),
        transport=httpx.MockTransport(site),
        resolver=resolver_to("127.0.0.1"),
        sleep=time.sleep,
        clock=time.clock,
        rng=random.Random(4),
    )


async def fetch(
    site: Site,
    url: str,
    time: FakeTime | None = None,
    settings: dict[str, Any] | None = None,
    **kwargs: Any,
) -> FetchResult:
    async with fetcher(site, time, **(settings or {})) as f:
        return await f.fetch(url, **kwargs)


class Raw(httpx.AsyncByteStream):
    """Body bytes as a real transport delivers them: streamed, still content-encoded."""

    def __init__(self, body: bytes, piece: int = 4096) -> None:
        self.body = body
        self.piece = piece

    async def __aiter__(self) -> Any:
        for i in range(0, len(self.body), self.piece):
            yield self.body[i : i + self.piece]


def html(
    body: bytes = b"<html><body>ok</body></html>", headers: dict[str, str] | None = None
) -> Route:
    hdrs = {
        "content-type": "text/html; charset=utf-8",
        "content-length": str(len(body)),
        **(headers or {}),
    }
    return lambda request: httpx.Response(200, stream=Raw(body), headers=hdrs)


def redirect(location: str, status: int = 302) -> Route:
    return lambda request: httpx.Response(status, headers={"location": location})


def test_result_fields_and_headers() -> None:
    time = FakeTime(datetime(2026, 9, 5, 3, 4, tzinfo=UTC))
    site = Site(
        {"/a": html(headers={"etag": '"v1"', "Last-Modified": "Sat, 05 Sep 2026 01:00:00 GMT"})}
    )
    result = run(fetch(site, "http://news.test/a", time))
    assert result.status == 200
    assert result.url == result.final_url == "http://news.test/a"
    assert result.body == b"<html><body>ok</body></html>"
    assert result.etag == '"v1"'
    assert result.last_modified == "Sat, 05 Sep 2026 01:00:00 GMT"
    assert result.content_type == "text/html; charset=utf-8"
    assert all(k == k.lower() for k in result.headers)
    assert result.fetched_at == datetime(2026, 9, 5, 3, 4, tzinfo=UTC)
    assert result.redirects == ()
    assert not result.not_modified
    sent = site.requests[-1].headers
    assert sent["user-agent"].startswith("vnnews/")
    assert "text/html" in sent["accept"]
    assert "if-none-match" not in sent


def test_in_memory_mock_responses_work_too() -> None:
    # httpx.Response(content=...) is read (and decoded) by httpx at construction
    page = b"<html>" + b"x" * 500 + b"</html>"
    site = Site(
        {
            "/a": lambda r: httpx.Response(
                200,
                content=gzip.compress(page),
                headers={"content-type": "text/html", "content-encoding": "gzip"},
            )
        }
    )
    assert run(fetch(site, "http://news.test/a")).body == page
    with pytest.raises(BodyTooLargeError):
        run(fetch(site, "http://news.test/a", settings={"max_bytes": 100}))


def test_status_is_data_404_410_not_retried() -> None:
    site = Site({"/gone": lambda r: httpx.Response(410, text="gone")})
    result = run(fetch(site, "http://news.test/gone"))
    assert result.status == 410
    assert run(fetch(site, "http://news.test/missing")).status == 404
    assert site.paths() == ["/gone", "/missing"]


def test_conditional_get_sends_validators_and_returns_304() -> None:
    def route(request: httpx.Request) -> httpx.Response:
        if request.headers.get("if-none-match") == '"v1"':
            return httpx.Response(304, headers={"etag": '"v1"'})
        return httpx.Response(
            200, content=b"<rss/>", headers={"content-type": "application/rss+xml"}
        )

    site = Site({"/feed": route})
    result = run(
        fetch(
            site,
            "http://news.test/feed",
            etag='"v1"',
            last_modified="Sat, 05 Sep 2026 01:00:00 GMT",
            accept="feed",
        )
    )
    assert result.status == 304 and result.not_modified and result.body == b""
    sent = site.requests[-1].headers
    assert sent["if-none-match"] == '"v1"'
    assert sent["if-modified-since"] == "Sat, 05 Sep 2026 01:00:00 GMT"
    assert "rss" in sent["accept"]


def test_redirects_followed_relative_and_recorded() -> None:
    site = Site(
        {
            "/old": redirect("/mid", 301),
            "/mid": redirect("http://news.test/new#frag", 308),
            "/new": html(),
        }
    )
    result = run(fetch(site, "http://news.test/old"))
    assert result.status == 200
    assert result.final_url == "http://news.test/new"
    assert result.redirects == ("http://news.test/mid", "http://news.test/new")
    assert site.paths() == ["/old", "/mid", "/new"]


def test_redirect_cap() -> None:
    site = Site({f"/r{i}": redirect(f"/r{i + 1}") for i in range(10)})
    with pytest.raises(TooManyRedirectsError, match="more than 3 redirects") as err:
        run(fetch(site, "http://news.test/r0", settings={"max_redirects": 3}))
    assert err.value.url == "http://news.test/r0"
    assert site.paths() == ["/r0", "/r1", "/r2", "/r3"]


def test_redirect_loop_detected_before_cap() -> None:
    site = Site({"/a": redirect("/b"), "/b": redirect("/a")})
    with pytest.raises(TooManyRedirectsError, match="loop"):
        run(fetch(site, "http://news.test/a"))
    assert site.paths() == ["/a", "/b"]


def test_cookie_check_redirect_to_self_allowed_once() -> None:
    def cookie_gate(request: httpx.Request) -> httpx.Response:
        if request.headers.get("cookie") == "seen=1":
            return httpx.Response(
                200, stream=Raw(b"<html>in</html>"), headers={"content-type": "text/html"}
            )
        return httpx.Response(302, headers={"location": "/a", "set-cookie": "seen=1; Path=/"})

    result = run(fetch(Site({"/a": cookie_gate}), "http://news.test/a"))
    assert result.status == 200 and result.redirects == ("http://news.test/a",)

    always = Site(
        {"/a": lambda r: httpx.Response(302, headers={"location": "/a", "set-cookie": "x=1"})}
    )
    with pytest.raises(TooManyRedirectsError, match="loop"):
        run(fetch(always, "http://news.test/a"))
    assert always.paths() == ["/a", "/a"]


def test_redirect_to_other_scheme_blocked() -> None:
    site = Site({"/a": redirect("file:///etc/passwd")})
    with pytest.raises(BlockedAddressError, match="scheme") as err:
        run(fetch(site, "http://news.test/a"))
    assert err.value.url == "http://news.test/a"
    assert not err.value.retryable


def test_3xx_without_location_is_final() -> None:
    site = Site({"/a": lambda r: httpx.Response(300, text="choices")})
    assert run(fetch(site, "http://news.test/a")).status == 300


@pytest.mark.parametrize(
    ("content_type", "accept", "path", "ok"),
    [
        ("text/html; charset=utf-8", "html", "/a", True),
        ("application/xhtml+xml", "html", "/a", True),
        (None, "html", "/a", True),
        ("application/pdf", "html", "/a", False),
        ("application/rss+xml", "html", "/a", False),
        ("application/rss+xml", "feed", "/rss", True),
        ("application/atom+xml", "feed", "/atom", True),
        ("text/xml; charset=utf-8", "feed", "/s.xml", True),
        ("application/x-gzip", "feed", "/s.xml.gz", True),
        ("application/octet-stream", "feed", "/s.xml.gz", True),
        ("application/octet-stream", "feed", "/s.xml", False),
        ("text/html", "feed", "/rss", True),
        ("image/jpeg", "feed", "/rss", False),
        ("video/mp4", "html", "/a", False),
    ],
)
def test_content_type_allowed(content_type: str | None, accept: str, path: str, ok: bool) -> None:
    assert content_type_allowed(content_type, accept, path) is ok


def test_content_type_error_stops_before_body() -> None:
    site = Site(
        {
            "/v": lambda r: httpx.Response(
                200, content=b"\0" * 1000, headers={"content-type": "video/mp4"}
            )
        }
    )
    with pytest.raises(ContentTypeError, match="video/mp4") as err:
        run(fetch(site, "http://news.test/v"))
    assert err.value.url == "http://news.test/v" and not err.value.retryable


def test_unknown_accept_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="accept"):
        run(fetch(Site({}), "http://news.test/a", accept="pdf"))


def test_retry_5xx_then_success_with_backoff() -> None:
    calls = {"n": 0}

    def flaky(request: httpx.Request) -> httpx.Response:
        calls["n"] += 1
        if calls["n"] < 3:
            return httpx.Response(502, text="bad gateway")
        return httpx.Response(
            200, content=b"<html>ok</html>", headers={"content-type": "text/html"}
        )

    time = FakeTime()
    result = run(
        fetch(
            Site({"/a": flaky}),
            "http://news.test/a",
            time,
            settings={"backoff_base": 1.0, "backoff_cap": 60.0},
        )
    )
    assert result.status == 200 and calls["n"] == 3
    # full jitter: attempt 1 waits in [0, 1], attempt 2 in [0, 2]
    assert len(time.sleeps) == 2
    assert 0 <= time.sleeps[0] <= 1.0 and 0 <= time.sleeps[1] <= 2.0


def test_retries_exhausted_returns_last_status() -> None:
    site = Site({"/a": lambda r: httpx.Response(500, text="boom")})
    result = run(fetch(site, "http://news.test/a", settings={"max_retries": 2}))
    assert result.status == 500 and result.body == b"boom"
    assert site.paths() == ["/a"] * 3


def test_retry_after_honoured_and_over_cap_not_retried() -> None:
    time = FakeTime()
    site = Site({"/a": lambda r: httpx.Response(429, headers={"retry-after": "7"})})
    result = run(fetch(site, "http://news.test/a", time, settings={"max_retries": 1}))
    assert result.status == 429 and time.sleeps == [7.0]

    time = FakeTime()
    site = Site({"/a": lambda r: httpx.Response(503, headers={"retry-after": "86400"})})
    result = run(fetch(site, "http://news.test/a", time, settings={"retry_after_cap": 600.0}))
    assert result.status == 503 and time.sleeps == [] and site.paths() == ["/a"]


def test_transport_error_raised_retryable_without_inline_retries() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    time = FakeTime()
    site = Site({"/a": refuse})
    with pytest.raises(FetchError, match="cannot connect") as err:
        run(fetch(site, "http://news.test/a", time, settings={"max_retries": 2}))
    assert type(err.value) is HostUnreachableError and err.value.retryable
    assert err.value.url == "http://news.test/a"
    assert site.paths() == ["/a"] and time.sleeps == []  # the frontier retries it later


def test_dns_failure_is_retryable_fetch_error() -> None:
    async def no_dns(host: str, port: int) -> list[str]:
        raise socket.gaierror(socket.EAI_NONAME, f"Name or service not known: {host}")

    async def go(respect_robots: bool) -> None:
        async with Fetcher(
            FetchSettings(min_delay=0, max_retries=1),
            transport=httpx.MockTransport(Site({})),
            resolver=no_dns,
            sleep=FakeTime().sleep,
        ) as f:
            await f.fetch("http://nowhere.test/a", respect_robots=respect_robots)

    with pytest.raises(FetchError, match=r"DNS lookup failed: .*Name or service not known") as err:
        run(go(False))
    assert type(err.value) is HostUnreachableError and err.value.retryable
    # the robots.txt lookup fails first: still a retryable network failure, not a robots rule
    with pytest.raises(
        FetchError, match=re.escape("host unreachable (asked for its robots.txt): DNS lookup")
    ) as err:
        run(go(True))
    assert type(err.value) is HostUnreachableError and err.value.retryable


def test_invalid_url() -> None:
    with pytest.raises(FetchError, match="invalid URL") as err:
        run(fetch(Site({}), "http://[::1/"))
    assert not err.value.retryable


def test_declared_length_over_cap_refused_without_reading() -> None:
    site = Site({"/big": html(b"x" * 2000)})
    with pytest.raises(BodyTooLargeError, match="Content-Length 2000"):
        run(fetch(site, "http://news.test/big", settings={"max_bytes": 1000}))


def test_streamed_body_over_cap() -> None:
    site = Site(
        {
            "/big": lambda r: httpx.Response(
                200, stream=Raw(b"z" * 10_000, 100), headers={"content-type": "text/html"}
            )
        }
    )
    with pytest.raises(BodyTooLargeError, match="body over the 1000-byte cap"):
        run(fetch(site, "http://news.test/big", settings={"max_bytes": 1000}))


PAGE = "<html><body>Tin tức Việt Nam</body></html>".encode() * 50


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("deflate", zlib.compress),
        ("deflate", lambda data: zlib.compress(data)[2:-4]),  # raw deflate, as some servers send
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
        ("gzip, br", lambda data: brotli.compress(gzip.compress(data))),
    ],
)
def test_content_encoding_decoded(encoding: str, compress: Callable[[bytes], bytes]) -> None:
    site = Site({"/a": html(compress(PAGE), {"content-encoding": encoding})})
    result = run(fetch(site, "http://news.test/a"))
    assert result.body == PAGE
    assert "Tin tức Việt Nam" in result.text()


@pytest.mark.parametrize(
    ("encoding", "compress"),
    [
        ("gzip", gzip.compress),
        ("br", brotli.compress),
        ("zstd", lambda data: zstandard.ZstdCompressor().compress(data)),
    ],
)
def test_decompression_bomb_stopped_at_cap(
    encoding: str, compress: Callable[[bytes], bytes]
) -> None:
    bomb = compress(bytes(5_000_000))
    assert len(bomb) < 100_000
    site = Site({"/a": html(bomb, {"content-encoding": encoding})})
    with pytest.raises(BodyTooLargeError, match="decoded body over the 100000-byte cap"):
        run(fetch(site, "http://news.test/a", settings={"max_bytes": 100_000}))


def test_corrupt_encoding_is_not_retryable() -> None:
    site = Site({"/a": html(b"not gzip at all", {"content-encoding": "gzip"})})
    with pytest.raises(FetchError, match="cannot decode gzip") as err:
        run(fetch(site, "http://news.test/a"))
    assert not err.value.retryable


def test_per_site_overrides_min_delay() -> None:
    time = FakeTime()
    site = Site({"/a": html(), "/b": html()})

    async def go() -> None:
        async with fetcher(site, time, min_delay=2.0) as f:
            await f.fetch("http://news.test/a", min_delay=9.0)
            await f.fetch("http://news.test/b", min_delay=9.0)

    run(go())
    # robots.txt, then /a after 9 s, then /b after 9 s
    assert time.sleeps == [9.0, 9.0]
