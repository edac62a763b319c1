"""Every site's status and the daemon's health, as ``vnnews sites``, ``vnnews health``,
``/healthz`` and ``/metrics`` all see them: the facts read from the archive
(``storage.site_facts``), judged by ``jobs.status`` under the configuration's thresholds.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy.orm import Session

from jobs.config import Config, DaemonConfig, SiteConfig
from jobs.status import Policy, Verdict, human, judge
from storage import moves, workers
from storage.site_facts import SiteFacts, site_facts


@dataclass(frozen=True)
class SiteReport:
    name: str
    facts: SiteFacts
    verdict: Verdict
    #: enabled in the configuration (a site only in the database is not)
    enabled: bool

    def as_dict(self, now: datetime) -> dict[str, Any]:
        f, v = self.facts, self.verdict

        def iso(t: datetime | None) -> str | None:
            return t.isoformat() if t else None

        since_new = (now - f.last_new_article_at).total_seconds() if f.last_new_article_at else None
        return {
            "name": self.name,
            "status": v.status,
            "reason": v.reason,
            "enabled": self.enabled,
            "last_new_article_at": iso(f.last_new_article_at),
            "seconds_since_new_article": since_new,
            "last_article_fetch_at": iso(f.last_article_fetch_at),
            "last_run_at": iso(f.last_run_at),
            "last_success_at": iso(f.last_success_at),
            "failing_passes": f.failing_passes,
            "error_count": f.error_count,
            "last_error": f.last_error,
            "errors_24h": f.errors_24h,
            "articles_24h": f.articles_24h,
            "articles_7d": f.articles_7d,
            "articles": f.articles,
            "urls_due": f.urls_due,
            "idle_passes": f.idle_passes,
            "stale_after_seconds": v.stale_threshold.total_seconds(),
            "rot_share": round(v.rot.share, 4),
            "rot_pages": v.rot.pages,
            "rot_sample": v.rot.sample,
        }


def policy_for(daemon: DaemonConfig, site: SiteConfig | None, moved_to: str | None) -> Policy:
    stale = site.stale_after if site is not None and site.stale_after else daemon.stale_after
    return Policy(
        enabled=site.enabled if site is not None else True,
        stale_after=timedelta(seconds=stale),
        failing_after=daemon.failing_after,
        rot_share=daemon.rot_share,
        has_profile=site is not None and site.profile is not None,
        moved_to=moved_to,
    )


def _never_run(site: SiteConfig, now: datetime) -> SiteFacts:
    return SiteFacts(
        name=site.name, base_url=site.base_url, added_at=now, last_run_at=None,
        last_success_at=None, error_count=0, last_error=None, failing_passes=0, idle_passes=0,
        articles=0, urls_due=0, last_article_fetch_at=None, last_new_article_at=None,
        errors_24h=0, articles_24h=0, articles_7d=0,
    )  # fmt: skip


def site_reports(
    session: Session, config: Config | None, now: datetime, *,
    moved: Mapping[str, str] | None = None, names: Collection[str] | None = None,
) -> list[SiteReport]:  # fmt: skip
    """The configured sites in their order, then those only in the database (as disabled);
    only the sites ``names`` if given."""
    daemon = config.daemon if config is not None else DaemonConfig()
    window = daemon.rot_window
    facts = {f.name: f for f in site_facts(session, now, rot_window=window, names=names)}
    configured = {s.name: s for s in config.sites} if config is not None else {}
    if names is not None:
        configured = {n: s for n, s in configured.items() if n in names}
    names = list(configured) + [n for n in facts if n not in configured]
    out = []
    if moved is None:  # where each site was last seen moving to (storage/moves.py)
        moved = {n: m.to_host for n, m in moves.latest_moves_by_name(session).items()}
    for name in names:
        site = configured.get(name)
        f = facts[name] if name in facts else _never_run(configured[name], now)
        policy = policy_for(daemon, site, moved.get(name))
        if site is None and config is not None:
            policy = Policy(enabled=False, configured=False)
        out.append(SiteReport(name, f, judge(f, policy, now), enabled=policy.enabled))
    return out


@dataclass(frozen=True)
class Health:
    ok: bool
    #: one line each: why not healthy (empty when ok)
    problems: list[str] = field(default_factory=list)
    #: the daemons alive: "host pid N, heartbeat 5s ago"
    daemons: list[str] = field(default_factory=list)
    sites: list[SiteReport] = field(default_factory=list)


def check_health(
    session: Session, config: Config, now: datetime, *, moved: Mapping[str, str] | None = None
) -> Health:
    """Healthy: a daemon's heartbeat is fresh and no enabled site is failing, rotting or
    stale beyond its threshold."""
    problems: list[str] = []
    # a daemon (not a one-shot crawl) whose heartbeat is fresh by the configured measure
    stale = timedelta(seconds=config.daemon.worker_stale_after)
    alive = workers.alive(session, now, stale_after=stale, command="run")
    daemons = [
        f"{w.host} pid {w.pid} (vnnews {w.version}), heartbeat {human(now - w.heartbeat_at)} ago"
        for w in alive
    ]
    if not alive:
        problems.append(
            f"no daemon alive: no 'vnnews run' heartbeat in the last {human(workers.STALE_AFTER)}"
        )
    reports = site_reports(session, config, now, moved=moved)
    for r in reports:
        if r.enabled and not r.verdict.healthy:
            problems.append(f"site {r.name} is {r.verdict.status}: {r.verdict.reason}")
    return Health(not problems, problems, daemons, reports)
