"""CLI commands that crawl: run (the daemon), crawl, backfill, reextract."""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Any

import click

from jobs.cmd_archive import require_site
from jobs.context import Ctx, parse_window
from jobs.display import progress_printer
from jobs.interrupt import sigterm_as_interrupt
from jobs.logs import LogFormat, setup_logging
from scraper.errors import NOT_AN_ARTICLE, ConfigError, VnnewsError

if TYPE_CHECKING:
    from jobs.app import Archive
    from jobs.cpupool import CpuPool
    from jobs.runs import RunStats


@click.command()
@click.option(
    "--http",
    "http_address",
    metavar="HOST:PORT",
    help="Serve /healthz (200 or 503) and Prometheus /metrics on this address only.",
)
@click.option(
    "--log-format",
    type=click.Choice(["auto", "json", "text"]),
    default="auto",
    show_default=True,
    help="auto: JSON lines when stderr is not a terminal.",
)
@click.pass_obj
def run(obj: Ctx, http_address: str | None, log_format: LogFormat) -> None:
    """Run the daemon: every site on its schedule, until Ctrl-C / SIGTERM (SIGHUP reloads the
    config)."""
    from jobs.app import build_fetcher, build_pool, log_policy, open_archive
    from jobs.crawl import Crawler
    from jobs.daemon import Daemon
    from jobs.httpd import check_listen, parse_address

    setup_logging(obj.verbosity, log_format)
    http = None
    if http_address is not None:
        try:
            http = parse_address(http_address)
        except ValueError as exc:
            raise click.BadParameter(str(exc), param_hint="--http") from None
        try:  # before the archive is opened (or created): a second daemon on a taken port
            check_listen(*http)
        except OSError as exc:
            raise VnnewsError(
                f"--http {http_address}: cannot listen: {exc.strerror or exc}"
            ) from None
    config = obj.config
    if not any(site.enabled for site in config.sites):
        # a daemon with nothing to do would run forever looking healthy
        raise ConfigError(f"{config.path}: no enabled sites: nothing to run")

    async def main(archive: Archive, pool: CpuPool) -> None:
        async with build_fetcher(config, archive) as fetcher:
            crawler = Crawler(fetcher, archive.sessions, batch=config.daemon.batch, cpu=pool)
            await Daemon(config, crawler, http=http).run()

    with contextlib.ExitStack() as opened:
        try:
            archive = open_archive(obj.db, daemon=True)
            opened.callback(archive.close)
            log_policy(config)
            pool = build_pool(config)
            opened.callback(pool.close)
            asyncio.run(main(archive, pool))
        except KeyboardInterrupt:
            # Ctrl-C before the daemon's own handler is in place (about a second after the
            # start), or a second one while it stops: stopped all the same, exit 0
            logging.getLogger("vnnews.daemon").info("vnnews daemon stopped")


@click.command()
@click.argument("sites", nargs=-1)
@click.option("--no-discover", is_flag=True, help="Only fetch URLs already due in the frontier.")
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON lines, one a site.")
@click.pass_obj
def crawl(obj: Ctx, sites: tuple[str, ...], no_discover: bool, as_json: bool) -> None:
    """One discovery and fetch pass over SITES (default: all), then exit."""
    from jobs.app import build_fetcher, build_pool, log_policy, open_archive
    from jobs.crawl import Crawler
    from jobs.worker import registered

    config = obj.config
    chosen = (
        [config.site(name) for name in sites] if sites else [s for s in config.sites if s.enabled]
    )
    if not chosen:
        raise ConfigError(f"{config.path}: no sites configured")
    archive = open_archive(obj.db)
    log_policy(config)
    progress, done = progress_printer()
    pool = build_pool(config)
    passes: dict[str, RunStats] = {}  # each site's pass so far, for a Ctrl-C

    async def main() -> dict[str, Any]:
        async with build_fetcher(config, archive) as fetcher:
            crawler = Crawler(
                fetcher, archive.sessions, batch=config.daemon.batch, on_progress=progress,
                lease=timedelta(seconds=config.daemon.lease),
                cpu=pool,
            )  # fmt: skip
            crawler.passes = passes
            out = {}
            # a worker like the daemon: its leases come back if it is killed
            async with registered(archive.sessions, config.daemon, "crawl", crawler.clock) as me:
                crawler.worker_id = me.worker_id
                results = await asyncio.gather(
                    *(crawler.crawl_site(s, discover=not no_discover) for s in chosen)
                )
            for site, stats in zip(chosen, results, strict=True):
                out[site.name] = stats
            return out

    try:
        with sigterm_as_interrupt():
            results = asyncio.run(main())
    except KeyboardInterrupt:
        # what was archived before Ctrl-C is kept (the passes are closed as interrupted):
        # say what it was, then exit as interrupted
        done()
        _print_summaries(passes, as_json, interrupted=True)
        raise
    finally:
        pool.close()
        archive.close()
        done()
    if _print_summaries(results, as_json):
        sys.exit(1)


def _print_summaries(
    results: dict[str, RunStats], as_json: bool, *, interrupted: bool = False
) -> list[str]:
    """Each site's pass, a line (or a JSON line) each; the sites that failed, named on stderr
    and returned."""
    failed: list[str] = []  # sites that answered nothing: down, blocked, every source gone
    for name, st in results.items():
        if st.errors and not (st.fetched or st.discovered or st.not_modified):
            failed.append(name)
        _echo_pass(name, st, as_json, interrupted=interrupted)
    if failed:
        # the same status whether the dead site was named alone or crawled with the others
        click.echo(
            f"vnnews: {len(failed)} of {len(results)} sites failed: {', '.join(failed)}", err=True
        )
    return failed


@click.command()
@click.argument("site_name", metavar="SITE")
@click.option(
    "--since", help="Oldest publication date to archive, YYYY-MM-DD (GMT+7). Default: everything."
)
@click.option(
    "--until", help="Newest publication date to archive, YYYY-MM-DD (GMT+7). Default: now."
)
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
@click.pass_obj
def backfill(obj: Ctx, site_name: str, since: str | None, until: str | None, as_json: bool) -> None:
    """Walk SITE's sitemaps and listing pages back to --since and archive what they hold.

    Resumable: stopped with Ctrl-C, the next run goes on from the frontier without fetching
    again what is archived.
    """
    from jobs.app import build_fetcher, build_pool, log_policy, open_archive
    from jobs.backfill import backfill as run_backfill
    from jobs.crawl import Crawler
    from jobs.worker import registered

    config = obj.config
    site = config.site(site_name)
    since_dt, until_dt = parse_window(since, until)
    archive = open_archive(obj.db)
    log_policy(config)
    progress, done = progress_printer()
    pool = build_pool(config)
    passes: dict[str, RunStats] = {}  # the backfill so far, for a Ctrl-C

    async def main() -> Any:
        async with build_fetcher(config, archive) as fetcher:
            crawler = Crawler(
                fetcher, archive.sessions, batch=config.daemon.batch, on_progress=progress,
                lease=timedelta(seconds=config.daemon.lease),
                cpu=pool,
            )  # fmt: skip
            crawler.passes = passes
            async with registered(archive.sessions, config.daemon, "backfill", crawler.clock) as me:
                crawler.worker_id = me.worker_id
                return await run_backfill(crawler, site, since=since_dt, until=until_dt)

    try:
        with sigterm_as_interrupt():
            stats = asyncio.run(main())
    except KeyboardInterrupt:
        # resumable: what it archived is kept, and the next run goes on from the frontier
        done()
        if site.name in passes:
            _echo_pass(site.name, passes[site.name], as_json, kind="backfill", interrupted=True)
        raise
    finally:
        pool.close()
        archive.close()
        done()
    _echo_pass(site.name, stats, as_json, kind="backfill")


def _echo_pass(
    name: str, st: RunStats, as_json: bool, *, kind: str = "", interrupted: bool = False
) -> None:
    """A pass's summary line and its first error lines, or its JSON line (``interrupted``:
    a pass stopped by Ctrl-C, its counts so far). A page that is no article (a listing in a
    feed) answered: it is counted apart, not among the errors (``--json``'s ``errors`` keeps
    it, as ``crawl_runs`` does)."""
    if as_json:
        extra = {"interrupted": True} if interrupted else {}
        click.echo(_json_line({"site": name, **dataclasses.asdict(st), **extra}))
        return
    what = f"{kind} " if kind else ""
    click.echo(
        f"{name}: {what}discovered {st.discovered}, fetched {st.fetched}, "
        f"new {st.new_articles}, changed {st.changed_articles}, unchanged {st.unchanged}, "
        f"duplicates {st.duplicates}, not modified {st.not_modified}, "
        f"not articles {st.not_articles}, errors {st.failures()}"
        # said only when some were: items a feed or sitemap dated before the horizon
        + (f", out of window {st.out_of_window}" if st.out_of_window else "")
    )
    for line in st.error_log[:5]:
        click.echo(f"  {'skipped' if f': {NOT_AN_ARTICLE}: ' in line else 'error'}: {line}")


@click.command()
@click.option("--site", help="Only this site's articles.")
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every article, not only those from an older extractor version.",
)
@click.option("--json", "as_json", is_flag=True, help="The summary as JSON.")
@click.pass_obj
def reextract(obj: Ctx, site: str | None, every: bool, as_json: bool) -> None:
    """Re-extract archived articles from their stored raw HTML (no network).

    Each page is read with the profile version valid when it was fetched.
    """
    from jobs.app import open_archive
    from jobs.reextract import reextract as run_reextract

    config = obj.config_if_any
    archive = open_archive(obj.db)
    progress, done = progress_printer()
    try:
        with archive.sessions() as s:
            require_site(obj, s, site)
        stats = run_reextract(
            archive.sessions,
            config,
            site=site,
            every=every,
            on_progress=lambda n: progress("reextract", f"{n} articles"),
        )
    finally:
        archive.close()
        done()
    if as_json:
        click.echo(_json_line(dataclasses.asdict(stats)))
    else:
        click.echo(
            f"re-extracted {stats.seen}: updated {stats.updated}, unchanged {stats.unchanged}, "
            f"failed {stats.failed}, collisions {stats.collisions}"
        )
    if stats.seen and stats.failed == stats.seen:  # nothing done: a script must not read success
        raise VnnewsError(f"no article could be re-extracted ({stats.failed} failed)")


def _json_line(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False)
