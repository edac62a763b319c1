"""The daemon's tiny HTTP endpoint (``vnnews run --http HOST:PORT``): ``/healthz`` and
``/metrics``, nothing else.

An asyncio server in the daemon's own event loop: no framework, one request per connection
(``Connection: close``), GET and HEAD only, the request head capped at 8 KiB. Answers are built
by blocking callables (they read the archive) run in a worker thread, so a slow database never
stalls the crawl. It binds exactly the address it is given.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable
from dataclasses import dataclass

from prometheus_client import CONTENT_TYPE_LATEST

log = logging.getLogger("vnnews.http")

MAX_HEAD = 8192
READ_TIMEOUT = 10.0


@dataclass(frozen=True)
class Answer:
    status: int
    body: bytes
    content_type: str = "text/plain; charset=utf-8"


_REASONS = {200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
            500: "Internal Server Error", 503: "Service Unavailable"}  # fmt: skip


def parse_address(value: str) -> tuple[str, int]:
    """``"127.0.0.1:9108"`` → ``("127.0.0.1", 9108)``; ``"[::1]:9108"`` for IPv6. Raises
    ValueError naming what is wrong. Pure."""
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{value!r}: expected HOST:PORT, e.g. 127.0.0.1:9108")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    number = int(port)
    if not 0 < number < 65536:
        raise ValueError(f"{value!r}: port must be 1-65535")
    return host, number


def check_listen(host: str, port: int) -> None:
    """Raise OSError if ``host:port`` cannot be listened on now (taken, or no address of this
    machine): ``vnnews run --http`` checks before it opens or creates the archive. Bound as
    asyncio binds (SO_REUSEADDR, IPv6 only on IPv6), on each address the host resolves to."""
    for family, kind, proto, _, address in socket.getaddrinfo(
        host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    ):
        with socket.socket(family, kind, proto) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if family == socket.AF_INET6:  # as asyncio: [::] does not take 0.0.0.0's port
                sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            sock.bind(address)


class HealthServer:
    """``health()`` → (healthy, text); ``metrics()`` → the Prometheus text format."""

    def __init__(
        self, health: Callable[[], tuple[bool, str]], metrics: Callable[[], bytes]
    ) -> None:
        self._health = health
        self._metrics = metrics
        self._server: asyncio.Server | None = None

    async def start(self, host: str, port: int) -> str:
        self._server = await asyncio.start_server(self._serve, host, port, limit=MAX_HEAD)
        sock = self._server.sockets[0].getsockname()
        return f"http://{host if ':' not in host else f'[{host}]'}:{sock[1]}"

    async def close(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT)
            answer, method = await self._answer(head)
            writer.write(_response(answer, with_body=method != "HEAD"))
            await writer.drain()
        except (asyncio.IncompleteReadError, asyncio.LimitOverrunError, TimeoutError):
            pass  # a client that went away or sent garbage gets nothing
        except ConnectionError:
            pass
        finally:
            writer.close()
            with contextlib.suppress(ConnectionError):
                await writer.wait_closed()

    async def _answer(self, head: bytes) -> tuple[Answer, str]:
        try:
            method, target, _ = head.split(b"\r\n", 1)[0].decode("ascii").split(" ", 2)
        except (UnicodeDecodeError, ValueError):
            return Answer(400, b"bad request\n"), "GET"
        if method not in ("GET", "HEAD"):
            return Answer(405, b"GET or HEAD only\n"), method
        path = target.split("?", 1)[0]
        try:
            if path == "/healthz":
                healthy, text = await asyncio.to_thread(self._health)
                return Answer(200 if healthy else 503, text.encode()), method
            if path == "/metrics":
                body = await asyncio.to_thread(self._metrics)
                return Answer(200, body, CONTENT_TYPE_LATEST), method
        except Exception as exc:  # the endpoint must answer; the daemon goes on
            log.error("http %s failed: %s", path, str(exc).splitlines()[0] if str(exc) else exc)
            return Answer(500, b"internal error\n"), method
        return Answer(404, b"not found: try /healthz or /metrics\n"), method


def _response(answer: Answer, *, with_body: bool) -> bytes:
    head = (
        f"HTTP/1.1 {answer.status} {_REASONS.get(answer.status, '')}\r\n"
        f"Content-Type: {answer.content_type}\r\n"
        f"Content-Length: {len(answer.body)}\r\n"
        "Connection: close\r\n\r\n"
    )
    return head.encode("ascii") + (answer.body if with_body else b"")
