"""The asyncio network backend (scraper/fetch/netstream.py) over real loopback sockets: its
errors are httpcore's, worded for a person; a body arrives whole through keep-alive reuse.
(Timeouts, resets and short bodies: test_faults.py; TLS and pinning: test_guard.py.)"""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import httpcore
import pytest

from scraper.errors import HostUnreachableError
from scraper.fetch.client import Fetcher, FetchSettings
from scraper.fetch.netstream import AsyncioBackend
from tests.support.faults import FaultServer
from tests.support.loopback import send

LOOPBACK = frozenset({"127.0.0.1"})


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_a_refused_connection_says_so() -> None:
    port = _closed_port()

    async def go() -> None:
        await AsyncioBackend().connect_tcp("127.0.0.1", port, timeout=5)

    with pytest.raises(httpcore.ConnectError, match=r"^Connection refused$"):
        asyncio.run(go())

    async def fetch() -> None:
        settings = FetchSettings(
            min_delay=0, respect_robots=False, max_retries=0, allow_hosts=LOOPBACK
        )
        async with Fetcher(settings) as fetcher:
            await fetcher.fetch(f"http://127.0.0.1:{port}/a.html")

    with pytest.raises(HostUnreachableError, match="cannot connect: Connection refused"):
        asyncio.run(fetch())


def test_bodies_arrive_whole_over_one_kept_alive_connection() -> None:
    big = b"<html><body>" + "Đồng Nai ".encode() * 40_000 + b"</body></html>"
    small = "<html>nhỏ</html>".encode()
    ports: list[int] = []

    def serving(body: bytes) -> Any:
        def handle(req: Any) -> None:
            ports.append(req.client_address[1])
            send(req, 200, body, {"content-type": "text/html; charset=utf-8"})

        return handle

    with FaultServer() as srv:
        srv.routes["/big.html"], srv.routes["/small.html"] = serving(big), serving(small)

        async def go() -> list[bytes]:
            settings = FetchSettings(
                min_delay=0, respect_robots=False, max_retries=0, allow_hosts=LOOPBACK
            )
            async with Fetcher(settings) as fetcher:
                return [
                    (await fetcher.fetch(srv.url(path))).body
                    for path in ("/big.html", "/small.html", "/big.html")
                ]

        bodies = asyncio.run(go())
    assert bodies == [big, small, big]
    assert len(ports) == 3 and len(set(ports)) == 1  # one connection, kept alive and reused
