"""SIGHUP: read sources.toml again and apply it to a running daemon without dropping work.

``diff(old, new)`` (pure) says which sites were added, removed and changed. ``apply`` loads the
file; a file that does not load keeps the old configuration and logs why. Otherwise added
sites get their jobs (first pass in a few seconds), removed sites lose theirs (a pass already
running finishes, its URLs stay in the frontier), changed sites are rescheduled with their new
settings; a change of ``[daemon]`` reschedules every site. ``[fetch]`` settings live in the
fetcher, built once: a change there is logged as needing a restart.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.interval import IntervalTrigger

from jobs.config import Config, SiteConfig, load_config
from scraper.errors import ConfigError

if TYPE_CHECKING:
    from jobs.daemon import Daemon

log = logging.getLogger("vnnews.daemon")

#: seconds before the first pass of an added or changed site
SOON = 2.0


@dataclass(frozen=True)
class Diff:
    added: tuple[SiteConfig, ...]
    removed: tuple[str, ...]
    changed: tuple[SiteConfig, ...]

    def __bool__(self) -> bool:
        return bool(self.added or self.removed or self.changed)


def diff(old: Config, new: Config) -> Diff:
    """Enabled sites added, removed (or disabled) and changed from ``old`` to ``new``. Pure."""
    before = {s.name: s for s in old.sites if s.enabled}
    after = {s.name: s for s in new.sites if s.enabled}
    every_site = old.daemon != new.daemon
    return Diff(
        added=tuple(s for n, s in after.items() if n not in before),
        removed=tuple(n for n in before if n not in after),
        changed=tuple(
            s for n, s in after.items() if n in before and (every_site or s != before[n])
        ),
    )


def apply(daemon: Daemon, scheduler: AsyncIOScheduler) -> Diff | None:
    """Reload ``daemon.config.path`` into the running daemon; None if the file is refused."""
    old = daemon.config
    try:
        new = load_config(old.path)
    except ConfigError as exc:
        log.error("reload refused, keeping the running configuration: %s", exc)
        return None
    if not any(s.enabled for s in new.sites):
        log.error("reload refused, keeping the running configuration: %s: no enabled sites",
                  old.path)  # fmt: skip
        return None
    change = diff(old, new)
    daemon.config = new
    for name in change.removed:
        daemon.remove_site_jobs(scheduler, name)
    for i, site in enumerate((*change.added, *change.changed)):
        daemon.add_site_jobs(scheduler, site, SOON + i)
    if new.daemon.log_stats_every != old.daemon.log_stats_every:
        scheduler.reschedule_job(
            "stats", trigger=IntervalTrigger(seconds=new.daemon.log_stats_every)
        )
    if new.fetch != old.fetch:
        log.warning("reload: [fetch] settings changed; they apply after a restart")
    if change:
        log.info(
            "reloaded %s: added %s; removed %s; changed %s",
            old.path,
            ", ".join(s.name for s in change.added) or "none",
            ", ".join(change.removed) or "none",
            ", ".join(s.name for s in change.changed) or "none",
        )
    else:
        log.info("reloaded %s: no site changed", old.path)
    return change
