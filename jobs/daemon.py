"""The daemon: APScheduler maps each site's schedule to the crawl use cases.

Per site, two jobs: a full pass (discover + fetch) every ``every`` with jitter, and a drain
(fetch due URLs: retries, recrawls) every ``daemon.drain_every``. A per-site lock keeps them from
overlapping. Start times are staggered so a restart does not fire every site at once. SIGINT and
SIGTERM stop the scheduler, cancel in-flight passes (which give their leased URLs back) and exit 0.
The daemon is a worker (``jobs.worker``): it heartbeats every ``[daemon] heartbeat`` and with each
beat hands back the leases of dead workers (crash recovery, also run once at start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import signal
from datetime import timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.config import Config, SiteConfig
from jobs.crawl import Crawler
from jobs.worker import WorkerLife, vnnews_version

log = logging.getLogger("vnnews.daemon")

__all__ = ["Daemon", "vnnews_version"]


class Daemon:
    def __init__(
        self, config: Config, crawler: Crawler, *, rng: random.Random | None = None
    ) -> None:
        self.config = config
        self.crawler = crawler
        self.rng = rng or random.Random()
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._stop = asyncio.Event()
        self.worker_id: int | None = None
        self.life = WorkerLife(crawler.sessions, config.daemon, "run", crawler.clock)
        crawler.lease = timedelta(seconds=config.daemon.lease)

    def sites(self) -> list[SiteConfig]:
        return [s for s in self.config.sites if s.enabled]

    async def _guarded(self, site: SiteConfig, discover: bool) -> None:
        lock = self._locks.setdefault(site.name, asyncio.Lock())
        if lock.locked():  # the other job of this site is running; it will pick the work up
            return
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with lock:
                await self.crawler.crawl_site(site, discover=discover)
        except Exception:  # a pass that blows up is logged; the schedule and other sites go on
            log.exception("site=%s pass failed", site.name)
        finally:
            if task is not None:
                self._tasks.discard(task)

    def build_scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone="UTC")
        now = self.crawler.clock()
        sites = self.sites()
        for i, site in enumerate(sites):
            # stagger first runs over the first minute, then each site on its own interval
            first = now + timedelta(seconds=min(60.0, 2.0 * i) + self.rng.uniform(0, 2))
            scheduler.add_job(
                self._guarded,
                IntervalTrigger(seconds=site.every, jitter=self.config.daemon.jitter or None),
                args=(site, True),
                id=f"crawl:{site.name}",
                name=f"crawl {site.name}",
                next_run_time=first,
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(site.every),
            )
            drain_every = self.config.daemon.drain_every
            scheduler.add_job(
                self._guarded,
                IntervalTrigger(seconds=drain_every),
                args=(site, False),
                id=f"drain:{site.name}",
                name=f"drain {site.name}",
                next_run_time=first + timedelta(seconds=drain_every),
                max_instances=1,
                coalesce=True,
                misfire_grace_time=int(drain_every),
            )
        return scheduler

    def stop(self) -> None:
        self._stop.set()

    def _register(self) -> None:
        # registers, then releases what dead workers left leased (a kill -9 before us)
        self.worker_id = self.crawler.worker_id = self.life.start()

    async def _heartbeat(self) -> None:
        try:
            self.life.beat()  # and recovery: leases of workers silent for stale_after
        except Exception:  # the database may be briefly away; the next beat tries again
            log.exception("heartbeat failed")

    def _unregister(self) -> None:
        self.life.stop()

    async def run(self) -> None:
        """Run until stop() or SIGINT/SIGTERM."""
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, self._on_signal, sig)
        self._register()
        scheduler = self.build_scheduler()
        scheduler.add_job(
            self._heartbeat, IntervalTrigger(seconds=self.config.daemon.heartbeat),
            id="heartbeat", name="heartbeat", max_instances=1, coalesce=True,
        )  # fmt: skip
        scheduler.start()
        names = ", ".join(f"{s.name} every {int(s.every)}s" for s in self.sites())
        log.info("vnnews daemon started: %d sites (%s)", len(self.sites()), names or "none")
        try:
            await self._stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            for sig in (signal.SIGINT, signal.SIGTERM):
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            self._unregister()
            log.info("vnnews daemon stopped")

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s: finishing", sig.name)
        self.stop()
