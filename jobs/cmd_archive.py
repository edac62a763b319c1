"""CLI commands that read or maintain the archive: articles, search, show, sites, stats, db."""

from __future__ import annotations

import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click

from jobs.context import Ctx, parse_since
from jobs.display import print_article, print_article_rows, print_versions, when
from scraper.errors import VnnewsError


@click.command()
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

    since_dt = parse_since(since)
    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            print_article_rows(
                repo.list_articles(s, site=site, since=since_dt, limit=limit), as_json
            )
    finally:
        archive.close()


@click.command()
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

    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            print_article_rows(search_articles(s, query, site=site, limit=limit), as_json)
    finally:
        archive.close()


@click.command()
@click.argument("id_or_url")
@click.option("--raw", is_flag=True, help="Print the raw HTML as fetched instead.")
@click.option("--versions", is_flag=True, help="Show each stored version and what changed.")
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_obj
def show(obj: Ctx, id_or_url: str, raw: bool, versions: bool, as_json: bool) -> None:
    """Show one archived article by id or by any URL that led to it."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db, read_only=True)
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


@click.command()
@click.pass_obj
def sites(obj: Ctx) -> None:
    """Each site: last run, last success, errors, article count."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            summaries = {x.name: x for x in repo.site_summaries(s, datetime.now(UTC))}
    finally:
        archive.close()
    names = [site.name for site in obj.config.sites] if Path(obj.config_path).exists() else []
    names += [n for n in summaries if n not in names]
    click.echo(
        f"{'site':<16} {'last run':<17} {'last success':<17} {'errors':>6} {'articles':>8} "
        f"{'due':>5}  last error"
    )
    for name in names:
        x = summaries.get(name)
        if x is None:
            click.echo(f"{name:<16} {'never':<17} {'never':<17} {0:>6} {0:>8} {0:>5}")
            continue
        click.echo(
            f"{name:<16} {when(x.last_run_at):<17} {when(x.last_success_at):<17} "
            f"{x.error_count:>6} "
            f"{x.articles:>8} {x.urls_due:>5}  {(x.last_error or '')[:80]}"
        )


@click.command()
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def stats(obj: Ctx, as_json: bool) -> None:
    """Counts of everything in the archive, and raw vs stored bytes."""
    from jobs.app import open_archive
    from storage import repo

    archive = open_archive(obj.db, read_only=True)
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


@click.group()
def db() -> None:
    """Database maintenance."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Ctx) -> None:
    """Apply the schema migrations (creates the SQLite file if needed)."""
    from storage.db import current_revision, make_engine, upgrade
    from storage.locks import migration_lock

    engine = make_engine(obj.db)
    try:
        with migration_lock(engine):  # never under a running daemon's feet (SQLite)
            upgrade(engine)
        click.echo(
            f"database at revision {current_revision(engine)}: "
            f"{engine.url.render_as_string(hide_password=True)}"
        )
    finally:
        engine.dispose()
