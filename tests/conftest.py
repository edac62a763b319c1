"""Shared fixtures: a real SQLite file and a real PostgreSQL database per test, and the loopback
mirror sites (``mirrors``: real vnexpress/tuoitre pages; ``mirror``: a 500-article NukeViet-shaped site).

PostgreSQL tests use the server named by VNNEWS_TEST_POSTGRES (a SQLAlchemy URL). Each test gets
a database of its own, created and dropped around it, so runs and xdist workers never share
rows. Without the variable or the server they skip, except under CI=true where they fail.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import OperationalError

from tests.support.big_mirror import BigMirror
from tests.support.loopback import LoopbackServer
from tests.support.mirror import MirrorSite
from tests.support.paths import golden
from tests.support.sites import TT_PAGES, VNX_PAGES

PG_ENV = "VNNEWS_TEST_POSTGRES"


def _pg_unavailable(reason: str) -> None:
    if os.environ.get("CI", "").lower() == "true":
        pytest.fail(f"PostgreSQL required in CI: {reason}")
    pytest.skip(reason)


@pytest.fixture
def pg_url() -> Iterator[str]:
    """A fresh, empty PostgreSQL database for this test; dropped afterwards."""
    base = os.environ.get(PG_ENV)
    if not base:
        _pg_unavailable(f"{PG_ENV} is not set")
        raise AssertionError  # unreachable
    url = make_url(base)
    if url.drivername == "postgresql":
        url = url.set(drivername="postgresql+psycopg")
    admin = create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"vnnews_test_{uuid.uuid4().hex[:12]}"
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        admin.dispose()
        _pg_unavailable(
            f"PostgreSQL unreachable at {url.render_as_string(hide_password=True)}: {exc.orig}"
        )
    try:
        yield url.set(database=name).render_as_string(hide_password=False)
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'vnnews.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage and end-to-end test runs on both databases."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'vnnews.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def mirrors() -> Iterator[tuple[MirrorSite, MirrorSite]]:
    vnx = MirrorSite(LoopbackServer()).start()
    tt = MirrorSite(LoopbackServer()).start()
    for site, pages in ((vnx, VNX_PAGES), (tt, TT_PAGES)):
        for path, fixture in pages:
            site.real_page(path, fixture)
            site.add_item(path, str(golden(fixture)["title"]))
    # the first vnexpress story again under another URL: must become an alias, not an article
    vnx.real_page("/copy/same-story.html", VNX_PAGES[0][1])
    vnx.add_item("/copy/same-story.html", "copy")
    vnx.add_item("/private/secret.html", "disallowed by robots.txt")
    vnx.add_item("/gone.html", "404")
    try:
        yield vnx, tt
    finally:
        vnx.stop()
        tt.stop()


@pytest.fixture
def mirror(request: pytest.FixtureRequest) -> Iterator[BigMirror]:
    m = BigMirror(getattr(request, "param", 500)).start()
    yield m
    m.stop()
