"""What the daemon sets up before its first pass: its jobs on APScheduler's own scheduler
(intervals under a second, ``drain_every = "0.5s"``, give jobs APScheduler accepts) and the
check of its ``--http`` address."""

from __future__ import annotations

import asyncio
import socket

import pytest
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from jobs.config import parse_config
from jobs.crawl import Crawler
from jobs.daemon import Daemon
from jobs.httpd import check_listen

CONFIG = """
[daemon]
drain_every = "0.5s"
[[site]]
name = "x"
base_url = "http://127.0.0.1:9/"
feeds = ["http://127.0.0.1:9/rss.xml"]
every = "90.5s"
"""


def test_sub_second_and_fractional_intervals_are_scheduled() -> None:
    config = parse_config(CONFIG)

    async def jobs() -> dict[str, tuple[float, int]]:
        scheduler = AsyncIOScheduler()
        daemon = Daemon(config, Crawler(fetcher=None, sessions=None))  # type: ignore[arg-type]
        daemon.add_site_jobs(scheduler, config.sites[0], 0)
        return {
            job.id: (job.trigger.interval.total_seconds(), job.misfire_grace_time)
            for job in scheduler.get_jobs()
        }

    assert asyncio.run(jobs()) == {"crawl:x": (90.5, 91), "drain:x": (0.5, 1)}


def test_the_http_address_check_binds_as_asyncio_does() -> None:
    """``run --http`` checks its address before opening the archive: a taken IPv4 port is
    refused, and [::] with the same port is not (asyncio binds IPv6 sockets IPv6-only)."""
    with socket.socket() as taken:
        taken.bind(("0.0.0.0", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with pytest.raises(OSError):
            check_listen("127.0.0.1", port)
        if socket.has_ipv6:
            check_listen("::", port)
