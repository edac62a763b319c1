"""Hostile sites never stop a crawl (issue 15), end to end through ``vnnews crawl``.

A hostile site (a loopback fault server) is crawled beside the two healthy mirror sites in one
run. Its feed lists one URL per red-team finding, then an ordinary article. The run finishes in
bounded time and memory with exit status 0, the healthy sites archive every article, and each
hostile URL ends on its ``urls`` row with a clear one-line error. No name is looked up in real
DNS (the resolver is a stub) and nothing is ever sent to 127.0.0.2.
"""

from __future__ import annotations

import gzip
import socket
import time
import tracemalloc
import zlib
from http.server import BaseHTTPRequestHandler
from pathlib import Path

import brotli
import pytest
from sqlalchemy import select

from scraper.fetch import guard
from storage.models import Article, Url
from tests.support.archive import migrated
from tests.support.faults import FaultServer
from tests.support.loopback import LoopbackServer, send
from tests.support.mirror import MirrorSite
from tests.support.paths import REAL
from tests.support.sites import invoke, write_config

MB = 1_000_000
DEEP = ("<html><body>" + "<div>" * 100_000 + "x" + "</div>" * 100_000 + "</body></html>").encode()

# path → (state, a phrase of last_error, retried later?)
EXPECTED: dict[str, tuple[str, str, bool]] = {
    "/bad/javascript.html": (
        "blocked",
        "bad redirect location 'javascript:alert(1)': blocked scheme",
        False,
    ),
    "/bad/data.html": (
        "blocked",
        "bad redirect location 'data:text/html,x': blocked scheme",
        False,
    ),
    "/bad/backslash.html": ("failed", "bad redirect location 'http:\\\\\\\\h\\\\p'", False),
    "/bad/octal.html": ("failed", "bad redirect location 'http://0177.0.0.2/'", False),
    "/bad/6to4.html": ("blocked", "127.0.0.2", False),
    "/bad/nxdomain.html": ("failed", "DNS lookup failed", True),
    "/bad/gzip-br-zeros.html": ("failed", "byte cap", False),
    "/bad/deep.html": ("not_article", "nested deeper than", False),
}
OK_PAGE = "/ok/story.html"  # listed last: a hostile URL before it must not stop the site's drain


async def no_dns(host: str, port: int) -> list[str]:
    raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")


def _zeros_after_gzip(zeros: int) -> bytes:
    comp = zlib.compressobj(9, zlib.DEFLATED, 16 + zlib.MAX_WBITS)
    inner = comp.compress(b"<html>hi</html>") + comp.flush()
    br = brotli.Compressor(quality=5)
    parts = [br.process(inner)]
    piece = bytes(1 << 20)
    parts += [br.process(piece) for _ in range(zeros >> 20)]
    return b"".join([*parts, br.finish()])


def hostile_site(faults: FaultServer, private: LoopbackServer) -> None:
    r = faults.routes
    r["/robots.txt"] = faults.status(
        200, b"User-agent: *\nAllow: /\n", {"content-type": "text/plain"}
    )
    r["/bad/javascript.html"] = faults.redirect("javascript:alert(1)")
    r["/bad/data.html"] = faults.redirect("data:text/html,x")
    r["/bad/backslash.html"] = faults.redirect("http:\\\\h\\p")
    r["/bad/octal.html"] = faults.redirect("http://0177.0.0.2/")
    r["/bad/6to4.html"] = faults.redirect(f"http://[2002:7f00:2::1]:{private.port}/secret")
    r["/bad/nxdomain.html"] = faults.redirect("http://no-such-host.invalid/x.html")
    zeros = _zeros_after_gzip(256 << 20)

    def gzip_br(req: BaseHTTPRequestHandler) -> None:
        send(req, 200, zeros, {"content-type": "text/html", "content-encoding": "gzip, br"})

    r["/bad/gzip-br-zeros.html"] = gzip_br
    r["/bad/deep.html"] = faults.status(200, DEEP, {"content-type": "text/html"})
    r[OK_PAGE] = faults.status(
        200,
        (REAL / "dantri.com.vn" / "meth04-article.html").read_bytes(),
        {"content-type": "text/html"},
    )
    items = "".join(
        f"<item><title>t</title><link>{faults.url(p)}</link></item>" for p in [*EXPECTED, OK_PAGE]
    )
    r["/rss.xml"] = faults.status(
        200,
        f'<?xml version="1.0"?><rss version="2.0"><channel>{items}</channel></rss>'.encode(),
        {"content-type": "application/rss+xml"},
    )


def test_a_hostile_site_beside_healthy_ones(
    db_url: str,
    mirrors: tuple[MirrorSite, MirrorSite],
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(guard, "system_resolver", no_dns)
    vnx, tt = mirrors
    with FaultServer() as faults, LoopbackServer("127.0.0.2") as private:
        hostile_site(faults, private)
        config = write_config(
            tmp_path / "sources.toml",
            vnx,
            tt,
            f"""
[[site]]
name = "hostile"
base_url = "{faults.url("/")}"
feeds = ["{faults.url("/rss.xml")}"]
article_pattern = '\\.html$'
""",
        )
        assert invoke(db_url, config, "db", "upgrade")[0] == 0
        start = time.monotonic()
        tracemalloc.start()
        try:
            code, out = invoke(db_url, config, "crawl")
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        took = time.monotonic() - start
        assert not private.seen, "nothing may ever be sent to a blocked address"

    assert code == 0, out
    assert took < 60, f"the crawl took {took:.0f} s"
    assert peak < 150 * MB, f"peak traced memory {peak / MB:.0f} MB"
    # exactly what the healthy sites archive when crawled alone (tests/e2e/test_e2e.py)
    assert (
        "vnx: discovered 5, fetched 4, new 2, changed 0, unchanged 0, duplicates 1, "
        "not modified 0, not articles 0, errors 2" in out
    )
    assert "tt: discovered 1, fetched 1, new 1" in out
    engine, sessions = migrated(db_url)
    try:
        with sessions() as s:
            rows = {
                u.url.removeprefix(faults.base_url): u
                for u in s.scalars(select(Url))
                if u.kind == "article"
            }
            for path, (state, phrase, retried) in EXPECTED.items():
                row = rows[path]
                error = row.last_error or ""
                assert row.state == state, (path, row.state, error)
                assert phrase in error, (path, error)
                assert "\n" not in error and "Traceback" not in error
                assert (row.next_due is not None) == retried, (path, row.next_due)
                assert row.attempts == 1, (path, row.attempts)
            assert rows[OK_PAGE].state == "fetched", rows[OK_PAGE].last_error
            assert s.scalars(select(Article).where(Article.url == faults.url(OK_PAGE))).one()
    finally:
        engine.dispose()


def test_a_gzipped_sitemap_respects_max_bytes(sqlite_url: str, tmp_path: Path) -> None:
    urls = "".join(f"<url><loc>http://127.0.0.1/a/{i}.html</loc></url>" for i in range(3))
    padding = b" " * (20 * MB)  # decompresses to 20 MB: over the 2 MB cap, under the 50 MB default
    body = gzip.compress(
        b'<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        + urls.encode()
        + padding
        + b"</urlset>"
    )
    with FaultServer() as faults:
        faults.routes["/robots.txt"] = faults.status(404)
        faults.routes["/sitemap.xml.gz"] = faults.status(
            200, body, {"content-type": "application/gzip"}
        )
        config = tmp_path / "sources.toml"
        config.write_text(f"""
[fetch]
min_delay = 0
max_retries = 0
max_bytes = 2_000_000
allow_hosts = ["127.0.0.1"]
[[site]]
name = "big"
base_url = "{faults.url("/")}"
sitemaps = ["{faults.url("/sitemap.xml.gz")}"]
robots_sitemaps = false
""")
        assert invoke(sqlite_url, config, "db", "upgrade")[0] == 0
        invoke(sqlite_url, config, "crawl")
    engine, sessions = migrated(sqlite_url)
    try:
        with sessions() as s:
            row = s.scalars(select(Url).where(Url.kind == "sitemap")).one()
            assert "larger than 2000000 bytes" in (row.last_error or ""), row.last_error
    finally:
        engine.dispose()
