"""The daemon: APScheduler maps each site's schedule to the crawl use cases.

Per site, two jobs: a full pass (discover + fetch) every ``every`` with jitter, and a drain
(fetch due URLs: retries, recrawls) every ``daemon.drain_every``. A per-site lock keeps them from
overlapping. Start times are staggered so a restart does not fire every site at once.

It says what matters and nothing else: a pass with nothing to do logs nothing (it is counted);
a site whose status changes (failing, rotting, stale, moved; ok again) gets one line; every
``log_stats_every`` one summary line. ``--http`` serves ``/healthz`` and ``/metrics``
(``jobs.httpd``). SIGINT and SIGTERM stop the scheduler, cancel in-flight passes (which give their
leased URLs back) and exit 0 without a traceback; SIGHUP reloads sources.toml (``jobs.reload``).
The daemon is a worker (``jobs.worker``): it heartbeats every ``[daemon] heartbeat`` and with each
beat hands back the leases of dead workers (crash recovery, also run once at start).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import random
import signal
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from jobs import reload
from jobs.config import Config, SiteConfig
from jobs.crawl import Crawler
from jobs.health import Health, check_health, site_reports
from jobs.httpd import HealthServer
from jobs.metrics import ArchiveSnapshot, Metrics
from jobs.status import Status, human
from jobs.worker import WorkerLife, vnnews_version
from scraper.errors import StorageError, VnnewsError
from storage.models import Url

log = logging.getLogger("vnnews.daemon")

#: the first pause of every pass after the database failed, and the longest
DB_BACKOFF = timedelta(minutes=1)
DB_BACKOFF_MAX = timedelta(minutes=30)

__all__ = ["Daemon", "vnnews_version"]


class Daemon:
    def __init__(
        self,
        config: Config,
        crawler: Crawler,
        *,
        rng: random.Random | None = None,
        http: tuple[str, int] | None = None,
    ) -> None:
        self.config = config
        self.crawler = crawler
        self.rng = rng or random.Random()
        self.http = http
        self.metrics = crawler.metrics or Metrics()
        crawler.metrics = self.metrics
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[object]] = set()
        self._stop = asyncio.Event()
        self._scheduler: AsyncIOScheduler | None = None
        #: each site's last status, as last logged (None: not judged yet)
        self._status: dict[str, Status] = {}
        self._last_tally = (0, 0, 0)
        self.worker_id: int | None = None
        #: after a database failure no pass starts before this (``_database_failed``)
        self._db_paused_until = datetime.min.replace(tzinfo=UTC)
        self._db_backoff = timedelta(0)
        self.life = WorkerLife(crawler.sessions, config.daemon, "run", crawler.clock)
        crawler.lease = timedelta(seconds=config.daemon.lease)

    def sites(self) -> list[SiteConfig]:
        return [s for s in self.config.sites if s.enabled]

    # --- the passes --------------------------------------------------------------------------

    async def _guarded(self, site: SiteConfig, discover: bool) -> None:
        if self._stop.is_set():
            # a job APScheduler handed over as the daemon stopped: it would start after the
            # passes were cancelled, on a closed fetcher ("the client has been closed")
            return
        lock = self._locks.setdefault(site.name, asyncio.Lock())
        if lock.locked():  # the other job of this site is running; it will pick the work up
            return
        if self.crawler.clock() < self._db_paused_until:
            return  # the database failed (disk full): every pass waits for the back-off
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            async with lock:
                stats = await self.crawler.crawl_site(site, discover=discover)
            self._db_backoff = timedelta(0)  # the database took a whole pass: back-off over
            outcome = stats.outcome()
            self.metrics.passed(site.name, outcome, stats.failures())
            if outcome != "idle":
                self.watch_statuses([site.name])
        except asyncio.CancelledError:
            # shutdown: the pass gave its URL back and closed its run; ending here (not
            # re-raising) keeps APScheduler from logging the cancellation as a job error
            return
        except StorageError as exc:
            self._database_failed(exc)
        # a pass that blows up is logged; the schedule and other sites go on
        except Exception as exc:
            if self._stop.is_set():  # its fetcher or database closed under it: no defect
                log.info("site=%s pass stopped with the daemon: %s", site.name, exc)
                return
            log.exception("site=%s pass failed", site.name)
        finally:
            if task is not None:
                self._tasks.discard(task)

    def _database_failed(self, exc: StorageError) -> None:
        """The database refused a write (disk full, unreachable): one line, then every pass waits
        a growing back-off (1 min doubling to 30 min) instead of failing again at once; the
        daemon lives on and the next pass after the pause tries again."""
        now = self.crawler.clock()
        if now < self._db_paused_until:
            return  # another site's pass hit the same failure: said once already
        self._db_backoff = min(
            DB_BACKOFF_MAX, self._db_backoff * 2 if self._db_backoff else DB_BACKOFF
        )
        self._db_paused_until = now + self._db_backoff
        log.error(
            "%s; every pass paused for %d s, then retried",
            str(exc).splitlines()[0], self._db_backoff.total_seconds(),
        )  # fmt: skip

    def add_site_jobs(self, scheduler: AsyncIOScheduler, site: SiteConfig, delay: float) -> None:
        """The crawl and drain jobs of one site, the first crawl ``delay`` seconds from now."""
        first = self.crawler.clock() + timedelta(seconds=delay)
        scheduler.add_job(
            self._guarded,
            IntervalTrigger(seconds=site.every, jitter=self.config.daemon.jitter or None),
            args=(site, True),
            id=f"crawl:{site.name}",
            name=f"crawl {site.name}",
            next_run_time=first,
            max_instances=1,
            coalesce=True,
            misfire_grace_time=_grace(site.every),
            replace_existing=True,
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
            misfire_grace_time=_grace(drain_every),
            replace_existing=True,
        )

    def remove_site_jobs(self, scheduler: AsyncIOScheduler, name: str) -> None:
        """A running pass of the site finishes; no new one starts."""
        for job_id in (f"crawl:{name}", f"drain:{name}"):
            with contextlib.suppress(Exception):
                scheduler.remove_job(job_id)
        self._status.pop(name, None)

    def build_scheduler(self) -> AsyncIOScheduler:
        scheduler = AsyncIOScheduler(timezone="UTC")
        for i, site in enumerate(self.sites()):
            # stagger first runs over the first minute, then each site on its own interval
            self.add_site_jobs(scheduler, site, min(60.0, 2.0 * i) + self.rng.uniform(0, 2))
        return scheduler

    # --- what the operator sees --------------------------------------------------------------

    def health(self) -> Health:
        with self.crawler.sessions() as s:
            return check_health(s, self.config, self.crawler.clock())

    def snapshot(self) -> ArchiveSnapshot:
        """What ``/metrics`` reads from the archive (blocking)."""
        now = self.crawler.clock()
        with self.crawler.sessions() as s:
            health = check_health(s, self.config, now)
            frontier = {
                str(state): int(n)
                for state, n in s.execute(select(Url.state, func.count()).group_by(Url.state))
            }
        return ArchiveSnapshot(now, health, frontier)

    def healthz(self) -> tuple[bool, str]:
        h = self.health()
        lines = ["ok" if h.ok else "unhealthy", *h.problems, *(f"daemon: {d}" for d in h.daemons)]
        return h.ok, "\n".join(lines) + "\n"

    def watch_statuses(self, names: list[str] | None = None) -> None:
        """Log each change of a site's status once: a WARNING when it turns failing, rotting,
        stale or moved, an INFO when it is ok again."""
        try:
            with self.crawler.sessions() as s:
                reports = site_reports(s, self.config, self.crawler.clock(), names=names)
        except Exception as exc:  # the archive is unreachable: the passes will say so
            log.error("cannot read site statuses: %s", str(exc).splitlines()[0])
            return
        for r in reports:
            if not r.enabled:
                continue
            before, now = self._status.get(r.name), r.verdict.status
            self._status[r.name] = now
            if now == before:
                continue
            if now in ("failing", "rotting", "stale", "moved"):
                log.warning("site=%s status=%s: %s", r.name, now, r.verdict.reason)
            elif before is not None:
                log.info("site=%s status=%s again: %s", r.name, now, r.verdict.reason)

    async def _log_stats(self) -> None:
        """One summary line (like Scrapy's LogStats), then a status check (stale comes with
        time, not with a pass)."""
        t = self.metrics.tally
        pages, new, errors = (
            t.pages - self._last_tally[0],
            t.new_articles - self._last_tally[1],
            t.errors - self._last_tally[2],
        )
        self._last_tally = (t.pages, t.new_articles, t.errors)
        every = self.config.daemon.log_stats_every
        counts: dict[str, int] = {}
        for status in self._status.values():
            counts[status] = counts.get(status, 0) + 1
        sites = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none judged yet"
        log.info(
            "stats: %.1f pages/min, %d new articles, %d errors in the last %s; sites: %s; "
            "%d idle passes since start",
            pages * 60.0 / every, new, errors, human(timedelta(seconds=every)), sites,
            t.idle_passes,
        )  # fmt: skip
        self.watch_statuses()

    # --- life cycle --------------------------------------------------------------------------

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
        """Run until stop() or SIGINT/SIGTERM; SIGHUP reloads the configuration."""
        loop = asyncio.get_running_loop()
        handlers = {signal.SIGINT: self._on_signal, signal.SIGTERM: self._on_signal}
        if hasattr(signal, "SIGHUP"):
            handlers[signal.SIGHUP] = self._on_hangup
        for sig, handler in handlers.items():
            with contextlib.suppress(NotImplementedError, RuntimeError):
                loop.add_signal_handler(sig, handler, sig)
        server = await self._serve_http()
        self._register()
        scheduler = self._scheduler = self.build_scheduler()
        scheduler.add_job(
            self._heartbeat, IntervalTrigger(seconds=self.config.daemon.heartbeat),
            id="heartbeat", name="heartbeat", max_instances=1, coalesce=True,
        )  # fmt: skip
        scheduler.add_job(
            self._log_stats, IntervalTrigger(seconds=self.config.daemon.log_stats_every),
            id="stats", name="stats", max_instances=1, coalesce=True,
        )  # fmt: skip
        scheduler.start()
        names = ", ".join(f"{s.name} every {int(s.every)}s" for s in self.sites())
        log.info("vnnews daemon started: %d sites (%s)", len(self.sites()), names or "none")
        self.watch_statuses()
        try:
            await self._stop.wait()
        finally:
            scheduler.shutdown(wait=False)
            for task in list(self._tasks):
                task.cancel()
            if self._tasks:
                await asyncio.gather(*self._tasks, return_exceptions=True)
            if server is not None:
                await server.close()
            for sig in handlers:
                with contextlib.suppress(NotImplementedError, RuntimeError):
                    loop.remove_signal_handler(sig)
            self._unregister()
            log.info("vnnews daemon stopped")

    async def _serve_http(self) -> HealthServer | None:
        if self.http is None:
            return None
        self.metrics.watch_archive(self.snapshot)
        server = HealthServer(self.healthz, self.metrics.render)
        host, port = self.http
        try:
            address = await server.start(host, port)
        except OSError as exc:  # taken, or not an address of this machine
            raise VnnewsError(
                f"--http {host}:{port}: cannot listen: {exc.strerror or exc}"
            ) from None
        log.info("serving %s/healthz and %s/metrics", address, address)
        return server

    def _on_signal(self, sig: signal.Signals) -> None:
        log.info("received %s: finishing", sig.name)
        self.stop()

    def _on_hangup(self, sig: signal.Signals) -> None:
        log.info("received %s: reloading %s", sig.name, self.config.path)
        if self._scheduler is not None:
            reload.apply(self, self._scheduler)


def _grace(interval: float) -> int:
    """APScheduler's misfire grace for a job run every ``interval`` seconds: whole seconds,
    at least one (it refuses 0, which a "0.5s" interval would give)."""
    return max(1, math.ceil(interval))
