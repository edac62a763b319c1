"""The ``vnnews`` command: a thin click layer over the use cases and the repository.

Every command turns vnnews errors into one line on stderr naming what failed, with exit status 1
(2 for bad configuration or usage); ``VNNEWS_DEBUG=1`` shows tracebacks instead.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn, TypeVar

import click

from jobs.config import Config, load_config
from jobs.display import (
    print_article,
    print_article_rows,
    print_versions,
    progress_printer,
    when,
)
from scraper.dates import parse_iso8601
from scraper.errors import ConfigError, VnnewsError
from storage.db import DEFAULT_DB

F = TypeVar("F", bound=Callable[..., Any])


class Ctx:
    def __init__(self, db: str, config_path: str) -> None:
        self.db = db
        self.config_path = config_path
        self._config: Config | None = None

    @property
    def config(self) -> Config:
        if self._config is None:
            self._config = load_config(self.config_path)
        return self._config


def _setup_logging(verbose: int) -> None:
    level = logging.WARNING if verbose < 0 else logging.DEBUG if verbose > 0 else logging.INFO
    logging.basicConfig(
        level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr
    )
    logging.getLogger("httpx").setLevel(logging.WARNING)
    logging.getLogger("apscheduler").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)


class VnnewsGroup(click.Group):
    """Turns errors into one line: ``vnnews: <what failed>``."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # a bad global option
            _usage(exc)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:  # a bad command, option or argument
            _usage(exc)
        except (click.ClickException, click.exceptions.Exit, click.exceptions.Abort):
            raise
        except ConfigError as exc:
            _fail(exc, 2)
        except VnnewsError as exc:
            _fail(exc, 1)
        except KeyboardInterrupt:
            click.echo("vnnews: interrupted", err=True)
            sys.exit(130)
        except Exception as exc:
            _fail(exc, 1, unexpected=True)


def _usage(exc: click.UsageError) -> NoReturn:
    """Usage errors are one line too (click's own display takes four), exit status 2."""
    where = exc.ctx.command_path if exc.ctx else "vnnews"
    click.echo(f"{where}: {exc.format_message()}", err=True)
    sys.exit(2)


def _fail(exc: BaseException, code: int, unexpected: bool = False) -> None:
    if os.environ.get("VNNEWS_DEBUG"):
        raise exc
    msg = str(exc).splitlines()[0] if str(exc) else ""
    prefix = f"{type(exc).__name__}: " if unexpected or not msg else ""
    click.echo(f"vnnews: {prefix}{msg}", err=True)
    sys.exit(code)


@click.group(cls=VnnewsGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--db",
    envvar="VNNEWS_DB",
    default=DEFAULT_DB,
    show_default=True,
    help="SQLAlchemy database URL (env VNNEWS_DB).",
)
@click.option(
    "--config",
    "config_path",
    envvar="VNNEWS_CONFIG",
    default="sources.toml",
    show_default=True,
    help="Sources file (env VNNEWS_CONFIG).",
)
@click.option("-v", "--verbose", count=True, help="More logging (-v debug).")
@click.option("-q", "--quiet", is_flag=True, help="Only warnings and errors.")
@click.pass_context
def cli(ctx: click.Context, db: str, config_path: str, verbose: int, quiet: bool) -> None:
    """vnnews: archive Vietnamese provincial news (raw HTML and clean articles)."""
    _setup_logging(-1 if quiet else verbose)
    ctx.obj = Ctx(db, config_path)


# --- daemon and crawling ---------------------------------------------------------------------


@cli.command()
@click.pass_obj
def run(obj: Ctx) -> None:
    """Run the daemon: every site on its schedule, until Ctrl-C / SIGTERM."""
    from jobs.app import build_fetcher, log_policy, open_archive
    from jobs.crawl import Crawler
    from jobs.daemon import Daemon

    config = obj.config
    archive = open_archive(obj.db)
    log_policy(config)

    async def main() -> None:
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(fetcher, archive.sessions, batch=config.daemon.batch)
            await Daemon(config, crawler).run()

    try:
        asyncio.run(main())
    finally:
        archive.close()


@cli.command()
@click.argument("sites", nargs=-1)
@click.option("--no-discover", is_flag=True, help="Only fetch URLs already due in the frontier.")
@click.pass_obj
def crawl(obj: Ctx, sites: tuple[str, ...], no_discover: bool) -> None:
    """One discovery and fetch pass over SITES (default: all), then exit."""
    from jobs.app import build_fetcher, log_policy, open_archive
    from jobs.crawl import Crawler

    config = obj.config
    chosen = (
        [config.site(name) for name in sites] if sites else [s for s in config.sites if s.enabled]
    )
    if not chosen:
        raise ConfigError(f"{config.path}: no sites configured")
    archive = open_archive(obj.db)
    log_policy(config)
    progress, done = progress_printer()

    async def main() -> dict[str, Any]:
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(
                fetcher, archive.sessions, batch=config.daemon.batch, on_progress=progress
            )
            out = {}
            results = await asyncio.gather(
                *(crawler.crawl_site(s, discover=not no_discover) for s in chosen)
            )
            for site, stats in zip(chosen, results, strict=True):
                out[site.name] = stats
            return out

    try:
        results = asyncio.run(main())
    finally:
        archive.close()
        done()
    failed = 0
    for name, st in results.items():
        click.echo(
            f"{name}: discovered {st.discovered}, fetched {st.fetched}, new {st.new_articles}, "
            f"changed {st.changed_articles}, unchanged {st.unchanged}, not modified {st.not_modified}, "
            f"errors {st.errors}"
        )
        for line in st.error_log[:5]:
            click.echo(f"  error: {line}")
        if st.errors and not (st.fetched or st.discovered or st.not_modified):
            failed += 1
    if failed == len(results):
        sys.exit(1)


@cli.command()
@click.argument("site_name", metavar="SITE")
@click.option(
    "--since", help="Oldest publication date to archive, YYYY-MM-DD (GMT+7). Default: everything."
)
@click.option(
    "--until", help="Newest publication date to archive, YYYY-MM-DD (GMT+7). Default: now."
)
@click.pass_obj
def backfill(obj: Ctx, site_name: str, since: str | None, until: str | None) -> None:
    """Walk SITE's sitemaps and listing pages back to --since and archive what they hold.

    Resumable: stopped with Ctrl-C, the next run goes on from the frontier without fetching
    again what is archived.
    """
    from jobs.app import build_fetcher, log_policy, open_archive
    from jobs.backfill import backfill as run_backfill
    from jobs.crawl import Crawler

    config = obj.config
    site = config.site(site_name)
    since_dt = _parse_since(since)
    until_dt = _parse_date(until, "--until", end_of_day=True)
    archive = open_archive(obj.db)
    log_policy(config)
    progress, done = progress_printer()

    async def main() -> Any:
        async with build_fetcher(config) as fetcher:
            crawler = Crawler(
                fetcher, archive.sessions, batch=config.daemon.batch, on_progress=progress
            )
            return await run_backfill(crawler, site, since=since_dt, until=until_dt)

    try:
        stats = asyncio.run(main())
    finally:
        archive.close()
        done()
    click.echo(
        f"{site.name}: backfill discovered {stats.discovered}, fetched {stats.fetched}, new {stats.new_articles}, "
        f"changed {stats.changed_articles}, unchanged {stats.unchanged}, errors {stats.errors}"
    )
    for line in stats.error_log[:5]:
        click.echo(f"  error: {line}")


@cli.command()
@click.option("--site", help="Only this site's articles.")
@click.option(
    "--all",
    "every",
    is_flag=True,
    help="Every article, not only those from an older extractor version.",
)
@click.pass_obj
def reextract(obj: Ctx, site: str | None, every: bool) -> None:
    """Re-extract archived articles from their stored raw HTML (no network).

    Each page is read with the profile version valid when it was fetched.
    """
    from jobs.app import open_archive
    from jobs.reextract import reextract as run_reextract

    config = obj.config if Path(obj.config_path).exists() else None
    archive = open_archive(obj.db)
    progress, done = progress_printer()
    try:
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
    click.echo(
        f"re-extracted {stats.seen}: updated {stats.updated}, unchanged {stats.unchanged}, "
        f"failed {stats.failed}, collisions {stats.collisions}"
    )


# --- extraction ------------------------------------------------------------------------------


@cli.command()
@click.argument("file_or_url")
@click.option(
    "--url", "page_url", help="The page's URL (for a file): picks the site profile, resolves links."
)
@click.option("--site", "profile_name", help="Use this profile instead of choosing by URL.")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_obj
def extract(
    obj: Ctx, file_or_url: str, page_url: str | None, profile_name: str | None, as_json: bool
) -> None:
    """Extract the article from FILE_OR_URL (a saved page, or a URL fetched now)."""
    from scraper.extract import extract_article, require_article
    from scraper.profiles import load_profiles

    profile = load_profiles().get(profile_name) if profile_name else None
    html: str | bytes
    if file_or_url.startswith(("http://", "https://")):
        html, page_url = _fetch_one(obj, file_or_url)
    else:
        path = Path(file_or_url)
        try:
            html = path.read_bytes()
        except OSError as exc:
            raise VnnewsError(f"{path}: cannot read: {exc.strerror}") from None
        page_url = page_url or path.resolve().as_uri()
    # a listing page exits non-zero with one line (the crawler's not_article rule)
    article = require_article(extract_article(html, page_url, profile))
    if as_json:
        click.echo(json.dumps(article.to_dict(), ensure_ascii=False, indent=2))
        return
    print_article(article.to_dict())


@cli.command()
@click.argument("url")
@click.option(
    "--articles",
    "max_articles",
    default=3,
    show_default=True,
    type=click.IntRange(0, 20),
    help="Extract this many sample articles.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the report as JSON.")
@click.pass_obj
def probe(obj: Ctx, url: str, max_articles: int, as_json: bool) -> None:
    """Look at a site's home page and suggest its [[site]] block (and a profile skeleton).

    Finds feeds, sitemaps, the article URL shape, likely section pages and the CMS, and
    extracts a few articles. Fetches politely, honouring robots.txt.
    """
    from jobs.app import build_fetcher
    from jobs.config import Config
    from jobs.probe import probe as run_probe
    from jobs.probe import render_profile, render_site_block, render_summary

    config = obj.config if Path(obj.config_path).exists() else Config(path=obj.config_path)

    async def main() -> Any:
        async with build_fetcher(config) as fetcher:
            return await run_probe(fetcher, url, max_articles=max_articles)

    report = asyncio.run(main())
    if as_json:
        data = report.to_dict()
        data["site_block"] = render_site_block(report)
        data["profile_skeleton"] = render_profile(report)
        click.echo(json.dumps(data, ensure_ascii=False, indent=2))
        return
    click.echo(render_summary(report))
    click.echo("# suggested sources.toml entry")
    click.echo(render_site_block(report))
    skeleton = render_profile(report)
    if skeleton is not None:
        click.echo(f"# suggested scraper/profiles/{report.name}.toml (no profile fits this site)")
        click.echo(skeleton)


def _fetch_one(obj: Ctx, url: str) -> tuple[str, str]:
    from jobs.app import build_fetcher
    from jobs.config import Config

    config = obj.config if Path(obj.config_path).exists() else Config(path=obj.config_path)

    async def main() -> tuple[str, str]:
        async with build_fetcher(config) as fetcher:
            result = await fetcher.fetch(url)
        if result.status != 200:
            raise VnnewsError(f"HTTP {result.status}", url=url)
        return result.text(), result.final_url

    return asyncio.run(main())


# --- the archive -----------------------------------------------------------------------------


def _parse_date(value: str | None, option: str, *, end_of_day: bool = False) -> datetime | None:
    """YYYY-MM-DD (a day in Vietnam) or a full ISO 8601 time → aware UTC."""
    if not value:
        return None
    parsed = parse_iso8601(value)
    if parsed is None:
        raise click.BadParameter(
            f"{value!r}: use YYYY-MM-DD or an ISO 8601 time", param_hint=option
        )
    if end_of_day and len(value.strip()) == 10:
        parsed += timedelta(days=1) - timedelta(microseconds=1)
    return parsed


def _parse_since(value: str | None) -> datetime | None:
    return _parse_date(value, "--since")


@cli.command()
@click.option("--site", help="Only this site.")
@click.option(
    "--since", help="Published (or first seen) on or after this date, YYYY-MM-DD (GMT+7)."
)
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
@click.pass_obj
def articles(obj: Ctx, site: str | None, since: str | None, limit: int, as_json: bool) -> None:
    """List archived articles, newest first."""
    from jobs.app import open_archive
    from storage import repo

    since_dt = _parse_since(since)
    archive = open_archive(obj.db)
    try:
        with archive.sessions() as s:
            print_article_rows(
                repo.list_articles(s, site=site, since=since_dt, limit=limit), as_json
            )
    finally:
        archive.close()


@cli.command()
@click.argument("query")
@click.option("--site", help="Only this site.")
@click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))
@click.option("--json", "as_json", is_flag=True, help="JSON lines.")
@click.pass_obj
def search(obj: Ctx, query: str, site: str | None, limit: int, as_json: bool) -> None:
    """Full-text search of title, sapo and text; case, tone marks and đ do not matter.

    Words are ANDed; "quoted words" must stand together: vnnews search '"da nang" lao dong'.
    """
    from jobs.app import open_archive
    from storage.search import search_articles

    archive = open_archive(obj.db)
    try:
        with archive.sessions() as s:
            print_article_rows(search_articles(s, query, site=site, limit=limit), as_json)
    finally:
        archive.close()


@cli.command()
@click.argument("id_or_url")
@click.option("--raw", is_flag=True, help="Print the raw HTML as fetched instead.")
@click.option("--versions", is_flag=True, help="Show each stored version and what changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_obj
def show(obj: Ctx, id_or_url: str, raw: bool, versions: bool, as_json: bool) -> None:
    """Show one archived article by id or by any URL that led to it."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db)
    try:
        with archive.sessions() as s:
            art = repo.find_article(s, id_or_url)
            if art is None:
                raise VnnewsError(f"no article with id or URL {id_or_url!r}")
            if raw:
                page = repo.latest_page_for(s, art)
                if page is None:
                    raise VnnewsError(f"article {art.id} has no stored page")
                sys.stdout.buffer.write(repo.page_body(page))
                return
            if versions:
                print_versions(repo.article_versions(s, art.id))
                return
            data: dict[str, Any] = {
                "id": art.id,
                "url": art.url,
                "canonical_url": art.canonical_url,
                "title": art.title,
                "sapo": art.sapo,
                "text": art.text,
                "published_at": art.published_at.isoformat() if art.published_at else None,
                "updated_at": art.updated_at.isoformat() if art.updated_at else None,
                "authors": art.authors,
                "category": art.category,
                "tags": art.tags,
                "images": art.images,
                "language": art.language,
                "source": art.source,
                "content_hash": art.content_hash,
                "first_seen": art.first_seen.isoformat(),
                "last_seen": art.last_seen.isoformat(),
                "extractor": art.extractor,
                "extractor_version": art.extractor_version,
                "urls": [u.url for u in repo.article_urls(s, art.id)],
            }
            if as_json:
                click.echo(json.dumps(data, ensure_ascii=False, indent=2))
                return
            click.echo(f"id:        {art.id}")
            print_article(data)
            click.echo("")
            click.echo("urls:      " + "\n           ".join(str(u) for u in data["urls"]))
    finally:
        archive.close()


@cli.command()
@click.pass_obj
def sites(obj: Ctx) -> None:
    """Each site: last run, last success, errors, article count."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db)
    try:
        with archive.sessions() as s:
            summaries = {x.name: x for x in repo.site_summaries(s, datetime.now(UTC))}
    finally:
        archive.close()
    names = [site.name for site in obj.config.sites] if Path(obj.config_path).exists() else []
    names += [n for n in summaries if n not in names]
    click.echo(
        f"{'site':<16} {'last run':<17} {'last success':<17} {'errors':>6} {'articles':>8} {'due':>5}  last error"
    )
    for name in names:
        x = summaries.get(name)
        if x is None:
            click.echo(f"{name:<16} {'never':<17} {'never':<17} {0:>6} {0:>8} {0:>5}")
            continue
        click.echo(
            f"{name:<16} {when(x.last_run_at):<17} {when(x.last_success_at):<17} {x.error_count:>6} "
            f"{x.articles:>8} {x.urls_due:>5}  {(x.last_error or '')[:80]}"
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stats(obj: Ctx, as_json: bool) -> None:
    """Counts of everything in the archive, and raw vs stored bytes."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db)
    try:
        with archive.sessions() as s:
            data = repo.stats(s)
    finally:
        archive.close()
    if as_json:
        click.echo(json.dumps(data))
        return
    for key, value in data.items():
        click.echo(f"{key:<22} {value}")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Ctx) -> None:
    """Apply the schema migrations (creates the SQLite file if needed)."""
    from storage.db import current_revision, make_engine, upgrade

    engine = make_engine(obj.db)
    try:
        upgrade(engine)
        click.echo(
            f"database at revision {current_revision(engine)}: {engine.url.render_as_string(hide_password=True)}"
        )
    finally:
        engine.dispose()


def main() -> None:
    cli(prog_name="vnnews")
