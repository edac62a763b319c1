"""``vnnews health``: exit 0 when the archive is being kept, 1 (printing why) when it is not.

For container health checks and cron: healthy means a daemon's heartbeat is fresh (``workers``)
and no enabled site is failing, rotting or stale beyond its threshold (``jobs.health``).
"""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime

import click

from jobs.context import EXIT_STATUS, Ctx


@click.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object: ok, problems, daemons.")
@click.pass_obj
def health(obj: Ctx, as_json: bool) -> None:
    """Exit 0 if a daemon is alive and no enabled site is failing, rotting or stale; else 1,
    printing why."""
    from jobs.app import open_archive
    from jobs.health import check_health

    config = obj.config
    archive = open_archive(obj.db, read_only=True)
    now = datetime.now(UTC)
    try:
        with archive.sessions() as s:
            h = check_health(s, config, now)
    finally:
        archive.close()
    # the exit status is the answer: `vnnews health | head -1` must not turn unhealthy into 0
    click.get_current_context().meta[EXIT_STATUS] = 0 if h.ok else 1
    if as_json:
        data = {
            "ok": h.ok,
            "problems": h.problems,
            "daemons": h.daemons,
            "sites": {r.name: r.verdict.status for r in h.sites},
        }
        click.echo(json.dumps(data, ensure_ascii=False))
    elif h.ok:
        enabled = sum(1 for r in h.sites if r.enabled)
        click.echo(f"healthy: {enabled} enabled sites; daemon {'; '.join(h.daemons)}")
    else:
        click.echo("unhealthy:")
        for line in h.problems:
            click.echo(f"  {line}")
        for line in h.daemons:
            click.echo(f"  daemon alive: {line}")
    sys.exit(0 if h.ok else 1)
