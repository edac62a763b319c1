"""CLI commands that read or maintain the archive: articles, search, show, sites, stats, db.

Listing commands take ``--json`` (a JSON object per line, every field) and ``--csv``; a
``--site`` that the archive and the config do not know is a usage error naming the known ones.
"""

from __future__ import annotations

import functools
import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from jobs.context import EXIT_STATUS, Ctx, parse_window
from jobs.display import (
    dumps,
    print_article,
    print_article_rows,
    print_table,
    print_versions,
    progress_bar,
    when,
)
from scraper.errors import VnnewsError


def known_sites(obj: Ctx, session: Session) -> list[str]:
    """Site names in the archive and in the config (when there is one)."""
    from storage.models import Site

    names = set(session.scalars(select(Site.name)))
    config = obj.config_if_any
    if config is not None:
        names |= {site.name for site in config.sites}
    return sorted(names)


def require_site(obj: Ctx, session: Session, site: str | None) -> None:
    """A usage error (exit 2) for a ``--site`` nobody knows, naming the ones there are."""
    if site is None:
        return
    names = known_sites(obj, session)
    if site not in names:
        raise click.BadParameter(
            f"no site {site!r} (known: {', '.join(names) or 'none'})", param_hint="--site"
        )


def _one_format(as_json: bool, as_csv: bool) -> None:
    if as_json and as_csv:  # one would win silently
        raise click.UsageError("--json and --csv exclude each other: choose one")


def _formats(json_help: str) -> Callable[[Any], Any]:
    """The --json and --csv options (one at most), ``json_help`` saying what --json prints."""

    def options(command: Any) -> Any:
        @functools.wraps(command)
        def checked(*args: Any, **kwargs: Any) -> Any:
            _one_format(kwargs["as_json"], kwargs["as_csv"])
            return command(*args, **kwargs)

        f = click.option("--csv", "as_csv", is_flag=True, help="CSV with a header row.")(checked)
        return click.option("--json", "as_json", is_flag=True, help=json_help)(f)

    return options


_json_csv = _formats("JSON lines, every field.")


def _article_window(f: Any) -> Any:
    """The options that choose articles: --site, --since, --until, --limit (articles, search)."""
    f = click.option("--limit", default=20, show_default=True, type=click.IntRange(1, 100000))(f)
    f = click.option("--until", help="Published (or first seen) on or before this date (GMT+7).")(f)
    f = click.option(
        "--since", help="Published (or first seen) on or after this date, YYYY-MM-DD (GMT+7)."
    )(f)
    return click.option("--site", help="Only this site.")(f)


@click.command()
@_article_window
@_json_csv
@click.pass_obj
def articles(
    obj: Ctx,
    site: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
) -> None:
    """List archived articles, newest first."""
    from jobs.app import open_archive
    from storage import repo

    since_dt, until_dt = parse_window(since, until)
    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            require_site(obj, s, site)
            rows = repo.list_articles(s, site=site, since=since_dt, until=until_dt, limit=limit)
            if not rows:  # stderr: a script reading stdout still sees an empty listing
                click.echo("no articles archived" + (" for that choice" if site or since_dt
                           or until_dt else " yet"), err=True)  # fmt: skip
            print_article_rows(rows, as_json, as_csv)
    finally:
        archive.close()


@click.command()
@click.argument("words", nargs=-1, required=True)
@_article_window
@_json_csv
@click.pass_obj
def search(
    obj: Ctx,
    words: tuple[str, ...],
    site: str | None,
    since: str | None,
    until: str | None,
    limit: int,
    as_json: bool,
    as_csv: bool,
) -> None:
    """Full-text search of title, sapo and text; case, tone marks and đ do not matter.

    Words are ANDed (vnnews search da nang, or one argument: 'da nang'); "quoted words" must
    stand together: vnnews search '"da nang" lao dong'. A word or quoted phrase after "-" is
    left out: articles holding it do not match (vnnews search 'chung khoan -FLC', or after
    "--": vnnews search -- chung khoan -FLC). Best matches first (those with the query's own accents
    before the others), each with a snippet of its text, the matched words between ** **.
    """
    from jobs.app import open_archive
    from storage.search import query_terms
    from storage.search import search as run_search

    query = " ".join(words)
    if not any(c.isalnum() for c in query):  # an empty query matches nothing: a script's bug
        raise click.BadParameter(f"{query!r} holds no word to search for", param_hint="WORDS")
    if not query_terms(query):  # only words to leave out: there is nothing to find
        raise click.BadParameter(
            f"{query!r} only leaves words out ('-'): give a word to search for", param_hint="WORDS"
        )
    since_dt, until_dt = parse_window(since, until)
    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            require_site(obj, s, site)
            hits = run_search(s, query, site=site, since=since_dt, until=until_dt, limit=limit)
            if not hits:
                click.echo(f"no articles match {query!r}", err=True)
                return
            rows = [(h.article, h.site) for h in hits]
            print_article_rows(rows, as_json, as_csv, snippets=[h.snippet for h in hits])
    finally:
        archive.close()


@click.command()
@click.argument("id_or_url")
@click.option("--raw", is_flag=True, help="Print the raw HTML as fetched instead.")
@click.option(
    "--versions", is_flag=True,
    help="Show each stored version and what changed (with --json: each version whole).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print the article as JSON.")
@click.pass_obj
def show(obj: Ctx, id_or_url: str, raw: bool, versions: bool, as_json: bool) -> None:
    """Show one archived article by id or by any URL that led to it."""
    from jobs.app import open_archive
    from storage import bodies, links, repo
    from storage.models import Site

    if raw and (as_json or versions):  # the raw page is bytes as fetched: nothing to add to it
        raise click.UsageError(
            "--raw prints the page as fetched: give it alone, without --json or --versions"
        )

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
                sys.stdout.buffer.write(bodies.page_body(page))
                return
            if versions:
                stored = repo.article_versions(s, art.id)
                if as_json:  # each version whole, oldest first: the diffs are the reader's
                    click.echo(json.dumps(
                        [{"version": i, "fetched_at": v.fetched_at.isoformat(),
                          "content_hash": v.content_hash, "title": v.title, "text": v.text,
                          "page_id": v.page_id} for i, v in enumerate(stored, 1)],
                        ensure_ascii=False, indent=2,
                    ))  # fmt: skip
                else:
                    print_versions(stored)
                return
            data: dict[str, Any] = {
                "id": art.id,
                "site": s.scalar(select(Site.name).where(Site.id == art.site_id)),
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
                "simhash": art.simhash,
                "page_id": art.page_id,
                "urls": [u.url for u in repo.article_urls(s, art.id)],
                "near_duplicates": [
                    {"id": other.id, "url": other.url, "title": other.title,
                     "distance": link.distance, "relation": link.relation}
                    for link, other in links.near_duplicates_of(s, art.id)
                ],
            }  # fmt: skip
            if as_json:
                click.echo(json.dumps(data, ensure_ascii=False, indent=2))
                return
            click.echo(f"id:        {art.id}")
            print_article(data)
            click.echo("")
            click.echo("urls:      " + "\n           ".join(str(u) for u in data["urls"]))
            for near in data["near_duplicates"]:
                click.echo(
                    f"near-copy: {near['id']} ({near['distance']} bits) "
                    f"{near['title'] or ''}  {near['url']}"
                )
    finally:
        archive.close()


#: characters of a status reason in the ``sites`` table (the whole reason: --json, --csv, health)
REASON_WIDTH = 100


def _clip(text: str, width: int) -> str:
    """``text`` cut to ``width`` characters, the cut shown ("…")."""
    return text if len(text) <= width else text[: width - 1] + "…"


@click.command()
@_formats("One JSON list of objects, every field.")
@click.pass_obj
def sites(obj: Ctx, as_json: bool, as_csv: bool) -> None:
    """Each site's status (ok, failing, stale, rotting, moved, disabled) and why, its last new
    article, errors and articles over 24 h."""
    from jobs.app import open_archive
    from jobs.health import site_reports
    from storage import moves

    config = obj.config_if_any
    archive = open_archive(obj.db, read_only=True)
    now = datetime.now(UTC)
    try:
        with archive.sessions() as s:
            moved = moves.latest_moves_by_name(s)
            reports = site_reports(s, config, now, moved={n: m.to_host for n, m in moved.items()})
    finally:
        archive.close()
    rows = []
    for r in reports:
        row = r.as_dict(now)
        m = moved.get(r.name)
        row["moved_to"], row["moved_since"] = (
            (m.to_host, m.since.isoformat()) if m else (None, None)
        )
        # new columns go last: scripts read --csv by position
        row["not_articles_24h"] = r.facts.not_articles_24h
        rows.append(row)
    if as_json:
        click.echo(json.dumps(rows, ensure_ascii=False, indent=2))
        return

    def text() -> None:
        click.echo(
            f"{'site':<16} {'status':<9} {'last new':<17} {'last success':<17} {'err 24h':>7} "
            f"{'new 24h':>7} {'articles':>8} {'due':>5}  reason"
        )
        for r in reports:
            f = r.facts
            click.echo(
                f"{r.name:<16} {r.verdict.status:<9} {when(f.last_new_article_at):<17} "
                f"{when(f.last_success_at):<17} {f.errors_24h:>7} {f.articles_24h:>7} "
                f"{f.articles:>8} {f.urls_due:>5}  {_clip(r.verdict.reason, REASON_WIDTH)}"
            )
            m = moved.get(r.name)
            if m is not None:
                click.echo(f"{'':<16} moved → {m.to_host} since {when(m.since)}")

    print_table(rows, False, as_csv, text)


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
    """Database maintenance: upgrade, check, backup, compact."""


@db.command("upgrade")
@click.pass_obj
def db_upgrade(obj: Ctx) -> None:
    """Apply the schema migrations (creates the SQLite file if needed)."""
    from storage.db import current_revision, make_engine, require_not_foreign, upgrade
    from storage.locks import migration_lock

    engine = make_engine(obj.db)
    try:
        require_not_foreign(engine)
        with migration_lock(engine):  # never under a running daemon's feet (SQLite)
            upgrade(engine)
        click.echo(
            f"database at revision {current_revision(engine)}: "
            f"{engine.url.render_as_string(hide_password=True)}"
        )
    finally:
        engine.dispose()


@db.command("check")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def db_check(obj: Ctx, as_json: bool) -> None:
    """Verify the archive: raw bodies against their sha256 and size, the search index against
    the articles, and SQLite's PRAGMA integrity_check. Exit 1 when anything is wrong."""
    from jobs.app import open_archive
    from storage.maintenance import CheckReport, check_articles, check_bodies, check_index
    from storage.models import Article, Page

    # FTS5's integrity-check is an INSERT (it writes nothing): the connection must be writable
    archive = open_archive(obj.db, existing=True)
    report = CheckReport()
    try:
        with archive.sessions() as s:
            total = s.query(Page).filter(Page.body_sha256.is_not(None)).count()
            with progress_bar(total, "checking bodies") as bar:
                check_bodies(s, report, lambda: bar.update(1))
            # a bar of its own: on a large archive this is the long part (minutes)
            with progress_bar(s.query(Article).count(), "checking articles") as bar:
                check_articles(s, report, lambda: bar.update(1))
            check_index(s, report)
    finally:
        archive.close()
    # the exit status is the verdict: a reader that closes the pipe early must not turn it to 0
    click.get_current_context().meta[EXIT_STATUS] = 1 if report.problems else 0
    if as_json:
        click.echo(dumps({"pages": report.pages, "articles": report.articles,
                          "problems": report.problems}))  # fmt: skip
    else:
        click.echo(f"checked {report.pages} page bodies and {report.articles} articles")
        for line in report.problems[:50]:
            click.echo(f"  problem: {line}")
    if report.problems:
        raise VnnewsError(f"{len(report.problems)} problems found in the archive")


@db.command("backup")
@click.argument("path", type=click.Path(dir_okay=False, path_type=Path))
@click.pass_obj
def db_backup(obj: Ctx, path: Path) -> None:
    """Copy the SQLite archive to PATH (online backup: safe while the daemon writes). PATH
    appears once the copy is complete: a stopped backup leaves nothing there."""
    from storage.db import check_archived, make_engine, require_not_foreign
    from storage.maintenance import backup

    engine = make_engine(obj.db, read_only=True)
    try:
        if engine.dialect.name == "sqlite":  # PostgreSQL: backup says to use pg_dump
            check_archived(engine)  # an empty file: nothing archived to back up
            require_not_foreign(engine)  # another program's database is not ours to copy
        with progress_bar(100, "backing up") as bar:
            shown = 0  # percent of the pages copied

            def tick(left: int, total: int) -> None:
                nonlocal shown
                done = 100 * (total - left) // max(total, 1)
                bar.update(done - shown)
                shown = done

            backup(engine, path, progress=tick)
    finally:
        engine.dispose()
    click.echo(f"backed up to {path} ({path.stat().st_size} bytes)")


@db.command("compact")
@click.option(
    "--keep-days",
    default=30,
    show_default=True,
    type=click.IntRange(0, 36500),
    help="crawl_runs newer than this are kept as they are.",
)
@click.option("--vacuum", is_flag=True, help="Then VACUUM (SQLite) to give the space back.")
@click.pass_obj
def db_compact(obj: Ctx, keep_days: int, vacuum: bool) -> None:
    """Roll old crawl_runs up to one row per site, kind and day (idle passes dropped), and
    compress each site's raw pages with a dictionary of its own pages."""
    from sqlalchemy import text

    from jobs.app import open_archive
    from storage.maintenance import build_dicts, compact_runs

    now = datetime.now(UTC)
    archive = open_archive(obj.db, existing=True)
    try:
        with archive.sessions.begin() as s:
            before, after = compact_runs(s, now - timedelta(days=keep_days))
        with archive.sessions.begin() as s:
            recompressed = build_dicts(s, now)
        vacuumed = ""
        if vacuum and archive.engine.dialect.name == "sqlite":
            with archive.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")
                # WAL mode: the file holds the writes (the recompression above included) only
                # once the log is checkpointed: before and after, so both sizes are the file's
                checkpoint = text("PRAGMA wal_checkpoint(TRUNCATE)")
                conn.execute(checkpoint)
                size = _file_size(archive.engine)
                conn.execute(text("VACUUM"))
                conn.execute(checkpoint)
            after_mb = _file_size(archive.engine) / 1e6
            vacuumed = f"; vacuumed: {size / 1e6:.1f} MB → {after_mb:.1f} MB"
        elif vacuum:
            vacuumed = "; --vacuum is for SQLite (PostgreSQL's autovacuum keeps its space)"
    finally:
        archive.close()
    click.echo(
        f"crawl_runs older than {keep_days} days: {before} rows → {after}; "
        f"new site dictionaries: {len(recompressed)}, "
        f"pages recompressed: {sum(recompressed.values())}{vacuumed}"
    )


def _file_size(engine: Any) -> int:
    """The SQLite file's size in bytes (0 if it cannot be read)."""
    try:
        return Path(engine.url.database or "").stat().st_size
    except OSError:
        return 0
