"""Fetcher benchmark against a loopback server: ``python bench/fetch.py`` (or ``make bench-fetch``).

Measures, with politeness off (min_delay 0, robots off) so the fetcher's own overhead shows:
- pages/second for one host (requests serialized per host, keep-alive connection reused);
- pages/second over 8 host names fetched concurrently (all resolved to 127.0.0.1);
- body bytes downloaded when an unchanged feed is polled 10 times with its ETag (conditional GET).
The page is a real article from tests/fixtures/real, served gzip-compressed as sites do.
"""

from __future__ import annotations

import argparse
import asyncio
import gzip
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from scraper.fetch.client import Fetcher, FetchSettings  # noqa: E402
from tests.support.faults import FaultServer  # noqa: E402
from tests.support.loopback import Response  # noqa: E402

PAGE = ROOT / "tests" / "fixtures" / "real" / "vnexpress.net" / "meth04-article.html"
FEED = ROOT / "tests" / "fixtures" / "real" / "vietnambiz.vn" / "feed-vietnambiz.xml"
HOSTS = [f"site{i}.bench" for i in range(8)]


async def _loopback(host: str, port: int) -> list[str]:
    return ["127.0.0.1"]


def _fetcher() -> Fetcher:
    settings = FetchSettings(
        min_delay=0.0,
        respect_robots=False,
        allow_hosts=frozenset({"127.0.0.1"}),
        max_retries=0,
    )
    return Fetcher(settings, resolver=_loopback)


async def pages_per_second(srv: FaultServer, n: int) -> tuple[float, float]:
    async with _fetcher() as f:
        start = time.perf_counter()
        for _ in range(n):
            result = await f.fetch(srv.url("/article"))
            assert result.status == 200
        one_host = n / (time.perf_counter() - start)

        urls = [f"http://{HOSTS[i % len(HOSTS)]}:{srv.port}/article" for i in range(n)]
        start = time.perf_counter()
        results = await asyncio.gather(*(f.fetch(u) for u in urls))
        assert all(r.status == 200 for r in results)
        many_hosts = n / (time.perf_counter() - start)
    return one_host, many_hosts


async def conditional_polls(srv: FaultServer, polls: int) -> tuple[int, int, list[int]]:
    async with _fetcher() as f:
        before = srv.body_bytes_sent
        etag: str | None = None
        statuses: list[int] = []
        body_bytes = 0
        for _ in range(polls):
            result = await f.fetch(srv.url("/rss"), etag=etag, accept="feed")
            etag = result.etag or etag
            statuses.append(result.status)
            body_bytes += len(result.body)
        return body_bytes, srv.body_bytes_sent - before, statuses


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=300, help="pages per measurement")
    args = parser.parse_args()
    page, feed = PAGE.read_bytes(), FEED.read_bytes()
    with FaultServer() as srv:
        srv.routes["/article"] = Response(
            gzip.compress(page),
            headers={"content-type": "text/html; charset=utf-8", "content-encoding": "gzip"},
        )
        srv.routes["/rss"] = srv.conditional(
            feed, '"v1"', "Sat, 05 Sep 2026 01:00:00 GMT", "application/rss+xml"
        )
        one_host, many_hosts = asyncio.run(pages_per_second(srv, args.n))
        body_bytes, wire_bytes, statuses = asyncio.run(conditional_polls(srv, 10))
    print(f"page: {PAGE.name}, {len(page):,} bytes ({len(gzip.compress(page)):,} gzipped)")
    print(f"pages/s, one host, sequential:      {one_host:8.1f}")
    print(f"pages/s, {len(HOSTS)} hosts, concurrent:       {many_hosts:8.1f}")
    print(
        f"unchanged feed ({len(feed):,} bytes) polled 10x: {body_bytes:,} body bytes downloaded "
        f"({wire_bytes:,} sent by server); statuses {statuses}"
    )


if __name__ == "__main__":
    main()
