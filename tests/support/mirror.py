"""Loopback mirrors of news sites built from the real pages in tests/fixtures/real/.

A ``MirrorSite`` serves robots.txt, an RSS feed (with ETag, so conditional GET is exercised) and
real article pages under local paths; tests add copies, errors and edits on top.
"""

from __future__ import annotations

import hashlib
import socket
from dataclasses import dataclass, field
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler
from xml.sax.saxutils import escape

from tests.support.loopback import LoopbackServer, Response, send
from tests.support.paths import REAL


@dataclass
class Item:
    path: str
    title: str
    published: datetime | None = None


@dataclass
class MirrorSite:
    server: LoopbackServer
    items: list[Item] = field(default_factory=list)
    robots: str = "User-agent: *\nDisallow: /private/\n"

    @property
    def base_url(self) -> str:
        return self.server.base_url + "/"

    def url(self, path: str) -> str:
        return self.server.url(path)

    def page(self, path: str, body: bytes, content_type: str = "text/html; charset=utf-8") -> None:
        self.server.routes[path] = Response(body, headers={"content-type": content_type})

    def real_page(self, path: str, fixture: str) -> bytes:
        body = (REAL / fixture).read_bytes()
        self.page(path, body)
        return body

    def add_item(self, path: str, title: str, published: datetime | None = None) -> None:
        self.items.append(Item(path, title, published))

    def feed_xml(self) -> bytes:
        entries = []
        for item in self.items:
            date = f"<pubDate>{format_datetime(item.published)}</pubDate>" if item.published else ""
            entries.append(
                f"<item><title>{escape(item.title)}</title><link>{escape(self.url(item.path))}</link>{date}</item>"
            )
        return (
            '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>mirror</title>'
            f"<link>{self.base_url}</link>{''.join(entries)}</channel></rss>"
        ).encode()

    def _feed(self, req: BaseHTTPRequestHandler) -> None:
        body = self.feed_xml()
        etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
        if req.headers.get("If-None-Match") == etag:
            send(req, 304, b"", {"etag": etag, "content-length": "0"})
            return
        send(req, 200, body, {"content-type": "application/rss+xml; charset=utf-8", "etag": etag})

    def _robots(self, req: BaseHTTPRequestHandler) -> None:
        send(req, 200, self.robots.encode(), {"content-type": "text/plain"})

    def start(self) -> MirrorSite:
        self.server.routes["/rss.xml"] = self._feed
        self.server.routes["/robots.txt"] = self._robots
        self.server.start()
        return self

    def stop(self) -> None:
        self.server.stop()


def dead_port(host: str = "127.0.0.1") -> int:
    """A loopback port with nothing listening (connection refused)."""
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])
