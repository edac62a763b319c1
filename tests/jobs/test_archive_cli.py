"""The read side of the CLI on a crawled archive: listings as JSON/CSV, unknown sites, empty
searches, exports read back by their own libraries, db check/backup/compact, closed pipes."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from storage.models import Article, CrawlRun, Page
from storage.search import search_key
from tests.support.archive import migrated
from tests.support.archive_site import COPY, DA_NANG, crawl_archive
from tests.support.mirror import MirrorSite
from tests.support.paths import REAL, ROOT
from tests.support.sites import VNX_PAGES, invoke

FIELDS = {"id", "site", "url", "title", "sapo", "text", "published_at", "authors", "images",
          "tags", "content_hash", "simhash", "first_seen", "extractor", "page_id"}  # fmt: skip


@pytest.fixture
def archive(sqlite_url: str, tmp_path: Path, mirrors: tuple[MirrorSite, MirrorSite]):  # type: ignore[no-untyped-def]
    vnx, tt = mirrors
    return sqlite_url, crawl_archive(sqlite_url, tmp_path, vnx, tt), vnx


def test_listings_as_json_and_csv_with_every_field(archive) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    code, out = invoke(db, config, "articles", "--json")
    assert code == 0
    rows = [json.loads(line) for line in out.splitlines()]
    assert len(rows) == 5 and set(rows[0]) >= FIELDS
    assert any(r["authors"] == ["Hà Thu"] for r in rows)
    code, out = invoke(db, config, "articles", "--csv", "--site", "tt")
    table = list(csv.DictReader(io.StringIO(out)))
    assert code == 0 and len(table) == 1 and table[0]["site"] == "tt"
    assert json.loads(table[0]["authors"]) == ["NHẬT XUÂN", "NGHI VŨ"]
    # sites --json is one JSON list (the never-silent issue's contract), --csv a table
    code, out = invoke(db, config, "sites", "--json")
    sites = {s["name"]: s for s in json.loads(out)}
    assert code == 0 and sites["vnx"]["articles"] == 4 and sites["tt"]["articles"] == 1
    code, out = invoke(db, config, "sites", "--csv")
    assert code == 0 and out.splitlines()[0].startswith("name,status,reason,")
    # booleans as JSON says them, like the lists: not Python's True/False
    table = list(csv.DictReader(io.StringIO(out)))
    flags = [k for k, v in sites["vnx"].items() if isinstance(v, bool)]
    assert flags, sites["vnx"]
    assert {row[k] for row in table for k in flags} <= {"true", "false"}


def test_unknown_site_and_empty_search_say_so(archive) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    for args in (("articles",), ("search", "x"), ("export", "--format", "jsonl", "--out", "/tmp/x"),
                 ("reextract",)):  # fmt: skip
        code, out = invoke(db, config, *args, "--site", "nosuch")
        assert code == 2, (args, out)
        assert "no site 'nosuch' (known: tt, vnx)" in out
    code, out = invoke(db, config, "search", "khongcogi")
    assert code == 0 and "no articles match 'khongcogi'" in out
    # a query without a word, or two output formats at once, is the caller's mistake
    mistakes: list[tuple[str, ...]] = [
        ("search", ""), ("search", ' " '), ("articles", "--json", "--csv"),
        ("sites", "--json", "--csv"), ("show", "1", "--raw", "--json"),
        ("search", "da nang", "--csv", "--json"),
    ]  # fmt: skip
    for mistake in mistakes:
        code, out = invoke(db, config, *mistake)
        assert code == 2 and len(out.strip().splitlines()) == 1, (mistake, out)
    assert "--json and --csv exclude each other" in out
    # a word that looks like an option: the hint is about "--", not about vnnews' own -v
    code, out = invoke(db, config, "search", "-vang")
    assert (
        code == 2
        and "goes after '--' with the words to find: `vnnews search -- WORDS -word`" in out
    ), out
    # only words to leave out: nothing to search for
    code, out = invoke(db, config, "search", "--", "-vang")
    assert code == 2 and "only leaves words out" in out and len(out.strip().splitlines()) == 1
    code, out = invoke(db, config, "search", "--json", "--", "da", "nang", "-tphcm")
    assert code == 0 and out.strip(), out  # found, the word left out held by none
    code, out = invoke(db, config, "search", "--", "da", "nang", "-da")
    assert code == 0 and out == "no articles match 'da nang -da'\n"


def test_search_shows_snippets_and_show_lists_near_copies(archive) -> None:  # type: ignore[no-untyped-def]
    db, config, vnx = archive
    code, out = invoke(db, config, "search", "da nang", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert code == 0 and {vnx.url(DA_NANG), vnx.url(COPY)} <= {h["url"] for h in hits}
    # the words as separate arguments (unquoted in a shell): the same query
    assert invoke(db, config, "search", "da", "nang", "--json") == (code, out)
    for h in hits:  # both words (ANDed), anywhere
        assert {"da", "nang"} <= set(search_key(h["title"], h["sapo"], h["text"]).split())
    # the two with the accents typed first, their snippets on the words
    code, out = invoke(db, config, "search", "Đà Nẵng", "--json")
    hits = [json.loads(line) for line in out.splitlines()]
    assert {h["url"] for h in hits[:2]} == {vnx.url(DA_NANG), vnx.url(COPY)}
    assert all("**Đà** **Nẵng**" in h["snippet"] for h in hits[:2])
    code, out = invoke(db, config, "show", vnx.url(COPY), "--json")
    data = json.loads(out)
    assert data["site"] == "vnx"
    assert "\nsite:      vnx\n" in invoke(db, config, "show", vnx.url(COPY))[1]
    # both Đà Nẵng pages are the first vnexpress story with its lead rewritten: near-copies
    original = vnx.url(VNX_PAGES[0][0])
    assert [n["url"] for n in data["near_duplicates"]] in ([vnx.url(DA_NANG)], [original])
    code, out = invoke(db, config, "show", original)
    assert out.count("near-copy:") == 2 and vnx.url(DA_NANG) in out
    # a URL as a browser or a share link gives it: tracking parameters, a fragment, the host
    # in capitals; the crawler stored it without them
    shared = original.replace("http://", "HTTP://") + ("?utm_source=zalo&utm_medium=share#comments")
    code, out = invoke(db, config, "show", shared, "--json")
    assert code == 0 and json.loads(out)["url"] == original, out


def test_exports_read_back_by_their_own_libraries(
    db_url: str, tmp_path: Path, mirrors: tuple[MirrorSite, MirrorSite]
) -> None:
    import pyarrow.parquet as pq
    from warcio.archiveiterator import ArchiveIterator

    vnx, tt = mirrors
    config = crawl_archive(db_url, tmp_path, vnx, tt)
    engine, sessions = migrated(db_url)
    with sessions() as s:
        expected = {a.url: a for a in s.scalars(select(Article))}
    engine.dispose()
    outs = {fmt: tmp_path / f"out.{fmt}" for fmt in ("jsonl", "csv", "parquet", "warc")}
    for fmt, path in outs.items():
        code, out = invoke(db_url, config, "export", "--format", fmt, "--out", str(path))
        assert code == 0, out

    lines = [json.loads(x) for x in outs["jsonl"].read_text(encoding="utf-8").splitlines()]
    assert {x["url"] for x in lines} == set(expected)
    for x in lines:
        a = expected[x["url"]]
        assert (x["title"], x["text"], x["authors"], x["images"]) == (
            a.title,
            a.text,
            a.authors,
            a.images,
        )
    with outs["csv"].open(encoding="utf-8", newline="") as f:
        table = list(csv.DictReader(f))
    assert {r["url"]: r["text"] for r in table} == {u: a.text for u, a in expected.items()}

    parquet = pq.read_table(outs["parquet"])
    assert str(parquet.schema.field("published_at").type) == "timestamp[us, tz=UTC]"
    assert str(parquet.schema.field("images").type).startswith("list<element: struct<url: string")
    rows = {r["url"]: r for r in parquet.to_pylist()}
    for url, a in expected.items():
        assert rows[url]["text"] == a.text and rows[url]["authors"] == a.authors
        assert rows[url]["published_at"] == a.published_at

    # WARC: each article page's request and response; the body is what the server sent
    served = {vnx.url(path): (REAL / fixture).read_bytes() for path, fixture in VNX_PAGES}
    bodies = {}
    with outs["warc"].open("rb") as f:
        records = list(ArchiveIterator(f))
        types = [r.rec_type for r in records]
    with outs["warc"].open("rb") as f:
        for record in ArchiveIterator(f):
            assert record.rec_headers.protocol == "WARC/1.1"
            if record.rec_type == "response":
                assert record.http_headers.get_statuscode() == "200"
                assert "text/html" in record.http_headers.get_header("Content-Type")
                bodies[record.rec_headers.get_header("WARC-Target-URI")] = (
                    record.content_stream().read()
                )
    assert types.count("request") == types.count("response") == len(expected)
    for url, body in served.items():
        assert bodies[url] == body


def test_export_filters_by_site_and_dates(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    out = tmp_path / "tt.jsonl"
    assert (
        invoke(db, config, "export", "--format", "jsonl", "--site", "tt", "--out", str(out))[0] == 0
    )
    assert [json.loads(x)["site"] for x in out.read_text().splitlines()] == ["tt"]
    assert (
        invoke(
            db, config, "export", "--format", "jsonl", "--since", "2100-01-01", "--out", str(out)
        )[0]
        == 0
    )
    assert out.read_text() == ""
    code, msg = invoke(db, config, "export", "--format", "xml", "--out", str(out))
    assert code == 2 and "xml" in msg


def _stale_export(tmp_path: Path) -> Path:
    """An earlier export's file, which a stopped export must leave as it is."""
    out = tmp_path / "articles.jsonl"
    out.write_text("yesterday's export\n", encoding="utf-8")
    return out


def test_an_export_replaces_its_file_only_once_complete(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """An export stopped midway (here by its progress callback) leaves the file it would
    replace as it was, and no part file; a complete one replaces it. A symlink keeps pointing
    at its (replaced) target, and /dev/null is written in place, not replaced."""
    from jobs.export import export

    db, config, _ = archive
    engine, sessions = migrated(db)
    out = _stale_export(tmp_path)
    ticks = [0]

    def stop_after_two() -> None:
        ticks[0] += 1
        if ticks[0] > 2:
            raise KeyboardInterrupt

    for fmt in ("jsonl", "csv", "warc"):
        with sessions() as s, pytest.raises(KeyboardInterrupt):
            ticks[0] = 0
            export(s, fmt, out, site=None, since=None, until=None, tick=stop_after_two)
        assert out.read_text(encoding="utf-8") == "yesterday's export\n", fmt
        assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == [], fmt
    out.chmod(0o600)  # a private export stays private when replaced
    link = tmp_path / "latest.jsonl"
    link.symlink_to(out)
    code, _ = invoke(db, config, "export", "--format", "jsonl", "--out", str(link))
    assert code == 0 and link.is_symlink()
    assert len(out.read_text(encoding="utf-8").splitlines()) == 5
    assert out.stat().st_mode & 0o777 == 0o600
    code, _ = invoke(db, config, "export", "--format", "jsonl", "--out", os.devnull)
    assert code == 0 and not Path(os.devnull).is_file()
    # a path that is a pipe (/dev/stdout into `| gzip`): written in place, as before
    vnnews = Path(sys.executable).with_name("vnnews")
    piped = subprocess.run(
        [vnnews, "--db", db, "--config", str(config), "export", "--format", "jsonl",
         "--out", "/dev/stdout"],
        capture_output=True, timeout=120,
    )  # fmt: skip
    assert piped.returncode == 0, piped.stderr
    assert len(piped.stdout.decode("utf-8").splitlines()) == 5
    engine.dispose()


def test_sigterm_stops_any_command_as_ctrl_c_does(archive) -> None:  # type: ignore[no-untyped-def]
    """``timeout``, cron wrappers and service managers stop a command with SIGTERM: every
    command stops as on Ctrl-C (its cleanup runs: an export's part file, a backup's), saying
    so, exit 143. Before, only crawl and backfill did; an export was killed on the spot and
    left its part file. Here a WARC export to a pipe nobody reads is blocked writing."""
    import signal

    db, config, _ = archive
    vnnews = Path(sys.executable).with_name("vnnews")
    proc = subprocess.Popen(
        [vnnews, "--db", db, "--config", str(config), "export", "--format", "warc", "--out", "-"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        assert proc.stdout is not None and proc.stdout.read(1024)  # the export is writing
        time.sleep(0.5)  # ... and fills the pipe: 5 pages of ~270 KB are more than it holds
        assert proc.poll() is None
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        proc.kill()
        proc.wait()
    assert proc.returncode == 143, err
    assert err.decode().strip().splitlines()[-1] == "vnnews: terminated"


def test_a_sigterm_during_an_export_to_a_file_leaves_the_old_file_and_no_part(
    archive, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    """What the CLI wraps every command in (``sigterm_as_interrupt``), with a real SIGTERM
    arriving mid-export: the export's cleanup runs, the file it would replace is as it was,
    no part file is left, and the interrupt is a ``Terminated`` (exit 143)."""
    import signal

    from jobs.export import export
    from jobs.interrupt import Terminated, sigterm_as_interrupt

    engine, sessions = migrated(archive[0])
    out = _stale_export(tmp_path)
    ticks: list[int] = []

    def terminate_at_the_second() -> None:
        ticks.append(1)
        if len(ticks) == 2:
            os.kill(os.getpid(), signal.SIGTERM)

    try:
        with sessions() as s, pytest.raises(Terminated), sigterm_as_interrupt():
            export(s, "jsonl", out, site=None, since=None, until=None, tick=terminate_at_the_second)
    finally:
        engine.dispose()
    assert len(ticks) >= 2
    assert out.read_text(encoding="utf-8") == "yesterday's export\n"
    assert [p.name for p in tmp_path.iterdir() if p.name.endswith(".part")] == []


def test_show_versions_as_json(archive) -> None:  # type: ignore[no-untyped-def]
    """``show --versions --json`` gives each version whole (it printed the text diff)."""
    db, config, _ = archive
    code, out = invoke(db, config, "show", "1", "--versions", "--json")
    versions = json.loads(out)
    assert code == 0 and [v["version"] for v in versions] == list(range(1, len(versions) + 1))
    assert versions and {"fetched_at", "content_hash", "title", "text", "page_id"} <= set(
        versions[0]
    )


def test_db_check_finds_a_corrupt_body_and_backup_copies(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    code, out = invoke(db, config, "db", "check")
    assert code == 0 and "problem" not in out, out
    backup = tmp_path / "copy.db"
    code, out = invoke(db, config, "db", "backup", str(backup))
    assert code == 0 and backup.is_file()
    code, out = invoke(db, config, "db", "backup", str(backup))
    assert code == 2 and "copy.db: already exists" in out  # a usage mistake, nothing written
    (tmp_path / "link.db").symlink_to(tmp_path / "nowhere.db")  # a dangling link: refused too
    code, out = invoke(db, config, "db", "backup", str(tmp_path / "link.db"))
    assert code == 2 and "link.db: already exists" in out and not (tmp_path / "nowhere.db").exists()
    code, out = invoke(db, config, "db", "backup", str(tmp_path / "typo" / "copy.db"))
    assert code == 2 and f"directory {tmp_path / 'typo'} does not exist" in out
    copy = f"sqlite:///{backup}"
    assert (
        invoke(copy, config, "articles", "--json")[1] == invoke(db, config, "articles", "--json")[1]
    )
    # flip a stored byte count: the check names the page
    conn = sqlite3.connect(backup)
    conn.execute(
        "update pages set body_size = body_size + 1 where id = (select min(id) from pages where body_zstd is not null)"
    )
    conn.execute("update articles set search_text = 'x' where id = 1")
    conn.commit()
    conn.close()
    code, out = invoke(copy, config, "db", "check")
    assert code == 1
    assert (
        "does not match body_size/body_sha256" in out and "article 1: search_text is stale" in out
    )


def test_a_stopped_backup_leaves_nothing_and_a_retry_works(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """The copy is made beside PATH and renamed once complete: a Ctrl-C or SIGTERM (raised
    between the backup's steps, in its progress callback) leaves no file at PATH that looks
    like a backup (it held an empty archive and refused the retry as 'already exists')."""
    from storage.db import make_engine
    from storage.maintenance import backup

    db, config, _ = archive
    dest = tmp_path / "copy.db"
    seen: list[tuple[int, int]] = []

    def copies() -> list[str]:  # the backup and its hidden part (".copy.db.PID.part")
        return sorted(p.name for p in tmp_path.iterdir() if "copy.db" in p.name)

    def stop(left: int, total: int) -> None:
        seen.append((left, total))
        raise KeyboardInterrupt

    engine = make_engine(db, read_only=True)
    try:
        with pytest.raises(KeyboardInterrupt):
            backup(engine, dest, progress=stop)
    finally:
        engine.dispose()
    assert seen and not dest.exists()
    assert copies() == []  # no hidden part left either
    code, out = invoke(db, config, "db", "backup", str(dest))
    assert code == 0 and dest.is_file(), out
    assert copies() == ["copy.db"]


def test_backup_refuses_what_is_no_archive_and_standard_output(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    code, out = invoke(db, config, "db", "backup", "-")
    assert code == 2 and "'-' (standard output) is not one" in out
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("create table foo (a)")
    conn.close()
    code, out = invoke(f"sqlite:///{other}", config, "db", "backup", str(tmp_path / "o.db"))
    assert code == 1 and "not a vnnews archive" in out and not (tmp_path / "o.db").exists()
    empty = tmp_path / "empty.db"
    empty.touch()
    code, out = invoke(f"sqlite:///{empty}", config, "db", "backup", str(tmp_path / "e.db"))
    assert code == 1 and "nothing archived yet" in out and not (tmp_path / "e.db").exists()


def test_db_check_ticks_for_every_body_and_every_article(archive) -> None:  # type: ignore[no-untyped-def]
    """The articles' check (each text folded again: minutes on 200,000 articles, with no sign
    of life before) ticks once an article, as the bodies' check ticks once a body: ``db check``
    shows a bar for each on a terminal."""
    from storage.maintenance import CheckReport, check_articles, check_bodies

    engine, sessions = migrated(archive[0])
    report = CheckReport()
    bodies: list[int] = []
    articles: list[int] = []
    try:
        with sessions() as s:
            check_bodies(s, report, lambda: bodies.append(1))
            check_articles(s, report, lambda: articles.append(1))
    finally:
        engine.dispose()
    assert report.problems == []
    assert len(bodies) == report.pages > 0 and len(articles) == report.articles == 5


def test_db_check_says_how_to_rebuild_a_search_index_out_of_step(archive, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    """FTS5 reports any mismatch as "database disk image is malformed", which reads as a
    broken disk: the problem line says it is the search index and how to rebuild it, on one
    line (it was several, with SQLAlchemy's SQL and link)."""
    db, config, _ = archive
    copy = tmp_path / "copy.db"
    assert invoke(db, config, "db", "backup", str(copy))[0] == 0
    with sqlite3.connect(copy) as conn:
        conn.execute("DELETE FROM articles_fts WHERE rowid = (SELECT min(id) FROM articles)")
    conn.close()
    code, out = invoke(f"sqlite:///{copy}", config, "db", "check", "--json")
    assert code == 1
    (problem,) = json.loads(out.splitlines()[0])["problems"]
    assert problem.startswith("articles_fts: the search index does not match articles")
    assert "\n" not in problem and "sqlalche.me" not in problem
    rebuild = problem.split("rebuild it with: ")[1]
    with sqlite3.connect(copy) as conn:
        conn.execute(rebuild)
    conn.close()
    assert invoke(f"sqlite:///{copy}", config, "db", "check")[0] == 0


def test_db_backup_on_postgresql_points_to_pg_dump(pg_url: str, tmp_path: Path) -> None:
    migrated(pg_url)[0].dispose()
    code, out = invoke(pg_url, tmp_path / "none.toml", "db", "backup", str(tmp_path / "x.db"))
    assert code == 1 and "pg_dump" in out


def test_db_compact_rolls_up_old_runs_and_builds_site_dictionaries(archive) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    engine, sessions = migrated(db)
    old = datetime(2026, 1, 5, 8, tzinfo=UTC)
    with sessions.begin() as s:
        for i in range(6):  # four idle passes, two that fetched
            s.add(CrawlRun(site_id=1, kind="drain", started_at=old + timedelta(minutes=i),
                           finished_at=old + timedelta(minutes=i, seconds=5), error_log=[],
                           discovered=0, fetched=3 if i < 2 else 0, new_articles=0,
                           changed_articles=0, unchanged=0, not_modified=0, errors=0))  # fmt: skip
    with sessions() as s:
        before_bytes = sum(len(p.body_zstd or b"") for p in s.scalars(select(Page)))
        runs_before = len(s.scalars(select(CrawlRun)).all())
    code, out = invoke(db, config, "db", "compact", "--keep-days", "30")
    assert code == 0, out
    assert "new site dictionaries: 1" in out
    with sessions() as s:
        runs = s.scalars(
            select(CrawlRun).where(CrawlRun.started_at < old + timedelta(days=1))
        ).all()
        assert [(r.fetched, r.started_at, r.finished_at) for r in runs] == [
            (6, old, old + timedelta(minutes=1, seconds=5))
        ]
        assert len(s.scalars(select(CrawlRun)).all()) == runs_before - 5
        after_bytes = sum(len(p.body_zstd or b"") for p in s.scalars(select(Page)))
    engine.dispose()
    assert after_bytes < before_bytes * 0.8
    code, out = invoke(db, config, "db", "check")
    assert code == 0, out
    # the raw page still reads back after compaction (article 1 is whichever of the two sites'
    # pages was stored first: one of them opens with a line break before its doctype)
    code, out = invoke(db, config, "show", "1", "--raw")
    assert code == 0 and out.lstrip().startswith("<!")
    # --vacuum gives the space back and says how much (SQLite; PostgreSQL is told it need not)
    code, out = invoke(db, config, "db", "compact", "--vacuum")
    sizes = re.search(r"; vacuumed: ([\d.]+) MB → ([\d.]+) MB", out)
    if "--vacuum is for SQLite" not in out:
        assert code == 0 and sizes is not None, out
        assert float(sizes[2]) <= float(sizes[1]), out  # the file's own sizes, WAL checkpointed


def test_a_closed_pipe_ends_quietly(archive) -> None:  # type: ignore[no-untyped-def]
    db, config, _ = archive
    env = {**os.environ, "VNNEWS_DB": db, "VNNEWS_CONFIG": str(config)}
    cmd = f"{sys.executable} -m jobs.cli articles --json --limit 5000 | head -1"
    for _ in range(3):
        proc = subprocess.run(
            ["bash", "-o", "pipefail", "-c", cmd.replace("-m jobs.cli", "-c 'from jobs.cli import main; main()'")],
            capture_output=True, text=True, env=env, cwd=ROOT, timeout=60,
        )  # fmt: skip
        assert proc.returncode == 0, proc.stderr
        assert proc.stderr == "" and len(proc.stdout.splitlines()) == 1


def test_a_named_config_file_must_exist(archive, tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """A sources.toml named with --config or $VNNEWS_CONFIG that is not there is an error
    (exit 2): ``sites`` quietly judged every site without it (a removed site showed 'failing'
    instead of 'disabled'). The default sources.toml may be absent: the read commands need
    none."""
    from click.testing import CliRunner

    from jobs.cli import cli

    db, _, _ = archive
    missing = tmp_path / "typo.toml"
    code, out = invoke(db, missing, "sites")
    assert code == 2 and f"{missing}: config file not found" in out
    monkeypatch.setenv("VNNEWS_CONFIG", str(missing))
    result = CliRunner().invoke(cli, ["--db", db, "sites"])
    assert result.exit_code == 2 and "config file not found" in result.output
    monkeypatch.delenv("VNNEWS_CONFIG")
    monkeypatch.chdir(tmp_path)  # no sources.toml here
    result = CliRunner().invoke(cli, ["--db", db, "sites"])
    assert result.exit_code == 0 and "vnx" in result.output, result.output
