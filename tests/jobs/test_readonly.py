"""A read-only archive (issue 15): on read-only media the read commands work, opening the SQLite
file with ``mode=ro`` (and ``immutable`` where nothing may be written)."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from storage.db import make_engine, schema_state, sqlite_read_only_uri, upgrade
from tests.support.mirror import MirrorSite
from tests.support.sites import invoke, write_config


@pytest.fixture
def read_only_dir(tmp_path: Path) -> Iterator[Path]:
    """A directory nothing can be written to: a read-only tmpfs for root (who ignores file
    modes), a chmod 555 directory otherwise."""
    where = tmp_path / "ro"
    where.mkdir()
    if os.geteuid() != 0:
        yield where
        where.chmod(0o755)
        return
    if subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64m", "tmpfs", str(where)], capture_output=True
    ).returncode:
        pytest.skip("root, and cannot mount a read-only file system here")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def _make_read_only(where: Path) -> None:
    if os.geteuid() == 0:
        subprocess.run(["mount", "-o", "remount,ro", str(where)], check=True)
    else:
        for f in where.iterdir():
            f.chmod(0o444)
        where.chmod(0o555)


def test_read_commands_work_on_a_read_only_archive(
    mirrors: tuple[MirrorSite, MirrorSite], tmp_path: Path, read_only_dir: Path
) -> None:
    vnx, tt = mirrors
    config = write_config(tmp_path / "sources.toml", vnx, tt)
    built = tmp_path / "vnnews.db"
    assert invoke(f"sqlite:///{built}", config, "db", "upgrade")[0] == 0
    code, out = invoke(f"sqlite:///{built}", config, "crawl")
    assert code == 0, out
    shutil.copy(built, read_only_dir / "vnnews.db")
    _make_read_only(read_only_dir)
    db = f"sqlite:///{read_only_dir / 'vnnews.db'}"

    for args in (["articles"], ["show", "1"], ["search", "kinh"], ["sites"], ["stats", "--json"]):
        code, out = invoke(db, config, *args)
        assert code == 0, (args, out)
    assert "articles" in invoke(db, config, "stats", "--json")[1]
    assert sorted(p.name for p in read_only_dir.iterdir()) == ["vnnews.db"]

    # writing commands still say what failed, on one line
    code, out = invoke(db, config, "db", "upgrade")
    assert code == 1 and out.count("\n") == 1


def test_the_read_only_engine_cannot_write(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'x.db'}"
    writer = make_engine(db)
    with writer.connect():  # creates the file
        pass
    writer.dispose()
    engine = make_engine(db, read_only=True)
    try:
        with engine.begin() as conn, pytest.raises(OperationalError, match="readonly"):
            conn.execute(text("CREATE TABLE t (x INTEGER)"))
    finally:
        engine.dispose()


def test_read_only_uri() -> None:
    path = Path("/media/archive/vn news.db")
    assert sqlite_read_only_uri(path, writable=True) == "file:///media/archive/vn%20news.db?mode=ro"
    assert sqlite_read_only_uri(path, writable=False).endswith("?mode=ro&immutable=1")


def test_a_missing_archive_is_not_created_by_a_read(tmp_path: Path) -> None:
    code, out = invoke(f"sqlite:///{tmp_path / 'none.db'}", tmp_path / "none.toml", "articles")
    assert code == 1 and f"no database at {tmp_path / 'none.db'}: nothing archived yet" in out
    assert not (tmp_path / "none.db").exists()


def test_an_empty_postgresql_database_is_nothing_archived_yet(pg_url: str, tmp_path: Path) -> None:
    """An empty PostgreSQL database is what a missing SQLite file is (same words, same exit
    status) and no command that reads creates anything in it; tables at an older revision
    still ask for ``db upgrade``."""
    config = tmp_path / "sources.toml"
    config.write_text("")  # no sites (a named file must be there)
    sqlite_code, sqlite_out = invoke(f"sqlite:///{tmp_path / 'none.db'}", config, "articles")
    said = "nothing archived yet (start with 'vnnews --db "
    assert said in sqlite_out
    shown = make_url(pg_url).render_as_string(hide_password=True)
    out_file = str(tmp_path / "x.jsonl")
    for args in (
        ["articles"], ["stats"], ["search", "x"], ["sites"], ["show", "1"],
        ["export", "--format", "jsonl", "--out", out_file], ["db", "check"],
    ):  # fmt: skip
        code, out = invoke(pg_url, config, *args)
        assert code == sqlite_code == 1, (args, out)
        assert f"database {shown} is empty: {said}{shown} crawl')" in out, (args, out)
    engine = make_engine(pg_url)
    try:
        assert schema_state(engine) == ("new", None)
        upgrade(engine, "0003")
    finally:
        engine.dispose()
    code, out = invoke(pg_url, config, "articles")
    assert code == 1 and "is at revision 0003" in out and "db upgrade" in out
