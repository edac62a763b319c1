"""scraper.fetch.netstream: httpcore's network stream on asyncio's streams, over real loopback
sockets (the pinned transport every fetch goes through)."""

from __future__ import annotations

import asyncio
import gc
import shutil
import socket
import ssl
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any

import httpcore
import httpx
import pytest

from scraper.fetch import guard, netstream
from tests.support.faults import FaultServer, self_signed_cert
from tests.support.loopback import send


def _client(host: str = "127.0.0.1", **kwargs: Any) -> httpx.AsyncClient:
    pins = guard.AddressPins()
    pins.pin(host, [host])
    return httpx.AsyncClient(transport=guard.PinnedTransport(pins), **kwargs)


def test_pinned_transport_uses_asyncio_streams() -> None:
    """The stream under every fetch is ours, not anyio's (the reason the module exists)."""
    pins = guard.AddressPins()
    pins.pin("site.test", ["127.0.0.1"])
    with FaultServer() as srv:

        async def go() -> tuple[object, object, object, bool]:
            stream = await guard._PinnedBackend(pins).connect_tcp("site.test", srv.port)
            try:
                info = stream.get_extra_info
                return type(stream), info("server_addr"), info("ssl_object"), info("is_readable")
            finally:
                await stream.aclose()

        kind, server_addr, ssl_object, readable = asyncio.run(go())
    assert kind is netstream.AsyncioStream
    assert server_addr[:2] == ("127.0.0.1", srv.port)  # type: ignore[index]
    assert ssl_object is None and readable is False


def test_keep_alive_reuses_one_connection() -> None:
    ports: set[int] = set()

    def handle(req: BaseHTTPRequestHandler) -> None:
        ports.add(req.client_address[1])
        send(req, 200, b"<p>x</p>" * 20_000)  # 160 KB: several reads

    with FaultServer() as srv:
        srv.routes["/"] = handle

        async def go() -> list[int]:
            async with _client() as client:
                return [len((await client.get(srv.url("/"))).content) for _ in range(3)]

        assert asyncio.run(go()) == [160_000] * 3
    assert len(ports) == 1


def test_a_connection_the_server_closed_is_not_reused() -> None:
    """The server closes its kept-alive connection after answering (without ``Connection:
    close``): the next request must open a new one, not fail on the dead one."""
    ports: list[int] = []

    def handle(req: BaseHTTPRequestHandler) -> None:
        ports.append(req.client_address[1])
        send(req, 200, b"ok")
        req.close_connection = True  # closed after the response, keep-alive advertised

    with FaultServer() as srv:
        srv.routes["/"] = handle

        async def go() -> list[int]:
            async with _client() as client:
                out = []
                for _ in range(3):
                    out.append((await client.get(srv.url("/"))).status_code)
                    await asyncio.sleep(0.05)  # the FIN arrives while the connection is idle
                return out

        assert asyncio.run(go()) == [200, 200, 200]
    assert len(set(ports)) == 3


def test_read_timeout_is_httpx_read_timeout() -> None:
    with FaultServer() as srv:
        srv.routes["/"] = srv.hang()

        async def go() -> float:
            start = time.monotonic()
            async with _client(timeout=httpx.Timeout(0.3)) as client:
                with pytest.raises(httpx.ReadTimeout):
                    await client.get(srv.url("/"))
            return time.monotonic() - start

        assert asyncio.run(go()) < 5


def test_refused_connection_is_connect_error() -> None:
    async def go() -> None:
        # port 9 on another loopback address: nothing listens there
        with pytest.raises(
            httpcore.ConnectError, match=r"connection to 127\.0\.0\.2:9 failed: Conn"
        ):
            await netstream.connect_tcp("127.0.0.2", 9, timeout=2.0, local_address=None)

    asyncio.run(go())


def test_a_reset_mid_body_is_a_read_error() -> None:
    with FaultServer() as srv:
        srv.routes["/"] = srv.reset_mid_body()

        async def go() -> None:
            async with _client() as client:
                with pytest.raises((httpx.ReadError, httpx.RemoteProtocolError)):
                    await client.get(srv.url("/"))

        asyncio.run(go())


class _RawServer:
    """A TCP server on 127.0.0.1 answering each connection with ``answer(conn)`` in a thread:
    for what an HTTP server would not do (stall a TLS handshake, send bytes after a response)."""

    def __init__(self, answer: Any) -> None:
        self._sock = socket.create_server(("127.0.0.1", 0))
        self.port = self._sock.getsockname()[1]
        self._answer = answer
        self.connections = 0
        self._open: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            self.connections += 1
            self._open.append(conn)
            threading.Thread(target=self._answer, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self._sock.close()
        for conn in self._open:
            conn.close()


def test_a_stalled_tls_handshake_ends_at_the_connect_timeout() -> None:
    """The server accepts the connection and never answers the ClientHello."""
    server = _RawServer(lambda conn: conn.recv(65536))
    try:
        pins = guard.AddressPins()
        pins.pin("stall.test", ["127.0.0.1"])

        async def go() -> float:
            start = time.monotonic()
            transport = guard.PinnedTransport(pins)
            async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(0.5)) as c:
                with pytest.raises(httpx.ConnectTimeout):
                    await c.get(f"https://stall.test:{server.port}/")
            return time.monotonic() - start

        assert asyncio.run(go()) < 3
    finally:
        server.close()


def test_bytes_after_a_response_keep_the_connection_from_reuse() -> None:
    """A server that sends bytes nobody asked for while its kept-alive connection is idle: the
    next request goes on a new connection instead of reading them as its answer (asyncio has
    read them off the socket already: the socket itself is not readable)."""

    def answer(conn: socket.socket) -> None:
        conn.recv(65536)
        conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
        time.sleep(0.1)
        conn.sendall(b"HTTP/1.1 418 junk\r\n\r\n")
        time.sleep(5)  # holds the connection open

    server = _RawServer(answer)
    try:

        async def go() -> list[int]:
            async with _client() as client:
                out = []
                for _ in range(2):
                    out.append((await client.get(f"http://127.0.0.1:{server.port}/")).status_code)
                    await asyncio.sleep(0.3)
                return out

        assert asyncio.run(go()) == [200, 200]
        assert server.connections == 2
    finally:
        server.close()


@pytest.mark.skipif(
    shutil.which("openssl") is None, reason="needs the openssl CLI to make a certificate"
)
def test_closing_a_tls_connection_does_not_wait_for_the_peer(tmp_path: Path) -> None:
    """The server never answers the client's close_notify (it holds the socket): closing the
    client returns at once, and the socket is closed before the event loop ends."""
    cert, key = self_signed_cert(tmp_path, "tls.test")
    server_ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_ctx.load_cert_chain(cert, key)

    def answer(conn: socket.socket) -> None:
        with server_ctx.wrap_socket(conn, server_side=True) as tls:
            tls.recv(65536)
            tls.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            time.sleep(5)  # never reads the close_notify

    server = _RawServer(answer)
    pins = guard.AddressPins()
    pins.pin("tls.test", ["127.0.0.1"])
    try:

        async def go() -> tuple[int, float]:
            transport = guard.PinnedTransport(
                pins, ssl_context=ssl.create_default_context(cafile=str(cert))
            )
            client = httpx.AsyncClient(transport=transport)
            status = (await client.get(f"https://tls.test:{server.port}/")).status_code
            start = time.monotonic()
            await client.aclose()
            return status, time.monotonic() - start

        with warnings.catch_warnings():
            warnings.simplefilter("error", ResourceWarning)  # an unclosed socket fails
            status, closing = asyncio.run(go())
            gc.collect()
        assert status == 200 and closing < 1
    finally:
        server.close()
