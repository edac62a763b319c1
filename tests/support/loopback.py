"""A real HTTP server on 127.0.0.x for tests: routes are Python callables.

Every test that speaks HTTP goes through a socket to one of these, never to the internet.
A handler gets the ``BaseHTTPRequestHandler`` and writes the response itself, so fault handlers
can drip bytes, lie about Content-Length or reset the connection.
"""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import urlsplit

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Seen:
    method: str
    path: str
    headers: dict[str, str]
    #: when the request arrived (time.time()): politeness tests check the gaps
    at: float = field(default_factory=time.time)


@dataclass
class Response:
    body: bytes = b""
    status: int = 200
    headers: Mapping[str, str] = field(default_factory=dict)

    def __call__(self, req: BaseHTTPRequestHandler) -> None:
        send(req, self.status, self.body, self.headers)


def send(
    req: BaseHTTPRequestHandler,
    status: int,
    body: bytes = b"",
    headers: Mapping[str, str] | None = None,
) -> None:
    req.send_response(status)
    hdrs = {k.lower(): v for k, v in (headers or {}).items()}
    hdrs.setdefault("content-type", "text/html; charset=utf-8")
    hdrs.setdefault("content-length", str(len(body)))
    for key, value in hdrs.items():
        req.send_header(key, value)
    req.end_headers()
    if req.command != "HEAD":
        req.wfile.write(body)


class _Server(ThreadingHTTPServer):
    def handle_error(
        self, request: socket.socket | tuple[bytes, socket.socket], client_address: Any
    ) -> None:
        # a client that hangs up mid-exchange (a fetcher refusing a body it will not read) is
        # no server fault: its traceback on stderr would land in a CliRunner's captured output
        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class LoopbackServer:
    """``with LoopbackServer() as srv: srv.routes["/a"] = Response(b"...")``; ``srv.url("/a")``."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self.routes: dict[str, Handler] = {}
        #: handles every path no route matches (default: 404)
        self.fallback: Handler | None = None
        self.seen: list[Seen] = []
        self._lock = threading.Lock()
        outer = self

        class _Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            # headers and body go out in separate writes: without TCP_NODELAY every response
            # waits out the client's delayed ACK (~40 ms)
            disable_nagle_algorithm = True

            def log_message(self, format: str, *args: object) -> None:  # silence stderr
                pass

            def _dispatch(self) -> None:
                path = self.path
                with outer._lock:
                    outer.seen.append(
                        Seen(self.command, path, {k.lower(): v for k, v in self.headers.items()})
                    )
                handler = (
                    outer.routes.get(path)
                    or outer.routes.get(urlsplit(path).path)
                    or outer.fallback
                )
                if handler is None:
                    send(self, 404, b"not found", {"content-type": "text/plain"})
                    return
                with suppress(BrokenPipeError, ConnectionResetError):
                    handler(self)

            do_GET = _dispatch
            do_HEAD = _dispatch

        self._server = _Server((host, 0), _Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def host(self) -> str:
        host = self._server.server_address[0]
        return host.decode() if isinstance(host, bytes | bytearray) else str(host)

    @property
    def port(self) -> int:
        return int(self._server.server_address[1])

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def requests_for(self, path: str) -> list[Seen]:
        with self._lock:
            return [s for s in self.seen if s.path == path]

    def start(self) -> LoopbackServer:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def __enter__(self) -> LoopbackServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


@contextmanager
def serving(routes: Mapping[str, Handler], host: str = "127.0.0.1") -> Iterator[LoopbackServer]:
    with LoopbackServer(host) as srv:
        srv.routes.update(routes)
        yield srv
