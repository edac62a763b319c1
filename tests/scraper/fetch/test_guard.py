"""Private-address guard: pure classification, and end-to-end pinning through real sockets.

Only loopback is ever connected to: 127.0.0.1 plays the allowed host, 127.0.0.2 the forbidden
one (a server listens there to prove it never receives a request). Other addresses appear
only as literals given to the pure functions.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import ssl
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from scraper.errors import BlockedAddressError
from scraper.fetch import guard
from scraper.fetch.client import Fetcher, FetchSettings
from tests.support.faults import FakeTime, FaultServer, resolver_to, self_signed_cert
from tests.support.loopback import Response, send

ALLOW_LOCAL = frozenset({"127.0.0.1"})


@pytest.mark.parametrize(
    ("address", "reason"),
    [
        ("10.0.0.1", "private"),
        ("172.16.5.4", "private"),
        ("192.168.1.1", "private"),
        ("127.0.0.1", "loopback"),
        ("127.0.0.2", "loopback"),
        ("169.254.169.254", "link-local"),  # cloud metadata endpoint
        ("224.0.0.1", "multicast"),
        ("0.0.0.0", "unspecified"),
        ("240.0.0.1", "reserved"),
        ("100.64.0.1", "non-global"),  # carrier-grade NAT
        ("::1", "loopback"),
        ("::", "unspecified"),
        ("fe80::1", "link-local"),
        ("fc00::1", "private"),
        ("ff02::1", "multicast"),
        ("::ffff:127.0.0.1", "loopback"),
        ("::ffff:10.0.0.1", "private"),
        ("64:ff9b::a00:1", "private"),  # NAT64 of 10.0.0.1
        # IPv6 forms that wrap 127.0.0.2 / 10.0.0.1 (issue 15: 6to4 got through)
        ("2002:7f00:2::1", "loopback address 127.0.0.2"),  # 6to4
        ("2002:a00:1::", "private address 10.0.0.1"),
        ("2001:0:4136:e378:8000:63bf:80ff:fffd", "loopback address 127.0.0.2"),  # Teredo client
        ("2001:0:7f00:2::1", "loopback address 127.0.0.2"),  # Teredo server
        ("::127.0.0.2", "loopback address 127.0.0.2"),  # IPv4-compatible
        ("64:ff9b:1::7f00:2", "loopback address 127.0.0.2"),  # local-use NAT64
        ("::ffff:7f00:2", "loopback address 127.0.0.2"),
        ("localhost", "not an IP address"),
    ],
)
def test_blocked_reason(address: str, reason: str) -> None:
    got = guard.blocked_reason(address)
    assert got is not None and got.startswith(reason)


@pytest.mark.parametrize(
    "address",
    [
        "8.8.8.8",
        "203.113.131.1",
        "2001:4860:4860::8888",
        "::ffff:8.8.8.8",
        "64:ff9b::808:808",
        "2002:808:808::1",
    ],
)
def test_public_addresses_pass(address: str) -> None:
    assert guard.blocked_reason(address) is None


def test_check_addresses_checks_all_and_allow_list() -> None:
    allow = guard.normalize_allow({"127.0.0.1", "Intranet.Test."})
    guard.check_addresses("a.test", ["8.8.8.8", "127.0.0.1"], allow=allow, url="u")
    guard.check_addresses("intranet.test", ["10.0.0.1"], allow=allow, url="u")
    with pytest.raises(BlockedAddressError, match=re.escape("private address 10.0.0.1")):
        guard.check_addresses("a.test", ["8.8.8.8", "10.0.0.1"], allow=allow, url="u")
    with pytest.raises(BlockedAddressError, match="no address"):
        guard.check_addresses("a.test", [], allow=allow, url="u")


def test_a_blocked_host_error_names_the_setting_that_allows_it() -> None:
    # a local mirror is blocked on purpose; the one line says how to crawl it anyway, and the
    # setting it names does allow it
    with pytest.raises(BlockedAddressError) as caught:
        guard.check_addresses("Mirror.Local.", ["127.0.0.1"], allow=frozenset(), url="u")
    hint = '[fetch] allow_hosts = ["mirror.local"]'
    assert hint in str(caught.value) and "\n" not in str(caught.value)
    allow = guard.normalize_allow(["mirror.local"])
    guard.check_addresses("Mirror.Local.", ["127.0.0.1"], allow=allow, url="u")


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://a.test/x", "gopher://a.test/", "javascript:alert(1)"]
)
def test_only_http_schemes(url: str) -> None:
    async def go() -> None:
        async with Fetcher(FetchSettings(min_delay=0), resolver=resolver_to("127.0.0.1")) as f:
            await f.fetch(url)

    with pytest.raises(BlockedAddressError, match="scheme"):
        asyncio.run(go())


def fetch(url: str, *, resolver: Any = None, **settings: Any) -> Any:
    async def go() -> Any:
        time = FakeTime()
        s = FetchSettings(**{"min_delay": 0.0, "timeout": 5.0, "max_retries": 0, **settings})
        async with Fetcher(s, resolver=resolver, sleep=time.sleep, clock=time.clock) as f:
            return await f.fetch(url)

    return asyncio.run(go())


@pytest.mark.parametrize("respect_robots", [True, False])
def test_redirect_to_forbidden_address_never_connects(respect_robots: bool) -> None:
    with FaultServer() as ok, FaultServer("127.0.0.2") as forbidden:
        forbidden.routes["/"] = Response(b"secret")
        forbidden.routes["/robots.txt"] = Response(b"", status=404)
        ok.routes["/go"] = ok.redirect(forbidden.url("/"))
        with pytest.raises(
            BlockedAddressError, match=re.escape("loopback address 127.0.0.2")
        ) as err:
            fetch(ok.url("/go"), allow_hosts=ALLOW_LOCAL, respect_robots=respect_robots)
        assert err.value.url == ok.url("/go")
        assert not err.value.retryable
        assert ok.requests_for("/go")
        assert forbidden.seen == []


def test_loopback_blocked_without_allow_list() -> None:
    with FaultServer() as srv:
        srv.routes["/"] = Response(b"<html></html>")
        with pytest.raises(BlockedAddressError, match="loopback"):
            fetch(srv.url("/"))
        assert srv.seen == []


def test_name_is_connected_to_its_pinned_address() -> None:
    # "pinned.test" is unknown to the system resolver: the request can only reach the server
    # if the transport connects to the address the guard checked.
    with FaultServer() as srv:
        srv.routes["/"] = Response(b"<html>pinned</html>")
        result = fetch(
            f"http://pinned.test:{srv.port}/",
            resolver=resolver_to("127.0.0.1"),
            allow_hosts=ALLOW_LOCAL,
            respect_robots=False,
        )
        assert result.body == b"<html>pinned</html>"
        assert srv.seen[-1].headers["host"] == f"pinned.test:{srv.port}"


def test_allow_by_host_name() -> None:
    with FaultServer() as srv:
        srv.routes["/"] = Response(b"<html>ok</html>")
        result = fetch(
            f"http://intranet.test:{srv.port}/",
            resolver=resolver_to("127.0.0.1"),
            allow_hosts=frozenset({"intranet.test"}),
            respect_robots=False,
        )
        assert result.status == 200


def test_every_resolved_address_is_checked() -> None:
    with FaultServer() as srv, FaultServer("127.0.0.2") as forbidden:
        srv.routes["/"] = Response(b"<html>ok</html>")
        with pytest.raises(BlockedAddressError, match=re.escape("127.0.0.2")):
            fetch(
                f"http://two.test:{srv.port}/",
                resolver=resolver_to("127.0.0.1", "127.0.0.2"),
                allow_hosts=ALLOW_LOCAL,
                respect_robots=False,
            )
        assert srv.seen == [] and forbidden.seen == []


def test_dns_rebinding_between_requests_is_blocked() -> None:
    with FaultServer() as srv, FaultServer("127.0.0.2") as forbidden:
        srv.routes["/"] = Response(b"<html>ok</html>")
        forbidden.routes["/"] = Response(b"secret")
        answers = [["127.0.0.1"], ["127.0.0.2"]]

        async def rebinding(host: str, port: int) -> list[str]:
            return answers.pop(0) if len(answers) > 1 else answers[0]

        async def go() -> None:
            s = FetchSettings(
                min_delay=0, allow_hosts=ALLOW_LOCAL, respect_robots=False, max_retries=0
            )
            async with Fetcher(s, resolver=rebinding, sleep=FakeTime().sleep) as f:
                first = await f.fetch(f"http://rebind.test:{srv.port}/")
                assert first.status == 200
                # same port on purpose: only the address differs
                await f.fetch(f"http://rebind.test:{forbidden.port}/")

        with pytest.raises(BlockedAddressError, match=re.escape("127.0.0.2")):
            asyncio.run(go())
        assert forbidden.seen == []


def test_transport_refuses_unpinned_hosts_and_tries_pins_in_order() -> None:
    with FaultServer() as srv:
        srv.routes["/"] = Response(b"<html>ok</html>")

        async def go() -> tuple[str, int]:
            pins = guard.AddressPins()
            async with httpx.AsyncClient(transport=guard.PinnedTransport(pins)) as client:
                try:
                    await client.get(srv.url("/"))
                    unpinned = "connected"
                except httpx.ConnectError as exc:
                    unpinned = str(exc)
                # nothing listens on 127.0.0.3 at this port: the second pinned address is used
                pins.pin("127.0.0.1", ["127.0.0.3", "127.0.0.1"])
                response = await client.get(srv.url("/"))
                return unpinned, response.status_code

        unpinned, status = asyncio.run(go())
        assert unpinned.startswith("no checked address pinned")
        assert status == 200
        assert len(srv.seen) == 1


def test_pins_are_bounded() -> None:
    pins = guard.AddressPins(max_hosts=3)
    for i in range(10):
        pins.pin(f"h{i}.test", ["127.0.0.1"])
    assert len(pins) == 3
    assert pins.get("h9.test") == ("127.0.0.1",)
    assert pins.get("h0.test") == ()


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl CLI to make a certificate"
)
def test_https_pinning_verifies_the_name_not_the_address(tmp_path: Path) -> None:
    cert, key = self_signed_cert(tmp_path, "pinned.test")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)
    client_ctx = ssl.create_default_context(cafile=str(cert))
    with FaultServer(tls=server_ctx) as srv:
        srv.routes["/"] = Response(b"<html>tls</html>")

        async def go() -> tuple[int, str]:
            pins = guard.AddressPins()
            pins.pin("pinned.test", ["127.0.0.1"])
            pins.pin("other.test", ["127.0.0.1"])
            transport = guard.PinnedTransport(pins, ssl_context=client_ctx)
            async with httpx.AsyncClient(transport=transport) as client:
                ok = await client.get(f"https://pinned.test:{srv.port}/")
                try:
                    await client.get(f"https://other.test:{srv.port}/")
                    wrong = "accepted"
                except httpx.ConnectError as exc:
                    wrong = str(exc)
            return ok.status_code, wrong

        status, wrong = asyncio.run(go())
        assert status == 200
        assert srv.seen[0].headers["host"] == f"pinned.test:{srv.port}"
        # the certificate names pinned.test: the same address under another name is refused
        assert "certificate" in wrong.lower() and len(srv.seen) == 1


def test_one_pool_per_origin_keeps_its_connection_and_idle_pools_close() -> None:
    """PoolPerOrigin: each origin's requests reuse its own kept-alive connection; a pool unused
    for twice the keep-alive expiry is closed at the next request to any origin."""
    ports: dict[str, set[int]] = {"a": set(), "b": set()}

    def recorder(name: str) -> Any:
        def handle(req: Any) -> None:
            ports[name].add(req.client_address[1])
            send(req, 200, b"ok")

        return handle

    now = [0.0]
    with FaultServer() as a, FaultServer("127.0.0.2") as b:
        a.routes["/"], b.routes["/"] = recorder("a"), recorder("b")
        pools = guard.PoolPerOrigin(httpcore.AsyncConnectionPool, expiry=5.0, clock=lambda: now[0])

        async def get(url: str) -> int:
            host = url.split("/")[2].encode()
            request = httpcore.Request("GET", url, headers=[(b"host", host)])
            response = await pools.handle_async_request(request)
            await response.aread()
            await response.aclose()
            return response.status

        async def go() -> list[int]:
            seen = []
            for _ in range(3):
                seen += [await get(a.url("/")), await get(b.url("/"))]
            seen.append(pools.origins)
            now[0] = 11.0  # b's pool unused for 11 s > 2 x 5 s
            seen += [await get(a.url("/")), pools.origins]
            await pools.aclose()
            return [*seen, pools.origins]

        assert asyncio.run(go()) == [200] * 6 + [2, 200, 1, 0]
    assert len(ports["a"]) == 1 and len(ports["b"]) == 1
