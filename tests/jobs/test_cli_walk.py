"""What a new user ran into, each as a test: answers that survive a closed pipe, maintenance that
never creates an archive on a typo, an export that fails before touching its output file."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from jobs.cli import cli

VNNEWS = str(Path(sys.executable).parent / "vnnews")


def _upgraded(tmp_path: Path) -> str:
    db = str(tmp_path / "a.db")
    assert CliRunner().invoke(cli, ["--db", db, "db", "upgrade"]).exit_code == 0
    return db


def test_an_unhealthy_answer_survives_a_reader_that_closes_the_pipe(tmp_path: Path) -> None:
    db = _upgraded(tmp_path)
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        '[[site]]\nname = "x"\nbase_url = "https://x.vn/"\nfeeds = ["https://x.vn/rss"]\n'
    )
    # no daemon runs: unhealthy. The reader closes its end at once: every write meets a closed pipe
    script = f'"{VNNEWS}" --db "{db}" --config "{cfg}" health | {{ exec 0<&-; sleep 1; }}'
    out = subprocess.run(["bash", "-c", script + '; echo "status=${PIPESTATUS[0]}"'],
                         capture_output=True, text=True, timeout=60)  # fmt: skip
    assert "status=1" in out.stdout, (out.stdout, out.stderr)
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("command", [["db", "check"], ["db", "compact"]])
def test_maintenance_on_a_mistyped_path_creates_nothing(tmp_path: Path, command: list[str]) -> None:
    ghost = tmp_path / "ghost.db"
    result = CliRunner().invoke(cli, ["--db", str(ghost), *command])
    assert result.exit_code == 1 and f"no database at {ghost}" in result.output
    assert list(tmp_path.iterdir()) == []


def test_an_export_missing_its_library_leaves_the_old_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = _upgraded(tmp_path)
    keep = tmp_path / "keep.warc"
    keep.write_bytes(b"an earlier export")
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, "find_spec", lambda name, *a: None if name == "warcio" else real(name, *a)
    )
    result = CliRunner().invoke(cli, ["--db", db, "export", "--format", "warc", "--out", str(keep)])
    assert result.exit_code == 1 and "needs warcio" in result.output
    assert keep.read_bytes() == b"an earlier export"


def test_a_read_command_on_a_missing_directory_names_it(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", str(tmp_path / "no" / "x.db"), "articles"])
    assert result.exit_code == 2 and f"directory {tmp_path / 'no'} does not exist" in result.output


def test_an_export_into_a_missing_directory_is_a_usage_error(tmp_path: Path) -> None:
    db = _upgraded(tmp_path)
    out = tmp_path / "no" / "x.jsonl"
    result = CliRunner().invoke(cli, ["--db", db, "export", "--format", "jsonl", "--out", str(out)])
    assert result.exit_code == 2, result.output
    assert f"directory {tmp_path / 'no'} does not exist (create it first)" in result.output
    assert not (tmp_path / "no").exists()


def test_an_export_to_dash_goes_to_standard_output(tmp_path: Path) -> None:
    db = _upgraded(tmp_path)
    cli = f'"{VNNEWS}" --db "{db}" export --out -'
    # appended to what the stream holds, as a shell's `>>` or a group's output expects
    script = f"{{ echo before; {cli} --format csv; {cli} --format jsonl; }} > out.txt"
    done = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path,
                          timeout=60)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert (tmp_path / "out.txt").read_text().startswith("before\nid,site,")
    assert "exported 0 articles to standard output" in done.stderr
    assert not (tmp_path / "-").exists()  # no file named "-"
    # parquet is written with seeks: a usage error, before anything is read
    parquet = subprocess.run(
        ["bash", "-o", "pipefail", "-c", f"{cli} --format parquet | cat"],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert parquet.returncode == 2 and "parquet needs a file" in parquet.stderr


def test_version_is_the_installed_packages(tmp_path: Path) -> None:
    from importlib.metadata import version

    out = subprocess.run([VNNEWS, "--version"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0 and out.stdout.strip() == f"vnnews {version('vnnews')}"


@pytest.mark.parametrize("alembic", [False, True], ids=["plain", "with-its-own-alembic"])
@pytest.mark.parametrize("command", [["db", "upgrade"], ["articles"], ["run"]])
def test_another_programs_database_is_left_alone(
    tmp_path: Path, command: list[str], alembic: bool
) -> None:
    """An SQLite file of something else (migrated by alembic too, or not): every command says
    it is no vnnews archive, and none adds the archive's tables to it (``db upgrade`` used to,
    on the hint's advice)."""
    import sqlite3

    db = tmp_path / "notes.db"
    with sqlite3.connect(db) as conn:
        conn.execute("create table notes (body text)")
        if alembic:
            conn.execute("create table alembic_version (version_num varchar(32) not null)")
            conn.execute("insert into alembic_version values ('ae1027a6acf')")
    conn.close()
    cfg = tmp_path / "s.toml"
    cfg.write_text(
        '[[site]]\nname = "x"\nbase_url = "http://127.0.0.1:9/"\n'
        'feeds = ["http://127.0.0.1:9/rss.xml"]\n'
    )
    out = subprocess.run(
        [VNNEWS, "--db", str(db), "--config", str(cfg), *command],
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert out.returncode == 1
    assert "is not a vnnews archive (it holds other tables: notes)" in out.stderr, out.stderr
    with sqlite3.connect(db) as conn:
        tables = [r[0] for r in conn.execute("select name from sqlite_master where type='table'")]
    conn.close()
    assert tables == ["notes", "alembic_version"] if alembic else tables == ["notes"]
