"""CLI commands that hand the archive to other tools: export (JSON lines, CSV, Parquet, WARC)
and ui (Datasette on 127.0.0.1 with the shipped metadata and plugin)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import click

from jobs.cmd_archive import require_site
from jobs.context import Ctx, parse_window
from jobs.display import progress_bar
from scraper.errors import VnnewsError

UI = Path(__file__).with_name("ui")


@click.command()
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["jsonl", "csv", "parquet", "warc"])
)
@click.option("--site", help="Only this site.")
@click.option("--since", help="Published (or first seen) on or after this date (GMT+7).")
@click.option("--until", help="Published (or first seen) on or before this date (GMT+7).")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False, path_type=Path),
    help="The file to write.",
)  # fmt: skip
@click.pass_obj
def export(
    obj: Ctx, fmt: str, site: str | None, since: str | None, until: str | None, out: Path
) -> None:
    """Export archived articles, one row per article with every field (UTF-8), oldest first.

    jsonl and csv (lists as JSON text), parquet (typed schema), or warc: the archived HTTP
    request and response of each article's page, raw body and stored headers (WARC 1.1, gzip).
    """
    from jobs.app import open_archive
    from jobs.export import export as run_export
    from storage.export import count_articles

    since_dt, until_dt = parse_window(since, until)
    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            require_site(obj, s, site)
            total = count_articles(s, site=site, since=since_dt, until=until_dt)
            with progress_bar(total, f"export {fmt}") as bar:
                n = run_export(
                    s, fmt, out, site=site, since=since_dt, until=until_dt,
                    tick=lambda: bar.update(1),
                )  # fmt: skip
    finally:
        archive.close()
    click.echo(f"exported {n} {'pages' if fmt == 'warc' else 'articles'} to {out}", err=True)


def ui_metadata(db_file: Path) -> dict[str, object]:
    """The shipped metadata (jobs/ui/datasette.yml) with its database renamed after
    ``db_file`` (Datasette names a database after its file)."""
    import yaml

    data = yaml.safe_load((UI / "datasette.yml").read_text(encoding="utf-8"))
    databases = data.get("databases", {})
    if "vnnews" in databases:
        databases[db_file.stem] = databases.pop("vnnews")
    return dict(data)


@click.command()
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535))
@click.option("--open", "open_browser", is_flag=True, help="Open a browser on it.")
@click.pass_obj
def ui(obj: Ctx, port: int, open_browser: bool) -> None:
    """Browse the archive with Datasette on http://127.0.0.1:PORT (pip install 'vnnews[ui]').

    Search box on articles (da nang finds Đà Nẵng), views latest_articles, site_health,
    duplicates, canned queries, and each page's raw HTML at /-/vnnews/raw/PAGE_ID.
    """
    from sqlalchemy.engine import make_url

    from storage.db import database_url

    url = make_url(database_url(obj.db))  # a plain path, like every --db
    if url.get_backend_name() != "sqlite" or not url.database:
        raise VnnewsError("vnnews ui browses an SQLite archive; Datasette does not read PostgreSQL")
    db_file = Path(url.database)
    if not db_file.is_file():
        raise VnnewsError(f"no database at {db_file}: run 'vnnews db upgrade'")
    try:
        import datasette  # noqa: F401
    except ImportError:
        raise VnnewsError("vnnews ui needs Datasette: pip install 'vnnews[ui]'") from None
    with tempfile.TemporaryDirectory(prefix="vnnews-ui-") as tmp:
        meta = Path(tmp) / "metadata.json"
        meta.write_text(json.dumps(ui_metadata(db_file), ensure_ascii=False), encoding="utf-8")
        plugins = Path(tmp) / "plugins"
        plugins.mkdir()
        shutil.copy(UI / "vnnews_datasette.py", plugins)
        cmd = [
            sys.executable, "-m", "datasette", "serve", str(db_file),
            "--host", "127.0.0.1", "--port", str(port), "--metadata", str(meta),
            "--plugins-dir", str(plugins), "--setting", "truncate_cells_html", "120",
            "--setting", "default_facet_size", "15",
        ]  # fmt: skip
        if open_browser:
            cmd.append("--open")
        click.echo(f"Datasette on http://127.0.0.1:{port}/ (Ctrl-C stops it)", err=True)
        try:
            code = subprocess.call(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        except KeyboardInterrupt:
            code = 0
    if code not in (0, -2, 130):
        raise VnnewsError(f"datasette exited with status {code}")
