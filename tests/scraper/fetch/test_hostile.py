"""Red-team findings at the fetcher (issue 15): each hostile answer ends one fetch with one clear,
one-line FetchError, in bounded time and memory, never a library exception or a crashed crawl.

Everything runs against a real loopback server; 127.0.0.2 stands for a forbidden address and no
name is ever looked up in real DNS (the resolver is a stub).
"""

from __future__ import annotations

import asyncio
import socket
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler
from typing import Any

import brotli
import pytest

from scraper.errors import (
    BadRedirectError,
    BlockedAddressError,
    BodyTooLargeError,
    FetchError,
    HostUnreachableError,
)
from scraper.fetch.client import Fetcher, FetchResult, FetchSettings
from tests.support.faults import FaultServer
from tests.support.loopback import send

CAP = 1_000_000
MB = 1_000_000


async def no_dns(host: str, port: int) -> list[str]:
    """Every name fails to resolve, like an NXDOMAIN: no query ever leaves the machine."""
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def settings(**overrides: Any) -> FetchSettings:
    base: dict[str, Any] = {
        "min_delay": 0.0,
        "timeout": 5.0,
        "connect_timeout": 1.0,
        "max_bytes": CAP,
        "max_retries": 1,
        "backoff_base": 0.0,
        "allow_hosts": frozenset({"127.0.0.1"}),
        "respect_robots": False,
    }
    base.update(overrides)
    return FetchSettings(**base)


def fetch(url: str, **overrides: Any) -> FetchResult:
    async def go() -> FetchResult:
        async with Fetcher(settings(**overrides), resolver=no_dns) as f:
            return await f.fetch(url)

    return asyncio.run(go())


def failure(url: str, **overrides: Any) -> tuple[FetchError, float, int]:
    """The FetchError fetching ``url`` raises, the seconds it took and the peak traced memory."""
    start = time.monotonic()
    tracemalloc.start()
    try:
        with pytest.raises(FetchError) as info:
            fetch(url, **overrides)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return info.value, time.monotonic() - start, peak


@pytest.fixture
def srv() -> Any:
    with FaultServer() as server:
        yield server


BAD_LOCATIONS = [
    "http:\\\\h\\p",
    "http://0177.0.0.2/",  # an octal spelling of 127.0.0.2 that httpx refuses to parse
    "http://[::1",
    "http://127.0.0.1:99999/",
    "http:///no-host",
    "http:relative",
]


@pytest.mark.parametrize("location", BAD_LOCATIONS)
def test_a_bad_redirect_location_is_one_clear_final_error(srv: FaultServer, location: str) -> None:
    srv.routes["/a"] = srv.redirect(location)
    err, took, _ = failure(srv.url("/a"))
    assert isinstance(err, BadRedirectError), repr(err)
    assert not err.retryable
    assert err.url == srv.url("/a")
    assert str(err).startswith("bad redirect location ")
    assert "\n" not in str(err)
    assert len(srv.requests_for("/a")) == 1, "a bad Location is not retried"
    assert took < 3


@pytest.mark.parametrize(
    "location", ["javascript:alert(1)", "data:text/html,<script>alert(1)</script>", "mailto:a@b.vn"]
)
def test_a_redirect_to_another_scheme_is_blocked_by_the_guard(
    srv: FaultServer, location: str
) -> None:
    srv.routes["/a"] = srv.redirect(location)
    err, took, _ = failure(srv.url("/a"))
    assert isinstance(err, BlockedAddressError) and not err.retryable
    assert str(err).startswith(f"bad redirect location {location!r}: blocked scheme")
    assert len(srv.requests_for("/a")) == 1 and took < 3


def test_a_relative_location_is_still_followed(srv: FaultServer) -> None:
    srv.routes["/a"] = srv.redirect("b?x=1")
    srv.routes["/b"] = srv.status(200, b"<html>ok</html>")
    result = fetch(srv.url("/a"))
    assert result.status == 200 and result.final_url == srv.url("/b?x=1")


def test_a_port_out_of_range_is_an_invalid_url(srv: FaultServer) -> None:
    err, _, _ = failure("http://127.0.0.1:99999/a")
    assert not err.retryable and "port" in str(err)


def test_a_redirect_to_a_host_that_does_not_resolve_is_not_the_site_being_down(
    srv: FaultServer,
) -> None:
    srv.routes["/a"] = srv.redirect("http://no-such-host.invalid/x")
    err, took, _ = failure(srv.url("/a"))
    assert not isinstance(err, HostUnreachableError), "another host failing is not this site down"
    assert "DNS lookup failed" in str(err) and "no-such-host.invalid" in str(err)
    assert err.url == srv.url("/a")
    assert took < 3


def test_the_sites_own_host_not_resolving_is_the_site_being_down() -> None:
    err, _, _ = failure("http://no-such-host.invalid/a")
    assert isinstance(err, HostUnreachableError) and "DNS lookup failed" in str(err)


def test_a_redirect_to_a_refused_port_of_another_host_is_not_the_site_being_down(
    srv: FaultServer,
) -> None:
    from tests.support.mirror import dead_port

    other = f"http://127.0.0.3:{dead_port('127.0.0.3')}/x"
    srv.routes["/a"] = srv.redirect(other)
    err, _, _ = failure(srv.url("/a"), allow_hosts=frozenset({"127.0.0.1", "127.0.0.3"}))
    assert not isinstance(err, HostUnreachableError) and "cannot connect" in str(err)


def test_a_redirect_to_a_forbidden_address_is_still_blocked(srv: FaultServer) -> None:
    srv.routes["/a"] = srv.redirect("http://127.0.0.2/secret")
    err, _, _ = failure(srv.url("/a"))
    assert isinstance(err, BlockedAddressError) and "127.0.0.2" in str(err)


@pytest.mark.parametrize(
    "host", ["[2002:7f00:2::1]", "[::ffff:127.0.0.2]", "[64:ff9b::7f00:2]", "[::127.0.0.2]"]
)
def test_a_redirect_to_ipv6_wrapping_a_forbidden_address_is_blocked(
    srv: FaultServer, host: str
) -> None:
    srv.routes["/a"] = srv.redirect(f"http://{host}:{srv.port}/secret")
    err, _, _ = failure(srv.url("/a"))
    assert isinstance(err, BlockedAddressError) and "127.0.0.2" in str(err)
    assert len(srv.seen) == 1


def _gzip(data: bytes) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    return comp.compress(data) + comp.flush()


def _zeros_after(inner: bytes, zeros: int) -> bytes:
    """brotli(inner + ``zeros`` zero bytes), compressed piece by piece (tiny on the wire)."""
    comp = brotli.Compressor(quality=5)
    parts = [comp.process(inner)]
    piece = bytes(1 << 20)
    for _ in range(zeros >> 20):
        parts.append(comp.process(piece))
    parts.append(comp.finish())
    return b"".join(parts)


@pytest.mark.parametrize("coding", ["gzip, br", "deflate, br"])
def test_zeros_after_the_inner_stream_cost_neither_time_nor_memory(
    srv: FaultServer, coding: str
) -> None:
    inner = (
        _gzip(b"<html>hi</html>")
        if coding.startswith("gzip")
        else zlib.compress(b"<html>hi</html>")
    )
    payload = _zeros_after(inner, 256 << 20)  # 256 MiB of zeros, about 10 KB on the wire

    def handler(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, payload, {"content-type": "text/html", "content-encoding": coding})

    srv.routes["/a"] = handler
    err, took, peak = failure(srv.url("/a"))
    assert isinstance(err, BodyTooLargeError) and "cap" in str(err)
    assert took < 5, f"{took:.1f} s"
    assert peak < 5 * CAP, f"peak traced memory {peak / MB:.1f} MB"


def test_trailing_garbage_after_gzip_is_ignored_cheaply(srv: FaultServer) -> None:
    body = _gzip(b"<html>hi</html>") + bytes(CAP // 2)  # under the raw cap, like a padded body
    srv.routes["/a"] = srv.status(
        200, body, {"content-type": "text/html", "content-encoding": "gzip"}
    )
    result = fetch(srv.url("/a"))
    assert result.body == b"<html>hi</html>"


def test_every_stage_of_a_coding_chain_is_capped(srv: FaultServer) -> None:
    # gzip inside gzip: the outer layer alone inflates past the cap even though the inner
    # stream would be small
    inner = _gzip(b"<html>hi</html>") + bytes(20 * MB)
    srv.routes["/a"] = srv.status(
        200, _gzip(inner), {"content-type": "text/html", "content-encoding": "gzip, gzip"}
    )
    err, took, peak = failure(srv.url("/a"))
    assert isinstance(err, BodyTooLargeError)
    assert took < 5 and peak < 5 * CAP


def test_a_long_coding_chain_is_refused(srv: FaultServer) -> None:
    body = b"<html>hi</html>"
    for _ in range(8):
        body = _gzip(body)
    coding = ", ".join(["gzip"] * 8)
    srv.routes["/a"] = srv.status(
        200, body, {"content-type": "text/html", "content-encoding": coding}
    )
    err, _, _ = failure(srv.url("/a"))
    assert not err.retryable and "content codings" in str(err)


def test_the_exception_map_has_no_row_hidden_behind_a_broader_one() -> None:
    from scraper.fetch.client import EXCEPTION_MAP

    for i, (library, _, _) in enumerate(EXCEPTION_MAP):
        for earlier, _, _ in EXCEPTION_MAP[:i]:
            assert not issubclass(library, earlier), (
                f"{library.__name__} is shadowed by {earlier.__name__}"
            )


def test_a_resolver_error_that_is_not_a_name_lookup_is_not_called_dns(srv: FaultServer) -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise OSError(24, "Too many open files")

    async def go() -> None:
        async with Fetcher(settings(max_retries=0), resolver=broken) as f:
            await f.fetch("http://news.test/a")

    with pytest.raises(FetchError) as info:
        asyncio.run(go())
    assert type(info.value) is FetchError and "DNS" not in str(info.value)
    assert "Too many open files" in str(info.value)


@pytest.mark.parametrize("value", ["²", "99999999999999999999999999"])
def test_a_strange_retry_after_is_not_a_crash(srv: FaultServer, value: str) -> None:
    srv.routes["/a"] = srv.retry_after(503, value)
    result = fetch(srv.url("/a"), max_retries=1)
    assert result.status == 503
