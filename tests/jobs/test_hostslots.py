"""Two workers' Fetchers sharing host slots through PostgreSQL: one request at a time per host
and the host's delay between any two requests, whoever sends them; a Retry-After pauses the
host for both. Real HTTP on a loopback server, which records when each request arrived."""

from __future__ import annotations

import asyncio
from itertools import pairwise

from jobs.hostslots import DbHostSlots
from scraper.fetch.client import Fetcher, FetchSettings
from storage.db import make_engine, session_factory, upgrade
from tests.support.loopback import LoopbackServer, Response, serving

DELAY = 0.3


def _fetcher(slots: DbHostSlots, retries: int = 0) -> Fetcher:
    settings = FetchSettings(
        min_delay=DELAY, respect_robots=False, allow_hosts=frozenset({"127.0.0.1"}),
        max_retries=retries, delay_factor=0,
    )  # fmt: skip
    return Fetcher(settings, slots=slots)


def _gaps(srv: LoopbackServer) -> list[float]:
    times = sorted(s.at for s in srv.seen)
    return [b - a for a, b in pairwise(times)]


def test_two_workers_keep_one_delay_per_host(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = session_factory(engine)
    pages = {f"/a{i}.html": Response(b"<p>x</p>") for i in range(8)}

    async def main(srv: LoopbackServer) -> None:
        one = _fetcher(DbHostSlots(sessions, holder="w1", delay_factor=0))
        two = _fetcher(DbHostSlots(sessions, holder="w2", delay_factor=0))
        async with one, two:
            results = await asyncio.gather(
                *(
                    (one if i % 2 else two).fetch(srv.url(f"/a{i}.html"), min_delay=DELAY)
                    for i in range(8)
                )
            )
        assert [r.status for r in results] == [200] * 8

    with serving(pages) as srv:
        asyncio.run(main(srv))
        gaps = _gaps(srv)
    assert len(gaps) == 7
    assert min(gaps) >= DELAY, gaps
    engine.dispose()


def test_a_retry_after_pauses_the_host_for_every_worker(pg_url: str) -> None:
    engine = make_engine(pg_url)
    upgrade(engine)
    sessions = session_factory(engine)
    routes = {
        "/busy": Response(b"slow down", status=429, headers={"retry-after": "1"}),
        "/ok": Response(b"<p>ok</p>"),
    }

    async def main(srv: LoopbackServer) -> None:
        # worker 1 is told to come back in 1 s and will (one retry); worker 2 asks meanwhile
        one = _fetcher(DbHostSlots(sessions, holder="w1", delay_factor=0), retries=1)
        two = _fetcher(DbHostSlots(sessions, holder="w2", delay_factor=0))
        async with one, two:
            busy = asyncio.create_task(one.fetch(srv.url("/busy"), min_delay=0))
            while not srv.seen:
                await asyncio.sleep(0.01)
            assert (await two.fetch(srv.url("/ok"), min_delay=0)).status == 200
            assert (await busy).status == 429

    with serving(routes) as srv:
        asyncio.run(main(srv))
        paths = [s.path for s in sorted(srv.seen, key=lambda s: s.at)]
        gaps = _gaps(srv)
    assert paths[0] == "/busy" and sorted(paths[1:]) == ["/busy", "/ok"], paths
    assert len(gaps) == 2 and gaps[0] >= 1.0, gaps
    engine.dispose()
