"""Prometheus metrics of a daemon (``vnnews run --http``): every name starts with ``vnnews_``.

Counters are kept by the process as it works (``Metrics.fetched``, ``stored``, ...; the
crawler calls them); what the archive knows (frontier depth by state, each site's status,
seconds since its last new article, layout rot share, idle passes, daemons alive) is read from
the database when ``/metrics`` is scraped, by ``ArchiveCollector``, so several daemons sharing
one PostgreSQL archive report the same truth. ``Tally`` keeps the few totals the periodic
summary line needs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client import (
    CollectorRegistry,
    Counter,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from jobs.health import Health
from jobs.status import STATUSES

log = logging.getLogger("vnnews.metrics")


@dataclass
class Tally:
    """Process totals since start, for the summary line."""

    pages: int = 0
    new_articles: int = 0
    errors: int = 0
    idle_passes: int = 0


class Metrics:
    """The process's counters, in a registry of its own (tests run several daemons in one
    process)."""

    def __init__(self) -> None:
        disable_created_metrics()  # type: ignore[no-untyped-call]  # no *_created series
        self.registry = CollectorRegistry(auto_describe=True)
        self.tally = Tally()
        r = self.registry
        self._fetches = Counter(
            "vnnews_fetches", "HTTP fetches by site and status ('error': no usable response)",
            ["site", "status"], registry=r,
        )  # fmt: skip
        self._bytes = Counter(
            "vnnews_fetched_bytes", "Response body bytes received", ["site"], registry=r
        )
        self._articles = Counter(
            "vnnews_articles",
            "Article pages stored, by outcome: new, changed, unchanged, duplicate",
            ["site", "outcome"],
            registry=r,
        )
        self._failures = Counter(
            "vnnews_extraction_failures",
            "Pages fetched as articles where no article body was found",
            ["site"],
            registry=r,
        )
        self._fallbacks = Counter(
            "vnnews_extraction_fallbacks",
            "Articles of a site with a profile that the generic extractor read instead",
            ["site"],
            registry=r,
        )
        self._passes = Counter(
            "vnnews_passes", "Passes over a site by outcome: ok, failing, idle",
            ["site", "outcome"], registry=r,
        )  # fmt: skip
        self._errors = Counter("vnnews_errors", "Errors recorded by passes", ["site"], registry=r)

    def fetched(self, site: str, status: int | str, nbytes: int = 0) -> None:
        self._fetches.labels(site, str(status)).inc()
        if nbytes:
            self._bytes.labels(site).inc(nbytes)
        self.tally.pages += 1

    def stored(self, site: str, outcome: str, *, fallback: bool) -> None:
        self._articles.labels(site, outcome).inc()
        if outcome == "new":
            self.tally.new_articles += 1
        if fallback:
            self._fallbacks.labels(site).inc()

    def not_article(self, site: str) -> None:
        self._failures.labels(site).inc()

    def passed(self, site: str, outcome: str, errors: int) -> None:
        self._passes.labels(site, outcome).inc()
        if errors:
            self._errors.labels(site).inc(errors)
            self.tally.errors += errors
        if outcome == "idle":
            self.tally.idle_passes += 1

    def watch_archive(self, read: Callable[[], ArchiveSnapshot]) -> None:
        self.registry.register(ArchiveCollector(read))

    def render(self) -> bytes:
        """The text exposition format (blocking: the archive is read; call it in a thread)."""
        return generate_latest(self.registry)


@dataclass(frozen=True)
class ArchiveSnapshot:
    now: datetime
    health: Health
    #: URL state → count, over the whole frontier
    frontier: dict[str, int] = field(default_factory=dict)


class ArchiveCollector(Collector):
    """Reads the archive at scrape time; a database that cannot be read is ``vnnews_up 0``."""

    def __init__(self, read: Callable[[], ArchiveSnapshot]) -> None:
        self._read = read

    def describe(self) -> list[Metric]:
        return []  # unknown until read: no eager scrape at registration

    def collect(self) -> Iterator[Metric]:
        up = GaugeMetricFamily("vnnews_up", "1 if the archive could be read for this scrape")
        try:
            snap = self._read()
        except Exception as exc:  # a scrape must answer, and say why it could not read
            log.error("metrics: cannot read the archive: %s", str(exc).splitlines()[0])
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from _archive_metrics(snap)


def _archive_metrics(snap: ArchiveSnapshot) -> Iterator[Metric]:
    health = snap.health
    healthy = GaugeMetricFamily(
        "vnnews_healthy", "1 if vnnews health would exit 0 (daemon alive, no site unhealthy)"
    )
    healthy.add_metric([], 1 if health.ok else 0)
    yield healthy
    daemons = GaugeMetricFamily("vnnews_daemons_alive", "Daemons with a fresh heartbeat")
    daemons.add_metric([], len(health.daemons))
    yield daemons
    frontier = GaugeMetricFamily("vnnews_frontier_urls", "Frontier URLs by state", labels=["state"])
    for state, n in sorted(snap.frontier.items()):
        frontier.add_metric([state], n)
    yield frontier
    status = GaugeMetricFamily(
        "vnnews_site_status", "1 for the site's current status, 0 for the others",
        labels=["site", "status"],
    )  # fmt: skip
    since = GaugeMetricFamily(
        "vnnews_site_seconds_since_new_article",
        "Seconds since the site's last new article (absent: none yet)",
        labels=["site"],
    )
    rot = GaugeMetricFamily(
        "vnnews_site_rot_share",
        "Share of the site's newest article pages with no body, title or date, or read by the "
        "generic extractor instead of its profile",
        labels=["site"],
    )
    failing = GaugeMetricFamily(
        "vnnews_site_failing_passes", "Failing passes in a row", labels=["site"]
    )
    idle = CounterMetricFamily(
        "vnnews_site_idle_passes", "Passes with nothing to do (not in crawl_runs)", labels=["site"]
    )
    for r in health.sites:
        for s in STATUSES:
            status.add_metric([r.name, s], 1 if r.verdict.status == s else 0)
        if r.facts.last_new_article_at is not None:
            since.add_metric(
                [r.name], max(0.0, (snap.now - r.facts.last_new_article_at).total_seconds())
            )
        rot.add_metric([r.name], r.verdict.rot.share)
        failing.add_metric([r.name], r.facts.failing_passes)
        idle.add_metric([r.name], r.facts.idle_passes)
    yield from (status, since, rot, failing, idle)
