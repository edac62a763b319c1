"""The fault matrix: a real loopback server misbehaving in every way tests/faults.py knows.

Settings are scaled down (timeouts of about a second, no politeness delay, 1 MB cap) and time
is fake wherever the fetcher would sleep, so the matrix runs in seconds and asserts outcomes,
never durations. Memory is asserted with tracemalloc for the 50 MB cases.
"""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import re
import tracemalloc
import unicodedata
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest

from scraper.errors import BodyTooLargeError, FetchError, TooManyRedirectsError
from scraper.fetch.client import Fetcher, FetchResult, FetchSettings
from tests.support.faults import FakeTime, FaultServer, gzip_bomb_bytes
from tests.support.loopback import Response
from tests.support.paths import REAL

CAP = 1_000_000
FIFTY_MB = 50_000_000


def settings(**overrides: Any) -> FetchSettings:
    base: dict[str, Any] = {
        "min_delay": 0.0,
        "timeout": 1.0,
        "connect_timeout": 1.0,
        "max_bytes": CAP,
        "max_retries": 1,
        "allow_hosts": frozenset({"127.0.0.1"}),
        "respect_robots": False,
    }
    base.update(overrides)
    return FetchSettings(**base)


def fetch(url: str, time: FakeTime | None = None, **overrides: Any) -> FetchResult:
    time = time or FakeTime()

    async def go() -> FetchResult:
        async with Fetcher(settings(**overrides), sleep=time.sleep, clock=time.clock) as f:
            return await f.fetch(url)

    return asyncio.run(go())


def peak_memory(call: Callable[[], object]) -> int:
    tracemalloc.start()
    with contextlib.suppress(FetchError):
        call()
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak


@pytest.fixture
def srv() -> Any:
    with FaultServer() as server:
        yield server


@pytest.mark.parametrize("code", [500, 503])
def test_5xx_with_retry_after_seconds_then_ok(srv: FaultServer, code: int) -> None:
    srv.routes["/a"] = srv.retry_after(code, "5", then=srv.status(200, b"<html>ok</html>"))
    time = FakeTime()
    result = fetch(srv.url("/a"), time)
    assert result.status == 200 and result.body == b"<html>ok</html>"
    assert time.sleeps == [5.0]
    assert len(srv.requests_for("/a")) == 2


def test_503_with_retry_after_http_date(srv: FaultServer) -> None:
    time = FakeTime()
    srv.routes["/a"] = srv.retry_after(
        503,
        srv.http_date(time.now + timedelta(seconds=30)),
        then=srv.status(200, b"<html>ok</html>"),
    )
    assert fetch(srv.url("/a"), time).status == 200
    assert time.sleeps == [30.0]


def test_429_retried_then_returned_as_data(srv: FaultServer) -> None:
    srv.routes["/a"] = srv.retry_after(429, "2")
    time = FakeTime()
    result = fetch(srv.url("/a"), time, max_retries=2)
    assert result.status == 429 and result.headers["retry-after"] == "2"
    assert time.sleeps == [2.0, 2.0]
    assert len(srv.requests_for("/a")) == 3


@pytest.mark.parametrize("before_headers", [True, False])
def test_hang_times_out_retryably(srv: FaultServer, before_headers: bool) -> None:
    srv.routes["/hang"] = srv.hang(before_headers=before_headers)
    with pytest.raises(FetchError, match="timed out") as err:
        fetch(srv.url("/hang"), timeout=0.5)
    assert type(err.value) is FetchError and err.value.retryable
    assert err.value.url == srv.url("/hang")
    # not retried inline (a later pass does it): one hanging URL costs its site one timeout
    assert len(srv.requests_for("/hang")) == 1


def test_one_byte_per_second_drip_is_cut_by_total_timeout(srv: FaultServer) -> None:
    # each byte arrives well within a per-read timeout; only the total cap can stop this
    srv.routes["/drip"] = srv.drip(b"<html>" + b"." * 100 + b"</html>", interval=0.3)
    with pytest.raises(FetchError, match=re.escape("timed out after 1 s in total")) as err:
        fetch(srv.url("/drip"), timeout=1.0, max_retries=0)
    assert err.value.retryable
    assert srv.body_bytes_sent < 50


def test_reset_mid_body(srv: FaultServer) -> None:
    srv.routes["/reset"] = srv.reset_mid_body()
    with pytest.raises(FetchError, match="connection broken") as err:
        fetch(srv.url("/reset"), max_retries=2)
    assert err.value.retryable
    assert len(srv.requests_for("/reset")) == 1  # retried in a later pass, not inline


def test_content_length_longer_than_body(srv: FaultServer) -> None:
    srv.routes["/short"] = srv.short_body(declared=5000, actual=100)
    with pytest.raises(FetchError, match="received 100 bytes, expected 5000") as err:
        fetch(srv.url("/short"))
    assert err.value.retryable


def test_redirect_loop(srv: FaultServer) -> None:
    srv.routes["/a"] = srv.redirect("/b")
    srv.routes["/b"] = srv.redirect(srv.url("/a"))
    with pytest.raises(TooManyRedirectsError, match="loop"):
        fetch(srv.url("/a"))
    assert len(srv.requests_for("/a")) == 1


def test_gzip_bomb_stopped_with_bounded_memory(srv: FaultServer) -> None:
    bomb = gzip_bomb_bytes(FIFTY_MB)  # ~50 KB on the wire
    srv.routes["/bomb"] = srv.gzip_bomb(FIFTY_MB)

    def go() -> None:
        with pytest.raises(BodyTooLargeError, match="decoded body over"):
            fetch(srv.url("/bomb"))

    peak = peak_memory(go)
    assert len(bomb) < 100_000
    assert peak < 6 * CAP, peak


@pytest.mark.parametrize("chunked", [True, False])
def test_50_mb_body_stopped_with_bounded_memory(srv: FaultServer, chunked: bool) -> None:
    srv.routes["/big"] = srv.big_body(FIFTY_MB, chunked=chunked)

    def go() -> None:
        with pytest.raises(BodyTooLargeError) as err:
            fetch(srv.url("/big"))
        # with a Content-Length the fetcher refuses before reading a byte
        assert ("Content-Length" in str(err.value)) is (not chunked)

    peak = peak_memory(go)
    assert peak < 6 * CAP, peak
    # the server was cut off long before 50 MB (socket buffers hold a few MB at most)
    assert srv.body_bytes_sent < FIFTY_MB // 2


def test_wrong_declared_charset(srv: FaultServer) -> None:
    text = "<html><body><p>Báo Lạng Sơn: Đón Tết an toàn</p></body></html>"
    srv.routes["/a"] = srv.status(
        200, text.encode(), {"content-type": "text/html; charset=windows-1252"}
    )
    result = fetch(srv.url("/a"))
    assert result.text() == text


def test_random_bytes_served_as_html(srv: FaultServer) -> None:
    srv.routes["/noise"] = srv.random_html(20_000)
    result = fetch(srv.url("/noise"))
    assert result.status == 200 and len(result.body) == 20_000
    text = result.text()
    assert isinstance(text, str) and unicodedata.is_normalized("NFC", text)


def test_unchanged_feed_polled_downloads_no_body_after_first(srv: FaultServer) -> None:
    feed = (REAL / "vietnambiz.vn" / "feed-vietnambiz.xml").read_bytes()
    srv.routes["/rss"] = srv.conditional(
        feed, '"abc"', "Sat, 05 Sep 2026 01:00:00 GMT", "application/rss+xml"
    )

    async def poll(times: int) -> list[FetchResult]:
        results: list[FetchResult] = []
        etag = modified = None
        async with Fetcher(settings(), sleep=FakeTime().sleep) as f:
            for _ in range(times):
                r = await f.fetch(srv.url("/rss"), etag=etag, last_modified=modified, accept="feed")
                etag, modified = r.etag or etag, r.last_modified or modified
                results.append(r)
        return results

    results = asyncio.run(poll(6))
    assert results[0].status == 200 and results[0].body == feed
    assert [r.status for r in results[1:]] == [304] * 5
    assert sum(len(r.body) for r in results[1:]) == 0
    assert srv.body_bytes_sent == len(feed)
    assert srv.requests_for("/rss")[-1].headers["if-none-match"] == '"abc"'


def test_real_article_gzip_end_to_end(srv: FaultServer) -> None:
    raw = (REAL / "vnexpress.net" / "meth04-article.html").read_bytes()
    srv.routes["/article"] = Response(
        gzip.compress(raw), headers={"content-type": "text/html", "content-encoding": "gzip"}
    )
    result = fetch(srv.url("/article"))
    assert result.body == raw
    assert "Cách các nước đối phó cú sốc năng lượng từ Trung Đông" in result.text()
    assert srv.seen[-1].headers["accept-encoding"] == "gzip, deflate, br, zstd"
