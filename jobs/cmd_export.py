"""CLI commands that hand the archive to other tools: export (JSON lines, CSV, Parquet, WARC)
and ui (Datasette on 127.0.0.1 with the shipped metadata and plugin)."""

from __future__ import annotations

import errno
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
from pathlib import Path
from types import FrameType

import click

from jobs.cmd_archive import require_site
from jobs.context import Ctx, parse_window
from jobs.display import progress_bar
from scraper.errors import VnnewsError

UI = Path(__file__).with_name("ui")
#: seconds Datasette gets to stop after SIGTERM before it is killed
UI_STOP_WAIT = 5.0


@click.command()
@click.option(
    "--format", "fmt", required=True, type=click.Choice(["jsonl", "csv", "parquet", "warc"])
)
@click.option("--site", help="Only this site.")
@click.option("--since", help="Published (or first seen) on or after this date (GMT+7).")
@click.option("--until", help="Published (or first seen) on or before this date (GMT+7).")
@click.option(
    "--out", "out", required=True, type=click.Path(dir_okay=False),
    help="The file to write ('-': standard output); a file there is replaced once the export "
    "is complete.",
)  # fmt: skip
@click.pass_obj
def export(
    obj: Ctx, fmt: str, site: str | None, since: str | None, until: str | None, out: str
) -> None:
    """Export archived articles, one row per article with every field (UTF-8), oldest first.

    jsonl and csv (lists as JSON text), parquet (typed schema), or warc: the archived HTTP
    request and response of each article's page, raw body and stored headers (WARC 1.1, gzip).
    """
    from jobs.app import open_archive
    from jobs.export import export as run_export
    from storage.export import count_articles

    since_dt, until_dt = parse_window(since, until)
    to = None if out == "-" else Path(out)  # "-": standard output ("./-" is a file)
    if to is None and fmt == "parquet":  # pyarrow seeks back to write the footer
        raise click.BadParameter("parquet needs a file, not standard output", param_hint="'--out'")
    if to is not None and (not out or to.is_dir()):  # '' reads as "." to Path
        said = f"{out!r} is a directory" if out else "an empty path"
        raise click.BadParameter(
            f"{said}: name the file to write (or - for standard output)", param_hint="'--out'"
        )
    if to is not None and not to.parent.is_dir():  # as for --db: vnnews never creates directories
        said = (
            f"{to.parent} is not a directory"
            if to.parent.exists()
            else f"directory {to.parent} does not exist (create it first)"
        )
        raise click.BadParameter(said, param_hint="'--out'")
    archive = open_archive(obj.db, read_only=True)
    try:
        with archive.sessions() as s:
            require_site(obj, s, site)
            total = count_articles(s, site=site, since=since_dt, until=until_dt)
            with progress_bar(total, f"export {fmt}") as bar:
                n = run_export(
                    s, fmt, to, site=site, since=since_dt, until=until_dt,
                    tick=lambda: bar.update(1),
                )  # fmt: skip
    finally:
        archive.close()
    where = "standard output" if to is None else out
    unit = "page" if fmt == "warc" else "article"
    click.echo(f"exported {n} {unit}{'' if n == 1 else 's'} to {where}", err=True)


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
    """Browse the archive with Datasette on http://127.0.0.1:PORT (needs the ui extra).

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
        # the words of the other read commands
        raise VnnewsError(
            f"no database at {db_file}: nothing archived yet "
            f"(start with 'vnnews --db {db_file} crawl')"
        )
    try:
        import datasette  # noqa: F401
    except ImportError:
        raise VnnewsError(
            "vnnews ui needs Datasette: in the vnnews checkout, run "
            ".venv/bin/pip install -e '.[ui]'"
        ) from None
    _require_free_port(port)
    if port == 0:  # a free port, chosen here so that the line below can name it
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
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
        code = _serve(cmd)
    if code not in (0, -2, 130):
        raise VnnewsError(f"datasette exited with status {code}")


def _require_free_port(port: int) -> None:
    """A usage error (exit 2) when 127.0.0.1:``port`` cannot be listened on, before Datasette
    starts (its own failure is a page of uvicorn log lines). Port 0: ``ui`` picks a free one."""
    from jobs.httpd import check_listen

    if port == 0:
        return
    try:  # as uvicorn binds: a port whose last connections linger in TIME_WAIT is free
        check_listen("127.0.0.1", port)
    except OSError as exc:
        why = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc.strerror})"
        raise click.BadParameter(
            f"port {port} on 127.0.0.1 {why}: choose another", param_hint="--port"
        ) from None


class _Stopped(Exception):
    """SIGTERM or SIGHUP reached ``vnnews ui``."""


def _on_stop_signal(signum: int, frame: FrameType | None) -> None:
    raise _Stopped(signum)


def _serve(cmd: list[str]) -> int:
    """Run Datasette until it exits, or until vnnews is told to stop (Ctrl-C, SIGTERM, SIGHUP):
    then Datasette is stopped too (SIGTERM, SIGKILL after ``UI_STOP_WAIT`` s), so no server
    outlives the command nor keeps its temporary folder. Its exit status (0 when stopped)."""
    stop_signals = [signal.SIGTERM, *([signal.SIGHUP] if hasattr(signal, "SIGHUP") else [])]
    previous = {sig: signal.signal(sig, _on_stop_signal) for sig in stop_signals}
    proc: subprocess.Popen[bytes] | None = None
    try:
        proc = subprocess.Popen(cmd, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        return proc.wait()
    except (KeyboardInterrupt, _Stopped):
        return 0
    finally:
        # a second Ctrl-C or SIGTERM while Datasette stops must not leave it running
        previous[signal.SIGINT] = signal.getsignal(signal.SIGINT)
        for sig in previous:
            signal.signal(sig, signal.SIG_IGN)
        try:
            if proc is not None and proc.poll() is None:
                proc.terminate()
                try:
                    proc.wait(UI_STOP_WAIT)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)
