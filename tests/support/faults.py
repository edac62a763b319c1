"""Fault injection for fetch tests: hostile HTTP handlers on a real loopback server, fake time.

``FaultServer`` is a ``tests.support.loopback.LoopbackServer`` that also counts body bytes it sent and
releases hanging handlers when it stops. Its methods build handlers, one per fault::

    with FaultServer() as srv:
        srv.routes["/hang"] = srv.hang()
        srv.routes["/drip"] = srv.drip(b"<html>...")
        srv.routes["/bomb"] = srv.gzip_bomb(50_000_000)

Large bodies are generated lazily in 64 KiB pieces: the server never holds them in memory.
``FakeTime`` gives a Fetcher a clock and a sleep that never waits, and records every sleep.
"""

from __future__ import annotations

import asyncio
import random
import socket
import ssl
import struct
import subprocess
import threading
import zlib
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from functools import cache
from http.server import BaseHTTPRequestHandler
from pathlib import Path

from tests.support.loopback import Handler, LoopbackServer, send

PIECE = 64 * 1024


class FakeTime:
    """A clock that moves only when the code under test sleeps; every sleep is recorded."""

    def __init__(self, start: datetime | None = None) -> None:
        self.now = start or datetime(2026, 9, 5, 1, 0, tzinfo=UTC)
        self.sleeps: list[float] = []

    def clock(self) -> datetime:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += timedelta(seconds=seconds)
        await asyncio.sleep(0)


class resolver_to:  # lower case: used like a function, resolver_to("127.0.0.1")
    """A resolver answering ``addresses`` for every name; counts calls per host."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = list(addresses)
        self.calls: dict[str, int] = {}

    async def __call__(self, host: str, port: int) -> list[str]:
        self.calls[host] = self.calls.get(host, 0) + 1
        return list(self.addresses)


def _headers(req: BaseHTTPRequestHandler, status: int, headers: Mapping[str, str]) -> None:
    req.send_response(status)
    for key, value in headers.items():
        req.send_header(key, value)
    req.end_headers()


@cache
def gzip_bomb_bytes(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about 1000:1), built without holding ``size`` bytes."""
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    zeros = bytes(PIECE)
    parts = []
    for _ in range(size // PIECE):
        parts.append(comp.compress(zeros))
    parts.append(comp.compress(bytes(size % PIECE)))
    parts.append(comp.flush())
    return b"".join(parts)


class FaultServer(LoopbackServer):
    """A loopback server with a handler factory per fault."""

    def __init__(self, host: str = "127.0.0.1", *, tls: ssl.SSLContext | None = None) -> None:
        super().__init__(host)
        self.tls = tls is not None
        if tls is not None:
            # TLS from the first byte: the listening socket hands out TLS connections
            self._server.socket = tls.wrap_socket(self._server.socket, server_side=True)
        self.stopping = threading.Event()
        self._count_lock = threading.Lock()
        self.body_bytes_sent = 0
        self.in_flight = 0
        self.max_in_flight = 0
        # headers and body go out in separate writes: without TCP_NODELAY each response waits
        # out the client's delayed ACK (~40 ms), which would dominate bench numbers
        self._server.RequestHandlerClass.disable_nagle_algorithm = True  # type: ignore[attr-defined]
        # poll faster than serve_forever's 0.5 s default so stop() returns at once
        self._thread = threading.Thread(
            target=lambda: self._server.serve_forever(poll_interval=0.02), daemon=True
        )

    def start(self) -> FaultServer:
        super().start()
        return self

    def __enter__(self) -> FaultServer:
        return self.start()

    @property
    def base_url(self) -> str:
        return super().base_url.replace("http://", "https://") if self.tls else super().base_url

    def stop(self) -> None:
        self.stopping.set()
        super().stop()

    def _sent(self, n: int) -> None:
        with self._count_lock:
            self.body_bytes_sent += n

    # ---- plain answers -----------------------------------------------------------------

    def status(
        self, code: int, body: bytes = b"", headers: Mapping[str, str] | None = None
    ) -> Handler:
        def handler(req: BaseHTTPRequestHandler) -> None:
            send(req, code, body, headers)
            self._sent(len(body))

        return handler

    def retry_after(self, code: int, value: str, then: Handler | None = None) -> Handler:
        """``code`` with ``Retry-After: value`` on the first request, then ``then`` (if given)."""
        state = {"n": 0}

        def handler(req: BaseHTTPRequestHandler) -> None:
            state["n"] += 1
            if then is not None and state["n"] > 1:
                then(req)
                return
            send(req, code, b"busy", {"retry-after": value, "content-type": "text/plain"})

        return handler

    def http_date(self, when: datetime) -> str:
        return format_datetime(when.astimezone(UTC), usegmt=True)

    def redirect(self, location: str, code: int = 302) -> Handler:
        return self.status(code, b"", {"location": location})

    def conditional(self, body: bytes, etag: str, last_modified: str, content_type: str) -> Handler:
        """200 with validators; 304 (no body) when the request's validators match."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            hdrs = {"etag": etag, "last-modified": last_modified, "content-type": content_type}
            if req.headers.get("if-none-match") == etag or (
                req.headers.get("if-none-match") is None
                and req.headers.get("if-modified-since") == last_modified
            ):
                _headers(req, 304, hdrs)
                return
            send(req, 200, body, hdrs)
            self._sent(len(body))

        return handler

    def slow_ok(self, body: bytes, hold: float = 0.2) -> Handler:
        """200 after ``hold`` seconds, recording how many requests overlap."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            with self._count_lock:
                self.in_flight += 1
                self.max_in_flight = max(self.max_in_flight, self.in_flight)
            try:
                self.stopping.wait(hold)
                send(req, 200, body)
            finally:
                with self._count_lock:
                    self.in_flight -= 1

        return handler

    # ---- faults ------------------------------------------------------------------------

    def hang(self, before_headers: bool = True) -> Handler:
        """Never answers (or sends headers and then nothing) until the server stops."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            if not before_headers:
                _headers(req, 200, {"content-type": "text/html", "content-length": "1000"})
                req.wfile.flush()
            self.stopping.wait(60)
            req.close_connection = True

        return handler

    def drip(self, body: bytes, interval: float = 1.0) -> Handler:
        """A correct Content-Length, then one byte per ``interval`` seconds."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            _headers(req, 200, {"content-type": "text/html", "content-length": str(len(body))})
            for i in range(len(body)):
                req.wfile.write(body[i : i + 1])
                req.wfile.flush()
                self._sent(1)
                if self.stopping.wait(interval):
                    break
            req.close_connection = True

        return handler

    def reset_mid_body(self, declared: int = 100_000, sent: int = 1000) -> Handler:
        """Headers and part of the body, then a TCP RST (SO_LINGER 0)."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            _headers(req, 200, {"content-type": "text/html", "content-length": str(declared)})
            req.wfile.write(b"x" * sent)
            req.wfile.flush()
            self._sent(sent)
            req.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            req.connection.close()
            req.close_connection = True

        return handler

    def short_body(self, declared: int = 5000, actual: int = 100) -> Handler:
        """Content-Length larger than the body, then a clean close."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            _headers(req, 200, {"content-type": "text/html", "content-length": str(declared)})
            req.wfile.write(b"y" * actual)
            req.wfile.flush()
            self._sent(actual)
            req.close_connection = True

        return handler

    def gzip_bomb(self, size: int = 50_000_000) -> Handler:
        def handler(req: BaseHTTPRequestHandler) -> None:
            data = gzip_bomb_bytes(size)
            send(req, 200, data, {"content-type": "text/html", "content-encoding": "gzip"})
            self._sent(len(data))

        return handler

    def big_body(self, size: int = 50_000_000, *, chunked: bool = True) -> Handler:
        """``size`` bytes of HTML-ish filler, generated piece by piece as it is sent."""

        def handler(req: BaseHTTPRequestHandler) -> None:
            hdrs = {"content-type": "text/html"}
            if chunked:
                hdrs["transfer-encoding"] = "chunked"
            else:
                hdrs["content-length"] = str(size)
            _headers(req, 200, hdrs)
            for piece in _pieces(size):
                if self.stopping.is_set():
                    break
                if chunked:
                    req.wfile.write(b"%x\r\n%s\r\n" % (len(piece), piece))
                else:
                    req.wfile.write(piece)
                self._sent(len(piece))
            if chunked:
                req.wfile.write(b"0\r\n\r\n")

        return handler

    def random_html(self, size: int = 20_000, seed: int = 7) -> Handler:
        body = random.Random(seed).randbytes(size)
        return self.status(200, body, {"content-type": "text/html; charset=utf-8"})


def _pieces(size: int) -> Iterator[bytes]:
    piece = (b"<p>" + b"a" * (PIECE - 7) + b"</p>\n")[:PIECE]
    while size > 0:
        yield piece[: min(size, PIECE)]
        size -= PIECE


def self_signed_cert(directory: Path, name: str) -> tuple[Path, Path]:
    """A throwaway certificate for ``name`` (openssl CLI); returns (cert.pem, key.pem)."""
    cert, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={name}",
            "-addext",
            f"subjectAltName=DNS:{name}",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key
